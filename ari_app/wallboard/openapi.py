"""The wallboard's routes (`api.py`) as the service's OpenAPI document describes them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ari_app.reports.openapi import KpiOut
from ari_app.wallboard.api import PATH, STREAM_PATH
from kernel.http.openapi import Route
from routing.wallboard import PRESENCES

PRESENCE_NAMES = ", ".join(p.value for p in PRESENCES)


class QueueBoardOut(BaseModel):
    queue_id: str
    name: str
    waiting: int = Field(description="calls waiting in the queue now, ringing ones included")
    ringing: int = Field(description="of those, calls being offered to an agent now")
    longest_wait_s: float | None = Field(description="the longest wait in this queue now; "
                                         "null when nobody waits")  # fmt: skip
    answered_today: int = Field(description="A since midnight (the service's time zone)")
    abandoned_today: int = Field(description="Ab since midnight")
    service_level: KpiOut | None = Field(description="today's SL(20 s, excl. short ≤ 5 s); "
                                         "null until the first count")  # fmt: skip
    agents: dict[str, int] = Field(description=f"agents serving the queue by presence "
                                   f"({PRESENCE_NAMES})")  # fmt: skip
    tiers: dict[str, dict[str, int]] = Field(description="tier -> presence -> agents")


class AgentBoardOut(BaseModel):
    agent_id: str
    name: str
    tier: int
    queues: list[str] = Field(description="the shown queues whose required skills they have")
    presence: str = Field(description=PRESENCE_NAMES)
    pause_reason: str | None
    call_id: str | None = Field(description="the call ringing for or talking to them")
    in_presence_s: float = Field(description="since the wallboard first saw this presence")
    calls_today: int


class TodayOut(BaseModel):
    as_of: str | None = Field(description="when today's figures were counted; they are "
                              "recounted every 10 s, kept when a count fails")  # fmt: skip
    service_level_key: str


class BoardOut(BaseModel):
    seq: int = Field(description="the frame's number in its stream (0 for GET /v1/wallboard)")
    at: str = Field(description="when the frame was built (UTC)")
    period_s: float = Field(description="a stream sends a frame this often")
    today: TodayOut
    queues: list[QueueBoardOut]
    agents: list[AgentBoardOut]


def routes() -> list[Route]:
    stream: dict[str, Any] = {"type": "string", "description": "server-sent events"}
    return [
        Route("GET", PATH, "The wallboard now: queues, agents, today's figures", "wallboard",
              BoardOut, description="A supervisor scoped to some queues sees those queues "
                                    "and the agents who serve them."),
        Route("GET", STREAM_PATH, "The wallboard, pushed every second", "wallboard", stream,
              media_type="text/event-stream", errors=(503,),
              description="Server-sent events named `board`, each `data` a Board as "
                          "GET /v1/wallboard answers, `id` its sequence number; at most 20 "
                          "streams open at once (503 beyond)."),
    ]  # fmt: skip
