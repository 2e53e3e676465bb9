"""What a player reports it played, and the audit of it.

    POST /v1/recordings/{recording_id}/plays   {ranges: [{start_s, end_s}, …]}  -> 201
    GET  /v1/audit/plays                       ?recording_id&actor&limit (auditors)

Whoever may hear a recording may report what they heard of it (the same scope). Each range lies
within the recording (0 <= start_s < end_s <= its duration, a player's rounding of 50 ms
allowed), else 400 naming `body.ranges[i].end_s` and nothing is kept.
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, invalid
from kernel.http.reply import json_reply
from recordings.qa.http import QA, now, visible_recording
from recordings.qa.model import Play

ROUTES = web.RouteTableDef()
MAX_LISTED = 1000
ROUNDING_S = 0.05  # players report times a frame or so past the end


class PlayedRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_s: float = Field(ge=0, le=1e7, description="seconds from the recording's start")
    end_s: float = Field(ge=0, le=1e7)


class PlaysBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ranges: list[PlayedRange] = Field(min_length=1, max_length=100)


@ROUTES.post("/v1/recordings/{recording_id}/plays")
async def report_plays(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    body = await read.body(request, PlaysBody)
    problems = []
    for i, played in enumerate(body.ranges):
        if played.end_s <= played.start_s:
            problems.append(Problem(f"body.ranges[{i}].end_s", "must be after start_s"))
        elif played.end_s > meta.duration_s + ROUNDING_S:
            problems.append(Problem(f"body.ranges[{i}].end_s",
                                    f"past the recording's end ({meta.duration_s:.2f} s)"))
    if problems:
        raise invalid(problems)
    plays = request.app[QA].plays
    if plays is None:
        raise ApiError(503, "unavailable", "the played-seconds audit is not configured")
    who = principal(request)
    await plays.record([Play(now(), who.actor, who.role.value, meta.recording_id, p.start_s,
                             min(p.end_s, meta.duration_s), request.remote)
                        for p in body.ranges])  # fmt: skip
    return json_reply({"recorded": len(body.ranges)}, status=201)


@ROUTES.get("/v1/audit/plays")
async def play_audit(request: web.Request) -> web.Response:
    plays = request.app[QA].plays
    if plays is None:
        return json_reply([])
    rows = await plays.recent(read.query_int(request, "limit", 100, MAX_LISTED),
                              recording_id=request.query.get("recording_id"),
                              actor=request.query.get("actor"))  # fmt: skip
    return json_reply([{"id": row_id, **asdict(play)} for row_id, play in rows])
