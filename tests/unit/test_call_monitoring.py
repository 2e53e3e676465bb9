"""Supervisors on a live call through the call engine over FakeAsterisk: the monitoring routes
(served by the real engine as its `LiveMonitors`) ring the supervisor's phone, bridge it with a
snoop on the agent's channel, swap the snoop when the mode changes, and take it all down when
the supervisor hangs up, on DELETE, or when the conversation ends; every session is audited.

Who hears whom is the fake's model of Asterisk's frames (`FakeAsterisk.hearers`: bridges,
snoop spies and whispers), so each mode is checked by what it does, not by its parameters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.ari.events import ChannelDestroyed, StasisStart
from ari_app.calls.monitoring.api import MonitorApiDeps, add_monitor_routes
from ari_app.calls.monitoring.audit import MonitorQuery, MonitorStore
from ari_app.calls.monitoring.model import MonitorEnd, MonitorRecord
from ari_app.channel_vars import ROLE_MONITOR
from ari_app.db.database import Database
from ari_app.web.app import assemble
from ivr.journey import JourneyType as J
from kernel.db.errors import DatabaseUnavailable
from kernel.http.auth import ApiToken, TokenTable
from tests.unit.engine_harness import (
    ALICE,
    SURVEY_ASK,
    WAIT_S,
    Hotline,
    HotlineFactory,
    PlacedCall,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
)

PEOPLE = {
    "alice": {"role": "agent", "agent_id": "alice"},
    "sam": {"role": "supervisor"},  # of every queue; his phone is configured
    "sue": {"role": "supervisor", "queues": ["claims"]},
    "bill": {"role": "supervisor", "queues": ["billing"]},
    "ada": {"role": "admin"},
    "quinn": {"role": "qa", "queues": ["claims"]},
    "audrey": {"role": "auditor"},
}
TOKENS = TokenTable(ApiToken.model_validate({"token": f"{name}-token-0000000001", "actor": name,
                                             **fields}) for name, fields in PEOPLE.items())
PHONE = "PJSIP/1009"  # sue's, given in each request
SAMS_PHONE = "PJSIP/1010"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]

    async def send(self, method: str, who: str, path: str, body: Any = None, *,
                   raw: bytes | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {who}-token-0000000001"}
        if raw is not None:
            headers["Content-Type"] = "application/json"
        async with self.client.request(method, path, json=body if raw is None else None,
                                       data=raw, headers=headers) as resp:
            return resp.status, await resp.json()

    async def start(self, who: str, call: PlacedCall | str, **body: Any) -> tuple[int, Any]:
        body = {"mode": "listen", "endpoint": PHONE, **body}
        return await self.send("POST", who, f"/v1/calls/{_id(call)}/monitor", body)

    async def change(self, who: str, call: PlacedCall, monitor_id: str,
                     mode: str) -> tuple[int, Any]:
        return await self.send("PATCH", who, f"/v1/calls/{call.call_id}/monitor/{monitor_id}",
                               {"mode": mode})

    async def end(self, who: str, call: PlacedCall, monitor_id: str) -> tuple[int, Any]:
        return await self.send("DELETE", who, f"/v1/calls/{call.call_id}/monitor/{monitor_id}")

    async def audit(self, who: str = "audrey", query: str = "") -> tuple[int, Any]:
        return await self.send("GET", who, f"/v1/audit/monitors{query}")


def _id(call: PlacedCall | str) -> str:
    return call if isinstance(call, str) else call.call_id


ApiFactory = Callable[[Hotline], Awaitable[Api]]


@pytest.fixture
async def api() -> AsyncIterator[ApiFactory]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def build(line: Hotline) -> Api:
        deps = MonitorApiDeps(line.engine, line.engine, MonitorStore(line.db.units),
                              {"sam": SAMS_PHONE})
        client = TestClient(TestServer(assemble(TOKENS, [lambda app: add_monitor_routes(app,
                                                                                      deps)])))
        await client.start_server()
        clients.append(client)
        return Api(client)

    yield build
    for client in clients:
        await client.close()


async def talking(line: Hotline) -> tuple[PlacedCall, str]:
    """A caller talking to alice (who talks until hung up); and alice's leg."""
    line.fake.agent_behaviour(ALICE, talk_s=None)
    line.fake.media_durations[media_of(SURVEY_ASK)] = 30.0
    call = await line.call(keys="1")
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    return call, leg


async def connected(line: Hotline, call: PlacedCall, monitor_id: str) -> None:
    await line.journal_event(call, J.MONITOR, action="started", monitor_id=monitor_id)


async def ends_after_survey(line: Hotline, call: PlacedCall, leg: str) -> None:
    line.fake.hang_up(leg)
    await line.playing(SURVEY_ASK)
    line.fake.press(call.channel_id, "5")
    await line.finished(call)
    line.assert_clean()


async def audited(line: Hotline, monitor_id: str) -> MonitorRecord:
    """The session's audit row once it is closed (written after the session, in the
    background)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            for _, record in await MonitorStore(line.db.units).find(MonitorQuery()):
                if record.monitor_id == monitor_id and record.ended_at is not None:
                    return record
            await asyncio.sleep(0.01)


def monitor_parts(line: Hotline, call: PlacedCall, monitor_id: str) -> dict[str, Any]:
    """What of the monitor is in Asterisk: its phone, its bridge's members, its snoops."""
    prefix = f"{call.call_id}-mon-{monitor_id}"
    bridge = line.fake.bridges.get(f"{prefix}-bridge")
    return {"phone": prefix in line.fake.channels,
            "bridge": sorted(bridge.channels) if bridge is not None else None,
            "snoops": sorted(c for c in line.fake.channels if c.startswith(f"{prefix}-snoop"))}


def call_bridge(line: Hotline, call: PlacedCall) -> list[str]:
    (bridge,) = [b for b in line.fake.bridges.values() if "-bridge-" in b.id
                 and b.id.startswith(call.call_id)]
    return sorted(bridge.channels)


def monitor_events(line: Hotline, call: PlacedCall) -> list[tuple[object, ...]]:
    return [(e.details["action"], e.details["mode"], e.details.get("by"), e.details.get("reason"))
            for e in line.journal.events if e.call_id == call.call_id and e.type is J.MONITOR]


# --- the lifecycle ----------------------------------------------------------------------------


async def test_listen_then_barge_then_whisper_then_stop(hotline: HotlineFactory,
                                                        api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)

    status, started = await http.start("sue", call, mode="listen")
    assert status == 202, started
    assert (started["state"], started["mode"], started["agent_id"], started["queue_id"],
            started["endpoint"]) == ("ringing", "listen", "alice", "claims", PHONE)
    monitor_id = started["monitor_id"]
    await connected(line, call, monitor_id)
    phone = f"{call.call_id}-mon-{monitor_id}"
    snoop1 = f"{phone}-snoop1"
    assert monitor_parts(line, call, monitor_id) == {
        "phone": True, "bridge": sorted([phone, snoop1]), "snoops": [snoop1]}
    assert (line.fake.channels[snoop1].snooping_on, line.fake.channels[snoop1].spy,
            line.fake.channels[snoop1].whisper) == (leg, "both", "none")
    assert call_bridge(line, call) == sorted([call.channel_id, leg])  # untouched: 2 members
    assert {leg, phone} <= line.fake.hearers(call.channel_id)  # the caller, heard by both
    assert {call.channel_id, phone} <= line.fake.hearers(leg)  # the agent, heard by both
    assert line.fake.hearers(phone) == set()  # listening: nobody hears the supervisor
    originate = line.fake.requested("POST", "/channels")[-1]
    assert (originate.params["endpoint"], originate.params["appArgs"]) == (
        PHONE, f"{ROLE_MONITOR},{call.call_id}")

    status, listed = await http.send("GET", "sue", f"/v1/calls/{call.call_id}/monitor")
    assert status == 200 and [m["state"] for m in listed["items"]] == ["connected"]

    status, barged = await http.change("sue", call, monitor_id, "barge")
    assert (status, barged["mode"]) == (200, "barge"), barged
    snoop2 = f"{phone}-snoop2"
    assert monitor_parts(line, call, monitor_id) == {
        "phone": True, "bridge": sorted([phone, snoop2]), "snoops": [snoop2]}
    assert line.fake.hearers(phone) == {leg, call.channel_id}  # both hear the supervisor
    assert call_bridge(line, call) == sorted([call.channel_id, leg])

    status, whispered = await http.change("sue", call, monitor_id, "whisper")
    assert (status, whispered["mode"]) == (200, "whisper")
    assert line.fake.hearers(phone) == {leg}  # only the agent
    assert {call.channel_id, phone} <= line.fake.hearers(leg)
    assert (await http.change("sue", call, monitor_id, "whisper"))[0] == 200  # no change
    assert len(line.fake.requested("POST", "/channels/*/snoop/*")) == 3

    status, ended = await http.end("sue", call, monitor_id)
    assert (status, ended["state"], ended["end_reason"], ended["ended_by"]) == (
        200, "ended", "stopped", "sue")
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    assert call_bridge(line, call) == sorted([call.channel_id, leg])  # the call goes on
    assert (await http.send("GET", "sue", f"/v1/calls/{call.call_id}/monitor"))[1]["items"] == []
    await ends_after_survey(line, call, leg)

    record = await audited(line, monitor_id)
    assert [str(m.mode) for m in record.modes] == ["listen", "barge", "whisper"]
    assert (record.actor, record.role, record.agent_id, record.queue_id, record.end_reason,
            record.ended_by) == ("sue", "supervisor", "alice", "claims", MonitorEnd.STOPPED,
                                 "sue")
    assert record.requested_at <= record.connected_at <= record.ended_at  # type: ignore[operator]
    assert monitor_events(line, call) == [
        ("started", "listen", "sue", None), ("mode", "barge", "sue", None),
        ("mode", "whisper", "sue", None), ("ended", "whisper", "sue", "stopped")]
    stored = [e for e in await line.db.calls.events(call.call_id) if e.type is J.MONITOR]
    assert [e.details["action"] for e in stored] == ["started", "mode", "mode", "ended"]

    status, rows = await http.audit()
    assert status == 200 and [row["monitor_id"] for row in rows] == [monitor_id]
    assert [m["mode"] for m in rows[0]["modes"]] == ["listen", "barge", "whisper"]
    assert rows[0]["end_reason"] == "stopped" and rows[0]["id"] >= 1


async def test_the_supervisor_hanging_up_ends_it_and_the_call_goes_on(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    monitor_id = (await http.start("sam", call, mode="barge", endpoint=None))[1]["monitor_id"]
    await connected(line, call, monitor_id)
    phone = f"{call.call_id}-mon-{monitor_id}"
    assert line.fake.channels[phone].endpoint == SAMS_PHONE  # his phone from the config

    line.fake.hang_up(phone)
    record = await audited(line, monitor_id)
    assert (record.end_reason, record.ended_by) == (MonitorEnd.SUPERVISOR_HUNG_UP, None)
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    assert call_bridge(line, call) == sorted([call.channel_id, leg])
    assert line.fake.hearers(leg) >= {call.channel_id}
    await ends_after_survey(line, call, leg)
    assert monitor_events(line, call)[-1] == ("ended", "barge", "sam", "supervisor_hung_up")


@pytest.mark.parametrize("who_leaves", ["agent", "caller"])
async def test_the_conversation_ending_ends_every_monitor(
        hotline: HotlineFactory, api: ApiFactory, who_leaves: str) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    first = (await http.start("sue", call, mode="listen"))[1]["monitor_id"]
    second = (await http.start("ada", call, mode="whisper", endpoint="PJSIP/1011"))[1][
        "monitor_id"]
    await connected(line, call, first)
    await connected(line, call, second)

    if who_leaves == "agent":
        await ends_after_survey(line, call, leg)
    else:
        line.fake.hang_up(call.channel_id)
        await line.finished(call)
        line.assert_clean()
    for monitor_id in (first, second):
        record = await audited(line, monitor_id)
        assert record.end_reason is MonitorEnd.CONVERSATION_ENDED, record
    # The supervisors' phones were hung up by the service (snoops end with the agent's channel
    # when the agent leaves first; assert_clean saw nothing left).
    hung_up = {r.path for r in line.fake.requested("DELETE", "/channels/*")}
    assert {f"/channels/{call.call_id}-mon-{m}" for m in (first, second)} <= hung_up


async def test_a_busy_phone_ends_as_no_answer_and_journals_nothing(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    line.fake.agent_behaviour(PHONE, busy=True)
    status, started = await http.start("sue", call)
    assert status == 202
    record = await audited(line, started["monitor_id"])
    assert (record.end_reason, record.connected_at) == (MonitorEnd.NO_ANSWER, None)
    assert monitor_events(line, call) == []
    assert line.fake.requested("POST", "/channels/*/snoop/*") == []
    await ends_after_survey(line, call, leg)


async def test_a_mode_changed_while_ringing_applies_once_connected(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    line.fake.agent_behaviour(PHONE, answer_after_s=0.2)
    monitor_id = (await http.start("sue", call))[1]["monitor_id"]
    status, changed = await http.change("sue", call, monitor_id, "whisper")
    assert (status, changed["state"], changed["mode"]) == (200, "ringing", "whisper")
    await connected(line, call, monitor_id)
    phone = f"{call.call_id}-mon-{monitor_id}"
    (snoop,) = monitor_parts(line, call, monitor_id)["snoops"]
    assert line.fake.channels[snoop].whisper == "out"
    assert line.fake.hearers(phone) == {leg}
    assert (await http.end("sue", call, monitor_id))[0] == 200
    await ends_after_survey(line, call, leg)
    record = await audited(line, monitor_id)
    assert [str(m.mode) for m in record.modes] == ["listen", "whisper"]


async def test_a_snoop_asterisk_refuses_ends_the_monitor_as_failed(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    line.fake.fail_next("POST", "/channels/*/snoop/*", status=500)
    monitor_id = (await http.start("sue", call))[1]["monitor_id"]
    record = await audited(line, monitor_id)
    assert record.end_reason is MonitorEnd.FAILED
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    await ends_after_survey(line, call, leg)


async def test_a_swap_asterisk_refuses_ends_the_monitor_and_leaves_nothing(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    monitor_id = (await http.start("sue", call))[1]["monitor_id"]
    await connected(line, call, monitor_id)
    line.fake.fail_next("POST", "/bridges/*/addChannel", status=500)  # the new snoop's join
    status, body = await http.change("sue", call, monitor_id, "barge")
    assert (status, body["error"]) == (409, "monitor_ended")
    record = await audited(line, monitor_id)
    assert (record.end_reason, [str(m.mode) for m in record.modes]) == (MonitorEnd.FAILED,
                                                                        ["listen"])
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    await ends_after_survey(line, call, leg)


# --- who may, and what is refused ---------------------------------------------------------------


async def test_scoping_and_refusals(hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)

    status, body = await http.start("bill", call)  # billing's supervisor: not their call
    assert (status, body["problems"][0]["field"]) == (404, "path.call_id")
    assert (await http.send("GET", "bill", f"/v1/calls/{call.call_id}/monitor"))[0] == 404
    assert (await http.start("sue", "no-such-call"))[0] == 404
    for refused in ("alice", "quinn", "audrey"):  # the access table: supervisors and admins
        status, body = await http.start(refused, call)
        assert (status, body["error"]) == (403, "forbidden"), refused
    assert (await http.audit("sue"))[0] == 403  # the audit: auditors and admins

    status, started = await http.start("sue", call)
    assert status == 202
    monitor_id = started["monitor_id"]
    status, body = await http.start("sue", call, mode="barge")  # once per supervisor
    assert (status, body["error"]) == (409, "already_monitoring")
    await connected(line, call, monitor_id)
    status, body = await http.change("ada", call, monitor_id, "barge")  # not theirs
    assert (status, body["error"]) == (403, "not_your_monitor")
    status, body = await http.change("bill", call, monitor_id, "barge")
    assert status == 404
    status, body = await http.end("ada", call, monitor_id)  # an admin may end it
    assert (status, body["ended_by"]) == (200, "ada")
    status, body = await http.end("sue", call, monitor_id)  # gone now
    assert (status, body["problems"][0]["field"]) == (404, "path.monitor_id")
    await ends_after_survey(line, call, leg)
    status, body = await http.start("sue", call)  # the call ended
    assert status == 404
    assert (await audited(line, monitor_id)).ended_by == "ada"


async def test_only_while_an_agent_talks(hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call = await line.call(keys="3")  # the empty queue: waiting, nobody to talk to
    await line.journal_event(call, J.QUEUE_JOIN)
    status, body = await http.start("sam", call)
    assert (status, body["error"]) == (409, "not_talking")
    assert line.fake.requested("POST", "/channels") == []  # nothing dialled
    assert (await http.audit("ada"))[1] == []  # nothing started, nothing audited
    line.fake.hang_up(call.channel_id)
    await line.finished(call)


@pytest.mark.parametrize(("body", "field"), [
    ({"endpoint": PHONE}, "body.mode"),
    ({"mode": "shout", "endpoint": PHONE}, "body.mode"),
    ({"mode": "listen", "endpoint": "1009"}, "body.endpoint"),
    ({"mode": "listen", "endpoint": "PJSIP/10 09"}, "body.endpoint"),
    ({"mode": "listen", "endpoint": PHONE, "volume": 11}, "body.volume"),
    ({"mode": "listen"}, "body.endpoint"),  # sue has no phone configured
    (None, "body"),
])  # fmt: skip
async def test_bad_requests_name_their_field(hotline: HotlineFactory, api: ApiFactory,
                                             body: Any, field: str) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    path = f"/v1/calls/{call.call_id}/monitor"
    status, answer = await (http.send("POST", "sue", path, raw=b"") if body is None
                            else http.send("POST", "sue", path, body))
    assert status == 400, answer
    assert field in [p["field"] for p in answer["problems"]], answer
    assert line.fake.requested("POST", "/channels/*/snoop/*") == []
    await ends_after_survey(line, call, leg)


async def test_bad_ids_and_audit_queries_name_their_field(hotline: HotlineFactory,
                                                          api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    base = f"/v1/calls/{call.call_id}/monitor"
    cases: Sequence[tuple[str, str, Any, int, str]] = [
        ("PATCH", f"{base}/XYZ!", {"mode": "barge"}, 400, "path.monitor_id"),
        ("PATCH", f"{base}/abc123", {"mode": "barge"}, 404, "path.monitor_id"),
        ("PATCH", f"{base}/abc123", {"mode": "loud"}, 400, "body.mode"),
        ("DELETE", f"{base}/{'a' * 33}", None, 400, "path.monitor_id"),
    ]
    for method, path, body, status, field in cases:
        got, answer = await http.send(method, "sue", path, body)
        assert (got, [p["field"] for p in answer["problems"]]) == (status, [field]), path
    for query, field in [("?to=2026-01-01T00:00:00Z&from=2026-02-01T00:00:00Z", "query.to"),
                         ("?limit=0", "query.limit"), ("?offset=-1", "query.offset"),
                         ("?from=2026-01-01T00:00:00", "query.from"),
                         ("?actor=a%20b", "query.actor"), ("?page=2", "query.page")]:
        got, answer = await http.audit("ada", query)
        assert (got, [p["field"] for p in answer["problems"]]) == (400, [field]), query
    await ends_after_survey(line, call, leg)


async def test_the_audit_filters_and_pages(hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    ids = []
    for who in ("sue", "sam", "ada"):
        ids.append((await http.start(who, call, endpoint=f"PJSIP/{who}"))[1]["monitor_id"])
        await connected(line, call, ids[-1])
        assert (await http.end(who, call, ids[-1]))[0] == 200
    await ends_after_survey(line, call, leg)
    for monitor_id in ids:
        await audited(line, monitor_id)

    rows = (await http.audit())[1]
    assert [r["monitor_id"] for r in rows] == ids[::-1]  # newest first
    assert [r["monitor_id"] for r in (await http.audit(query="?limit=1&offset=1"))[1]] == [ids[1]]
    assert [r["actor"] for r in (await http.audit(query="?actor=sam"))[1]] == ["sam"]
    assert len((await http.audit(query=f"?call_id={call.call_id}"))[1]) == 3
    middle = datetime.fromisoformat(rows[1]["requested_at"])
    after = middle.isoformat().replace("+00:00", "Z")
    found = (await http.send("GET", "ada", "/v1/audit/monitors",
                             None))[1]  # an admin reads it too
    assert len(found) == 3
    since = (await http.audit(query=f"?from={after}"))[1]
    assert [r["monitor_id"] for r in since] == [ids[2], ids[1]]
    before = (await http.audit(query=f"?to={after}"))[1]
    assert [r["monitor_id"] for r in before] == [ids[0]]


async def test_no_audit_no_monitor(hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline(monitor_audit=lambda db: DownAudit(db))
    http = await api(line)
    call, leg = await talking(line)
    status, body = await http.start("sue", call)
    assert (status, body["error"]) == (503, "audit_unavailable")
    assert [r for r in line.fake.requested("POST", "/channels")
            if "-mon-" in r.params.get("channelId", "")] == []
    await ends_after_survey(line, call, leg)


async def test_a_monitor_channel_of_a_call_that_is_gone_is_hung_up(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    stray = line.fake.call_in(args=(ROLE_MONITOR, "gone-call"))
    await line.fake.wait_for(StasisStart, lambda e: e.channel.id == stray)
    await line.fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == stray,
                             give_up_s=WAIT_S)
    assert line.logged("monitor.orphan_channel")


# --- restarts -----------------------------------------------------------------------------------


class DownAudit(MonitorStore):
    """The monitor audit whose database is away (`down`), as for every write of it."""

    def __init__(self, db: Database, *, down: bool = True) -> None:
        super().__init__(db.units)
        self.down = down

    async def opened(self, record: MonitorRecord) -> None:
        if self.down:
            raise DatabaseUnavailable("the test took the database away")
        await super().opened(record)

    async def save(self, record: MonitorRecord) -> None:
        if not self.down:
            await super().save(record)


async def test_a_crash_leaves_nothing_the_next_run_closes_the_audit(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    audits: list[DownAudit] = []

    def audit(db: Database) -> DownAudit:
        audits.append(DownAudit(db, down=False))
        return audits[-1]

    line = await hotline(monitor_audit=audit)
    http = await api(line)
    call, leg = await talking(line)
    monitor_id = (await http.start("sue", call, mode="barge"))[1]["monitor_id"]
    await connected(line, call, monitor_id)
    await asyncio.sleep(0.05)  # the connected row written
    audits[0].down = True  # as if the process died: the old run writes nothing more
    report = await line.restart(hand_over=False)
    audits[0].down = False

    assert report.monitors_closed == 1
    record = await audited(line, monitor_id)
    assert record.end_reason is MonitorEnd.SERVICE_RESTART and record.connected_at is not None
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    assert call_bridge(line, call) == sorted([call.channel_id, leg])  # the call was kept
    journey = await line.db.calls.events(call.call_id)
    # (The simulated crash's journal still commits what it batched; a real one would not.)
    ended = [e.details for e in journey if e.type is J.MONITOR and e.details["action"] == "ended"
             and e.details["reason"] == "service_restart"]
    assert ended == [{"action": "ended", "monitor_id": monitor_id, "mode": "barge",
                      "agent": "alice", "by": "sue", "reason": "service_restart"}]
    await ends_after_survey(line, call, leg)


async def test_a_stop_hangs_monitors_up_and_hands_the_call_over(
        hotline: HotlineFactory, api: ApiFactory) -> None:
    line = await hotline()
    http = await api(line)
    call, leg = await talking(line)
    monitor_id = (await http.start("sue", call))[1]["monitor_id"]
    await connected(line, call, monitor_id)
    report = await line.restart(hand_over=True)

    assert report.monitors_closed == 0  # closed by the run that stopped
    record = await audited(line, monitor_id)
    assert record.end_reason is MonitorEnd.SERVICE_STOPPED
    assert monitor_parts(line, call, monitor_id) == {"phone": False, "bridge": None,
                                                     "snoops": []}
    assert call_bridge(line, call) == sorted([call.channel_id, leg])
    await ends_after_survey(line, call, leg)
