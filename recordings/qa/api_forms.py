"""Scorecard forms: each POST saves a new version of its form id (1 for a new id); versions are
never changed, so an evaluation keeps scoring as it was made.

    GET  /v1/qa/forms                               the newest version of each form
    POST /v1/qa/forms                               a form (or its next version)
    GET  /v1/qa/forms/{form_id}                     its newest version, and the versions there are
    GET  /v1/qa/forms/{form_id}/versions/{version}  one version
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.db.errors import DatabaseConflict
from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, invalid, not_found
from kernel.http.reply import json_reply
from kernel.http.request import Line
from recordings.qa.http import QA, now
from recordings.qa.scorecard import Criterion, Form, form_problems

ROUTES = web.RouteTableDef()
FORM_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class CriterionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion_id: str = Field(pattern=FORM_ID)
    text: Line = Field(min_length=1, max_length=500)
    weight: float = Field(ge=0, le=100, description="its share of 100; 0 only for auto-fail")
    max_points: int = Field(default=1, ge=1, le=100, description="1: met or not")
    allow_na: bool = Field(default=False, description="may be answered N/A")
    auto_fail: bool = Field(default=False, description="below its maximum fails the whole "
                                                        "evaluation (score 0)")


class FormBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: str = Field(pattern=FORM_ID)
    name: Line = Field(min_length=1, max_length=200)
    passing_score: float = Field(default=80.0, ge=0, le=100)
    criteria: list[CriterionBody] = Field(min_length=1, max_length=200)


def form_json(form: Form) -> dict[str, Any]:
    return {**asdict(form), "criteria": [asdict(c) for c in form.criteria]}


@ROUTES.get("/v1/qa/forms")
async def list_forms(request: web.Request) -> web.Response:
    return json_reply([form_json(f) for f in await request.app[QA].qa.forms()])


@ROUTES.post("/v1/qa/forms")
async def add_form(request: web.Request) -> web.Response:
    body = await read.body(request, FormBody)
    criteria = tuple(Criterion(**c.model_dump()) for c in body.criteria)
    if problems := form_problems(criteria):
        raise invalid([Problem(field, message) for field, message in problems])
    form = Form(body.form_id, 0, body.name, body.passing_score, criteria,
                principal(request).actor, now())
    try:
        saved = await request.app[QA].qa.add_form(form)
    except DatabaseConflict:  # another version of the same form saved at the same moment
        raise ApiError(409, "conflict", f"form {form.form_id} was saved meanwhile; send it "
                       "again", [Problem("body.form_id", "saved meanwhile")]) from None
    return json_reply(form_json(saved), status=201)


@ROUTES.get("/v1/qa/forms/{form_id}")
async def get_form(request: web.Request) -> web.Response:
    form_id = _form_id(request)
    versions = await request.app[QA].qa.versions(form_id)
    if not versions:
        raise not_found(f"form {form_id}", "path.form_id")
    return json_reply({**form_json(versions[-1]), "versions": [f.version for f in versions]})


@ROUTES.get("/v1/qa/forms/{form_id}/versions/{version}")
async def get_form_version(request: web.Request) -> web.Response:
    form_id = _form_id(request)
    version = read.path_int(request, "version", "a form version")
    form = await request.app[QA].qa.form(form_id, version)
    if form is None:
        raise not_found(f"version {version} of form {form_id}", "path.version")
    return json_reply(form_json(form))


def _form_id(request: web.Request) -> str:
    form_id = request.match_info["form_id"]
    if not re.fullmatch(FORM_ID, form_id):
        raise invalid([Problem("path.form_id", "not a form id")])
    return form_id
