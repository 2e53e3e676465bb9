"""Which recordings are due for deletion at a time T: the retention rule of their queue (or the
default), never a held one. Pure: no I/O, the clock is a value passed in.

A rule of N days keeps a recording for N days from its start: it is due from `started_at + N
days` on (at exactly that instant too). No rule (the default `None`) keeps it for ever. A
recording with no queue (`""`, e.g. one recovered by the reconcile) follows the default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

SWEEP_ACTOR = "retention"  # the deletion audit's actor for the sweep


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    default_days: int | None = None  # None: kept for ever
    queues: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def days_for(self, queue_id: str | None) -> int | None:
        """The days a recording of `queue_id` is kept; None for ever."""
        if queue_id and queue_id in self.queues:
            return self.queues[queue_id]
        return self.default_days

    def retain_until(self, started_at: datetime, queue_id: str | None) -> datetime | None:
        """The instant the recording becomes due; None: kept for ever."""
        days = self.days_for(queue_id)
        return None if days is None else started_at + timedelta(days=days)

    def why(self, queue_id: str | None) -> str:
        """The rule that applies, as the deletion audit's reason says it."""
        days = self.days_for(queue_id)
        if queue_id and queue_id in self.queues:
            return f"retention: queue {queue_id} keeps recordings {days} days"
        return f"retention: the default keeps recordings {days} days"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the decision needs to know of one recording."""

    recording_id: str
    queue_id: str | None
    started_at: datetime
    held: bool = False


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Recordings started at or before `before` are due: those of `queue_id`, or (None) of every
    queue without its own rule, `excluded` being the queues that have one."""

    queue_id: str | None
    before: datetime
    excluded: frozenset[str] = frozenset()


def is_due(candidate: Candidate, policy: RetentionPolicy, now: datetime) -> bool:
    until = policy.retain_until(candidate.started_at, candidate.queue_id)
    return until is not None and not candidate.held and now >= until


def due(candidates: Iterable[Candidate], policy: RetentionPolicy,
        now: datetime) -> list[Candidate]:  # fmt: skip
    """Those of `candidates` to delete at `now`, oldest first (ties by id)."""
    found = [c for c in candidates if is_due(c, policy, now)]
    return sorted(found, key=lambda c: (c.started_at, c.recording_id))


def cutoffs(policy: RetentionPolicy, now: datetime) -> tuple[Cutoff, ...]:
    """What a store reads to find candidates at `now`: one cutoff per queue rule, and one for
    the default over the other queues (none when the default keeps for ever)."""
    found = [Cutoff(queue, now - timedelta(days=days))
             for queue, days in sorted(policy.queues.items())]  # fmt: skip
    if policy.default_days is not None:
        found.append(Cutoff(None, now - timedelta(days=policy.default_days),
                            frozenset(policy.queues)))
    return tuple(found)
