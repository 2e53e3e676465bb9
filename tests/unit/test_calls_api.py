"""The calls' HTTP routes (ari_app/calls/api.py) behind the service's middlewares: stored calls
on SQLite, live calls from an in-memory LiveCalls, routing from a real QueueService."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.api import CallApiDeps, add_call_routes
from ari_app.calls.conversation import TransferRequest
from ari_app.calls.hub import EventHub
from ari_app.calls.record import CallRecord
from ari_app.calls.registry import LiveJourney, MuteOutcome, TransferOutcome
from ari_app.db.database import Database
from ari_app.web.app import assemble
from ivr.journey import JourneyEvent, JourneyType
from kernel.http.auth import ApiToken, Role, TokenTable
from recordings.model import RecordingMeta, SurveyAnswer
from routing.actor import QueueService
from routing.clock import SimulatedClock
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement

TOKEN = {role: f"{role.value}-token-0000000001" for role in Role}
# One token per role, named after it; the agent's is agent "agent" (its actor), others unscoped.
TOKENS = TokenTable(ApiToken.model_validate({"token": token, "actor": role.value, "role": role})
                    for role, token in TOKEN.items())  # fmt: skip
AGENT_ID = "agent"
CONFIG = RoutingConfig(
    skills=(Skill("claims", "Claims"),),
    agents=(Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),),
    queues=(Queue("claims", "Claims", (SkillRequirement("claims"),)),),
)
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def auth(role: Role | None) -> dict[str, str]:
    return {} if role is None else {"Authorization": f"Bearer {TOKEN[role]}"}


def record(call_id: str, caller: str = "+15550100", correlation: str | None = None,
           agent_id: str | None = None) -> CallRecord:  # fmt: skip
    return CallRecord(call_id=call_id, channel_id=f"chan-{call_id}", caller_number=caller,
                      correlation_id=correlation, started_at=T0, queue_id="claims",
                      agent_id=agent_id)  # fmt: skip


def event(call_id: str, kind: JourneyType, t: float = 0.0, **details: object) -> JourneyEvent:
    return JourneyEvent(call_id, kind, t, T0, details)


@dataclass
class FakeLiveCalls:
    """LiveCalls in memory: journeys by call id; which calls have an agent talking (and are
    recorded), which recordings are muted."""

    journeys: dict[str, LiveJourney] = field(default_factory=dict)
    talking: set[str] = field(default_factory=set)
    transfers: list[tuple[str, TransferRequest]] = field(default_factory=list)
    muted: set[str] = field(default_factory=set)

    def count(self) -> int:
        return len(self.journeys)

    def journey(self, call_id: str) -> LiveJourney | None:
        return self.journeys.get(call_id)

    def request_transfer(self, call_id: str, request: TransferRequest) -> TransferOutcome:
        if call_id not in self.journeys:
            return TransferOutcome.NO_SUCH_CALL
        if call_id not in self.talking:
            return TransferOutcome.NOT_TALKING
        self.transfers.append((call_id, request))
        return TransferOutcome.ACCEPTED

    async def mute(self, call_id: str, by: str, reason: str) -> MuteOutcome:
        return self._set_muted(call_id, True)

    async def unmute(self, call_id: str, by: str) -> MuteOutcome:
        return self._set_muted(call_id, False)

    def _set_muted(self, call_id: str, muted: bool) -> MuteOutcome:
        if call_id not in self.journeys:
            return MuteOutcome.NO_SUCH_CALL
        if call_id not in self.talking:
            return MuteOutcome.NOT_RECORDING
        (self.muted.add if muted else self.muted.discard)(call_id)
        return MuteOutcome.MUTED if muted else MuteOutcome.UNMUTED


class WatchedHub(EventHub):
    """An EventHub that says when someone subscribed, so a test publishes only afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribed = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[JourneyEvent]]:
        with super().subscribe() as queue:
            self.subscribed.set()
            yield queue


@dataclass
class Calls:
    client: TestClient[web.Request, web.Application]
    db: Database
    live: FakeLiveCalls
    hub: WatchedHub
    queues: QueueService
    clock: SimulatedClock

    async def get(self, path: str, role: Role | None = Role.ADMIN) -> tuple[int, Any]:
        async with self.client.get(path, headers=auth(role)) as resp:
            return resp.status, await resp.json()

    async def transfer(self, call_id: str, body: Any = None, *, raw: bytes | None = None,
                       role: Role | None = Role.AGENT) -> tuple[int, Any]:  # fmt: skip
        async with self.client.post(f"/v1/calls/{call_id}/transfer", json=body, data=raw,
                                    headers=auth(role)) as resp:  # fmt: skip
            return resp.status, await resp.json()


@pytest.fixture
async def calls(database: Database) -> AsyncIterator[Calls]:
    clock = SimulatedClock(100.0)
    queues = QueueService(CONFIG, clock, start_logged_in=False)
    actor = asyncio.create_task(queues.run())
    live, hub = FakeLiveCalls(), WatchedHub()
    deps = CallApiDeps(db=database, hub=hub, live=live, queues=queues,
                       is_vip=lambda number: number == "+1999")  # fmt: skip
    app = assemble(TOKENS, [lambda app: add_call_routes(app, deps)])
    async with TestClient(TestServer(app)) as client:
        yield Calls(client, database, live, hub, queues, clock)
    actor.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await actor


def problems(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body["problems"]}


async def store_call(db: Database, call_id: str, *events: JourneyEvent,
                     started: datetime = T0) -> None:  # fmt: skip
    await db.calls.start(replace(record(call_id), started_at=started))
    await db.calls.append_events(list(events))


# --- stored calls ----------------------------------------------------------------------------


async def test_recent_calls_newest_first_and_the_limit_is_checked(calls: Calls) -> None:
    for i in range(3):
        await store_call(calls.db, f"c{i}", started=T0.replace(minute=i))
    status, body = await calls.get("/v1/calls")
    assert (status, [c["call_id"] for c in body]) == (200, ["c2", "c1", "c0"])
    assert body[0]["started_at"] == "2025-03-01T09:02:00+00:00"
    status, body = await calls.get("/v1/calls?limit=2")
    assert (status, len(body)) == (200, 2)
    for bad in ("0", "501", "many", "-1"):
        status, body = await calls.get(f"/v1/calls?limit={bad}")
        assert (status, body["error"]) == (400, "invalid")
        assert problems(body) == {"query.limit": "must be an integer from 1 to 500"}


async def test_one_call_with_its_journey_recordings_and_survey(calls: Calls) -> None:
    await store_call(calls.db, "c1", event("c1", JourneyType.CALL_START), menu("c1", "1"))
    await calls.db.recordings.add(RecordingMeta("r1", "c1", "claims", "alice", T0, 12.5, "wav",
                                                2048, "ab" * 32, "/spool/r1.wav"))  # fmt: skip
    await calls.db.surveys.add(SurveyAnswer("c1", "claims", "alice", 5, T0))
    status, body = await calls.get("/v1/calls/c1")
    assert status == 200
    assert body["call"]["call_id"] == "c1"
    assert [(e["type"], e["t"]) for e in body["journey"]] == [("call_start", 0), ("menu", 1.5)]
    assert body["journey"][1]["choice"] == "1"
    assert [r["recording_id"] for r in body["recordings"]] == ["r1"]
    assert "path" not in body["recordings"][0]  # no server path leaves the service
    assert body["recordings"][0]["audio"] == "/v1/recordings/r1/audio"
    assert body["survey"]["score"] == 5
    status, body = await calls.get("/v1/calls/nope")
    assert (status, body["error"], problems(body)) == (404, "not_found",
                                                       {"path.call_id": "no call nope"})


async def test_handoff_is_live_while_the_call_is_up_and_stored_afterwards(calls: Calls) -> None:
    await store_call(calls.db, "c1", menu("c1", "2"))
    status, body = await calls.get("/v1/calls/c1/handoff")
    assert (status, body["menu_path"], body["vip"]) == (200, ["main=2"], False)
    # While live, the journey so far comes from the call itself, not from the database.
    note = {"agent": "alice", "queue": "claims", "min_tier": 2, "notes": "wants a refund",
            "by": "api"}  # fmt: skip
    calls.live.journeys["c1"] = LiveJourney(record("c1", "+1999"), (
        menu("c1", "3"), event("c1", JourneyType.TRANSFER, 9, **note)))
    status, body = await calls.get("/v1/calls/c1/handoff")
    assert (status, body["menu_path"], body["vip"], body["notes"]) == (200, ["main=3"], True,
                                                                       [note])  # fmt: skip
    calls.live.journeys["live-only"] = LiveJourney(record("live-only"), ())
    assert (await calls.get("/v1/calls/live-only/handoff"))[0] == 200
    status, body = await calls.get("/v1/calls/gone/handoff")
    assert (status, problems(body)) == (404, {"path.call_id": "no call gone"})


def menu(call_id: str, choice: str) -> JourneyEvent:
    return event(call_id, JourneyType.MENU, 1.5, node="main", choice=choice, target="claims")


# --- live events --------------------------------------------------------------------------


async def received(ws: Any, count: int) -> list[dict[str, Any]]:
    got = []
    async with asyncio.timeout(2):
        while len(got) < count:
            msg = await ws.receive()
            assert msg.type is WSMsgType.TEXT, msg
            got.append(msg.json())
    return got


@pytest.mark.parametrize(("query", "wanted"), [
    ("", ["a", "b", "c", "a", "b"]),
    ("?call_id=b", ["b", "b"]),
    ("?correlation_id=corr-c", ["c"]),
])  # fmt: skip
async def test_events_stream_every_call_or_the_one_asked_for(
    calls: Calls, query: str, wanted: list[str]
) -> None:
    async with calls.client.ws_connect(f"/v1/events{query}", headers=auth(Role.ADMIN)) as ws:
        async with asyncio.timeout(2):
            await calls.hub.subscribed.wait()
        for call_id in ("a", "b", "c"):
            calls.hub.publish(event(call_id, JourneyType.CALL_START,
                                    correlation_id=f"corr-{call_id}"))  # fmt: skip
        for call_id in ("a", "b"):
            calls.hub.publish(event(call_id, JourneyType.MENU, 2.0, node="main", choice="1"))
        calls.hub.publish(event("end", JourneyType.HANGUP))  # a marker: nothing after it
        got = await received(ws, len(wanted) + (1 if not query else 0))
        if not query:
            assert got.pop()["call_id"] == "end"
        assert [e["call_id"] for e in got] == wanted
        assert got[0]["type"] == "call_start"
        await ws.close()


async def test_events_by_correlation_follow_the_call_that_started_with_it(calls: Calls) -> None:
    async with calls.client.ws_connect("/v1/events?correlation_id=x-1",
                                       headers=auth(Role.SUPERVISOR)) as ws:
        async with asyncio.timeout(2):
            await calls.hub.subscribed.wait()
        calls.hub.publish(event("c9", JourneyType.MENU))  # before its start: not yet known
        calls.hub.publish(event("c9", JourneyType.CALL_START, correlation_id="x-1"))
        calls.hub.publish(event("other", JourneyType.CALL_START, correlation_id="x-2"))
        calls.hub.publish(event("c9", JourneyType.HANGUP, 30.0))
        got = await received(ws, 2)
        assert [(e["call_id"], e["type"]) for e in got] == [("c9", "call_start"), ("c9", "hangup")]


# --- transfer ------------------------------------------------------------------------------


async def test_a_transfer_is_accepted_for_a_call_talking_to_an_agent(calls: Calls) -> None:
    calls.live.journeys["c1"] = LiveJourney(record("c1", agent_id=AGENT_ID), ())
    calls.live.talking.add("c1")
    status, body = await calls.transfer("c1", {"queue_id": "claims", "min_tier": 2,
                                               "notes": "needs a specialist"})  # fmt: skip
    assert (status, body) == (202, {"call_id": "c1", "status": "transferring"})
    status, _ = await calls.transfer("c1", {}, role=Role.SUPERVISOR)
    assert status == 202
    # The journey's transfer names who asked: the agent's and the supervisor's actors.
    assert calls.live.transfers == [
        ("c1", TransferRequest("claims", 2, "needs a specialist", by="agent")),
        ("c1", TransferRequest(by="supervisor"))]


async def test_a_transfer_refused_says_why(calls: Calls) -> None:
    calls.live.journeys["waiting"] = LiveJourney(record("waiting", agent_id=AGENT_ID), ())
    status, body = await calls.transfer("waiting", {"min_tier": 2})
    assert (status, body["error"]) == (409, "not_talking")
    status, body = await calls.transfer("ended", {"min_tier": 2})
    assert (status, body["error"], problems(body)) == (404, "not_found",
                                                       {"path.call_id": "no live call ended"})
    status, body = await calls.transfer("waiting", {"queue_id": "sales"})
    assert (status, body["error"], problems(body)) == (422, "unknown_queue",
                                                       {"body.queue_id": "no queue sales"})
    assert calls.live.transfers == []


@pytest.mark.parametrize(("body", "raw", "fields"), [
    ({"min_tier": 0}, None, {"body.min_tier"}),
    ({"min_tier": "high", "notes": 5}, None, {"body.min_tier", "body.notes"}),
    ({"queue_id": "", "colour": "red"}, None, {"body.queue_id", "body.colour"}),
    ({"notes": "x" * 2001}, None, {"body.notes"}),
    (["claims"], None, {"body"}),
    (None, b"{not json", {"body"}),
    (None, b"", {"body"}),
])  # fmt: skip
async def test_a_bad_transfer_body_is_400_naming_each_field(
    calls: Calls, body: Any, raw: bytes | None, fields: set[str]
) -> None:
    calls.live.journeys["c1"] = LiveJourney(record("c1", agent_id=AGENT_ID), ())
    calls.live.talking.add("c1")
    status, reply = await calls.transfer("c1", body, raw=raw)
    assert (status, reply["error"]) == (400, "invalid"), reply
    assert set(problems(reply)) == fields
    assert calls.live.transfers == []


async def test_only_agents_and_supervisors_may_transfer(calls: Calls) -> None:
    for role, expected in ((None, 401), (Role.QA, 403), (Role.ADMIN, 403), (Role.AUDITOR, 403)):
        status, body = await calls.transfer("c1", {}, role=role)
        assert (status, body["error"]) == (expected, "unauthorized" if expected == 401
                                           else "forbidden")  # fmt: skip


# --- decisions ----------------------------------------------------------------------------


async def test_decisions_explain_a_waiting_call_and_list_its_offers(calls: Calls) -> None:
    calls.queues.enqueue("c1", "claims")
    await calls.clock.settle()
    calls.live.journeys["c1"] = LiveJourney(record("c1"), (
        event("c1", JourneyType.QUEUE_JOIN, 3, queue="claims"),
        event("c1", JourneyType.AGENT_OFFER, 4, agent="alice", reason="longest idle")))
    for role in (Role.SUPERVISOR, Role.ADMIN):
        status, body = await calls.get("/v1/calls/c1/decisions", role)
        assert (status, body["call_id"]) == (200, "c1")
        assert body["offers"] == [{"agent": "alice", "reason": "longest idle"}]
        [decision] = body["decisions"]
        assert (decision["queue"], decision["chosen"]) == ("claims", [])
        assert decision["others"] == [{"agent": "alice", "why": "not logged in", "until": None,
                                       "detail": ""}]  # fmt: skip
    status, body = await calls.get("/v1/calls/unknown/decisions", Role.SUPERVISOR)
    assert (status, body["decisions"], body["offers"]) == (200, [], [])
    # An agent: the calls offered to them only (alice's offer is not the agent's).
    assert (await calls.get("/v1/calls/c1/decisions", Role.AGENT))[0] == 404
    assert (await calls.get("/v1/calls/c1/decisions", Role.QA))[0] == 403
    assert (await calls.get("/v1/calls/c1/decisions", None))[0] == 401
