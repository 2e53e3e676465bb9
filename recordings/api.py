"""The recordings room's HTTP routes: a recording's details and its audio file.

Who may call these routes at all is the service's one access table; which recordings a caller
may read is decided here from the recording's agent and queue (`Principal.sees`): an agent their
own, a supervisor or QA their queues', an admin any. Every read is audited through the
`ReadAudit` port, granted or not. Replies carry no server path, and the audio is served only
from inside the recording store: a stored path that leads elsewhere is refused, never read.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import structlog
from aiohttp import web

from kernel.http.auth import Principal, principal
from kernel.http.errors import ApiError, Problem, invalid, not_found
from kernel.http.reply import json_reply
from recordings.model import RecordingMeta
from recordings.store import RecordingStore

log = structlog.get_logger(__name__)

ROUTES = web.RouteTableDef()
RECORDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class ReadOutcome(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"  # not the reader's to see (answered as not found)
    NOT_FOUND = "not_found"
    FILE_MISSING = "file_missing"
    OUTSIDE_STORE = "outside_store"  # the stored path leads out of the store: refused


@dataclass(frozen=True, slots=True)
class RecordingRead:
    """One attempt to read a recording, as the listen audit keeps it."""

    at: datetime
    actor: str
    role: str
    recording_id: str
    call_id: str | None
    what: str  # details | audio
    outcome: ReadOutcome
    remote: str | None


class ReadAudit(Protocol):
    async def record(self, read: RecordingRead) -> None: ...


class ListenAudit(Protocol):
    """Which bytes and seconds of a recording's audio were served (recordings.qa.listens)."""

    async def served(self, request: web.Request, meta: RecordingMeta, path: Path) -> None: ...


class RetentionView(Protocol):
    """Whether a recording is on legal hold, and until when it is kept
    (recordings.retention.api.RetentionFacts): `on_hold`, `hold`, `retain_until`."""

    async def of(self, meta: RecordingMeta) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class RecordingApiDeps:
    store: RecordingStore
    store_dir: Path | None  # audio is served only from inside this folder (None: never)
    audit: ReadAudit
    listens: ListenAudit | None = None  # None: only the read audit
    retention: RetentionView | None = None  # None: details without hold and retention


RECORDINGS = web.AppKey("recordings_api", RecordingApiDeps)


def add_recording_routes(app: web.Application, deps: RecordingApiDeps) -> None:
    app[RECORDINGS] = deps
    app.add_routes(ROUTES)


def recording_json(meta: RecordingMeta) -> dict[str, Any]:
    """A recording's details as replies show them: its audio as a link, never a path."""
    shown = {k: v for k, v in asdict(meta).items() if k not in ("path", "mutes")}
    return {**shown, "mutes": [asdict(m) for m in meta.mutes],
            "audio": f"/v1/recordings/{meta.recording_id}/audio"}


@ROUTES.get("/v1/recordings/{recording_id}")
async def get_recording(request: web.Request) -> web.Response:
    meta = await _readable(request, "details")
    await _audit(request, meta.recording_id, meta, "details", ReadOutcome.GRANTED)
    retention = request.app[RECORDINGS].retention
    kept = await retention.of(meta) if retention is not None else {}
    return json_reply({**recording_json(meta), **kept})


@ROUTES.get("/v1/recordings/{recording_id}/audio")
async def get_recording_audio(request: web.Request) -> web.StreamResponse:
    meta = await _readable(request, "audio")
    root = request.app[RECORDINGS].store_dir
    path, outcome = await asyncio.to_thread(_inside_store, Path(meta.path), root)
    await _audit(request, meta.recording_id, meta, "audio", outcome)
    if outcome is ReadOutcome.OUTSIDE_STORE:
        log.error("recordings.path_outside_store", recording_id=meta.recording_id)
        raise not_found(f"recording {meta.recording_id}", "path.recording_id")
    if outcome is ReadOutcome.FILE_MISSING:
        raise ApiError(410, "file_missing", f"recording file is gone: {meta.recording_id}")
    if (listens := request.app[RECORDINGS].listens) is not None:
        await listens.served(request, meta, path)  # before a byte is sent: refused if it fails
    return web.FileResponse(path)  # Range: 206 with Content-Range, 416 past the end


async def _readable(request: web.Request, what: str) -> RecordingMeta:
    """The recording, if it exists and the caller may read it; else 400/404 (audited)."""
    recording_id = request.match_info["recording_id"]
    if not RECORDING_ID.match(recording_id):
        raise invalid([Problem("path.recording_id", "not a recording id")])
    meta = await request.app[RECORDINGS].store.get(recording_id)
    who = principal(request)
    if meta is None or not _may_read(who, meta):
        outcome = ReadOutcome.NOT_FOUND if meta is None else ReadOutcome.REFUSED
        await _audit(request, recording_id, meta, what, outcome)
        raise not_found(f"recording {recording_id}", "path.recording_id")
    return meta


def _may_read(who: Principal, meta: RecordingMeta) -> bool:
    return who.sees(agents={meta.agent_id}, queues={meta.queue_id})


def _inside_store(path: Path, root: Path | None) -> tuple[Path, ReadOutcome]:
    """The file, resolved (symbolic links followed), if it lies inside the store."""
    resolved = path.resolve()
    if root is None or not resolved.is_relative_to(root.resolve()):
        return resolved, ReadOutcome.OUTSIDE_STORE
    if not resolved.is_file():
        return resolved, ReadOutcome.FILE_MISSING
    return resolved, ReadOutcome.GRANTED


async def _audit(request: web.Request, recording_id: str, meta: RecordingMeta | None,
                 what: str, outcome: ReadOutcome) -> None:  # fmt: skip
    who = principal(request)
    await request.app[RECORDINGS].audit.record(RecordingRead(
        at=datetime.now(UTC), actor=who.actor, role=who.role.value, recording_id=recording_id,
        call_id=meta.call_id if meta else None, what=what, outcome=outcome,
        remote=request.remote))  # fmt: skip
