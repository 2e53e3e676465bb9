"""Legal holds and deletion over the service's whole app on SQLite: a refused request (bad id,
no reason, wrong role, held) changes nothing; a deletion takes the file, the row, its comments,
evaluations and training entry together and is audited; a failure in the middle of the
transaction leaves the file, the rows and the audit as they were."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from ari_app.calls.hub import EventHub
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, build_web_app
from kernel.http.auth import Role
from recordings.retention.policy import RetentionPolicy
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from tests.unit.test_api_inputs import NoAgentCommands, apply_nothing
from tests.unit.test_calls_api import CONFIG, T0, FakeLiveCalls
from tests.unit.test_qa_api import FORM, TOKENS, Qa, fields, scored, seed

POLICY = RetentionPolicy(None, MappingProxyType({"claims": 2555}))
ADMIN, AUDITOR, QA = Role.ADMIN, Role.AUDITOR, Role.QA


@pytest.fixture
async def store(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


@pytest.fixture
async def qa(database: Database, store: Path) -> AsyncIterator[Qa]:
    await seed(database, store)
    ready = asyncio.Event()
    ready.set()
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=EventHub(), live=FakeLiveCalls(), routing=routing, tokens=TOKENS,
        queues=QueueService(CONFIG, SimulatedClock(1.0)), ready=ready, recordings_dir=store,
        retention=POLICY))  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        yield Qa(client)


def files(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir())


async def with_dependants(qa: Qa) -> None:
    """r1 gets a comment, an evaluation, a training entry and a listen."""
    assert (await qa.send("POST", "/v1/recordings/r1/comments",
                          body={"at_s": 1, "text": "greets"}))[0] == 201
    assert (await qa.send("POST", "/v1/qa/forms", body=FORM))[0] == 201
    assert (await qa.send("POST", "/v1/recordings/r1/evaluations",
                          body={"form_id": "calls", "answers": scored()}))[0] == 201
    assert (await qa.send("POST", "/v1/recordings/r1/training", body={"reason": "calm"}))[0] == 201
    assert (await qa.send("GET", "/v1/recordings/r1/audio"))[0] == 200


async def as_it_was(qa: Qa, store: Path) -> None:
    """r1 whole: its row, file, dependants; no deletion audited; no trash left."""
    status, details = await qa.send("GET", "/v1/recordings/r1", ADMIN)
    assert status == 200, details
    assert (store / "r1.wav").is_file()
    assert files(store) == ["r1.wav", "r2.wav", "r3.wav"]
    assert len((await qa.send("GET", "/v1/recordings/r1/comments"))[1]) == 1
    assert len((await qa.send("GET", "/v1/recordings/r1/evaluations"))[1]) == 1
    assert [e["recording_id"] for e in (await qa.send("GET", "/v1/qa/training"))[1]] == ["r1"]
    assert (await qa.send("GET", "/v1/audit/deletions", AUDITOR))[1] == []


@pytest.mark.parametrize(("path", "body", "who", "status", "named"), [
    ("/v1/recordings/r1", {}, ADMIN, 400, ["body.reason"]),
    ("/v1/recordings/r1", {"reason": ""}, ADMIN, 400, ["body.reason"]),
    ("/v1/recordings/r1", {"reason": "x", "force": True}, ADMIN, 400, ["body.force"]),
    ("/v1/recordings/r1", None, ADMIN, 400, ["body"]),
    ("/v1/recordings/r1;x", {"reason": "x"}, ADMIN, 400, ["path.recording_id"]),
    ("/v1/recordings/r404", {"reason": "x"}, ADMIN, 404, ["path.recording_id"]),
    ("/v1/recordings/r1", {"reason": "x"}, QA, 403, []),
    ("/v1/recordings/r1", {"reason": "x"}, AUDITOR, 403, []),
    ("/v1/recordings/r1/hold", {}, ADMIN, 400, ["body.reason"]),
])  # fmt: skip
async def test_a_refused_deletion_names_its_field_and_changes_nothing(
    qa: Qa, store: Path, path: str, body: Any, who: Role, status: int, named: list[str],
) -> None:
    await with_dependants(qa)
    answered, reply = await qa.send("DELETE", path, who, body)
    assert (answered, fields(reply) if "problems" in reply else []) == (status, named)
    await as_it_was(qa, store)


async def test_a_held_recording_is_not_deleted_until_the_hold_is_lifted(qa: Qa,
                                                                        store: Path) -> None:
    await with_dependants(qa)
    _, details = await qa.send("GET", "/v1/recordings/r1", ADMIN)
    assert (details["on_hold"], details["hold"]) == (False, None)
    assert datetime.fromisoformat(details["retain_until"]) == T0 + timedelta(days=2555)
    assert (await qa.send("GET", "/v1/recordings/r2", ADMIN))[1]["retain_until"] is None

    assert (await qa.send("POST", "/v1/recordings/r1/hold", QA, {"reason": "x"}))[0] == 403
    assert (await qa.send("POST", "/v1/recordings/r1/hold", AUDITOR, {"reason": "x"}))[0] == 403
    status, hold = await qa.send("POST", "/v1/recordings/r1/hold", ADMIN,
                                 {"reason": "case 2026-114"})
    assert (status, hold["placed_by"], hold["reason"], hold["active"]) == (
        201, "admin", "case 2026-114", True)
    status, body = await qa.send("POST", "/v1/recordings/r1/hold", ADMIN, {"reason": "again"})
    assert (status, fields(body)) == (409, ["path.recording_id"])
    status, body = await qa.send("POST", "/v1/recordings/r404/hold", ADMIN, {"reason": "x"})
    assert (status, fields(body)) == (404, ["path.recording_id"])
    _, details = await qa.send("GET", "/v1/recordings/r1", QA)
    assert (details["on_hold"], details["hold"]["reason"]) == (True, "case 2026-114")

    status, body = await qa.send("DELETE", "/v1/recordings/r1", ADMIN, {"reason": "asked"})
    assert (status, body["error"], fields(body)) == (409, "on_hold", ["path.recording_id"])
    await as_it_was(qa, store)

    status, body = await qa.send("DELETE", "/v1/recordings/r1/hold", ADMIN,
                                 {"reason": "case closed"})
    assert (status, body["lifted_by"], body["lift_reason"], body["active"]) == (
        200, "admin", "case closed", False)
    status, body = await qa.send("DELETE", "/v1/recordings/r1/hold", ADMIN, {"reason": "x"})
    assert (status, fields(body)) == (404, ["path.recording_id"])
    status, state = await qa.send("GET", "/v1/recordings/r1/hold", AUDITOR)
    assert (status, state["on_hold"], [h["active"] for h in state["history"]]) == (
        200, False, [False])
    assert (await qa.send("GET", "/v1/recordings/r1/hold", QA))[0] == 403
    assert (await qa.send("DELETE", "/v1/recordings/r1", ADMIN, {"reason": "asked"}))[0] == 200
    status, state = await qa.send("GET", "/v1/recordings/r1/hold", AUDITOR)
    assert (state["exists"], len(state["history"])) == (False, 1)  # the history stays
    _, holds = await qa.send("GET", "/v1/audit/holds?active=false", AUDITOR)
    assert [(h["recording_id"], h["reason"]) for h in holds] == [("r1", "case 2026-114")]
    assert (await qa.send("GET", "/v1/audit/holds?active=true", AUDITOR))[1] == []
    status, body = await qa.send("GET", "/v1/audit/holds?active=maybe", AUDITOR)
    assert (status, fields(body)) == (400, ["query.active"])


async def test_a_deletion_takes_file_row_and_dependants_together_and_is_audited(
    qa: Qa, store: Path,
) -> None:
    await with_dependants(qa)
    status, deleted = await qa.send("DELETE", "/v1/recordings/r1", ADMIN,
                                    {"reason": "the caller asked (GDPR art. 17)"})
    assert status == 200, deleted
    assert files(store) == ["r2.wav", "r3.wav"]  # no trash left
    status, body = await qa.send("GET", "/v1/recordings/r1", ADMIN)
    assert (status, fields(body)) == (404, ["path.recording_id"])
    assert (await qa.send("GET", "/v1/recordings/r1/comments"))[0] == 404
    assert await qa.ids("", ADMIN) == ["r3", "r2"]  # gone from the search
    assert (await qa.send("GET", "/v1/qa/training"))[1] == []
    assert (await qa.send("GET", "/v1/qa/evaluations"))[1] == []

    status, audit = await qa.send("GET", "/v1/audit/deletions", AUDITOR)
    assert status == 200
    [row] = audit
    assert {k: row[k] for k in ("actor", "reason", "recording_id", "call_id", "queue_id",
                                "file_name", "sha256", "size_bytes", "file_found")} == {
        "actor": "admin", "reason": "the caller asked (GDPR art. 17)", "recording_id": "r1",
        "call_id": "c1", "queue_id": "claims", "file_name": "r1.wav", "sha256": "0" * 64,
        "size_bytes": 44 + 10 * 16000, "file_found": True}  # fmt: skip
    assert (await qa.send("GET", "/v1/audit/deletions?actor=retention", ADMIN))[1] == []
    assert (await qa.send("GET", "/v1/audit/deletions", QA))[0] == 403
    _, listens = await qa.send("GET", "/v1/audit/listens?recording_id=r1", AUDITOR)
    assert len(listens) == 1  # the listen audit stays
    assert (await qa.send("DELETE", "/v1/recordings/r1", ADMIN, {"reason": "again"}))[0] == 404


async def test_a_failure_in_the_middle_leaves_everything_as_it_was(
    qa: Qa, store: Path, database: Database,
) -> None:
    await with_dependants(qa)
    async with database.engine.begin() as conn:  # the cascade into comments fails
        await conn.execute(text("CREATE TRIGGER no_comment_deletes BEFORE DELETE ON qa_comments "
                                "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    status, body = await qa.send("DELETE", "/v1/recordings/r1", ADMIN, {"reason": "asked"})
    assert status == 500, body
    await as_it_was(qa, store)
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER no_comment_deletes"))
    assert (await qa.send("DELETE", "/v1/recordings/r1", ADMIN, {"reason": "asked"}))[0] == 200


async def test_a_recording_whose_file_is_gone_still_goes_and_says_so(qa: Qa,
                                                                     store: Path) -> None:
    (store / "r3.wav").unlink()
    status, deleted = await qa.send("DELETE", "/v1/recordings/r3", ADMIN, {"reason": "tidy"})
    assert (status, deleted["file_found"]) == (200, False)
    assert (await qa.send("GET", "/v1/recordings/r3", ADMIN))[0] == 404
