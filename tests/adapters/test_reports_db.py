"""The KPI reports' reads on SQLite and PostgreSQL: the range's calls with their journeys (JSON
details, time zones), survey scores and agents' dispositions, and the arrivals first-call
resolution looks at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.calls.desk.model import Disposition
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.record import CallOutcome
from ari_app.db.database import Database, open_database
from ari_app.reports.service import KpiReports, ReportQuery
from ari_app.reports.store import ReportStore
from routing.kpis.facts import KpiSettings
from routing.kpis.report import GroupBy
from tests.db_fixtures import postgres_skip_reason, temporary_database
from tests.unit.test_reports_api import CONFIG, NOW, T0, answered, store


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    async with temporary_database(str(request.param), tmp_path) as url:
        db = await open_database(url)
        try:
            await store(db, "c1", "+1555", T0, CallOutcome.ANSWERED,
                        answered("claims", "alice", 10, 60), score=5)
            await store(db, "c2", "+1555", T0 + timedelta(days=2), CallOutcome.ANSWERED,
                        answered("claims", "alice", 30, 60), score=2)
            await store(db, "late", "+1666", T0 + timedelta(hours=3), CallOutcome.ANSWERED,
                        answered("claims", "alice", 1, 1))
            given = DispositionStore(db.units)
            await given.put(Disposition("c1", "alice", "complaint", True, False, "ä\nnotes",
                                        "alice", "agent", T0 + timedelta(minutes=2),
                                        T0 + timedelta(minutes=2),
                                        T0 + timedelta(seconds=75)))  # fmt: skip
            await given.put(Disposition("c2", "alice", "resolved", False, True, "", "sue",
                                        "supervisor", NOW, NOW))  # fmt: skip
            yield db
        finally:
            await db.close()


async def test_a_report_reads_the_same_on_both_databases(database: Database) -> None:
    reports = KpiReports(ReportStore(database.units), lambda: CONFIG, lambda: NOW)
    query = ReportQuery(T0, T0 + timedelta(hours=1), GroupBy.AGENT, None, KpiSettings())
    result = await reports.report(query)
    (alice,) = result.rows
    assert (alice.group, alice.counts.answered, alice.counts.answered_within) == ("alice", 1, 1)
    shown = {k.key: k.shown for k in result.total.kpis}
    # c1's talk ended at 73 s and its disposition ended the 5 s wrap-up at 75 s: 60 + 2.
    assert (shown["asa"], shown["aht"], shown["csat"]) == ("10.0 s", "62.0 s", "100.0 %")
    assert shown["fcr"] == "0.0 %"  # c2, two days later from the same number, is read too
    assert (alice.dispositions, shown["complaint_rate"]) == ((("complaint", 1),), "100.0 %")


async def test_the_stored_journey_comes_back_whole(database: Database) -> None:
    (call,) = await ReportStore(database.units).calls(T0, T0 + timedelta(minutes=1))
    assert call.record.call_id == "c1" and call.survey_score == 5
    assert [e.type.value for e in call.events] == ["queue_join", "agent_answer",
                                                   "agent_hangup", "hangup"]
    assert call.events[1].details == {"agent": "alice"}
    assert call.events[0].at == T0 + timedelta(seconds=3)
    (given,) = call.dispositions
    assert (given.agent_id, given.code, given.complaint, given.resolved, given.notes) == (
        "alice", "complaint", True, False, "ä\nnotes")
    assert (given.created_at, given.wrapup_ended_at) == (T0 + timedelta(minutes=2),
                                                         T0 + timedelta(seconds=75))
    arrivals = await ReportStore(database.units).arrivals(T0, T0 + timedelta(days=7))
    assert sorted(arrivals) == [("+1555", T0), ("+1555", T0 + timedelta(days=2)),
                                ("+1666", T0 + timedelta(hours=3))]
