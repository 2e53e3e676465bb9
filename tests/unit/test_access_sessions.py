"""People log in: a session cookie (HttpOnly, SameSite=Strict, Secure off loopback), CSRF tokens
on state-changing requests, idle and absolute timeouts on a simulated clock, lockout after
failed logins, logout; through the whole app as the service builds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from ari_app.access.logins import LockoutPolicy
from ari_app.access.passwords import Passwords
from ari_app.access.sessions import SessionPolicy
from ari_app.access.users import User, UserStore
from ari_app.access.wiring import AccessPolicy, access_parts
from ari_app.calls.hub import EventHub
from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, build_web_app
from kernel.http.auth import Role
from routing.actor import QueueService
from routing.clock import SimulatedClock
from tests.unit.access_fixtures import T0, Clock, fast_passwords
from tests.unit.test_calls_api import CONFIG, TOKENS, FakeLiveCalls, record
from tests.unit.test_web_assembly import NoAgentCommands, apply_nothing

PASSWORD = "correct horse battery staple"
POLICY = AccessPolicy(SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=8),
                                    secure_cookie=False),
                      LockoutPolicy(after=3, duration=timedelta(minutes=15)))  # fmt: skip


@dataclass
class Browser:
    """One person's browser: its cookie and CSRF token, sent by hand (no cookie jar magic)."""

    client: TestClient[web.Request, web.Application]
    cookie_name: str
    cookie: str | None = None
    csrf: str | None = None

    async def login(self, username: str, password: str = PASSWORD) -> tuple[int, Any, Any]:
        async with self.client.post("/v1/login", json={"username": username,
                                                       "password": password}) as resp:
            body = await resp.json()
            if resp.status == 200:
                self.cookie = resp.cookies[self.cookie_name].value
                self.csrf = body["csrf_token"]
            return resp.status, body, resp.headers

    async def call(self, method: str, path: str, *, csrf: bool = True,
                   json: Any = None) -> tuple[int, Any]:  # fmt: skip
        headers = {}
        if self.cookie is not None:
            headers["Cookie"] = f"{self.cookie_name}={self.cookie}"
        if csrf and self.csrf is not None:
            headers["X-CSRF-Token"] = self.csrf
        async with self.client.request(method, path, headers=headers, json=json) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    db: Database
    clock: Clock
    live: FakeLiveCalls

    def browser(self) -> Browser:
        return Browser(self.client, POLICY.sessions.cookie_name)

    async def add_user(self, name: str, role: Role, *, agent_id: str | None = None,
                       queues: tuple[str, ...] | None = None) -> None:  # fmt: skip
        hashed = await fast_passwords().hash(PASSWORD)
        await UserStore(self.db.units).add(User(name, role, agent_id, queues, T0), hashed)


def site_app(db: Database, clock: Clock, live: FakeLiveCalls, policy: AccessPolicy = POLICY,
             passwords: Passwords | None = None) -> web.Application:  # fmt: skip
    from routing.api import RoutingApiDeps

    routing = RoutingApiDeps(store=db.routing, apply=apply_nothing, agents=NoAgentCommands(),
                             initial_config=lambda: CONFIG)  # fmt: skip
    return build_web_app(WebDeps(
        db=db, hub=EventHub(), live=live, queues=QueueService(CONFIG, SimulatedClock(1.0)),
        routing=routing, tokens=TOKENS, ready=asyncio.Event(),
        access=access_parts(db.units, policy, now=clock,
                            passwords=passwords or fast_passwords())))  # fmt: skip


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    clock, live = Clock(), FakeLiveCalls()
    async with TestClient(TestServer(site_app(database, clock, live))) as client:
        site = Site(client, database, clock, live)
        await site.add_user("ada", Role.ADMIN)
        await site.add_user("alice", Role.AGENT)
        yield site


# --- logging in ---------------------------------------------------------------------------


async def test_login_sets_a_strict_http_only_cookie_and_answers_who_and_the_csrf_token(
    site: Site,
) -> None:
    browser = site.browser()
    async with site.client.post("/v1/login", json={"username": "alice",
                                                   "password": PASSWORD}) as resp:
        body = await resp.json()
        cookie = SimpleCookie(resp.headers["Set-Cookie"])["hotline_session"]
    assert resp.status == 200
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/")
    assert not cookie["secure"]  # the service listens on loopback here
    assert int(cookie["max-age"]) == 8 * 3600
    assert len(cookie.value) >= 40 and len(body["csrf_token"]) >= 40
    assert {k: body[k] for k in ("actor", "role", "agent_id", "queues", "csrf_header")} == {
        "actor": "alice", "role": "agent", "agent_id": "alice", "queues": None,
        "csrf_header": "X-CSRF-Token"}
    assert body["expires_at"] == (T0 + timedelta(minutes=30)).isoformat()
    browser.cookie, browser.csrf = cookie.value, body["csrf_token"]
    status, me = await browser.call("GET", "/v1/session")
    assert (status, me["actor"], me["csrf_token"]) == (200, "alice", body["csrf_token"])


async def test_the_session_cookie_is_secure_and_host_only_off_loopback(database: Database) -> None:
    policy = AccessPolicy(SessionPolicy(secure_cookie=True), LockoutPolicy())
    app = site_app(database, Clock(), FakeLiveCalls(), policy)
    await UserStore(database.units).add(User("ada", Role.ADMIN, None, None, T0),
                                        await fast_passwords().hash(PASSWORD))
    async with TestClient(TestServer(app)) as client, client.post(
            "/v1/login", json={"username": "ada", "password": PASSWORD}) as resp:
        cookie = SimpleCookie(resp.headers["Set-Cookie"])["__Host-hotline_session"]
    assert (resp.status, cookie["secure"], cookie["httponly"], cookie["samesite"]) == (
        200, True, True, "Strict")


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong password!"),
                                                    ("nobody", PASSWORD)])  # fmt: skip
async def test_a_wrong_password_or_unknown_name_is_401_without_saying_which(
    site: Site, username: str, password: str
) -> None:
    status, body, headers = await site.browser().login(username, password)
    assert (status, body) == (401, {"error": "login_failed",
                                    "message": "unknown user name or wrong password"})
    assert "Set-Cookie" not in headers


async def test_a_login_must_be_json(site: Site) -> None:
    async with site.client.post("/v1/login", data={"username": "alice",
                                                   "password": PASSWORD}) as resp:
        assert (resp.status, (await resp.json())["error"]) == (415, "unsupported_media_type")
    async with site.client.post("/v1/login", json={"username": "alice"}) as resp:
        assert resp.status == 400


async def test_a_password_hashed_with_weaker_parameters_is_rehashed_at_login(
    database: Database,
) -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    users = UserStore(database.units)
    await users.add(User("ada", Role.ADMIN, None, None, T0), await weak.hash(PASSWORD))
    app = site_app(database, Clock(), FakeLiveCalls(), passwords=stronger)
    async with TestClient(TestServer(app)) as client:
        assert (await Browser(client, "hotline_session").login("ada"))[0] == 200
    found = await users.get("ada")
    assert found is not None and "m=16,t=2" in found[1] and not stronger.needs_rehash(found[1])


# --- CSRF and logout ----------------------------------------------------------------------


async def test_a_state_changing_request_with_the_cookie_needs_the_csrf_token(site: Site) -> None:
    browser = site.browser()
    await browser.login("alice")
    site.live.journeys["c1"] = LiveJourney(record("c1", agent_id="alice"), ())
    site.live.talking.add("c1")
    status, body = await browser.call("POST", "/v1/calls/c1/transfer", csrf=False,
                                      json={"min_tier": 2})  # fmt: skip
    assert (status, body["error"]) == (403, "csrf")
    assert body["message"] == ("send the session's X-CSRF-Token header with requests that "
                               "change something")
    real, browser.csrf = browser.csrf, "a-guess-from-another-site"
    assert (await browser.call("POST", "/v1/calls/c1/transfer", json={"min_tier": 2}))[0] == 403
    assert site.live.transfers == []
    browser.csrf = real
    status, _ = await browser.call("POST", "/v1/calls/c1/transfer", json={"min_tier": 2})
    assert status == 202
    assert [request.by for _, request in site.live.transfers] == ["alice"]  # the person
    # Reading needs no CSRF token.
    assert (await browser.call("GET", "/v1/session", csrf=False))[0] == 200


async def test_logout_ends_the_session_and_clears_the_cookie(site: Site) -> None:
    browser = site.browser()
    await browser.login("ada")
    assert (await browser.call("POST", "/v1/logout", csrf=False))[0] == 403
    async with site.client.post("/v1/logout", headers={
            "Cookie": f"hotline_session={browser.cookie}",
            "X-CSRF-Token": str(browser.csrf)}) as resp:  # fmt: skip
        assert resp.status == 204
        cleared = SimpleCookie(resp.headers["Set-Cookie"])["hotline_session"]
        assert (cleared.value, cleared["max-age"]) == ("", "0")
    status, body = await browser.call("GET", "/v1/session")
    assert (status, body["error"]) == (401, "session_ended")
    assert (await browser.call("GET", "/v1/calls"))[0] == 401


async def test_a_bearer_token_is_not_a_session(site: Site) -> None:
    from tests.unit.test_calls_api import auth

    async with site.client.get("/v1/session", headers=auth(Role.QA)) as resp:
        body = await resp.json()
    assert (resp.status, body) == (200, {"actor": "qa", "role": "qa", "agent_id": None,
                                         "queues": None})
    async with site.client.post("/v1/logout", headers=auth(Role.QA)) as resp:
        assert resp.status == 204  # nothing to end; no CSRF token without a cookie


async def test_a_forged_or_missing_cookie_is_401(site: Site) -> None:
    browser = site.browser()
    assert (await browser.call("GET", "/v1/calls"))[0] == 401
    browser.cookie = "forged-" + "x" * 40
    status, body = await browser.call("GET", "/v1/calls")
    assert (status, body["error"]) == (401, "session_ended")
    assert (await browser.call("GET", "/health"))[0] in (200, 503)  # open routes ignore it


# --- timeouts ----------------------------------------------------------------------------


async def test_a_session_unused_for_the_idle_timeout_ends(site: Site) -> None:
    browser = site.browser()
    await browser.login("ada")
    for _ in range(4):  # used every 20 minutes: alive after 80, past the 30-minute idle end
        site.clock.advance(minutes=20)
        status, body = await browser.call("GET", "/v1/session")
        assert status == 200, body
    assert body["expires_at"] == (site.clock.now + timedelta(minutes=30)).isoformat()
    site.clock.advance(minutes=30)
    status, body = await browser.call("GET", "/v1/session")
    assert (status, body["error"]) == (401, "session_ended")


async def test_a_session_ends_at_the_absolute_timeout_however_busy(site: Site) -> None:
    browser = site.browser()
    await browser.login("ada")
    for _ in range(31):  # every 15 minutes for 7 h 45 min
        site.clock.advance(minutes=15)
        assert (await browser.call("GET", "/v1/session"))[0] == 200
    _, body = await browser.call("GET", "/v1/session")
    assert body["expires_at"] == (T0 + timedelta(hours=8)).isoformat()
    site.clock.advance(minutes=15)
    assert (await browser.call("GET", "/v1/session"))[0] == 401


async def test_removing_a_user_ends_their_sessions_at_once(site: Site) -> None:
    browser = site.browser()
    await browser.login("alice")
    assert await UserStore(site.db.units).remove("alice")
    assert (await browser.call("GET", "/v1/session"))[0] == 401


# --- lockout ------------------------------------------------------------------------------


async def test_repeated_failures_lock_the_name_even_for_the_right_password(site: Site) -> None:
    browser = site.browser()
    for _ in range(2):
        assert (await browser.login("alice", "wrong password!"))[0] == 401
    status, body, headers = await browser.login("alice", "wrong password!")  # the third
    assert (status, body["error"], headers["Retry-After"]) == (429, "locked", "900")
    assert body["message"] == "too many failed logins for this name; try again in 900 s"
    site.clock.advance(minutes=10)
    status, _, headers = await browser.login("alice")  # right, but locked
    assert (status, headers["Retry-After"]) == (429, "300")
    assert (await site.browser().login("ada"))[0] == 200  # other names are not locked
    site.clock.advance(minutes=5)
    assert (await browser.login("alice"))[0] == 200


async def test_an_unknown_name_locks_like_a_known_one(site: Site) -> None:
    statuses = [(await site.browser().login("mallory", "guess-1234567"))[0] for _ in range(4)]
    assert statuses == [401, 401, 429, 429]


async def test_a_success_clears_the_count_and_old_failures_are_forgotten(site: Site) -> None:
    browser = site.browser()
    for _ in range(2):
        assert (await browser.login("alice", "wrong password!"))[0] == 401
    assert (await browser.login("alice"))[0] == 200
    for _ in range(2):
        assert (await browser.login("alice", "wrong password!"))[0] == 401
    site.clock.advance(minutes=16)  # the earlier failures are older than the lockout
    assert (await browser.login("alice", "wrong password!"))[0] == 401
    assert (await browser.login("alice"))[0] == 200
