"""Retention on SQLite and PostgreSQL: the models and migration 0009 agree; a deletion takes
the file, the row and its dependants in one transaction with its audit row, and a failure in
the middle (a trigger refusing the cascade) leaves file, rows and audit as they were; the sweep
deletes what its queue's rule (or the default) says is due, never a held recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
import pytest_asyncio
from sqlalchemy import text

from ari_app.db.database import Database, open_database
from ari_app.db.migrate import schema_diffs
from kernel.db.errors import DatabaseError
from recordings.qa.store import QaStore
from recordings.retention.deleter import RecordingDeleter
from recordings.retention.model import OnHold
from recordings.retention.policy import RetentionPolicy
from recordings.retention.store import RetentionStore
from tests.db_fixtures import postgres_skip_reason, temporary_database
from tests.unit.test_calls_api import T0
from tests.unit.test_qa_api import seed

DAY = timedelta(days=1)
POLICY = RetentionPolicy(30, MappingProxyType({"claims": 2555}))

FAIL_SQLITE = ("CREATE TRIGGER no_comment_deletes BEFORE DELETE ON qa_comments "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END",)
FAIL_POSTGRES = (
    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
    "LANGUAGE plpgsql",
    "CREATE TRIGGER no_comment_deletes BEFORE DELETE ON qa_comments FOR EACH ROW "
    "EXECUTE FUNCTION refuse()",
)


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    async with temporary_database(str(request.param), tmp_path) as url:
        db = await open_database(url)
        try:
            (tmp_path / "recordings").mkdir()
            await seed(db, tmp_path / "recordings")
            yield db
        finally:
            await db.close()


def files(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir())


async def test_the_models_and_migration_0009_agree(database: Database) -> None:
    assert await schema_diffs(database.engine) == []


async def test_a_deletion_is_whole_or_nothing(database: Database, tmp_path: Path) -> None:
    store_dir = tmp_path / "recordings"
    kept, qa = RetentionStore(database.units), QaStore(database.units)
    deleter = RecordingDeleter(kept, store_dir)
    await qa.add_comment("r1", 1.0, "greets", "qa", T0)
    dialect = database.engine.dialect.name
    async with database.engine.begin() as conn:
        for statement in FAIL_POSTGRES if dialect == "postgresql" else FAIL_SQLITE:
            await conn.execute(text(statement))
    with pytest.raises(DatabaseError):
        await deleter.delete("r1", "admin", "asked", T0)
    assert files(store_dir) == ["r1.wav", "r2.wav", "r3.wav"]  # renamed back, no trash
    assert await database.recordings.get("r1") is not None
    assert len(await qa.comments("r1")) == 1
    assert await kept.deletions(10) == []
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER no_comment_deletes" +
                                (" ON qa_comments" if dialect == "postgresql" else "")))

    deletion = await deleter.delete("r1", "admin", "asked", T0)
    assert (deletion.file_name, deletion.file_found, deletion.queue_id) == ("r1.wav", True,
                                                                            "claims")
    assert files(store_dir) == ["r2.wav", "r3.wav"]
    assert await database.recordings.get("r1") is None
    assert await qa.comments("r1") == []
    assert [d for _, d in await kept.deletions(10)] == [deletion]


async def test_the_sweep_deletes_what_is_due_and_never_a_held_recording(
    database: Database, tmp_path: Path,
) -> None:
    store_dir = tmp_path / "recordings"
    kept = RetentionStore(database.units)
    deleter = RecordingDeleter(kept, store_dir)
    await kept.place_hold("r2", "admin", "case 7", T0)
    with pytest.raises(OnHold):
        await kept.place_hold("r2", "admin", "twice", T0)
    # r2 and r3 are billing's (the default, 30 days), r1 claims' (2555 days)
    assert await deleter.sweep(POLICY, T0 + 30 * DAY) == 0  # r3 started at T0 + 2 h
    assert await deleter.sweep(POLICY, T0 + 31 * DAY) == 1
    assert files(store_dir) == ["r1.wav", "r2.wav"]
    with pytest.raises(OnHold):
        await deleter.delete("r2", "admin", "by hand", T0)
    await kept.lift_hold("r2", "admin", "case closed", T0 + DAY)
    assert await deleter.sweep(POLICY, T0 + 31 * DAY) == 1
    assert await deleter.sweep(POLICY, T0 + 2555 * DAY - timedelta(seconds=1)) == 0  # r1: not yet
    assert await deleter.sweep(POLICY, T0 + 2555 * DAY) == 1  # exactly at its limit
    assert files(store_dir) == []
    audit = [d for _, d in await kept.deletions(10)]
    assert [(d.recording_id, d.actor, d.reason) for d in audit] == [
        ("r1", "retention", "retention: queue claims keeps recordings 2555 days"),
        ("r2", "retention", "retention: the default keeps recordings 30 days"),
        ("r3", "retention", "retention: the default keeps recordings 30 days")]
    assert [(h.recording_id, h.active) for h in await kept.holds(10)] == [("r2", False)]
