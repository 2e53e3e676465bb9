"""One call's ARI events: keypad digits to the type-ahead buffer, the rest to whoever waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ari_app.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    StasisEnd,
)
from ari_app.calls.digits import DigitBuffer

EventPredicate = Callable[[AriEvent], bool]


class CallMailbox:
    """Waiters register *before* acting (``expect``), so an event can never slip past them."""

    def __init__(self, caller_channel_id: str) -> None:
        self.caller_channel_id = caller_channel_id
        self.digits = DigitBuffer()
        self._waiters: list[tuple[EventPredicate, asyncio.Future[AriEvent]]] = []
        self._ended: dict[str, AriEvent] = {}

    def deliver(self, event: AriEvent) -> None:
        if isinstance(event, ChannelDtmfReceived) and event.channel.id == self.caller_channel_id:
            self.digits.push(event.digit)
        if isinstance(event, ChannelDestroyed | StasisEnd | ChannelHangupRequest):
            self._ended.setdefault(event.channel.id, event)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(event):
                future.set_result(event)

    def expect(self, predicate: EventPredicate) -> asyncio.Future[AriEvent]:
        future: asyncio.Future[AriEvent] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        future.add_done_callback(lambda _: self._waiters.remove(entry))
        return future

    def expect_end(self, channel_id: str) -> asyncio.Future[AriEvent]:
        """Resolves when the channel hangs up or leaves Stasis, also if it already has."""
        future = self.expect(lambda e: _ends(e, channel_id))
        if channel_id in self._ended and not future.done():
            future.set_result(self._ended[channel_id])
        return future

    def has_ended(self, channel_id: str) -> bool:
        return channel_id in self._ended


def _ends(event: AriEvent, channel_id: str) -> bool:
    return (
        isinstance(event, ChannelDestroyed | StasisEnd | ChannelHangupRequest)
        and event.channel.id == channel_id
    )
