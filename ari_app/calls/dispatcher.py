"""The single reader of the ARI event stream: hands every event to the call that owns the
channel, bridge, playback or recording it is about, and starts a call for each inbound
channel (through the engine's `start_call`)."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from ari_app.ari.events import AriEvent, StasisStart
from ari_app.calls.session import CallSession
from ari_app.channel_vars import ROLE_AGENT, ROLE_INBOUND, ROLE_MONITOR, ROLE_RECORDER

log = structlog.get_logger(__name__)

_ORPHAN = {ROLE_AGENT: "agent.orphan_leg", ROLE_RECORDER: "recorder.orphan_snoop",
           ROLE_MONITOR: "monitor.orphan_channel"}


class CallDispatcher:
    def __init__(self, start_call: Callable[[StasisStart], None],
                 on_orphan_leg: Callable[[str], None]) -> None:
        """`on_orphan_leg(channel_id)`: an agent leg, recorder snoop or monitor channel of a
        call that is gone entered Stasis; it must be hung up."""
        self._start_call = start_call
        self._on_orphan_leg = on_orphan_leg
        self.sessions: dict[str, CallSession] = {}
        self._owners: dict[str, str] = {}  # subject id -> call id

    def add(self, session: CallSession) -> None:
        self.sessions[session.call_id] = session
        self.bind(session.call.channel_id, session.call_id)

    def remove(self, session: CallSession) -> None:
        self.sessions.pop(session.call_id, None)
        for subject in [s for s, owner in self._owners.items() if owner == session.call_id]:
            del self._owners[subject]

    # ari_app.calls.call.EventRoutes
    def bind(self, subject_id: str, call_id: str) -> None:
        self._owners[subject_id] = call_id

    def unbind(self, subject_id: str) -> None:
        self._owners.pop(subject_id, None)

    def dispatch(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart) and self._starts_something(event):
            return
        delivered: set[str] = set()
        for subject in event.subject_ids:
            call_id = self._owners.get(subject)
            session = self.sessions.get(call_id) if call_id is not None else None
            if session is not None and call_id not in delivered:
                delivered.add(session.call_id)
                session.deliver(event)

    def _starts_something(self, event: StasisStart) -> bool:
        role = event.args[0] if event.args else ""
        if role == ROLE_INBOUND:
            self._start_call(event)
            return True
        if role in (ROLE_AGENT, ROLE_RECORDER, ROLE_MONITOR):
            # Legs a call creates name it: Stasis(<app>,<role>,<call_id>).
            call_id = event.args[1] if len(event.args) > 1 else ""
            session = self.sessions.get(call_id)
            if session is None or self._owners.get(event.channel.id) != call_id:
                # A leg answered (or a snoop started) after its call ended or gave it up:
                # nobody to talk to or record for.
                log.warning(_ORPHAN[role], call_id=call_id)
                self._on_orphan_leg(event.channel.id)
            else:
                session.deliver(event)
            return True
        return False

    def owned_subjects(self) -> int:
        return len(self._owners)
