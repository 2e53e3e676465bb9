"""Disposition codes (configured) and the dispositions agents give; no I/O.

A disposition is how the agent who answered a call closes it: a configured code (`resolved`,
`complaint`, …) and notes. A code flagged `complaint` counts the call as a complaint in the
KPI reports; `resolved` says whether the caller's matter was settled (None: the code does not
say). Each agent gives at most one per call: giving another replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


@dataclass(frozen=True, slots=True)
class DispositionCode:
    code: str  # what is stored and counted, e.g. callback_promised
    label: str  # what the agent picks from, e.g. "Callback promised"
    complaint: bool = False  # the call counts as a complaint (complaint rate)
    resolved: bool | None = None  # the matter was settled; None: the code does not say


DEFAULT_CODES = (
    DispositionCode("resolved", "Resolved", resolved=True),
    DispositionCode("callback_promised", "Callback promised", resolved=False),
    DispositionCode("complaint", "Complaint", complaint=True, resolved=False),
    DispositionCode("escalated", "Escalated", resolved=False),
    DispositionCode("wrong_number", "Wrong number"),
)


class DispositionCodes:
    """The codes in force, in the order agents are offered them."""

    def __init__(self, codes: Iterable[DispositionCode] = DEFAULT_CODES) -> None:
        self._codes = tuple(codes)
        self._by_code = {c.code: c for c in self._codes}
        if len(self._by_code) != len(self._codes):
            raise ValueError("dispositions: the same code is listed twice")

    def __iter__(self) -> Iterator[DispositionCode]:
        return iter(self._codes)

    def get(self, code: str) -> DispositionCode | None:
        return self._by_code.get(code)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.code for c in self._codes)


@dataclass(frozen=True, slots=True)
class Disposition:
    """One agent's disposition of one call, with the code's flags as they were when given
    (a code changed or removed later does not rewrite past reports)."""

    call_id: str
    agent_id: str  # whose handling it closes: the agent who answered
    code: str
    complaint: bool
    resolved: bool | None
    notes: str
    by: str  # who gave it: the agent, or a supervisor for them
    role: str
    created_at: datetime
    updated_at: datetime
    # When giving it ended the agent's wrap-up of the call early (else the timer ended it).
    wrapup_ended_at: datetime | None = None
