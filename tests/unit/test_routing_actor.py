"""QueueService and Ticket, the engine's API, on a simulated clock (and once on real time)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from routing.actor import QueueService, Ticket
from routing.clock import MonotonicClock, SimulatedClock
from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    QueueExit,
    RoutingConfig,
    Skill,
    SkillRequirement,
    Vip,
)
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    HandoffContext,
    Offer,
    Position,
    QueueConfig,
    WhyNot,
)
from routing.notices import (
    AgentAutoPaused,
    Announcement,
    CommandRejected,
    InvalidConfig,
    OfferNotLive,
    QueueExited,
    QueueRemoved,
    ServiceStopped,
    StepOpened,
    TicketClosed,
    Transferred,
    UnknownAgent,
    UnknownQueue,
)

SUPPORT = (SkillRequirement("support"),)
TIERED = (PlanStep("front", 0, tiers=(1,)), PlanStep("specialists", 30, tiers=(2,)))
CONFIG = RoutingConfig(
    skills=(Skill("support", "Support"),),
    agents=(Agent("front", "Front", "PJSIP/front", 1, (AgentSkill("support", 3),), 2),
            Agent("expert", "Expert", "PJSIP/expert", 2, (AgentSkill("support", 5),))),
    queues=(Queue("q", "Q", SUPPORT, ring_timeout_s=20, wrapup_s=5, plan=TIERED,
                  announce_every_s=None),
            Queue("all", "All", SUPPORT, strategy="ring_all", wrapup_s=0,
                  announce_every_s=None),
            Queue("short", "Short", (SkillRequirement("support", 5),), max_wait_s=10,
                  exit=QueueExit("callback", message="We will call you back"),
                  plan=(PlanStep("experts", 0, tiers=(2,)),), announce_every_s=4)),
    vips=(Vip("+1999", 7),),
    version=1,
)


class Line:
    def __init__(self, config: RoutingConfig = CONFIG, start: float = 100.0) -> None:
        self.clock = SimulatedClock(start)
        self.service = QueueService(config, self.clock)

    async def offers(self, ticket: Ticket) -> tuple[Offer, ...]:
        async with asyncio.timeout(1):
            return await ticket.next_offers()

    async def poll(self, ticket: Ticket) -> tuple[Offer, ...] | None:
        waiter = asyncio.create_task(ticket.next_offers())
        await self.clock.settle()
        if waiter.done():
            return waiter.result()
        waiter.cancel()
        return None

    def state(self, agent_id: str) -> AgentState:
        return self.service.snapshot().view(agent_id).state


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    ln = Line()
    actor = asyncio.create_task(ln.service.run())
    yield ln
    actor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await actor


async def test_an_offer_carries_the_agent_version_context_and_reason(line: Line) -> None:
    context = HandoffContext(intent="refund", journey=("menu:claims",))
    ticket = line.service.enqueue("c1", "q", caller_number="+1555", context=context)
    (offer,) = await line.offers(ticket)
    assert (offer.offer_id, offer.agent_id, offer.endpoint, offer.ring_timeout_s,
            offer.config_version, offer.context) == ("c1:1", "front", "PJSIP/front", 20, 1,
                                                     context)
    assert str(offer.decision) == (
        "t=100 config v1 c1@q: front: step 'front', tier 1, longest_idle 100 | "
        "expert: tier not open until t=130 (tier 2, step 'specialists')")
    assert offer.decision.others[0].why is WhyNot.TIER_NOT_OPEN
    assert line.service.explain("c1") == [offer.decision]


async def test_answered_completed_then_wrapup_then_the_next_caller(line: Line) -> None:
    first = line.service.enqueue("c1", "q")
    (offer,) = await line.offers(first)
    assert first.answered(offer) == ()
    await line.clock.advance(10)
    second = line.service.enqueue("c2", "q")
    assert await line.poll(second) is None
    first.completed(offer)
    with pytest.raises(TicketClosed, match="completed"):
        await first.next_offers()
    await line.clock.advance(4.999)
    assert line.state("front") is AgentState.WRAP_UP
    assert await line.poll(second) is None
    await line.clock.advance(0.001)
    (again,) = await line.offers(second)
    assert again.agent_id == "front" and again.decision.at == 115


async def test_ring_all_first_answer_wins_and_losers_are_free(line: Line) -> None:
    ticket = line.service.enqueue("c1", "all")
    offers = await line.offers(ticket)
    assert [o.agent_id for o in offers] == ["front"]  # tier 1 is the best group
    ticket.declined(offers[0], "no_answer")
    await line.clock.advance(0)
    offers = await line.offers(ticket)
    assert [o.agent_id for o in offers] == ["expert"]


async def test_ring_all_answer_returns_the_other_offers() -> None:
    config = replace(CONFIG, agents=(*CONFIG.agents, replace(CONFIG.agents[0], agent_id="f2",
                                                             endpoint="PJSIP/f2")))
    ln = Line(config)
    async with asyncio.TaskGroup() as tg:
        actor = tg.create_task(ln.service.run())
        ticket = ln.service.enqueue("c1", "all")
        offers = await ln.offers(ticket)
        assert [o.agent_id for o in offers] == ["front", "f2"]
        assert ticket.answered(offers[1]) == (offers[0],)
        ticket.declined(offers[0], "no_answer")  # the engine hangs up the loser: ignored
        with pytest.raises(OfferNotLive):
            ticket.answered(offers[0])
        await ln.clock.settle()
        snap = ln.service.snapshot()
        assert snap.view("front").state is AgentState.IDLE
        assert snap.view("front").no_answer_count == 0
        assert snap.view("f2").state is AgentState.ON_CALL
        actor.cancel()


async def test_no_answers_auto_pause_the_agent_and_notify_the_call(line: Line) -> None:
    ticket = line.service.enqueue("c1", "q")
    for _ in range(2):
        (offer,) = await line.offers(ticket)
        ticket.declined(offer, "no_answer")
        await line.clock.advance(5)
    await line.clock.settle()
    view = line.service.snapshot().view("front")
    assert (view.status, view.pause_reason, view.no_answer_count) == (
        AgentStatus.PAUSED, "no_answer", 2)
    assert [type(n) for n in ticket.drain_notices()] == [AgentAutoPaused]
    await line.service.resume("front")
    (offer,) = await line.offers(ticket)
    assert offer.agent_id == "front"


async def test_busy_rejected_failed_are_counted_apart(line: Line) -> None:
    ticket = line.service.enqueue("c1", "q")
    for reason in ("busy", "rejected", "failed"):
        (offer,) = await line.offers(ticket)
        ticket.declined(offer, reason)  # type: ignore[arg-type]
        await line.clock.advance(5)
    await line.clock.settle()
    view = line.service.snapshot().view("front")
    assert (view.busy_count, view.rejected_count, view.failed_count, view.no_answer_count) == (
        1, 1, 1, 0)
    with pytest.raises(ValueError, match="unknown decline reason"):
        ticket.declined(offer, "bored")  # type: ignore[arg-type]


async def test_transfer_keeps_age_restricts_tier_and_delivers_notes(line: Line) -> None:
    ticket = line.service.enqueue("c1", "q", priority=2)
    (offer,) = await line.offers(ticket)
    with pytest.raises(OfferNotLive):
        ticket.transfer(min_tier=2)
    ticket.answered(offer)
    with pytest.raises(UnknownQueue):
        ticket.transfer("nowhere")
    await line.clock.advance(60)
    ticket.transfer(min_tier=2, notes="refund over limit")
    (second,) = await line.offers(ticket)
    assert second.agent_id == "expert"
    (handoff,) = second.context.handoffs
    assert (handoff.from_agent, handoff.min_tier, handoff.notes, handoff.at) == (
        "front", 2, "refund over limit", 160)
    snap = line.service.snapshot()
    (call,) = snap.calls
    assert (call.joined_at, call.priority, call.min_tier) == (100, 2, 2)
    assert any(isinstance(n, Transferred) for n in ticket.drain_notices())


async def test_leave_while_ringing_frees_the_agent_and_is_idempotent(line: Line) -> None:
    ticket = line.service.enqueue("c1", "q")
    await line.offers(ticket)
    ticket.leave("caller_gone")
    ticket.leave("again")
    await line.clock.settle()
    assert line.state("front") is AgentState.IDLE
    with pytest.raises(TicketClosed, match="caller_gone"):
        await ticket.next_offers()


async def test_callback_exit_closes_with_the_notice_and_notices_end(line: Line) -> None:
    await line.service.pause("expert", "training")
    ticket = line.service.enqueue("c1", "short", caller_number="+1555")
    seen = asyncio.create_task(collect(ticket))
    await line.clock.advance(10)
    with pytest.raises(QueueExited) as closed:
        await ticket.next_offers()
    assert (closed.value.notice.kind, closed.value.notice.message) == (
        "callback", "We will call you back")
    notices = await asyncio.wait_for(seen, 1)
    assert [type(n).__name__ for n in notices] == ["Announcement", "Announcement",
                                                   "ExitTaken"]
    first = notices[0]
    assert isinstance(first, Announcement) and (first.at, first.position, first.eta_s) == (
        104, 1, None)


async def collect(ticket: Ticket) -> list[object]:
    return [n async for n in ticket.notices()]


async def test_position_and_estimate(line: Line) -> None:
    await line.service.pause("front", "meeting")
    tickets = [line.service.enqueue(f"c{i}", "q") for i in range(3)]
    await line.clock.settle()
    positions = [line.service.position(t.call_id) for t in tickets]
    assert [p.position for p in positions if p] == [1, 2, 3]
    assert all(p is not None and p.eta_s is None for p in positions)  # nobody serves tier 1
    await line.clock.advance(30)
    # expert rings for c0 since 130 (still ahead: ringing calls count); the pool is one agent
    pos = line.service.position("c2")
    assert pos is not None and pos.position == 3 and pos.eta_s == pytest.approx(2.5 * 180)
    assert line.service.position("c0") == Position(1, 0.0)


async def test_apply_config_is_all_or_nothing_and_reaches_waiting_calls(line: Line) -> None:
    await line.service.pause("front", "meeting")
    ticket = line.service.enqueue("c1", "q")
    assert await line.poll(ticket) is None
    bad = replace(CONFIG, version=2, queues=(replace(CONFIG.queues[0], ring_timeout_s=0),))
    with pytest.raises(InvalidConfig) as err:
        await line.service.apply_config(bad)
    assert [p.path for p in err.value.problems] == ["queues[0].ring_timeout_s"]
    assert line.service.config.version == 1
    wider = replace(CONFIG, version=2, queues=(
        replace(CONFIG.queues[0], plan=(PlanStep("everyone", 0),)), *CONFIG.queues[1:]))
    await line.service.apply_config(wider)
    (offer,) = await line.offers(ticket)
    assert (offer.agent_id, offer.config_version, offer.decision.at) == ("expert", 2, 100)


async def test_agent_commands_validate_and_reject(line: Line) -> None:
    with pytest.raises(UnknownAgent):
        await line.service.login("nobody")
    with pytest.raises(CommandRejected, match="not paused"):
        await line.service.resume("front")
    await line.service.logout("front")
    with pytest.raises(CommandRejected, match="not logged in"):
        await line.service.pause("front", "lunch")
    await line.service.login("front")
    assert line.service.snapshot().view("front").status is AgentStatus.AVAILABLE


async def test_an_unreachable_phone_is_never_offered(line: Line) -> None:
    line.service.set_reachable("front", False)
    with pytest.raises(UnknownAgent):
        line.service.set_reachable("ghost", False)
    ticket = line.service.enqueue("c1", "q")
    assert await line.poll(ticket) is None
    (verdict,) = [v for v in line.service.explain("c1")[-1].others if v.agent_id == "front"]
    assert verdict.why is WhyNot.UNREACHABLE
    line.service.set_reachable("front", True)
    (offer,) = await line.offers(ticket)
    assert offer.agent_id == "front"


async def test_a_step_opening_notice_and_vip_priority(line: Line) -> None:
    await line.service.pause("front", "meeting")
    ticket = line.service.enqueue("c1", "q", caller_number="+1999")
    await line.clock.advance(30)
    (offer,) = await line.offers(ticket)
    assert offer.agent_id == "expert"
    kinds = [type(n).__name__ for n in ticket.drain_notices()]
    assert kinds == ["PriorityChanged", "StepOpened"]
    assert line.service.snapshot().calls[0].priority == 7


async def test_duplicate_call_and_unknown_queue(line: Line) -> None:
    with pytest.raises(UnknownQueue):
        line.service.enqueue("c1", "nope")
    first = line.service.enqueue("c1", "q")
    second = line.service.enqueue("c1", "q")
    with pytest.raises(TicketClosed, match="DuplicateCall"):
        await asyncio.wait_for(second.next_offers(), 1)
    assert await line.offers(first)


async def test_stopping_closes_tickets_and_refuses_work() -> None:
    ln = Line()
    actor = asyncio.create_task(ln.service.run())
    ticket = ln.service.enqueue("c1", "q")
    await ln.offers(ticket)
    actor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await actor
    with pytest.raises(ServiceStopped):
        await ticket.next_offers()
    with pytest.raises(ServiceStopped):
        ln.service.enqueue("c2", "q")
    with pytest.raises(ServiceStopped):
        await ln.service.login("front")
    with pytest.raises(RuntimeError, match="only be started once"):
        await ln.service.run()


async def test_the_legacy_constructor_maps_the_yaml_settings() -> None:
    service = QueueService([QueueConfig("claims", "Claims")],
                           [AgentConfig("alice", "Alice", "PJSIP/1", ("claims",))],
                           SimulatedClock())
    assert service.config.queue("claims") is not None
    assert service.config.agents[0].tier == 1


async def test_escalation_on_real_time_is_within_250_ms() -> None:
    """On the monotonic clock a step opens on a timer, not on a poll or a ring cycle."""
    config = replace(CONFIG, queues=(replace(CONFIG.queues[0], plan=(
        PlanStep("front", 0, tiers=(1,)), PlanStep("specialists", 0.3, tiers=(2,)))),))
    service = QueueService(config, MonotonicClock())
    async with asyncio.TaskGroup() as tg:
        actor = tg.create_task(service.run())
        await service.pause("front", "meeting")
        start = time.monotonic()
        ticket = service.enqueue("c1", "q")
        (offer,) = await asyncio.wait_for(ticket.next_offers(), 2)
        late = time.monotonic() - start - 0.3
        opened = next(n for n in ticket.drain_notices() if isinstance(n, StepOpened))
        actor.cancel()
    assert offer.agent_id == "expert"
    assert -0.001 <= late < 0.25
    assert opened.at >= offer.decision.at - 0.25


async def test_an_answer_after_routing_let_go_is_refused(line: Line) -> None:
    ticket = line.service.enqueue("c1", "short")
    (offer,) = await line.offers(ticket)
    await line.service.apply_config(replace(CONFIG, version=2, queues=CONFIG.queues[:2]))
    with pytest.raises(QueueRemoved):
        await ticket.next_offers()
    with pytest.raises(OfferNotLive):
        ticket.answered(offer)
    assert line.service.snapshot().view(offer.agent_id).state is AgentState.IDLE
