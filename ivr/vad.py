"""Energy-based voice activity detection and endpointing: when did the caller start and stop?

Pure and deterministic: frames of 16-bit signed little-endian mono PCM go in with their media
time (seconds since the stream began, counted in samples, not wall clock), events come out.
The same frames always give the same events, so tests feed synthetic audio.

- **Noise floor**: the mean level of the first `calibrate_s` of the stream (no detection
  then) — except frames louder than `max_floor_dbfs`, which are no line noise but a caller
  already speaking as listening starts: they go to detection, so a short "yes" said at once
  is not learnt as the floor and lost. Afterwards it follows quiet frames down at once and
  up slowly (`floor_rise_db_per_s`), and is frozen while the caller speaks, so a long vowel
  never becomes "noise".
- **Start of speech**: `start_s` of consecutive frames louder than the floor by
  `start_margin_db` (and than `min_speech_dbfs`: on a digitally silent line the floor is far
  down and a click must not count). The start is the first of those frames.
- **Hysteresis**: once speaking, frames count as voiced down to `continue_margin_db`, so soft
  word endings do not cut an utterance into pieces.
- **End of speech**: `end_silence_s` without a voiced frame; the end is the end of the last
  voiced frame. **Too long**: `max_speech_s` after the start. **No input**: nothing started
  within `first_input_timeout_s` of the moment the no-input clock was armed (usually when the
  prompt finished: a caller who listens to the whole prompt is not silent yet).
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass, field
from operator import mul

__all__ = [
    "EndpointEvent", "EndpointParams", "Endpointer", "NoInput", "SILENCE_DBFS", "SpeechEnded",
    "SpeechStarted", "TooLong", "VadParams", "frame_dbfs",
]  # fmt: skip

SILENCE_DBFS = -120.0  # what digital silence (all zero samples) measures
_FULL_SCALE_POWER = 32768.0**2


def frame_dbfs(pcm: bytes) -> float:
    """Mean power of 16-bit signed little-endian PCM, in dB relative to full scale."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return SILENCE_DBFS
    power = sum(map(mul, samples, samples)) / len(samples)
    if power <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * math.log10(power / _FULL_SCALE_POWER))


@dataclass(frozen=True, slots=True)
class VadParams:
    """Levels in dBFS (a full-scale sine is -3 dBFS; speech on a phone line is about -35..-10)."""

    start_margin_db: float = 12.0
    continue_margin_db: float = 6.0
    min_speech_dbfs: float = -45.0
    initial_floor_dbfs: float = -60.0
    floor_min_dbfs: float = -80.0
    max_floor_dbfs: float = -35.0
    floor_rise_db_per_s: float = 6.0
    start_s: float = 0.08
    calibrate_s: float = 0.1

    def __post_init__(self) -> None:
        if self.continue_margin_db > self.start_margin_db:
            raise ValueError("continue_margin_db must not exceed start_margin_db")
        if min(self.start_s, self.floor_rise_db_per_s, self.calibrate_s) < 0:
            raise ValueError("start_s, floor_rise_db_per_s and calibrate_s must be >= 0")


@dataclass(frozen=True, slots=True)
class EndpointParams:
    end_silence_s: float = 0.7
    max_speech_s: float = 15.0
    first_input_timeout_s: float = 5.0
    vad: VadParams = field(default_factory=VadParams)

    def __post_init__(self) -> None:
        if min(self.end_silence_s, self.max_speech_s, self.first_input_timeout_s) <= 0:
            raise ValueError("end_silence_s, max_speech_s and first_input_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    started_at: float
    ended_at: float
    detected_at: float


@dataclass(frozen=True, slots=True)
class TooLong:
    started_at: float
    detected_at: float


@dataclass(frozen=True, slots=True)
class NoInput:
    detected_at: float


EndpointEvent = SpeechStarted | SpeechEnded | TooLong | NoInput


class Endpointer:
    """Feed frames in order with `feed`; it returns an event when something happened.

    After SpeechEnded, TooLong or NoInput it is `finished` and ignores further frames.
    `no_input_from` arms the no-input clock at that media time (None: not yet, call
    `arm_no_input` later).
    """

    def __init__(self, params: EndpointParams, *, sample_rate: int,
                 no_input_from: float | None = 0.0) -> None:
        self.params = params
        self.sample_rate = sample_rate
        self.floor_dbfs = params.vad.initial_floor_dbfs
        self.started_at: float | None = None
        self.finished = False
        self._no_input_from = no_input_from
        self._run_start: float | None = None  # first frame of a loud run that may become speech
        self._last_voiced_end = 0.0
        self._first_at: float | None = None
        self._calibration: list[float] = []

    @property
    def speaking(self) -> bool:
        return self.started_at is not None and not self.finished

    def arm_no_input(self, at: float) -> None:
        if self._no_input_from is None:
            self._no_input_from = at

    def feed(self, pcm: bytes, at: float, *, detect: bool = True) -> EndpointEvent | None:
        """One frame starting at media time `at`. With `detect=False` it only learns the
        noise floor (audio heard while barge-in is off and a prompt plays)."""
        if self.finished:
            return None
        level = frame_dbfs(pcm)
        end = at + len(pcm) / (2 * self.sample_rate)
        if self._first_at is None:
            self._first_at = at
        calibrating = end - self._first_at <= self.params.vad.calibrate_s + 1e-9
        if calibrating and level <= self.params.vad.max_floor_dbfs:
            self._calibrate(level)
            return None
        if not detect:
            self._learn_floor(level, end - at)
            return None
        if self.started_at is None:
            return self._before_speech(level, at, end)
        return self._in_speech(level, end)

    def _before_speech(self, level: float, at: float, end: float) -> EndpointEvent | None:
        vad = self.params.vad
        if level >= max(self.floor_dbfs + vad.start_margin_db, vad.min_speech_dbfs):
            if self._run_start is None:
                self._run_start = at
            if end - self._run_start >= vad.start_s - 1e-9:
                self.started_at = self._run_start
                self._last_voiced_end = end
                return SpeechStarted(self.started_at)
            return None
        self._run_start = None
        self._learn_floor(level, end - at)
        deadline = self._no_input_deadline()
        if deadline is not None and end >= deadline - 1e-9:
            self.finished = True
            return NoInput(end)
        return None

    def _in_speech(self, level: float, end: float) -> EndpointEvent | None:
        assert self.started_at is not None
        vad, params = self.params.vad, self.params
        margin = vad.continue_margin_db
        quietest = vad.min_speech_dbfs - (vad.start_margin_db - margin)
        if level >= max(self.floor_dbfs + margin, quietest):
            self._last_voiced_end = end
        if end - self._last_voiced_end >= params.end_silence_s - 1e-9:
            self.finished = True
            return SpeechEnded(self.started_at, self._last_voiced_end, end)
        if end - self.started_at >= params.max_speech_s - 1e-9:
            self.finished = True
            return TooLong(self.started_at, end)
        return None

    def _no_input_deadline(self) -> float | None:
        if self._no_input_from is None:
            return None
        return self._no_input_from + self.params.first_input_timeout_s

    def _calibrate(self, level: float) -> None:
        self._calibration.append(level)
        mean = sum(self._calibration) / len(self._calibration)
        self.floor_dbfs = max(mean, self.params.vad.floor_min_dbfs)

    def _learn_floor(self, level: float, seconds: float) -> None:
        vad = self.params.vad
        if level <= self.floor_dbfs:
            self.floor_dbfs = max(level, vad.floor_min_dbfs)
        else:
            self.floor_dbfs = min(level, self.floor_dbfs + vad.floor_rise_db_per_s * seconds)
