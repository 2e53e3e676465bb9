"""The single reader of the ARI event stream: starts a session per inbound call and hands
every other event to the session that owns the channel, bridge, playback or recording."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from ari_app.ari.events import AriEvent, StasisStart
from ari_app.calls.conversation import TransferRequest
from ari_app.calls.registry import LiveJourney, TransferOutcome
from ari_app.calls.session import CallSession
from ari_app.channel_vars import ROLE_AGENT, ROLE_INBOUND

log = structlog.get_logger(__name__)

SessionFactory = Callable[[StasisStart, "EventRouter"], CallSession]


class EventRouter:
    def __init__(self, make_session: SessionFactory,
                 on_orphan_agent_leg: Callable[[str], None]) -> None:
        self._make_session = make_session
        self._on_orphan_agent_leg = on_orphan_agent_leg
        self.sessions: dict[str, CallSession] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._owners: dict[str, CallSession] = {}

    def bind(self, subject_id: str, session: CallSession) -> None:
        self._owners[subject_id] = session

    def unbind(self, subject_id: str) -> None:
        self._owners.pop(subject_id, None)

    def dispatch(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart) and self._starts_something(event):
            return
        delivered: set[int] = set()
        for subject in event.subject_ids:
            session = self._owners.get(subject)
            if session is not None and id(session) not in delivered:
                delivered.add(id(session))
                session.deliver(event)

    def _starts_something(self, event: StasisStart) -> bool:
        role = event.args[0] if event.args else ""
        if role == ROLE_INBOUND:
            self._start_session(event)
            return True
        if role == ROLE_AGENT:
            call_id = event.args[1] if len(event.args) > 1 else ""
            session = self.sessions.get(call_id)
            if session is None or self._owners.get(event.channel.id) is not session:
                # A leg answered after its call ended (or after a restart): nobody to talk to.
                log.warning("agent.orphan_leg", call_id=call_id)
                self._on_orphan_agent_leg(event.channel.id)
            else:
                session.deliver(event)
            return True
        return False

    def _start_session(self, event: StasisStart) -> None:
        session = self._make_session(event, self)
        self.sessions[session.call_id] = session
        self.bind(event.channel.id, session)
        task = asyncio.create_task(session.run(), name=f"call-{session.call_id}")
        self.tasks.add(task)
        task.add_done_callback(lambda t: self._ended(session, t))

    def _ended(self, session: CallSession, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.sessions.pop(session.call_id, None)
        for subject in [s for s, owner in self._owners.items() if owner is session]:
            del self._owners[subject]
        if not task.cancelled() and task.exception() is not None:
            log.error("call.task_crashed", call_id=session.call_id, error=repr(task.exception()))

    def owned_subjects(self) -> int:
        return len(self._owners)

    # --- ari_app.calls.registry.LiveCalls ---------------------------------------------------

    def count(self) -> int:
        return len(self.sessions)

    def journey(self, call_id: str) -> LiveJourney | None:
        session = self.sessions.get(call_id)
        if session is None:
            return None
        journal = session.call.journal
        return LiveJourney(journal.record_row, tuple(journal.events))

    def request_transfer(self, call_id: str, request: TransferRequest) -> TransferOutcome:
        session = self.sessions.get(call_id)
        if session is None:
            return TransferOutcome.NO_SUCH_CALL
        if not session.request_transfer(request):
            return TransferOutcome.NOT_TALKING
        return TransferOutcome.ACCEPTED
