"""A caller in a queue: music on hold, routing notices and announcements, ringing agents, the
conversation, and transfers that send the caller back to routing keeping their place."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.calls.agent_legs import AgentLeg, kept_leg, ring_until_answered
from ari_app.calls.call import Call
from ari_app.calls.checkpoint import SavedRecording, Stage
from ari_app.calls.conversation import (
    Conversation,
    KeptConversation,
    TalkDeps,
    TransferRequest,
    converse,
)
from ari_app.calls.handoff import queue_context
from ivr.journey import JourneyType
from ivr.milestones import QueueJoined, note
from ivr.ports import CallChannel
from routing.actor import QueueService, Ticket
from routing.notices import (
    AgentAutoPaused,
    Announcement,
    ExitTaken,
    Notice,
    Overflowed,
    PriorityChanged,
    QueueExited,
    Resumed,
    StepOpened,
    TicketClosed,
    Transferred,
)

log = structlog.get_logger(__name__)

TRANSFER_PROMPT = "Please hold while I transfer your call."
NO_AGENT_PROMPT = "We are sorry, all of our agents are busy. Please call again later. Goodbye."


@dataclass(frozen=True)
class QueueLeft:
    """Routing gave the caller up without an agent: the message to play, if any."""

    reason: str
    message: str


@dataclass(frozen=True)
class KeptTalk:
    """Talking when the last run of the service stopped: the bridge Asterisk kept."""

    agent_id: str
    agent_channel_id: str
    bridge_id: str
    recording: SavedRecording | None
    agent_present: bool  # False: the agent hung up while no service was running


@dataclass(frozen=True)
class QueueResume:
    """A caller in this queue when the last run of the service stopped."""

    waited_s: float  # since the original join: the caller keeps their place
    talking: KeptTalk | None = None


async def serve_from_queue(call: Call, channel: CallChannel, queues: QueueService,
                           queue_id: str, transfers: asyncio.Queue[TransferRequest],
                           talk: TalkDeps, resume: QueueResume | None = None
                           ) -> Conversation | QueueLeft:
    joined_at = datetime.now(UTC) - timedelta(seconds=resume.waited_s if resume else 0.0)
    kept = _kept(call, queues, queue_id, resume)
    conversation: tuple[AgentLeg, KeptConversation | None] | None
    if kept is not None:
        ticket, conversation = kept
    else:
        ticket = queues.enqueue(call.call_id, queue_id, caller_number=call.caller_number,
                                context=queue_context(call.journal.events),
                                waited_s=resume.waited_s if resume else 0.0)
        conversation = None
        if resume is None:
            note(call.journal, QueueJoined(queue=queue_id))
    call.journal.update(queue_id=queue_id)
    call.journal.save_checkpoint(call.journal.checkpoint.to(
        stage=Stage.TALKING if kept else Stage.QUEUE, queue_id=queue_id, joined_at=joined_at))
    caller_media = asyncio.Lock()  # announcements and bridging never talk over each other
    notices = call.tasks.spawn(lambda: _follow(call, channel, ticket, caller_media),
                               "queue-notices")
    try:
        while True:
            if conversation is None:
                await gone_ok(call.ari.start_moh(call.channel_id), "moh")
                try:
                    leg = await ring_until_answered(call, ticket)
                except TicketClosed as exc:
                    return _left(call, exc)
                conversation = (leg, None)
            leg, kept_conversation = conversation
            async with caller_media:
                talked = await converse(call, leg, ticket.queue_id, transfers, talk,
                                        kept_conversation)
            conversation = None
            if talked.transfer is None:
                ticket.completed(leg.offer)
                return talked
            request = talked.transfer
            ticket.transfer(request.queue_id, request.min_tier, request.notes)
            call.journal.save_checkpoint(call.journal.checkpoint.to(
                stage=Stage.QUEUE, queue_id=request.queue_id or ticket.queue_id,
                agent_channel_id=None, bridge_id=None, recording=None))
            await channel.play(TRANSFER_PROMPT, interruptible=False)
    finally:
        ticket.leave("caller_gone")
        if notices is not None:
            notices.cancel()
            await asyncio.wait({notices})


def _kept(call: Call, queues: QueueService, queue_id: str, resume: QueueResume | None
          ) -> tuple[Ticket, tuple[AgentLeg, KeptConversation]] | None:
    """The routing ticket and agent leg of a conversation kept through a restart."""
    if resume is None or resume.talking is None:
        return None
    kept = resume.talking
    ticket = queues.restore_answered(call.call_id, queue_id, kept.agent_id,
                                     caller_number=call.caller_number, waited_s=resume.waited_s)
    offer = ticket.answered_offer
    assert offer is not None
    leg = kept_leg(call, offer, kept.agent_channel_id, present=kept.agent_present)
    return ticket, (leg, KeptConversation(leg, kept.bridge_id, kept.recording))


def _left(call: Call, exc: TicketClosed) -> QueueLeft:
    if isinstance(exc, QueueExited):
        notice = exc.notice
        reason, message = f"exit_{notice.kind}", notice.message or NO_AGENT_PROMPT
    else:
        reason, message = type(exc).__name__, NO_AGENT_PROMPT
    call.journal.record(JourneyType.QUEUE_LEAVE, reason=reason)
    return QueueLeft(reason, message)


async def _follow(call: Call, channel: CallChannel, ticket: Ticket,
                  caller_media: asyncio.Lock) -> None:
    async for notice in ticket.notices():
        if isinstance(notice, Announcement):
            if caller_media.locked():
                continue  # talking to an agent: no announcement
            async with caller_media:
                await _announce(call, channel, notice)
        else:
            _journal_notice(call, notice)


async def _announce(call: Call, channel: CallChannel, notice: Announcement) -> None:
    call.journal.record(JourneyType.QUEUE_POSITION, position=notice.position,
                        eta_s=notice.eta_s)
    text = f"You are number {notice.position} in line."
    if notice.eta_s is not None:
        minutes = max(1, round(notice.eta_s / 60))
        text += f" Your estimated wait is about {minutes} minute{'s' if minutes > 1 else ''}."
    await gone_ok(call.ari.stop_moh(call.channel_id), "moh")
    await channel.play(text, interruptible=False)
    await gone_ok(call.ari.start_moh(call.channel_id), "moh")


def _journal_notice(call: Call, notice: Notice) -> None:
    record = call.journal.record
    if isinstance(notice, StepOpened):
        record(JourneyType.ROUTING, kind="step_opened", queue=notice.queue_id,
               step=notice.step, index=notice.index, skipped_empty=notice.skipped_empty)
    elif isinstance(notice, PriorityChanged):
        record(JourneyType.ROUTING, kind="priority", old=notice.old, new=notice.new,
               cause=notice.cause)
    elif isinstance(notice, Overflowed):
        record(JourneyType.ROUTING, kind="overflow", queue=notice.to_queue,
               from_queue=notice.from_queue, cause=notice.cause)
        call.journal.update(queue_id=notice.to_queue)
    elif isinstance(notice, Transferred):
        record(JourneyType.ROUTING, kind="transferred", queue=notice.to_queue,
               from_queue=notice.from_queue, min_tier=notice.min_tier)
        call.journal.update(queue_id=notice.to_queue)
    elif isinstance(notice, ExitTaken):
        record(JourneyType.ROUTING, kind="exit", exit=notice.kind, queue=notice.queue_id,
               target_queue=notice.target_queue)
    elif isinstance(notice, Resumed):
        record(JourneyType.ROUTING, kind="resumed", joined_at=notice.joined_at,
               priority=notice.priority)
    elif isinstance(notice, AgentAutoPaused):
        record(JourneyType.ROUTING, kind="agent_auto_paused", agent=notice.agent_id,
               misses=notice.misses)
