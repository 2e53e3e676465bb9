"""The desk's routes (`api.py`) as the service's OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ari_app.calls.desk.api import CODES_PATH, DISPOSITION_PATH, DispositionBody
from kernel.http.openapi import Param, Route

CALL_ID = Param("call_id", "path", "the call's id", {"type": "string", "minLength": 1})


class CodeOut(BaseModel):
    code: str
    label: str
    complaint: bool = Field(description="the call counts as a complaint in the KPI reports")
    resolved: bool | None = Field(description="the matter was settled (null: not said)")


class CodesOut(BaseModel):
    items: list[CodeOut] = Field(description="in the order agents are offered them")


class DispositionOut(BaseModel):
    call_id: str
    agent_id: str = Field(description="whose handling it closes: the agent who answered")
    code: str
    complaint: bool = Field(description="the code's flag when it was given")
    resolved: bool | None
    notes: str
    by: str = Field(description="who gave it (user name or token actor)")
    role: str
    created_at: datetime
    updated_at: datetime
    wrapup_ended_at: datetime | None = Field(description="when giving it ended the agent's "
                                             "wrap-up of the call early")  # fmt: skip


class GivenOut(BaseModel):
    disposition: DispositionOut
    replaced: bool = Field(description="it replaced the agent's earlier disposition (200)")
    wrapup_ended: bool = Field(description="the agent's wrap-up of the call ended: ready now")


def routes() -> list[Route]:
    return [
        Route("GET", CODES_PATH, "The disposition codes agents close calls with", "calls",
              CodesOut),
        Route("POST", DISPOSITION_PATH, "Close a call with a disposition code and notes",
              "calls", GivenOut, status=201, body=DispositionBody, params=(CALL_ID,),
              errors=(404, 409, 422, 503),
              description="By the agent who answered the call (403 `not_your_call` for an "
                          "agent it only rang for) or a supervisor or admin who sees it (for "
                          "the agent who answered, `agent_id`), while the call is live or "
                          "after it ended. One per agent and call: a second replaces the "
                          "first and answers 200. Given by the agent while wrapping the call "
                          "up, it ends the wrap-up: the agent is ready at once. A code "
                          "flagged `complaint` counts the call as a complaint in the KPI "
                          "reports; every code is counted per row (`dispositions`)."),
    ]  # fmt: skip
