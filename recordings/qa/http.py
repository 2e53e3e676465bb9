"""What the QA routes share: their dependencies, and finding a recording the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from kernel.http.auth import principal
from kernel.http.errors import Problem, invalid, not_found
from recordings.api import RECORDING_ID
from recordings.model import RecordingMeta
from recordings.qa.evaluations import EvaluationStore
from recordings.qa.listens import ListenLog
from recordings.qa.plays import PlayLog
from recordings.qa.store import QaStore
from recordings.qa.timeline import Timelines
from recordings.store import RecordingStore


@dataclass(frozen=True, slots=True)
class QaApiDeps:
    recordings: RecordingStore
    qa: QaStore
    evaluations: EvaluationStore
    listens: ListenLog
    timelines: Timelines | None = None  # None: no journey beside the player
    store_dir: Path | None = None  # the recording store; None: no waveform
    plays: PlayLog | None = None  # what players report as played; None: not audited


QA = web.AppKey("qa_api", QaApiDeps)


async def visible_recording(request: web.Request) -> RecordingMeta:
    """The path's recording if it exists and the caller may see it; else 400/404 naming
    `path.recording_id` (a forged id and someone else's recording answer the same)."""
    recording_id = request.match_info["recording_id"]
    if not RECORDING_ID.match(recording_id):
        raise invalid([Problem("path.recording_id", "not a recording id")])
    meta = await request.app[QA].recordings.get(recording_id)
    who = principal(request)
    if meta is None or not who.sees(agents={meta.agent_id}, queues={meta.queue_id}):
        raise not_found(f"recording {recording_id}", "path.recording_id")
    return meta


def now() -> datetime:
    return datetime.now(UTC)
