"""What the HTTP layer (and reconciliation) may ask of the live calls, without reaching into
sessions: how many there are, one call's journey so far, and a transfer request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ari_app.calls.conversation import TransferRequest
from ari_app.calls.record import CallRecord
from ivr.journey import JourneyEvent


class TransferOutcome(StrEnum):
    ACCEPTED = "accepted"
    NO_SUCH_CALL = "no_such_call"  # not live (ended, or never existed)
    NOT_TALKING = "not_talking"  # live, but no agent is talking to the caller now


@dataclass(frozen=True, slots=True)
class LiveJourney:
    record: CallRecord
    events: tuple[JourneyEvent, ...]


class LiveCalls(Protocol):
    def count(self) -> int: ...

    def journey(self, call_id: str) -> LiveJourney | None:
        """The call's record and journey so far; None when it is not live."""
        ...

    def request_transfer(self, call_id: str, request: TransferRequest) -> TransferOutcome: ...
