"""Spoken test audio as a caller's phone delivers it: espeak-ng speech, 8 kHz mu-law, noise.

Used by the evaluation harness and the recognizer tests, never by a call. Every utterance is
cached by its parameters (default `~/.cache/hotline/eval`), so a second evaluation run only
decodes.

The chain: espeak-ng (22 050 Hz) → sox to 8 kHz 16-bit, which low-passes before decimating
(pydub/audioop would fold espeak's energy above 4 kHz back into the band, research/ivr.md §4.2),
with silence around the words as a caller leaves it → white noise at `snr_db` relative to the
speech → sox through G.711 mu-law and back, the codec a PSTN call passes through.
"""

from __future__ import annotations

import array
import hashlib
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_CACHE", "RATE", "AudioToolError", "Voice", "silence", "synthesize"]

RATE = 8000
DEFAULT_CACHE = Path.home() / ".cache" / "hotline" / "eval"
_LEAD_S, _TRAIL_S = 0.3, 0.6  # silence before and after the words
_TIMEOUT = 30.0
_FORMAT_VERSION = "1"  # bump when the chain changes, so stale cached audio is not reused


class AudioToolError(RuntimeError):
    """espeak-ng or sox is missing or failed."""


@dataclass(frozen=True, slots=True)
class Voice:
    """An espeak-ng voice (`en-us`, `en-gb`, `en-us+f3`) at a speed in words per minute."""

    name: str
    wpm: int

    def __str__(self) -> str:
        return f"{self.name}@{self.wpm}"


def synthesize(text: str, voice: Voice, *, snr_db: float | None = 20.0,
               cache_dir: Path = DEFAULT_CACHE) -> bytes:
    """`text` spoken by `voice` through the telephone band: 8 kHz 16-bit little-endian PCM.

    `snr_db=None` adds no noise. Blocking (subprocesses); call it from a worker thread.
    """
    key = hashlib.sha256(f"{_FORMAT_VERSION}|{text}|{voice}|{snr_db}".encode()).hexdigest()
    path = cache_dir / f"{key[:32]}.wav"
    if path.is_file():
        return _read_wav(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        work = Path(tmp)
        _run(["espeak-ng", "-v", voice.name, "-s", str(voice.wpm), "-w", str(work / "raw.wav")],
             stdin=text.encode())
        _sox(work / "raw.wav", work / "band.wav", "pad", str(_LEAD_S), str(_TRAIL_S))
        pcm = _read_wav(work / "band.wav")
        if snr_db is not None:
            pcm = _add_noise(pcm, snr_db, seed=key)
        _write_wav(work / "noisy.wav", pcm)
        _sox(work / "noisy.wav", work / "ulaw.wav", encoding="u-law", bits=8)
        _sox(work / "ulaw.wav", work / "final.wav")
        tmp_path = path.with_name(f".{path.name}.{os.getpid()}")
        shutil.move(work / "final.wav", tmp_path)
        os.replace(tmp_path, path)  # atomic: parallel runs never read half a file
    return _read_wav(path)


def silence(seconds: float, *, noise_db: float | None = -60.0, seed: str = "silence") -> bytes:
    """`seconds` of line silence: faint white noise `noise_db` below full scale, or zeros."""
    count = int(seconds * RATE)
    if noise_db is None:
        return bytes(2 * count)
    rng = random.Random(seed)
    sigma = 32767 * 10 ** (noise_db / 20)
    samples = array.array("h", (_clip(rng.gauss(0.0, sigma)) for _ in range(count)))
    return _le_bytes(samples)


def _add_noise(pcm: bytes, snr_db: float, *, seed: str) -> bytes:
    samples = _samples(pcm)
    lead, trail = int(_LEAD_S * RATE), int(_TRAIL_S * RATE)
    speech = samples[lead:len(samples) - trail] or samples
    power = sum(s * s for s in speech) / max(1, len(speech))
    if power == 0:
        return pcm
    sigma = math.sqrt(power / 10 ** (snr_db / 10))
    rng = random.Random(seed)
    noisy = array.array("h", (_clip(s + rng.gauss(0.0, sigma)) for s in samples))
    return _le_bytes(noisy)


def _clip(value: float) -> int:
    return max(-32768, min(32767, round(value)))


def _samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _le_bytes(samples: array.array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _sox(src: Path, dst: Path, *effects: str, encoding: str = "signed-integer",
         bits: int = 16) -> None:
    _run(["sox", "-q", str(src), "-r", str(RATE), "-c", "1", "-e", encoding, "-b", str(bits),
          "-t", "wav", str(dst), *effects])


def _run(argv: list[str], *, stdin: bytes | None = None) -> None:
    if shutil.which(argv[0]) is None:
        raise AudioToolError(f"{argv[0]} is not installed (scripts/install-deps installs it)")
    try:
        subprocess.run(argv, input=stdin, check=True, capture_output=True, timeout=_TIMEOUT)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip()
        raise AudioToolError(f"{argv[0]} failed: {detail or exc}") from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise AudioToolError(f"{argv[0]} failed: {exc}") from exc


def _read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            raise AudioToolError(f"{path.name}: expected 8 kHz mono 16-bit audio")
        return w.readframes(w.getnframes())


def _write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
