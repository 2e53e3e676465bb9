"""The circuit breaker's state machine on a simulated clock."""

from __future__ import annotations

import pytest

from knowledge_client.breaker import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cool_down_s=10.0, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_starts_closed_and_lets_requests_through(breaker: CircuitBreaker) -> None:
    assert breaker.state() == BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state() == BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state() == BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == pytest.approx(10.0)


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state() == BreakerState.CLOSED
    assert breaker.failures == 2


def test_stays_open_for_the_cool_down(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(9.99)
    assert breaker.state() == BreakerState.OPEN and not breaker.allow()
    clock.advance(0.01)
    assert breaker.state() == BreakerState.HALF_OPEN


def test_half_open_lets_one_probe_through(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(10.0)
    assert breaker.allow()
    assert not breaker.allow(), "a second request while the probe is out fails fast"


def test_probe_success_closes(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state() == BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_probe_failure_reopens_for_a_fresh_cool_down(breaker: CircuitBreaker,
                                                    clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(15.0)
    fail(breaker, 1)
    assert breaker.state() == BreakerState.OPEN
    clock.advance(9.0)
    assert not breaker.allow()
    clock.advance(1.0)
    assert breaker.allow()


def test_a_released_probe_lets_another_through(breaker: CircuitBreaker,
                                               clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(10.0)
    assert breaker.allow()
    breaker.release()  # the probe was cancelled: no verdict
    assert breaker.state() == BreakerState.HALF_OPEN
    assert breaker.allow()


def test_failures_of_requests_started_before_opening_change_nothing(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.advance(5.0)
    breaker.record_failure()
    assert breaker.retry_after() == pytest.approx(5.0)


@pytest.mark.parametrize(("threshold", "cool_down"), [(0, 1.0), (1, 0.0)])
def test_invalid_settings_are_refused(threshold: int, cool_down: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, cool_down_s=cool_down)
