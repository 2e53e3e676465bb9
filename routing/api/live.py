"""The queue actor's live view over HTTP (`GET /v1/queues`): queues, agents' states, waiting
calls and who is ringing for them, as the actor's snapshot has them right now."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.http.openapi import Route
from kernel.http.reply import json_reply
from routing.actor import QueueService

QUEUES = web.AppKey("routing_live_queues", QueueService)
ROUTES = web.RouteTableDef()


class WaitingOut(BaseModel):
    call_id: str
    queue_id: str
    joined_at: float = Field(description="the routing clock's time the call joined")
    ringing: str | None = Field(description="the agent being offered the call, if any")


class QueuesOut(BaseModel):
    model_config = ConfigDict(title="Queues")

    queues: list[dict[str, Any]] = Field(description="each queue's configuration in force")
    agents: list[dict[str, Any]] = Field(description="each agent's configuration and live "
                                         "view: status, state, reachable, counters")  # fmt: skip
    waiting: list[WaitingOut]


def routes() -> list[Route]:
    """The live view, for the service's OpenAPI document."""
    return [Route("GET", "/v1/queues", "Queues, agents' states and waiting calls, now",
                  "live", QueuesOut)]  # fmt: skip


def add_live_routes(app: web.Application, queues: QueueService) -> None:
    app[QUEUES] = queues
    app.add_routes(ROUTES)


@ROUTES.get("/v1/queues")
async def queues(request: web.Request) -> web.Response:
    snapshot = request.app[QUEUES].snapshot()
    return json_reply({
        "queues": [asdict(q) for q in snapshot.queues],
        "agents": [{**asdict(a), **asdict(v)}
                   for a, v in zip(snapshot.agents, snapshot.views, strict=True)],
        "waiting": [{"call_id": c.call_id, "queue_id": c.queue_id, "joined_at": c.joined_at,
                     "ringing": c.offer.agent_id if c.offer else None} for c in snapshot.calls],
    })  # fmt: skip
