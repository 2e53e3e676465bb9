"""A supervisor on a live call through the real Asterisk (issue 12): listen, whisper, barge,
stop, over the HTTP API, with the topology and the audio checked.

The parties: the caller (the simulator; the test plays its words and, between them, silence,
so its end sends frames the whole time, as a SIP phone does), agent cara
(`Local/hears*<tag>@sim-agents`: answers, keeps what it hears, sends 15 s of silence, talks
3 s, hangs up) and the supervisor's phone (`Local/supervisor*<tag>@sim-agents`: answers, keeps
what it hears, and talks all the time). What each one hears is read from their files, what the
caller hears from the call's recording (a snoop on the caller: what they say and hear):

- listening, the supervisor hears the caller's words; neither the agent nor the caller hears
  the supervisor, who talks all the time;
- whispering, the agent hears the supervisor, the caller does not;
- barging, both do; the supervisor never hears themselves back;
- the call's bridge keeps its two members throughout; the supervisor is in a bridge of their
  own with one snoop, swapped for another when the mode changes;
- after DELETE nothing of the monitor is left in Asterisk, and the audit row says who, which
  modes, and how it ended.
"""

from __future__ import annotations

import asyncio
import math
import uuid
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.rest import AriRest
from ari_app.channel_vars import CORRELATION_ID_VAR
from recordings.files import wait_for_file
from tests.e2e.conftest import (
    ARI_PASSWORD,
    ARI_URL,
    ARI_USER,
    AUDITOR_TOKEN,
    ROOTFS,
    Hotline,
    HotlineFactory,
    Line,
    agent,
    first,
)

SCRIPT = "wait_for:prompt@main_menu press:1 wait_for:prompt@survey press:5"
SPOOL = ROOTFS / "var/spool/asterisk/recording"
SILENCE = ["sound:silence/10"]
WORDS = ["sound:hello-world", "sound:silence/10"]  # 1.4 s of words, then silence
LISTEN_QUIET_S = 1.5  # listening while only the supervisor talks
WHISPER_S = 1.5
BARGE_S = 1.5
SILENT_RMS = 60.0  # silence through mu-law: zeros and a little noise
SPEECH_RMS = 400.0


def rms(path: Path, window: tuple[float, float]) -> float:
    with wave.open(str(path), "rb") as audio:
        rate = audio.getframerate()
        audio.setpos(max(0, round(window[0] * rate)))
        frames = audio.readframes(round((window[1] - window[0]) * rate))
    samples = array("h")
    samples.frombytes(frames)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


class Supervisor:
    """Drives the monitor once the agent answers, and notes when each thing happened (loop
    clock) so the audio can be read in the right windows."""

    def __init__(self, line: Hotline, ari: AriRest, tag: str) -> None:
        self._line = line
        self._ari = ari
        self.tag = tag
        self.correlation = ""
        self.marks: dict[str, float] = {}
        self.seen: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self._caller: str | None = None
        self._playing: str | None = None

    def on_line(self, line: Line) -> None:
        now = asyncio.get_running_loop().time()
        if line["type"] == "call_start":
            self.correlation = str(line["correlation_id"])
        elif line["type"] == "recording" and line.get("state") == "started":
            self.marks.setdefault("recording", now)
        elif line["type"] == "agent_answer":
            self.marks["answer"] = now
            self.tasks.append(asyncio.create_task(self._monitor(str(line["call_id"]))))
        elif line["type"] == "agent_hangup" and self._playing is not None:
            self.tasks.append(asyncio.create_task(self._hush()))

    async def _monitor(self, call_id: str) -> None:
        api, loop = self._line.api, asyncio.get_running_loop()
        self._caller = await self._caller_end()
        await self._play(SILENCE)
        started = await api("POST", f"/v1/calls/{call_id}/monitor", {
            "mode": "listen", "endpoint": f"Local/supervisor*{self.tag}@sim-agents"},
            expect=202)
        monitor_id = self.seen["monitor_id"] = started["monitor_id"]
        base = f"/v1/calls/{call_id}/monitor"
        for _ in range(200):
            if (await api("GET", base))["items"][0]["state"] == "connected":
                break
            await asyncio.sleep(0.05)
        self.marks["connected"] = loop.time()
        self.seen["listening"] = await topology(call_id, monitor_id)
        await asyncio.sleep(LISTEN_QUIET_S + 0.4)

        await self._play(WORDS)
        self.marks["words"] = loop.time()
        await asyncio.sleep(1.8)
        for mode, seconds in (("whisper", WHISPER_S), ("barge", BARGE_S)):
            changed = await api("PATCH", f"{base}/{monitor_id}", {"mode": mode}, expect=200)
            self.marks[mode] = loop.time()
            self.seen[mode] = (changed["mode"], await settled(
                call_id, monitor_id, lambda t: len(t["snoop_names"]) == 1))
            await asyncio.sleep(seconds + 0.3)

        self.seen["ended"] = await api("DELETE", f"{base}/{monitor_id}", expect=200)
        self.seen["after"] = await settled(call_id, monitor_id,
                                           lambda t: not t["monitor_channels"])

    async def _caller_end(self) -> str:
        """The simulator's end of the caller's Local channel: what is played there is what
        the caller says (see test_recording_methods.py)."""
        for channel in await self._ari.list_channels():
            if channel.id.startswith("sim-") and not channel.id.endswith(";2") and \
                    channel.channelvars.get(CORRELATION_ID_VAR) == self.correlation:
                return channel.id
        raise AssertionError("no simulated caller channel")

    async def _play(self, media: list[str]) -> None:
        assert self._caller is not None
        if self._playing is not None:
            await gone_ok(self._ari.stop_playback(self._playing), "caller sound")
        self._playing = f"{self._caller}-{uuid.uuid4().hex[:6]}"
        await self._ari.play(self._caller, media, self._playing)

    async def _hush(self) -> None:
        if self._playing is not None:
            await gone_ok(self._ari.stop_playback(self._playing), "caller sound")


async def topology(call_id: str, monitor_id: str) -> dict[str, Any]:
    """The call's bridges and the monitor's channels as `GET /bridges` and `/channels` show
    them."""
    auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, ARI_PASSWORD)}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.get(f"{ARI_URL}/bridges") as response:
            bridges = {b["id"]: b for b in await response.json() if b["id"].startswith(call_id)}
        async with http.get(f"{ARI_URL}/channels") as response:
            channels = {c["id"]: c for c in await response.json()}
    prefix = f"{call_id}-mon-{monitor_id}"
    monitor_bridge = bridges.get(f"{prefix}-bridge")
    (talk,) = [b for b in bridges.values() if "-bridge-" in b["id"]] or [None]
    return {
        "call_bridge": None if talk is None else {"members": len(talk["channels"]),
                                                  "technology": talk["technology"]},
        "monitor_bridge": None if monitor_bridge is None else sorted(monitor_bridge["channels"]),
        "monitor_channels": sorted(c for c in channels if c.startswith(prefix)),
        "snoop_names": sorted(channels[c]["name"] for c in channels
                              if c.startswith(f"{prefix}-snoop")),
    }


async def settled(call_id: str, monitor_id: str,
                  done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The topology once `done` says so (a hangup takes Asterisk a moment), or after 2 s."""
    for _ in range(20):
        seen = await topology(call_id, monitor_id)
        if done(seen):
            break
        await asyncio.sleep(0.1)
    return seen


async def _file(path: Path) -> Path:
    """A recording Asterisk closes once the channel hangs up."""
    assert await wait_for_file(path, 10), f"{path.name} never written"
    await asyncio.sleep(0.5)  # closed
    return path


def window(marks: dict[str, float], zero: str, at: str, seconds: float,
           after: float = 0.0) -> tuple[float, float]:
    """`seconds` from `after` past mark `at`, less the first 0.3 s, in a file that starts at
    mark `zero`."""
    start = marks[at] - marks[zero] + after
    return start + 0.3, start + seconds


async def test_a_supervisor_listens_whispers_barges_and_stops(
        hotline: HotlineFactory, ari: AriRest) -> None:
    tag = str(uuid.uuid4().int)[:10]
    async with hotline([agent("cara", f"Local/hears*{tag}@sim-agents")]) as line:
        boss = Supervisor(line, ari, tag)
        journey = await line.call(SCRIPT, on_line=boss.on_line)
        await asyncio.gather(*boss.tasks)
        await line.settle()
        call_id = str(journey[0]["call_id"])
        db = line.service.database
        assert db is not None
        (meta,) = await db.recordings.for_call(call_id)
        rows = await line.api("GET", f"/v1/audit/monitors?call_id={call_id}",
                              token=AUDITOR_TOKEN)
    monitor_id = boss.seen["monitor_id"]
    prefix = f"{call_id}-mon-{monitor_id}"
    heard_file = await _file(SPOOL / f"monitor-heard-{tag}.wav")
    agent_file = await _file(SPOOL / f"monitor-agent-{tag}.wav")
    try:
        listening = boss.seen["listening"]
        print(f"\nlistening: {listening}")
        assert listening["call_bridge"]["members"] == 2, listening
        assert listening["call_bridge"]["technology"] in ("simple_bridge", "native_rtp")
        assert listening["monitor_bridge"] == sorted([prefix, f"{prefix}-snoop1"]), listening
        assert [n.startswith("Snoop/") for n in listening["snoop_names"]] == [True]
        for n, mode in enumerate(("whisper", "barge"), start=2):
            shown, seen = boss.seen[mode]
            print(f"{mode}: {seen}")
            assert shown == mode
            assert seen["call_bridge"]["members"] == 2
            assert seen["monitor_bridge"] == sorted([prefix, f"{prefix}-snoop{n}"]), seen
        ended = boss.seen["ended"]
        assert (ended["state"], ended["end_reason"], ended["ended_by"]) == (
            "ended", "stopped", "sam")
        assert boss.seen["after"]["monitor_bridge"] is None
        assert boss.seen["after"]["monitor_channels"] == [], boss.seen["after"]

        marks, recording = boss.marks, Path(meta.path)
        heard = {  # who hears what, in each stretch: RMS of their files
            "supervisor: the caller's words": rms(heard_file, (
                marks["words"] - marks["connected"] + 0.45,
                marks["words"] - marks["connected"] + 1.25)),
            "supervisor: themselves whispering": rms(
                heard_file, window(marks, "connected", "whisper", WHISPER_S)),
            "supervisor: themselves barging": rms(
                heard_file, window(marks, "connected", "barge", BARGE_S)),
            "agent: listening": rms(agent_file, window(marks, "answer", "connected",
                                                       LISTEN_QUIET_S)),
            "agent: whispered to": rms(agent_file, window(marks, "answer", "whisper",
                                                          WHISPER_S)),
            "agent: barged": rms(agent_file, window(marks, "answer", "barge", BARGE_S)),
            "caller: listening": rms(recording, window(marks, "recording", "connected",
                                                       LISTEN_QUIET_S)),
            "caller: whispering": rms(recording, window(marks, "recording", "whisper",
                                                        WHISPER_S)),
            "caller: barged": rms(recording, window(marks, "recording", "barge", BARGE_S)),
        }
        print("RMS: " + ", ".join(f"{k} {v:.0f}" for k, v in heard.items()))
        spoken = {k for k, v in heard.items() if v > SPEECH_RMS}
        silent = {k for k, v in heard.items() if v < SILENT_RMS}
        assert spoken == {"supervisor: the caller's words", "agent: whispered to",
                          "agent: barged", "caller: barged"}, heard
        assert silent == set(heard) - spoken, heard

        (row,) = rows
        assert (row["monitor_id"], row["actor"], row["role"], row["agent_id"],
                row["queue_id"], row["end_reason"]) == (
            monitor_id, "sam", "supervisor", "cara", "claims", "stopped")
        assert [m["mode"] for m in row["modes"]] == ["listen", "whisper", "barge"]
        assert row["connected_at"] is not None and row["ended_at"] is not None
        assert first(journey, "monitor", action="started")["mode"] == "listen"
        assert [line["mode"] for line in journey if line["type"] == "monitor"
                and line["action"] == "mode"] == ["whisper", "barge"]
        assert first(journey, "monitor", action="ended")["reason"] == "stopped"
    finally:
        for leftover in SPOOL.glob(f"monitor-*-{tag}.wav"):
            leftover.unlink()
