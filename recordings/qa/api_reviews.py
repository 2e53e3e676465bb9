"""QA routes on a recording's timeline, the training library and the listen audit.

    GET  /v1/recordings/{recording_id}/comments    comments in timeline order
    POST /v1/recordings/{recording_id}/comments    {at_s, text}: at_s within the recording
    POST /v1/recordings/{recording_id}/training    {reason}: add to the training library
    GET  /v1/qa/training                           the library, newest first
    GET  /v1/audit/listens                         audio served: who, when, bytes, seconds
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.db.errors import DatabaseConflict
from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import Problem, invalid
from kernel.http.reply import json_reply
from kernel.http.request import Line, Text
from recordings.qa.http import QA, now, visible_recording
from recordings.qa.model import Comment, TrainingEntry

ROUTES = web.RouteTableDef()
MAX_LISTED = 1000


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_s: float = Field(ge=0, le=1e7, description="seconds from the recording's start")
    text: Text = Field(min_length=1, max_length=4000)


class TrainingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Line = Field(min_length=1, max_length=1000, description="why it is worth learning from")


def comment_json(c: Comment) -> dict[str, object]:
    return asdict(c)


@ROUTES.get("/v1/recordings/{recording_id}/comments")
async def list_comments(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    return json_reply([comment_json(c) for c in await request.app[QA].qa.comments(
        meta.recording_id)])


@ROUTES.post("/v1/recordings/{recording_id}/comments")
async def add_comment(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    body = await read.body(request, CommentBody)
    if body.at_s > meta.duration_s:
        raise invalid([Problem("body.at_s", f"{body.at_s:g} s is past the recording's end "
                                            f"({meta.duration_s:g} s)")])
    comment = await request.app[QA].qa.add_comment(meta.recording_id, body.at_s, body.text,
                                                   principal(request).actor, now())
    return json_reply(comment_json(comment), status=201)


@ROUTES.post("/v1/recordings/{recording_id}/training")
async def add_training(request: web.Request) -> web.Response:
    """In the library once: asking again answers 200 with the entry as it is."""
    meta = await visible_recording(request)
    body = await read.body(request, TrainingBody)
    qa = request.app[QA].qa
    if (entry := await qa.training_entry(meta.recording_id)) is not None:
        return json_reply(asdict(entry))
    entry = TrainingEntry(meta.recording_id, body.reason, principal(request).actor, now())
    try:
        await qa.add_training(entry)
    except DatabaseConflict:  # added by someone else meanwhile
        entry = await qa.training_entry(meta.recording_id) or entry
        return json_reply(asdict(entry))
    return json_reply(asdict(entry), status=201)


@ROUTES.get("/v1/qa/training")
async def list_training(request: web.Request) -> web.Response:
    limit = read.query_int(request, "limit", 100, MAX_LISTED)
    return json_reply([asdict(e) for e in await request.app[QA].qa.training(limit)])


@ROUTES.get("/v1/audit/listens")
async def listen_audit(request: web.Request) -> web.Response:
    limit = read.query_int(request, "limit", 100, MAX_LISTED)
    rows = await request.app[QA].listens.recent(
        limit, recording_id=request.query.get("recording_id"), actor=request.query.get("actor"))
    return json_reply([{"id": row_id, **asdict(listen)} for row_id, listen in rows])
