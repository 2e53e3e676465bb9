"""The supervisor API over HTTP, on a real database (SQLite and PostgreSQL).

The routing engine is replaced by two small fakes at its ports: the `apply` callback records
every configuration it is handed, and the agent-command port records every command.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.db.database import Database, open_database
from ari_app.web.app import assemble
from kernel.http.auth import ApiToken, Principal, Role, TokenTable
from routing.api import AgentCommandRejected, RoutingApiDeps, add_routing_api
from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    RoutingConfig,
    Skill,
    SkillRequirement,
)
from routing.serialize import to_document
from routing.store import AuditAction, AuditChange, RoutingConfigStore, VersionConflict
from tests.db_fixtures import postgres_skip_reason, temporary_database

SUPERVISOR = "supervisor-token-0001"
QA = "qa-token-0000000000001"
TOKENS = TokenTable([
    ApiToken.model_validate({"token": SUPERVISOR, "actor": "sam", "role": "supervisor"}),
    ApiToken.model_validate({"token": QA, "actor": "quinn", "role": "qa"}),
])  # fmt: skip

INITIAL = RoutingConfig(
    skills=(Skill("claims", "Claims"), Skill("general", "General")),
    agents=(Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),
            Agent("bob", "Bob", "PJSIP/1002", 2,
                  (AgentSkill("claims", 5), AgentSkill("general", 1)))),
    queues=(Queue("claims", "Claims", (SkillRequirement("claims"),), ring_timeout_s=10,
                  plan=(PlanStep("front", 0, tiers=(1,)), PlanStep("everyone", 30))),
            Queue("general", "General", (SkillRequirement("general"),))),
)  # fmt: skip


class RecordingApply:
    """The routing actor's apply_config, as a fake: remembers what it was given."""

    def __init__(self) -> None:
        self.configs: list[RoutingConfig] = []  # taken
        self.attempts: list[RoutingConfig] = []
        self.fail = False
        self.delay_s = 0.0

    async def __call__(self, config: RoutingConfig) -> None:
        self.attempts.append(config)
        await asyncio.sleep(self.delay_s)
        if self.fail and config.version != 0:
            raise RuntimeError("routing actor stopped")
        self.configs.append(config)


@dataclass
class FakeAgentCommands:
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    refuse: str | None = None

    async def _do(self, command: str, agent_id: str, reason: str | None) -> None:
        if agent_id == "ghost":
            raise LookupError(agent_id)
        if self.refuse == command:
            raise AgentCommandRejected("agent is not paused")
        self.calls.append((command, agent_id, reason))

    async def login(self, agent_id: str, reason: str | None) -> None:
        await self._do("login", agent_id, reason)

    async def logout(self, agent_id: str, reason: str | None) -> None:
        await self._do("logout", agent_id, reason)

    async def pause(self, agent_id: str, reason: str | None) -> None:
        await self._do("pause", agent_id, reason)

    async def resume(self, agent_id: str, reason: str | None) -> None:
        await self._do("resume", agent_id, reason)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    store: RoutingConfigStore
    apply: RecordingApply
    agents: FakeAgentCommands

    async def call(self, method: str, path: str, body: Any = None, *, token: str | None =
                   SUPERVISOR, headers: dict[str, str] | None = None,
                   raw: bytes | None = None) -> tuple[int, Any, Any]:  # fmt: skip
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        sent |= headers or {}
        url = path if path.startswith("/v1/openapi") else f"/v1/routing{path}"
        async with self.client.request(method, url, json=body, data=raw, headers=sent) as resp:
            return resp.status, await resp.json(), resp.headers


@pytest_asyncio.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and (reason := await postgres_skip_reason()):
        pytest.skip(reason)
    return str(request.param)


@pytest_asyncio.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with temporary_database(backend, tmp_path) as url:
        db = await open_database(url)
        try:
            yield db
        finally:
            await db.close()


@contextlib.asynccontextmanager
async def serving(db: Database) -> AsyncIterator[Api]:
    store = db.routing
    apply, agents = RecordingApply(), FakeAgentCommands()
    deps = RoutingApiDeps(store=store, apply=apply, agents=agents,
                          initial_config=lambda: INITIAL)  # fmt: skip
    # The routing room alone, behind the service's one auth and error middlewares.
    app = assemble(TOKENS, [lambda app: add_routing_api(app, deps)])
    async with TestClient(TestServer(app)) as client:
        yield Api(client, store, apply, agents)


@pytest_asyncio.fixture
async def api(database: Database) -> AsyncIterator[Api]:
    async with serving(database) as served:
        yield served


def problems(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body["problems"]}


async def assert_nothing_saved(api: Api) -> None:
    assert await api.store.current() is None
    assert [c.version for c in api.apply.configs if c.version != 0] == []
    assert (await api.call("GET", "/config"))[1]["version"] == 0


def test_the_initial_configuration_is_valid() -> None:
    assert INITIAL.validate() == []


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/config"), ("POST", "/skills"),
                                              ("POST", "/agents/alice/login")])  # fmt: skip
async def test_no_or_unknown_token_is_401_and_wrong_role_403(
    api: Api, method: str, path: str
) -> None:
    body = {"skill_id": "x", "name": "X"}
    for token in (None, "not-a-known-token-123"):
        status, reply, headers = await api.call(method, path, body, token=token)
        assert (status, reply["error"], headers["WWW-Authenticate"]) == (401, "unauthorized",
                                                                          "Bearer")
    status, reply, _ = await api.call(method, path, body, token=QA)
    assert (status, reply["error"]) == (403, "forbidden")
    await assert_nothing_saved(api)
    assert api.agents.calls == []


# --- resources -------------------------------------------------------------------------

CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "skills": ("skill_id", {"skill_id": "billing", "name": "Billing"},
               {"name": "Bills"}, {"name": "Billing department"}),
    "agents": ("agent_id", {"agent_id": "carol", "name": "Carol", "endpoint": "PJSIP/1003",
                            "tier": 3, "skills": [{"skill_id": "claims", "proficiency": 5}]},
               {"tier": 2}, {"name": "Carol C", "endpoint": "PJSIP/1009"}),
    "queues": ("queue_id", {"queue_id": "billing", "name": "Billing",
                            "required_skills": [{"skill_id": "general"}]},
               {"ring_timeout_s": 12, "exit": None},
               {"name": "Billing", "plan": [{"name": "all", "after_s": 0}]}),
    "vips": ("caller_number", {"caller_number": "+4930111", "priority": 5,
                               "dedicated_agent": "alice"},
             {"priority": 9}, {"priority": 2}),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
async def test_create_read_patch_replace_delete_each_resource(api: Api, name: str) -> None:
    id_field, created, patch, full = CASES[name]
    item_id = created[id_field]
    status, reply, headers = await api.call("POST", f"/{name}", created)
    assert status == 201, reply
    assert (reply["version"], headers["ETag"]) == (1, '"1"')
    assert headers["Location"] == f"/v1/routing/{name}/{item_id}"
    assert contains(reply["resource"], created)
    status, got, headers = await api.call("GET", f"/{name}/{item_id}")
    assert (status, got, headers["ETag"]) == (200, reply["resource"], '"1"')

    status, reply, _ = await api.call("PATCH", f"/{name}/{item_id}", patch)
    assert (status, reply["version"]) == (200, 2), reply
    assert reply["resource"] == {**got, **patch}

    status, reply, _ = await api.call("PUT", f"/{name}/{item_id}", full)
    assert (status, reply["version"]) == (200, 3), reply
    assert contains(reply["resource"], full)
    listed = (await api.call("GET", f"/{name}"))[1]
    assert listed["version"] == 3 and reply["resource"] in listed["items"]

    status, reply, _ = await api.call("DELETE", f"/{name}/{item_id}")
    assert (status, reply["version"], reply["resource"]) == (200, 4, None)
    status, reply, _ = await api.call("GET", f"/{name}/{item_id}")
    assert (status, problems(reply)) == (404, {f"path.{id_field}": f"no {_label(name)} "
                                                                    f"{item_id!r}"})

    # Every version was applied as saved, in order, and audited with before and after.
    assert [c.version for c in api.apply.configs] == [1, 2, 3, 4]
    for config in api.apply.configs:
        saved = await api.store.get(config.version)
        assert saved is not None and saved.config == config
    audit = (await api.call("GET", f"/audit?path={name}/"))[1]["items"]
    assert [(a["action"], a["version"], a["actor"], a["role"]) for a in audit] == [
        ("delete", 4, "sam", "supervisor"), ("update", 3, "sam", "supervisor"),
        ("update", 2, "sam", "supervisor"), ("create", 1, "sam", "supervisor")]
    assert audit[3]["before"] is None and audit[0]["after"] is None
    assert [a["after"] for a in audit[1:]] == [a["before"] for a in audit[:3]]


def contains(whole: Any, part: Any) -> bool:
    """Whether `whole` has every field `part` has, with the same values (the rest defaulted)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and contains(whole[k], v)
                                               for k, v in part.items())  # fmt: skip
    if isinstance(part, list):
        return (isinstance(whole, list) and len(whole) == len(part)
                and all(contains(w, p) for w, p in zip(whole, part, strict=True)))
    return bool(whole == part)


def _label(name: str) -> str:
    return {"skills": "skill", "agents": "agent", "queues": "queue", "vips": "VIP caller"}[name]


async def test_a_queue_plan_is_read_and_replaced_on_its_own(api: Api) -> None:
    plan = [{"name": "front", "after_s": 0, "tiers": [1]},
            {"name": "specialists", "after_s": 20, "tiers": [2], "priority_delta": 1},
            {"name": "everyone", "after_s": 60}]  # fmt: skip
    status, reply, _ = await api.call("PUT", "/queues/claims/plan", plan)
    assert (status, reply["version"]) == (200, 1), reply
    status, got, _ = await api.call("GET", "/queues/claims/plan")
    assert [(s["name"], s["after_s"], s["tiers"]) for s in got] == [
        ("front", 0, [1]), ("specialists", 20, [2]), ("everyone", 60, [])]
    assert api.apply.configs[-1].queue("claims").plan[1] == PlanStep(  # type: ignore[union-attr]
        "specialists", 20, tiers=(2,), priority_delta=1)


# --- invalid requests -------------------------------------------------------------------


async def test_a_bad_payload_names_every_bad_field(api: Api) -> None:
    status, reply, _ = await api.call("POST", "/agents", {
        "agent_id": "bad id!", "name": "", "endpoint": "1001", "tier": 0,
        "skills": [{"skill_id": "claims", "proficiency": 9}, {"skill_id": "general"}],
        "colour": "red"})  # fmt: skip
    assert (status, reply["error"]) == (400, "invalid")
    assert set(problems(reply)) == {
        "body.agent_id", "body.name", "body.endpoint", "body.tier", "body.skills[0].proficiency",
        "body.skills[1].proficiency", "body.colour"}
    status, reply, _ = await api.call("POST", "/queues", {
        "queue_id": "q", "name": "Q", "strategy": "fastest",
        "plan": [{"name": "a", "after_s": 0, "tiers": [0]}, {"name": "b", "after_s": -5}]})
    assert status == 400
    assert set(problems(reply)) == {"body.strategy", "body.plan[0].tiers[0]",
                                    "body.plan[1].after_s"}
    await assert_nothing_saved(api)


@pytest.mark.parametrize(("method", "path", "body", "raw", "field"), [
    ("POST", "/skills", None, b"{not json", "body"),
    ("POST", "/skills", None, b"", "body"),
    ("POST", "/skills", ["claims"], None, "body"),
    ("PATCH", "/agents/alice", {"tier": "2"}, None, "body.tier"),
    ("PATCH", "/agents/alice", ["tier"], None, "body"),
    ("PATCH", "/agents/alice", {"agent_id": "alicia"}, None, "body.agent_id"),
    ("PUT", "/agents/alice", {"agent_id": "bob", "name": "B", "endpoint": "PJSIP/9"}, None,
     "body.agent_id"),
    ("POST", "/agents/alice/pause", {}, None, "body.reason"),
    ("GET", "/versions?limit=0", None, None, "query.limit"),
    ("GET", "/versions/first", None, None, "path.version"),
])  # fmt: skip
async def test_malformed_requests_are_400_naming_the_field(
    api: Api, method: str, path: str, body: Any, raw: bytes | None, field: str
) -> None:
    status, reply, _ = await api.call(method, path, body, raw=raw)
    assert (status, reply["error"]) == (400, "invalid"), reply
    assert field in problems(reply)
    await assert_nothing_saved(api)
    assert api.agents.calls == []


async def test_a_plan_the_linter_rejects_is_422_with_its_paths_and_nothing_changes(
    api: Api,
) -> None:
    plan = [{"name": "a", "after_s": 0}, {"name": "b", "after_s": 30, "tiers": [2]},
            {"name": "c", "after_s": 20}]  # fmt: skip
    status, reply, _ = await api.call("PUT", "/queues/claims/plan", plan)
    assert (status, reply["error"]) == (422, "rejected")
    assert "unreachable" in problems(reply)["body[2].after_s"]
    status, reply, _ = await api.call("PATCH", "/queues/claims", {"plan": [
        {"name": "x", "after_s": 0, "skills": [{"skill_id": "nope"}]}]})
    assert status == 422
    assert problems(reply)["body.plan[0].skills[0].skill_id"] == "unknown skill 'nope'"
    status, reply, _ = await api.call("DELETE", "/skills/claims")
    assert status == 422
    assert {"agents[0].skills[0].skill_id", "queues[0].required_skills[0].skill_id"} <= set(
        problems(reply))
    await assert_nothing_saved(api)
    assert api.apply.attempts == []


async def test_lint_warnings_come_back_with_the_success(api: Api) -> None:
    plan = [{"name": "front", "after_s": 0, "tiers": [1]}, {"name": "all", "after_s": 5}]
    status, reply, _ = await api.call("PUT", "/queues/claims/plan", plan)
    assert status == 200
    assert "shorter than the ring timeout" in problems({"problems": reply["warnings"]})["body[0]"]
    status, reply, _ = await api.call("GET", "/plans/claims/lint")
    assert (status, reply["version"]) == (200, 1)
    assert [(f["severity"], f["field"]) for f in reply["findings"]] == [
        ("warning", "queues[0].plan[0]")]
    assert (await api.call("GET", "/plans/nope/lint"))[0] == 404


async def test_a_dry_run_checks_a_change_exactly_and_saves_nothing(api: Api) -> None:
    bad = [{"name": "a", "after_s": 0}, {"name": "b", "after_s": 30, "tiers": [2]},
           {"name": "c", "after_s": 20}]  # fmt: skip
    status, reply, _ = await api.call("PUT", "/queues/claims/plan?dry_run=true", bad)
    assert (status, reply["error"]) == (422, "rejected")
    assert "unreachable" in problems(reply)["body[2].after_s"]
    good = [{"name": "front", "after_s": 0, "tiers": [1]}, {"name": "all", "after_s": 5}]
    status, reply, headers = await api.call("PUT", "/queues/claims/plan?dry_run=true", good)
    assert (status, reply["version"], reply["dry_run"], headers["ETag"]) == (200, 0, True, '"0"')
    assert [s["name"] for s in reply["resource"]["plan"]] == ["front", "all"]
    assert "shorter than the ring timeout" in problems({"problems": reply["warnings"]})["body[0]"]
    status, reply, headers = await api.call("POST", "/skills?dry_run=true",
                                            {"skill_id": "de", "name": "German"})
    assert (status, reply["dry_run"], "Location" in headers) == (200, True, False)
    await assert_nothing_saved(api)
    assert api.apply.attempts == []
    status, reply, _ = await api.call("PUT", "/queues/claims/plan?dry_run=yes", good)
    assert (status, problems(reply)) == (400, {"query.dry_run": "must be true or false"})
    status, reply, _ = await api.call("PUT", "/queues/claims/plan?dry_run=false", good)
    assert (status, reply["version"], reply["dry_run"]) == (200, 1, False)


async def test_a_duplicate_create_is_409(api: Api) -> None:
    status, reply, _ = await api.call("POST", "/skills", {"skill_id": "claims", "name": "C"})
    assert (status, problems(reply)) == (409, {"body.skill_id": "already exists"})


# --- versions, concurrency, restore --------------------------------------------------------


async def test_if_match_guards_against_lost_updates(api: Api) -> None:
    status, _, headers = await api.call("PATCH", "/skills/claims", {"name": "A"},
                                        headers={"If-Match": '"0"'})  # fmt: skip
    assert (status, headers["ETag"]) == (200, '"1"')
    status, reply, _ = await api.call("PATCH", "/skills/claims", {"name": "B"},
                                      headers={"If-Match": "0"})  # fmt: skip
    assert (status, reply["error"]) == (409, "version_conflict")
    assert "header.If-Match" in problems(reply)
    status, _, _ = await api.call("PATCH", "/skills/claims", {"name": "C"},
                                  headers={"If-Match": 'W/"1"'})  # fmt: skip
    assert status == 200
    status, reply, _ = await api.call("DELETE", "/skills/claims", headers={"If-Match": "seven"})
    assert (status, list(problems(reply))) == (400, ["header.If-Match"])
    assert [c.skills[0].name for c in api.apply.configs] == ["A", "C"]


async def test_two_writers_with_the_same_if_match_one_wins(api: Api) -> None:
    api.apply.delay_s = 0.05
    results = await asyncio.gather(*(
        api.call("PATCH", "/skills/claims", {"name": n}, headers={"If-Match": "0"})
        for n in ("A", "B")))  # fmt: skip
    assert sorted(status for status, _, _ in results) == [200, 409]
    assert [c.version for c in api.apply.configs] == [1]


async def test_concurrent_updates_do_not_lose_a_write(database: Database) -> None:
    """Eight writers on each of two service instances sharing the database."""
    async with serving(database) as one, serving(database) as two:
        one.apply.delay_s = two.apply.delay_s = 0.01
        results = await asyncio.gather(*(
            api.call("POST", "/skills", {"skill_id": f"s{i}-{n}", "name": "S"})
            for n, api in enumerate((one, two)) for i in range(8)))  # fmt: skip
        assert [status for status, _, _ in results] == [201] * 16, results
        current = await one.store.current()
        assert current is not None
        config, version = current
        assert version == 16
        assert {s.skill_id for s in config.skills} >= {f"s{i}-{n}" for i in range(8)
                                                       for n in (0, 1)}  # fmt: skip
        versions = (await one.call("GET", "/versions?limit=100"))[1]["items"]
        assert [v["version"] for v in versions] == list(range(16, 0, -1))
        assert len((await one.call("GET", "/audit?limit=100"))[1]["items"]) == 16


async def test_the_store_refuses_a_save_built_on_a_stale_version(database: Database) -> None:
    store = database.routing
    entry = AuditChange(AuditAction.UPDATE, "skills/claims", None, None)
    saves = [store.save(replace(INITIAL, version=1), expected_version=0, actor=a, role="supervisor",
                        comment=a, audit_entries=[entry]) for a in ("x", "y")]  # fmt: skip
    results = await asyncio.gather(*saves, return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["VersionConflict", "int"]
    with pytest.raises(VersionConflict):  # skipping ahead is refused too
        await store.save(INITIAL, expected_version=5, actor="z", role="supervisor", comment="",
                         audit_entries=[])  # fmt: skip
    assert [v.version for v in await store.versions()] == [1]
    assert len(await store.audit()) == 1


async def test_restoring_a_version_applies_it_as_a_new_version(api: Api) -> None:
    await api.call("PATCH", "/skills/claims", {"name": "Claims v1"})
    await api.call("PATCH", "/agents/alice", {"tier": 2})
    v1 = await api.store.get(1)
    assert v1 is not None
    status, reply, _ = await api.call("POST", "/versions/1/restore", {"comment": "undo tier"})
    assert (status, reply["version"]) == (200, 3), reply
    assert api.apply.configs[-1] == replace(v1.config, version=3)
    status, detail, _ = await api.call("GET", "/versions/3")
    assert (detail["restored_from"], detail["comment"]) == (1, "undo tier")
    assert detail["config"] == to_document(v1.config)
    entry = (await api.call("GET", "/audit?limit=1"))[1]["items"][0]
    assert (entry["action"], entry["path"], entry["version"]) == ("restore", "config", 3)
    assert entry["after"] == to_document(v1.config)
    assert entry["before"]["agents"][0]["tier"] == 2
    assert (await api.call("POST", "/versions/3/restore"))[0] == 409
    assert (await api.call("POST", "/versions/99/restore"))[0] == 404
    listed = (await api.call("GET", "/versions"))[1]["items"]
    assert [(v["version"], v["created_by"]) for v in listed] == [(3, "sam"), (2, "sam"),
                                                                 (1, "sam")]  # fmt: skip


async def test_when_applying_fails_nothing_is_saved_and_the_old_version_stays(api: Api) -> None:
    api.apply.fail = True
    status, reply, _ = await api.call("PATCH", "/agents/alice", {"tier": 3})
    assert (status, reply["error"]) == (503, "apply_failed")
    await assert_nothing_saved(api)
    assert [c.version for c in api.apply.attempts] == [1, 0]  # then the previous one again
    assert api.apply.attempts[1] == INITIAL
    assert await api.store.audit() == []


# --- agent commands -------------------------------------------------------------------------


async def test_agent_commands_reach_the_port_and_are_audited(api: Api) -> None:
    assert (await api.call("POST", "/agents/alice/login"))[0] == 200
    status, reply, _ = await api.call("POST", "/agents/bob/pause", {"reason": "lunch"})
    assert (status, reply) == (200, {"agent_id": "bob", "command": "pause", "reason": "lunch"})
    assert (await api.call("POST", "/agents/bob/resume", {}))[0] == 200
    assert (await api.call("POST", "/agents/alice/logout", {"reason": "shift end"}))[0] == 200
    assert api.agents.calls == [("login", "alice", None), ("pause", "bob", "lunch"),
                                ("resume", "bob", None), ("logout", "alice", "shift end")]
    audit = (await api.call("GET", "/audit?path=agents/bob"))[1]["items"]
    assert [(a["action"], a["after"], a["version"]) for a in audit] == [
        ("resume", {"reason": None}, None), ("pause", {"reason": "lunch"}, None)]


async def test_agent_commands_refused_are_not_audited(api: Api) -> None:
    api.agents.refuse = "resume"
    status, reply, _ = await api.call("POST", "/agents/alice/resume")
    assert (status, reply["error"]) == (409, "conflict")
    status, reply, _ = await api.call("POST", "/agents/nobody/login")
    assert (status, list(problems(reply))) == (404, ["path.agent_id"])
    await api.call("POST", "/agents", {"agent_id": "ghost", "name": "G", "endpoint": "PJSIP/0"})
    assert (await api.call("POST", "/agents/ghost/login"))[0] == 404  # unknown to the engine
    assert [a["action"] for a in (await api.call("GET", "/audit"))[1]["items"]] == ["create"]


# --- the OpenAPI document ----------------------------------------------------------------


async def test_every_registered_route_is_documented(api: Api) -> None:
    status, doc, _ = await api.call("GET", "/v1/openapi.json", token=None)
    assert (status, doc["openapi"]) == (200, "3.1.0")
    documented = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    app = api.client.app
    assert app is not None
    assert documented == registered(app) - {("GET", "/v1/openapi.json")}
    refs = {v.split("/")[-1] for v in _values(doc, "$ref")}
    assert refs <= set(doc["components"]["schemas"])
    body = doc["paths"]["/v1/routing/queues"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/QueueBody")


def registered(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route, sub-applications' included (their paths are prefixed)."""
    routes: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            routes |= registered(resource.get_info()["app"])
            continue
        routes |= {(route.method, resource.canonical) for route in resource
                   if route.method not in ("HEAD", "OPTIONS")}  # fmt: skip
    return routes


def _values(node: Any, key: str) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [
            x for v in node.values() for x in _values(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in _values(v, key)]
    return []


def test_tokens_resolve_only_as_bearer_and_must_be_unique() -> None:
    assert TOKENS.principal(f"Bearer {SUPERVISOR}") == Principal("sam", Role.SUPERVISOR)
    assert TOKENS.principal(f"bearer  {QA} ") == Principal("quinn", Role.QA)
    for header in (None, SUPERVISOR, f"Basic {SUPERVISOR}", "Bearer ", f"Bearer {SUPERVISOR}x"):
        assert TOKENS.principal(header) is None
    twice = {"token": SUPERVISOR, "actor": "a", "role": "qa"}
    with pytest.raises(ValueError, match="listed twice"):
        TokenTable([ApiToken.model_validate(twice), ApiToken.model_validate(twice)])
