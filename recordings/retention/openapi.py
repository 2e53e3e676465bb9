"""The retention routes (`api.py`) as the service's OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, RootModel

from kernel.http.openapi import Param, Route
from recordings.openapi import HoldOut
from recordings.retention.api import ReasonBody

_REC = Param("recording_id", "path", "the recording's id", {"type": "string", "minLength": 1})
_LIMIT = Param("limit", "query", "how many, newest first (1-1000, default 100)",
               {"type": "integer", "minimum": 1, "maximum": 1000})
_ONLY = Param("recording_id", "query", "only this recording")


class DeletionOut(BaseModel):
    id: int = Field(default=0, description="the audit row (GET /v1/audit/deletions only)")
    at: datetime
    actor: str = Field(description='who deleted it; "retention" for the retention sweep')
    reason: str
    recording_id: str
    call_id: str
    queue_id: str
    agent_id: str
    started_at: datetime
    file_name: str = Field(description="the stored file's name (no folder)")
    sha256: str
    size_bytes: int
    file_found: bool = Field(description="false: the file was already gone; the rows went")


class DeletionsOut(RootModel[list[DeletionOut]]):
    """Newest first."""


class HoldsOut(RootModel[list[HoldOut]]):
    """Newest first."""


class HoldStateOut(BaseModel):
    recording_id: str
    exists: bool = Field(description="false: the recording was deleted; its holds' history "
                                     "stays")
    on_hold: bool
    retain_until: datetime | None = Field(description="null: kept for ever (or deleted)")
    history: list[HoldOut] = Field(description="every hold placed on it, newest first")


def routes() -> list[Route]:
    return [
        Route("DELETE", "/v1/recordings/{recording_id}", "Delete a recording: its file, its "
              "row, its comments, evaluations and training entry, together; audited",
              "recordings", DeletionOut, body=ReasonBody, params=(_REC,),
              errors=(404, 409, 503),
              description="409 when it is on legal hold (or its file lies outside the store)"),
        Route("GET", "/v1/recordings/{recording_id}/hold", "Whether a recording is on legal "
              "hold, and its holds' history", "recordings", HoldStateOut, params=(_REC,),
              errors=(404, 503)),
        Route("POST", "/v1/recordings/{recording_id}/hold", "Place a legal hold: never "
              "deleted while it lasts", "recordings", HoldOut, status=201, body=ReasonBody,
              params=(_REC,), errors=(404, 409, 503),
              description="409 when a hold is already active"),
        Route("DELETE", "/v1/recordings/{recording_id}/hold", "Lift the legal hold",
              "recordings", HoldOut, body=ReasonBody, params=(_REC,), errors=(404, 503),
              description="404 when the recording is not on hold"),
        Route("GET", "/v1/audit/holds", "Legal holds placed and lifted", "audit", HoldsOut,
              params=(_LIMIT, _ONLY, Param("active", "query", "true: only holds in force; "
                                           "false: only lifted ones",
                                           {"type": "boolean"})), errors=(503,)),
        Route("GET", "/v1/audit/deletions", "Recordings deleted: who, when, why, what",
              "audit", DeletionsOut, params=(_LIMIT, _ONLY,
                                             Param("actor", "query", "only this actor")),
              errors=(503,)),
    ]  # fmt: skip
