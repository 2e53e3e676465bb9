"""One call's monitor sessions: started only while an agent talks to the caller, ended with
that conversation (the agent's channel carries every snoop). The session owns one of these;
the conversation says when it starts talking and when it is over.

Nothing is dialled before the audit row is written: a monitor nobody could audit does not
happen (503 `audit_unavailable`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from ari_app.calls.call import Call
from ari_app.calls.monitoring.leg import MonitorLeg, Talk
from ari_app.calls.monitoring.model import (
    ModeChange,
    MonitorAudit,
    MonitorEnd,
    MonitorMode,
    MonitorRecord,
    MonitorRefused,
    MonitorRequest,
    Refusal,
)
from kernel.db.errors import DatabaseError

log = structlog.get_logger(__name__)

END_TIMEOUT_S = 5.0  # tearing one session down: a few ARI requests
CHANGE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class MonitorPolicy:
    ring_timeout_s: float = 30.0  # the supervisor's phone
    max_per_call: int = 3


class CallMonitors:
    def __init__(self, call: Call, audit: MonitorAudit | None,
                 policy: MonitorPolicy = MonitorPolicy()) -> None:
        self._call = call
        self._audit = audit
        self._policy = policy
        self._talk: Talk | None = None
        self._live: dict[str, MonitorLeg] = {}
        self._starting: set[str] = set()  # actors whose start waits for its audit row

    # --- the conversation ----------------------------------------------------------------------

    def talking(self, talk: Talk) -> None:
        self._talk = talk

    async def conversation_over(self) -> None:
        """The agent is leaving (or the service stopping): end every session, wait for each
        to be taken down."""
        self._talk = None
        reason = MonitorEnd.SERVICE_STOPPED if self._call.handing_over \
            else MonitorEnd.CONVERSATION_ENDED
        legs = list(self._live.values())
        for leg in legs:
            leg.stop(reason)
        await self._wait_ended(legs)

    # --- the HTTP layer, through the engine ----------------------------------------------------

    def records(self) -> list[MonitorRecord]:
        return [leg.record for leg in self._live.values() if not leg.done.done()]

    async def start(self, request: MonitorRequest) -> MonitorRecord:
        talk = self._talk
        if talk is None:
            raise MonitorRefused(Refusal.NOT_TALKING, "the caller is not talking to an agent")
        self._check_room(request.actor)
        if self._audit is None:
            raise MonitorRefused(Refusal.AUDIT_UNAVAILABLE, "monitoring is not audited here")
        now = datetime.now(UTC)
        record = MonitorRecord(
            monitor_id=uuid.uuid4().hex[:16], call_id=self._call.call_id, actor=request.actor,
            role=request.role, agent_id=talk.agent_id, queue_id=talk.queue_id,
            endpoint=request.endpoint, modes=(ModeChange(request.mode, now, request.actor),),
            requested_at=now)
        self._starting.add(request.actor)
        try:
            await self._audit.opened(record)
        except DatabaseError as exc:
            log.error("monitor.audit_failed", error=str(exc))
            raise MonitorRefused(Refusal.AUDIT_UNAVAILABLE,
                                 "the monitor could not be audited; nothing was started") from None
        finally:
            self._starting.discard(request.actor)
        if self._talk is not talk:  # the conversation ended while the row was written
            await self._never_started(record)
            raise MonitorRefused(Refusal.NOT_TALKING, "the conversation ended")
        leg = MonitorLeg(self._call, talk, record, self._audit, self._policy.ring_timeout_s)
        self._live[record.monitor_id] = leg
        leg.done.add_done_callback(lambda _: self._live.pop(record.monitor_id, None))
        if self._call.tasks.spawn(leg.run, f"monitor-{record.monitor_id}") is None:
            self._live.pop(record.monitor_id, None)
            await self._never_started(record)
            raise MonitorRefused(Refusal.NOT_TALKING, "the call is ending")
        log.info("monitor.requested", monitor_id=record.monitor_id, by=request.actor,
                 mode=str(request.mode))
        return record

    async def change(self, monitor_id: str, mode: MonitorMode, by: str) -> MonitorRecord:
        return await self._leg(monitor_id).change(mode, by, CHANGE_TIMEOUT_S)

    async def end(self, monitor_id: str, by: str) -> MonitorRecord:
        leg = self._leg(monitor_id)
        leg.stop(MonitorEnd.STOPPED, by)
        await self._wait_ended([leg])
        if not leg.done.done():
            raise MonitorRefused(Refusal.TIMEOUT, "Asterisk did not take the monitor down in "
                                 "time; it is ending")
        return leg.record

    # --- helpers --------------------------------------------------------------------------------

    def _check_room(self, actor: str) -> None:
        if actor in self._starting or any(leg.record.actor == actor
                                          for leg in self._live.values()):
            raise MonitorRefused(Refusal.ALREADY_MONITORING,
                                 f"{actor} monitors this call already")
        if len(self._live) + len(self._starting) >= self._policy.max_per_call:
            raise MonitorRefused(Refusal.TOO_MANY, f"at most {self._policy.max_per_call} "
                                 "supervisors monitor one call")

    def _leg(self, monitor_id: str) -> MonitorLeg:
        leg = self._live.get(monitor_id)
        if leg is None:
            raise MonitorRefused(Refusal.NO_SUCH_MONITOR, f"no live monitor {monitor_id}")
        return leg

    async def _never_started(self, record: MonitorRecord) -> None:
        assert self._audit is not None
        try:
            await self._audit.save(record.ended(datetime.now(UTC), MonitorEnd.CONVERSATION_ENDED))
        except DatabaseError as exc:  # the next run closes it (service_restart)
            log.error("monitor.audit_failed", monitor_id=record.monitor_id, error=str(exc))

    @staticmethod
    async def _wait_ended(legs: list[MonitorLeg]) -> None:
        if not legs:
            return
        _, late = await asyncio.wait([leg.done for leg in legs], timeout=END_TIMEOUT_S)
        for leg in legs:
            if leg.done in late:
                log.error("monitor.end_timeout", monitor_id=leg.record.monitor_id)
