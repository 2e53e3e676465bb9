"""The access routes (`routes.py`) as the service's OpenAPI document describes them. Who may
call them is the access table's to say (logging in is open)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, RootModel

from ari_app.access.routes import MAX_AUDIT, LoginBody
from kernel.http.openapi import Param, Route


class SessionOut(BaseModel):
    actor: str = Field(description="the user name, or a token's actor")
    role: str
    agent_id: str | None = Field(description="an agent's own agent id")
    queues: list[str] | None = Field(description="a supervisor's or QA's queues; null: all")
    csrf_header: str | None = Field(default=None, description="X-CSRF-Token (sessions only)")
    csrf_token: str | None = Field(default=None, description="send it in csrf_header with "
                                   "every request that changes something (sessions only)")
    expires_at: datetime | None = Field(default=None, description="when the session ends "
                                        "unless used again (idle), or for good (absolute)")


class RecordingReadOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    recording_id: str
    call_id: str | None
    what: str = Field(description="details or audio")
    outcome: str = Field(description="granted, refused (not theirs), not_found, file_missing "
                         "or outside_store")
    remote: str | None = Field(description="the reader's address")


class RecordingReadsOut(RootModel[list[RecordingReadOut]]):
    """Reads of recordings, newest first."""


_AUDIT_FILTERS = (
    Param("limit", "query", f"how many, newest first (1-{MAX_AUDIT}, default 100)",
          {"type": "integer", "minimum": 1, "maximum": MAX_AUDIT}),
    Param("recording_id", "query", "only reads of this recording"),
    Param("actor", "query", "only reads by this user or token actor"),
)


def routes() -> list[Route]:
    return [
        Route("POST", "/v1/login", "Log in: a browser session (cookie) and its CSRF token",
              "access", SessionOut, body=LoginBody, errors=(401, 503),
              description="Sets an HttpOnly, SameSite=Strict session cookie (Secure unless "
                          "the service listens on loopback). 401: unknown name or wrong "
                          "password; 429 with Retry-After: too many failed logins for the "
                          "name; 415: not application/json."),
        Route("POST", "/v1/logout", "End the browser session", "access", status=204,
              errors=(503,),
              description="With a session cookie, send its X-CSRF-Token (403 without)."),
        Route("GET", "/v1/session", "Who is calling (and the session's CSRF token)", "access",
              SessionOut, errors=(503,)),
        Route("GET", "/v1/audit/recordings", "Who read which recording, granted or not",
              "audit", RecordingReadsOut, params=_AUDIT_FILTERS, errors=(503,)),
    ]  # fmt: skip
