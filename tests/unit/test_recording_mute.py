"""PCI mute through the call engine over FakeAsterisk: the calls API (`POST`/`DELETE
/v1/calls/{id}/recording/mute`, served by the real engine as its `LiveCalls`) and the agent's
keypad (``*0``) mute the running recording; each muted interval is stored with the recording."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.api import CallApiDeps, add_call_routes
from ari_app.calls.registry import MuteOutcome
from ari_app.web.app import assemble
from ivr.journey import JourneyType as J
from kernel.http.auth import ApiToken, TokenTable
from recordings.api import recording_json
from recordings.lifecycle import DEFAULT_MUTE_REASON
from recordings.model import RecordingMeta
from recordings.openapi import RecordingOut
from tests.unit.engine_harness import (
    ALICE,
    MENU,
    SURVEY_ASK,
    Hotline,
    HotlineFactory,
    PlacedCall,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
)

# Who calls the API: agents alice and bob (claims), supervisors of every queue, of claims and of
# billing only, an admin and QA (whose roles the access table refuses).
PEOPLE = {
    "alice": {"role": "agent", "agent_id": "alice"},
    "bob": {"role": "agent", "agent_id": "bob"},
    "sam": {"role": "supervisor"},  # of every queue
    "sue": {"role": "supervisor", "queues": ["claims"]},
    "bill": {"role": "supervisor", "queues": ["billing"]},
    "ada": {"role": "admin"},
    "quinn": {"role": "qa", "queues": ["claims"]},
}
TOKENS = TokenTable(ApiToken.model_validate({"token": f"{name}-token-0000000001", "actor": name,
                                             **fields}) for name, fields in PEOPLE.items())
TOLERANCE_S = 0.1  # the API's clock (wall) against the fake's (loop): same process, same moment


@dataclass
class Desk:
    """The calls API over the hotline's engine, as each person calls it."""

    client: TestClient[web.Request, web.Application]

    async def mute(self, who: str, call: PlacedCall | str, body: Any = None) -> tuple[int, Any]:
        return await self._send("POST", who, call, body)

    async def unmute(self, who: str, call: PlacedCall | str) -> tuple[int, Any]:
        return await self._send("DELETE", who, call, None)

    async def _send(self, method: str, who: str, call: PlacedCall | str,
                    body: Any) -> tuple[int, Any]:  # fmt: skip
        call_id = call if isinstance(call, str) else call.call_id
        async with self.client.request(
                method, f"/v1/calls/{call_id}/recording/mute", json=body,
                headers={"Authorization": f"Bearer {who}-token-0000000001"}) as resp:
            return resp.status, await resp.json()


DeskFactory = Callable[[Hotline], Awaitable[Desk]]


@pytest.fixture
async def desk() -> AsyncIterator[DeskFactory]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def build(line: Hotline) -> Desk:
        deps = CallApiDeps(db=line.db, hub=line.journal, live=line.engine, queues=line.queues)
        client = TestClient(TestServer(assemble(TOKENS, [lambda app: add_call_routes(app,
                                                                                    deps)])))
        await client.start_server()
        clients.append(client)
        return Desk(client)

    yield build
    for client in clients:
        await client.close()


async def talking(line: Hotline) -> tuple[PlacedCall, str]:
    """A caller talking to alice (who talks until hung up), recorded; and alice's leg."""
    line.fake.agent_behaviour(ALICE, talk_s=None)
    line.fake.media_durations[media_of(SURVEY_ASK)] = 30.0
    call = await line.call(keys="1")
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    return call, leg


def mute_events(line: Hotline, call: PlacedCall) -> list[tuple[str, object]]:
    return [(str(e.details["state"]), e.details.get("by")) for e in line.journal.events
            if e.call_id == call.call_id and e.type is J.RECORDING
            and e.details["state"] in ("muted", "unmuted")]


async def ends_after_survey(line: Hotline, call: PlacedCall, leg: str) -> RecordingMeta:
    line.fake.hang_up(leg)
    await line.playing(SURVEY_ASK)
    line.fake.press(call.channel_id, "5")
    ended = await line.finished(call)
    line.assert_clean()
    (meta,) = ended.recordings
    return meta


async def test_an_agent_mutes_and_unmutes_their_call_and_the_interval_is_stored(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)
    (fake_recording,) = line.fake.recordings.values()

    await asyncio.sleep(0.2)
    assert await api.mute("alice", call, {"reason": "caller reads card number"}) == (
        200, {"call_id": call.call_id, "muted": True})
    assert fake_recording.muted_since is not None  # Asterisk writes silence from now on
    assert (await api.mute("alice", call))[0] == 200  # idempotent: the first reason stays
    await asyncio.sleep(0.3)
    assert await api.unmute("alice", call) == (200, {"call_id": call.call_id, "muted": False})
    assert await api.unmute("alice", call) == (200, {"call_id": call.call_id, "muted": False})
    await asyncio.sleep(0.1)
    meta = await ends_after_survey(line, call, leg)

    (interval,) = meta.mutes
    assert (interval.by, interval.reason) == ("alice", "caller reads card number")
    ((start_s, end_s),) = fake_recording.muted  # what Asterisk was asked to silence
    assert interval.start_s == pytest.approx(start_s, abs=TOLERANCE_S)
    assert interval.end_s == pytest.approx(end_s, abs=TOLERANCE_S)
    assert 0.15 < interval.start_s < interval.end_s < meta.duration_s
    assert 0.29 < interval.end_s - interval.start_s < 1.0  # 0.3 s apart, and the requests
    assert mute_events(line, call) == [("muted", "alice"), ("unmuted", "alice")]
    # The second mute is not sent (Asterisk 22 would toggle it back on); unmutes always are.
    assert len(line.fake.requested("POST", "/recordings/live/*/mute")) == 1
    assert len(line.fake.requested("DELETE", "/recordings/live/*/mute")) == 2


async def test_the_recordings_json_returns_its_muted_intervals(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)
    assert (await api.mute("sue", call, {}))[0] == 200  # no reason given: card data
    await asyncio.sleep(0.1)
    assert (await api.unmute("sue", call))[0] == 200
    meta = await ends_after_survey(line, call, leg)

    shown = recording_json(meta)
    assert shown["mutes"] == [{"start_s": meta.mutes[0].start_s, "end_s": meta.mutes[0].end_s,
                               "by": "sue", "reason": DEFAULT_MUTE_REASON}]
    assert RecordingOut.model_validate(shown).mutes[0].by == "sue"
    stored = await line.db.recordings.get(meta.recording_id)
    assert stored is not None and stored.mutes == meta.mutes


async def test_a_supervisor_of_the_queue_mutes_others_are_refused(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)

    status, body = await api.mute("bob", call)  # another agent
    assert (status, body["error"]) == (403, "not_your_call")
    assert (await api.unmute("bob", call))[0] == 403
    assert (await api.mute("bill", call))[0] == 404  # billing's supervisor does not see it
    for role_refused in ("ada", "quinn"):  # the access table names agents and supervisors
        status, body = await api.mute(role_refused, call)
        assert (status, body["error"]) == (403, "forbidden")
    assert mute_events(line, call) == []
    assert line.fake.requested("POST", "/recordings/live/*/mute") == []

    assert (await api.mute("sue", call, {"reason": "card"}))[0] == 200
    assert (await api.unmute("alice", call))[0] == 200  # the agent may lift it
    meta = await ends_after_survey(line, call, leg)
    assert [(m.by, m.reason) for m in meta.mutes] == [("sue", "card")]
    assert mute_events(line, call) == [("muted", "sue"), ("unmuted", "alice")]


async def test_the_agents_keypad_star_zero_toggles_mute(hotline: HotlineFactory) -> None:
    line = await hotline()
    call, leg = await talking(line)

    await line.key_by_key(leg, "*0")
    await line.journal_event(call, J.RECORDING, state="muted", by="keypad:alice")
    await asyncio.sleep(0.2)
    await line.key_by_key(leg, "*0")
    await line.journal_event(call, J.RECORDING, state="unmuted", by="keypad:alice")
    await line.key_by_key(leg, "0*1")  # no feature code: nothing happens
    await asyncio.sleep(0.05)
    meta = await ends_after_survey(line, call, leg)

    (interval,) = meta.mutes
    assert (interval.by, interval.reason) == ("keypad:alice", DEFAULT_MUTE_REASON)
    assert 0.19 < interval.end_s - interval.start_s < 1.0
    assert mute_events(line, call) == [("muted", "keypad:alice"), ("unmuted", "keypad:alice")]


async def test_a_recording_ended_while_muted_closes_the_interval_at_its_end(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)
    await line.key_by_key(leg, "*0")  # the keypad mutes...
    await line.journal_event(call, J.RECORDING, state="muted")
    await asyncio.sleep(0.1)
    assert (await api.mute("alice", call))[0] == 200  # ...the API finds it muted already
    await asyncio.sleep(0.1)
    meta = await ends_after_survey(line, call, leg)  # the agent hangs up, still muted

    (interval,) = meta.mutes
    assert interval.by == "keypad:alice"
    assert interval.end_s == meta.duration_s
    (fake_recording,) = line.fake.recordings.values()
    assert fake_recording.muted == [(pytest.approx(interval.start_s, abs=TOLERANCE_S),
                                     fake_recording.duration_s)]
    assert mute_events(line, call) == [("muted", "keypad:alice")]


async def test_muting_a_call_that_is_not_recorded_is_409(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    assert (await api.mute("sam", "no-such-call"))[0] == 404
    line.fake.media_durations[media_of(MENU)] = 30.0
    line.fake.media_durations[media_of(SURVEY_ASK)] = 30.0
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call()
    await line.playing(MENU)  # in the IVR: nothing is recorded yet
    status, body = await api.mute("sam", call)
    assert (status, body["error"]) == (409, "not_recording")
    assert (await api.unmute("sam", call))[0] == 409
    assert (await api.mute("sue", call))[0] == 404  # not in claims yet: not hers to see
    line.fake.press(call.channel_id, "1")
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    line.fake.hang_up(leg)
    await line.playing(SURVEY_ASK)  # the conversation is over: its recording too
    status, body = await api.mute("alice", call)
    assert (status, body["error"]) == (409, "not_recording")
    line.fake.press(call.channel_id, "4")
    ended = await line.finished(call)
    assert (await api.mute("sue", call))[0] == 404  # no longer live
    assert ended.recordings[0].mutes == ()
    assert line.fake.requested("POST", "/recordings/live/*/mute") == []


async def test_asterisk_refusing_a_mute_is_503_and_changes_nothing(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)
    line.fake.fail_next("POST", "/recordings/live/*/mute", status=500)
    status, body = await api.mute("alice", call)
    assert (status, body["error"]) == (503, "asterisk_failed")
    assert mute_events(line, call) == []
    line.fake.fail_next("POST", "/recordings/live/*/mute", status=404)  # it just ended
    assert (await api.mute("alice", call))[0] == 409
    assert (await api.mute("alice", call))[0] == 200
    meta = await ends_after_survey(line, call, leg)
    assert [m.by for m in meta.mutes] == ["alice"]


async def test_a_transferred_callers_next_recording_starts_unmuted(
        hotline: HotlineFactory, desk: DeskFactory) -> None:
    line = await hotline()
    api = await desk(line)
    call, leg = await talking(line)
    assert (await api.mute("alice", call))[0] == 200
    await line.key_by_key(leg, "*2")  # alice escalates to tier 2, where nobody works
    await line.journal_event(call, J.TRANSFER)
    await line.journal_event(call, J.RECORDING, state="stored")
    status, body = await api.mute("sue", call)  # waiting again: nothing is recorded
    assert (status, body["error"]) == (409, "not_recording")
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)
    (first,) = [m for m in ended.recordings if m.agent_id == "alice"]
    assert len(first.mutes) == 1 and first.mutes[0].end_s == first.duration_s



async def test_a_recording_kept_through_a_restart_can_be_muted(hotline: HotlineFactory) -> None:
    line = await hotline()
    call, leg = await talking(line)
    assert await line.engine.mute(call.call_id, "sam", "card") is MuteOutcome.MUTED
    await line.restart()  # handed over: Asterisk keeps the recording (and its mute)
    await line.journal_event(call, J.ADOPTED)
    (fake_recording,) = line.fake.recordings.values()
    assert fake_recording.muted_since is not None
    # The new run reads the mute back from the journey, and ends it where Asterisk does.
    assert await line.engine.unmute(call.call_id, "alice") is MuteOutcome.UNMUTED
    assert fake_recording.muted_since is None
    assert await line.engine.mute(call.call_id, "sam", "card again") is MuteOutcome.MUTED
    await asyncio.sleep(0.1)
    assert await line.engine.unmute(call.call_id, "sam") is MuteOutcome.UNMUTED
    meta = await ends_after_survey(line, call, leg)
    assert [(m.by, m.reason) for m in meta.mutes] == [("sam", "card"), ("sam", "card again")]
    assert [m.start_s for m in meta.mutes] == pytest.approx(
        [start for start, _ in fake_recording.muted], abs=TOLERANCE_S)
