"""Every route of the OpenAPI document, walked without credentials and with each role: refused
(401 without credentials, 403 for a role the access table does not name) or let through, as
`ari_app/web/auth.py`'s `ACCESS` says. The expectation is read from the table, never written
here, so a change of roles changes what this test expects.

Let through means the room answered: 2xx, or 404 for a resource that is missing or not the
caller's to see. The access check's own refusals are told apart from a room's by their codes
(`unauthorized`, `forbidden`): a failed login's 401 or an agent's 403 for a call not theirs is
the room's answer, not the table's. Each route gets a fresh app with one call (`c1`, live and
talking to agent `agent`, whose token is the agent role's), one recording, a VIP and a skill
nobody uses, and a request that the room can carry out for every role allowed.
"""

from __future__ import annotations

import json
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.web.auth import ACCESS
from ari_app.web.openapi import whole_document
from kernel.http.auth import Role
from recordings.model import RecordingMeta
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement, Vip
from tests.unit.monitor_fakes import FakeLiveMonitors
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_calls_api import T0, FakeLiveCalls, auth, record

AGENT_ID = "agent"  # the agent role's token is agent "agent" (its actor)
CONFIG = RoutingConfig(
    skills=(Skill("claims", "Claims"), Skill("spare", "Nobody needs it")),
    agents=(Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),),
    queues=(Queue("claims", "Claims", (SkillRequirement("claims"),)),),
    vips=(Vip("+1999", 5),),
)
IDS = {"call_id": "c1", "recording_id": "r1", "skill_id": "claims", "agent_id": "alice",
       "queue_id": "claims", "caller_number": "+1999", "version": "1",
       "question_id": "1", "evaluation_id": "1", "form_id": "f1",
       "monitor_id": "abc1"}  # fmt: skip
DELETED = {"skill_id": "spare"}  # what a DELETE removes instead: claims is in use
CREDENTIALS: list[Role | None] = [None, *Role]

Body = Callable[[str], Any]  # the role's name (unique per request) -> the JSON body
AGENT_BODY = {"name": "Alice", "endpoint": "PJSIP/1001",
              "skills": [{"skill_id": "claims", "proficiency": 3}]}  # fmt: skip
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/v1/routing/skills"): lambda who: {"skill_id": f"s-{who}", "name": "S"},
    ("POST", "/v1/routing/agents"): lambda who: {"agent_id": f"a-{who}", **AGENT_BODY},
    ("POST", "/v1/routing/queues"): lambda who: {
        "queue_id": f"q-{who}", "name": "Q", "required_skills": [{"skill_id": "claims"}]},
    ("POST", "/v1/routing/vips"): lambda who: {"caller_number": f"+1{sum(map(ord, who))}",
                                               "priority": 1},
    ("PUT", "/v1/routing/skills/{skill_id}"): lambda _: {"skill_id": "claims", "name": "C"},
    ("PUT", "/v1/routing/agents/{agent_id}"): lambda _: {"agent_id": "alice", **AGENT_BODY},
    ("PUT", "/v1/routing/queues/{queue_id}"): lambda _: {
        "queue_id": "claims", "name": "C", "required_skills": [{"skill_id": "claims"}]},
    ("PUT", "/v1/routing/vips/{caller_number}"): lambda _: {"caller_number": "+1999",
                                                            "priority": 7},
    ("PATCH", "/v1/routing/skills/{skill_id}"): lambda who: {"name": who},
    ("PATCH", "/v1/routing/agents/{agent_id}"): lambda who: {"name": who},
    ("PATCH", "/v1/routing/queues/{queue_id}"): lambda who: {"name": who},
    ("PATCH", "/v1/routing/vips/{caller_number}"): lambda _: {"priority": 3},
    ("PUT", "/v1/routing/queues/{queue_id}/plan"): lambda _: [{"name": "all", "after_s": 0}],
    ("POST", "/v1/routing/agents/{agent_id}/pause"): lambda _: {"reason": "lunch"},
    ("POST", "/v1/calls/{call_id}/transfer"): lambda who: {"notes": f"from {who}"},
    ("POST", "/v1/calls/{call_id}/disposition"): lambda who: {"code": "resolved",
                                                              "notes": f"by {who}"},
    ("POST", "/v1/me/agent/pause"): lambda _: {"reason": "lunch"},
    ("POST", "/v1/calls/{call_id}/monitor"): lambda _: {"mode": "listen",
                                                        "endpoint": "PJSIP/1009"},
    ("PATCH", "/v1/calls/{call_id}/monitor/{monitor_id}"): lambda _: {"mode": "barge"},
    ("POST", "/v1/login"): lambda _: {"username": "nobody", "password": "wrong"},
    ("POST", "/v1/recordings/{recording_id}/comments"): lambda who: {"at_s": 1.5, "text": who},
    ("POST", "/v1/recordings/{recording_id}/training"): lambda who: {"reason": who},
    ("POST", "/v1/recordings/{recording_id}/plays"): lambda _: {
        "ranges": [{"start_s": 0.5, "end_s": 1.0}]},
    ("POST", "/v1/recordings/{recording_id}/evaluations"): lambda _: {  # no such form: 404
        "form_id": "none", "answers": []},
    ("DELETE", "/v1/recordings/{recording_id}"): lambda who: {"reason": f"asked by {who}"},
    ("POST", "/v1/recordings/{recording_id}/hold"): lambda who: {"reason": f"case of {who}"},
    ("DELETE", "/v1/recordings/{recording_id}/hold"): lambda who: {"reason": who},  # none: 404
    ("POST", "/v1/reports/whatif"): lambda _: {"hours": 1, "proposed": {"queues": {
        "claims": {"plan": [{"name": "all", "after_s": 0}]}}}},
    ("POST", "/v1/qa/forms"): lambda who: {"form_id": f"f-{who}", "name": "F", "criteria": [
        {"criterion_id": "greeting", "text": "Greets", "weight": 100}]},
}  # fmt: skip


def operations() -> list[tuple[str, str]]:
    doc = whole_document()
    return sorted((method.upper(), path) for path, ops in doc["paths"].items() for method in ops)


def concrete(method: str, pattern: str) -> str:
    path = pattern
    for name, value in IDS.items():
        value = DELETED.get(name, value) if method == "DELETE" else value
        path = path.replace(f"{{{name}}}", value.replace("+", "%2B"))
    return path


@pytest.fixture
async def client(database: Database, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    store = tmp_path / "recordings"
    store.mkdir()
    with wave.open(str(store / "r1.wav"), "wb") as wav:  # 3 s of silence, for the waveform
        wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
        wav.writeframes(bytes(3 * 16000))
    await database.calls.start(record("c1", agent_id=AGENT_ID))
    await database.recordings.add(RecordingMeta(
        "r1", "c1", "claims", AGENT_ID, T0, 3.0, "wav", (store / "r1.wav").stat().st_size,
        "0" * 64, str(store / "r1.wav")))  # fmt: skip
    live = FakeLiveCalls()
    live.journeys["c1"] = LiveJourney(record("c1", agent_id=AGENT_ID), ())
    live.talking.add("c1")
    app = whole_app(database, config=CONFIG, live=live, recordings_dir=store,
                    monitors=FakeLiveMonitors(live))
    async with TestClient(TestServer(app)) as served:
        yield served


async def answer(client: TestClient[Any, Any], method: str, pattern: str,
                 role: Role | None) -> tuple[int, str | None]:  # fmt: skip
    """The status and error code of the route's request as `role` (None: no credentials)."""
    path, headers = concrete(method, pattern), auth(role)
    if (method, pattern) == ("GET", "/v1/events"):  # a WebSocket: let through is 101
        try:
            async with client.ws_connect(path, headers=headers) as ws:
                await ws.close()
                return 101, None
        except WSServerHandshakeError:
            pass  # refused: a plain request reads why (the access check comes before)
    make = BODIES.get((method, pattern))
    data = None if make is None else json.dumps(make(role.value if role else "anyone"))
    if data is not None:
        headers = {**headers, "Content-Type": "application/json"}
    async with client.request(method, path, data=data, headers=headers) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        code = body.get("error") if isinstance(body, dict) else None
        return resp.status, code


@pytest.mark.parametrize(("method", "pattern"), operations())
async def test_each_route_refuses_or_lets_through_as_the_access_table_says(
    client: TestClient[Any, Any], method: str, pattern: str
) -> None:
    rule = ACCESS[(method, pattern)]
    seen = {}
    for role in CREDENTIALS:  # no credentials and the refused roles first: they change nothing
        status, code = await answer(client, method, pattern, role)
        seen[role.value if role else "none"] = (status, code)
    for role in CREDENTIALS:
        status, code = seen[role.value if role else "none"]
        if rule.roles is not None and role is None:
            assert (status, code) == (401, "unauthorized"), (role, seen)
        elif rule.roles is not None and role not in rule.roles:
            assert (status, code) == (403, "forbidden"), (role, seen)
        else:
            assert (status, code) not in ((401, "unauthorized"), (403, "forbidden")), (role, seen)
            if (method, pattern) != ("POST", "/v1/login"):  # nobody to log in: 401, its own
                assert 200 <= status < 300 or status in (101, 404), (role, seen)


def test_every_route_in_the_document_has_a_rule_and_every_role_is_walked() -> None:
    assert set(operations()) <= set(ACCESS)
    assert set(CREDENTIALS) == {None, *Role}
