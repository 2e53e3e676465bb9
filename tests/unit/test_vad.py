"""The pure endpointer (ivr.vad) on synthetic 16 kHz audio: tones for speech, quiet noise
for the line, in 20 ms frames with media times counted in samples."""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterable, Iterator

import pytest

from ivr.vad import (
    SILENCE_DBFS,
    Endpointer,
    EndpointEvent,
    EndpointParams,
    NoInput,
    SpeechEnded,
    SpeechStarted,
    TooLong,
    VadParams,
    frame_dbfs,
)

RATE = 16000
FRAME = 320  # 20 ms


def tone(seconds: float, dbfs: float, hz: float = 300.0) -> array[int]:
    amplitude = 32767 * 10 ** ((dbfs + 3.0103) / 20)  # a sine's power is A²/2
    count = round(seconds * RATE)
    return array("h", (round(amplitude * math.sin(2 * math.pi * hz * i / RATE))
                       for i in range(count)))  # fmt: skip


def noise(seconds: float, dbfs: float, seed: int = 7) -> array[int]:
    rng = random.Random(seed)
    sigma = 32768 * 10 ** (dbfs / 20)
    return array("h", (max(-32768, min(32767, round(rng.gauss(0, sigma))))
                       for _ in range(round(seconds * RATE))))  # fmt: skip


def frames(*parts: array[int]) -> Iterator[tuple[bytes, float]]:
    samples = array("h")
    for part in parts:
        samples.extend(part)
    for index in range(0, len(samples) - FRAME + 1, FRAME):
        yield samples[index : index + FRAME].tobytes(), index / RATE


def run(endpointer: Endpointer, audio: Iterable[tuple[bytes, float]]) -> list[EndpointEvent]:
    events = []
    for pcm, at in audio:
        event = endpointer.feed(pcm, at)
        if event is not None:
            events.append(event)
    return events


def endpointer(**params: float) -> Endpointer:
    return Endpointer(EndpointParams(**params), sample_rate=RATE)


def test_frame_level_in_dbfs() -> None:
    assert frame_dbfs(bytes(FRAME * 2)) == SILENCE_DBFS
    assert frame_dbfs(b"") == SILENCE_DBFS
    assert frame_dbfs(array("h", [32767] * FRAME).tobytes()) == pytest.approx(0, abs=0.01)
    assert frame_dbfs(tone(0.02, -20, hz=1000).tobytes()) == pytest.approx(-20, abs=0.1)
    assert frame_dbfs(noise(0.2, -50).tobytes()) == pytest.approx(-50, abs=0.5)


def test_speech_between_silences_starts_and_ends_on_frame_boundaries() -> None:
    events = run(endpointer(end_silence_s=0.7),
                 frames(noise(1.0, -60), tone(1.2, -20), noise(2.0, -60, seed=8)))
    assert events == [SpeechStarted(1.0), SpeechEnded(1.0, 2.2, pytest.approx(2.9))]


def test_digital_silence_line_and_speech() -> None:
    silence = array("h", bytes(RATE))  # 0.5 s of zeros
    events = run(endpointer(end_silence_s=0.5), frames(silence, tone(0.5, -30), silence))
    assert events == [SpeechStarted(0.5), SpeechEnded(0.5, 1.0, pytest.approx(1.5))]


def test_a_click_shorter_than_the_start_time_is_not_speech() -> None:
    events = run(endpointer(), frames(noise(1.0, -60), tone(0.06, -10), noise(6.0, -60)))
    assert events == [NoInput(pytest.approx(5.0))]


def test_pauses_between_words_do_not_end_the_utterance() -> None:
    word, gap = tone(0.4, -25), noise(0.5, -60)
    events = run(endpointer(end_silence_s=0.7),
                 frames(noise(0.5, -60), word, gap, word, gap, word, noise(1.0, -60)))
    assert events == [SpeechStarted(0.5), SpeechEnded(0.5, 2.7, pytest.approx(3.4))]


def test_soft_word_ending_above_the_continue_margin_stays_in_the_utterance() -> None:
    # Floor -60: starting needs -48 dBFS, continuing only -54 (and -51 absolute).
    events = run(endpointer(end_silence_s=0.3),
                 frames(noise(0.5, -60), tone(0.3, -30), tone(0.4, -50), noise(1.0, -60)))
    assert events == [SpeechStarted(0.5), SpeechEnded(0.5, 1.2, pytest.approx(1.5))]
    # The same soft sound alone is not loud enough to start speech.
    assert run(endpointer(first_input_timeout_s=2),
               frames(noise(0.5, -60), tone(0.4, -50), noise(2, -60))) == [NoInput(2.0)]


def test_too_long_after_max_speech() -> None:
    events = run(endpointer(max_speech_s=3.0), frames(noise(0.4, -60), tone(5.0, -20)))
    assert events == [SpeechStarted(0.4), TooLong(0.4, pytest.approx(3.4))]


def test_no_input_clock_starts_when_armed() -> None:
    quiet = list(frames(noise(10.0, -60)))
    assert run(endpointer(first_input_timeout_s=2.0), quiet) == [NoInput(pytest.approx(2.0))]

    waiting = Endpointer(EndpointParams(first_input_timeout_s=2.0), sample_rate=RATE,
                         no_input_from=None)  # fmt: skip
    assert run(waiting, quiet[:200]) == []  # 4 s of a prompt playing: not "no input" yet
    waiting.arm_no_input(4.0)
    waiting.arm_no_input(6.0)  # only the first arming counts
    assert run(waiting, quiet[200:]) == [NoInput(pytest.approx(6.0))]


def test_finished_endpointer_ignores_more_audio() -> None:
    ep = endpointer(first_input_timeout_s=0.5)
    assert run(ep, frames(noise(0.6, -60))) == [NoInput(pytest.approx(0.5))]
    assert ep.finished and not ep.speaking
    assert run(ep, frames(tone(1.0, -10))) == []


def test_noise_floor_follows_a_noisier_line() -> None:
    # A steady -40 dBFS line (louder than the -45 absolute minimum): calibration learns it,
    # so only speech 12 dB above it starts an utterance.
    line = noise(6.0, -40)
    ep = endpointer(first_input_timeout_s=10)
    assert run(ep, frames(line[: RATE * 2])) == []
    assert ep.floor_dbfs == pytest.approx(-40, abs=1)
    mixed = array("h", (max(-32768, min(32767, a + b)) for a, b in
                        zip(line[RATE * 2 :], tone(4.0, -20), strict=True)))  # fmt: skip
    events = run(ep, ((pcm, at + 2.0) for pcm, at in frames(mixed)))
    assert events[:1] == [SpeechStarted(2.0)]


def test_speech_from_the_first_frame_is_speech_not_the_noise_floor() -> None:
    # The caller is already talking when listening starts: a short word is heard, not
    # calibrated into the floor (which would hide it).
    ep = endpointer(end_silence_s=0.5)
    events = run(ep, frames(tone(0.3, -18), noise(1.0, -60)))
    assert events == [SpeechStarted(0.0), SpeechEnded(0.0, pytest.approx(0.3),
                                                      pytest.approx(0.8))]
    assert ep.floor_dbfs < -40


def test_floor_rises_slowly_and_falls_at_once() -> None:
    ep = endpointer(first_input_timeout_s=30)
    run(ep, frames(noise(1.0, -70)))
    assert ep.floor_dbfs == pytest.approx(-70, abs=1)
    # -56 dBFS hum: below the -45 absolute minimum, so never speech, and the floor creeps up
    # at 6 dB/s rather than jumping.
    hum = [(pcm, at + 1.0) for pcm, at in frames(tone(3.0, -56))]
    start = ep.floor_dbfs
    run(ep, hum[:25])  # 0.5 s
    assert ep.floor_dbfs == pytest.approx(start + 3, abs=0.2)
    run(ep, hum[25:])
    assert ep.floor_dbfs == pytest.approx(-56, abs=0.1)
    run(ep, ((pcm, at + 4.0) for pcm, at in frames(noise(0.04, -75))))
    assert ep.floor_dbfs == pytest.approx(-75, abs=1.5)


def test_learning_only_while_barge_in_is_off() -> None:
    ep = endpointer(first_input_timeout_s=1.0)
    for pcm, at in frames(noise(0.5, -60), tone(1.0, -20)):
        assert ep.feed(pcm, at, detect=False) is None
    assert not ep.speaking


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="continue_margin_db"):
        VadParams(start_margin_db=6, continue_margin_db=9)
    with pytest.raises(ValueError, match="must be > 0"):
        EndpointParams(end_silence_s=0)
