"""Request and response bodies of the supervisor API, as pydantic models (and so OpenAPI).

Request models mirror `routing.config`'s dataclasses field by field; a validated body is
dumped without the fields the client left out and read with `routing.serialize.decode`, so
the dataclasses' own defaults apply. Cross-resource rules (unknown skill, plan order) are
`RoutingConfig.validate()` and the plan linter's job, reported as 422.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kernel.http.errors import ProblemOut
from kernel.http.request import NO_CONTROL, Line, Text
from routing.config import (
    CATCH_ALL,
    MAX_PROFICIENCY,
    MIN_PROFICIENCY,
    Agent,
    ExitKind,
    Queue,
    StrategyName,
    Vip,
)

# Every number has bounds and no text a control character: what a supervisor may send is what
# the routing engine's arithmetic and Asterisk's dial strings can take.
MAX_SECONDS = 86_400.0  # a day: longer than any wait, ring, wrap-up or window
MAX_TIER = 9
MAX_PRIORITY = 1000

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL)]
Proficiency = Annotated[int, Field(ge=MIN_PROFICIENCY, le=MAX_PROFICIENCY)]
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
Tier = Annotated[int, Field(ge=1, le=MAX_TIER)]
Priority = Annotated[int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)]


def _default(cls: type, name: str) -> Any:
    """The dataclass field's default, so the documentation says what leaving it out means."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SkillBody(Body):
    skill_id: Id
    name: Name


class AgentSkillBody(Body):
    skill_id: Id
    proficiency: Proficiency


class AgentBody(Body):
    agent_id: Id
    name: Name
    endpoint: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*/[!-~]+$", max_length=255,
                          description="what is dialled, e.g. PJSIP/1001 (printable ASCII)")
    tier: Tier = Field(default=_default(Agent, "tier"),
                       description="1 front line, 2 specialist, 3 expert; up to 9")
    skills: tuple[AgentSkillBody, ...] = Field(default=(), max_length=100)
    max_no_answer: int = Field(default=_default(Agent, "max_no_answer"), ge=0, le=100,
                               description="auto-pause after N consecutive no-answers; 0 never")


class SkillRequirementBody(Body):
    skill_id: Id
    min_proficiency: Proficiency = MIN_PROFICIENCY


class PlanStepBody(Body):
    name: Name
    after_s: Seconds = Field(description="opens this long after the call entered the queue")
    tiers: tuple[Tier, ...] = Field(default=(), max_length=MAX_TIER, description="empty: any")
    skills: tuple[SkillRequirementBody, ...] = Field(
        default=(), max_length=100, description="in addition to the queue's required skills")
    agents: tuple[Id, ...] = Field(default=(), max_length=1000,
                                   description="when set, only these agents")
    priority_delta: Priority = 0
    overflow_to: Id | None = Field(default=None, description="move the call, keeping its age")
    skip_if_empty: bool = False


class QueueExitBody(Body):
    kind: ExitKind
    target_queue: Id | None = None
    message: Text | None = Field(default=None, max_length=2000)


class QueueBody(Body):
    queue_id: Id
    name: Name
    required_skills: tuple[SkillRequirementBody, ...] = Field(default=(), max_length=100)
    strategy: StrategyName = _default(Queue, "strategy")
    ring_timeout_s: Positive = _default(Queue, "ring_timeout_s")
    wrapup_s: Seconds = _default(Queue, "wrapup_s")
    max_wait_s: Positive | None = None
    exit: QueueExitBody | None = None
    plan: tuple[PlanStepBody, ...] = Field(
        default=(PlanStepBody(name=CATCH_ALL.name, after_s=CATCH_ALL.after_s),), max_length=100,
        description="ordered steps, at least one; each widens the pool from its after_s")
    announce_every_s: Positive | None = _default(Queue, "announce_every_s")
    resume_window_s: Seconds = _default(Queue, "resume_window_s")
    aging_cap_s: Positive | None = None


class VipBody(Body):
    caller_number: str = Field(min_length=1, max_length=64, pattern=r"^\+?[0-9]+$")
    priority: Priority
    dedicated_agent: Id | None = None
    dedicated_wait_s: Seconds = _default(Vip, "dedicated_wait_s")


class ReasonBody(Body):
    reason: Line | None = Field(default=None, max_length=200)


class PauseBody(Body):
    reason: Line = Field(min_length=1, max_length=200)


class RestoreBody(Body):
    comment: Text = Field(default="", max_length=2000)


# ---------------------------------------------------------------- responses


class ChangeOut(BaseModel):
    version: int = Field(description="the version this change created (now in force); for "
                         "a dry run, the version it was checked against")  # fmt: skip
    resource: dict[str, Any] | None = Field(description="the resource after the change")
    warnings: list[ProblemOut] = Field(description="plan linter warnings of the new version")
    dry_run: bool = Field(description="true: checked only, nothing saved or applied")


class ConfigOut(BaseModel):
    version: int = Field(description="0: nothing saved yet, the startup configuration")
    config: dict[str, Any] = Field(description="skills, agents, queues, vips")


class VersionOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    comment: str
    restored_from: int | None


class VersionDetailOut(VersionOut):
    config: dict[str, Any]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: Literal["create", "update", "delete", "restore", "login", "logout", "pause",
                    "resume"]  # fmt: skip
    path: str
    before: Any
    after: Any
    version: int | None


class FindingOut(BaseModel):
    severity: Literal["error", "warning"]
    field: str
    message: str


class LintOut(BaseModel):
    queue_id: str
    version: int
    findings: list[FindingOut]


class CommandOut(BaseModel):
    agent_id: str
    command: Literal["login", "logout", "pause", "resume"]
    reason: str | None
