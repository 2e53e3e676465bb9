"""The database layer against real SQLite and PostgreSQL: migrations, stores, errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.db.database import Database, open_database
from ari_app.db.migrate import current_revision, head_revision, schema_diffs, upgrade_to_head
from ivr.journey import JourneyEvent, JourneyType
from kernel.db.errors import DatabaseConflict, DatabaseUnavailable
from recordings.model import RecordingMeta, SurveyAnswer
from tests.db_fixtures import postgres_skip_reason, temporary_database

TABLES = {"calls", "call_events", "recordings", "survey_answers",
          "routing_config_versions", "routing_audit",
          "users", "web_sessions", "login_failures", "recording_access",
          "caller_questions", "faq_edits", "qa_comments", "qa_forms", "qa_evaluations",
          "qa_training", "recording_listens", "recording_holds", "recording_deletions",
          "recording_plays", "call_monitors", "call_dispositions"}
# Not UTC on purpose: the stores must keep the instant and hand back UTC.
T0 = datetime(2026, 11, 22, 9, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=1)))


@pytest_asyncio.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    return str(request.param)


@pytest_asyncio.fixture(scope="session")
async def database(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    async with temporary_database(backend, tmp_path_factory.mktemp("db")) as url:
        db = await open_database(url)
        try:
            yield db
        finally:
            await db.close()


@pytest_asyncio.fixture
async def empty_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database(backend, tmp_path) as url:
        yield url


@pytest_asyncio.fixture
async def fresh(empty_url: str) -> AsyncIterator[Database]:
    db = await open_database(empty_url)
    try:
        yield db
    finally:
        await db.close()


def a_call(**changes: object) -> CallRecord:
    call = CallRecord(
        call_id=f"c-{uuid.uuid4().hex[:10]}",
        channel_id=f"{uuid.uuid4().int % 10**10}.1",
        caller_number="+4930123456",
        correlation_id="corr-1",
        started_at=T0,
    )
    return replace(call, **changes)  # type: ignore[arg-type]


def an_event(call_id: str, kind: JourneyType, t: float, **details: object) -> JourneyEvent:
    return JourneyEvent(call_id, kind, t, T0 + timedelta(seconds=t), details)


# --- migrations -------------------------------------------------------------------------


async def test_migrations_build_the_schema_from_empty_and_run_twice(empty_url: str) -> None:
    db = await open_database(empty_url)
    try:
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert tables == TABLES | {"alembic_version"}
        await upgrade_to_head(db.engine)
        assert await current_revision(db.engine) == head_revision() is not None
    finally:
        await db.close()
    again = await open_database(empty_url)
    try:
        assert await current_revision(again.engine) == head_revision()
    finally:
        await again.close()


async def test_models_and_migrations_agree(database: Database) -> None:
    assert await schema_diffs(database.engine) == []


async def test_command_line_migrates_and_checks(empty_url: str) -> None:
    for _ in range(2):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "ari_app.db.migrate", empty_url, "--check"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert f"at revision {head_revision()}" in done.stdout


# --- stores -------------------------------------------------------------------------------


async def test_call_round_trip_start_then_finish(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    assert await database.calls.get(call.call_id) == call

    final = replace(
        call,
        ended_at=T0 + timedelta(minutes=3),
        outcome=CallOutcome.ANSWERED,
        hangup_cause="16",
        queue_id="billing",
        agent_id="a-7",
    )
    await database.calls.finish(final)
    assert await database.calls.get(call.call_id) == final
    assert await database.calls.get("c-never") is None


async def test_finish_inserts_a_call_that_never_started(database: Database) -> None:
    call = a_call(ended_at=T0, outcome=CallOutcome.FAILED)
    await database.calls.finish(call)
    assert await database.calls.get(call.call_id) == call


async def test_finish_keeps_who_called_and_when(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    await database.calls.finish(
        replace(
            call,
            caller_number="other",
            started_at=T0 + timedelta(1),
            outcome=CallOutcome.ENDED_IN_IVR,
        )
    )
    stored = await database.calls.get(call.call_id)
    assert stored == replace(call, outcome=CallOutcome.ENDED_IN_IVR)


async def test_starting_a_call_twice_is_a_conflict_naming_table_and_key(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    with pytest.raises(DatabaseConflict, match=rf"calls call_id='{call.call_id}'"):
        await database.calls.start(call)


async def test_recent_lists_newest_first(fresh: Database) -> None:
    calls = [a_call(started_at=T0 + timedelta(minutes=i)) for i in range(5)]
    for call in calls:
        await fresh.calls.start(call)
    assert await fresh.calls.recent(limit=3) == calls[::-1][:3]
    assert await fresh.calls.recent() == calls[::-1]


async def test_events_keep_their_order_across_batches(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    first = [
        an_event(call.call_id, JourneyType.CALL_START, 0.0),
        an_event(call.call_id, JourneyType.MENU, 1.5, choice="2", nested={"a": [1, 2]}),
    ]
    second = [
        an_event(call.call_id, JourneyType.QUEUE_JOIN, 2.0, queue_id="billing"),
        an_event(call.call_id, JourneyType.HANGUP, 9.25),
    ]
    await database.calls.append_events(first)
    await database.calls.append_events([])
    await database.calls.append_events(second)

    assert await database.calls.events(call.call_id) == first + second
    async with database.engine.connect() as conn:
        seqs = (
            (
                await conn.execute(
                    text("SELECT seq FROM call_events WHERE call_id = :c ORDER BY id"),
                    {"c": call.call_id},
                )
            )
            .scalars()
            .all()
        )
    assert seqs == [1, 2, 3, 4]


async def test_concurrent_appends_get_distinct_consecutive_seqs(database: Database) -> None:
    calls = [a_call() for _ in range(3)]
    for call in calls:
        await database.calls.start(call)
    await asyncio.gather(
        *(
            database.calls.append_events([an_event(call.call_id, JourneyType.PROMPT, float(i))])
            for i in range(10)
            for call in calls
        )
    )
    async with database.engine.connect() as conn:
        for call in calls:
            seqs = (
                (
                    await conn.execute(
                        text("SELECT seq FROM call_events WHERE call_id = :c ORDER BY seq"),
                        {"c": call.call_id},
                    )
                )
                .scalars()
                .all()
            )
            assert seqs == list(range(1, 11))


async def test_events_for_an_unknown_call_are_a_conflict(database: Database) -> None:
    with pytest.raises(DatabaseConflict, match="call_events call_id='c-nobody'"):
        await database.calls.append_events([an_event("c-nobody", JourneyType.CALL_START, 0)])


async def test_recording_round_trip(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    metas = [
        RecordingMeta(
            f"r-{uuid.uuid4().hex[:8]}",
            call.call_id,
            "billing",
            "a-7",
            T0 + timedelta(seconds=s),
            61.5,
            "wav",
            5_000_000_000,
            "ab" * 32,
            f"2026/11/22/{call.call_id}-{s}.wav",
        )
        for s in (30, 10)
    ]
    for meta in metas:
        await database.recordings.add(meta)
    assert await database.recordings.get(metas[0].recording_id) == metas[0]
    assert await database.recordings.get("r-none") is None
    assert await database.recordings.for_call(call.call_id) == metas[::-1]
    taken = metas[0].recording_id
    with pytest.raises(DatabaseConflict, match=f"recordings recording_id='{taken}'"):
        await database.recordings.add(metas[0])


async def test_survey_round_trip_and_one_answer_per_call(database: Database) -> None:
    answered, silent = a_call(), a_call()
    for call in (answered, silent):
        await database.calls.start(call)
    answer = SurveyAnswer(answered.call_id, "billing", "a-7", 5, T0 + timedelta(minutes=4))
    no_answer = SurveyAnswer(silent.call_id, None, None, None, T0)
    await database.surveys.add(answer)
    await database.surveys.add(no_answer)
    assert await database.surveys.for_call(answered.call_id) == answer
    assert await database.surveys.for_call(silent.call_id) == no_answer
    assert await database.surveys.for_call("c-none") is None
    with pytest.raises(DatabaseConflict, match="survey_answers"):
        await database.surveys.add(replace(answer, score=1))


@pytest.mark.parametrize("score", [0, 6])
async def test_survey_score_outside_1_to_5_is_refused(database: Database, score: int) -> None:
    call = a_call()
    await database.calls.start(call)
    with pytest.raises(DatabaseConflict, match=rf"survey_answers call_id='{call.call_id}'.*score"):
        await database.surveys.add(SurveyAnswer(call.call_id, "q", "a", score, T0))
    assert await database.surveys.for_call(call.call_id) is None



# --- time, constraints, errors ----------------------------------------------------------


async def test_times_come_back_aware_utc_and_are_stored_as_utc(database: Database) -> None:
    call = a_call(ended_at=T0 + timedelta(seconds=90), outcome=CallOutcome.ANSWERED)
    await database.calls.finish(call)
    await database.calls.append_events([an_event(call.call_id, JourneyType.HANGUP, 90.0)])
    stored = await database.calls.get(call.call_id)
    (event,) = await database.calls.events(call.call_id)
    assert stored is not None and stored.ended_at is not None
    for value in (stored.started_at, stored.ended_at, event.at):
        assert value.tzinfo is UTC
    assert stored.started_at == T0 and stored.started_at.hour == 8

    async with database.engine.connect() as conn:
        raw = (
            await conn.execute(  # untyped text(): the driver's own value
                text("SELECT started_at FROM calls WHERE call_id = :c"), {"c": call.call_id}
            )
        ).scalar_one()
    assert str(raw).startswith("2026-11-22 08:00:00.25")  # UTC wall time, either backend


async def test_naive_times_are_refused(database: Database) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        await database.calls.start(a_call(started_at=datetime(2026, 11, 22, 9, 0)))


async def test_deleting_a_call_cascades_to_events_and_survey(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    await database.calls.append_events([an_event(call.call_id, JourneyType.CALL_START, 0)])
    await database.surveys.add(SurveyAnswer(call.call_id, None, None, 3, T0))
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM calls WHERE call_id = :c"), {"c": call.call_id})
    assert await database.calls.events(call.call_id) == []
    assert await database.surveys.for_call(call.call_id) is None


async def test_a_call_with_recordings_cannot_be_deleted(database: Database) -> None:
    call = a_call()
    await database.calls.start(call)
    await database.recordings.add(
        RecordingMeta(
            f"r-{uuid.uuid4().hex[:8]}",
            call.call_id,
            "q",
            "a",
            T0,
            1.0,
            "wav",
            1,
            "0" * 64,
            "x.wav",
        )
    )
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(text("DELETE FROM calls WHERE call_id = :c"), {"c": call.call_id})


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path}/new/folder/hotline.db")
    try:
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await db.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://hotline:s3cret-pw@127.0.0.1:1/hotline",  # nothing listens
        "postgresql://hotline:s3cret-pw@no-such-host.invalid/hotline",
        "postgresql+asyncpg://hotline:s3cret-pw@127.0.0.1:port/hotline",  # malformed
        "mysql+aiomysql://hotline:s3cret-pw@127.0.0.1/hotline",  # unsupported
        "nonsense",
    ],
)
async def test_unusable_url_is_unavailable_with_the_password_masked(url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(url, connect_timeout_s=5)
    message = str(caught.value)
    assert "s3cret-pw" not in message and "\n" not in message
    assert ("hotline:***@" in message) or url == "nonsense"


async def test_unreachable_sqlite_folder_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="cannot create"):
        await open_database(f"sqlite+aiosqlite:///{blocker}/sub/hotline.db")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://hotline:s3cret-pw@127.0.0.1:1/hotline",
        "sqlite+aiosqlite:////nonexistent-folder-for-hotline-tests/hotline.db",
    ],
)
async def test_stores_report_a_lost_database_as_unavailable(url: str) -> None:
    db = Database(create_async_engine(url, connect_args={"timeout": 5}))
    try:
        with pytest.raises(DatabaseUnavailable, match=r"unavailable \(calls call_id='c-1'\)"):
            await db.calls.get("c-1")
        with pytest.raises(DatabaseUnavailable) as caught:
            await db.check()
        assert "s3cret-pw" not in str(caught.value)
    finally:
        await db.close()


async def test_several_calls_in_one_append_are_all_or_nothing(database: Database) -> None:
    """The group commit's premise: one refused call refuses the whole transaction, so it
    can write every part again alone without writing any event twice."""
    call = a_call()
    await database.calls.start(call)
    with pytest.raises(DatabaseConflict):
        await database.calls.append_events(
            [an_event(call.call_id, JourneyType.PROMPT, 1.0),
             an_event("c-nobody", JourneyType.PROMPT, 1.0)],
            {call.call_id: {"stage": "ivr"}})
    assert await database.calls.events(call.call_id) == []
    unfinished = await database.calls.unfinished()  # the database is the whole session's
    assert [left for left in unfinished if left[0].call_id == call.call_id] == [(call, None)]


async def test_one_append_saves_each_calls_own_checkpoint(database: Database) -> None:
    calls = [a_call(), a_call()]
    for call in calls:
        await database.calls.start(call)
    await database.calls.append_events(
        [an_event(calls[0].call_id, JourneyType.PROMPT, 1.0)],
        {calls[0].call_id: {"stage": "ivr", "node": "menu"},
         calls[1].call_id: {"stage": "queue", "queue_id": "claims"}})
    saved = {record.call_id: checkpoint for record, checkpoint in await database.calls.unfinished()}
    assert saved[calls[0].call_id] == {"stage": "ivr", "node": "menu"}
    assert saved[calls[1].call_id] == {"stage": "queue", "queue_id": "claims"}
