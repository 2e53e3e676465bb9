"""The wallboard's routes: `GET /v1/wallboard` (the board now, JSON) and
`GET /v1/wallboard/stream` (the board pushed every second as server-sent events, which a
browser's EventSource reconnects by itself). A supervisor scoped to some queues sees those
queues and the agents who serve them; admins see every queue.

Each frame carries its sequence number and the time it was built, so a page can tell a lagging
feed ("stale") from a quiet floor. Frames are built per stream from the queue actor's snapshot
(a copy, no await) and today's figures (counted at most every 10 s, `today.py`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from ari_app.reports.api import kpi_json
from ari_app.wallboard.today import SERVICE_LEVEL_KEY, TodayFigures
from kernel.http.auth import principal
from kernel.http.errors import ApiError
from kernel.http.reply import json_reply
from routing.model import RoutingSnapshot
from routing.wallboard import AgentBoard, Board, PresenceClock, QueueBoard, build_board

PATH = "/v1/wallboard"
STREAM_PATH = "/v1/wallboard/stream"


class Snapshots(Protocol):
    """The queue actor (`routing.actor.QueueService`) as the wallboard reads it."""

    def snapshot(self) -> RoutingSnapshot: ...


@dataclass
class WallboardDeps:
    queues: Snapshots
    today: TodayFigures
    period_s: float = 1.0  # one frame a second: the wall is at most this much behind
    max_streams: int = 20  # open streams; beyond: 503
    presences: PresenceClock = field(default_factory=PresenceClock)
    monotonic: Callable[[], float] = time.monotonic
    streams: int = 0


WALLBOARD = web.AppKey("wallboard", WallboardDeps)
ROUTES = web.RouteTableDef()


def add_wallboard_routes(app: web.Application, deps: WallboardDeps) -> None:
    app[WALLBOARD] = deps
    app.add_routes(ROUTES)


@ROUTES.get(PATH)
async def get_board(request: web.Request) -> web.Response:
    return json_reply(await _frame(request, 0))


@ROUTES.get(STREAM_PATH)
async def stream_board(request: web.Request) -> web.StreamResponse:
    deps = request.app[WALLBOARD]
    if deps.streams >= deps.max_streams:
        raise ApiError(503, "too_many_streams",
                       f"{deps.max_streams} wallboard streams are open; close one")  # fmt: skip
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no"})  # fmt: skip
    deps.streams += 1
    try:
        await response.prepare(request)
        await response.write(f"retry: {int(deps.period_s * 2000)}\n\n".encode())
        seq = 0
        while True:
            seq += 1
            frame = json.dumps(await _frame(request, seq), separators=(",", ":"))
            await response.write(f"id: {seq}\nevent: board\ndata: {frame}\n\n".encode())
            await asyncio.sleep(deps.period_s)
    except ConnectionResetError:
        pass  # the wall closed the page
    finally:
        deps.streams -= 1
    return response


async def _frame(request: web.Request, seq: int) -> dict[str, Any]:
    deps = request.app[WALLBOARD]
    who = principal(request)
    today = await deps.today.figures()
    board = build_board(deps.queues.snapshot(), today, deps.presences, deps.monotonic(),
                        queues=None if who.unscoped else who.queues)  # fmt: skip
    as_of = deps.today.as_of
    return {"seq": seq, "at": datetime.now(UTC).isoformat(), "period_s": deps.period_s,
            "today": {"as_of": as_of.isoformat() if as_of else None,
                      "service_level_key": SERVICE_LEVEL_KEY},
            **board_json(board)}  # fmt: skip


def board_json(board: Board) -> dict[str, Any]:
    return {"queues": [_queue(q) for q in board.queues],
            "agents": [_agent(a) for a in board.agents]}  # fmt: skip


def _queue(q: QueueBoard) -> dict[str, Any]:
    return {
        "queue_id": q.queue_id, "name": q.name, "waiting": q.waiting, "ringing": q.ringing,
        "longest_wait_s": None if q.longest_wait_s is None else round(q.longest_wait_s, 1),
        "answered_today": q.answered_today, "abandoned_today": q.abandoned_today,
        "service_level": None if q.service_level is None else kpi_json(q.service_level),
        "agents": dict(q.agents), "tiers": {str(t): dict(c) for t, c in q.tiers.items()},
    }  # fmt: skip


def _agent(a: AgentBoard) -> dict[str, Any]:
    return {"agent_id": a.agent_id, "name": a.name, "tier": a.tier, "queues": list(a.queues),
            "presence": a.presence.value, "pause_reason": a.pause_reason, "call_id": a.call_id,
            "in_presence_s": round(a.in_presence_s, 1), "calls_today": a.calls_today}  # fmt: skip
