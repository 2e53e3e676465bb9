"""`GET /health`: 200 while the ARI event stream is connected, 503 (`degraded`) otherwise,
with the number of live calls. Load balancers and the container's health check poll it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ari_app.calls.registry import LiveCalls
from kernel.http.reply import json_reply


@dataclass(frozen=True, slots=True)
class HealthDeps:
    ready: asyncio.Event  # set while ARI is connected
    live: LiveCalls


HEALTH = web.AppKey("health", HealthDeps)
ROUTES = web.RouteTableDef()


def add_health_routes(app: web.Application, ready: asyncio.Event, live: LiveCalls) -> None:
    app[HEALTH] = HealthDeps(ready, live)
    app.add_routes(ROUTES)


@ROUTES.get("/health")
async def health(request: web.Request) -> web.Response:
    deps = request.app[HEALTH]
    connected = deps.ready.is_set()
    return json_reply({"status": "ok" if connected else "degraded",
                       "ari": "connected" if connected else "disconnected",
                       "active_calls": deps.live.count()},
                      status=200 if connected else 503)  # fmt: skip
