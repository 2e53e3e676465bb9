"""The what-if's reads on SQLite and PostgreSQL: the agent commands of the routing audit (times
on the replay clock, only commands, only agents, only the window and its look-back) and a
whole replay of the stored calls, the same on both databases. Needs no Asterisk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.calls.record import CallOutcome
from ari_app.db.database import Database, open_database
from ari_app.reports.store import ReportStore
from ari_app.reports.whatif.commands import LOOKBACK, AgentCommandLog
from ari_app.reports.whatif.service import WhatIfQuery, WhatIfReplays
from routing.store import AuditAction, AuditChange, RoutingConfigStore
from routing.whatif.model import ReplaySettings
from routing.whatif.staffing import AgentCommand
from tests.db_fixtures import postgres_skip_reason, temporary_database
from tests.unit.test_reports_api import CONFIG, T0, answered, store

END = T0 + timedelta(hours=2)


async def audited(db: Database, at_s: float, action: AuditAction, path: str) -> None:
    at = T0 + timedelta(seconds=at_s)
    await RoutingConfigStore(db.units, now=lambda: at).record(
        AuditChange(action, path, None, {"reason": None}), actor="sup", role="supervisor")


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    async with temporary_database(str(request.param), tmp_path) as url:
        db = await open_database(url)
        try:
            await store(db, "c1", "+1555", T0, CallOutcome.ANSWERED,
                        answered("claims", "alice", 10, 60))
            await store(db, "c2", "+1666", T0 + timedelta(minutes=1), CallOutcome.ANSWERED,
                        answered("claims", "alice", 50, 60))
            lookback = -LOOKBACK.total_seconds()
            await audited(db, lookback - 1, AuditAction.LOGOUT, "agents/alice")  # too old
            await audited(db, lookback, AuditAction.LOGOUT, "agents/bob")
            await audited(db, -60, AuditAction.PAUSE, "agents/alice")
            await audited(db, 30.5, AuditAction.UPDATE, "agents/alice")  # not a command
            await audited(db, 40, AuditAction.LOGIN, "queues/claims")  # not an agent
            await audited(db, 45.25, AuditAction.RESUME, "agents/alice")
            await audited(db, 7200, AuditAction.LOGIN, "agents/bob")  # after the window
            yield db
        finally:
            await db.close()


async def test_the_agent_commands_of_the_window_and_its_look_back(database: Database) -> None:
    commands = await AgentCommandLog(database.units).commands(T0, END)
    assert commands == [AgentCommand(-LOOKBACK.total_seconds(), "bob", "logout"),
                        AgentCommand(-60, "alice", "pause"),
                        AgentCommand(45.25, "alice", "resume")]


async def test_a_replay_reads_the_same_on_both_databases(database: Database) -> None:
    replays = WhatIfReplays(ReportStore(database.units), AgentCommandLog(database.units),
                            lambda: CONFIG, lambda: END)
    result = await replays.run(WhatIfQuery(T0, END, ("claims",), CONFIG, CONFIG,
                                           ReplaySettings(interval_s=3600)))
    c = result.comparison
    assert c.arrivals == 2 and (result.commands, result.answers) == (3, 2)
    # alice paused, bob logged out: c1 waits until alice's answer proves her there (13 s);
    # c2 (joined at 63 s) finds her talking to c1 until 73 s, then in wrap-up until 78 s
    waits = {k.key: k.shown for k in c.current.figures.total.kpis}
    assert waits["asa"] == "12.5 s"  # (10 + 15) / 2
    recorded = {k.key: k.shown for k in c.recorded.total.kpis} if c.recorded else {}
    assert recorded["asa"] == "30.0 s"  # (10 + 50) / 2, as they went
