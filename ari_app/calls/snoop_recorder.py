"""recordings.lifecycle.Recorder over ARI without mixing: Asterisk records the caller's channel
through snoop channels that stay outside the conversation's bridge.

Why (issue 9): `POST /bridges/{id}/record` puts a `Recorder/ARI` channel into the bridge, and a
bridge of three channels is a softmix bridge, mixing every 20 ms for a two-party call. A snoop
is an audiohook on the caller's channel, the way app_queue's MixMonitor records: the bridge
keeps its two members and Asterisk bridges them simply (simple_bridge; native_rtp is ruled
out by the audiohook)::

    caller ══ bridge (2 members) ══ agent
      └─ snoop(spy=both) ── record ──► <name>.wav                      (mono)
      └─ snoop(spy=in)  ── record ──► leg-<name>-caller.wav ┐          (stereo: caller left,
      └─ snoop(spy=out) ── record ──► leg-<name>-agent.wav  ┴─ merged ► <name>.wav  agent right)

`spy=in` is what the caller says, `spy=out` what the caller hears: the agent. The two legs are
merged into one stereo WAV inside `stop` (in a thread), so the lifecycle still finds one spool
file per conversation. Leg names do not start with the recordings' prefix: the spool
reconcile leaves them alone (it would quarantine a live leg it cannot name a call for), and a
leg pair left by a call that ended while no service ran stays in the spool.

Snoops enter our Stasis app as ``recorder,<call_id>`` (the dispatcher hangs up one whose call
is gone) with ids that start with the call id, like everything a call creates; a kept
conversation keeps them through a restart (`SavedRecording.snoop_ids`). A snoop hangs up with
the caller's channel, which ends its recording.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError
from ari_app.ari.events import (
    AriEvent,
    RecordingFailed,
    RecordingStarted,
    StasisStart,
)
from ari_app.calls.bridge_recorder import BridgeRecorder
from ari_app.calls.call import Call
from ari_app.calls.checkpoint import SavedRecording
from ari_app.calls.deps import ConversationRecorder, RecorderFactory
from ari_app.calls.live_recording import control, ended, mute_once, stop_and_wait
from ari_app.channel_vars import ROLE_RECORDER
from recordings.files import wait_for_file
from recordings.lifecycle import RecorderError, RecordingEnded

with warnings.catch_warnings():
    # pydub warns at import when ffmpeg is missing; it reads and writes WAV natively.
    warnings.simplefilter("ignore")
    from pydub import AudioSegment

log = structlog.get_logger(__name__)

START_TIMEOUT_S = 5.0
LEG_PREFIX = "leg-"
MONO, STEREO = "mono", "stereo"


@dataclass(frozen=True, slots=True)
class Leg:
    snoop_id: str
    spy: str  # both | in (what the caller says) | out (what the caller hears)
    name: str  # the recording Asterisk writes as <name>.<format>


def legs_for(call_id: str, name: str, channels: str) -> tuple[Leg, ...]:
    """The snoops and recordings of the conversation recorded as `name`."""
    tag = f"{call_id}-rec-{name.rsplit('-', 1)[-1]}"
    if channels == MONO:
        return (Leg(tag, "both", name),)
    return (Leg(f"{tag}-caller", "in", f"{LEG_PREFIX}{name}-caller"),
            Leg(f"{tag}-agent", "out", f"{LEG_PREFIX}{name}-agent"))


def _saved_legs(name: str, snoop_ids: tuple[str, ...]) -> tuple[Leg, ...]:
    if len(snoop_ids) == 1:
        return (Leg(snoop_ids[0], "both", name),)
    caller, agent = snoop_ids
    return (Leg(caller, "in", f"{LEG_PREFIX}{name}-caller"),
            Leg(agent, "out", f"{LEG_PREFIX}{name}-agent"))


@dataclass
class _Running:
    legs: tuple[Leg, ...]
    finished: list[asyncio.Future[AriEvent]]
    muted: bool | None = False  # None: not known (a recording an earlier run started)


class SnoopRecorder:
    def __init__(self, call: Call, spool_dir: Path, fmt: str, *, channels: str = MONO,
                 saved: SavedRecording | None = None) -> None:
        """`saved`: a recording an earlier run started (its snoops decide mono or stereo)."""
        self._call = call
        self._spool_dir = spool_dir
        self._fmt = fmt
        self._channels = channels
        self._saved = saved
        self._running: dict[str, _Running] = {}

    def channel_ids(self, name: str) -> tuple[str, ...]:
        """The snoops recording `name` (checkpoint.ThroughChannels)."""
        running = self._running.get(name)
        return tuple(leg.snoop_id for leg in running.legs) if running else ()

    def _legs(self, name: str) -> tuple[Leg, ...]:
        saved = self._saved
        if saved is not None and saved.name == name and saved.snoop_ids:
            return _saved_legs(name, saved.snoop_ids)
        return legs_for(self._call.call_id, name, self._channels)

    async def start(self, name: str, fmt: str) -> None:
        legs = self._legs(name)
        for leg in legs:
            self._call.bind(leg.snoop_id)
            self._call.bind(leg.name)
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                # Both legs at once: they start (and so line up) within milliseconds.
                results = await asyncio.gather(*(self._start_leg(leg, fmt) for leg in legs),
                                               return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise failed[0]
        except BaseException as exc:
            await self._drop(legs)
            if isinstance(exc, AriError | TimeoutError):
                raise RecorderError(str(exc) or "no StasisStart or RecordingStarted") from exc
            raise
        self._watch(name, legs)

    async def _start_leg(self, leg: Leg, fmt: str) -> None:
        call = self._call
        entered = call.mailbox.expect(
            lambda e: isinstance(e, StasisStart) and e.channel.id == leg.snoop_id)
        started = call.mailbox.expect(
            lambda e: isinstance(e, RecordingStarted | RecordingFailed) and e.name == leg.name)
        try:
            await call.ari.create_snoop(call.channel_id, leg.snoop_id, app=call.app,
                                        app_args=(ROLE_RECORDER, call.call_id), spy=leg.spy)
            await entered  # a channel records only once in Stasis (409 before)
            await call.ari.record_channel(leg.snoop_id, leg.name, fmt=fmt,
                                          if_exists="overwrite")
            event = await started
        finally:
            entered.cancel()
            started.cancel()
        if isinstance(event, RecordingFailed):
            raise RecorderError(f"Asterisk reported failure: {event.cause}")

    def _watch(self, name: str, legs: tuple[Leg, ...]) -> None:
        # Registered now: the caller may hang up (which ends the recordings) before stop.
        self._running[name] = _Running(legs, [ended(self._call, leg.name) for leg in legs])

    def resume(self, name: str) -> None:
        """Take over a recording an earlier run of the service started (its snoops kept);
        whether it is muted now is not known here."""
        legs = self._legs(name)
        for leg in legs:
            self._call.bind(leg.snoop_id)
            self._call.bind(leg.name)
        self._watch(name, legs)
        self._running[name].muted = None

    async def stop(self, name: str, timeout_s: float) -> None:
        running = self._running.pop(name, None)
        if running is None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(stop_and_wait(self._call, leg.name, finished)
                                       for leg, finished
                                       in zip(running.legs, running.finished, strict=True)))
        except TimeoutError:
            log.warning("recording.no_finished_event", name=name)
        finally:
            for finished in running.finished:
                finished.cancel()
            await self._drop(running.legs)
        if len(running.legs) == 2:
            await self._merge(name, running.legs, timeout_s)

    async def _drop(self, legs: tuple[Leg, ...]) -> None:
        for leg in legs:
            await gone_ok(self._call.ari.hangup(leg.snoop_id), "recorder snoop")
            self._call.unbind(leg.snoop_id)
            self._call.unbind(leg.name)

    async def _merge(self, name: str, legs: tuple[Leg, ...], timeout_s: float) -> None:
        caller, agent = (self._spool_dir / f"{leg.name}.{self._fmt}" for leg in legs)
        target = self._spool_dir / f"{name}.{self._fmt}"
        for path in (caller, agent):
            if not await wait_for_file(path, timeout_s):
                log.error("recording.leg_missing", name=name, leg=path.name)
        try:
            await asyncio.to_thread(merge_stereo, caller, agent, target)
        except Exception as exc:  # pydub, wave, file system: the legs stay in the spool
            log.error("recording.merge_failed", name=name, error=f"{type(exc).__name__}: {exc}")

    async def mute(self, name: str) -> None:
        """Idempotent here, not in Asterisk (`live_recording.mute_once`)."""
        running = self._running.get(name)
        ari = self._call.ari
        await mute_once(running.muted if running is not None else False,
                        lambda: self._control(name, ari.unmute_recording),
                        lambda: self._control(name, ari.mute_recording))
        self._running[name].muted = True

    async def unmute(self, name: str) -> None:
        await self._control(name, self._call.ari.unmute_recording)
        self._running[name].muted = False

    async def _control(self, name: str, request: Callable[[str], Awaitable[None]]) -> None:
        """Every leg, so neither channel of a stereo file keeps what was said."""
        running = self._running.get(name)
        if running is None:
            raise RecordingEnded(f"{name}: not recording here")
        for leg in running.legs:
            await control(request(leg.name))


def merge_stereo(caller: Path, agent: Path, target: Path) -> None:
    """Two mono recordings of one conversation → one stereo WAV (caller left, agent right),
    written atomically as `target`; the legs are removed once it is there. A missing leg
    becomes a silent channel; FileNotFoundError when both are missing.

    The legs stop together but may have started a few milliseconds apart: the shorter one
    is padded at its start, so both end together."""
    present = [p for p in (caller, agent) if p.exists()]
    if not present:
        raise FileNotFoundError(f"{caller.name}, {agent.name}: no leg in the spool")
    segments = {p: AudioSegment.from_wav(str(p)) for p in present}
    shape = next(iter(segments.values()))
    frames = max(int(s.frame_count()) for s in segments.values())
    left, right = (_padded(segments.get(p), shape, frames) for p in (caller, agent))
    stereo = AudioSegment.from_mono_audiosegments(left, right)
    partial = target.with_name(f".{target.name}.partial")  # dot: the reconcile skips it
    stereo.export(str(partial), format="wav")
    os.replace(partial, target)
    for path in present:
        path.unlink()


def _padded(segment: AudioSegment | None, shape: AudioSegment, frames: int) -> AudioSegment:
    width, rate = shape.sample_width, shape.frame_rate
    if segment is None:
        return AudioSegment(b"\0" * (frames * width), sample_width=width, frame_rate=rate,
                            channels=1)
    segment = segment.set_channels(1).set_sample_width(width).set_frame_rate(rate)
    missing = frames - int(segment.frame_count())
    if missing <= 0:
        return segment
    silence = AudioSegment(b"\0" * (missing * width), sample_width=width, frame_rate=rate,
                           channels=1)
    return silence + segment


def recorder_factory(method: str, channels: str, spool_dir: Path,
                     fmt: str) -> RecorderFactory:
    """Conversations recorded by `method` (bridge | snoop) in `channels` (mono | stereo); a
    recording an earlier run started goes on the way it started."""
    def recorders(call: Call, bridge_id: str,
                  saved: SavedRecording | None) -> ConversationRecorder:
        snoop = saved.snoop_ids != () if saved is not None else method == "snoop"
        if not snoop:
            return BridgeRecorder(call, bridge_id)
        return SnoopRecorder(call, spool_dir, fmt, channels=channels, saved=saved)

    return recorders
