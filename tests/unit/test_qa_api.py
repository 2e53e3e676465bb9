"""The QA routes over the service's whole app on SQLite: recording search (scoped by role, strict
parameters), comments pinned to times, versioned scorecard forms, evaluations with N/A and
auto-fail items, calibration, release and dispute, the training library, and the listen audit of
audio served with HTTP Range."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.hub import EventHub
from ari_app.calls.record import CallOutcome
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, build_web_app
from ivr.journey import JourneyType
from kernel.http.auth import ApiToken, Role, TokenTable
from recordings.model import MutedInterval, RecordingMeta, SurveyAnswer
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from tests.unit.test_api_inputs import NoAgentCommands, apply_nothing
from tests.unit.test_calls_api import CONFIG, T0, TOKEN, FakeLiveCalls, event, record

Client = TestClient[web.Request, web.Application]
SCOPED = "scoped-supervisor-token-01"  # a supervisor of the billing queue only
OTHER_AGENT = "other-agent-token-00001"  # agent bob
TOKENS = TokenTable([*(ApiToken.model_validate({"token": t, "actor": r.value, "role": r})
                       for r, t in TOKEN.items()),
                     ApiToken.model_validate({"token": SCOPED, "actor": "sue",
                                              "role": "supervisor", "queues": ["billing"]}),
                     ApiToken.model_validate({"token": OTHER_AGENT, "actor": "bob",
                                              "role": "agent"})])  # fmt: skip
SECOND = 16000  # bytes of 8 kHz 16-bit mono audio
HEADER = 44


def as_(who: Role | str) -> dict[str, str]:
    token = TOKEN[who] if isinstance(who, Role) else who
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Qa:
    client: Client

    async def send(self, method: str, path: str, who: Role | str = Role.QA, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
        async with self.client.request(method, path, json=body,
                                       headers={**as_(who), **(headers or {})}) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, (await resp.read(), dict(resp.headers))

    async def ids(self, query: str, who: Role | str = Role.QA) -> list[str]:
        status, body = await self.send("GET", "/v1/recordings" + query, who)
        assert status == 200, body
        return [item["recording_id"] for item in body["items"]]


async def seed(db: Database, store: Path) -> None:
    """r1: agent's claims call (intent claim_status, survey 5, 10 s); r2: bob's billing call
    (transferred, muted, survey 2, 300 s); r3: agent's billing call (no survey, 30 s)."""
    calls = [("c1", "agent", "claims", "+15550100", 0, 10.0, 5),
             ("c2", "bob", "billing", "+15550200", 1, 300.0, 2),
             ("c3", "agent", "billing", "+15559999", 2, 30.0, None)]  # fmt: skip
    for call_id, agent, queue, caller, hour, duration, score in calls:
        at = T0 + timedelta(hours=hour)
        rec = record(call_id, caller=caller, agent_id=agent)
        await db.calls.start(rec)
        await db.calls.finish(replace(rec, started_at=at, queue_id=queue,
                                      outcome=CallOutcome.ANSWERED, ended_at=at))
        path = store / f"r{call_id[1:]}.wav"
        path.write_bytes(b"RIFF" + bytes(HEADER - 4) + bytes(int(duration * SECOND)))
        mutes = (MutedInterval(5.0, 9.0, "bob", "card data"),) if call_id == "c2" else ()
        await db.recordings.add(RecordingMeta(
            f"r{call_id[1:]}", call_id, queue, agent, at, duration, "wav",
            path.stat().st_size, "0" * 64, str(path), mutes))  # fmt: skip
        if score is not None:
            await db.surveys.add(SurveyAnswer(call_id, queue, agent, score, at))
    await db.calls.append_events([
        event("c1", JourneyType.INTENT, 1.0, node="main", intent="claim_status",
              confidence=0.9, action="route"),
        event("c2", JourneyType.TRANSFER, 9.0, agent="bob", queue="claims", min_tier=None,
              notes="n", by="bob")])  # fmt: skip


@pytest.fixture
async def qa(database: Database, tmp_path: Path) -> AsyncIterator[Qa]:
    store = tmp_path / "recordings"
    store.mkdir()
    await seed(database, store)
    ready = asyncio.Event()
    ready.set()
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=EventHub(), live=FakeLiveCalls(), routing=routing, tokens=TOKENS,
        queues=QueueService(CONFIG, SimulatedClock(1.0)), ready=ready, recordings_dir=store))
    async with TestClient(TestServer(app)) as client:
        yield Qa(client)


def fields(body: dict[str, Any]) -> list[str]:
    return [p["field"] for p in body["problems"]]


async def test_search_filters_sorts_and_pages(qa: Qa) -> None:
    assert await qa.ids("") == ["r3", "r2", "r1"]  # newest first
    assert await qa.ids("?agent_id=agent&min_score=4") == ["r1"]
    assert await qa.ids("?queue_id=billing&sort=duration_s&order=asc") == ["r3", "r2"]
    assert await qa.ids("?min_duration_s=20&max_duration_s=100") == ["r3"]
    assert await qa.ids("?caller=%2B155502") == ["r2"]
    assert await qa.ids("?intent=claim_status") == ["r1"]
    assert await qa.ids("?transferred=true") == ["r2"]
    assert await qa.ids("?transferred=false&muted=false") == ["r3", "r1"]
    assert await qa.ids("?muted=true") == ["r2"]
    assert await qa.ids("?outcome=answered&max_score=3") == ["r2"]
    from_, to = (T0 + timedelta(minutes=30)).isoformat(), (T0 + timedelta(hours=2)).isoformat()
    assert await qa.ids(f"?from={from_.replace('+', '%2B')}&to={to.replace('+', '%2B')}") == ["r2"]
    assert await qa.ids("?sort=survey_score&order=desc") == ["r1", "r2", "r3"]  # none last
    status, page = await qa.send("GET", "/v1/recordings?limit=1&offset=1&sort=duration_s")
    assert (status, page["total"], [i["recording_id"] for i in page["items"]]) == (
        200, 3, ["r3"])
    status, body = await qa.send("GET", "/v1/recordings?intent=claim_status")
    [found] = body["items"]
    assert (found["caller_number"], found["survey_score"], found["intents"], found["muted"],
            found["audio"]) == ("+15550100", 5, ["claim_status"], False, "/v1/recordings/r1/audio")


async def test_search_is_scoped_by_role(qa: Qa) -> None:
    assert await qa.ids("", Role.AGENT) == ["r3", "r1"]  # their own calls
    assert await qa.ids("?agent_id=bob", Role.AGENT) == []
    assert await qa.ids("", OTHER_AGENT) == ["r2"]
    assert await qa.ids("", SCOPED) == ["r3", "r2"]  # the billing queue's
    assert await qa.ids("", Role.ADMIN) == ["r3", "r2", "r1"]
    assert (await qa.send("GET", "/v1/recordings", Role.AUDITOR))[0] == 403


@pytest.mark.parametrize(("query", "named"), [
    ("?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", ["query.to"]),
    ("?min_duration_s=60&max_duration_s=10", ["query.max_duration_s"]),
    ("?min_score=4&max_score=2", ["query.max_score"]),
    ("?from=2026-01-01", ["query.from"]),  # no time zone
    ("?min_score=6", ["query.min_score"]),
    ("?sort=caller", ["query.sort"]),
    ("?muted=perhaps", ["query.muted"]),
    ("?colour=red", ["query.colour"]),
    ("?limit=0", ["query.limit"]),
    ("?from=0001-01-01T00:00:00%2B14:00", ["query.from"]),
])  # fmt: skip
async def test_search_refuses_bad_parameters_naming_them(qa: Qa, query: str,
                                                         named: list[str]) -> None:
    status, body = await qa.send("GET", "/v1/recordings" + query)
    assert (status, fields(body)) == (400, named)


async def test_comments_are_pinned_within_the_recording(qa: Qa) -> None:
    url = "/v1/recordings/r1/comments"
    for at_s, text in ((7.5, "rushed the close"), (1.25, "good greeting")):
        status, _ = await qa.send("POST", url, body={"at_s": at_s, "text": text})
        assert status == 201
    status, body = await qa.send("POST", url, body={"at_s": 10.5, "text": "past the end"})
    assert (status, fields(body)) == (400, ["body.at_s"])
    status, listed = await qa.send("GET", url)
    assert [(c["at_s"], c["text"], c["by"]) for c in listed] == [
        (1.25, "good greeting", "qa"), (7.5, "rushed the close", "qa")]
    for forged, status_, field in (("r404", 404, "path.recording_id"),
                                   ("r1;drop", 400, "path.recording_id")):
        status, body = await qa.send("POST", f"/v1/recordings/{forged}/comments",
                                     body={"at_s": 1, "text": "x"})
        assert (status, fields(body)) == (status_, [field])
    status, body = await qa.send("GET", "/v1/recordings/r1/comments", SCOPED)  # claims: not hers
    assert (status, fields(body)) == (404, ["path.recording_id"])


FORM = {"form_id": "calls", "name": "Calls", "passing_score": 70, "criteria": [
    {"criterion_id": "greeting", "text": "Greets", "weight": 20},
    {"criterion_id": "identity", "text": "Checks identity", "weight": 30, "allow_na": True},
    {"criterion_id": "solution", "text": "Solves it", "weight": 50, "max_points": 4},
    {"criterion_id": "pci", "text": "No card numbers aloud", "weight": 0, "auto_fail": True},
]}  # fmt: skip


def scored(greeting: int = 1, identity: int | None = 1, solution: int = 4,
           pci: int = 1) -> list[dict[str, Any]]:  # fmt: skip
    return [{"criterion_id": "greeting", "points": greeting},
            {"criterion_id": "identity", "points": identity},
            {"criterion_id": "solution", "points": solution},
            {"criterion_id": "pci", "points": pci}]


async def test_forms_are_versioned_and_an_evaluation_keeps_its_version(qa: Qa) -> None:
    uneven = {**FORM, "criteria": [{**c, "weight": 10} for c in FORM["criteria"]]}
    status, body = await qa.send("POST", "/v1/qa/forms", body=uneven)
    assert (status, fields(body)) == (400, ["body.criteria"])  # 40 of 100
    assert (await qa.send("GET", "/v1/qa/forms"))[1] == []  # nothing half saved
    assert (await qa.send("POST", "/v1/qa/forms", Role.SUPERVISOR, FORM))[0] == 403

    status, v1 = await qa.send("POST", "/v1/qa/forms", body=FORM)
    assert (status, v1["version"]) == (201, 1)
    status, first = await qa.send("POST", "/v1/recordings/r1/evaluations",
                                  body={"form_id": "calls", "answers": scored(identity=None,
                                                                              solution=3)})
    assert (status, first["form_version"], first["score"], first["passed"]) == (
        201, 1, 82.14, True)

    heavier = {**FORM, "criteria": [{**FORM["criteria"][0], "weight": 50},
                                    {**FORM["criteria"][2], "weight": 50}]}
    status, v2 = await qa.send("POST", "/v1/qa/forms", body=heavier)
    assert (status, v2["version"]) == (201, 2)
    _, again = await qa.send("GET", f"/v1/qa/evaluations/{first['evaluation_id']}")
    assert (again["form_version"], again["score"]) == (1, 82.14)
    _, form = await qa.send("GET", "/v1/qa/forms/calls")
    assert (form["version"], form["versions"]) == (2, [1, 2])
    _, old = await qa.send("GET", "/v1/qa/forms/calls/versions/1")
    assert len(old["criteria"]) == 4


async def test_an_auto_fail_item_fails_the_evaluation_and_bad_answers_save_nothing(
    qa: Qa,
) -> None:
    await qa.send("POST", "/v1/qa/forms", body=FORM)
    url = "/v1/recordings/r1/evaluations"
    status, failed = await qa.send("POST", url, body={"form_id": "calls",
                                                      "answers": scored(identity=None, pci=0)})
    assert (status, failed["score"], failed["passed"], failed["auto_failed"],
            failed["failed_items"]) == (201, 0.0, False, True, ["pci"])
    bad = scored(greeting=2)[:3]
    status, body = await qa.send("POST", url, body={"form_id": "calls", "answers": bad})
    assert (status, fields(body)) == (400, ["body.answers[0].points", "body.answers"])
    status, body = await qa.send("POST", url, body={"form_id": "calls", "form_version": 7,
                                                    "answers": scored()})
    assert (status, fields(body)) == (404, ["body.form_version"])
    _, listed = await qa.send("GET", url)
    assert [e["evaluation_id"] for e in listed] == [failed["evaluation_id"]]


async def test_calibration_reports_how_far_reviewers_are_apart(qa: Qa) -> None:
    await qa.send("POST", "/v1/qa/forms", body=FORM)
    url = "/v1/recordings/r1/evaluations"
    for who, answers in ((Role.QA, scored()), (Role.SUPERVISOR, scored(solution=3)),
                         (Role.ADMIN, scored(identity=None, solution=3))):
        assert (await qa.send("POST", url, who, {"form_id": "calls", "answers": answers}))[0] \
            == 201
    status, body = await qa.send("GET", "/v1/recordings/r1/calibration")
    [report] = body["forms"]
    assert (status, report["form_version"], report["score"]["spread"],
            report["score"]["count"], report["within_target"]) == (200, 1, 17.86, 3, False)
    assert report["reviewers"]["admin"] == {"score": 82.14, "auto_failed": False}
    assert report["criteria"]["solution"]["spread"] == 25.0


async def test_the_agent_sees_only_released_evaluations_of_their_calls_and_may_dispute(
    qa: Qa,
) -> None:
    await qa.send("POST", "/v1/qa/forms", body=FORM)
    _, mine = await qa.send("POST", "/v1/recordings/r1/evaluations",
                            body={"form_id": "calls", "answers": scored()})
    _, bobs = await qa.send("POST", "/v1/recordings/r2/evaluations",
                            body={"form_id": "calls", "answers": scored()})
    mine_url = f"/v1/qa/evaluations/{mine['evaluation_id']}"
    assert (await qa.send("GET", "/v1/qa/evaluations", Role.AGENT))[1] == []
    assert (await qa.send("GET", mine_url, Role.AGENT))[0] == 404
    assert (await qa.send("GET", "/v1/recordings/r1/evaluations", Role.AGENT))[1] == []

    for evaluation in (mine, bobs):
        status, released = await qa.send(
            "POST", f"/v1/qa/evaluations/{evaluation['evaluation_id']}/release")
        assert (status, released["state"], released["released_by"]) == (200, "released", "qa")
    _, seen = await qa.send("GET", "/v1/qa/evaluations", Role.AGENT)
    assert [e["evaluation_id"] for e in seen] == [mine["evaluation_id"]]
    assert (await qa.send("GET", f"/v1/qa/evaluations/{bobs['evaluation_id']}",
                          Role.AGENT))[0] == 404  # released, but bob's

    status, disputed = await qa.send("POST", f"{mine_url}/dispute", Role.AGENT,
                                     {"reason": "the caller asked me to repeat it"})
    assert (status, disputed["state"]) == (200, "disputed")
    status, body = await qa.send("POST", f"{mine_url}/dispute", Role.AGENT, {"reason": "again"})
    assert (status, fields(body)) == (409, ["path.evaluation_id"])
    assert (await qa.send("POST", f"{mine_url}/dispute", Role.QA, {"reason": "x"}))[0] == 403
    status, resolved = await qa.send("POST", f"{mine_url}/resolve",
                                     body={"resolution": "upheld: the script says never"})
    assert (status, resolved["state"], resolved["resolved_by"]) == (200, "resolved", "qa")


async def test_the_training_library_keeps_a_recording_once_with_its_reason(qa: Qa) -> None:
    url = "/v1/recordings/r2/training"
    assert (await qa.send("POST", url, body={"reason": "a calm de-escalation"}))[0] == 201
    status, again = await qa.send("POST", url, Role.ADMIN, {"reason": "another reason"})
    assert (status, again["reason"], again["added_by"]) == (200, "a calm de-escalation", "qa")
    status, body = await qa.send("POST", url, body={})
    assert (status, fields(body)) == (400, ["body.reason"])
    _, library = await qa.send("GET", "/v1/qa/training")
    assert [(e["recording_id"], e["reason"]) for e in library] == [("r2", "a calm de-escalation")]


async def test_each_audio_request_is_audited_with_the_bytes_and_seconds_served(qa: Qa) -> None:
    size = HEADER + 10 * SECOND
    status, (data, headers) = await qa.send(
        "GET", "/v1/recordings/r1/audio",
        headers={"Range": f"bytes={HEADER + 2 * SECOND}-{HEADER + 4 * SECOND - 1}"})
    assert (status, len(data), headers["Content-Range"]) == (
        206, 2 * SECOND, f"bytes {HEADER + 2 * SECOND}-{HEADER + 4 * SECOND - 1}/{size}")
    status, (data, headers) = await qa.send("GET", "/v1/recordings/r1/audio", Role.ADMIN)
    assert (status, len(data), headers["Accept-Ranges"]) == (200, size, "bytes")
    status, _ = await qa.send("GET", "/v1/recordings/r1/audio", headers={"Range": "bytes=0-1"})
    assert status == 206  # Safari's probe
    status, _ = await qa.send("GET", "/v1/recordings/r1/audio",
                              headers={"Range": f"bytes={size}-"})
    assert status == 416

    status, audit = await qa.send("GET", "/v1/audit/listens?recording_id=r1", Role.AUDITOR)
    assert status == 200
    assert [(a["actor"], a["status"], a["byte_start"], a["byte_end"], a["start_s"], a["end_s"])
            for a in reversed(audit)] == [
        ("qa", 206, HEADER + 2 * SECOND, HEADER + 4 * SECOND - 1, 2.0, 4.0),
        ("admin", 200, 0, size - 1, 0.0, 10.0),
        ("qa", 206, 0, 1, 0.0, 0.0),
        ("qa", 416, None, None, None, None)]  # fmt: skip
    assert (await qa.send("GET", "/v1/audit/listens", Role.QA))[0] == 403
    status, body = await qa.send("GET", "/v1/recordings/r404/audio")
    assert (status, fields(body)) == (404, ["path.recording_id"])
    _, audit = await qa.send("GET", "/v1/audit/listens?recording_id=r404", Role.AUDITOR)
    assert audit == []  # nothing was served


async def test_the_player_gets_the_journey_on_the_recordings_clock_and_the_waveform(
    qa: Qa, tmp_path: Path,
) -> None:
    status, body = await qa.send("GET", "/v1/recordings/r2/timeline")
    assert status == 200
    assert [(e["type"], e["t_s"]) for e in body["events"]] == [("transfer", -3600.0)]
    assert body["mutes"][0]["start_s"] == 5.0  # drawn on the same clock
    status, body = await qa.send("GET", "/v1/recordings/r1/timeline", Role.AGENT)
    assert [(e["type"], e["details"]["intent"]) for e in body["events"]] == [
        ("intent", "claim_status")]
    assert (await qa.send("GET", "/v1/recordings/r2/timeline", Role.AGENT))[0] == 404  # bob's

    status, body = await qa.send("GET", "/v1/recordings/r1/peaks?points=5")
    assert (status, body["error"]) == (409, "conflict")  # the seeded file has no WAV header
    store = tmp_path / "recordings"
    with wave.open(str(store / "r1.wav"), "wb") as wav:  # 10 s: silent, then loud from 6 s
        wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
        wav.writeframes(bytes(6 * SECOND) + (16384).to_bytes(2, "little") * (4 * SECOND // 2))
    status, body = await qa.send("GET", "/v1/recordings/r1/peaks?points=5")
    assert (status, body["peaks"]) == (200, [0.0, 0.0, 0.0, 0.5, 0.5])
    status, body = await qa.send("GET", "/v1/recordings/r1/peaks?points=0")
    assert (status, fields(body)) == (400, ["query.points"])
    (store / "r1.wav").unlink()
    assert (await qa.send("GET", "/v1/recordings/r1/peaks"))[0] == 410


async def test_a_player_reports_the_seconds_played_and_the_auditor_reads_them(qa: Qa) -> None:
    url = "/v1/recordings/r1/plays"  # r1 lasts 10 s
    status, body = await qa.send("POST", url, body={"ranges": [
        {"start_s": 4.0, "end_s": 6.5}, {"start_s": 8.0, "end_s": 10.02}]})
    assert (status, body) == (201, {"recorded": 2})
    for bad, named in (({"ranges": [{"start_s": 1, "end_s": 2}, {"start_s": 5, "end_s": 5}]},
                        ["body.ranges[1].end_s"]),
                       ({"ranges": [{"start_s": 9, "end_s": 11}]}, ["body.ranges[0].end_s"]),
                       ({"ranges": []}, ["body.ranges"])):
        status, body = await qa.send("POST", url, body=bad)
        assert (status, fields(body)) == (400, named), body
    status, body = await qa.send("POST", url, SCOPED, body={"ranges": [
        {"start_s": 0, "end_s": 1}]})  # claims: not hers to hear, so not hers to report
    assert (status, fields(body)) == (404, ["path.recording_id"])
    status, body = await qa.send("GET", "/v1/audit/plays?recording_id=r1", Role.AUDITOR)
    assert status == 200
    assert [(p["actor"], p["start_s"], p["end_s"]) for p in body] == [
        ("qa", 8.0, 10.0), ("qa", 4.0, 6.5)]  # newest first; nothing of the refused reports
    status, _ = await qa.send("GET", "/v1/audit/plays", Role.QA)
    assert status == 403
