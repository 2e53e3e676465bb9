"""POST /v1/reports/whatif's body, and the proposed configuration it describes.

`proposed` is either new plans for some queues, `{"queues": {"<queue_id>": {"plan": [...]}}}`,
each step as `PUT /v1/routing/queues/{queue_id}/plan` takes it, laid over the configuration in
force; or a whole configuration document as `GET /v1/routing/config` returns it under `config`
(`{"format": 1, "skills": [...], ...}`). Either is checked as the routing API checks a change:
its schemas, `RoutingConfig.validate()` and the plan linter's errors. Every problem is a 400
naming the field in this body (`body.proposed.queues.claims.plan[1].after_s`, or
`body.proposed.queues[0]…` in a document); the linter's warnings come back with the figures.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationError

from kernel.http.errors import ApiError, Problem, field_path, invalid
from routing.api.changes import lint
from routing.api.schemas import AgentBody, Body, Id, PlanStepBody, QueueBody, SkillBody, VipBody
from routing.config import PlanStep, RoutingConfig
from routing.serialize import FORMAT, DocumentError, decode, from_document

MAX_HOURS = 168
MAX_SERVICE_S = 3600
MAX_PATIENCE_S = 86_400.0
PROPOSED = "body.proposed"


class QueuePlanBody(Body):
    plan: tuple[PlanStepBody, ...] = Field(min_length=1, max_length=100,
                                           description="the queue's proposed steps, in order")


class PlanChangesBody(Body):
    """New plans for some queues; every other part of the configuration stays as in force."""

    queues: dict[Id, QueuePlanBody] = Field(min_length=1, max_length=100)


class ConfigDocumentBody(Body):
    """A whole routing configuration, as GET /v1/routing/config returns it under `config`."""

    format: Literal[1]
    skills: tuple[SkillBody, ...] = Field(default=(), max_length=1000)
    agents: tuple[AgentBody, ...] = Field(default=(), max_length=5000)
    queues: tuple[QueueBody, ...] = Field(default=(), max_length=1000)
    vips: tuple[VipBody, ...] = Field(default=(), max_length=10_000)


def _kind(value: Any) -> str:
    return "document" if isinstance(value, dict) and "format" in value else "plans"


Proposal = Annotated[Annotated[PlanChangesBody, Tag("plans")]
                     | Annotated[ConfigDocumentBody, Tag("document")], Discriminator(_kind)]


class WhatIfBody(Body):
    hours: int = Field(ge=1, le=MAX_HOURS, description="replay the last N hours' arrivals")
    queue_id: Id | None = Field(default=None, description="count only this queue's figures "
                                "(every queue is replayed: agents serve several)")
    interval_min: Literal[15, 30, 60] | None = Field(
        default=None, description="the per-interval rows' width; default 15 up to 6 hours, "
                                  "else 60")
    proposed: Proposal = Field(description="new plans for some queues "
                               "({queues: {id: {plan: [...]}}}), or a whole configuration "
                               "document ({format: 1, skills, agents, queues, vips})")
    sl_s: int = Field(default=20, ge=1, le=MAX_SERVICE_S, description="T, as the KPI reports")
    short_s: int = Field(default=5, ge=0, le=MAX_SERVICE_S - 1,
                         description="S, the short-abandon threshold, below T")
    patience: Literal["longest_observed", "infinite"] = Field(
        default="longest_observed", description="how long a caller never seen to hang up "
        "would wait: as long as the longest wait of the window (at least min_patience_s), or "
        "for ever")
    min_patience_s: float = Field(default=60, ge=0, le=MAX_PATIENCE_S, allow_inf_nan=False)
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="the random strategy's seed")


def parse(raw: object) -> WhatIfBody:
    """The body checked against its schema; 400 naming every bad field."""
    try:
        return WhatIfBody.model_validate_json(json.dumps(raw))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise invalid([Problem(_field(err["loc"]), str(err["msg"]).removeprefix("Value error, "))
                       for err in errors if not _echo(err["loc"], err["type"], errors)]) from None


def _echo(loc: tuple[int | str, ...], kind: str, errors: list[Any]) -> bool:
    """A list's "too short" that only repeats that its items failed (pydantic counts the
    valid ones): the items' own problems say it."""
    return kind == "too_short" and any(e["loc"][:len(loc)] == loc and len(e["loc"]) > len(loc)
                                       for e in errors)


def _field(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as a field path, without the union's tag or a dict key's marker."""
    parts = list(loc)
    if parts[:1] == ["proposed"] and parts[1:2] in (["plans"], ["document"]):
        del parts[1]
    return field_path("body", [p for p in parts if p != "[key]"])


# ------------------------------------------------------------------ the proposed configuration


@dataclass(frozen=True, slots=True)
class Proposed:
    config: RoutingConfig
    changed: dict[str, str]  # queue id -> the body field that changes it
    warnings: tuple[Problem, ...]  # plan linter warnings the proposal adds


def proposed(body: WhatIfBody, current: RoutingConfig) -> Proposed:
    """The configuration to replay; 400 naming every problem in the body."""
    sent = body.proposed
    if isinstance(sent, PlanChangesBody):
        config, changed, where = _with_plans(sent, current)
    else:
        config, changed, where = _document(sent, current)
    problems = [Problem(where(p.path), p.message) for p in config.validate()]
    before = set(lint(current))
    added = [f for f in lint(config) if f not in before]
    problems += [Problem(where(f.path), f.message) for f in added if f.severity == "error"]
    if problems:
        raise invalid(problems, "the proposed configuration is invalid; nothing was replayed")
    warnings = tuple(Problem(where(f.path), f.message) for f in added if f.severity == "warning")
    return Proposed(config, changed, warnings)


Where = Callable[[str], str]


def _with_plans(sent: PlanChangesBody, current: RoutingConfig
                ) -> tuple[RoutingConfig, dict[str, str], Where]:  # fmt: skip
    index = {q.queue_id: i for i, q in enumerate(current.queues)}
    unknown = [Problem(f"{PROPOSED}.queues.{qid}", f"no queue {qid!r} in the routing "
                       "configuration in force") for qid in sent.queues if qid not in index]
    if unknown:
        raise invalid(unknown)
    queues = list(current.queues)
    for qid, change in sent.queues.items():
        plan = tuple(decode(PlanStep, s.model_dump(mode="json", exclude_unset=True))
                     for s in change.plan)  # fmt: skip
        queues[index[qid]] = dataclasses.replace(queues[index[qid]], plan=plan)
    changed = {qid: f"{PROPOSED}.queues.{qid}" for qid in sent.queues}
    at = {f"queues[{index[qid]}]": path for qid, path in changed.items()}

    def where(path: str) -> str:
        for prefix, field in at.items():
            if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
                return field + path.removeprefix(prefix)
        return path  # outside the plans sent: where it is in the configuration

    return dataclasses.replace(current, queues=tuple(queues)), changed, where


def _document(sent: ConfigDocumentBody, current: RoutingConfig
              ) -> tuple[RoutingConfig, dict[str, str], Where]:  # fmt: skip
    try:
        config = from_document({**sent.model_dump(mode="json", exclude_unset=True),
                                "format": FORMAT}, version=0)
    except DocumentError as exc:  # the schemas mirror the dataclasses; a drift lands here
        raise invalid([Problem(f"{PROPOSED}.{exc.path}", exc.message)]) from exc
    changed: dict[str, str] = {}
    for i, q in enumerate(config.queues):
        if current.queue(q.queue_id) != q:
            changed[q.queue_id] = f"{PROPOSED}.queues[{i}]"
    for q in current.queues:
        if config.queue(q.queue_id) is None:
            changed[q.queue_id] = f"{PROPOSED}.queues"
    return config, changed, lambda path: f"{PROPOSED}.{path}"


def out_of_scope(actor: str, fields: list[str]) -> ApiError:
    return ApiError(403, "out_of_scope", f"{actor} may replay changes only to their own "
                    "queues", [Problem(f, "not one of your queues") for f in fields])
