"""Backoff: exponential ceiling, full jitter, cap, reset."""

from __future__ import annotations

import pytest

from kernel.backoff import Backoff


def test_ceiling_doubles_from_half_a_second_up_to_the_cap() -> None:
    backoff = Backoff(rand=lambda: 1.0)
    delays = [backoff.next_delay() for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_full_jitter_scales_the_ceiling_by_the_random_draw() -> None:
    draws = iter([0.0, 0.5, 0.25])
    backoff = Backoff(rand=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [0.0, 0.5, 0.5]


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(rand=lambda: 1.0)
    for _ in range(5):
        backoff.next_delay()
    assert backoff.attempts == 5
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == 0.5


def test_a_very_long_outage_stays_at_the_cap_without_overflow() -> None:
    backoff = Backoff(rand=lambda: 1.0)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 30.0


def test_default_random_stays_within_the_ceiling() -> None:
    backoff = Backoff()
    for _ in range(200):
        ceiling = backoff.ceiling()
        assert 0.0 <= backoff.next_delay() <= ceiling


@pytest.mark.parametrize(("initial", "factor", "cap"), [(0, 2, 30), (0.5, 0.5, 30), (5, 2, 1)])
def test_nonsense_settings_are_refused(initial: float, factor: float, cap: float) -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(initial, factor, cap)
