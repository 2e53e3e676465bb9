"""Opening the database and migrating it, over SQLite files in tmp_path.

tests/adapters/test_db.py covers the stores on SQLite and PostgreSQL; this covers what opening
a database decides by itself: driver choice, in-memory and URI databases, unusable URLs and
folders, a schema from a newer build, the foreign-key check after migrating, the command line,
and the health check's ping (never raises, bounded by its timeout).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ari_app.db import migrate
from ari_app.db.database import Database, open_database
from ari_app.db.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
    schema_diffs,
    upgrade_to_head,
)
from kernel.db.errors import DatabaseError, DatabaseUnavailable
from tests.unit.adapter_fakes import eventually

TABLES = {"calls", "call_events", "recordings", "survey_answers", "routing_config_versions",
          "routing_audit", "users", "web_sessions", "login_failures", "recording_access",
          "caller_questions", "faq_edits", "qa_comments", "qa_forms", "qa_evaluations",
          "qa_training", "recording_listens", "recording_holds", "recording_deletions",
          "recording_plays", "call_monitors", "call_dispositions",
          "alembic_version"}  # fmt: skip


async def tables_of(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_a_plain_sqlite_url_gets_the_async_driver_and_the_newest_schema(
    tmp_path: Path,
) -> None:
    db = await open_database(f"sqlite:///{tmp_path}/new/folder/hotline.db")
    try:
        assert db.url.startswith("sqlite+aiosqlite:///")
        assert (tmp_path / "new/folder/hotline.db").is_file()
        assert await current_revision(db.engine) == head_revision() is not None
        assert await tables_of(db) == TABLES
        assert await schema_diffs(db.engine) == []  # the models and the migrations agree
        assert await db.ping()
    finally:
        await db.close()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_an_in_memory_database_is_one_database_for_every_connection(url: str) -> None:
    db = await open_database(url)
    try:
        # Migrated on one connection, seen on another: without a static pool each new
        # connection to :memory: would be a new, empty database.
        assert await tables_of(db) == TABLES
        assert await db.ping()
    finally:
        await db.close()


async def test_a_sqlite_uri_is_used_as_given(tmp_path: Path) -> None:
    path = tmp_path / "uri.db"
    db = await open_database(f"sqlite+aiosqlite:///file:{path}?mode=rwc&uri=true")
    try:
        assert path.is_file()
        assert await current_revision(db.engine) == head_revision()
    finally:
        await db.close()


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql://hotline:s3cret-pw@db/hotline",
     "unsupported database URL mysql://hotline:***@db/hotline: use postgresql+asyncpg:// or "
     "sqlite+aiosqlite://"),
    ("oracle+oracledb://hotline:s3cret-pw@db/hotline", "unsupported database URL"),
    ("postgresql://hotline:s3cret-pw@db:port/hotline",
     "malformed database URL postgresql://hotline:***@db:port/hotline"),
    ("hotline.db", "malformed database URL hotline.db"),
])  # fmt: skip
async def test_unusable_urls_are_unavailable_with_the_password_masked(
    url: str, expected: str
) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(url)
    assert str(caught.value).startswith(expected)
    assert "s3cret-pw" not in str(caught.value)


async def test_a_postgresql_server_that_does_not_answer_is_unavailable() -> None:
    url = "postgresql://hotline:s3cret-pw@127.0.0.1:1/hotline"  # nothing listens on port 1
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(url, connect_timeout_s=2)
    message = str(caught.value)
    assert message.startswith("database at postgresql://hotline:***@127.0.0.1:1/hotline "
                              "unavailable: ")  # fmt: skip
    assert "s3cret-pw" not in message and "\n" not in message


async def test_a_folder_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(f"sqlite+aiosqlite:///{blocker}/sub/hotline.db")
    assert f"cannot create {blocker}/sub" in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
async def test_a_folder_that_is_not_writable_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DatabaseUnavailable, match="not writable"):
            await open_database(f"sqlite+aiosqlite:///{folder}/hotline.db")
    finally:
        folder.chmod(0o700)


async def test_a_file_that_is_no_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    path.write_bytes(b"certainly not SQLite " * 100)
    with pytest.raises(DatabaseUnavailable, match="unavailable: file is not a database"):
        await open_database(f"sqlite+aiosqlite:///{path}")


async def test_a_schema_from_a_newer_build_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    db = await open_database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await db.close()
    with pytest.raises(DatabaseError) as caught:
        await open_database(url)
    assert not isinstance(caught.value, DatabaseUnavailable)
    assert "migration failed" in str(caught.value) and "9999" in str(caught.value)


async def test_dangling_foreign_keys_after_migrating_are_an_error(tmp_path: Path) -> None:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    try:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.execute(text(
                "INSERT INTO call_events (call_id, seq, type, t, at, details) "
                "VALUES ('ghost', 1, 'call_started', 0.0, '2026-11-22 09:00:00', '{}')"))
            await conn.commit()
        with pytest.raises(DatabaseError, match=r"dangling foreign keys in \['call_events'\]"):
            await upgrade_to_head(db.engine)
    finally:
        await db.close()


async def test_a_lost_database_fails_check_as_unavailable_and_ping_says_false(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    db = await open_database(f"sqlite+aiosqlite:///{folder}/hotline.db")
    try:
        await db.engine.dispose()  # no pooled connection survives to hide the loss
        shutil.rmtree(folder)
        with pytest.raises(DatabaseUnavailable) as caught:
            await db.check()
        assert str(caught.value).startswith(f"database at {db.url} unavailable: ")
        assert await db.ping() is False  # the health check's question never raises
    finally:
        await db.close()


class HungEngine:
    """An engine whose connections never open, and which gives up on a cancel only when
    released: a driver stuck in a blocking call."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.attempts = 0

    def connect(self) -> HungEngine:
        return self

    async def __aenter__(self) -> None:
        self.attempts += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await self.release.wait()
            raise

    async def __aexit__(self, *_exc: object) -> None:
        pass


async def test_ping_of_a_hung_database_says_false_within_its_timeout(tmp_path: Path) -> None:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    engine, hung = db.engine, HungEngine()
    db.engine = hung  # type: ignore[assignment]
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await db.ping(timeout_s=0.2) is False
        assert loop.time() - started < 0.6  # not held up by the driver's slow give-up
        assert hung.attempts == 1
    finally:
        hung.release.set()
        db.engine = engine
        await db.close()
    await eventually(lambda: not db._abandoned)  # the abandoned round trip ended, forgotten


async def test_a_schema_that_differs_from_the_models_is_reported(tmp_path: Path) -> None:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
        diffs = await schema_diffs(db.engine)
    finally:
        await db.close()
    assert [diff[0] for diff in diffs] == ["remove_table"]
    assert diffs[0][1].name == "stray"


def test_the_alembic_config_points_at_the_shipped_migrations() -> None:
    config = alembic_config()
    assert config.get_main_option("script_location") == str(MIGRATIONS)
    assert (MIGRATIONS / "env.py").is_file()
    assert "connection" not in config.attributes


# --- python -m ari_app.db.migrate ---------------------------------------------------------


async def test_the_command_line_migrates_then_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    # asyncio.run inside: on a worker thread, away from the test's own event loop.
    assert await asyncio.to_thread(migrate.main, [url, "--check"]) == 0
    out = capsys.readouterr().out
    assert out == f"{url}: at revision {head_revision()}\n"


async def test_the_command_line_check_fails_on_a_differing_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    db = await open_database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    finally:
        await db.close()
    assert await asyncio.to_thread(migrate.main, [url]) == 0  # without --check: no opinion
    assert await asyncio.to_thread(migrate.main, [url, "--check"]) == 1
    out = capsys.readouterr().out
    assert "differs: ('remove_table'" in out and "stray" in out


async def test_the_command_line_names_an_unusable_database_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "mysql://hotline:s3cret-pw@db/hotline"
    assert await asyncio.to_thread(migrate.main, [url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("unsupported database URL mysql://hotline:***@db/hotline")
