"""GET /v1/reports/kpis over stored calls (SQLite): the KPIs in JSON and CSV, per hour, queue,
tier and agent, each query parameter checked and named when wrong, a scoped supervisor kept to
their queues."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.desk.model import Disposition
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.db.database import Database
from ari_app.reports.api import ReportApiDeps, add_report_routes, as_csv
from ari_app.reports.service import KpiReports
from ari_app.reports.store import ReportStore
from ari_app.web.app import assemble
from ivr.journey import JourneyEvent, JourneyType
from kernel.http.auth import ApiToken, TokenTable
from recordings.model import SurveyAnswer
from routing.config import Agent, Queue, RoutingConfig
from routing.kpis.facts import CallFacts, KpiSettings, QueueVisit, VisitOutcome
from routing.kpis.report import Repeats, report

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
CONFIG = RoutingConfig(
    agents=(Agent("alice", "Alice", "PJSIP/1001", tier=1), Agent("bob", "Bob", "PJSIP/1002",
                                                                 tier=2)),
    queues=(Queue("claims", "Claims", wrapup_s=5), Queue("billing", "Billing", wrapup_s=5)),
)
TOKENS = TokenTable(ApiToken.model_validate(t) for t in (
    {"token": "supervisor-token-000001", "actor": "sup", "role": "supervisor"},
    {"token": "claims-only-token-00001", "actor": "sup-claims", "role": "supervisor",
     "queues": ["claims"]},
    {"token": "agent-token-00000000001", "actor": "agent", "role": "agent", "agent_id": "a"},
))  # fmt: skip
SUPERVISOR = {"Authorization": "Bearer supervisor-token-000001"}
CLAIMS_ONLY = {"Authorization": "Bearer claims-only-token-00001"}
AGENT = {"Authorization": "Bearer agent-token-00000000001"}
RANGE = f"from={T0.isoformat()}&to={(T0 + timedelta(hours=2)).isoformat()}".replace("+", "%2B")
J = JourneyType


async def store(db: Database, call_id: str, caller: str, start: datetime,
                outcome: CallOutcome, events: list[tuple[JourneyType, float, dict[str, Any]]],
                score: int | None = None) -> None:  # fmt: skip
    record = CallRecord(call_id, f"ch-{call_id}", caller, None, start)
    await db.calls.start(record)
    await db.calls.append_events([JourneyEvent(call_id, kind, t, start + timedelta(seconds=t),
                                               details) for kind, t, details in events])
    await db.calls.finish(CallRecord(call_id, f"ch-{call_id}", caller, None, start,
                                     start + timedelta(minutes=5), outcome))  # fmt: skip
    if score is not None:
        await db.surveys.add(SurveyAnswer(call_id, None, None, score, start))


def answered(queue: str, agent: str, wait: float, talk: float) -> list[tuple[Any, ...]]:
    return [(J.QUEUE_JOIN, 3, {"queue": queue}), (J.AGENT_ANSWER, 3 + wait, {"agent": agent}),
            (J.AGENT_HANGUP, 3 + wait + talk, {"agent": agent}), (J.HANGUP, 90 + wait, {})]


@pytest.fixture
async def client(database: Database) -> AsyncIterator[TestClient[Any, Any]]:
    await store(database, "c1", "+1555", T0, CallOutcome.ANSWERED,
                answered("claims", "alice", 10, 60), score=5)
    await store(database, "c2", "+1666", T0 + timedelta(minutes=10),
                CallOutcome.ABANDONED_IN_QUEUE,
                [(J.QUEUE_JOIN, 3, {"queue": "claims"}), (J.HANGUP, 33, {})])
    await store(database, "c3", "+1555", T0 + timedelta(hours=1), CallOutcome.ANSWERED,
                answered("billing", "bob", 25, 100), score=3)
    await store(database, "c4", "+1777", T0 + timedelta(hours=1, minutes=5),
                CallOutcome.CONTAINED, [(J.KNOWLEDGE, 4, {"state": "played"}),
                                        (J.INTENT, 2, {"intent": "complaint"})])
    await store(database, "old", "+1555", T0 - timedelta(days=1), CallOutcome.ANSWERED,
                answered("claims", "alice", 1, 1), score=1)  # before the range
    reports = KpiReports(ReportStore(database.units), lambda: CONFIG, lambda: NOW)
    app = assemble(TOKENS, [lambda app: add_report_routes(
        app, ReportApiDeps(reports, now=lambda: NOW))])  # fmt: skip
    async with TestClient(TestServer(app)) as served:
        yield served


async def get(client: TestClient[Any, Any], query: str,
              headers: dict[str, str] = SUPERVISOR) -> tuple[int, Any]:  # fmt: skip
    async with client.get(f"/v1/reports/kpis?{query}", headers=headers) as resp:
        if resp.content_type == "text/csv":
            return resp.status, await resp.text()
        return resp.status, await resp.json()


def shown(row: dict[str, Any]) -> dict[str, str]:
    return {k["key"]: k["shown"] for k in row["kpis"]}


async def test_the_total_of_a_range(client: TestClient[Any, Any]) -> None:
    status, body = await get(client, RANGE)
    assert status == 200, body
    total = body["total"]
    assert total["counts"] == {"answered": 2, "answered_within": 1, "abandoned": 1,
                               "abandoned_within": 0, "short_abandoned": 0, "flow_outs": 0}
    kpis = shown(total)
    assert kpis["sl"] == "50.0 %" and kpis["sl_all_abandons"] == "33.3 %"
    assert (kpis["asa"], kpis["aht"]) == ("17.5 s", "85.0 s")  # (60+5 + 100+5) / 2
    assert kpis["fcr"] == "50.0 %"  # c1 was called again (c3) within 7 days
    assert (kpis["csat"], kpis["survey_mean"]) == ("50.0 %", "4.00")
    assert (kpis["containment"], kpis["complaint_rate"]) == ("100.0 %", "25.0 %")
    assert kpis["occupancy"] == "n/a"
    labels = {k["key"]: k["label"] for k in total["kpis"]}
    assert labels["sl_excl_short"] == "SL(20 s, excl. short ≤ 5 s)"
    assert body["interval_rule"].startswith("a call is counted in the interval in which it "
                                            "entered the queue")
    assert body["settings"] == {"service_level_s": 20, "short_abandon_s": 5, "fcr_days": 7}


async def test_per_hour_queue_tier_and_agent(client: TestClient[Any, Any]) -> None:
    _, by_hour = await get(client, RANGE + "&by=hour")
    assert [(r["group"], r["counts"]["answered"], r["calls"]) for r in by_hour["rows"]] == [
        ("2026-11-02T09:00:00+00:00", 1, 2), ("2026-11-02T10:00:00+00:00", 1, 2)]
    _, by_queue = await get(client, RANGE + "&by=queue")
    assert {r["group"]: shown(r)["sl"] for r in by_queue["rows"]} == {
        "billing": "0.0 %", "claims": "100.0 %"}
    _, by_tier = await get(client, RANGE + "&by=tier")
    assert [r["group"] for r in by_tier["rows"]] == ["1", "2", "unassigned"]
    _, by_agent = await get(client, RANGE + "&by=agent&queue=claims")
    assert {r["group"]: r["counts"]["answered"] for r in by_agent["rows"]} == {
        "alice": 1, "unassigned": 0}
    assert by_agent["total"]["counts"]["abandoned"] == 1


async def test_thresholds_and_n_days_come_from_the_query(client: TestClient[Any, Any]) -> None:
    _, body = await get(client, RANGE + "&sl_s=30&short_s=0&fcr_days=1")
    labels = {k["key"]: (k["label"], k["shown"]) for k in body["total"]["kpis"]}
    assert labels["sl"] == ("SL(30 s)", "100.0 %")
    assert labels["sl_excl_short"] == ("SL(30 s, excl. short ≤ 0 s)", "66.7 %")
    assert labels["fcr"][0] == "FCR(no repeat ≤ 1 d)"


async def test_csv_export_has_a_row_per_group_then_the_total(
        client: TestClient[Any, Any]) -> None:
    status, text = await get(client, RANGE + "&by=queue&format=csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:8] == ["group", "calls", "A", "A≤T", "Ab", "Ab≤T", "Ab≤S", "F"]
    assert "SL(20 s, excl. short ≤ 5 s) [%]" in rows[0]
    assert [r[0] for r in rows[1:]] == ["billing", "claims", "total"]
    sl = rows[0].index("SL(20 s) [%]")
    assert [r[sl] for r in rows[1:]] == ["0.00", "100.00", "50.00"]
    occupancy = rows[0].index("Occupancy [%]")
    assert rows[-1][occupancy] == ""  # n/a


async def test_without_a_range_the_last_24_hours(client: TestClient[Any, Any]) -> None:
    status, body = await get(client, "")
    assert status == 200
    assert (body["from"], body["to"]) == ((NOW - timedelta(days=1)).isoformat(), NOW.isoformat())
    assert body["total"]["calls"] == 0 and shown(body["total"])["sl"] == "n/a"


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=yesterday", "query.from", "must be a date and time in ISO 8601"),
    ("from=2026-11-02T09:00:00", "query.from", "must name its time zone"),
    ("to=1999-12-31T00:00:00Z", "query.to", "must be between 2000 and 2100"),
    ("from=2026-11-02T10:00:00Z&to=2026-11-02T09:00:00Z", "query.to",
     "must be after query.from"),
    ("from=2026-11-02T09:00:00Z&to=2026-11-02T09:00:00Z", "query.to",
     "must be after query.from"),
    ("from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z", "query.to", "at most 92 days"),
    ("by=week", "query.by", "must be one of hour, queue, tier, agent"),
    ("format=xml", "query.format", "must be one of json, csv"),
    ("queue=no%20spaces", "query.queue", "must be a queue id"),
    ("sl_s=0", "query.sl_s", "must be an integer from 1 to 3600"),
    ("sl_s=²", "query.sl_s", "must be an integer from 1 to 3600"),
    ("short_s=20", "query.short_s", "must be below the service level threshold"),
    ("sl_s=5", "query.sl_s", "must be above the short-abandon threshold (5 s by default)"),
    ("fcr_days=-1", "query.fcr_days", "must be an integer from 1 to 90"),
])  # fmt: skip
async def test_a_bad_query_is_400_naming_the_field(client: TestClient[Any, Any], query: str,
                                                   field: str, message: str) -> None:
    status, body = await get(client, query)
    assert status == 400, body
    problems = {p["field"]: p["message"] for p in body["problems"]}
    assert message in problems[field], problems


async def test_every_problem_is_named_at_once(client: TestClient[Any, Any]) -> None:
    status, body = await get(client, "by=x&format=y&fcr_days=0")
    assert status == 400
    assert {p["field"] for p in body["problems"]} == {"query.by", "query.format",
                                                      "query.fcr_days"}


async def test_a_scoped_supervisor_sees_only_their_queues(client: TestClient[Any, Any]) -> None:
    status, body = await get(client, RANGE + "&by=queue", CLAIMS_ONLY)
    assert status == 200
    assert [r["group"] for r in body["rows"]] == ["claims"]
    assert body["total"]["counts"]["answered"] == 1
    status, body = await get(client, RANGE + "&queue=billing", CLAIMS_ONLY)
    assert (status, body["error"], body["problems"][0]["field"]) == (403, "out_of_scope",
                                                                     "query.queue")


async def test_agents_may_not_read_reports(client: TestClient[Any, Any]) -> None:
    status, body = await get(client, RANGE, AGENT)
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await get(client, RANGE, {})
    assert status == 401


async def test_dispositions_are_counted_per_row_and_in_the_csv(
        client: TestClient[Any, Any], database: Database) -> None:
    given = DispositionStore(database.units)
    for call_id, agent, code, complaint in (("c1", "alice", "complaint", True),
                                            ("c3", "bob", "resolved", False)):
        await given.put(Disposition(call_id, agent, code, complaint, None, "", agent, "agent",
                                    NOW, NOW))  # fmt: skip
    _, body = await get(client, RANGE + "&by=queue")
    assert {r["group"]: r["dispositions"] for r in body["rows"]} == {
        "billing": {"resolved": 1}, "claims": {"complaint": 1}}
    assert body["total"]["dispositions"] == {"complaint": 1, "resolved": 1}
    assert shown(body["total"])["complaint_rate"] == "50.0 %"  # c4's intent and c1's code
    _, text = await get(client, RANGE + "&by=queue&format=csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-2:] == ["disposition: complaint", "disposition: resolved"]
    assert [r[-2:] for r in rows[1:]] == [["0", "1"], ["1", "0"], ["1", "1"]]


def test_the_csv_has_a_column_per_code_in_force_then_any_other() -> None:
    visit = QueueVisit("claims", T0, VisitOutcome.ANSWERED, 1.0, "alice", 1,
                       disposition="gone_code")
    result = report([CallFacts("c1", None, T0, (visit,))], KpiSettings(),
                    Repeats([], 7, NOW))  # fmt: skip
    rows = list(csv.reader(io.StringIO(as_csv(result, ("resolved", "complaint")))))
    assert rows[0][-3:] == ["disposition: resolved", "disposition: complaint",
                            "disposition: gone_code"]
    assert rows[1][-3:] == ["0", "0", "1"]
