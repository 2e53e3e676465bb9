"""PCI mute through the real Asterisk: an agent mutes the recording over the API while card data
would be spoken, a supervisor unmutes it; the stored file keeps the talk's length (silence is
written, nothing is cut), the muted stretch is silence while the rest is not, and the interval
is in the recording's metadata. Both ways of recording: the bridge's, and the snoop's.

The simulated agent (`Local/1*<talk>@sim-agents`) plays speech prompts for the whole talk, so
every unmuted second of the bridge mix has speech in it.
"""

from __future__ import annotations

import asyncio
import math
import wave
from array import array
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import AGENT_TOKEN, HotlineFactory, Line, agent, first

TALK_S = 9  # the agent talks this long, then hangs up
MUTE_AFTER_S = 2.5  # after the recording started
MUTED_FOR_S = 3.0
# Asterisk applies a mute when the recorder reads its next frame (20 ms) after our request was
# answered; our interval's times are taken when the answer arrives: allow 0.1 s at each edge.
EDGE_S = 0.1
# File length against talk time (recording started → the agent's hangup, on the service's
# clock): the recording stops with the bridge or the snoop, a few event round trips after the
# hangup. Measured on 22.10.1 (3 runs each): bridge +0.018..+0.020 s, snoop +0.001..+0.002 s.
# 0.5 s leaves room for a loaded machine and still tells a kept timeline from a paused one,
# which would be MUTED_FOR_S (3 s) short.
LENGTH_TOLERANCE_S = 0.5
SILENT_RMS = 20.0  # muted: measured 0.0 (Asterisk writes zero samples); room for codec noise
SPEECH_RMS = 300.0  # the prompts' speech over 1.5 s or more: measured 1750..1850


def _samples(path: Path, start_s: float, end_s: float) -> array[int]:
    with wave.open(str(path), "rb") as audio:
        assert (audio.getsampwidth(), audio.getnchannels()) == (2, 1)
        rate = audio.getframerate()
        audio.setpos(round(start_s * rate))
        frames = audio.readframes(round((end_s - start_s) * rate))
    samples = array("h")
    samples.frombytes(frames)
    return samples


def rms(path: Path, start_s: float, end_s: float) -> float:
    samples = _samples(path, start_s, end_s)
    assert len(samples) > 0, (start_s, end_s)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@pytest.mark.parametrize("method", ["bridge", "snoop"])
async def test_a_muted_stretch_is_silence_and_the_file_keeps_the_talks_length(
        hotline: HotlineFactory, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    monkeypatch.setenv("HOTLINE_RECORDINGS_METHOD", method)
    answers: dict[str, Any] = {}
    muting: list[asyncio.Task[None]] = []

    async with hotline([agent("cara", f"Local/1*{TALK_S}@sim-agents")]) as line:

        async def mute_then_unmute(call_id: str) -> None:
            path = f"/v1/calls/{call_id}/recording/mute"
            await asyncio.sleep(MUTE_AFTER_S)
            answers["mute"] = await line.api("POST", path, {"reason": "caller reads card"},
                                             token=AGENT_TOKEN)  # cara, her own call
            await asyncio.sleep(0.5)
            # Idempotent, in Asterisk too: a second mute must not toggle it back on.
            answers["mute again"] = await line.api("POST", path, {"reason": "again"})
            await asyncio.sleep(MUTED_FOR_S - 0.5)
            answers["unmute"] = await line.api("DELETE", path)  # the supervisor, sam
            answers["unmute again"] = await line.api("DELETE", path, token=AGENT_TOKEN)

        def seen(event: Line) -> None:
            if event["type"] == "recording" and event.get("state") == "started":
                muting.append(asyncio.create_task(mute_then_unmute(str(event["call_id"]))))

        journey = await line.call("wait_for:prompt@main_menu press:1 "
                                  "wait_for:prompt@survey press:5", on_line=seen)
        (task,) = muting
        await task
        await line.settle()
        call_id = str(journey[0]["call_id"])
        db = line.service.database
        assert db is not None
        (meta,) = await db.recordings.for_call(call_id)
        shown = await line.api("GET", f"/v1/recordings/{meta.recording_id}")

    muted_now, unmuted_now = {"call_id": call_id, "muted": True}, {"call_id": call_id,
                                                                  "muted": False}
    assert answers == {"mute": muted_now, "mute again": muted_now, "unmute": unmuted_now,
                       "unmute again": unmuted_now}
    muted = first(journey, "recording", state="muted")
    unmuted = first(journey, "recording", state="unmuted")
    assert (muted["by"], muted["reason"], unmuted["by"]) == ("cara", "caller reads card", "sam")

    # The interval is in the metadata, where the journey says it was.
    (interval,) = meta.mutes
    assert (interval.by, interval.reason) == ("cara", "caller reads card")
    assert (interval.start_s, interval.end_s) == (muted["at_s"], unmuted["at_s"])
    assert shown["mutes"] == [{"start_s": interval.start_s, "end_s": interval.end_s,
                               "by": "cara", "reason": "caller reads card"}]
    assert MUTE_AFTER_S <= interval.start_s < MUTE_AFTER_S + 1.0
    assert MUTED_FOR_S <= interval.end_s - interval.start_s < MUTED_FOR_S + 1.0

    # The file is as long as the talk: nothing was cut while muted.
    started = float(first(journey, "recording", state="started")["t"])  # type: ignore[arg-type]
    hung_up = float(first(journey, "agent_hangup")["t"])  # type: ignore[arg-type]
    talk_s = hung_up - started
    print(f"\n{method}: recording {meta.duration_s:.3f} s, talk {talk_s:.3f} s, "
          f"difference {meta.duration_s - talk_s:+.3f} s, muted {interval}")
    assert abs(meta.duration_s - talk_s) <= LENGTH_TOLERANCE_S, (meta.duration_s, talk_s)

    # Silence where muted, speech before and after.
    path = Path(meta.path)
    inside = await asyncio.to_thread(rms, path, interval.start_s + EDGE_S,
                                     interval.end_s - EDGE_S)
    before = await asyncio.to_thread(rms, path, 0.5, interval.start_s - EDGE_S)
    after = await asyncio.to_thread(rms, path, interval.end_s + EDGE_S, meta.duration_s - 0.5)
    print(f"RMS before {before:.0f}, muted {inside:.1f}, after {after:.0f}")
    heard = await asyncio.to_thread(profile, path, meta.duration_s)
    assert inside < SILENT_RMS, (inside, heard)
    assert before > SPEECH_RMS and after > SPEECH_RMS, (before, after, heard)


def profile(path: Path, duration_s: float, step_s: float = 0.25) -> str:
    """The file's RMS every `step_s`, to show where it is silent when an assertion fails."""
    starts = [i * step_s for i in range(int(duration_s / step_s))]
    return " ".join(f"{t:.2f}:{rms(path, t, t + step_s):.0f}" for t in starts)
