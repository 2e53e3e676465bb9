"""The wallboard: presences from the routing core's agent views, the per-queue board from a
real router's snapshot on a simulated clock, time in presence, scoping; its routes (JSON and
the pushed stream) and today's figures from stored calls, kept when a count fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.db.database import Database
from ari_app.reports.service import KpiReports
from ari_app.reports.store import ReportStore
from ari_app.wallboard.api import WallboardDeps, add_wallboard_routes
from ari_app.wallboard.today import TodayFigures
from ari_app.web.app import assemble
from ivr.journey import JourneyEvent, JourneyType
from kernel.http.auth import ApiToken, TokenTable
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement
from routing.model import AgentState, AgentStatus, AgentView, RoutingSnapshot
from routing.router import Router
from routing.wallboard import Presence, PresenceClock, Today, build_board, presence

CONFIG = RoutingConfig(
    skills=(Skill("claims", "Claims"), Skill("billing", "Billing")),
    agents=(
        Agent("alice", "Alice", "PJSIP/1001", tier=1, skills=(AgentSkill("claims", 3),)),
        Agent("bob", "Bob", "PJSIP/1002", tier=2, skills=(AgentSkill("claims", 3),)),
        Agent("carol", "Carol", "PJSIP/1003", tier=1, skills=(AgentSkill("billing", 3),)),
    ),
    queues=(Queue("claims", "Claims", required_skills=(SkillRequirement("claims"),)),
            Queue("billing", "Billing", required_skills=(SkillRequirement("billing"),))),
)  # fmt: skip


# --- presence ---------------------------------------------------------------------------


@pytest.mark.parametrize(("view", "now", "expected"), [
    (AgentView("a", status=AgentStatus.LOGGED_OUT), 0, Presence.LOGGED_OUT),
    (AgentView("a", status=AgentStatus.LOGGED_OUT, state=AgentState.ON_CALL), 0,
     Presence.LOGGED_OUT),
    (AgentView("a", state=AgentState.ON_CALL, status=AgentStatus.PAUSED), 0, Presence.ON_CALL),
    (AgentView("a", state=AgentState.OFFERED), 0, Presence.RINGING),
    (AgentView("a", state=AgentState.WRAP_UP, wrapup_until=10), 9.9, Presence.WRAP_UP),
    (AgentView("a", state=AgentState.WRAP_UP, wrapup_until=10), 10, Presence.IDLE),
    (AgentView("a", state=AgentState.WRAP_UP, wrapup_until=10, status=AgentStatus.PAUSED), 11,
     Presence.PAUSED),
    (AgentView("a", status=AgentStatus.PAUSED, reachable=False), 0, Presence.PAUSED),
    (AgentView("a", reachable=False), 0, Presence.UNREACHABLE),
    (AgentView("a"), 0, Presence.IDLE),
])  # fmt: skip
def test_presence(view: AgentView, now: float, expected: Presence) -> None:
    assert presence(view, now) is expected


def test_time_in_presence_counts_from_its_first_sighting() -> None:
    clock = PresenceClock()
    assert clock.since("a", Presence.IDLE, 100) == 100
    assert clock.since("a", Presence.IDLE, 130) == 100
    assert clock.since("a", Presence.ON_CALL, 131) == 131
    assert clock.since("a", Presence.IDLE, 140) == 140
    clock.forget_others(["b"])
    assert clock.since("a", Presence.IDLE, 150) == 150


# --- the board from a router's snapshot ---------------------------------------------------


def floor() -> Router:
    """At t=40: alice rings for c1 (joined at 10), c2 waits in claims since 30, bob is paused
    for coaching, carol is logged out."""
    router = Router(CONFIG, now=0)
    router.agent_command("bob", "pause", "coaching", 0)
    router.agent_command("carol", "logout", None, 0)
    router.enqueue("c1", "claims", "+1555", 0, None, 10)
    router.enqueue("c2", "claims", "+1666", 0, None, 30)
    router.advance(40)
    return router


def test_each_queue_shows_its_waiting_calls_longest_wait_and_agents() -> None:
    board = build_board(floor().snapshot(), {"claims": Today(12, 3)}, PresenceClock(), 500)
    claims, billing = board.queues
    assert (claims.queue_id, claims.waiting, claims.ringing, claims.longest_wait_s) == (
        "claims", 2, 1, 30)
    assert (claims.answered_today, claims.abandoned_today, claims.service_level) == (12, 3, None)
    assert claims.agents == {"ringing": 1, "paused": 1}
    assert claims.tiers == {1: {"ringing": 1}, 2: {"paused": 1}}
    assert (billing.waiting, billing.longest_wait_s, billing.agents) == (0, None, {"logged_out": 1})
    assert (billing.answered_today, billing.abandoned_today) == (0, 0)  # no report row yet
    rows = {a.agent_id: a for a in board.agents}
    assert (rows["alice"].presence, rows["alice"].call_id) == (Presence.RINGING, "c1")
    assert (rows["bob"].presence, rows["bob"].pause_reason) == (Presence.PAUSED, "coaching")
    assert rows["carol"].queues == ("billing",)


def test_an_answered_call_no_longer_waits() -> None:
    router = floor()
    offer = router.snapshot().calls[0].offers[0]
    router.answered("c1", offer.offer_id, 45)
    board = build_board(router.snapshot(), {}, PresenceClock(), 0)
    claims = board.queues[0]
    assert (claims.waiting, claims.ringing, claims.longest_wait_s) == (1, 0, 15)
    assert {a.agent_id: a.presence for a in board.agents}["alice"] is Presence.ON_CALL


def test_time_in_presence_runs_on_the_wall_clock_across_frames() -> None:
    router, clock = floor(), PresenceClock()
    build_board(router.snapshot(), {}, clock, 1000)
    board = build_board(router.snapshot(), {}, clock, 1012.5)
    assert {a.agent_id: a.in_presence_s for a in board.agents} == {
        "alice": 12.5, "bob": 12.5, "carol": 12.5}
    router.agent_command("bob", "resume", None, 41)  # bob takes c2 at once: ringing now
    board = build_board(router.snapshot(), {}, clock, 1020)
    bob = {a.agent_id: a for a in board.agents}["bob"]
    assert (bob.presence, bob.in_presence_s, bob.pause_reason) == (Presence.RINGING, 0, None)


def test_a_scoped_board_shows_only_its_queues_and_their_agents() -> None:
    board = build_board(floor().snapshot(), {}, PresenceClock(), 0, queues={"billing"})
    assert [q.queue_id for q in board.queues] == ["billing"]
    assert [a.agent_id for a in board.agents] == ["carol"]
    assert build_board(floor().snapshot(), {}, PresenceClock(), 0, queues=set()).agents == ()


# --- the routes -------------------------------------------------------------------------

T0 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
TOKENS = TokenTable(ApiToken.model_validate(t) for t in (
    {"token": "supervisor-token-000001", "actor": "sup", "role": "supervisor"},
    {"token": "billing-only-token-0001", "actor": "sup-billing", "role": "supervisor",
     "queues": ["billing"]},
))  # fmt: skip
SUPERVISOR = {"Authorization": "Bearer supervisor-token-000001"}
BILLING_ONLY = {"Authorization": "Bearer billing-only-token-0001"}
J = JourneyType


class Snapshots:
    def __init__(self, router: Router) -> None:
        self.router = router

    def snapshot(self) -> RoutingSnapshot:
        return self.router.snapshot()


async def store_call(db: Database, call_id: str, start: datetime, outcome: CallOutcome,
                     events: list[tuple[JourneyType, float, dict[str, Any]]]) -> None:  # fmt: skip
    record = CallRecord(call_id, f"ch-{call_id}", "+1555", None, start)
    await db.calls.start(record)
    await db.calls.append_events([JourneyEvent(call_id, kind, t, start + timedelta(seconds=t),
                                               details) for kind, t, details in events])
    await db.calls.finish(replace(record, ended_at=start + timedelta(minutes=2), outcome=outcome))


@pytest.fixture
async def client(database: Database) -> AsyncIterator[TestClient[Any, Any]]:
    await store_call(database, "a1", T0 + timedelta(hours=9), CallOutcome.ANSWERED, [
        (J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.AGENT_ANSWER, 13, {"agent": "alice"}),
        (J.AGENT_HANGUP, 60, {"agent": "alice"}), (J.HANGUP, 61, {})])
    await store_call(database, "a2", T0 + timedelta(hours=9, minutes=5),
                     CallOutcome.ABANDONED_IN_QUEUE,
                     [(J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.HANGUP, 40, {})])
    await store_call(database, "y", T0 - timedelta(hours=2), CallOutcome.ANSWERED, [
        (J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.AGENT_ANSWER, 4, {"agent": "alice"}),
        (J.HANGUP, 20, {})])  # yesterday
    reports = KpiReports(ReportStore(database.units), lambda: CONFIG, lambda: T0)
    deps = WallboardDeps(Snapshots(floor()), TodayFigures(reports, day_start=lambda: T0),
                         period_s=0.05, max_streams=1)  # fmt: skip
    app = assemble(TOKENS, [lambda app: add_wallboard_routes(app, deps)])
    async with TestClient(TestServer(app)) as served:
        yield served


async def test_the_board_with_todays_figures(client: TestClient[Any, Any]) -> None:
    async with client.get("/v1/wallboard", headers=SUPERVISOR) as resp:
        assert resp.status == 200
        body = await resp.json()
    claims = body["queues"][0]
    assert (claims["waiting"], claims["answered_today"], claims["abandoned_today"]) == (2, 1, 1)
    sl = claims["service_level"]
    assert (sl["label"], sl["formula"], sl["shown"]) == (
        "SL(20 s, excl. short ≤ 5 s)", "A≤20 / (A + Ab − Ab≤5)", "50.0 %")
    assert body["today"]["as_of"] is not None and body["seq"] == 0
    assert {a["agent_id"]: a["presence"] for a in body["agents"]} == {
        "alice": "ringing", "bob": "paused", "carol": "logged_out"}


async def test_a_scoped_supervisor_sees_their_queues_only(client: TestClient[Any, Any]) -> None:
    async with client.get("/v1/wallboard", headers=BILLING_ONLY) as resp:
        body = await resp.json()
    assert [q["queue_id"] for q in body["queues"]] == ["billing"]
    assert [a["agent_id"] for a in body["agents"]] == ["carol"]


async def test_the_stream_pushes_numbered_frames(client: TestClient[Any, Any]) -> None:
    async with client.get("/v1/wallboard/stream", headers=SUPERVISOR) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        frames = await asyncio.wait_for(read_frames(resp.content, 3), timeout=10)
        # the cap is one stream: a second is refused while this one is open
        async with client.get("/v1/wallboard/stream", headers=SUPERVISOR) as second:
            assert (second.status, (await second.json())["error"]) == (503, "too_many_streams")
    assert [f["seq"] for f in frames] == [1, 2, 3]
    assert all(f["queues"][0]["waiting"] == 2 for f in frames)


async def read_frames(content: Any, count: int) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    event: dict[str, str] = {}
    while len(frames) < count:
        line = (await content.readline()).decode().rstrip("\n")
        if line:
            key, _, value = line.partition(": ")
            event[key] = value
            continue
        if event.get("event") == "board":
            assert event["id"] == str(len(frames) + 1)
            frames.append(json.loads(event["data"]))
        event = {}
    return frames


async def test_todays_figures_are_kept_when_a_count_fails(database: Database) -> None:
    class Failing(KpiReports):
        fail = False

        async def report(self, query: Any) -> Any:
            if self.fail:
                raise ConnectionError("database gone")
            return await super().report(query)

    await store_call(database, "a1", T0 + timedelta(hours=9), CallOutcome.ANSWERED, [
        (J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.AGENT_ANSWER, 4, {"agent": "alice"}),
        (J.HANGUP, 20, {})])
    reports, ticks = Failing(ReportStore(database.units), lambda: CONFIG, lambda: T0), [0.0]
    today = TodayFigures(reports, every_s=10, day_start=lambda: T0, monotonic=lambda: ticks[0])
    first = await today.figures()
    as_of = today.as_of
    assert first["claims"].answered == 1 and as_of is not None
    reports.fail, ticks[0] = True, 5.0
    assert await today.figures() is first  # not due: nothing asked
    ticks[0] = 10.0
    assert await today.figures() is first and today.as_of == as_of  # failed: the last ones kept
