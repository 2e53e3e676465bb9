"""What a caller heard, read back from a WAV: the runs of silence.

Silence is a 20 ms frame whose RMS is below 100 on 16-bit linear samples (full scale 32767,
about -50 dBFS). Asterisk writes dead air (nothing sent to the caller) as digital zeros; the
project's prompts, the simulated agents' speech and music on hold stay well above it, except
that music on hold fades out at the end of each track (up to 8.9 s of one track, after more
than 70 s of hold) and starts about 1 s after `POST /moh`. A pause for the caller's key (a menu
or survey waiting up to its timeout, 5 s in the shipped flow) is silence too.
"""

from __future__ import annotations

import array
import asyncio
import operator
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

SILENCE_RMS = 100
FRAME_S = 0.020


@dataclass(frozen=True, slots=True)
class Silence:
    """A run of silent frames, in seconds from the start of the recording."""

    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return round(self.end_s - self.start_s, 3)

    def overlaps(self, start_s: float, end_s: float) -> bool:
        return self.start_s < end_s and self.end_s > start_s


@dataclass(frozen=True, slots=True)
class Heard:
    """One recording's length and its silent runs."""

    duration_s: float
    silences: tuple[Silence, ...]

    def longest_silence_in(self, start_s: float, end_s: float) -> float:
        """The longest silent run that overlaps [start_s, end_s] (its whole length)."""
        return max((s.length_s for s in self.silences if s.overlaps(start_s, end_s)),
                   default=0.0)


def silences(samples: array.array[int], rate: int, *, threshold: int = SILENCE_RMS,
             frame_s: float = FRAME_S) -> tuple[Silence, ...]:
    """Runs of consecutive frames whose RMS is below `threshold`."""
    size = max(1, int(rate * frame_s))
    square = threshold * threshold  # RMS < t  <=>  sum of squares < t^2 * n
    runs: list[Silence] = []
    run_start: int | None = None
    frames = range(0, len(samples), size)
    for index, offset in enumerate(frames):
        frame = samples[offset:offset + size]
        quiet = sum(map(operator.mul, frame, frame)) < square * len(frame)
        if quiet and run_start is None:
            run_start = index
        elif not quiet and run_start is not None:
            runs.append(Silence(run_start * frame_s, index * frame_s))
            run_start = None
    if run_start is not None:
        runs.append(Silence(run_start * frame_s, len(samples) / rate))
    return tuple(runs)


def read_heard(path: Path) -> Heard:
    """Blocking: read a 16-bit mono WAV and find its silences (run it in a thread).

    ValueError when it is not one (a header left open by a crash, another format)."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels = wav.getsampwidth(), wav.getnchannels()
            rate = wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except wave.Error as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if width != 2 or channels != 1:
        raise ValueError(f"{path}: expected 16-bit mono, got {width * 8}-bit x {channels}")
    samples = array.array("h")
    samples.frombytes(raw)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    return Heard(len(samples) / rate, silences(samples, rate))


async def heard(path: Path) -> Heard:
    return await asyncio.to_thread(read_heard, path)
