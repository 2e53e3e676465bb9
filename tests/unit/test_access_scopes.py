"""What each person may see: an agent their own calls, handoffs and recordings and may transfer
only the caller they talk to; a supervisor or QA their queues'; an admin all. Every read of a
recording is audited and auditors read the audit; no server path leaves the service and no
crafted id or stored path reads a file outside the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.access.wiring import access_parts
from ari_app.calls.hub import EventHub
from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, build_web_app
from ivr.journey import JourneyType
from kernel.http.auth import ApiToken, TokenTable
from recordings.model import RecordingMeta
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement
from tests.unit.access_fixtures import fast_passwords
from tests.unit.test_calls_api import T0, FakeLiveCalls, event, record
from tests.unit.test_web_assembly import NoAgentCommands, apply_nothing

PEOPLE = {  # actor: role and scope
    "alice": {"role": "agent"}, "bob": {"role": "agent"},
    "sue": {"role": "supervisor", "queues": ["claims"]}, "sam": {"role": "supervisor"},
    "quinn": {"role": "qa", "queues": ["billing"]}, "ada": {"role": "admin"},
    "audrey": {"role": "auditor"},
}  # fmt: skip
TOKENS = TokenTable(ApiToken.model_validate({"token": f"{name}-token-0123456789", "actor": name,
                                             **scope}) for name, scope in PEOPLE.items())
CONFIG = RoutingConfig(
    skills=(Skill("claims", "Claims"), Skill("billing", "Billing")),
    agents=(Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),
            Agent("bob", "Bob", "PJSIP/1002", 1, (AgentSkill("billing", 3),))),
    queues=(Queue("claims", "Claims", (SkillRequirement("claims"),)),
            Queue("billing", "Billing", (SkillRequirement("billing"),))),
)  # fmt: skip


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    db: Database
    live: FakeLiveCalls
    store: Path

    async def get(self, who: str | None, path: str) -> tuple[int, Any]:
        headers = {} if who is None else {"Authorization": f"Bearer {who}-token-0123456789"}
        async with self.client.get(path, headers=headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else \
                await resp.read()
            return resp.status, body

    async def transfer(self, who: str, call_id: str) -> tuple[int, Any]:
        async with self.client.post(f"/v1/calls/{call_id}/transfer", json={"min_tier": 2},
                                    headers={"Authorization": f"Bearer {who}-token-0123456789"}
                                    ) as resp:  # fmt: skip
            return resp.status, await resp.json()

    async def add_call(self, call_id: str, queue: str | None, agent: str | None) -> None:
        await self.db.calls.start(replace(record(call_id, agent_id=agent), queue_id=queue))
        if queue and agent:
            audio = self.store / f"2025/03/01/r-{call_id}.wav"
            audio.parent.mkdir(parents=True, exist_ok=True)
            audio.write_bytes(b"RIFF" + call_id.encode())
            await self.add_recording(f"r-{call_id}", call_id, queue, agent, audio)

    async def add_recording(self, recording_id: str, call_id: str, queue: str, agent: str,
                            path: Path) -> None:  # fmt: skip
        await self.db.recordings.add(RecordingMeta(recording_id, call_id, queue, agent, T0, 3.0,
                                                   "wav", 10, "0" * 64, str(path)))


@pytest.fixture
async def site(database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    live, store = FakeLiveCalls(), tmp_path / "store"
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=EventHub(), live=live, queues=QueueService(CONFIG, SimulatedClock(1.0)),
        routing=routing, tokens=TOKENS, ready=asyncio.Event(), recordings_dir=store,
        access=access_parts(database.units, passwords=fast_passwords())))  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        site = Site(client, database, live, store)
        await site.add_call("alice-claims", "claims", "alice")
        await site.add_call("bob-billing", "billing", "bob")
        await site.add_call("bob-claims", "claims", "bob")
        await site.add_call("in-ivr", None, None)
        yield site


def ids(calls: list[dict[str, Any]]) -> set[str]:
    return {c["call_id"] for c in calls}


ALL = {"alice-claims", "bob-billing", "bob-claims", "in-ivr"}


@pytest.mark.parametrize(("who", "listed"), [
    ("alice", {"alice-claims"}), ("bob", {"bob-billing", "bob-claims"}),
    ("sue", {"alice-claims", "bob-claims"}), ("quinn", {"bob-billing"}),
    ("sam", ALL), ("ada", ALL),
])  # fmt: skip
async def test_each_person_lists_the_calls_they_may_see(site: Site, who: str,
                                                        listed: set[str]) -> None:
    status, body = await site.get(who, "/v1/calls")
    assert (status, ids(body)) == (200, listed)
    for call_id in ALL:
        status, body = await site.get(who, f"/v1/calls/{call_id}")
        assert status == (200 if call_id in listed else 404), (who, call_id, body)
    assert (await site.get("audrey", "/v1/calls"))[0] == 403


async def test_an_agent_cannot_read_another_agents_call_handoff_or_recording(site: Site) -> None:
    for path in ("/v1/calls/bob-billing", "/v1/calls/bob-billing/handoff",
                 "/v1/recordings/r-bob-billing", "/v1/recordings/r-bob-billing/audio"):
        status, body = await site.get("alice", path)
        assert (status, body["error"]) == (404, "not_found"), path
    for path in ("/v1/calls/alice-claims", "/v1/calls/alice-claims/handoff",
                 "/v1/recordings/r-alice-claims"):
        assert (await site.get("alice", path))[0] == 200, path
    status, audio = await site.get("alice", "/v1/recordings/r-alice-claims/audio")
    assert (status, audio) == (200, b"RIFFalice-claims")


async def test_an_agent_reads_the_handoff_of_a_live_call_ringing_for_them(site: Site) -> None:
    site.live.journeys["ringing"] = LiveJourney(record("ringing"), (
        event("ringing", JourneyType.QUEUE_JOIN, 1, queue="claims"),
        event("ringing", JourneyType.AGENT_OFFER, 2, queue="claims", agent="alice")))
    assert (await site.get("alice", "/v1/calls/ringing/handoff"))[0] == 200
    assert (await site.get("bob", "/v1/calls/ringing/handoff"))[0] == 404
    assert (await site.get("sue", "/v1/calls/ringing/handoff"))[0] == 200
    assert (await site.get("quinn", "/v1/calls/ringing/handoff"))[0] == 403  # QA: no handoffs


async def test_an_agent_transfers_only_the_caller_they_talk_to(site: Site) -> None:
    for call_id, agent in (("live-bob", "bob"), ("live-alice", "alice"), ("waiting", None)):
        site.live.journeys[call_id] = LiveJourney(record(call_id, agent_id=agent), ())
        if agent:
            site.live.talking.add(call_id)
    for call_id in ("live-bob", "waiting"):
        status, body = await site.transfer("alice", call_id)
        assert (status, body) == (403, {"error": "not_your_call", "message": "an agent may "
                                        "transfer only the call they are talking to"})
    assert site.live.transfers == []
    assert (await site.transfer("alice", "live-alice"))[0] == 202
    assert [(c, r.by) for c, r in site.live.transfers] == [("live-alice", "alice")]


async def test_a_scoped_supervisor_transfers_only_their_queues_calls(site: Site) -> None:
    site.live.journeys["billing"] = LiveJourney(replace(record("billing", agent_id="bob"),
                                                        queue_id="billing"), ())
    site.live.talking.add("billing")
    assert (await site.transfer("sue", "billing"))[0] == 404
    assert (await site.transfer("sam", "billing"))[0] == 202
    assert [r.by for _, r in site.live.transfers] == ["sam"]


@pytest.mark.parametrize(("who", "readable"), [
    ("alice", {"r-alice-claims"}), ("sue", {"r-alice-claims", "r-bob-claims"}),
    ("quinn", {"r-bob-billing"}), ("ada", {"r-alice-claims", "r-bob-claims", "r-bob-billing"}),
])  # fmt: skip
async def test_recordings_are_scoped_like_calls(site: Site, who: str, readable: set[str]) -> None:
    for recording_id in ("r-alice-claims", "r-bob-claims", "r-bob-billing"):
        status, body = await site.get(who, f"/v1/recordings/{recording_id}")
        assert status == (200 if recording_id in readable else 404), (who, recording_id)
        if status == 200:
            assert "path" not in body and str(site.store) not in str(body)
    assert (await site.get("audrey", "/v1/recordings/r-bob-billing"))[0] == 403


async def test_decisions_follow_the_same_scope(site: Site) -> None:
    site.live.journeys["w"] = LiveJourney(replace(record("w"), queue_id="billing"), (
        event("w", JourneyType.AGENT_OFFER, 2, queue="billing", agent="bob"),))
    assert (await site.get("bob", "/v1/calls/w/decisions"))[0] == 200
    assert (await site.get("alice", "/v1/calls/w/decisions"))[0] == 404
    assert (await site.get("sue", "/v1/calls/w/decisions"))[0] == 404
    assert (await site.get("sam", "/v1/calls/w/decisions"))[0] == 200


# --- the recording-read audit ---------------------------------------------------------------


async def test_every_read_of_a_recording_is_audited_and_auditors_read_the_audit(
    site: Site,
) -> None:
    await site.get("quinn", "/v1/recordings/r-bob-billing")
    await site.get("quinn", "/v1/recordings/r-bob-billing/audio")
    await site.get("alice", "/v1/recordings/r-bob-billing/audio")  # not hers
    await site.get("sue", "/v1/recordings/r-nothing")
    status, reads = await site.get("audrey", "/v1/audit/recordings")
    assert status == 200
    assert [(r["actor"], r["role"], r["recording_id"], r["call_id"], r["what"], r["outcome"])
            for r in reads] == [
        ("sue", "supervisor", "r-nothing", None, "details", "not_found"),
        ("alice", "agent", "r-bob-billing", "bob-billing", "audio", "refused"),
        ("quinn", "qa", "r-bob-billing", "bob-billing", "audio", "granted"),
        ("quinn", "qa", "r-bob-billing", "bob-billing", "details", "granted"),
    ]  # fmt: skip
    assert all(r["remote"] == "127.0.0.1" and r["at"] for r in reads)
    status, reads = await site.get("ada", "/v1/audit/recordings?actor=quinn&limit=1")
    assert (status, [(r["what"], r["actor"]) for r in reads]) == (200, [("audio", "quinn")])
    status, reads = await site.get("audrey", "/v1/audit/recordings?recording_id=r-nothing")
    assert [r["actor"] for r in reads] == ["sue"]
    for who in ("sam", "quinn", "alice"):
        assert (await site.get(who, "/v1/audit/recordings"))[0] == 403
    assert (await site.get(None, "/v1/audit/recordings"))[0] == 401


async def test_auditors_read_the_routing_audit_and_nothing_else(site: Site) -> None:
    assert (await site.get("audrey", "/v1/routing/audit"))[0] == 200
    for path in ("/v1/routing/config", "/v1/queues", "/v1/calls"):
        assert (await site.get("audrey", path))[0] == 403, path


# --- crafted ids and paths --------------------------------------------------------------------


@pytest.mark.parametrize("crafted", [
    "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "r%00x", "a%20b", "%E2%80%AE", "x" * 200,
])  # fmt: skip
async def test_a_crafted_recording_id_is_refused(site: Site, crafted: str) -> None:
    for suffix in ("", "/audio"):
        status, body = await site.get("ada", f"/v1/recordings/{crafted}{suffix}")
        assert status in (400, 404), (crafted, status, body)
        assert isinstance(body, dict) and body["error"] in ("invalid", "not_found")


async def test_a_stored_path_outside_the_store_is_never_read(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not a recording")
    await site.db.calls.start(replace(record("odd", agent_id="alice"), queue_id="claims"))
    await site.add_recording("r-outside", "odd", "claims", "alice", secret)
    await site.add_recording("r-dotdot", "odd", "claims", "alice",
                             site.store / "2025/../../secret.txt")
    link = site.store / "2025/03/01/r-link.wav"
    link.symlink_to(secret)
    await site.add_recording("r-link", "odd", "claims", "alice", link)
    for recording_id in ("r-outside", "r-dotdot", "r-link"):
        status, body = await site.get("ada", f"/v1/recordings/{recording_id}/audio")
        assert (status, body["error"]) == (404, "not_found"), recording_id
        assert "not a recording" not in str(body) and str(tmp_path) not in str(body)
    _, reads = await site.get("audrey", "/v1/audit/recordings?actor=ada")
    assert {r["outcome"] for r in reads} == {"outside_store"}


async def test_without_a_recording_store_no_audio_is_served(database: Database,
                                                            tmp_path: Path) -> None:
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=EventHub(), live=FakeLiveCalls(), routing=routing, tokens=TOKENS,
        queues=QueueService(CONFIG, SimulatedClock(1.0)), ready=asyncio.Event(),
        access=access_parts(database.units, passwords=fast_passwords())))  # fmt: skip
    audio = tmp_path / "r.wav"
    audio.write_bytes(b"RIFF")
    await database.calls.start(record("c1", agent_id="alice"))
    await database.recordings.add(RecordingMeta("r1", "c1", "claims", "alice", T0, 3.0, "wav",
                                                4, "0" * 64, str(audio)))
    async with TestClient(TestServer(app)) as client, client.get(
            "/v1/recordings/r1/audio",
            headers={"Authorization": "Bearer ada-token-0123456789"}) as resp:  # fmt: skip
        assert resp.status == 404


async def test_a_supervisor_scoped_to_queues_reads_the_routing_configuration_but_changes_nothing(
    site: Site,
) -> None:
    assert (await site.get("sue", "/v1/routing/config"))[0] == 200
    async with site.client.post("/v1/routing/agents/alice/pause", json={"reason": "x"},
                                headers={"Authorization": "Bearer sue-token-0123456789"}
                                ) as resp:  # fmt: skip
        body = await resp.json()
    assert (resp.status, body) == (403, {"error": "forbidden", "message": "sue sees only some "
                                         "queues; changes through the routing API apply to "
                                         "every queue: they need a supervisor without queues "
                                         "or an admin"})  # fmt: skip
    async with site.client.post("/v1/routing/agents/alice/pause", json={"reason": "x"},
                                headers={"Authorization": "Bearer sam-token-0123456789"}
                                ) as resp:  # fmt: skip
        assert resp.status == 200, await resp.json()
