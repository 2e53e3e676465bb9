"""The recordings room's HTTP routes: a recording's metadata and its audio file.

Reads only the recording store; who may call these routes is decided by the service's one
access table, not here.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path

from aiohttp import web

from kernel.http.errors import ApiError, not_found
from kernel.http.reply import json_reply
from recordings.model import RecordingMeta
from recordings.store import RecordingStore

STORE = web.AppKey("recordings_store", RecordingStore)
ROUTES = web.RouteTableDef()


def add_recording_routes(app: web.Application, store: RecordingStore) -> None:
    app[STORE] = store
    app.add_routes(ROUTES)


@ROUTES.get("/v1/recordings/{recording_id}")
async def get_recording(request: web.Request) -> web.Response:
    return json_reply(asdict(await _meta(request)))


@ROUTES.get("/v1/recordings/{recording_id}/audio")
async def get_recording_audio(request: web.Request) -> web.StreamResponse:
    path = Path((await _meta(request)).path)
    if not await asyncio.to_thread(path.exists):
        raise ApiError(410, "file_missing", f"recording file is gone: {path.name}")
    return web.FileResponse(path)


async def _meta(request: web.Request) -> RecordingMeta:
    recording_id = request.match_info["recording_id"]
    meta = await request.app[STORE].get(recording_id)
    if meta is None:
        raise not_found(f"recording {recording_id}", "path.recording_id")
    return meta
