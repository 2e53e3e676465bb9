"""What the HTTP layer (and reconciliation) may ask of the live calls, without reaching into
sessions: how many there are, one call's journey so far, a transfer request, and muting or
unmuting the recording running now (PCI: while card data is spoken)."""

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


class MuteOutcome(StrEnum):
    MUTED = "muted"  # the call's recording is muted now (it may have been already)
    UNMUTED = "unmuted"
    NO_SUCH_CALL = "no_such_call"  # not live (ended, or never existed)
    NOT_RECORDING = "not_recording"  # live, but no recording runs now
    FAILED = "failed"  # Asterisk refused or did not answer: nothing changed


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

    async def mute(self, call_id: str, by: str, reason: str) -> MuteOutcome:
        """Silence the call's recording from now on (its timeline keeps its length); the
        muted interval is kept, naming `by` and `reason`. Idempotent."""
        ...

    async def unmute(self, call_id: str, by: str) -> MuteOutcome:
        """Record what is said again. Idempotent."""
        ...
