"""A call's routing record inside the router (where it waits, since when, with what credit),
and the effects the router hands the actor."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.model import CallView, HandoffContext, Offer
from routing.notices import Notice, TicketClosed


@dataclass(slots=True)
class CallRecord:
    call_id: str
    queue_id: str
    caller_number: str | None
    joined_at: float  # original arrival (age): kept across overflow, transfer and resume
    entered_at: float  # entry into the current queue: the plan's clock
    wait_from: float  # start of max wait in this queue (entry, or the resumed call's arrival)
    seq: int
    ivr_priority: int = 0
    vip_priority: int = 0
    delta: int = 0  # priority changes by plan steps
    open_steps: int = 0
    opened: set[str] = field(default_factory=set)  # names of steps whose actions were applied
    aged: bool = False
    min_tier: int = 1
    dedicated: str | None = None
    dedicated_until: float | None = None
    tried: dict[str, float] = field(default_factory=dict)  # agent id -> offer again from
    offers: dict[str, Offer] = field(default_factory=dict)  # offer id -> offer in flight
    answered: Offer | None = None
    attempts: int = 0
    context: HandoffContext = HandoffContext()
    expired: bool = False  # max wait reached while ringing: exit when the ringing ends
    next_announce: float | None = None
    timer_at: float | None = None
    hops: tuple[float, int] = (-1.0, 0)  # (time, overflows at that time): loop guard

    @property
    def priority(self) -> int:
        return max(self.ivr_priority, self.vip_priority) + self.delta

    @property
    def order_key(self) -> tuple[int, int, float, int]:
        return (0 if self.aged else 1, -self.priority, self.joined_at, self.seq)

    @property
    def waiting(self) -> bool:
        """Waiting for an offer: not ringing anyone, not answered."""
        return self.answered is None and not self.offers

    def in_phase(self, now: float) -> bool:
        """In a VIP's dedicated-agent-only phase."""
        return self.dedicated is not None and self.dedicated_until is not None \
            and now < self.dedicated_until

    def view(self) -> CallView:
        offers = tuple(self.offers.values()) or ((self.answered,) if self.answered else ())
        return CallView(
            self.call_id, self.queue_id, self.caller_number, self.joined_at, self.entered_at,
            self.priority, self.seq, self.open_steps, self.aged, self.min_tier, self.dedicated,
            self.dedicated_until, tuple(self.tried.items()), offers, self.answered is not None,
            self.attempts, self.context,
        )


@dataclass(frozen=True, slots=True)
class Credit:
    """What a caller who hung up keeps for the resume window (abandon-resume)."""

    joined_at: float
    queue_id: str
    entered_at: float
    ivr_priority: int
    delta: int
    opened: frozenset[str]
    left_at: float
    until: float

    @staticmethod
    def of(call: CallRecord, now: float, window: float) -> Credit:
        return Credit(call.joined_at, call.queue_id, call.entered_at, call.ivr_priority,
                      call.delta, frozenset(call.opened), now, now + window)


# ---------------------------------------------------------------- what the router tells the actor


@dataclass(frozen=True, slots=True)
class Deliver:
    call_id: str
    offers: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class Notify:
    call_id: str
    notice: Notice


@dataclass(frozen=True, slots=True)
class Close:
    call_id: str
    error: TicketClosed
    at: float = 0.0


Effect = Deliver | Notify | Close


class DuplicateCall(ValueError):
    """The call id is already queued."""
