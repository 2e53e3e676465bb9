"""At startup: take over the calls an earlier run of the service left in Asterisk.

Each unfinished call in the database is matched with what Asterisk still holds (the caller's
channel, the conversation's bridge and agent leg) and resumed from its checkpoint: the IVR
node again, the queue with the original join time, the conversation as it is, the survey
again. Calls whose caller is gone are finished as `lost_in_restart`; channels of ours that no
call claims are sent to the dialplan's fallback (callers) or hung up (agent legs, media,
recorder snoops: a kept conversation's snoops are claimed by its recording; supervisors'
phones and monitor snoops: monitors are never kept, their audit rows are closed as ended by
the restart, `monitoring/restart.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import BridgeSnapshot, ChannelSnapshot
from ari_app.ari.rest import AriRest
from ari_app.calls.checkpoint import Checkpoint, CheckpointError, Stage
from ari_app.calls.engine import CallEngine
from ari_app.calls.monitoring.restart import close_stale_monitors
from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.calls.session import QueuedResume, Resume
from ari_app.calls.store import CallStore
from ari_app.calls.waiting import KeptTalk, QueueResume
from ari_app.channel_vars import FALLBACK_CONTEXT, ROLE_INBOUND
from ivr.journey import JourneyEvent, JourneyType

log = structlog.get_logger(__name__)

# Hangup causes (at most 64 characters); the journal's last entry says more.
CALLER_GONE = "caller_gone_at_restart"
NOT_RESUMABLE = "not_resumable"


@dataclass
class AdoptionReport:
    adopted: Counter[str] = field(default_factory=Counter)  # by stage
    lost: int = 0
    to_fallback: int = 0
    hung_up: int = 0
    monitors_closed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"adopted": dict(self.adopted), "lost": self.lost,
                "to_fallback": self.to_fallback, "hung_up": self.hung_up,
                "monitors_closed": self.monitors_closed}


@dataclass(frozen=True)
class Plan:
    """What to do with one unfinished call whose caller is still there."""

    resume: Resume | None  # None: cannot be resumed (the dialplan's fallback takes it)
    record: CallRecord
    checkpoint: Checkpoint
    keep: frozenset[str]  # the channels and bridges the resumed call goes on with
    reason: str = ""


def plan_adoption(record: CallRecord, saved: Mapping[str, Any] | None,
                  channels: Mapping[str, ChannelSnapshot],
                  bridges: Mapping[str, BridgeSnapshot], now: datetime) -> Plan:
    """Decide how an unfinished call whose caller's channel is up goes on (no I/O)."""
    try:
        checkpoint = Checkpoint() if saved is None else Checkpoint.from_json(dict(saved))
    except CheckpointError as exc:
        return Plan(None, record, Checkpoint(), frozenset({record.channel_id}), str(exc))
    answered = channels[record.channel_id].state == "Up"
    record = replace(record, queue_id=checkpoint.queue_id or record.queue_id,
                     agent_id=checkpoint.agent_id or record.agent_id)
    keep = {record.channel_id}
    stage = checkpoint.stage
    queue: QueuedResume | None = None
    if stage in (Stage.QUEUE, Stage.TALKING):
        if checkpoint.queue_id is None:
            return Plan(None, record, checkpoint, frozenset(keep), "no queue in the checkpoint")
        waited = (now - checkpoint.joined_at).total_seconds() if checkpoint.joined_at else 0.0
        talking = _kept_talk(checkpoint, channels, bridges) if stage is Stage.TALKING else None
        if talking is not None:
            keep |= {talking.bridge_id, talking.agent_channel_id}
            if talking.recording is not None:  # its snoops go on recording it
                keep |= set(talking.recording.snoop_ids)
        queue = QueuedResume(checkpoint.queue_id, QueueResume(max(0.0, waited), talking))
    resume = Resume(stage, node=checkpoint.node, queue=queue, agent_id=checkpoint.agent_id,
                    answered=answered)
    return Plan(resume, record, checkpoint, frozenset(keep))


def _kept_talk(checkpoint: Checkpoint, channels: Mapping[str, ChannelSnapshot],
               bridges: Mapping[str, BridgeSnapshot]) -> KeptTalk | None:
    if checkpoint.agent_id is None or checkpoint.bridge_id is None \
            or checkpoint.agent_channel_id is None:
        return None
    bridge = bridges.get(checkpoint.bridge_id)
    present = bridge is not None and checkpoint.agent_channel_id in channels \
        and checkpoint.agent_channel_id in bridge.channels
    return KeptTalk(checkpoint.agent_id, checkpoint.agent_channel_id, checkpoint.bridge_id,
                    checkpoint.recording, agent_present=present)


async def adopt_calls(ari: AriRest, store: CallStore, engine: CallEngine,
                      app: str) -> AdoptionReport:
    """Resume every call the last run left; leave no channel of ours in silence."""
    report = AdoptionReport()
    channels = {channel.id: channel for channel in await ari.list_channels()}
    bridges = {bridge.id: bridge for bridge in await ari.list_bridges()}
    unfinished = await store.unfinished()
    if engine.monitor_audit is not None:  # before any journey is read: the ends go in them
        report.monitors_closed = await close_stale_monitors(
            engine.monitor_audit, store, {record.call_id: record for record, _ in unfinished})
    kept: set[str] = set()
    now = datetime.now(UTC)
    plans: list[Plan] = []
    for record, saved in unfinished:
        if record.channel_id not in channels:
            await _finish_lost(store, record, CALLER_GONE,
                               "the caller's channel was gone when the service started")
            report.lost += 1
            continue
        plan = plan_adoption(record, saved, channels, bridges, now)
        kept |= plan.keep
        if plan.resume is None:
            log.error("adoption.cannot_resume", call_id=record.call_id, reason=plan.reason)
            await gone_ok(ari.continue_in_dialplan(record.channel_id, FALLBACK_CONTEXT, "s"),
                          "fallback")
            await _finish_lost(store, record, NOT_RESUMABLE,
                               f"{plan.reason}; sent to the fallback dialplan")
            report.to_fallback += 1
            continue
        plans.append(plan)
    # Waiting callers rejoin routing longest-waiting first: a free agent takes the first
    # caller that rejoins, before the others are back in line.
    # Read first, then adopt with no await between: each call starts in this order.
    plans.sort(key=_arrival)
    journeys = [await store.events(plan.record.call_id) for plan in plans]
    for plan, events in zip(plans, journeys, strict=True):
        assert plan.resume is not None
        engine.adopt(plan.record, events, plan.checkpoint, plan.resume)
        report.adopted[str(plan.resume.stage)] += 1
    await _clear_leftovers(ari, app, [r.call_id for r, _ in unfinished], channels.values(),
                           bridges.values(), kept, report)
    log.info("adoption.done", **report.as_dict())
    return report


async def _clear_leftovers(ari: AriRest, app: str, call_ids: Sequence[str],
                           channels: Any, bridges: Any, kept: set[str],
                           report: AdoptionReport) -> None:
    """Agent legs, media channels and bridges of the last run that no resumed call uses go;
    callers in our Stasis application that no call claims go to the fallback."""
    prefixes = tuple(f"{call_id}-" for call_id in call_ids)
    for channel in channels:
        if channel.id in kept or channel.id.removesuffix(";2") in kept:
            continue  # ";2": the dialplan half of a Local channel (a simulated agent's phone)
        ours = channel.stasis_app == app
        if ours and _role(channel) == ROLE_INBOUND:
            log.warning("adoption.unknown_caller", channel=channel.id)
            await gone_ok(ari.continue_in_dialplan(channel.id, FALLBACK_CONTEXT, "s"),
                          "fallback")
            report.to_fallback += 1
        elif ours or channel.id.startswith(prefixes):
            await gone_ok(ari.hangup(channel.id), "leftover channel")
            report.hung_up += 1
    for bridge in bridges:
        if bridge.id not in kept and bridge.id.startswith(prefixes):
            await gone_ok(ari.destroy_bridge(bridge.id), "leftover bridge")


def _arrival(plan: Plan) -> datetime:
    return plan.checkpoint.joined_at or plan.record.started_at


def _role(channel: ChannelSnapshot) -> str:
    args = channel.stasis_args or ()
    return args[1] if len(args) > 1 else ""


async def _finish_lost(store: CallStore, record: CallRecord, cause: str, reason: str) -> None:
    now = datetime.now(UTC)
    await store.append_events([JourneyEvent(
        call_id=record.call_id, type=JourneyType.HANGUP,
        t=(now - record.started_at).total_seconds(), at=now,
        details={"cause": cause, "reason": reason,
                 "outcome": str(CallOutcome.LOST_IN_RESTART)})])
    await store.finish(replace(record, ended_at=now, outcome=CallOutcome.LOST_IN_RESTART,
                               hangup_cause=cause))
    log.warning("adoption.call_lost", call_id=record.call_id, reason=reason)
