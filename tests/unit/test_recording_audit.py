"""The recording reconcile in the service: call facts from the calls table, live calls left
alone, a database away deferring the pass."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.calls.recording_audit import CallFactsOverStore, audit_recordings
from ari_app.db.database import Database
from kernel.db.errors import DatabaseUnavailable
from recordings.lifecycle import RecordingPaths
from recordings.naming import recording_name

STARTED = datetime.now(UTC) - timedelta(minutes=5)


def paths(tmp_path: Path) -> RecordingPaths:
    spool, store = tmp_path / "spool", tmp_path / "store"
    spool.mkdir()
    store.mkdir()
    return RecordingPaths(spool, store, "wav")


def old_spool_file(paths: RecordingPaths, call_id: str) -> Path:
    path = paths.spool_dir / f"{recording_name(call_id, 1)}.wav"
    path.write_bytes(b"RIFF")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


async def test_call_facts_come_from_the_calls_table(database: Database) -> None:
    ended = CallRecord("c-ended", "ch-1", "+1555", None, STARTED, STARTED + timedelta(minutes=1),
                       CallOutcome.ANSWERED, "normal_clearing", "claims", "alice")
    await database.calls.start(ended)
    await database.calls.finish(ended)
    await database.calls.start(CallRecord("c-live", "ch-2", "+1556", None, STARTED))
    facts = CallFactsOverStore(database.calls)

    answer = await facts.facts("c-ended")
    assert answer is not None
    assert (answer.ended, answer.queue_id, answer.agent_id) == (True, "claims", "alice")
    live = await facts.facts("c-live")
    assert live is not None and not live.ended
    assert await facts.facts("nobody") is None
    assert await facts.answered_since(STARTED) == ["c-ended"]
    assert await facts.answered_since(datetime.now(UTC)) == []


async def test_a_live_calls_spool_file_is_left_alone_and_a_missing_one_reported(
        database: Database, tmp_path: Path) -> None:
    ended = CallRecord("c-ended", "ch-1", "+1555", None, STARTED, STARTED + timedelta(minutes=1),
                       CallOutcome.ANSWERED, "normal_clearing", "claims", "alice")
    await database.calls.start(ended)
    await database.calls.finish(ended)
    where = paths(tmp_path)
    # A call live here whose row the journal has not written yet: unknown to the database.
    live_file = old_spool_file(where, "c-live")

    report = await audit_recordings(where, database.recordings, database.calls,
                                    live_calls=lambda: {"c-live"})

    assert report is not None
    assert [n.call_id for n in report.no_recording] == ["c-ended"]
    assert live_file.exists() and report.recovered == [] and report.quarantined == []
    # Once the call is no longer live, the same file is an orphan (not a WAV: quarantined).
    later = await audit_recordings(where, database.recordings, database.calls,
                                   live_calls=set)
    assert later is not None and [q.name for q in later.quarantined] == [live_file.name]


async def test_a_database_away_defers_the_pass(database: Database, tmp_path: Path) -> None:
    class Away:
        async def started_since(self, since: datetime) -> list[object]:
            raise DatabaseUnavailable("database unavailable (recordings)")

    report = await audit_recordings(paths(tmp_path), Away(), database.calls,  # type: ignore[arg-type]
                                    live_calls=set)
    assert report is None
