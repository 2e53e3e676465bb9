"""What a recording search may ask, checked. Pure: no I/O.

Every query parameter has a field here; an unknown parameter, a value of the wrong type, or a
range given backwards is refused naming the parameter (`query.to`, `query.max_duration_s`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kernel.utc import UtcDatetime

NAME = r"^[A-Za-z0-9_.@:+-]{1,128}$"
MAX_PAGE = 200


class SortKey(StrEnum):
    STARTED_AT = "started_at"
    DURATION = "duration_s"
    SCORE = "survey_score"
    AGENT = "agent_id"
    QUEUE = "queue_id"


class SearchQuery(BaseModel):
    """`GET /v1/recordings` query parameters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    agent_id: str | None = Field(default=None, pattern=NAME)
    queue_id: str | None = Field(default=None, pattern=NAME)
    from_: UtcDatetime | None = Field(default=None, alias="from",
                                      description="started at or after (ISO 8601 with zone)")
    to: UtcDatetime | None = Field(default=None, description="started before")
    min_duration_s: float | None = Field(default=None, ge=0, le=1e7)
    max_duration_s: float | None = Field(default=None, ge=0, le=1e7)
    caller: str | None = Field(default=None, pattern=r"^\+?[0-9*#]{1,32}$",
                               description="the caller's number, or its beginning")
    intent: str | None = Field(default=None, pattern=NAME, description="an intent the IVR "
                               "recognised in the call")
    min_score: int | None = Field(default=None, ge=1, le=5, description="survey score")
    max_score: int | None = Field(default=None, ge=1, le=5)
    outcome: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$",
                                description="the call's outcome, e.g. answered")
    transferred: bool | None = Field(default=None, description="an agent sent the caller on")
    muted: bool | None = Field(default=None, description="the recording has muted intervals")
    sort: SortKey = SortKey.STARTED_AT
    order: str = Field(default="desc", pattern="^(asc|desc)$")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=1_000_000)


def range_problems(q: SearchQuery) -> list[tuple[str, str]]:
    """Ranges given backwards, each named by its upper end."""
    problems = []
    if q.from_ is not None and q.to is not None and q.to <= q.from_:
        problems.append(("query.to", "must be after query.from (the date range is backwards)"))
    if (q.min_duration_s is not None and q.max_duration_s is not None
            and q.max_duration_s < q.min_duration_s):
        problems.append(("query.max_duration_s", "must not be below query.min_duration_s"))
    if q.min_score is not None and q.max_score is not None and q.max_score < q.min_score:
        problems.append(("query.max_score", "must not be below query.min_score"))
    return problems


@dataclass(frozen=True, slots=True)
class Scope:
    """Which recordings a search may return: an agent's own, some queues', all, or none."""

    agent_id: str | None = None
    queues: frozenset[str] | None = None
    nothing: bool = False
