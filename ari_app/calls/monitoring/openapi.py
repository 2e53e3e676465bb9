"""The monitoring routes (`api.py`) as the service's OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, RootModel

from ari_app.calls.monitoring.api import MAX_LISTED, ModeBody, MonitorBody
from ari_app.calls.monitoring.model import MonitorEnd, MonitorMode, MonitorState
from kernel.http.openapi import Param, Route

CALL = Param("call_id", "path", "the live call's id", {"type": "string", "minLength": 1})
MONITOR = Param("monitor_id", "path", "the monitor session's id (hex)",
                {"type": "string", "pattern": "^[0-9a-f]{1,32}$"})


class ModeOut(BaseModel):
    mode: MonitorMode
    at: datetime
    by: str


class MonitorOut(BaseModel):
    monitor_id: str
    call_id: str
    actor: str = Field(description="the supervisor (user name or token actor)")
    role: str
    agent_id: str | None = Field(description="the agent talking when it started")
    queue_id: str | None
    endpoint: str = Field(description="the supervisor's phone, as dialled")
    mode: MonitorMode = Field(description="in force now (or, ringing, once connected)")
    state: MonitorState
    modes: list[ModeOut] = Field(description="every mode in order: the first one asked for, "
                                             "then each change")
    requested_at: datetime
    connected_at: datetime | None = Field(description="the supervisor answered and hears "
                                                      "the call")
    ended_at: datetime | None
    end_reason: MonitorEnd | None
    ended_by: str | None = Field(description="who stopped it (DELETE); otherwise null")


class MonitorsOut(BaseModel):
    call_id: str
    items: list[MonitorOut]


class AuditRowOut(MonitorOut):
    id: int = Field(description="the audit row")


class AuditOut(RootModel[list[AuditRowOut]]):
    """Monitor sessions, newest first."""


_AUDIT_PARAMS = (
    Param("from", "query", "requested at or after (ISO 8601 with a time zone)",
          {"type": "string", "format": "date-time"}),
    Param("to", "query", "requested before", {"type": "string", "format": "date-time"}),
    Param("actor", "query", "only this supervisor's sessions"),
    Param("call_id", "query", "only this call's sessions"),
    Param("limit", "query", f"how many, newest first (1-{MAX_LISTED}, default 100)",
          {"type": "integer", "minimum": 1, "maximum": MAX_LISTED}),
    Param("offset", "query", "skip this many (paging; default 0)",
          {"type": "integer", "minimum": 0}),
)


def routes() -> list[Route]:
    return [
        Route("POST", "/v1/calls/{call_id}/monitor",
              "Listen, whisper or barge on a live call from the supervisor's phone", "monitor",
              MonitorOut, status=202, body=MonitorBody, params=(CALL,),
              errors=(404, 409, 503),
              description="Calls the supervisor's phone; once it answers, it hears the agent "
                          "and the caller through a snoop on the agent's channel, in a bridge "
                          "of its own (the call's bridge is untouched). listen: nobody hears "
                          "the supervisor; whisper: the agent does; barge: the agent and the "
                          "caller do. Answers at once, ringing. 409 while no agent talks to "
                          "the caller, when this supervisor monitors the call already, or at "
                          "the cap per call; 503 when no audit row could be written (nothing "
                          "is dialled then). The session ends when the supervisor hangs up, "
                          "on DELETE, or when the conversation ends."),
        Route("GET", "/v1/calls/{call_id}/monitor", "The live call's monitor sessions",
              "monitor", MonitorsOut, params=(CALL,), errors=(404, 503)),
        Route("PATCH", "/v1/calls/{call_id}/monitor/{monitor_id}",
              "Change a monitor session's mode (listen, whisper, barge)", "monitor",
              MonitorOut, body=ModeBody, params=(CALL, MONITOR), errors=(404, 409, 503),
              description="In force when this answers: the snoop is swapped for one in the new "
                          "directions, the supervisor's phone stays up. While still ringing, "
                          "the new mode applies once connected. Only the supervisor who "
                          "started the session (403 otherwise)."),
        Route("DELETE", "/v1/calls/{call_id}/monitor/{monitor_id}",
              "End a monitor session: the supervisor's phone is hung up", "monitor",
              MonitorOut, params=(CALL, MONITOR), errors=(404, 503),
              description="Answers the session as ended (`end_reason` stopped). The supervisor "
                          "who started it, or an admin (403 otherwise)."),
        Route("GET", "/v1/audit/monitors", "Supervisors' monitor sessions: who, when, which "
              "call, agent and queue, the modes, how each ended", "audit", AuditOut,
              params=_AUDIT_PARAMS, errors=(503,)),
    ]  # fmt: skip
