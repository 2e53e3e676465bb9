"""One monitor session in Asterisk: ring the supervisor's phone into our Stasis app, bridge it
with a snoop on the agent's channel in a mixing bridge of its own, swap the snoop when the mode
changes, and take it all down when it ends. One task per session does every ARI request of it,
so a mode change and the end never cross.

    caller ══ call bridge (2 members) ══ agent
                                           └─ snoop(spy, whisper) ══ monitor bridge ══ supervisor

Every id starts with the call's id (`<call_id>-mon-<monitor_id>…`), as everything a call
creates does: the e2e suite's clean-up check and the restart adoption find them by it. The
phone and the snoops enter Stasis as ``monitor,<call_id>``; the dispatcher hangs up one whose
call (or session) is gone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, StasisStart
from ari_app.calls.call import Call
from ari_app.calls.monitoring.model import (
    DIRECTIONS,
    MonitorAudit,
    MonitorEnd,
    MonitorMode,
    MonitorRecord,
    MonitorRefused,
    MonitorState,
    Refusal,
)
from ari_app.channel_vars import ROLE_MONITOR
from ivr.journey import JourneyType
from kernel.aio import first_of
from kernel.db.retry import save_with_retries

log = structlog.get_logger(__name__)

SNOOP_START_TIMEOUT_S = 5.0  # a snoop is in Stasis within milliseconds
NO_ANSWER_GRACE_S = 2.0  # past the ring timeout, before we stop waiting for Asterisk's word


@dataclass(frozen=True, slots=True)
class Talk:
    """The conversation a monitor joins: who, on which channel, in which queue."""

    agent_id: str
    agent_channel_id: str
    queue_id: str


@dataclass(frozen=True)
class _Snoop:
    channel_id: str
    mode: MonitorMode
    ended: asyncio.Future[AriEvent]


@dataclass(frozen=True)
class _Change:
    mode: MonitorMode
    by: str
    done: asyncio.Future[MonitorRecord]


def _now() -> datetime:
    return datetime.now(UTC)


class MonitorLeg:
    def __init__(self, call: Call, talk: Talk, record: MonitorRecord, audit: MonitorAudit,
                 ring_timeout_s: float) -> None:
        self.record = record
        self._call = call
        self._talk = talk
        self._audit = audit
        self._ring_timeout_s = ring_timeout_s
        prefix = f"{call.call_id}-mon-{record.monitor_id}"
        self.phone_id = prefix
        self.bridge_id = f"{prefix}-bridge"
        self._prefix = prefix
        self._snoops = 0
        self._snoop: _Snoop | None = None  # the one bridged with the phone (or being made)
        self._made: dict[str, _Snoop] = {}  # every snoop made and not yet dropped
        self._bridged = False
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._changes: deque[_Change] = deque()
        self._end: tuple[MonitorEnd, str | None] | None = None
        self._audit_lock = asyncio.Lock()
        self.done = asyncio.get_running_loop().create_future()  # the ended record

    # --- asked from outside the session's task ------------------------------------------------

    def stop(self, reason: MonitorEnd, by: str | None = None) -> None:
        """End the session (the first reason given is the one kept)."""
        if self._end is None:
            self._end = (reason, by)
        self._stop.set()

    async def change(self, mode: MonitorMode, by: str, timeout_s: float) -> MonitorRecord:
        """Put `mode` in force; still ringing: once connected."""
        if self._stop.is_set() or self.done.done():
            raise MonitorRefused(Refusal.NOT_CONNECTED, "the monitor is ending")
        if self.record.state is MonitorState.RINGING:
            if mode is not self.record.mode:
                self.record = self.record.with_mode(mode, _now(), by)
                self._save_later()
            return self.record
        done: asyncio.Future[MonitorRecord] = asyncio.get_running_loop().create_future()
        self._changes.append(_Change(mode, by, done))
        self._wake.set()
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(done)
        except TimeoutError:
            raise MonitorRefused(Refusal.TIMEOUT, "Asterisk did not change the monitor's "
                                 "mode in time; it may still change") from None

    # --- the session's task ---------------------------------------------------------------------

    async def run(self) -> None:
        call = self._call
        call.bind(self.phone_id)
        answered = call.mailbox.expect(self._entered(self.phone_id))
        phone_ended = call.mailbox.expect_end(self.phone_id)
        try:
            if await self._ring(answered, phone_ended):
                await self._connect()
                await self._serve(phone_ended)
        except (AriError, TimeoutError) as exc:  # timeout: a snoop never entered Stasis
            log.warning("monitor.asterisk_failed", monitor_id=self.record.monitor_id,
                        error=str(exc) or type(exc).__name__)
            self._ended_because(MonitorEnd.FAILED)
        finally:
            answered.cancel()
            await self._tear_down(phone_ended)
            self._finish()

    async def _ring(self, answered: asyncio.Future[AriEvent],
                    phone_ended: asyncio.Future[AriEvent]) -> bool:
        call, talk = self._call, self._talk
        await call.ari.originate(
            self.record.endpoint, channel_id=self.phone_id, app=call.app,
            app_args=[ROLE_MONITOR, call.call_id], caller_id=f"Monitor <{talk.agent_id}>",
            timeout_s=max(1, round(self._ring_timeout_s)), originator=talk.agent_channel_id)
        try:
            async with asyncio.timeout(self._ring_timeout_s + NO_ANSWER_GRACE_S):
                index, _ = await first_of(answered, phone_ended, self._stop.wait())
        except TimeoutError:
            index = 1
        if index == 1:
            self._ended_because(MonitorEnd.NO_ANSWER)
        return index == 0 and not phone_ended.done()

    async def _connect(self) -> None:
        call = self._call
        call.bind(self.bridge_id)
        self._bridged = True
        await call.ari.create_bridge(self.bridge_id, "mixing",
                                     name=f"monitor-{self.record.monitor_id}")
        snoop = await self._new_snoop(self.record.mode)
        await call.ari.add_channels(self.bridge_id, [self.phone_id, snoop.channel_id])
        self.record = replace(self.record, connected_at=_now())
        self._journal("started", by=self.record.actor, role=self.record.role)
        self._save_later()
        log.info("monitor.connected", monitor_id=self.record.monitor_id,
                 mode=str(self.record.mode))

    async def _serve(self, phone_ended: asyncio.Future[AriEvent]) -> None:
        while not self._stop.is_set():
            snoop = self._snoop
            assert snoop is not None
            if snoop.mode is not self.record.mode:  # changed while it was ringing
                await self._swap(self.record.mode)
                continue
            index, _ = await first_of(phone_ended, snoop.ended, self._stop.wait(),
                                      self._wake.wait())
            if index == 0:
                self._ended_because(MonitorEnd.SUPERVISOR_HUNG_UP)
                return
            if index == 1:  # the agent's channel went, and its snoop with it
                self._ended_because(MonitorEnd.CONVERSATION_ENDED)
                return
            if index == 3:
                self._wake.clear()
                while self._changes and not self._stop.is_set():
                    await self._apply(self._changes.popleft())

    async def _apply(self, change: _Change) -> None:
        try:
            if change.mode is not self.record.mode:
                await self._swap(change.mode)
                self.record = self.record.with_mode(change.mode, _now(), change.by)
                self._journal("mode", by=change.by)
                self._save_later()
                log.info("monitor.mode_changed", monitor_id=self.record.monitor_id,
                         mode=str(change.mode))
        except BaseException:
            self._changes.appendleft(change)  # answered by _finish: the monitor ended
            raise
        if not change.done.done():
            change.done.set_result(self.record)

    async def _swap(self, mode: MonitorMode) -> None:
        """A snoop in the new directions for the old one. The old one goes before the new
        one joins: a few milliseconds of silence rather than the call twice (or a whisper
        heard by the caller) while both are in the bridge."""
        old = self._snoop
        new = await self._new_snoop(mode)
        if old is not None:
            await self._drop_snoop(old)
        await self._call.ari.add_channels(self.bridge_id, [new.channel_id])

    async def _new_snoop(self, mode: MonitorMode) -> _Snoop:
        call = self._call
        self._snoops += 1
        snoop_id = f"{self._prefix}-snoop{self._snoops}"
        call.bind(snoop_id)
        entered = call.mailbox.expect(self._entered(snoop_id))
        snoop = _Snoop(snoop_id, mode, call.mailbox.expect_end(snoop_id))
        self._snoop = self._made[snoop_id] = snoop
        directions = DIRECTIONS[mode]
        try:
            await call.ari.create_snoop(
                self._talk.agent_channel_id, snoop_id, app=call.app,
                app_args=(ROLE_MONITOR, call.call_id), spy=directions.spy,
                whisper=directions.whisper)
            async with asyncio.timeout(SNOOP_START_TIMEOUT_S):
                await entered  # a channel joins a bridge only once in Stasis (422 before)
        finally:
            entered.cancel()
        return snoop

    async def _drop_snoop(self, snoop: _Snoop) -> None:
        if not self._call.mailbox.has_ended(snoop.channel_id):
            await gone_ok(self._call.ari.hangup(snoop.channel_id), "monitor snoop")
        snoop.ended.cancel()
        self._call.unbind(snoop.channel_id)
        self._made.pop(snoop.channel_id, None)
        if self._snoop is snoop:
            self._snoop = None

    async def _tear_down(self, phone_ended: asyncio.Future[AriEvent]) -> None:
        call = self._call
        for snoop in list(self._made.values()):  # a failed swap may leave two
            await self._drop_snoop(snoop)
        if not call.mailbox.has_ended(self.phone_id):
            await gone_ok(call.ari.hangup(self.phone_id), "monitor phone")
        phone_ended.cancel()
        call.unbind(self.phone_id)
        if self._bridged:
            await gone_ok(call.ari.destroy_bridge(self.bridge_id), "monitor bridge")
            call.unbind(self.bridge_id)

    def _finish(self) -> None:
        reason, by = self._end or (MonitorEnd.FAILED, None)  # ended by an unexpected error
        was_connected = self.record.connected_at is not None
        self.record = self.record.ended(_now(), reason, by)
        if was_connected:
            self._journal("ended", by=by or self.record.actor, reason=str(reason))
        self._save_later()
        for change in self._changes:
            if not change.done.done():
                change.done.set_exception(MonitorRefused(Refusal.NOT_CONNECTED,
                                                         "the monitor ended"))
        self._changes.clear()
        if not self.done.done():
            self.done.set_result(self.record)
        log.info("monitor.ended", monitor_id=self.record.monitor_id, reason=str(reason))

    # --- helpers --------------------------------------------------------------------------------

    def _ended_because(self, reason: MonitorEnd) -> None:
        if self._end is None:
            self._end = (reason, None)

    def _journal(self, action: str, **details: object) -> None:
        self._call.journal.record(JourneyType.MONITOR, action=action,
                                  monitor_id=self.record.monitor_id, mode=str(self.record.mode),
                                  agent=self._talk.agent_id, **details)

    def _save_later(self) -> None:
        """The audit row as it is when the write runs: writes go one at a time, so the last
        one written is the newest state. Kept through a hangup (after_hangup)."""
        self._call.tasks.after_hangup(self._save, f"monitor-audit-{self.record.monitor_id}")

    async def _save(self) -> None:
        async with self._audit_lock:
            await save_with_retries(lambda: self._audit.save(self.record), "monitor",
                                    monitor_id=self.record.monitor_id)

    @staticmethod
    def _entered(channel_id: str) -> Callable[[AriEvent], bool]:
        return lambda e: isinstance(e, StasisStart) and e.channel.id == channel_id
