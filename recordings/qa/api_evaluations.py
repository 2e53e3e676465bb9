"""Scorecard evaluations: scored against a form version, released to the agent, disputed by the
agent, the dispute answered; and calibration, the spread between reviewers of one call.

    GET  /v1/recordings/{recording_id}/evaluations       (an agent: released ones only)
    POST /v1/recordings/{recording_id}/evaluations       {form_id, form_version?, answers, comment}
    GET  /v1/recordings/{recording_id}/calibration       reviewers' spread, per form version
    GET  /v1/qa/evaluations                              newest first (?agent_id, ?limit, ?offset)
    GET  /v1/qa/evaluations/{evaluation_id}
    POST /v1/qa/evaluations/{evaluation_id}/release      the agent may now see it
    POST /v1/qa/evaluations/{evaluation_id}/dispute      {reason}: the agent disagrees
    POST /v1/qa/evaluations/{evaluation_id}/resolve      {resolution}: QA's answer
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.http import request as read
from kernel.http.auth import Principal, Role, principal
from kernel.http.errors import ApiError, Problem, invalid, not_found
from kernel.http.reply import json_reply
from kernel.http.request import Text
from recordings.qa.api_forms import FORM_ID
from recordings.qa.evaluations import EvaluationStore, WrongState
from recordings.qa.http import QA, now, visible_recording
from recordings.qa.model import Evaluation
from recordings.qa.scope import scope_of
from recordings.qa.scorecard import Answer, answer_problems, calibration, score

ROUTES = web.RouteTableDef()
MAX_LISTED = 500
AGENT_ID = re.compile(r"[A-Za-z0-9_.@:+-]{1,128}")


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion_id: str = Field(pattern=FORM_ID)
    points: int | None = Field(ge=0, le=100, description="0..the criterion's max_points; "
                                                         "null: N/A (where the form allows)")
    note: Text = Field(default="", max_length=2000)


class EvaluationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: str = Field(pattern=FORM_ID)
    form_version: int | None = Field(default=None, ge=1, le=read.MAX_INT,
                                     description="default: the form's newest version")
    answers: list[AnswerBody] = Field(max_length=200)
    comment: Text = Field(default="", max_length=4000)


class DisputeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=4000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Text = Field(min_length=1, max_length=4000,
                             description="upheld, or what changed (a new evaluation)")


def evaluation_json(e: Evaluation) -> dict[str, Any]:
    shown = asdict(e)
    result = shown.pop("result")
    return {**shown, "state": e.state.value, "score": result["score"],
            "passed": result["passed"], "auto_failed": result["auto_failed"]}


def _sees(who: Principal, e: Evaluation) -> bool:
    """An agent: their own released evaluations; others: their recordings' scope."""
    if who.role is Role.AGENT:
        return who.agent_id == e.agent_id and e.released_at is not None
    return who.sees(agents={e.agent_id}, queues={e.queue_id})


@ROUTES.get("/v1/recordings/{recording_id}/evaluations")
async def recording_evaluations(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    who = principal(request)
    found = await request.app[QA].evaluations.for_recording(meta.recording_id)
    return json_reply([evaluation_json(e) for e in found if _sees(who, e)])


@ROUTES.post("/v1/recordings/{recording_id}/evaluations")
async def add_evaluation(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    body = await read.body(request, EvaluationBody)
    deps = request.app[QA]
    form = await deps.qa.form(body.form_id, body.form_version)
    if form is None:
        field = "body.form_version" if body.form_version is not None else "body.form_id"
        raise not_found(f"form {body.form_id}" + (f" version {body.form_version}"
                                                   if body.form_version else ""), field)
    answers = tuple(Answer(a.criterion_id, a.points, a.note) for a in body.answers)
    if problems := answer_problems(form, answers):
        raise invalid([Problem(field, message) for field, message in problems])
    saved = await deps.evaluations.add(Evaluation(
        0, meta.recording_id, meta.call_id, meta.agent_id, meta.queue_id, form.form_id,
        form.version, principal(request).actor, answers, score(form, answers), body.comment,
        now()))  # fmt: skip
    return json_reply({**evaluation_json(saved),
                       "failed_items": list(score(form, answers).failed_items)}, status=201)


@ROUTES.get("/v1/recordings/{recording_id}/calibration")
async def recording_calibration(request: web.Request) -> web.Response:
    """Per form version scored on this call: each reviewer's newest evaluation, the spread."""
    meta = await visible_recording(request)
    deps = request.app[QA]
    newest: dict[tuple[str, int], dict[str, Evaluation]] = {}
    for e in await deps.evaluations.for_recording(meta.recording_id):
        newest.setdefault((e.form_id, e.form_version), {})[e.reviewer] = e
    reports = []
    for (form_id, version), by_reviewer in sorted(newest.items()):
        form = await deps.qa.form(form_id, version)
        if form is None:  # the foreign key keeps every version an evaluation names
            continue
        report = calibration(form, {who: e.answers for who, e in by_reviewer.items()})
        reports.append({"form_id": form_id, "form_version": version, **asdict(report)})
    return json_reply({"recording_id": meta.recording_id, "forms": reports})


@ROUTES.get("/v1/qa/evaluations")
async def list_evaluations(request: web.Request) -> web.Response:
    who = principal(request)
    agent_id = request.query.get("agent_id")
    if agent_id is not None and not AGENT_ID.fullmatch(agent_id):
        raise invalid([Problem("query.agent_id", "not an agent id")])
    found = await request.app[QA].evaluations.listed(
        scope_of(who), released_only=who.role is Role.AGENT, agent_id=agent_id,
        limit=read.query_int(request, "limit", 100, MAX_LISTED),
        offset=_offset(request))
    return json_reply([evaluation_json(e) for e in found])


@ROUTES.get("/v1/qa/evaluations/{evaluation_id}")
async def get_evaluation(request: web.Request) -> web.Response:
    return json_reply(evaluation_json(await _visible(request)))


@ROUTES.post("/v1/qa/evaluations/{evaluation_id}/release")
async def release(request: web.Request) -> web.Response:
    e = await _visible(request)
    return await _moved(request, lambda ev: ev.release(e.evaluation_id,
                                                      principal(request).actor, now()))


@ROUTES.post("/v1/qa/evaluations/{evaluation_id}/dispute")
async def dispute(request: web.Request) -> web.Response:
    e = await _visible(request)  # an agent sees only their own released ones
    body = await read.body(request, DisputeBody)
    return await _moved(request, lambda ev: ev.dispute(e.evaluation_id, body.reason, now()))


@ROUTES.post("/v1/qa/evaluations/{evaluation_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    e = await _visible(request)
    body = await read.body(request, ResolveBody)
    return await _moved(request, lambda ev: ev.resolve(e.evaluation_id, body.resolution,
                                                      principal(request).actor, now()))


async def _visible(request: web.Request) -> Evaluation:
    evaluation_id = read.path_int(request, "evaluation_id", "an evaluation id")
    found = await request.app[QA].evaluations.get(evaluation_id)
    if found is None or not _sees(principal(request), found):
        raise not_found(f"evaluation {evaluation_id}", "path.evaluation_id")
    return found


async def _moved(request: web.Request,
                 move: Callable[[EvaluationStore], Awaitable[Evaluation]]) -> web.Response:
    try:
        moved = await move(request.app[QA].evaluations)
    except WrongState as exc:
        raise ApiError(409, "conflict", str(exc),
                       [Problem("path.evaluation_id", str(exc))]) from None
    except LookupError:
        raise not_found("evaluation", "path.evaluation_id") from None
    return json_reply(evaluation_json(moved))


def _offset(request: web.Request) -> int:
    """`?offset`, 0 to 1,000,000 (query_int reads 1 and up: 0 is the default)."""
    if request.query.get("offset") == "0":
        return 0
    return read.query_int(request, "offset", 0, 1_000_000)
