"""Recording without mixing, through the real Asterisk (issue 9): a snoop on the caller records
the conversation while the bridge keeps two members and is not a softmix bridge (the bridge
recording's Recorder/ARI channel makes it one); stereo puts the caller left, the agent right.

The parties take turns so each channel can be told apart: the simulated agent
(`Local/quiet*Q*T@sim-agents`) answers and sends Q seconds of silence, then talks for T
seconds; the test plays the caller's words (`tt-weasels`, ~3 s) then silence on the caller's
own end as soon as the agent answers. Both ends send audio frames the whole time, as SIP
phones do (a Local channel sends nothing while idle, and a one-direction snoop records only
the frames that pass).
"""

from __future__ import annotations

import asyncio
import math
import wave
from array import array
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.rest import AriRest
from ari_app.channel_vars import CORRELATION_ID_VAR
from recordings.model import RecordingMeta
from tests.e2e.conftest import (
    ARI_PASSWORD,
    ARI_URL,
    ARI_USER,
    Hotline,
    HotlineFactory,
    Line,
    agent,
    first,
)

QUIET_S, TALK_S = 5, 6
QUIET_AGENT = f"Local/quiet*{QUIET_S}*{TALK_S}@sim-agents"
CALLER_WORDS = ["sound:tt-weasels", "sound:silence/10"]  # ~3 s of words, then silence
SCRIPT = "wait_for:prompt@main_menu press:1 wait_for:prompt@survey press:5"
# Windows in the recording, in seconds from its start (≈ the agent's answer): the caller
# speaks in the first, the agent only in the second.
CALLER_WINDOW = (0.6, 2.8)
AGENT_WINDOW = (QUIET_S + 0.6, QUIET_S + TALK_S - 0.8)
SILENT_RMS = 60.0  # silence files through mu-law: zeros and a little noise
SPEECH_RMS = 400.0  # the sounds' speech averages ~3500 over whole files


def rms(samples: array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def read_channels(path: Path, window: tuple[float, float]) -> tuple[list[float], int]:
    """Each channel's RMS over `window` (seconds), and the file's channel count."""
    with wave.open(str(path), "rb") as audio:
        rate, channels = audio.getframerate(), audio.getnchannels()
        audio.setpos(round(window[0] * rate))
        frames = audio.readframes(round((window[1] - window[0]) * rate))
    samples = array("h")
    samples.frombytes(frames)
    return [rms(samples[c::channels]) for c in range(channels)], channels


async def bridge_of(call_id: str) -> dict[str, Any]:
    """The call's bridge as `GET /bridges` shows it (with `technology`), and its members'
    names."""
    auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, ARI_PASSWORD)}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.get(f"{ARI_URL}/bridges") as response:
            bridges = [b for b in await response.json() if b["id"].startswith(call_id)]
        assert len(bridges) == 1, bridges
        bridge = bridges[0]
        names = []
        for channel_id in bridge["channels"]:
            async with http.get(f"{ARI_URL}/channels/{channel_id}") as response:
                names.append((await response.json()).get("name", channel_id))
    return {**bridge, "names": names}


class Conversation:
    """Plays the caller's words once the agent answers, looks at the bridge while they talk,
    and stops the caller's sound when the agent leaves (the survey needs the keypad)."""

    def __init__(self, ari: AriRest) -> None:
        self._ari = ari
        self.correlation = ""
        self.bridge: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self._playback: str | None = None

    def seen(self, line: Line) -> None:
        if line["type"] == "agent_answer":
            self.tasks.append(asyncio.create_task(self._speak(line)))
            self.tasks.append(asyncio.create_task(self._look(str(line["call_id"]))))
        elif line["type"] == "agent_hangup" and self._playback is not None:
            self.tasks.append(asyncio.create_task(self._hush(self._playback)))

    def seen_first(self, line: Line) -> None:
        if line["type"] == "call_start":
            self.correlation = str(line["correlation_id"])
        self.seen(line)

    async def _speak(self, line: Line) -> None:
        caller = await self._caller_end(str(line["call_id"]))
        self._playback = f"{caller}-words"
        await self._ari.play(caller, CALLER_WORDS, self._playback)

    async def _caller_end(self, call_id: str) -> str:
        """The simulator's end of the Local channel (`sim-…`), found by the call's
        correlation id; the service's end is the other half, `sim-…;2` (words played there
        would be what the caller hears, and would hold the caller out of the bridge)."""
        for channel in await self._ari.list_channels():
            if channel.id.startswith("sim-") and not channel.id.endswith(";2") and \
                    channel.channelvars.get(CORRELATION_ID_VAR) == self.correlation:
                return channel.id
        raise AssertionError(f"no simulated caller channel for call {call_id}")

    async def _look(self, call_id: str) -> None:
        await asyncio.sleep(2.0)  # talking, the recording running
        self.bridge = await bridge_of(call_id)

    async def _hush(self, playback_id: str) -> None:
        await gone_ok(self._ari.stop_playback(playback_id), "caller words")


async def converse(hotline: HotlineFactory,
                   ari: AriRest) -> tuple[list[Line], Conversation, RecordingMeta, Path]:
    """One call through the conversation above: its journey, what was seen, the stored
    recording's row, and Asterisk's recording spool."""
    talk = Conversation(ari)
    async with hotline([agent("cara", QUIET_AGENT)]) as line:
        journey = await line.call(SCRIPT, on_line=talk.seen_first)
        await asyncio.gather(*talk.tasks)
        meta = await _stored(line, str(journey[0]["call_id"]))
        spool = line.settings.recordings.spool_dir
    return journey, talk, meta, spool


async def _stored(line: Hotline, call_id: str) -> RecordingMeta:
    await line.settle()
    db = line.service.database
    assert db is not None
    (meta,) = await db.recordings.for_call(call_id)
    return meta


@pytest.fixture
def recording_method(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(method: str, channels: str = "mono") -> None:
        monkeypatch.setenv("HOTLINE_RECORDINGS_METHOD", method)
        monkeypatch.setenv("HOTLINE_RECORDINGS_CHANNELS", channels)
    return use


async def test_the_bridge_recording_mixes_three_channels(
        hotline: HotlineFactory, ari: AriRest, recording_method: Any) -> None:
    """What issue 9 measured: the reason for the snoop."""
    recording_method("bridge")
    journey, talk, meta, spool = await converse(hotline, ari)
    print(f"\nbridge recording: technology {talk.bridge['technology']}, "
          f"members {talk.bridge['names']}")
    assert talk.bridge["technology"] == "softmix"
    assert first(journey, "recording", state="stored")
    assert meta.duration_s > QUIET_S


async def test_a_snoop_recording_leaves_a_two_party_bridge_and_has_both_voices(
        hotline: HotlineFactory, ari: AriRest, recording_method: Any) -> None:
    recording_method("snoop")
    journey, talk, meta, spool = await converse(hotline, ari)
    bridge = talk.bridge
    print(f"\nsnoop recording: technology {bridge['technology']}, members {bridge['names']}")
    assert len(bridge["channels"]) == 2, bridge["names"]
    assert bridge["technology"] in ("simple_bridge", "native_rtp"), bridge["technology"]

    talk_s = float(first(journey, "agent_hangup")["t"]) - float(  # type: ignore[arg-type]
        first(journey, "recording", state="started")["t"])  # type: ignore[arg-type]
    print(f"recording {meta.duration_s:.2f} s for {talk_s:.2f} s of talk")
    assert abs(meta.duration_s - talk_s) < 0.6
    path = Path(meta.path)
    (caller_part,), channels = await asyncio.to_thread(read_channels, path, CALLER_WINDOW)
    (agent_part,), _ = await asyncio.to_thread(read_channels, path, AGENT_WINDOW)
    print(f"RMS while the caller speaks {caller_part:.0f}, while the agent speaks "
          f"{agent_part:.0f}")
    assert channels == 1
    assert caller_part > SPEECH_RMS and agent_part > SPEECH_RMS


async def test_a_stereo_recording_has_the_caller_left_and_the_agent_right(
        hotline: HotlineFactory, ari: AriRest, recording_method: Any) -> None:
    recording_method("snoop", "stereo")
    journey, talk, meta, spool = await converse(hotline, ari)
    bridge = talk.bridge
    assert len(bridge["channels"]) == 2, bridge["names"]
    assert bridge["technology"] != "softmix"

    path = Path(meta.path)
    (caller_left, caller_right), channels = await asyncio.to_thread(
        read_channels, path, CALLER_WINDOW)
    (agent_left, agent_right), _ = await asyncio.to_thread(read_channels, path, AGENT_WINDOW)
    print(f"\nstereo {meta.duration_s:.2f} s; caller speaking: left {caller_left:.0f}, right "
          f"{caller_right:.0f}; agent speaking: left {agent_left:.0f}, right {agent_right:.0f}")
    assert channels == 2
    assert caller_left > SPEECH_RMS and caller_right < SILENT_RMS
    assert agent_right > SPEECH_RMS and agent_left < SILENT_RMS
    call_id = str(journey[0]["call_id"])
    assert not list(spool.glob(f"*{call_id}*")), "legs left in the spool after the merge"
