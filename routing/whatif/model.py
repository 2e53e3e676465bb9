"""The what-if's inputs: recorded arrivals, the agents' availability and the replay settings.

Times are seconds on the replay clock: 0 is the start of the window (`Traffic.origin`), so an
arrival at 90.0 joined its queue 90 s after the window opened; availability known from before
the window is folded into `Staffing.initial`.

A caller's *stretch* is one continuous wait for an agent: from joining the queue, or from being
transferred by an agent, until an agent answers or the caller leaves. An overflow to another
queue does not end a stretch (the caller hears nothing of it), so patience counts on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.kpis.formulas import Thresholds
from routing.model import AgentStatus, HandoffContext

DEFAULT_TALK_S = 180.0  # talk time of a replayed answer when the window recorded none
DEFAULT_MIN_PATIENCE_S = 60.0


@dataclass(frozen=True, slots=True)
class Leg:
    """One conversation the caller had with an agent, as recorded."""

    talk_s: float  # answer to the end of the conversation (wrap-up is the queue's, replayed)
    ring_s: float = 0.0  # how long the answering agent's phone rang
    transfer_to: str | None = None  # the agent then sent the caller to this queue
    transfer_min_tier: int | None = None  # ... to agents of at least this tier
    wrapup_s: float | None = None  # the agent ended wrap-up this early; None: the timer ran out

    def __post_init__(self) -> None:
        for name in ("talk_s", "ring_s", "wrapup_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Arrival:
    """A recorded call as the replay offers it to routing: when and where it first queued."""

    call_id: str
    queue_id: str
    at_s: float  # first queue entry on the replay clock
    caller_number: str | None = None  # VIPs and abandon-resume are the router's to apply
    priority: int = 0
    context: HandoffContext = HandoffContext()
    legs: tuple[Leg, ...] = ()  # its conversations in order; replayed answers take them in turn
    patience_s: float | None = None  # the wait at which it hung up; None: never seen to hang up
    waited_s: float = 0.0  # its longest recorded stretch (what it is known to have borne)

    def __post_init__(self) -> None:
        if not math.isfinite(self.at_s) or self.at_s < 0:
            raise ValueError(f"at_s must be a finite number >= 0, got {self.at_s}")
        if self.patience_s is not None and not (math.isfinite(self.patience_s)
                                                and self.patience_s >= 0):
            raise ValueError(f"patience_s must be a finite number >= 0, got {self.patience_s}")


@dataclass(frozen=True, slots=True)
class AgentChange:
    at_s: float
    agent_id: str
    status: AgentStatus


@dataclass(frozen=True, slots=True)
class Staffing:
    """Who was logged in, available or paused: at the start, then each change in time order.
    Agents of the configuration not named in `initial` start available (the service logs every
    configured agent in when it starts)."""

    initial: tuple[tuple[str, AgentStatus], ...] = ()
    changes: tuple[AgentChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Traffic:
    origin: datetime  # second 0 of the replay clock, timezone-aware
    length_s: float  # the window: arrivals are in [0, length_s)
    arrivals: tuple[Arrival, ...] = ()
    staffing: Staffing = Staffing()

    def __post_init__(self) -> None:
        if self.origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        if not (math.isfinite(self.length_s) and self.length_s > 0):
            raise ValueError(f"length_s must be a finite number > 0, got {self.length_s}")


class Patience(StrEnum):
    """How long a caller whose patience is unknown (one who was answered, flowed out or is
    still waiting) would have waited."""

    LONGEST_OBSERVED = "longest_observed"  # as long as the longest stretch seen in the window
    INFINITE = "infinite"  # for ever: such a caller never hangs up


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    thresholds: Thresholds = Thresholds()  # T and S, as the KPI reports use them
    interval_s: float = 3600.0  # the per-interval rows' width
    patience: Patience = Patience.LONGEST_OBSERVED
    min_patience_s: float = DEFAULT_MIN_PATIENCE_S  # LONGEST_OBSERVED: never less than this
    seed: int = 0  # the random strategy's seed

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ValueError(f"interval_s must be a finite number > 0, got {self.interval_s}")
        if not (math.isfinite(self.min_patience_s) and self.min_patience_s >= 0):
            raise ValueError(f"min_patience_s must be a finite number >= 0, "
                             f"got {self.min_patience_s}")


def assumed_patience(traffic: Traffic, settings: ReplaySettings) -> float | None:
    """The patience of callers whose own is unknown; None: infinite."""
    if settings.patience is Patience.INFINITE:
        return None
    longest = max((a.waited_s for a in traffic.arrivals), default=0.0)
    return max(longest, settings.min_patience_s)
