"""What a player page needs beside the audio (`GET /v1/recordings/{id}/audio`, with Range).

    GET /v1/recordings/{recording_id}/timeline   the call's journey on the recording's clock,
                                                 and its muted intervals
    GET /v1/recordings/{recording_id}/peaks      the waveform: ?points (1-4000, default 800)
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path

from aiohttp import web

from kernel.http import request as read
from kernel.http.errors import ApiError, not_found
from kernel.http.reply import json_reply
from recordings.api import ReadOutcome, _inside_store, recording_json
from recordings.qa.http import QA, visible_recording
from recordings.qa.timeline import MAX_POINTS, NotWav, peaks

ROUTES = web.RouteTableDef()


@ROUTES.get("/v1/recordings/{recording_id}/timeline")
async def timeline(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    deps = request.app[QA]
    events = await deps.timelines.events(meta) if deps.timelines is not None else []
    return json_reply({**recording_json(meta), "events": [asdict(e) for e in events]})


@ROUTES.get("/v1/recordings/{recording_id}/peaks")
async def waveform(request: web.Request) -> web.Response:
    meta = await visible_recording(request)
    points = read.query_int(request, "points", 800, MAX_POINTS)
    path, outcome = await asyncio.to_thread(_inside_store, Path(meta.path),
                                            request.app[QA].store_dir)
    if outcome is ReadOutcome.OUTSIDE_STORE:
        raise not_found(f"recording {meta.recording_id}", "path.recording_id")
    if outcome is ReadOutcome.FILE_MISSING:
        raise ApiError(410, "file_missing", f"recording file is gone: {meta.recording_id}")
    try:
        found = await asyncio.to_thread(peaks, path, points)
    except NotWav as exc:
        raise ApiError(409, "conflict", f"no waveform for this file: {exc}") from None
    return json_reply({"recording_id": meta.recording_id, "duration_s": meta.duration_s,
                       "peaks": found})
