"""Two mono legs of a conversation merged into one stereo WAV: caller left, agent right, both
ending together; a missing leg is a silent channel; the configuration that picks it."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from ari_app.calls.snoop_recorder import MONO, STEREO, legs_for, merge_stereo
from ari_app.settings import RecordingSettings

RATE = 8000


def write_wav(path: Path, samples: list[int]) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def tone(seconds: float, amplitude: int = 8000, hz: float = 440.0) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * hz * i / RATE))
            for i in range(round(seconds * RATE))]


def silence(seconds: float) -> list[int]:
    return [0] * round(seconds * RATE)


def read_stereo(path: Path) -> tuple[list[int], list[int]]:
    with wave.open(str(path), "rb") as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (2, 2, RATE)
        frames = audio.readframes(audio.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return list(samples[0::2]), list(samples[1::2])


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def test_the_caller_is_left_the_agent_right(tmp_path: Path) -> None:
    caller, agent, target = tmp_path / "c.wav", tmp_path / "a.wav", tmp_path / "out.wav"
    write_wav(caller, tone(0.5) + silence(0.5))  # the caller speaks, then listens
    write_wav(agent, silence(0.5) + tone(0.5, hz=880))  # the agent answers

    merge_stereo(caller, agent, target)

    left, right = read_stereo(target)
    assert len(left) == len(right) == RATE
    first, second = slice(0, RATE // 2), slice(RATE // 2, RATE)
    assert rms(left[first]) > 5000 and rms(right[first]) == 0
    assert rms(left[second]) == 0 and rms(right[second]) > 5000
    assert not caller.exists() and not agent.exists()  # merged: the legs are gone


def test_a_leg_that_started_later_is_padded_at_its_start(tmp_path: Path) -> None:
    caller, agent, target = tmp_path / "c.wav", tmp_path / "a.wav", tmp_path / "out.wav"
    write_wav(caller, tone(1.0))
    write_wav(agent, tone(0.75, hz=880))  # recorded from 0.25 s on: both stopped together

    merge_stereo(caller, agent, target)

    left, right = read_stereo(target)
    assert len(left) == len(right) == RATE
    assert rms(right[: RATE // 4]) == 0 and rms(right[RATE // 4:]) > 5000
    assert rms(left) > 5000


def test_a_missing_leg_is_a_silent_channel(tmp_path: Path) -> None:
    caller, agent, target = tmp_path / "c.wav", tmp_path / "a.wav", tmp_path / "out.wav"
    write_wav(agent, tone(0.5))

    merge_stereo(caller, agent, target)

    left, right = read_stereo(target)
    assert rms(left) == 0 and rms(right) > 5000


def test_without_legs_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        merge_stereo(tmp_path / "c.wav", tmp_path / "a.wav", tmp_path / "out.wav")
    assert list(tmp_path.iterdir()) == []


def test_snoops_and_legs_are_named_after_the_call_and_the_recording() -> None:
    (mono,) = legs_for("c1", "hotline-c1-2", MONO)
    assert (mono.snoop_id, mono.spy, mono.name) == ("c1-rec-2", "both", "hotline-c1-2")
    caller, agent = legs_for("c1", "hotline-c1-2", STEREO)
    assert (caller.snoop_id, caller.spy) == ("c1-rec-2-caller", "in")
    assert (agent.snoop_id, agent.spy) == ("c1-rec-2-agent", "out")
    # Not "hotline-…": the spool reconcile leaves legs alone instead of quarantining them.
    assert not caller.name.startswith("hotline-") and caller.name.endswith("-caller")


def test_recording_configuration_defaults_to_a_mono_snoop() -> None:
    settings = RecordingSettings()
    assert (settings.method, settings.channels) == ("snoop", "mono")


@pytest.mark.parametrize("fields", [{"method": "bridge"}, {"format": "gsm"}])
def test_stereo_needs_a_snoop_and_wav(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="stereo needs method: snoop and format: wav"):
        RecordingSettings(channels="stereo", **fields)  # type: ignore[arg-type]
