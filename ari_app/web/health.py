"""`GET /health` and `GET /ready`, open to anyone: load balancers, orchestrators and the
container's health check poll them.

- `/health` (is the service whole?): 200 `{"status": "ok", "ari": "connected", "ami":
  "connected", "database": "ok", "active_calls": N}` while the ARI event stream, AMI and the
  database are all up; from the moment one is not, 503 with `"status": "degraded"` and each
  component's state (`disconnected`, `unreachable`). The database's answer is cached for at
  most `db_max_age_s` (a busy load balancer does not hammer it) and waited for at most
  `db_timeout_s`: a hung database is reported `unreachable` in time.
- `/ready` (may new calls come here?): 200 `{"ready": true, "reason": "accepting calls"}` while
  ARI is connected and `accepting_calls()` (false while starting up and adopting calls, and
  while stopping or draining); otherwise 503 with `"ready": false` and the reason.

The composition root passes plain callables (`HealthChecks`), so this module knows neither
the ARI stream, nor the AMI monitor, nor the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ari_app.calls.registry import LiveCalls
from kernel.http.reply import json_reply

NOT_ACCEPTING = "not accepting new calls (starting up, adopting calls, stopping or draining)"


@dataclass(frozen=True, slots=True)
class HealthChecks:
    """What `/health` and `/ready` ask; every callable is cheap and must not block."""

    ari_connected: Callable[[], bool]  # the ARI event stream is connected
    ami_connected: Callable[[], bool]  # e.g. `AmiMonitor.connected`
    database: Callable[[], Awaitable[bool]]  # e.g. `Database.ping`; raising counts as down
    accepting_calls: Callable[[], bool]  # the engine takes new calls
    live: LiveCalls
    db_max_age_s: float = 1.0
    db_timeout_s: float = 1.0
    clock: Callable[[], float] = time.monotonic


class CachedCheck:
    """An async yes/no check, answered from its last answer while that is younger than
    `max_age_s`, else asked once for all who ask meanwhile; each caller waits at most
    `timeout_s`. A check that raises says no; one that is late says no, and is cancelled
    (held until it ends: the loop keeps tasks weakly) so the next caller asks afresh."""

    def __init__(self, check: Callable[[], Awaitable[bool]], *, max_age_s: float,
                 timeout_s: float, clock: Callable[[], float]) -> None:  # fmt: skip
        self._check, self._max_age_s, self._timeout_s = check, max_age_s, timeout_s
        self._clock = clock
        self._answer: tuple[float, bool] | None = None  # (when, what)
        self._pending: asyncio.Task[bool] | None = None
        self._abandoned: set[asyncio.Task[bool]] = set()

    async def __call__(self) -> bool:
        if self._answer is not None and self._clock() - self._answer[0] < self._max_age_s:
            return self._answer[1]
        pending = self._pending
        if pending is None or pending.done():
            pending = self._pending = asyncio.create_task(self._ask())
        done, _ = await asyncio.wait({pending}, timeout=self._timeout_s)
        if done and not pending.cancelled():
            return pending.result()
        if self._pending is pending:  # the first caller to give up on it
            self._pending = None
            self._answer = (self._clock(), False)
            self._abandoned.add(pending)
            pending.add_done_callback(self._abandoned.discard)
            pending.cancel()
        return False

    async def _ask(self) -> bool:
        try:
            ok = bool(await self._check())
        except Exception:
            ok = False
        self._answer = (self._clock(), ok)
        return ok


@dataclass(frozen=True, slots=True)
class _Health:
    checks: HealthChecks
    database: CachedCheck


HEALTH = web.AppKey("health", _Health)
ROUTES = web.RouteTableDef()


def add_health_routes(app: web.Application, checks: HealthChecks) -> None:
    database = CachedCheck(checks.database, max_age_s=checks.db_max_age_s,
                           timeout_s=checks.db_timeout_s, clock=checks.clock)  # fmt: skip
    app[HEALTH] = _Health(checks, database)
    app.add_routes(ROUTES)


@ROUTES.get("/health")
async def health(request: web.Request) -> web.Response:
    deps = request.app[HEALTH]
    checks = deps.checks
    ari, ami = checks.ari_connected(), checks.ami_connected()
    database = await deps.database()
    whole = ari and ami and database
    return json_reply({"status": "ok" if whole else "degraded",
                       "ari": "connected" if ari else "disconnected",
                       "ami": "connected" if ami else "disconnected",
                       "database": "ok" if database else "unreachable",
                       "active_calls": checks.live.count()},
                      status=200 if whole else 503)  # fmt: skip


@ROUTES.get("/ready")
async def ready(request: web.Request) -> web.Response:
    checks = request.app[HEALTH].checks
    if not checks.ari_connected():
        reason = "ARI is disconnected"
    elif not checks.accepting_calls():
        reason = NOT_ACCEPTING
    else:
        return json_reply({"ready": True, "reason": "accepting calls"})
    return json_reply({"ready": False, "reason": reason}, status=503)
