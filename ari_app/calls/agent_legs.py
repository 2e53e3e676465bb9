"""Ringing agents: originate one leg per offer (several at once for ring-all), first answer wins."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog

from ari_app.ari.causes import leg_end
from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, ChannelDestroyed, ChannelSnapshot, StasisStart
from ari_app.calls.call import Call
from ari_app.channel_vars import ROLE_AGENT
from ivr.journey import JourneyType
from ivr.milestones import AgentOffered, note
from routing.actor import DeclineReason, Ticket
from routing.model import Offer
from routing.notices import OfferNotLive

log = structlog.get_logger(__name__)

@dataclass(frozen=True)
class AgentLeg:
    offer: Offer
    channel_id: str
    answered: asyncio.Future[AriEvent]
    ended: asyncio.Future[AriEvent]


async def ring_until_answered(call: Call, ticket: Ticket) -> AgentLeg:
    """Ring each batch of offers until an agent answers; raises TicketClosed from routing."""
    while True:
        offers = await ticket.next_offers()
        for offer in offers:
            note(call.journal, AgentOffered(queue=offer.queue_id, agent=offer.agent_id,
                                            config_version=offer.config_version,
                                            why=offer.decision.summary()))
        winner = await _ring_batch(call, ticket, offers)
        if winner is not None:
            return winner


async def _ring_batch(call: Call, ticket: Ticket,
                      offers: tuple[Offer, ...]) -> AgentLeg | None:
    legs = [await _originate(call, offer) for offer in offers]
    live = [leg for leg in legs if leg is not None]
    winner: AgentLeg | None = None
    try:
        winner = await _first_answer(live, min(o.ring_timeout_s for o in offers))
        if winner is not None:
            try:
                ticket.answered(winner.offer)  # releases the ring-all losers without penalty
            except OfferNotLive:
                # Routing let go of the call while the phone rang (e.g. its queue was
                # removed): drop the leg; next_offers() raises the reason.
                log.info("agent.answer_too_late", agent=winner.offer.agent_id)
                winner = None
                return None
            return winner
        for leg in live:
            reason = _why_not(leg.ended)
            call.journal.record(JourneyType.AGENT_NO_ANSWER, agent=leg.offer.agent_id,
                                reason=reason)
            ticket.declined(leg.offer, reason)
        for offer in offers:
            if offer not in [leg.offer for leg in live]:
                call.journal.record(JourneyType.AGENT_NO_ANSWER, agent=offer.agent_id,
                                    reason="failed")
                ticket.declined(offer, "failed")
        return None
    finally:
        for leg in live:
            if leg is not winner:
                await drop_leg(call, leg)


async def _originate(call: Call, offer: Offer) -> AgentLeg | None:
    channel_id = f"{call.call_id}-agent-{uuid.uuid4().hex[:8]}"
    call.bind(channel_id)
    answered = call.mailbox.expect(
        lambda e: isinstance(e, StasisStart) and e.channel.id == channel_id)
    ended = call.mailbox.expect_end(channel_id)
    leg = AgentLeg(offer, channel_id, answered, ended)
    try:
        await call.ari.originate(
            offer.endpoint, channel_id=channel_id, app=call.app,
            app_args=[ROLE_AGENT, call.call_id], caller_id=call.caller_number,
            timeout_s=int(offer.ring_timeout_s) + 5, originator=call.channel_id,
        )
    except AriError as exc:
        log.warning("agent.originate_failed", agent=offer.agent_id, error=str(exc))
        await drop_leg(call, leg)
        return None
    return leg


async def _first_answer(legs: list[AgentLeg], ring_timeout_s: float) -> AgentLeg | None:
    if not legs:
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ring_timeout_s
    pending = {f for leg in legs for f in (leg.answered, leg.ended)}
    while pending and (left := deadline - loop.time()) > 0:
        done, pending = await asyncio.wait(pending, timeout=left,
                                           return_when=asyncio.FIRST_COMPLETED)
        for leg in legs:
            if leg.answered in done and not leg.ended.done():
                return leg
        pending = {f for leg in legs if not leg.ended.done() for f in (leg.answered, leg.ended)
                   if not f.done()}
    return None


def _why_not(ended: asyncio.Future[AriEvent]) -> DeclineReason:
    if ended.done() and not ended.cancelled():
        return leg_end(ended.result())
    return "no_answer"


def kept_leg(call: Call, offer: Offer, channel_id: str, *, present: bool) -> AgentLeg:
    """An answered agent leg an earlier run of the service connected (adoption); `present`
    False: the agent hung up while no service was running, the leg has ended already."""
    call.bind(channel_id)
    answered: asyncio.Future[AriEvent] = asyncio.get_running_loop().create_future()
    ended = call.mailbox.expect_end(channel_id)
    if not present:
        ended.cancel()
        ended = asyncio.get_running_loop().create_future()
        ended.set_result(ChannelDestroyed(
            application=call.app, channel=ChannelSnapshot.gone(channel_id), cause=16,
            cause_txt="The agent left while the service restarted"))
    return AgentLeg(offer, channel_id, answered, ended)


async def drop_leg(call: Call, leg: AgentLeg) -> None:
    """Hang up an agent leg (if still up) and forget it."""
    leg.answered.cancel()
    if not call.mailbox.has_ended(leg.channel_id):
        await gone_ok(call.ari.hangup(leg.channel_id), "agent leg")
    leg.ended.cancel()
    call.unbind(leg.channel_id)
