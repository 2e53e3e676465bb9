"""From the queue to a conversation: ring agents one by one, bridge, record, wait for the end."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog

from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, ChannelDestroyed, StasisStart
from ari_app.channel_vars import ROLE_AGENT
from ari_app.context import CallContext
from ari_app.quiet import gone_ok
from ari_app.recorder import start_recording, stop_and_store
from ivr.journey import JourneyType
from routing.model import Offer
from routing.service import DeclineReason, Ticket

log = structlog.get_logger(__name__)

# Q.850 causes that mean "busy" rather than "did not answer".
_BUSY_CAUSES = frozenset({17})
# What the routing room hears: a rejected call counts against the agent like a busy one.
_DECLINE_REASONS: dict[str, DeclineReason] = {
    "no_answer": "no_answer", "busy": "busy", "rejected": "busy", "failed": "failed"}


@dataclass(frozen=True)
class AgentLeg:
    offer: Offer
    channel_id: str
    ended: asyncio.Future[AriEvent]


@dataclass(frozen=True)
class Conversation:
    agent_id: str
    agent_hung_up_first: bool


async def talk_to_agent(call: CallContext, queue_id: str) -> Conversation:
    """Queue the caller until an agent answers; return when the agent leaves the call."""
    ticket = call.parts.queues.enqueue(call.call_id, queue_id)
    call.journal.record(JourneyType.QUEUE_JOIN, queue=queue_id)
    call.journal.update(queue_id=queue_id)
    try:
        await gone_ok(call.parts.ari.start_moh(call.channel_id), "moh")
        leg = await _ring_until_answered(call, ticket)
        ticket.answered(leg.offer)
        try:
            return await _converse(call, leg, queue_id)
        finally:
            ticket.completed(leg.offer)
    finally:
        ticket.leave("caller_gone")


async def _ring_until_answered(call: CallContext, ticket: Ticket) -> AgentLeg:
    while True:
        offer = await ticket.next_offer()
        call.journal.record(JourneyType.AGENT_OFFER, queue=offer.queue_id, agent=offer.agent_id)
        leg, reason = await _ring(call, offer)
        if leg is not None:
            return leg
        call.journal.record(JourneyType.AGENT_NO_ANSWER, agent=offer.agent_id, reason=reason)
        ticket.declined(offer, _DECLINE_REASONS[reason])


async def _ring(call: CallContext, offer: Offer) -> tuple[AgentLeg | None, str]:
    channel_id = f"{call.call_id}-agent-{uuid.uuid4().hex[:8]}"
    call.bind(channel_id)
    answered = call.mailbox.expect(
        lambda e: isinstance(e, StasisStart) and e.channel.id == channel_id)
    ended = call.mailbox.expect_end(channel_id)
    keep = False
    try:
        await call.parts.ari.originate(
            offer.endpoint, channel_id=channel_id, app=call.parts.app,
            app_args=[ROLE_AGENT, call.call_id], caller_id=call.caller_number,
            timeout_s=int(offer.ring_timeout_s) + 5,
        )
        done, _ = await asyncio.wait({answered, ended}, timeout=offer.ring_timeout_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        if answered in done and not ended.done():
            keep = True
            return AgentLeg(offer, channel_id, ended), "answered"
        return None, _why_not(ended)
    except AriError as exc:
        log.warning("agent.originate_failed", agent=offer.agent_id, error=str(exc))
        return None, "failed"
    finally:
        answered.cancel()
        if not keep:
            ended.cancel()
            await _drop_leg(call, channel_id)


def _why_not(ended: asyncio.Future[AriEvent]) -> str:
    if ended.done() and not ended.cancelled():
        event = ended.result()
        if isinstance(event, ChannelDestroyed) and event.cause in _BUSY_CAUSES:
            return "busy"
        return "rejected"
    return "no_answer"


async def _converse(call: CallContext, leg: AgentLeg, queue_id: str) -> Conversation:
    ari = call.parts.ari
    agent_id = leg.offer.agent_id
    bridge_id = f"{call.call_id}-bridge"
    call.bind(bridge_id)
    recording = None
    try:
        await gone_ok(ari.stop_moh(call.channel_id), "moh")
        await ari.create_bridge(bridge_id, "mixing", name=f"call-{call.call_id}")
        await ari.add_channels(bridge_id, [call.channel_id, leg.channel_id])
        call.journal.record(JourneyType.AGENT_ANSWER, queue=queue_id, agent=agent_id)
        call.journal.update(agent_id=agent_id)
        recording = await start_recording(call, bridge_id, queue_id=queue_id, agent_id=agent_id)
        await leg.ended
        call.journal.record(JourneyType.AGENT_HANGUP, agent=agent_id)
        return Conversation(agent_id, agent_hung_up_first=True)
    finally:
        if recording is not None:
            call.after_hangup(stop_and_store(call, recording))
        await _drop_leg(call, leg.channel_id)
        if not call.mailbox.has_ended(call.channel_id):  # the survey needs the caller back
            await gone_ok(ari.remove_channel(bridge_id, call.channel_id), "bridge member")
        await gone_ok(ari.destroy_bridge(bridge_id), "bridge")
        call.unbind(bridge_id)


async def _drop_leg(call: CallContext, channel_id: str) -> None:
    if not call.mailbox.has_ended(channel_id):
        await gone_ok(call.parts.ari.hangup(channel_id), "agent leg")
    call.unbind(channel_id)
