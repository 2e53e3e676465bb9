"""Agent-selection strategies: how free agents of equal rank and tier are ordered. Pure.

Every strategy is a sort key over the agent's view (smaller first) ending with the agent's
configuration position, so the order is total and deterministic:

* `longest_idle` (default): earliest end of the last call (mod_callcenter last_bridge_end).
* `least_talk_time`: least talk time since the daily reset, then longest idle.
* `fewest_calls`: fewest answered calls since the daily reset, then longest idle.
* `random`: a uniform pick among the free agents of the best (rank, tier) group, in
  configuration order, at an index drawn from a generator seeded by (service seed, call id,
  attempt): reproducible, and fresh for every decision (a per-agent lottery drawn when the agent
  frees up is *not* uniform: the last winner's fresh number tends to stay the smallest).
* `round_robin`: the first agent after the queue's last offered agent in configuration order,
  wrapping around (app_queue rrmemory).
* `ring_all`: every free agent of the best (rank, tier) group is offered at once; the first to
  answer wins. Ordered by position only for display.
"""

from __future__ import annotations

import random

from routing.model import AgentView

Key = tuple[float, ...]


def strategy_key(strategy: str, view: AgentView, position: int, rr_last: int) -> Key:
    """Sort key of a free agent for `strategy` (smaller is preferred)."""
    if strategy == "least_talk_time":
        return (view.talk_time_today, view.idle_since, position)
    if strategy == "fewest_calls":
        return (view.calls_today, view.idle_since, position)
    if strategy == "random":
        return (position,)
    if strategy == "round_robin":
        return (0 if position > rr_last else 1, position)
    if strategy == "ring_all":
        return (position,)
    return (view.idle_since, position)


def key_value(strategy: str, view: AgentView) -> float | None:
    """The strategy's figure for an explanation (None when the order is positional)."""
    if strategy == "least_talk_time":
        return view.talk_time_today
    if strategy == "fewest_calls":
        return view.calls_today
    if strategy == "longest_idle":
        return view.idle_since
    return None


def static_key(strategy: str) -> bool:
    """Whether a heap by key serves the strategy (else: positions in order, see RingSet)."""
    return strategy not in ("round_robin", "random")


def random_index(seed: int, call_id: str, attempt: int, n: int) -> int:
    """The `random` strategy's pick among n candidates for the call's next offer."""
    return random.Random(f"{seed}:{call_id}:{attempt}").randrange(n)
