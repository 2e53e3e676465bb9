"""What the routing room tells the call engine besides offers: notices and the ways a ticket ends.

Notices are journaled by the engine (`ticket.notices()`); none of them needs an answer. A ticket
ends by raising one of the `TicketClosed` exceptions from `next_offers()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.config import ConfigProblem, ExitKind


@dataclass(frozen=True, slots=True)
class StepOpened:
    at: float
    queue_id: str
    step: str
    index: int
    skipped_empty: bool = False  # opened early: the previous step had nobody logged in


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    at: float
    old: int
    new: int
    cause: str  # "step:<name>", "vip", "aging"


@dataclass(frozen=True, slots=True)
class Overflowed:
    at: float
    from_queue: str
    to_queue: str
    cause: str  # "step:<name>" or "max_wait"


@dataclass(frozen=True, slots=True)
class ExitTaken:
    at: float
    queue_id: str
    kind: ExitKind
    target_queue: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class AgentAutoPaused:
    at: float
    agent_id: str
    misses: int  # consecutive no-answers that triggered the pause


@dataclass(frozen=True, slots=True)
class Resumed:
    """The caller hung up earlier and called back within the resume window: the place is kept."""

    at: float
    joined_at: float
    priority: int
    left_at: float


@dataclass(frozen=True, slots=True)
class Transferred:
    at: float
    from_queue: str
    to_queue: str
    min_tier: int | None


@dataclass(frozen=True, slots=True)
class Announcement:
    """Time for a position / estimated-wait announcement (every `Queue.announce_every_s`)."""

    at: float
    position: int
    eta_s: float | None


Notice = (StepOpened | PriorityChanged | Overflowed | ExitTaken | AgentAutoPaused | Resumed
          | Transferred | Announcement)


class UnknownQueue(LookupError):
    """The queue id is not in the configuration."""


class UnknownAgent(LookupError):
    """The agent id is not in the configuration."""


class CommandRejected(Exception):
    """The agent's state does not allow the command (e.g. resume when not paused)."""


class InvalidConfig(ValueError):
    """`apply_config` got a configuration with problems; nothing was applied."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class OfferNotLive(ValueError):
    """The offer is not (or no longer) one this ticket may act on."""


class TicketClosed(Exception):
    """The call left routing (completed, abandoned, exited, or the service stopped)."""


class WaitTimeout(TicketClosed):
    """The caller waited `Queue.max_wait_s` and the queue has no exit configured."""


class QueueExited(TicketClosed):
    """Max wait reached and the queue's exit is a message or a callback: the engine plays it."""

    def __init__(self, notice: ExitTaken) -> None:
        super().__init__(f"{notice.kind} exit of queue {notice.queue_id}")
        self.notice = notice


class QueueRemoved(TicketClosed):
    """A configuration change removed the call's queue."""


class RoutingLoop(TicketClosed):
    """Overflow steps sent the call round a cycle of queues without waiting anywhere."""


class ServiceStopped(TicketClosed):
    """The queue actor stopped; nothing further will be offered."""
