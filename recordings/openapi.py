"""The recordings' routes (`api.py`) as the service's OpenAPI document describes them. Who may
call them is the access table's to say; which recordings a caller may read, the routes'."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kernel.http.openapi import Param, Route

_ID = Param("recording_id", "path", "the recording's id", {"type": "string", "minLength": 1})


class MutedIntervalOut(BaseModel):
    """A stretch written as silence while card data was spoken (PCI mute); the file keeps its
    length, so the times are where it happened."""

    start_s: float = Field(description="seconds from the recording's start")
    end_s: float = Field(description="seconds from the recording's start; a recording that "
                                     "ended muted closes it at its end")
    by: str = Field(description='who muted: the actor of the API caller, or "keypad:<agent_id>"')
    reason: str


class RecordingOut(BaseModel):
    recording_id: str
    call_id: str
    queue_id: str
    agent_id: str
    started_at: datetime
    duration_s: float
    format: str = Field(description="the audio format, e.g. wav")
    size_bytes: int
    sha256: str
    mutes: list[MutedIntervalOut] = Field(description="muted intervals, in the order they began")
    audio: str = Field(description="the link to its audio: /v1/recordings/{recording_id}/audio "
                                   "(a server path is never shown)")


class HoldOut(BaseModel):
    hold_id: int
    recording_id: str
    placed_by: str
    placed_at: datetime
    reason: str
    lifted_by: str | None
    lifted_at: datetime | None
    lift_reason: str | None
    active: bool = Field(default=True, description="not lifted (hold routes only)")


class RecordingDetailsOut(RecordingOut):
    on_hold: bool = Field(description="under a legal hold: never deleted, by hand or by the "
                                      "retention sweep")
    hold: HoldOut | None = Field(description="the active hold: who placed it, when, why")
    retain_until: datetime | None = Field(
        description="when the retention sweep deletes it (its queue's rule, or the default, "
                    "from its start); null: kept for ever. A held recording waits for the lift")


def routes() -> list[Route]:
    return [
        Route("GET", "/v1/recordings/{recording_id}", "A recording's details", "recordings",
              RecordingDetailsOut, params=(_ID,), errors=(404, 503)),
        Route("GET", "/v1/recordings/{recording_id}/audio", "A recording's audio file",
              "recordings", {"type": "string", "format": "binary"}, media_type="audio/*",
              params=(_ID,), errors=(404, 410, 503)),
    ]  # fmt: skip
