"""`/health` and `/ready` (ari_app/web/health.py) through the assembled app's middlewares, each
component simulated: ARI, AMI, the database (up, down, raising, hung) and whether calls are
accepted; the database's answer cached for at most a second and waited for at most a second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.registry import LiveJourney
from ari_app.web.app import assemble
from ari_app.web.auth import ACCESS, OPEN
from ari_app.web.health import NOT_ACCEPTING, HealthChecks, add_health_routes
from tests.unit.test_calls_api import TOKENS, FakeLiveCalls, record

ALL_UP = {"status": "ok", "ari": "connected", "ami": "connected", "database": "ok"}


@dataclass
class World:
    """The components' states as the checks see them, and a clock the test moves."""

    ari: bool = True
    ami: bool = True
    db: bool = True
    db_raises: bool = False
    db_hangs: bool = False
    accepting: bool = True
    now: float = 100.0
    pings: int = 0
    live: FakeLiveCalls = field(default_factory=FakeLiveCalls)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends a hung ping

    async def ping(self) -> bool:
        self.pings += 1
        if self.db_hangs:
            await self.release.wait()
        if self.db_raises:
            raise RuntimeError("driver bug")
        return self.db

    def checks(self, **timing: Any) -> HealthChecks:
        return HealthChecks(ari_connected=lambda: self.ari, ami_connected=lambda: self.ami,
                            database=self.ping, accepting_calls=lambda: self.accepting,
                            live=self.live, clock=lambda: self.now, **timing)  # fmt: skip


Client = TestClient[web.Request, web.Application]


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    app = assemble(TOKENS, [lambda app: add_health_routes(app, world.checks())])
    async with TestClient(TestServer(app)) as client:
        yield client
    world.release.set()


async def get(client: Client, path: str) -> tuple[int, Any]:
    async with client.get(path) as resp:
        return resp.status, await resp.json()


def test_both_routes_are_open_without_a_token() -> None:
    assert ACCESS[("GET", "/health")] is OPEN
    assert ACCESS[("GET", "/ready")] is OPEN


async def test_health_is_ok_only_while_all_three_are_up(client: Client, world: World) -> None:
    world.live.journeys["c1"] = LiveJourney(record("c1"), ())
    world.live.journeys["c2"] = LiveJourney(record("c2"), ())
    assert await get(client, "/health") == (200, ALL_UP | {"active_calls": 2})


@pytest.mark.parametrize(("component", "state"), [
    ("ari", {"ari": "disconnected"}),
    ("ami", {"ami": "disconnected"}),
    ("db", {"database": "unreachable"}),
])  # fmt: skip
async def test_health_is_degraded_naming_the_component_that_is_down(
    client: Client, world: World, component: str, state: dict[str, str]
) -> None:
    setattr(world, component, False)
    status, body = await get(client, "/health")
    assert (status, body) == (503, ALL_UP | {"status": "degraded", "active_calls": 0} | state)


async def test_health_names_every_component_that_is_down(client: Client, world: World) -> None:
    world.ari = world.ami = world.db = False
    assert await get(client, "/health") == (503, {
        "status": "degraded", "ari": "disconnected", "ami": "disconnected",
        "database": "unreachable", "active_calls": 0})  # fmt: skip


async def test_a_database_check_that_raises_is_unreachable(client: Client, world: World) -> None:
    world.db_raises = True
    status, body = await get(client, "/health")
    assert (status, body["status"], body["database"]) == (503, "degraded", "unreachable")


async def test_health_recovers_as_soon_as_the_component_is_back(
    client: Client, world: World
) -> None:
    world.ami = False
    assert (await get(client, "/health"))[0] == 503
    world.ami = True  # ARI and AMI are asked on every request
    assert (await get(client, "/health"))[0] == 200


async def test_the_database_answer_is_cached_for_at_most_a_second(
    client: Client, world: World
) -> None:
    assert (await get(client, "/health"))[1]["database"] == "ok"
    world.db = False
    world.now += 0.5
    for _ in range(5):  # a busy load balancer: the database is not asked again
        assert (await get(client, "/health"))[1]["database"] == "ok"
    assert world.pings == 1
    world.now += 0.5  # a second old: asked again
    assert await get(client, "/health") == (503, ALL_UP | {
        "status": "degraded", "database": "unreachable", "active_calls": 0})  # fmt: skip
    assert world.pings == 2


async def test_requests_arriving_together_share_one_database_ping(
    client: Client, world: World
) -> None:
    world.db_hangs = True
    asked = [asyncio.create_task(get(client, "/health")) for _ in range(5)]
    await asyncio.sleep(0.1)
    world.release.set()
    answers = await asyncio.gather(*asked)
    assert answers == [(200, ALL_UP | {"active_calls": 0})] * 5
    assert world.pings == 1


async def test_a_hung_database_is_degraded_within_the_one_second_timeout(
    client: Client, world: World
) -> None:
    world.db_hangs = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await get(client, "/health")
    assert loop.time() - started < 1.5
    assert (status, body) == (503, ALL_UP | {"status": "degraded", "database": "unreachable",
                                             "active_calls": 0})  # fmt: skip
    # The late answer counts for the cache's second too: no pile of pings on a hung database.
    assert (await get(client, "/health"))[1]["database"] == "unreachable"
    assert world.pings == 1
    # Back: the next request after the cache's second asks afresh.
    world.db_hangs = False
    world.now += 1.0
    assert (await get(client, "/health"))[0] == 200
    assert world.pings == 2


async def test_the_database_wait_and_cache_age_are_settable(world: World) -> None:
    world.db_hangs = True
    checks = world.checks(db_timeout_s=0.05, db_max_age_s=0.0)
    app = assemble(TOKENS, [lambda app: add_health_routes(app, checks)])
    async with TestClient(TestServer(app)) as client:
        for _ in range(3):
            assert (await get(client, "/health"))[1]["database"] == "unreachable"
    world.release.set()
    assert world.pings == 3  # no cache: each late ping abandoned, the next asked afresh


async def test_ready_while_ari_is_connected_and_calls_are_accepted(
    client: Client, world: World
) -> None:
    assert await get(client, "/ready") == (200, {"ready": True, "reason": "accepting calls"})
    world.ami = world.db = False  # not what readiness is about: /health says it
    assert await get(client, "/ready") == (200, {"ready": True, "reason": "accepting calls"})


async def test_not_ready_while_ari_is_disconnected(client: Client, world: World) -> None:
    world.ari = False
    assert await get(client, "/ready") == (503, {"ready": False,
                                                 "reason": "ARI is disconnected"})  # fmt: skip


async def test_not_ready_while_starting_up_adopting_stopping_or_draining(
    client: Client, world: World
) -> None:
    world.accepting = False
    assert await get(client, "/ready") == (503, {"ready": False, "reason": NOT_ACCEPTING})
    world.accepting = True
    assert (await get(client, "/ready"))[0] == 200
