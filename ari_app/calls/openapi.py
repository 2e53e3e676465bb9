"""The calls' routes (`api.py`) as the service's OpenAPI document describes them: what each one
answers, its parameters and its errors. Who may call them is the access table's to say."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, RootModel

from ari_app.calls.api import MAX_LIMIT, MuteBody, TransferBody
from ari_app.calls.desk.openapi import DispositionOut
from ari_app.calls.record import CallOutcome
from kernel.http.openapi import Param, Route
from recordings.openapi import RecordingOut

ANY_ID = Param("call_id", "path", "the call's id", {"type": "string", "minLength": 1})


class CallOut(BaseModel):
    call_id: str
    channel_id: str
    caller_number: str
    correlation_id: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: CallOutcome
    hangup_cause: str | None
    queue_id: str | None
    agent_id: str | None


class CallsOut(RootModel[list[CallOut]]):
    """Recent calls, newest first."""


class CallDetailOut(BaseModel):
    call: CallOut
    journey: list[dict[str, Any]] = Field(description="journey events: type, t and details")
    recordings: list[RecordingOut]
    survey: dict[str, Any] | None
    dispositions: list[DispositionOut] = Field(description="agents' dispositions of the call")


class HandoffOut(BaseModel):
    call_id: str
    caller_number: str
    vip: bool
    queue_id: str | None
    menu_path: list[str] = Field(description='menus chosen, e.g. "main_menu=1"')
    utterances: list[dict[str, Any]]
    intents: list[dict[str, Any]]
    answers: list[dict[str, Any]] = Field(description="self-service answers played")
    notes: list[dict[str, Any]] = Field(description="from agents who transferred the caller")
    no_input: int
    no_match: int
    previous_agents: list[str]


class TransferOut(BaseModel):
    call_id: str
    status: str = Field(description="transferring")


class MuteOut(BaseModel):
    call_id: str
    muted: bool = Field(description="whether the call's recording is muted now")


class DecisionsOut(BaseModel):
    call_id: str
    decisions: list[dict[str, Any]] = Field(description="live routing decisions, explained")
    offers: list[dict[str, Any]] = Field(description="offers made to agents so far")


_LIMIT = Param("limit", "query", f"how many, newest first (1-{MAX_LIMIT}, default 50)",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})  # fmt: skip
_FILTERS = (
    Param("call_id", "query", "only this call's events"),
    Param("correlation_id", "query", "only the events of the call started with this "
          "correlation id (the simulator's HOTLINE_CORRELATION_ID)"),
)


def routes() -> list[Route]:
    return [
        Route("GET", "/v1/calls", "Recent calls the caller may see", "calls", CallsOut,
              params=(_LIMIT,), errors=(503,)),
        Route("GET", "/v1/calls/{call_id}", "One call with its journey, recordings and survey",
              "calls", CallDetailOut, params=(ANY_ID,), errors=(404, 503)),
        Route("GET", "/v1/calls/{call_id}/handoff", "What the answering agent should know",
              "calls", HandoffOut, params=(ANY_ID,), errors=(404, 503)),
        Route("POST", "/v1/calls/{call_id}/transfer",
              "Send the caller on to another queue or a higher tier, keeping their place",
              "calls", TransferOut, status=202, body=TransferBody, params=(ANY_ID,),
              errors=(404, 409, 422, 503)),
        Route("POST", "/v1/calls/{call_id}/recording/mute",
              "Mute the call's recording while card data is spoken (PCI)", "calls", MuteOut,
              body=MuteBody, body_required=False, params=(ANY_ID,),
              errors=(404, 409, 503),
              description="Silence is recorded instead, so the file keeps its length; the "
                          "muted interval (start, end, who, why) is kept with the recording. "
                          "Muting a muted recording changes nothing. An agent may mute only "
                          "the call they are talking to (403); 409 when the call is not being "
                          "recorded now."),
        Route("DELETE", "/v1/calls/{call_id}/recording/mute",
              "Unmute the call's recording", "calls", MuteOut, params=(ANY_ID,),
              errors=(404, 409, 503),
              description="Ends the muted interval. Unmuting a recording that is not muted "
                          "changes nothing."),
        Route("GET", "/v1/calls/{call_id}/decisions",
              "Live routing decisions for a waiting call, and its offers, explained", "calls",
              DecisionsOut, params=(ANY_ID,), errors=(404,)),
        Route("GET", "/v1/events", "Journey events, live, over a WebSocket", "calls",
              status=101, params=_FILTERS, errors=(503,),
              description="A WebSocket: each journey event of a call the caller may see is "
                          "one JSON text message. A plain HTTP request is answered 400; a "
                          "browser page from an origin not allowed (neither this service's "
                          "own nor in http.allowed_origins) 403; over the subscriber cap 503."),
    ]  # fmt: skip
