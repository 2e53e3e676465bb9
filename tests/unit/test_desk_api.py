"""The agents' desk through the whole web app: an agent's own state and commands
(`/v1/me/agent…`, audited with the agent as the actor, the routing API's code), the disposition
codes, and dispositions (`POST /v1/calls/{id}/disposition`): who may give one, every bad input a
4xx naming its field, one per agent and call (a second replaces it), stored and shown with the
call, and ending the agent's wrap-up of that call early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.desk.model import DispositionCode, DispositionCodes
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.hub import EventHub
from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.routing_wiring import ActorAgentCommands
from ari_app.web.app import WebDeps, build_web_app
from ivr.journey import JourneyType
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement
from routing.model import AgentState
from tests.unit.test_access_scopes import TOKENS
from tests.unit.test_calls_api import T0, FakeLiveCalls, event, record
from tests.unit.test_web_assembly import apply_nothing

CONFIG = RoutingConfig(
    skills=(Skill("claims", "Claims"), Skill("billing", "Billing")),
    agents=(Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),
            Agent("bob", "Bob", "PJSIP/1002", 2, (AgentSkill("billing", 3),))),
    queues=(Queue("claims", "Claims", (SkillRequirement("claims"),), wrapup_s=30),
            Queue("billing", "Billing", (SkillRequirement("billing"),))),
)  # fmt: skip
CODES = DispositionCodes((DispositionCode("resolved", "Resolved", resolved=True),
                          DispositionCode("complaint", "Complaint", complaint=True,
                                          resolved=False)))  # fmt: skip


@dataclass
class Desk:
    client: TestClient[web.Request, web.Application]
    db: Database
    live: FakeLiveCalls
    queues: QueueService

    async def send(self, who: str | None, method: str, path: str, body: Any = None,
                   raw: bytes | None = None) -> tuple[int, Any]:  # fmt: skip
        headers = {} if who is None else {"Authorization": f"Bearer {who}-token-0123456789"}
        async with self.client.request(method, path, json=body, data=raw,
                                       headers=headers) as resp:  # fmt: skip
            return resp.status, await resp.json()

    async def dispose(self, who: str, call_id: str, body: Any) -> tuple[int, Any]:
        return await self.send(who, "POST", f"/v1/calls/{call_id}/disposition", body)

    async def stored_call(self, call_id: str, queue: str, agent: str | None) -> None:
        """A finished call of `queue`, answered by `agent`."""
        await self.db.calls.start(replace(record(call_id, agent_id=agent), queue_id=queue))
        journey = [event(call_id, JourneyType.QUEUE_JOIN, 1, queue=queue)]
        if agent is not None:
            journey += [event(call_id, JourneyType.AGENT_OFFER, 2, queue=queue, agent=agent),
                        event(call_id, JourneyType.AGENT_ANSWER, 3, queue=queue, agent=agent),
                        event(call_id, JourneyType.AGENT_HANGUP, 60, agent=agent)]
        await self.db.calls.append_events([*journey, event(call_id, JourneyType.HANGUP, 70)])


@pytest.fixture
async def desk(database: Database) -> AsyncIterator[Desk]:
    queues = QueueService(CONFIG, SimulatedClock(100.0))
    actor = asyncio.create_task(queues.run())
    live = FakeLiveCalls()
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=ActorAgentCommands(queues), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(db=database, hub=EventHub(), live=live, queues=queues,
                                routing=routing, tokens=TOKENS, ready=asyncio.Event(),
                                dispositions=CODES))  # fmt: skip
    try:
        async with TestClient(TestServer(app)) as client:
            yield Desk(client, database, live, queues)
    finally:
        actor.cancel()
        await asyncio.gather(actor, return_exceptions=True)


def fields(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body.get("problems", [])}


# --- an agent's own state ---------------------------------------------------------------


async def test_an_agent_reads_their_own_state(desk: Desk) -> None:
    status, body = await desk.send("alice", "GET", "/v1/me/agent")
    assert status == 200, body
    assert {k: body[k] for k in ("agent_id", "name", "tier", "status", "state", "pause_reason",
                                 "call_id", "wrapup_call_id", "wrapup_left_s")} == {
        "agent_id": "alice", "name": "Alice", "tier": 1, "status": "available",
        "state": "idle", "pause_reason": None, "call_id": None, "wrapup_call_id": None,
        "wrapup_left_s": None}  # fmt: skip
    assert body["queues"] == [{"queue_id": "claims", "name": "Claims"},
                              {"queue_id": "billing", "name": "Billing"}]


async def test_an_agent_pauses_resumes_logs_out_and_in_audited_as_themselves(desk: Desk) -> None:
    assert await desk.send("alice", "POST", "/v1/me/agent/pause", {"reason": "lunch"}) == (
        200, {"agent_id": "alice", "command": "pause", "reason": "lunch"})
    _, body = await desk.send("alice", "GET", "/v1/me/agent")
    assert (body["status"], body["pause_reason"]) == ("paused", "lunch")
    assert (await desk.send("alice", "POST", "/v1/me/agent/resume"))[0] == 200
    assert (await desk.send("alice", "POST", "/v1/me/agent/logout"))[0] == 200
    assert (await desk.send("alice", "GET", "/v1/me/agent"))[1]["status"] == "logged_out"
    assert (await desk.send("alice", "POST", "/v1/me/agent/login", {"reason": "shift"}))[0] == 200
    # Bob is untouched: nobody changes another agent's state here.
    assert desk.queues.snapshot().view("bob").status == "available"
    _, audit = await desk.send("sam", "GET", "/v1/routing/audit?path=agents/")
    assert [(a["actor"], a["role"], a["action"], a["path"], a["after"])
            for a in reversed(audit["items"])] == [
        ("alice", "agent", "pause", "agents/alice", {"reason": "lunch"}),
        ("alice", "agent", "resume", "agents/alice", {"reason": None}),
        ("alice", "agent", "logout", "agents/alice", {"reason": None}),
        ("alice", "agent", "login", "agents/alice", {"reason": "shift"})]  # fmt: skip


async def test_the_supervisors_route_runs_the_same_command_and_audit(desk: Desk) -> None:
    status, body = await desk.send("sam", "POST", "/v1/routing/agents/alice/pause",
                                   {"reason": "coaching"})
    assert (status, body) == (200, {"agent_id": "alice", "command": "pause",
                                    "reason": "coaching"})  # fmt: skip
    status, body = await desk.send("sam", "POST", "/v1/routing/agents/bob/resume")
    assert (status, body["error"], fields(body)) == (409, "conflict", {
        "path.agent_id": "agent bob is not paused (available)"})
    _, audit = await desk.send("sam", "GET", "/v1/routing/audit?path=agents/")
    assert [(a["actor"], a["action"]) for a in audit["items"]] == [("sam", "pause")]


async def test_bad_commands_are_named(desk: Desk) -> None:
    status, body = await desk.send("alice", "POST", "/v1/me/agent/pause")
    assert (status, fields(body)) == (400, {"body.reason": "Field required"})
    status, body = await desk.send("alice", "POST", "/v1/me/agent/pause", {"reason": ""})
    assert (status, list(fields(body))) == (400, ["body.reason"])
    status, body = await desk.send("alice", "POST", "/v1/me/agent/login", {"agent_id": "bob"})
    assert (status, list(fields(body))) == (400, ["body.agent_id"])  # no such field
    status, body = await desk.send("alice", "POST", "/v1/me/agent/pause", raw=b"{")
    assert (status, list(fields(body))) == (400, ["body"])
    status, body = await desk.send("alice", "POST", "/v1/me/agent/resume")
    assert (status, body["error"], fields(body)) == (409, "conflict", {
        "agent_id": "agent alice is not paused (available)"})
    _, audit = await desk.send("sam", "GET", "/v1/routing/audit?path=agents/")
    assert audit["items"] == []  # refused commands are not audited


async def test_an_agent_missing_from_the_routing_configuration_is_404(desk: Desk) -> None:
    for method, path in (("GET", "/v1/me/agent"), ("POST", "/v1/me/agent/login")):
        # Nobody but agents: a supervisor has no agent state of their own (403).
        assert (await desk.send("sam", method, path))[0] == 403
    config = replace(CONFIG, agents=CONFIG.agents[:1])  # bob removed
    await desk.queues.apply_config(config)
    status, body = await desk.send("bob", "GET", "/v1/me/agent")
    assert (status, list(fields(body))) == (404, ["agent_id"])
    assert (await desk.send("bob", "POST", "/v1/me/agent/login"))[0] == 404


# --- disposition codes and dispositions ---------------------------------------------------


async def test_the_codes_in_force_are_listed_in_order(desk: Desk) -> None:
    status, body = await desk.send("alice", "GET", "/v1/dispositions")
    assert (status, body) == (200, {"items": [
        {"code": "resolved", "label": "Resolved", "complaint": False, "resolved": True},
        {"code": "complaint", "label": "Complaint", "complaint": True, "resolved": False}]})


async def test_the_agent_who_answered_closes_a_finished_call(desk: Desk) -> None:
    await desk.stored_call("c1", "claims", "alice")
    status, body = await desk.dispose("alice", "c1", {"code": "complaint", "notes": "rude\tbot"})
    assert status == 201, body
    given = body["disposition"]
    assert (body["replaced"], body["wrapup_ended"]) == (False, False)
    assert {k: given[k] for k in ("call_id", "agent_id", "code", "complaint", "resolved",
                                  "notes", "by", "role", "wrapup_ended_at")} == {
        "call_id": "c1", "agent_id": "alice", "code": "complaint", "complaint": True,
        "resolved": False, "notes": "rude\tbot", "by": "alice", "role": "agent",
        "wrapup_ended_at": None}  # fmt: skip
    status, body = await desk.dispose("alice", "c1", {"code": "resolved"})
    assert (status, body["replaced"], body["disposition"]["code"]) == (200, True, "resolved")
    assert body["disposition"]["created_at"] == given["created_at"]  # the first's, kept
    status, call = await desk.send("alice", "GET", "/v1/calls/c1")
    assert status == 200
    assert [(d["agent_id"], d["code"], d["notes"]) for d in call["dispositions"]] == [
        ("alice", "resolved", "")]
    (stored,) = await DispositionStore(desk.db.units).for_call("c1")
    assert (stored.code, stored.complaint, stored.resolved) == ("resolved", False, True)


async def test_a_live_call_is_closed_while_it_is_up(desk: Desk) -> None:
    await desk.db.calls.start(record("c2", agent_id="alice"))
    desk.live.journeys["c2"] = LiveJourney(record("c2", agent_id="alice"), (
        event("c2", JourneyType.AGENT_ANSWER, 3, queue="claims", agent="alice"),))
    status, body = await desk.dispose("alice", "c2", {"code": "resolved"})
    assert (status, body["disposition"]["agent_id"]) == (201, "alice")


async def test_bad_bodies_are_400_naming_each_field(desk: Desk) -> None:
    await desk.stored_call("c1", "claims", "alice")
    cases: list[tuple[Any, set[str]]] = [
        ({}, {"body.code"}),
        ({"code": ""}, {"body.code"}),
        ({"code": "resolved", "notes": "x" * 2001}, {"body.notes"}),
        ({"code": "resolved", "notes": "bell\x07"}, {"body.notes"}),
        ({"code": "resolved", "extra": 1}, {"body.extra"}),
        ({"code": 5, "agent_id": "no spaces"}, {"body.code", "body.agent_id"}),
        ([], {"body"}),
    ]
    for sent, named in cases:
        status, body = await desk.dispose("alice", "c1", sent)
        assert (status, set(fields(body))) == (400, named), sent
    status, body = await desk.send("alice", "POST", "/v1/calls/c1/disposition", raw=b"nope")
    assert (status, set(fields(body))) == (400, {"body"})
    status, body = await desk.dispose("alice", "c1", {"code": "happy"})
    assert (status, body["error"], fields(body)) == (422, "unknown_code", {
        "body.code": "must be one of resolved, complaint"})
    assert await DispositionStore(desk.db.units).for_call("c1") == []


async def test_an_agent_closes_only_calls_they_answered(desk: Desk) -> None:
    await desk.stored_call("bobs", "billing", "bob")
    status, body = await desk.dispose("alice", "bobs", {"code": "resolved"})
    assert (status, fields(body)) == (404, {"path.call_id": "no call bobs"})
    status, body = await desk.dispose("alice", "nowhere", {"code": "resolved"})
    assert (status, fields(body)) == (404, {"path.call_id": "no call nowhere"})
    # Ringing for alice now, not answered by her: she sees it, but may not close it.
    desk.live.journeys["ringing"] = LiveJourney(record("ringing"), (
        event("ringing", JourneyType.AGENT_OFFER, 1, queue="claims", agent="alice"),))
    await desk.db.calls.start(record("ringing"))
    status, body = await desk.dispose("alice", "ringing", {"code": "resolved"})
    assert (status, body["error"]) == (403, "not_your_call")
    await desk.stored_call("c1", "claims", "alice")
    status, body = await desk.dispose("alice", "c1", {"code": "resolved", "agent_id": "bob"})
    assert (status, body["error"]) == (403, "not_your_call")  # for themselves only


async def test_a_supervisor_closes_their_queues_calls_for_the_agent(desk: Desk) -> None:
    await desk.stored_call("c1", "claims", "alice")
    await desk.stored_call("bobs", "billing", "bob")
    status, body = await desk.dispose("sue", "bobs", {"code": "resolved"})  # sue: claims only
    assert (status, fields(body)) == (404, {"path.call_id": "no call bobs"})
    status, body = await desk.dispose("sue", "c1", {"code": "complaint", "notes": "escalated"})
    assert status == 201, body
    assert (body["disposition"]["agent_id"], body["disposition"]["by"],
            body["disposition"]["role"], body["wrapup_ended"]) == ("alice", "sue", "supervisor",
                                                                   False)  # fmt: skip
    status, body = await desk.dispose("sam", "bobs", {"code": "resolved", "agent_id": "alice"})
    assert (status, body["error"], list(fields(body))) == (422, "not_answered",
                                                           ["body.agent_id"])  # fmt: skip
    await desk.stored_call("lost", "claims", None)
    status, body = await desk.dispose("ada", "lost", {"code": "resolved"})
    assert (status, body["error"], list(fields(body))) == (409, "not_answered",
                                                           ["body.agent_id"])  # fmt: skip
    status, body = await desk.dispose("quinn", "c1", {"code": "resolved"})
    assert (status, body["error"]) == (403, "forbidden")  # QA reads, does not close calls


async def test_the_agents_disposition_ends_their_wrapup_of_that_call(desk: Desk) -> None:
    ticket = desk.queues.enqueue("c1", "claims")
    (offer,) = await ticket.next_offers()
    ticket.answered(offer)
    ticket.completed(offer)
    await desk.stored_call("c1", "claims", "alice")
    _, me = await desk.send("alice", "GET", "/v1/me/agent")
    assert (me["state"], me["wrapup_call_id"], me["wrapup_left_s"]) == ("wrap_up", "c1", 30.0)
    # A supervisor's disposition leaves the agent's wrap-up alone.
    status, body = await desk.dispose("sam", "c1", {"code": "resolved"})
    assert (status, body["wrapup_ended"]) == (201, False)
    assert desk.queues.snapshot().view("alice").state is AgentState.WRAP_UP
    # Alice's own replaces the one sam gave for her (one per agent and call), and ends it.
    status, body = await desk.dispose("alice", "c1", {"code": "resolved", "notes": "done"})
    assert (status, body["replaced"], body["wrapup_ended"]) == (200, True, True)
    ended = body["disposition"]["wrapup_ended_at"]
    assert ended is not None
    _, me = await desk.send("alice", "GET", "/v1/me/agent")
    assert (me["state"], me["wrapup_call_id"]) == ("idle", None)
    # Again, once ready: replaced, the recorded end of the wrap-up stays.
    status, body = await desk.dispose("alice", "c1", {"code": "complaint"})
    assert (status, body["replaced"], body["wrapup_ended"]) == (200, True, False)
    assert body["disposition"]["wrapup_ended_at"] == ended


async def test_a_disposition_counts_in_the_kpi_report(desk: Desk) -> None:
    await desk.stored_call("c1", "claims", "alice")
    await desk.dispose("alice", "c1", {"code": "complaint"})
    hour = timedelta(hours=1)
    span = f"from={(T0 - hour).isoformat()}&to={(T0 + hour).isoformat()}".replace("+", "%2B")
    status, body = await desk.send("sam", "GET", f"/v1/reports/kpis?by=agent&{span}")
    assert status == 200, body
    assert {r["group"]: r["dispositions"] for r in body["rows"]} == {"alice": {"complaint": 1}}
    assert body["total"]["dispositions"] == {"complaint": 1}
    complaints = next(k for k in body["total"]["kpis"] if k["key"] == "complaint_rate")
    assert (complaints["numerator"], complaints["denominator"]) == (1, 1)
