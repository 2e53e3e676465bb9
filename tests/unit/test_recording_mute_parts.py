"""PCI mute's parts one by one: the muted intervals of a live recording (`MuteLog`), how they
are held to the stored file's length, kept in the database, and what the fake Asterisk's
`/recordings/live/{name}/mute` does."""

from __future__ import annotations

import math
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest

from ari_app.ari.errors import AriNotFound
from ari_app.ari.events import RecordingStarted
from ari_app.ari.fake import FakeAsterisk
from ari_app.calls.bridge_recorder import BridgeRecorder
from ari_app.calls.call import Call
from ari_app.calls.mailbox import CallMailbox
from ari_app.calls.record import CallRecord
from ari_app.db.database import Database
from recordings.lifecycle import MuteLog, RecordingEnded, RecordingPaths, store_recording
from recordings.model import MutedInterval, RecordingMeta

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_mute_log_keeps_one_interval_per_muted_stretch() -> None:
    log = MuteLog()
    assert not log.unmute(0.5)  # not muted: nothing to end
    assert log.mute(1.0, "alice", "card") and log.muted
    assert not log.mute(1.5, "sue", "again")  # already muted: the first stretch goes on
    assert log.unmute(2.0) and not log.muted
    assert log.mute(3.0, "keypad:alice", "card data")
    assert log.intervals() == (MutedInterval(1.0, 2.0, "alice", "card"),
                               MutedInterval(3.0, math.inf, "keypad:alice", "card data"))


def _wav(path: Path, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(2 * round(8000 * seconds)))
    return path


class Kept:
    def __init__(self) -> None:
        self.rows: list[RecordingMeta] = []

    async def add(self, meta: RecordingMeta) -> None:
        self.rows.append(meta)


async def test_stored_intervals_are_held_to_the_files_length(tmp_path: Path) -> None:
    paths = RecordingPaths(tmp_path / "spool", tmp_path / "store")
    source = _wav(paths.spool_dir / "r.wav", 4.0)
    kept = Kept()
    stored = await store_recording(
        source, paths, kept, recording_id="r1", call_id="c1", queue_id="claims",
        agent_id="alice", started_at=T0, mutes=(
            MutedInterval(0.5, 1.25, "alice", "card"),
            MutedInterval(3.5, math.inf, "sue", "card"),  # ended muted: closes at the end
            MutedInterval(-0.1, 0.2, "x", "clock skew"),  # before the file began
        ))  # fmt: skip
    assert stored.meta.duration_s == 4.0
    assert stored.meta.mutes == (MutedInterval(0.5, 1.25, "alice", "card"),
                                 MutedInterval(3.5, 4.0, "sue", "card"),
                                 MutedInterval(0.0, 0.2, "x", "clock skew"))
    assert kept.rows == [stored.meta]


async def test_the_store_keeps_and_returns_the_intervals(database: Database) -> None:
    await database.calls.start(_record("c1"))
    mutes = (MutedInterval(0.5, 1.25, "alice", "caller reads card"),
             MutedInterval(2.0, 3.0, "keypad:alice", "card data"))
    muted = RecordingMeta("r1", "c1", "claims", "alice", T0, 4.0, "wav", 64, "0" * 64, "/r1",
                          mutes)
    plain = RecordingMeta("r2", "c1", "claims", "alice", T0, 4.0, "wav", 64, "0" * 64, "/r2")
    await database.recordings.add(muted)
    await database.recordings.add(plain)
    assert await database.recordings.get("r1") == muted
    assert await database.recordings.get("r2") == plain
    assert [m.mutes for m in await database.recordings.for_call("c1")] == [mutes, ()]


def _record(call_id: str) -> CallRecord:
    return CallRecord(call_id=call_id, channel_id=f"chan-{call_id}", caller_number="+1555",
                      correlation_id=None, started_at=T0)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(spool_dir=tmp_path / "spool")
    yield fake
    fake.shutdown()


async def _bridge_recording(fake: FakeAsterisk) -> str:
    ari = fake.rest()
    caller = fake.call_in()
    await ari.answer(caller)
    await ari.create_bridge("b")
    await ari.add_channels("b", [caller])
    await ari.record_bridge("b", "rec")
    await fake.wait_for(RecordingStarted)
    return caller


async def test_the_fake_asterisk_keeps_each_muted_stretch(fake: FakeAsterisk) -> None:
    ari = fake.rest()
    with pytest.raises(AriNotFound, match="Recording not found"):
        await ari.mute_recording("rec")
    caller = await _bridge_recording(fake)
    recording = fake.recordings["rec"]
    await ari.unmute_recording("rec")  # not muted: nothing changes
    assert recording.muted_since is None
    await ari.mute_recording("rec")
    since = recording.muted_since
    assert since is not None
    await ari.unmute_recording("rec")
    await ari.mute_recording("rec")
    await ari.stop_recording("rec")  # ended muted: the stretch ends with the file
    assert recording.duration_s is not None
    assert len(recording.muted) == 2 and recording.muted_since is None
    assert recording.muted[0][0] == since - recording.started_at
    assert recording.muted[1][1] == recording.duration_s
    with pytest.raises(AriNotFound):
        await ari.unmute_recording("rec")  # finished: no live recording any more
    await ari.hangup(caller)
    await ari.destroy_bridge("b")


async def test_the_fake_asterisk_toggles_at_a_second_mute_as_asterisk_22_does(
        fake: FakeAsterisk) -> None:
    """res/stasis_recording.c keeps `muted` in `int muted:1`: set, it reads -1, never 1."""
    ari = fake.rest()
    await _bridge_recording(fake)
    recording = fake.recordings["rec"]
    await ari.mute_recording("rec")
    await ari.mute_recording("rec")  # toggled back: the caller is recorded again
    assert recording.muted_since is None and len(recording.muted) == 1
    await ari.unmute_recording("rec")  # the flag was set: toggled again, now muted
    assert recording.muted_since is not None
    await ari.unmute_recording("rec")  # the flag is clear: nothing changes
    assert recording.muted_since is not None


class Leg:
    """What BridgeRecorder needs of a call: its ARI client, mailbox and event routes."""

    def __init__(self, fake: FakeAsterisk) -> None:
        self.ari = fake.rest()
        self.mailbox = CallMailbox("caller")

    def bind(self, subject_id: str) -> None: ...

    def unbind(self, subject_id: str) -> None: ...


async def test_the_bridge_recorder_mutes_once_however_often_asked(fake: FakeAsterisk) -> None:
    await _bridge_recording(fake)
    recording = fake.recordings["rec"]
    await fake.rest().mute_recording("rec")  # an earlier run muted it, then stopped
    recorder = BridgeRecorder(cast(Call, Leg(fake)), "b")
    recorder.resume("rec")  # this run does not know that
    await recorder.mute("rec")  # unmute first (Asterisk's flag is a known 0 then), then mute
    await recorder.mute("rec")
    assert recording.muted_since is not None
    await recorder.unmute("rec")
    await recorder.unmute("rec")
    assert recording.muted_since is None
    await recorder.mute("rec")
    await recorder.mute("rec")
    assert recording.muted_since is not None and len(recording.muted) == 2
    mutes = fake.requested("POST", "/recordings/live/rec/mute")
    assert len(mutes) == 3  # the earlier run's, then one per change, never two in a row
    await fake.rest().stop_recording("rec")
    with pytest.raises(RecordingEnded):
        await recorder.unmute("rec")
