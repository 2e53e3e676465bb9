"""The call engine: one CallSession task per inbound call, built from the service's ports,
fed by the dispatcher; what the HTTP layer may ask of live calls (`registry.LiveCalls`) and
of their supervisors' monitors (`monitoring.model.LiveMonitors`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, ChannelDestroyed, ChannelSnapshot, StasisStart
from ari_app.ari.rest import AriRest
from ari_app.calls.call import Call, CallTasks
from ari_app.calls.checkpoint import Checkpoint
from ari_app.calls.conversation import TransferRequest
from ari_app.calls.deps import CallDeps
from ari_app.calls.dispatcher import CallDispatcher
from ari_app.calls.group_commit import GroupCommit
from ari_app.calls.hub import EventHub
from ari_app.calls.journal import CallJournal, Spawn
from ari_app.calls.mailbox import CallMailbox
from ari_app.calls.monitoring.call_monitors import CallMonitors
from ari_app.calls.monitoring.model import (
    MonitorAudit,
    MonitorMode,
    MonitorRecord,
    MonitorRefused,
    MonitorRequest,
    Refusal,
)
from ari_app.calls.record import CallRecord
from ari_app.calls.registry import LiveJourney, MuteOutcome, TransferOutcome
from ari_app.calls.session import CallSession, Resume
from ari_app.calls.store import CallStore
from ari_app.channel_vars import CORRELATION_ID_VAR, FALLBACK_CONTEXT
from ivr.journey import JourneyEvent

log = structlog.get_logger(__name__)


class CallEngine:
    def __init__(self, ari: AriRest, app: str, deps: CallDeps, store: CallStore,
                 hub: EventHub) -> None:
        self._ari = ari
        self._app = app
        self._deps = deps
        self._store = store
        self._hub = hub
        self._commits = GroupCommit(store)  # every call's journal, one transaction per batch
        self.dispatcher = CallDispatcher(self._start_call, self._hang_up_orphan)
        self._tasks: set[asyncio.Task[None]] = set()  # call sessions and orphan hangups
        self.accepting = True  # False once stopping or draining

    def dispatch(self, event: AriEvent) -> None:
        try:
            self.dispatcher.dispatch(event)
        except Exception:  # one bad event must not stop every other call
            log.exception("router.dispatch_failed", event=type(event).__name__)

    def _start_call(self, event: StasisStart) -> None:
        if not self.accepting:  # stopping or draining: the dialplan's fallback takes it
            log.info("call.refused_while_stopping", channel=event.channel.id)
            self._track(gone_ok(self._ari.continue_in_dialplan(
                event.channel.id, FALLBACK_CONTEXT, "s"), "fallback"), "refused-call")
            return
        channel = event.channel
        record = CallRecord(call_id=uuid.uuid4().hex, channel_id=channel.id,
                            caller_number=channel.caller_number,
                            correlation_id=channel.channelvars.get(CORRELATION_ID_VAR) or None,
                            started_at=datetime.now(UTC))
        self._run(record, lambda spawn: CallJournal(record, self._store, self._hub,
                                                    spawn=spawn, commits=self._commits), None)

    def adopt(self, record: CallRecord, events: list[JourneyEvent], checkpoint: Checkpoint,
              resume: Resume) -> None:
        """Take over a call an earlier run of the service left in Asterisk."""
        self._run(record, lambda spawn: CallJournal.resumed(
            record, events, checkpoint, self._store, self._hub, spawn=spawn,
            commits=self._commits), resume)

    def _run(self, record: CallRecord, journal: Callable[[Spawn], CallJournal],
             resume: Resume | None) -> None:
        tasks = CallTasks()
        call = Call(call_id=record.call_id, channel_id=record.channel_id,
                    caller_number=record.caller_number, ari=self._ari, app=self._app,
                    mailbox=CallMailbox(record.channel_id), journal=journal(tasks.spawn),
                    routes=self.dispatcher, tasks=tasks)
        session = CallSession(call, self._deps, resume)
        self.dispatcher.add(session)
        self._track(session.run(), f"call-{session.call_id}",
                    done=lambda: self.dispatcher.remove(session))

    def _hang_up_orphan(self, channel_id: str) -> None:
        self._track(gone_ok(self._ari.hangup(channel_id), "orphan leg"), "orphan-leg")

    def _track(self, work: Coroutine[Any, Any, Any], name: str,
               done: Callable[[], None] | None = None) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)
        self._tasks.add(task)

        def ended(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if done is not None:
                done()
            if not t.cancelled() and t.exception() is not None:
                log.error("call.task_crashed", task=name, error=repr(t.exception()))

        task.add_done_callback(ended)

    async def stop(self) -> None:
        """Stop every call's script and wait until each has written its record."""
        self.accepting = False
        for session in list(self.dispatcher.sessions.values()):
            session.stop()
        await self.wait_idle()

    async def hand_over(self, timeout_s: float) -> None:
        """Leave every live call in Asterisk for the next run of the service: new calls go to
        the fallback; each call persists its checkpoint and its caller hears music, not
        silence. Returns within `timeout_s`."""
        self.accepting = False
        for session in list(self.dispatcher.sessions.values()):
            session.hand_over()
        try:
            async with asyncio.timeout(timeout_s):
                await self.wait_idle()
        except TimeoutError:
            log.error("engine.hand_over_timeout", calls=self.count())

    async def drain(self) -> None:
        """Take no new calls; return once every live call has ended by itself."""
        self.accepting = False
        log.info("engine.draining", calls=self.count())
        await self.wait_idle()

    def gone(self, channel_ids: set[str], reason: str, *, lost: bool) -> int:
        """End the calls whose callers' channels vanished while the event stream was down;
        `lost`: with Asterisk (it restarted), not by the caller hanging up. Returns how many."""
        gone = [s for s in self.dispatcher.sessions.values() if s.call.channel_id in channel_ids]
        for session in gone:
            if lost:
                session.lost(reason)
            session.deliver(ChannelDestroyed(
                application=self._app, channel=ChannelSnapshot.gone(session.call.channel_id),
                cause=16, cause_txt=reason))
        return len(gone)

    def live_call_ids(self) -> set[str]:
        return set(self.dispatcher.sessions)

    def live_channels(self) -> set[str]:
        return {s.call.channel_id for s in self.dispatcher.sessions.values()}

    async def wait_idle(self) -> None:
        """Return once no call, and no work for one, is running."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def busy(self) -> bool:
        """True while any call, or work for one, is still running."""
        return bool(self._tasks or self.dispatcher.sessions)

    def owned_subjects(self) -> int:
        return self.dispatcher.owned_subjects()

    @property
    def monitor_audit(self) -> MonitorAudit | None:
        """Where monitor sessions are kept (adoption closes those the last run left open)."""
        return self._deps.monitor_audit

    # --- ari_app.calls.registry.LiveCalls ---------------------------------------------------

    def count(self) -> int:
        return len(self.dispatcher.sessions)

    def journey(self, call_id: str) -> LiveJourney | None:
        session = self.dispatcher.sessions.get(call_id)
        if session is None:
            return None
        journal = session.call.journal
        return LiveJourney(journal.record_row, tuple(journal.events))

    def request_transfer(self, call_id: str, request: TransferRequest) -> TransferOutcome:
        session = self.dispatcher.sessions.get(call_id)
        if session is None:
            return TransferOutcome.NO_SUCH_CALL
        if not session.request_transfer(request):
            return TransferOutcome.NOT_TALKING
        return TransferOutcome.ACCEPTED

    async def mute(self, call_id: str, by: str, reason: str) -> MuteOutcome:
        session = self.dispatcher.sessions.get(call_id)
        if session is None:
            return MuteOutcome.NO_SUCH_CALL
        return await session.mute_recording(True, by, reason)

    async def unmute(self, call_id: str, by: str) -> MuteOutcome:
        session = self.dispatcher.sessions.get(call_id)
        if session is None:
            return MuteOutcome.NO_SUCH_CALL
        return await session.mute_recording(False, by, "")

    # --- ari_app.calls.monitoring.model.LiveMonitors ---------------------------------------

    async def start_monitor(self, call_id: str, request: MonitorRequest) -> MonitorRecord:
        return await self._monitors(call_id).start(request)

    async def change_monitor(self, call_id: str, monitor_id: str, mode: MonitorMode,
                             by: str) -> MonitorRecord:
        return await self._monitors(call_id).change(monitor_id, mode, by)

    async def end_monitor(self, call_id: str, monitor_id: str, by: str) -> MonitorRecord:
        return await self._monitors(call_id).end(monitor_id, by)

    def monitors(self, call_id: str) -> list[MonitorRecord] | None:
        session = self.dispatcher.sessions.get(call_id)
        return None if session is None else session.monitors.records()

    def _monitors(self, call_id: str) -> CallMonitors:
        session = self.dispatcher.sessions.get(call_id)
        if session is None:
            raise MonitorRefused(Refusal.NO_SUCH_CALL, f"no live call {call_id}")
        return session.monitors
