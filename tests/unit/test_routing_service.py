"""QueueService: the queue actor driven through its ticket API on a simulated clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from routing.clock import MonotonicClock, SimulatedClock
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    Offer,
    QueueConfig,
    ServiceStopped,
    TicketClosed,
    UnknownAgent,
    UnknownQueue,
    WaitTimeout,
)
from routing.service import QueueService, Ticket

QUEUES = (
    QueueConfig("sales", "Sales", ring_timeout_s=20, wrapup_s=5),
    QueueConfig("support", "Support", wrapup_s=0, max_wait_s=60),
)
AGENTS = (
    AgentConfig("a1", "Ada", "PJSIP/a1", ("sales",)),
    AgentConfig("a2", "Bob", "PJSIP/a2", ("sales", "support")),
)


class Harness:
    def __init__(self, agents: Sequence[AgentConfig] = AGENTS, start: float = 100.0) -> None:
        self.clock = SimulatedClock(start)
        self.service = QueueService(QUEUES, agents, self.clock)

    async def offer(self, ticket: Ticket) -> Offer:
        async with asyncio.timeout(1):
            return await ticket.next_offer()

    async def poll(self, ticket: Ticket) -> Offer | None:
        """The offer delivered once the actor has settled, or None if there is none."""
        waiter = asyncio.create_task(ticket.next_offer())
        await self.clock.settle()
        if waiter.done():
            return waiter.result()
        waiter.cancel()
        return None

    def state(self, agent_id: str) -> AgentState:
        return self.service.snapshot().view(agent_id).state


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    actor = asyncio.create_task(harness.service.run())
    yield harness
    actor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await actor


async def test_enqueue_gets_longest_idle_agent_in_configuration_order(h: Harness) -> None:
    offer = await h.offer(h.service.enqueue("c1", "sales"))
    assert (offer.offer_id, offer.agent_id, offer.endpoint, offer.ring_timeout_s) == (
        "c1:1", "a1", "PJSIP/a1", 20)
    assert str(offer.reason) == "longest_idle: idle since 100; a2 outranked"
    await h.clock.settle()
    snap = h.service.snapshot()
    assert snap.view("a1").state is AgentState.OFFERED
    assert [(c.call_id, c.offer) for c in snap.calls] == [("c1", offer)]


async def test_declined_goes_to_next_agent_keeping_join_time(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    first = await h.offer(ticket)
    await h.clock.advance(20)
    ticket.declined(first, "no_answer")
    second = await h.offer(ticket)
    assert (second.offer_id, second.agent_id) == ("c1:2", "a2")
    await h.clock.settle()
    snap = h.service.snapshot()
    assert (snap.view("a1").state, snap.view("a1").no_answer_count) == (AgentState.AVAILABLE, 1)
    assert snap.calls[0].joined_at == 100.0


async def test_answer_resets_consecutive_no_answers(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    for _ in range(2):
        ticket.declined(await h.offer(ticket), "no_answer")
    again = await h.offer(ticket)
    await h.clock.settle()
    assert (again.agent_id, h.service.snapshot().view("a1").no_answer_count) == ("a1", 1)
    ticket.answered(again)
    await h.clock.settle()
    view = h.service.snapshot().view("a1")
    assert (view.state, view.no_answer_count, view.calls_taken) == (AgentState.ON_CALL, 0, 1)
    assert h.service.snapshot().calls == ()  # a connected call is no longer waiting


async def test_busy_decline_is_not_a_no_answer_and_round_resets(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    first = await h.offer(ticket)
    ticket.declined(first, "busy")
    second = await h.offer(ticket)
    ticket.declined(second, "failed")
    third = await h.offer(ticket)  # everyone tried: a new round starts with the longest idle
    assert (third.agent_id, third.reason.new_round) == ("a1", True)
    ticket.declined(third, "busy")
    fourth = await h.offer(ticket)  # the new round has only tried a1 so far
    assert (fourth.agent_id, fourth.reason.new_round) == ("a2", False)
    await h.clock.settle()
    assert h.service.snapshot().view("a1").no_answer_count == 0


async def test_completed_wraps_up_then_available_exactly_after_wrapup(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    offer = await h.offer(ticket)
    ticket.answered(offer)
    await h.clock.advance(30)
    ticket.completed(offer)
    await h.clock.settle()
    view = h.service.snapshot().view("a1")
    assert (view.state, view.wrapup_until, view.idle_since, view.calls_taken) == (
        AgentState.WRAP_UP, 135.0, 130.0, 1)
    waiting = h.service.enqueue("c2", "sales")
    assert (await h.offer(waiting)).agent_id == "a2"
    later = h.service.enqueue("c3", "sales")
    await h.clock.advance(4.75)
    assert h.state("a1") is AgentState.WRAP_UP
    assert await h.poll(later) is None
    await h.clock.advance(0.25)
    offer3 = await h.poll(later)
    assert offer3 is not None and offer3.agent_id == "a1"
    assert h.service.snapshot().at == 135.0


async def test_wrapup_timer_makes_agent_available_without_other_events(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    offer = await h.offer(ticket)
    ticket.answered(offer)
    ticket.completed(offer)
    await h.clock.advance(5)
    view = h.service.snapshot().view("a1")
    assert (view.state, view.wrapup_until, view.idle_since) == (AgentState.AVAILABLE, None, 100)


async def test_leave_while_waiting(h: Harness) -> None:
    h.service.set_status("a1", AgentStatus.ON_BREAK)
    h.service.set_status("a2", AgentStatus.ON_BREAK)
    ticket = h.service.enqueue("c1", "sales")
    waiter = asyncio.create_task(ticket.next_offer())
    await h.clock.settle()
    ticket.leave("abandoned")
    with pytest.raises(TicketClosed, match="abandoned"):
        await waiter
    h.service.set_status("a1", AgentStatus.AVAILABLE)
    await h.clock.settle()
    assert h.service.snapshot().calls == ()
    assert h.state("a1") is AgentState.AVAILABLE
    with pytest.raises(TicketClosed):
        await ticket.next_offer()


async def test_leave_with_offer_outstanding_frees_the_agent(h: Harness) -> None:
    h.service.set_status("a2", AgentStatus.LOGGED_OUT)
    first = h.service.enqueue("c1", "sales")
    second = h.service.enqueue("c2", "sales")
    offer = await h.offer(first)
    assert await h.poll(second) is None
    first.leave("abandoned")
    first.declined(offer, "failed")  # the engine cancels the agent leg afterwards: ignored
    first.leave("abandoned")  # idempotent
    assert (await h.offer(second)).agent_id == "a1"
    assert h.service.snapshot().view("a1").no_answer_count == 0


async def test_cancelled_call_task_releases_its_agent(h: Harness) -> None:
    h.service.set_status("a2", AgentStatus.LOGGED_OUT)
    ringing = asyncio.Event()

    async def call_session() -> None:
        ticket = h.service.enqueue("c1", "sales")
        try:
            await ticket.next_offer()
            ringing.set()
            await asyncio.Event().wait()  # ringing the agent when the caller hangs up
        finally:
            ticket.leave("hangup")

    session = asyncio.create_task(call_session())
    await ringing.wait()
    session.cancel()
    await asyncio.gather(session, return_exceptions=True)
    assert (await h.offer(h.service.enqueue("c2", "sales"))).agent_id == "a1"


async def test_leave_during_the_call_starts_wrapup(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "sales")
    offer = await h.offer(ticket)
    ticket.answered(offer)
    await h.clock.advance(10)
    ticket.leave("caller hung up")
    ticket.completed(offer)  # late and duplicate: ignored
    await h.clock.settle()
    view = h.service.snapshot().view("a1")
    assert (view.state, view.wrapup_until) == (AgentState.WRAP_UP, 115.0)


async def test_unreachable_agent_skipped_until_reachable(h: Harness) -> None:
    h.service.set_reachable("a1", False)
    h.service.set_status("a2", AgentStatus.ON_BREAK)
    ticket = h.service.enqueue("c1", "sales")
    assert await h.poll(ticket) is None
    assert h.state("a1") is AgentState.UNREACHABLE
    h.service.set_reachable("a1", True)
    assert (await h.offer(ticket)).agent_id == "a1"


async def test_max_wait_without_agent_raises_wait_timeout(h: Harness) -> None:
    h.service.set_status("a2", AgentStatus.ON_BREAK)
    ticket = h.service.enqueue("c1", "support")
    await h.clock.advance(59.5)
    assert await h.poll(ticket) is None
    await h.clock.advance(0.5)
    with pytest.raises(WaitTimeout):
        await ticket.next_offer()
    assert h.service.snapshot().calls == ()


async def test_max_wait_while_ringing_waits_for_the_outcome(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "support")
    offer = await h.offer(ticket)
    await h.clock.advance(60)
    assert h.service.snapshot().calls[0].offer == offer
    ticket.declined(offer, "no_answer")
    with pytest.raises(WaitTimeout):
        await h.offer(ticket)
    assert h.state("a2") is AgentState.AVAILABLE


async def test_answered_call_is_not_timed_out(h: Harness) -> None:
    ticket = h.service.enqueue("c1", "support")
    offer = await h.offer(ticket)
    ticket.answered(offer)
    await h.clock.settle()
    assert h.clock.sleepers == 0  # the max-wait timer is cancelled once connected
    await h.clock.advance(120)
    assert h.state("a2") is AgentState.ON_CALL
    ticket.completed(offer)  # support has no wrap-up
    await h.clock.settle()
    assert h.state("a2") is AgentState.AVAILABLE
    assert h.clock.sleepers == 0


async def test_duplicate_call_id_closes_the_second_ticket(h: Harness) -> None:
    first = h.service.enqueue("c1", "sales")
    second = h.service.enqueue("c1", "sales")
    with pytest.raises(TicketClosed, match="already queued"):
        await h.offer(second)
    offer = await h.offer(first)
    second.leave()  # must not remove the first ticket's call
    await h.clock.settle()
    assert [c.offer for c in h.service.snapshot().calls] == [offer]
    assert h.state("a1") is AgentState.OFFERED


async def test_unknown_ids_and_foreign_offers_are_rejected(h: Harness) -> None:
    with pytest.raises(UnknownQueue):
        h.service.enqueue("c1", "nope")
    with pytest.raises(UnknownAgent):
        h.service.set_reachable("zz", True)
    offer = await h.offer(h.service.enqueue("c1", "sales"))
    other = h.service.enqueue("c2", "sales")
    with pytest.raises(ValueError, match="not for call"):
        other.answered(offer)
    with pytest.raises(ValueError, match="decline reason"):
        h.service.enqueue("c3", "sales").declined(offer, "bored")  # type: ignore[arg-type]


def test_invalid_configuration_is_rejected() -> None:
    clock = SimulatedClock()
    with pytest.raises(ValueError, match="unknown queues"):
        QueueService(QUEUES, [AgentConfig("a", "A", "PJSIP/a", ("x",))], clock)
    with pytest.raises(ValueError, match="unknown strategy"):
        QueueService([QueueConfig("q", "Q", strategy="random")], [], clock)
    with pytest.raises(ValueError, match="unique"):
        QueueService(QUEUES, [AGENTS[0], AGENTS[0]], clock)


async def test_cancelled_run_leaves_no_tasks_and_closes_tickets() -> None:
    before = asyncio.all_tasks()
    h = Harness()
    actor = asyncio.create_task(h.service.run())
    busy = h.service.enqueue("c1", "sales")
    offer = await h.offer(busy)
    busy.answered(offer)
    busy.completed(offer)  # a1 wrap-up timer pending
    waiting = h.service.enqueue("c2", "support")  # max-wait timer pending
    h.service.set_status("a2", AgentStatus.ON_BREAK)
    await h.clock.settle()
    assert h.clock.sleepers == 2
    actor.cancel()
    with pytest.raises(asyncio.CancelledError):
        await actor
    assert asyncio.all_tasks() == before
    assert h.clock.sleepers == 0
    with pytest.raises(ServiceStopped):
        await waiting.next_offer()
    with pytest.raises(ServiceStopped):
        h.service.enqueue("c3", "sales")
    with pytest.raises(RuntimeError):
        await h.service.run()


async def test_simulated_clock_wakes_sleepers_in_deadline_order_at_their_time() -> None:
    clock = SimulatedClock(10.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, t: float) -> None:
        await clock.sleep_until(t)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, t))
             for n, t in (("late", 13.0), ("first", 11.0), ("tie-a", 12.0), ("tie-b", 12.0),
                          ("past", 9.0), ("beyond", 20.0))]
    await clock.advance(3)
    assert woke == [("past", 10.0), ("first", 11.0), ("tie-a", 12.0), ("tie-b", 12.0),
                    ("late", 13.0)]
    assert (clock.now(), clock.sleepers) == (13.0, 1)
    tasks[-1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert clock.sleepers == 0


async def test_service_on_the_monotonic_clock() -> None:
    clock = MonotonicClock()
    queue = QueueConfig("q", "Q", wrapup_s=0.02)
    service = QueueService([queue], [AgentConfig("a", "A", "PJSIP/a", ("q",))], clock)
    actor = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(2):
            first = service.enqueue("c1", "q")
            offer = await first.next_offer()
            first.answered(offer)
            first.completed(offer)
            ended = clock.now()
            second = service.enqueue("c2", "q")
            assert (await second.next_offer()).agent_id == "a"
            assert clock.now() >= ended + 0.02
    finally:
        actor.cancel()
        await asyncio.gather(actor, return_exceptions=True)
