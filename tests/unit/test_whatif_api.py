"""POST /v1/reports/whatif over stored calls and the routing audit (SQLite): the plan in force
and a proposed one replayed side by side, every bad field a 400 naming it, a scoped supervisor
kept to their queues."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.record import CallOutcome
from ari_app.db.database import Database
from ari_app.reports.store import ReportStore
from ari_app.reports.whatif.api import WhatIfApiDeps, add_whatif_routes
from ari_app.reports.whatif.commands import AgentCommandLog
from ari_app.reports.whatif.service import WhatIfReplays
from ari_app.web.app import assemble
from ivr.journey import JourneyType
from routing.serialize import to_document
from routing.store import AuditAction, AuditChange, RoutingConfigStore
from tests.unit.test_reports_api import (
    AGENT,
    CLAIMS_ONLY,
    CONFIG,
    SUPERVISOR,
    T0,
    TOKENS,
    answered,
    store,
)

NOW = T0 + timedelta(hours=2)
PATH = "/v1/reports/whatif"
J = JourneyType
NOBODY = [{"name": "experts", "after_s": 0, "tiers": [3]}]  # no agent has tier 3
CATCH_ALL = [{"name": "everyone", "after_s": 0}]


@pytest.fixture
async def client(database: Database) -> AsyncIterator[TestClient[Any, Any]]:
    await store(database, "c1", "+1555", T0, CallOutcome.ANSWERED,
                answered("claims", "alice", 10, 60))
    await store(database, "c2", "+1666", T0 + timedelta(minutes=10), CallOutcome.ANSWERED,
                [(J.QUEUE_JOIN, 3, {"queue": "claims"}),
                 (J.AGENT_OFFER, 3, {"queue": "claims", "agent": "alice"}),
                 (J.AGENT_ANSWER, 5, {"queue": "claims", "agent": "alice"}),
                 (J.AGENT_HANGUP, 35, {"agent": "alice"}), (J.HANGUP, 40, {})])
    await store(database, "c3", "+1777", T0 + timedelta(minutes=20),
                CallOutcome.ABANDONED_IN_QUEUE,
                [(J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.HANGUP, 33, {})])
    await store(database, "b1", "+1888", T0 + timedelta(minutes=30), CallOutcome.ANSWERED,
                answered("billing", "bob", 4, 20))
    await store(database, "old", "+1555", T0 - timedelta(hours=3), CallOutcome.ANSWERED,
                answered("claims", "alice", 1, 1))  # before the window
    audit = RoutingConfigStore(database.units, now=lambda: T0 - timedelta(hours=1))
    await audit.record(AuditChange(AuditAction.PAUSE, "agents/alice", None, {"reason": "x"}),
                       actor="sup", role="supervisor")
    await audit.record(AuditChange(AuditAction.LOGOUT, "agents/bob", None, {"reason": None}),
                       actor="sup", role="supervisor")
    replays = WhatIfReplays(ReportStore(database.units), AgentCommandLog(database.units),
                            lambda: CONFIG, lambda: NOW)
    app = assemble(TOKENS, [lambda app: add_whatif_routes(app, WhatIfApiDeps(replays))])
    async with TestClient(TestServer(app)) as served:
        yield served


async def post(client: TestClient[Any, Any], body: object,
               headers: dict[str, str] = SUPERVISOR) -> tuple[int, Any]:  # fmt: skip
    async with client.post(PATH, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


def plans(queue: str = "claims", plan: list[dict[str, Any]] = NOBODY) -> dict[str, Any]:
    return {"queues": {queue: {"plan": plan}}}


def shown(row: dict[str, Any]) -> dict[str, str]:
    return {k["key"]: k["shown"] for k in row["kpis"]}


def fields(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body.get("problems", [])}


async def test_a_stricter_plan_predicts_a_lower_service_level(
        client: TestClient[Any, Any]) -> None:
    status, body = await post(client, {"hours": 2, "queue_id": "claims", "proposed": plans()})
    assert status == 200, body
    assert (body["from"], body["to"]) == ((NOW - timedelta(hours=2)).isoformat(),
                                          NOW.isoformat())
    assert (body["arrivals"], body["interval_s"], body["queue"]) == (3, 900.0, "claims")
    key = body["headline"]["service_level"]
    assert key == "sl_excl_short"
    current, proposed = shown(body["current"]["total"]), shown(body["proposed"]["total"])
    assert current[key] == "100.0 %"  # alice takes each call at once; c3 no longer gives up
    assert proposed[key] == "0.0 %"  # nobody is ever offered: all hang up at 60 s
    assert proposed["abandon_rate"] == "100.0 %" and proposed["asa"] == "n/a"
    assert shown(body["recorded"]["total"])[key] == "66.7 %"  # c3 gave up for real
    assert body["settings"]["assumed_patience_s"] == 60.0  # the longest wait was 30 s
    assert [r["group"] for r in body["current"]["queues"]] == ["claims"]
    assert len(body["current"]["intervals"]) == 8
    assert {w["field"] for w in body["warnings"]} == {"body.proposed.queues.claims.plan[0]"}
    labels = {k["key"]: k["label"] for k in body["current"]["total"]["kpis"]}
    assert labels[key] == "SL(20 s, excl. short ≤ 5 s)"


async def test_the_plan_in_force_proposed_again_predicts_the_same(
        client: TestClient[Any, Any]) -> None:
    _, body = await post(client, {"hours": 2, "proposed": plans(plan=CATCH_ALL)})
    for part in ("total", "queues", "intervals"):
        assert body["current"][part] == body["proposed"][part]
    assert [r["group"] for r in body["current"]["queues"]] == ["claims", "billing"]
    assert body["current"]["version"] == 0 and body["proposed"]["version"] is None
    assert body["warnings"] == []


async def test_availability_comes_from_the_audit_and_from_answers(
        client: TestClient[Any, Any]) -> None:
    _, body = await post(client, {"hours": 2, "proposed": plans(plan=CATCH_ALL)})
    # alice was paused and bob logged out an hour before the window (after alice answered
    # "old"); c1's answer shows alice available 13 s into it, b1's bob at 30 min 7 s
    assert body["staffing"] == {"agents_unavailable_at_start": 2, "changes": 2, "commands": 2,
                                "answers": 4}
    claims = {r["group"]: r for r in body["current"]["queues"]}["claims"]
    # c1 waits its 10 s for alice, c2's phone rings its 2 s, c3 (never answered for real)
    # rings the mean 2/3 s: (10 + 2 + 2/3) / 3
    assert shown(claims)["asa"] == "4.2 s"


async def test_a_whole_configuration_document_may_be_proposed(
        client: TestClient[Any, Any]) -> None:
    document = to_document(replace(CONFIG, queues=(
        replace(CONFIG.queues[0], wrapup_s=600), CONFIG.queues[1])))
    status, body = await post(client, {"hours": 2, "queue_id": "claims", "proposed": document})
    assert status == 200, body
    # alice's 10 min wrap-up after c1 outlasts c2's patience (60 s); c3 finds her free
    assert body["proposed"]["total"]["counts"]["abandoned"] == 1
    assert body["current"]["total"]["counts"]["abandoned"] == 0


async def test_longer_windows_count_hourly(client: TestClient[Any, Any]) -> None:
    _, body = await post(client, {"hours": 7, "proposed": plans(plan=CATCH_ALL)})
    assert len(body["current"]["intervals"]) == 7 and body["interval_s"] == 3600.0
    _, body = await post(client, {"hours": 2, "interval_min": 60,
                                  "proposed": plans(plan=CATCH_ALL)})
    assert len(body["current"]["intervals"]) == 2


STEP = "body.proposed.queues.claims.plan"


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"hours": 0, "proposed": plans()}, "body.hours", "greater than or equal to 1"),
    ({"hours": 169, "proposed": plans()}, "body.hours", "less than or equal to 168"),
    ({"proposed": plans()}, "body.hours", "Field required"),
    ({"hours": 1}, "body.proposed", "Field required"),
    ({"hours": 1, "proposed": plans(plan=[{"name": "x", "after_s": -1}])},
     f"{STEP}[0].after_s", "greater than or equal to 0"),
    ({"hours": 1, "proposed": plans(plan=[])}, STEP, "at least 1 item"),
    ({"hours": 1, "proposed": plans(plan=[{"name": "x", "after_s": 0, "colour": 1}])},
     f"{STEP}[0].colour", "Extra inputs are not permitted"),
    ({"hours": 1, "proposed": plans("no spaces")}, "body.proposed.queues.no spaces",
     "should match pattern"),
    ({"hours": 1, "proposed": plans("nope")}, "body.proposed.queues.nope",
     "no queue 'nope' in the routing configuration in force"),
    ({"hours": 1, "proposed": plans(plan=[{"name": "x", "after_s": 0, "agents": ["zed"]}])},
     f"{STEP}[0].agents[0]", "unknown agent 'zed'"),
    ({"hours": 1, "proposed": plans(plan=[{"name": "a", "after_s": 0},
                                          {"name": "a", "after_s": 10}])},
     f"{STEP}[1].name", "duplicate 'a'"),
    ({"hours": 1, "proposed": plans(plan=[{"name": "a", "after_s": 30, "tiers": [1]},
                                          {"name": "b", "after_s": 10}])},
     f"{STEP}[1].after_s", "unreachable: opens at 10 s"),
    ({"hours": 1, "proposed": {"format": 1, "agents": [
        {"agent_id": "a", "name": "A", "endpoint": "PJSIP/1",
         "skills": [{"skill_id": "nope", "proficiency": 1}]}]}},
     "body.proposed.agents[0].skills[0].skill_id", "unknown skill 'nope'"),
    ({"hours": 1, "proposed": {"format": 2}}, "body.proposed.format", "Input should be 1"),
    ({"hours": 1, "proposed": 7}, "body.proposed", "Input should be an object"),
    ({"hours": 1, "sl_s": 10, "short_s": 10, "proposed": plans()}, "body.short_s",
     "must be below body.sl_s (10 s)"),
    ({"hours": 1, "queue_id": "nope", "proposed": plans()}, "body.queue_id",
     "no queue 'nope'"),
    ({"hours": 1, "patience": "some", "proposed": plans()}, "body.patience", "Input should be"),
    ({"hours": 1, "interval_min": 5, "proposed": plans()}, "body.interval_min",
     "Input should be 15, 30 or 60"),
    ({"hours": 1, "min_patience_s": "60", "proposed": plans()}, "body.min_patience_s",
     "Input should be a valid number"),
])  # fmt: skip
async def test_a_bad_body_is_400_naming_the_field(client: TestClient[Any, Any], body: object,
                                                  field: str, message: str) -> None:
    status, answer = await post(client, body)
    assert status == 400, answer
    assert message in fields(answer).get(field, ""), fields(answer)


async def test_every_problem_is_named_at_once(client: TestClient[Any, Any]) -> None:
    status, body = await post(client, {"hours": 1, "sl_s": 5, "short_s": 5, "proposed": plans(
        plan=[{"name": "a", "after_s": 0, "agents": ["zed"]}, {"name": "a", "after_s": 9}])})
    assert status == 400
    assert set(fields(body)) == {"body.short_s", f"{STEP}[0].agents[0]", f"{STEP}[1].name"}


async def test_a_bad_step_is_named_alone_not_as_a_plan_too_short_too(
        client: TestClient[Any, Any]) -> None:
    _, body = await post(client, {"hours": 1, "proposed": plans(
        plan=[{"name": "x", "after_s": 0, "tiers": ["one"]}])})
    assert set(fields(body)) == {f"{STEP}[0].tiers[0]"}


async def test_a_body_that_is_not_json_is_400(client: TestClient[Any, Any]) -> None:
    async with client.post(PATH, data=b"{", headers={**SUPERVISOR, "Content-Type":
                                                     "application/json"}) as resp:
        assert resp.status == 400
        assert "body" in fields(await resp.json())


async def test_a_scoped_supervisor_replays_only_their_queues(
        client: TestClient[Any, Any]) -> None:
    status, body = await post(client, {"hours": 2, "proposed": plans()}, CLAIMS_ONLY)
    assert status == 200, body
    assert [r["group"] for r in body["current"]["queues"]] == ["claims"]
    assert body["arrivals"] == 3  # billing's b1 is replayed, not counted
    status, body = await post(client, {"hours": 2, "proposed": plans("billing")}, CLAIMS_ONLY)
    assert (status, body["error"]) == (403, "out_of_scope")
    assert set(fields(body)) == {"body.proposed.queues.billing"}
    status, body = await post(client, {"hours": 2, "queue_id": "billing",
                                       "proposed": plans()}, CLAIMS_ONLY)
    assert (status, set(fields(body))) == (403, {"body.queue_id"})
    document = to_document(replace(CONFIG, queues=(
        CONFIG.queues[0], replace(CONFIG.queues[1], wrapup_s=1))))
    status, body = await post(client, {"hours": 2, "proposed": document}, CLAIMS_ONLY)
    assert (status, set(fields(body))) == (403, {"body.proposed.queues[1]"})


async def test_agents_may_not_run_a_what_if(client: TestClient[Any, Any]) -> None:
    status, body = await post(client, {"hours": 1, "proposed": plans()}, AGENT)
    assert (status, body["error"]) == (403, "forbidden")
    status, _ = await post(client, {"hours": 1, "proposed": plans()}, {})
    assert status == 401
