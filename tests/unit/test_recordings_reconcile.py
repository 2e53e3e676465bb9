"""The recording reconcile over real files in tmp_path and a real SQLite recording store.

Each test leaves files in the spool or the store the way a crash or a restart would, runs one
reconcile pass, and looks at the report, the files and the rows.
"""

from __future__ import annotations

import hashlib
import os
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.db.database import Database
from recordings.lifecycle import RecordingPaths
from recordings.model import RecordingMeta
from recordings.naming import recording_name
from recordings.reconcile import (
    CallFacts,
    NoRecording,
    Quarantined,
    ReconcileReport,
    RecordingIndex,
    Skipped,
    StoredProblem,
    reconcile_recordings,
    recording_call_id,
)

RATE = 8000  # Asterisk's wav: 8 kHz, 16-bit mono
HEADER = 44  # what the wave module and Asterisk write before the samples
SINCE = datetime.now(UTC) - timedelta(days=1)


class FakeCalls:
    """The calls port over a dict, as the call engine will implement it over the calls table."""

    def __init__(self) -> None:
        self.known: dict[str, CallFacts] = {}
        self.answered: list[str] = []

    async def facts(self, call_id: str) -> CallFacts | None:
        return self.known.get(call_id)

    async def answered_since(self, since: datetime) -> list[str]:
        assert since == SINCE
        return list(self.answered)


@pytest.fixture
def paths(tmp_path: Path) -> RecordingPaths:
    (tmp_path / "spool").mkdir()
    return RecordingPaths(tmp_path / "spool", tmp_path / "store")


@pytest.fixture
def calls() -> FakeCalls:
    return FakeCalls()


async def ended_call(db: Database, calls: FakeCalls, call_id: str, *, ended: bool = True) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    await db.calls.finish(CallRecord(
        call_id, f"ch-{call_id}", "+15550100", None, started,
        ended_at=started + timedelta(minutes=5) if ended else None,
        outcome=CallOutcome.ANSWERED if ended else CallOutcome.IN_PROGRESS,
        queue_id="claims", agent_id="alice"))
    calls.known[call_id] = CallFacts(call_id, ended, "claims", "alice", started)
    if ended:
        calls.answered.append(call_id)


def write_wav(path: Path, seconds: float, *, age_s: float = 600) -> bytes:
    """A valid 16-bit mono WAV of a ramp (not silence), last written `age_s` ago."""
    frames = int(seconds * RATE)
    samples = b"".join((i % 2000).to_bytes(2, "little") for i in range(frames))
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(RATE)
        audio.writeframes(samples)
    age(path, age_s)
    return samples


def age(path: Path, seconds: float) -> float:
    mtime = time.time() - seconds
    os.utime(path, (mtime, mtime))
    return mtime


def set_sizes(path: Path, riff: int, data: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(4)
        handle.write(riff.to_bytes(4, "little"))
        handle.seek(HEADER - 4)
        handle.write(data.to_bytes(4, "little"))


async def run(paths: RecordingPaths, db: Database, calls: FakeCalls, *,
              live: frozenset[str] = frozenset()) -> ReconcileReport:
    index: RecordingIndex = db.recordings  # the real store is what the service passes
    return await reconcile_recordings(paths, index, calls, is_live=live.__contains__,
                                      since=SINCE)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_call_id_comes_back_out_of_a_recording_name() -> None:
    assert recording_call_id(recording_name("3f2a9c", 2)) == "3f2a9c"
    assert recording_call_id(recording_name("a-b-c", 12)) == "a-b-c"
    for name in ("hotline-3f2a9c", "hotline--1", "hotline-x-01", "other-3f2a9c-1", "hotline-x-"):
        assert recording_call_id(name) is None, name


@pytest.mark.parametrize(("riff", "data", "torn_byte"), [
    (0, 0, False),  # header as Asterisk writes it at open, never updated
    (0, 0, True),  # ... and the writer died in the middle of a sample
    (0xFFFFFFFF, 0x7FFF0000, False),  # garbage
    (36, 0, True),
], ids=["zeroed", "zeroed-torn-sample", "garbled", "riff-of-empty-file"])
async def test_a_wav_cut_off_by_a_crash_is_repaired_and_stored_with_its_duration(
    paths: RecordingPaths, database: Database, calls: FakeCalls,
    riff: int, data: int, torn_byte: bool,
) -> None:
    await ended_call(database, calls, "c1")
    spool_file = paths.spool_dir / f"{recording_name('c1', 1)}.wav"
    samples = write_wav(spool_file, 2.5)
    if torn_byte:
        with spool_file.open("ab") as handle:
            handle.write(b"\x7f")
    set_sizes(spool_file, riff, data)
    mtime = age(spool_file, 600)

    report = await run(paths, database, calls)

    assert report.summary() == {"recovered": 1, "repaired": 1, "quarantined": 0,
                                "missing_file": 0, "corrupt": 0, "no_recording": 0,
                                "skipped": 0}
    (recovered,) = report.recovered
    assert (recovered.call_id, recovered.name, recovered.duration_s) == (
        "c1", spool_file.name, 2.5)
    assert recovered.repaired and recovered.indexed
    assert not spool_file.exists()
    stored = recovered.path
    assert stored.parent.parent.parent.parent == paths.store_dir
    assert stored.stat().st_size == HEADER + len(samples)  # the torn half sample is gone
    with wave.open(str(stored), "rb") as audio:
        assert audio.getnframes() == 20000
        assert audio.readframes(20000) == samples
    raw = stored.read_bytes()
    assert int.from_bytes(raw[4:8], "little") == len(raw) - 8
    assert int.from_bytes(raw[40:44], "little") == len(samples)
    meta = await database.recordings.get(recovered.recording_id)
    assert meta is not None
    assert meta.started_at.timestamp() == pytest.approx(mtime - 2.5, abs=1e-3)
    assert meta == RecordingMeta(
        recording_id=recovered.recording_id, call_id="c1", queue_id="claims", agent_id="alice",
        started_at=meta.started_at, duration_s=2.5, format="wav", size_bytes=len(raw),
        sha256=sha256(stored), path=str(stored))


async def test_a_wav_with_a_sound_header_is_stored_as_it_is(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    await ended_call(database, calls, "c1")
    spool_file = paths.spool_dir / f"{recording_name('c1', 2)}.wav"
    write_wav(spool_file, 1.0)
    before = sha256(spool_file)

    report = await run(paths, database, calls)

    (recovered,) = report.recovered
    assert (recovered.repaired, recovered.duration_s) == (False, 1.0)
    assert sha256(recovered.path) == before
    assert [m.recording_id for m in await database.recordings.for_call("c1")] == [
        recovered.recording_id]


async def test_files_still_being_written_or_of_calls_still_going_stay_in_the_spool(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    await ended_call(database, calls, "old")
    await ended_call(database, calls, "going", ended=False)
    live = paths.spool_dir / f"{recording_name('old', 1)}.wav"
    young = paths.spool_dir / f"{recording_name('old', 2)}.wav"
    talking = paths.spool_dir / f"{recording_name('going', 1)}.wav"
    foreign = paths.spool_dir / "voicemail-greeting.wav"
    for path, age_s in ((live, 600), (talking, 600), (foreign, 600), (young, 5)):
        write_wav(path, 0.5)
        set_sizes(path, 0, 0)  # cut off by a crash, but not ours to repair now
        age(path, age_s)
    before = {path: path.read_bytes() for path in (live, young, talking, foreign)}

    report = await run(paths, database, calls, live=frozenset({live.stem}))

    assert sorted(report.skipped, key=lambda s: s.name) == [
        Skipped(talking.name, "its call has not ended"),
        Skipped(live.name, "still being recorded"),
        Skipped(young.name, "written less than 60 s ago"),
        Skipped(foreign.name, "not a hotline recording"),
    ]
    assert (report.recovered, report.quarantined, report.no_recording) == ([], [], [])
    assert {path: path.read_bytes() for path in before} == before  # not even repaired
    assert not paths.store_dir.exists()
    assert await database.recordings.for_call("old") == []


async def test_stored_rows_whose_file_is_gone_or_changed_are_reported_and_kept(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    await ended_call(database, calls, "c1")
    files = {}
    for n, recording_id in enumerate(("r-fine", "r-gone", "r-changed"), start=1):
        path = paths.store_dir / f"{recording_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, 1.0)
        files[recording_id] = path
        await database.recordings.add(RecordingMeta(
            recording_id, "c1", "claims", "alice", datetime.now(UTC) - timedelta(minutes=n),
            1.0, "wav", path.stat().st_size, sha256(path), str(path)))
    old = paths.store_dir / "r-old.wav"
    await database.recordings.add(RecordingMeta(
        "r-old", "c1", "claims", "alice", SINCE - timedelta(days=1), 1.0, "wav", 1, "0" * 64,
        str(old)))  # gone too, but before `since`: not this pass's business
    files["r-gone"].unlink()
    with files["r-changed"].open("r+b") as handle:
        handle.seek(HEADER + 10)
        handle.write(b"\x00\x01")

    report = await run(paths, database, calls)

    assert report.missing_file == [StoredProblem(
        "r-gone", "c1", str(files["r-gone"]), "the recording file is missing from the store")]
    assert report.corrupt == [StoredProblem(
        "r-changed", "c1", str(files["r-changed"]), "the file's sha256 no longer matches its row")]
    assert files["r-changed"].exists()
    assert {m.recording_id for m in await database.recordings.for_call("c1")} == {
        "r-fine", "r-gone", "r-changed", "r-old"}
    assert report.no_recording == []  # c1 has recordings, even if one is broken


async def test_an_answered_call_with_no_recording_anywhere_is_reported(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    for call_id in ("recorded", "unrecorded", "in-spool"):
        await ended_call(database, calls, call_id)
    stored = paths.store_dir / "r1.wav"
    stored.parent.mkdir(parents=True)
    write_wav(stored, 1.0)
    await database.recordings.add(RecordingMeta(
        "r1", "recorded", "claims", "alice", datetime.now(UTC), 1.0, "wav",
        stored.stat().st_size, sha256(stored), str(stored)))
    write_wav(paths.spool_dir / f"{recording_name('in-spool', 1)}.wav", 1.0, age_s=1)

    report = await run(paths, database, calls)

    assert report.no_recording == [NoRecording("unrecorded", "no recording file was found")]
    assert report.skipped == [
        Skipped(f"{recording_name('in-spool', 1)}.wav", "written less than 60 s ago")]


async def test_what_cannot_be_a_recording_is_quarantined_never_deleted(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    await ended_call(database, calls, "c1")
    garbage = paths.spool_dir / f"{recording_name('c1', 1)}.wav"
    garbage.write_bytes(b"this is not audio at all, " * 10)
    no_data = paths.spool_dir / f"{recording_name('c1', 2)}.wav"
    write_wav(no_data, 0.2)
    no_data.write_bytes(no_data.read_bytes()[:HEADER - 8])  # the data chunk header is cut off
    unparsed = paths.spool_dir / "hotline-nocallid.wav"
    unparsed.write_bytes(b"RIFF")
    other_format = paths.spool_dir / f"{recording_name('c1', 3)}.gsm"
    other_format.write_bytes(b"\xd8" * 33)
    contents = {p.name: p.read_bytes() for p in (garbage, no_data, unparsed, other_format)}
    for path in (garbage, no_data, unparsed, other_format):
        age(path, 600)

    report = await run(paths, database, calls)

    quarantine = paths.store_dir / "quarantine"
    assert report.quarantined == [  # in name order
        Quarantined(garbage.name, quarantine / garbage.name,
                    f"{garbage.name}: not a WAV file (no RIFF/WAVE header)"),
        Quarantined(no_data.name, quarantine / no_data.name, f"{no_data.name}: no data chunk"),
        Quarantined(other_format.name, quarantine / other_format.name,
                    "not a .wav recording"),
        Quarantined(unparsed.name, quarantine / unparsed.name,
                    "the name does not parse to a call id"),
    ]
    assert {p.name: p.read_bytes() for p in quarantine.iterdir()} == contents
    assert list(paths.spool_dir.iterdir()) == []
    assert report.recovered == [] and await database.recordings.for_call("c1") == []


async def test_a_recording_of_a_call_the_database_never_heard_of_is_quarantined_repaired(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    spool_file = paths.spool_dir / f"{recording_name('ghost', 1)}.wav"
    samples = write_wav(spool_file, 0.5)
    set_sizes(spool_file, 0, 0)
    age(spool_file, 600)

    report = await run(paths, database, calls)

    (found,) = report.quarantined
    assert found.name == spool_file.name
    assert found.path == paths.store_dir / "quarantine" / spool_file.name
    assert found.reason.startswith("the store refused its row: recordings recording_id=")
    with wave.open(str(found.path), "rb") as audio:
        assert audio.readframes(audio.getnframes()) == samples
    assert [p for p in paths.store_dir.rglob("*.wav") if p.parent.name != "quarantine"] == []


async def test_one_log_line_per_finding_and_a_summary(
    paths: RecordingPaths, database: Database, calls: FakeCalls
) -> None:
    await ended_call(database, calls, "c1")
    await ended_call(database, calls, "c2")
    write_wav(paths.spool_dir / f"{recording_name('c1', 1)}.wav", 1.0)
    (paths.spool_dir / f"{recording_name('c1', 2)}.wav").write_bytes(b"junk")
    age(paths.spool_dir / f"{recording_name('c1', 2)}.wav", 600)

    with structlog.testing.capture_logs() as logs:
        report = await run(paths, database, calls)

    events = [(entry["event"], entry["log_level"]) for entry in logs]
    assert events == [
        ("recording.reconcile.recovered", "warning"),
        ("recording.reconcile.quarantined", "warning"),
        ("recording.reconcile.no_recording", "warning"),
        ("recording.reconcile.done", "info"),
    ]
    assert logs[-1]["recovered"] == logs[-1]["quarantined"] == logs[-1]["no_recording"] == 1
    assert report.no_recording == [NoRecording("c2", "no recording file was found")]
