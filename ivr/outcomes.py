"""Where a flow leaves the caller: the call engine acts on these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ToQueue:
    queue_id: str
    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class HangUp:
    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class Contained:
    """Self-service solved it (the caller said the answer helped); no agent needed.

    `survey`: run the post-call survey before hanging up (the node's `on_contained`).
    """

    node: str
    reason: str
    survey: bool = False


FlowOutcome = ToQueue | HangUp | Contained
