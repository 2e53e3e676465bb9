"""Legal holds and deletions as domain values. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """One legal hold, from when it was placed to when (if ever) it was lifted."""

    hold_id: int
    recording_id: str
    placed_by: str
    placed_at: datetime
    reason: str
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None


@dataclass(frozen=True, slots=True)
class Deletion:
    """A recording deleted: who, when, why, and what it was (the audit outlives it)."""

    at: datetime
    actor: str  # a person's or token's actor, or "retention" for the sweep
    reason: str
    recording_id: str
    call_id: str
    queue_id: str
    agent_id: str
    started_at: datetime
    file_name: str
    sha256: str
    size_bytes: int
    file_found: bool  # False: the file was already gone; the rows went all the same


class NoSuchRecording(Exception):
    pass


class OnHold(Exception):
    """The recording is under a legal hold: it is not deleted."""

    def __init__(self, hold: Hold) -> None:
        super().__init__(f"recording {hold.recording_id} is on hold since "
                         f"{hold.placed_at.isoformat()} ({hold.placed_by}): {hold.reason}")
        self.hold = hold


class NotOnHold(Exception):
    pass


class FileOutsideStore(Exception):
    """The stored path leads out of the recording store: the file is never touched."""
