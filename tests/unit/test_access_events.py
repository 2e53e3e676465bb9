"""The `/v1/events` WebSocket: credentials (token or session cookie) required, browser pages only
from the allowed origins, a cap on subscribers, and each subscriber sees only the calls their
role and scope allow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.access.users import User, UserStore
from ari_app.access.wiring import access_parts
from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, build_web_app
from ivr.journey import JourneyType
from kernel.http.auth import Role
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from tests.unit.access_fixtures import T0, fast_passwords
from tests.unit.test_access_scopes import CONFIG, TOKENS
from tests.unit.test_calls_api import FakeLiveCalls, WatchedHub, event, received, record
from tests.unit.test_web_assembly import NoAgentCommands, apply_nothing

ALLOWED = "https://console.example.org"
PASSWORD = "correct horse battery staple"


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-token-0123456789"}


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    hub: WatchedHub
    live: FakeLiveCalls

    async def refused(self, headers: dict[str, str]) -> tuple[int, str]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await self.client.ws_connect("/v1/events", headers=headers)
        return caught.value.status, caught.value.message


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    hub, live = WatchedHub(), FakeLiveCalls()
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=hub, live=live, queues=QueueService(CONFIG, SimulatedClock(1.0)),
        routing=routing, tokens=TOKENS, ready=asyncio.Event(), max_event_subscribers=2,
        allowed_origins=frozenset({ALLOWED}),
        access=access_parts(database.units, passwords=fast_passwords())))  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        yield Site(client, hub, live)


async def test_without_credentials_the_stream_is_refused(site: Site) -> None:
    assert (await site.refused({}))[0] == 401
    assert (await site.refused({"Authorization": "Bearer not-a-token-at-all"}))[0] == 401
    assert (await site.refused(bearer("audrey")))[0] == 403  # auditors: no live calls
    assert (await site.refused(bearer("quinn")))[0] == 403  # QA: recordings, not live calls


async def test_a_browser_page_from_another_origin_is_refused(site: Site) -> None:
    for origin in ("https://evil.example.com", "null", ALLOWED + ":8443", "http://127.0.0.1"):
        status, _ = await site.refused({**bearer("ada"), "Origin": origin})
        assert status == 403, origin
    async with site.client.ws_connect("/v1/events", headers={**bearer("ada"),
                                                             "Origin": ALLOWED}) as ws:
        assert not ws.closed
    async with site.client.ws_connect("/v1/events", headers=bearer("ada")) as ws:  # no browser
        assert not ws.closed


async def test_the_services_own_pages_open_the_stream(site: Site) -> None:
    """The agents' desk is served here: an Origin naming the host the request went to is this
    service's own page, allowed without configuration; the same host on another port (or
    scheme-less, or another host) is not."""
    own = str(site.client.make_url("")).rstrip("/")  # http://127.0.0.1:<port>
    async with site.client.ws_connect("/v1/events", headers={**bearer("alice"),
                                                             "Origin": own}) as ws:
        assert not ws.closed
    port = site.client.make_url("").port
    for origin in (own.replace(f":{port}", f":{(port or 0) + 1}"), own.split("://")[1],
                   "http://localhost:1"):
        status, _ = await site.refused({**bearer("alice"), "Origin": origin})
        assert status == 403, origin


async def test_subscribers_beyond_the_cap_are_refused_until_one_leaves(site: Site) -> None:
    first = await site.client.ws_connect("/v1/events", headers=bearer("ada"))
    second = await site.client.ws_connect("/v1/events", headers=bearer("sam"))
    status, _ = await site.refused(bearer("alice"))
    assert status == 503
    await first.close()
    async with asyncio.timeout(2):
        while True:  # the server notices the close
            try:
                third = await site.client.ws_connect("/v1/events", headers=bearer("alice"))
                break
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 503
                await asyncio.sleep(0.01)
    await third.close()
    await second.close()


async def test_a_browser_session_opens_the_stream(site: Site, database: Database) -> None:
    await UserStore(database.units).add(User("ada", Role.ADMIN, None, None, T0),
                                        await fast_passwords().hash(PASSWORD))
    async with site.client.post("/v1/login", json={"username": "ada",
                                                   "password": PASSWORD}) as resp:
        cookie = resp.cookies["__Host-hotline_session"].value  # by default: Secure
    headers = {"Cookie": f"__Host-hotline_session={cookie}", "Origin": ALLOWED}
    async with site.client.ws_connect("/v1/events", headers=headers) as ws:
        await site.hub.subscribed.wait()
        site.hub.publish(event("c1", JourneyType.CALL_START))
        assert [e["call_id"] for e in await received(ws, 1)] == ["c1"]


def publish_two_calls(site: Site) -> None:
    """claims call a, answered by alice; billing call b, offered to alice first, answered by
    bob; then a call that never reaches a queue; then the end marker (a hangup of z)."""
    for e in (
        event("a", JourneyType.CALL_START), event("b", JourneyType.CALL_START),
        event("ivr", JourneyType.CALL_START), event("a", JourneyType.MENU, choice="1"),
        event("a", JourneyType.QUEUE_JOIN, queue="claims"),
        event("b", JourneyType.QUEUE_JOIN, queue="billing"),
        event("a", JourneyType.AGENT_OFFER, queue="claims", agent="alice"),
        event("b", JourneyType.AGENT_OFFER, queue="billing", agent="alice"),
        event("b", JourneyType.AGENT_NO_ANSWER, agent="alice"),
        event("b", JourneyType.AGENT_OFFER, queue="billing", agent="bob"),
        event("a", JourneyType.AGENT_ANSWER, queue="claims", agent="alice"),
        event("b", JourneyType.AGENT_ANSWER, queue="billing", agent="bob"),
        event("b", JourneyType.HANGUP), event("a", JourneyType.HANGUP),
        event("ivr", JourneyType.HANGUP), event("z", JourneyType.HANGUP),
    ):
        site.hub.publish(e)


@pytest.mark.parametrize(("who", "seen"), [
    ("alice", [("a", "agent_offer"), ("b", "agent_offer"), ("b", "agent_no_answer"),
               ("a", "agent_answer"), ("a", "hangup")]),
    ("bob", [("b", "agent_offer"), ("b", "agent_answer"), ("b", "hangup")]),
    ("sue", [("a", "queue_join"), ("a", "agent_offer"), ("a", "agent_answer"), ("a", "hangup")]),
])  # fmt: skip
async def test_each_subscriber_sees_only_their_calls(
    site: Site, who: str, seen: list[tuple[str, str]]
) -> None:
    async with site.client.ws_connect("/v1/events", headers=bearer(who)) as ws:
        await site.hub.subscribed.wait()
        publish_two_calls(site)
        site.live.journeys["z"] = LiveJourney(record("z", agent_id=who), ())  # the end marker
        site.hub.publish(event("z", JourneyType.HANGUP))
        got = await received(ws, len(seen) + 1)
    assert [(e["call_id"], e["type"]) for e in got[:-1]] == seen
    assert got[-1]["call_id"] == "z"


async def test_an_unscoped_supervisor_sees_every_call(site: Site) -> None:
    async with site.client.ws_connect("/v1/events", headers=bearer("sam")) as ws:
        await site.hub.subscribed.wait()
        publish_two_calls(site)
        got = await received(ws, 16)
    assert got[-1]["call_id"] == "z" and {e["call_id"] for e in got} == {"a", "b", "ivr", "z"}


async def test_a_late_subscriber_knows_a_live_call_from_its_journey_so_far(site: Site) -> None:
    site.live.journeys["a"] = LiveJourney(record("a"), (
        event("a", JourneyType.QUEUE_JOIN, queue="claims"),))  # before anyone subscribed
    site.live.journeys["b"] = LiveJourney(record("b"), (
        event("b", JourneyType.QUEUE_JOIN, queue="billing"),))
    async with site.client.ws_connect("/v1/events?call_id=a", headers=bearer("sue")) as ws:
        await site.hub.subscribed.wait()
        for call_id in ("b", "a"):
            site.hub.publish(event(call_id, JourneyType.QUEUE_POSITION, position=1))
        got: list[dict[str, Any]] = await received(ws, 1)
    assert [(e["call_id"], e["type"]) for e in got] == [("a", "queue_position")]
