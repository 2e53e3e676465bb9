"""Estimated wait, aware of the caller's position and of the agents who can take the call. Pure.

    eta = (position - 0.5) * H / N          (N > 0; None when N = 0)

* position: 1 = next; calls of the same queue ahead of this one in routing order (ringing ones
  included) plus one.
* N: agents of the call's open pool (plan steps open for it) who are logged in, not paused and
  reachable; busy ones count, since they free up for this queue.
* H: the queue's average handling time, an exponentially weighted mean of talk time plus
  wrap-up of completed calls, `H <- (3 H + sample) / 4` (app_queue's holdtime smoothing), starting
  at `DEFAULT_HANDLE_S`.

Why: N agents finishing calls of mean length H free up one every H/N seconds on average, and the
first of them is on average half-way through (the 0.5). Unlike app_queue, the caller's own wait
is not subtracted (its estimate goes negative and is then mirrored, §2.1.8 of the research), and
unlike a queue-wide average, a caller who can only use 2 specialists hears a longer wait than one
who can use 20 front-line agents.
"""

from __future__ import annotations

DEFAULT_HANDLE_S = 180.0


def estimate_wait(position: int, pool_size: int, handle_s: float) -> float | None:
    if pool_size <= 0:
        return None
    return max(0.0, (position - 0.5) * handle_s / pool_size)


def smooth_handle(previous: float | None, sample: float) -> float:
    """app_queue's holdtime smoothing: the first sample is taken as is."""
    return sample if previous is None else (3 * previous + sample) / 4
