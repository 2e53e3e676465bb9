"""The simulated caller speaks: TEXT rendered with espeak-ng, played on the caller's end.

The simulator holds the caller's half (;1) of a Local channel, so audio played *to* it travels
to the hotline's half (;2) as if the caller said it. Files go to a sounds folder of their own
(`hotline-sim`, beside the service's `hotline` prompts) through the same cached renderer.

`say` waits until the playback is over without an event stream: it polls
``GET /playbacks/{id}``, which answers 404 once the playback is finished.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import wave
from pathlib import Path

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriNotFound
from ari_app.ari.rest import GET_PLAYBACK, AriRest
from ivr.tts import PromptRenderer

SIM_SOUNDS_DIR = "/var/lib/asterisk/sounds/hotline-sim"  # as Asterisk sees it
DEFAULT_ROOTFS = Path.home() / ".cache/hotline/asterisk-rootfs"
POLL_S = 0.04
START_TIMEOUT_S = 10.0  # waiting behind other media queued on the caller's channel
END_SLACK_S = 5.0

# Not in ari_app.ari.rest (yet): declared here, used only through AriRest._call.


class SpeechPlaybackError(Exception):
    """The caller's sentence did not play as a whole; the message says what happened."""


# The simulated caller's voice: an MBROLA diphone voice through espeak-ng (scripts/install-deps
# installs it). pocketsphinx's acoustic model, trained on people, hears espeak's own formant
# voices badly ("agent" came out as "a"); HOTLINE_SIM_VOICE picks another espeak-ng voice.
SIM_VOICE = os.environ.get("HOTLINE_SIM_VOICE", "mb-us2")


def sim_renderer(rootfs: Path | None = None, *,
                 voice: str = SIM_VOICE) -> tuple[PromptRenderer, str]:
    """A renderer writing into the development Asterisk's `hotline-sim` sounds folder, and
    that folder as Asterisk sees it (HOTLINE_ASTERISK_ROOT moves the root file system)."""
    root = rootfs or Path(os.environ.get("HOTLINE_ASTERISK_ROOT", DEFAULT_ROOTFS))
    cache = root / SIM_SOUNDS_DIR.lstrip("/")
    return PromptRenderer(cache, voice=voice), SIM_SOUNDS_DIR


async def say(ari: AriRest, channel_id: str, text: str, renderer: PromptRenderer,
              asterisk_dir: str) -> None:
    """Play `text` on `channel_id` (the caller's end) and return when it has been played."""
    wav = await renderer.render(text)
    seconds = await asyncio.to_thread(_wav_seconds, wav)
    playback_id = f"{channel_id}-say-{uuid.uuid4().hex[:8]}"
    await ari.play(channel_id, [f"sound:{asterisk_dir.rstrip('/')}/{wav.stem}"], playback_id)
    loop = asyncio.get_running_loop()
    started: float | None = None
    try:
        async with asyncio.timeout(START_TIMEOUT_S + seconds + END_SLACK_S):
            state = await _state(ari, playback_id)
            while state is not None:
                delay = POLL_S
                if state != "queued":
                    started = started if started is not None else loop.time()
                    # Poll slowly while most of the sentence is ahead, often near its end.
                    ahead = seconds - (loop.time() - started)
                    delay = POLL_S if ahead < 0.3 else min(0.25, ahead - 0.25)
                await asyncio.sleep(delay)
                state = await _state(ari, playback_id)
    except TimeoutError:
        await gone_ok(ari.stop_playback(playback_id), "simulated speech")
        raise SpeechPlaybackError(f"saying {text!r} did not finish in time") from None
    started = started if started is not None else loop.time()
    played = loop.time() - started
    if played < seconds * 0.8:
        # A wrong asterisk_dir, an unreadable file or a hangup all end a playback early.
        raise SpeechPlaybackError(f"saying {text!r} stopped after {played:.1f} s of "
                                  f"{seconds:.1f} s: is {asterisk_dir} the folder Asterisk "
                                  f"sees as {renderer.cache_dir}, and is the call still up?")


async def _state(ari: AriRest, playback_id: str) -> str | None:
    """queued, playing, ... or None once the playback is over."""
    try:
        playback = await ari._call(GET_PLAYBACK, {"playbackId": playback_id})
    except AriNotFound:
        return None
    return str(playback.get("state", ""))


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return float(audio.getnframes() / audio.getframerate())
