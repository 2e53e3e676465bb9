"""The call engine when things go wrong: Asterisk answering errors mid-call, recordings and
agent legs that cannot start, the service stopping, legs and callers it lost track of."""

from __future__ import annotations

import asyncio

import pytest

from ari_app.ari.events import Dial, StasisStart
from ari_app.calls.reconcile import reconcile
from ari_app.calls.record import CallOutcome
from ari_app.channel_vars import FALLBACK_CONTEXT
from ivr.journey import JourneyType as J
from recordings.lifecycle import START_ATTEMPTS
from tests.unit.engine_harness import (
    BOB,
    CAROL,
    MENU,
    Hotline,
    HotlineFactory,
    PlacedCall,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
)


def sent_to_fallback(line: Hotline, call: PlacedCall) -> None:
    """The caller was handed back to the dialplan's fallback, not hung up on."""
    (request,) = line.fake.requested("POST", f"/channels/{call.channel_id}/continue")
    assert request.params == {"context": FALLBACK_CONTEXT, "extension": "s", "priority": "1"}
    caller = line.fake.channels[call.channel_id]
    assert caller.continued_to == (FALLBACK_CONTEXT, "s", 1) and not caller.in_stasis
    assert not line.fake.requested("DELETE", f"/channels/{call.channel_id}")


async def test_a_bridge_that_cannot_be_made_sends_the_caller_to_the_fallback(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.fail_next("POST", "/bridges/*", status=500)
    call = await line.call(keys="2")
    ended = await line.finished(call)

    sent_to_fallback(line, call)
    assert ended.record.outcome == CallOutcome.FAILED
    assert ended.first(J.ERROR) == {"error": "AriUnavailable"}  # Asterisk answered 500
    assert ended.in_order(J.AGENT_OFFER, J.ERROR, J.HANGUP)
    assert J.AGENT_ANSWER not in [e.type for e in ended.events]
    (leg,) = line.legs(call)
    assert line.fake.requested("DELETE", f"/channels/{leg}")  # carol is not left on the line
    assert ended.recordings == [] and ended.survey is None
    line.assert_clean(channels_left=[call.channel_id])


@pytest.mark.parametrize(("method", "path", "status", "error"), [
    ("POST", "/channels/*/answer", 500, "AriUnavailable"),
    ("POST", "/channels/*/answer", None, "AriUnavailable"),
    ("POST", "/channels/*/answer", 409, "AriConflict"),
    ("POST", "/channels/*/play/*", 500, "AriUnavailable"),
    ("POST", "/channels/*/play/*", 400, "AriBadRequest"),
])
async def test_an_ari_error_in_the_ivr_sends_the_caller_to_the_fallback(
        hotline: HotlineFactory, method: str, path: str, status: int | None,
        error: str) -> None:
    line = await hotline()
    line.fake.fail_next(method, path, status=status)
    call = await line.call()
    ended = await line.finished(call)

    sent_to_fallback(line, call)
    assert ended.record.outcome == CallOutcome.FAILED
    assert ended.first(J.ERROR) == {"error": error}
    assert ended.types[-2:] == ["error", "hangup"]
    line.assert_clean(channels_left=[call.channel_id])


async def test_music_on_hold_failing_does_not_end_the_call(hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, answer_after_s=0.05, talk_s=0.05)
    line.fake.fail_next("*", "/channels/*/moh", status=500, times=10)
    call = await line.call(keys="2")
    ended = await line.finished(call)

    assert "moh:default" not in line.said(call.channel_id)
    assert ended.record.outcome == CallOutcome.ANSWERED and J.ERROR not in [
        e.type for e in ended.events]
    line.assert_clean()


async def test_a_recording_that_fails_to_start_is_tried_again(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, talk_s=0.3)
    line.fake.fail_next("POST", "/bridges/*/record", status=None)  # Asterisk did not answer
    call = await line.call(keys="2")
    ended = await line.finished(call)

    states = [e.details["state"] for e in ended.events if e.type is J.RECORDING]
    assert states[:2] == ["start_retry", "started"]
    assert ended.first(J.RECORDING)["attempt"] == 1
    first, second = [r.params["name"] for r in line.fake.requested("POST", "/bridges/*/record")]
    assert first != second  # a new name: the first may have begun in Asterisk after all
    assert line.fake.requested("POST", f"/recordings/live/{first}/stop")  # and was ended
    assert len(ended.recordings) == 1
    line.assert_clean()


async def test_a_recording_that_cannot_start_does_not_end_the_call(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, talk_s=0.05)
    line.fake.fail_next("POST", "/bridges/*/record", status=500, times=START_ATTEMPTS)
    call = await line.call(keys="2")
    ended = await line.finished(call)

    states = [e.details["state"] for e in ended.events if e.type is J.RECORDING]
    assert states == ["start_retry"] * (START_ATTEMPTS - 1) + ["failed"]
    assert J.AGENT_HANGUP in [e.type for e in ended.events]
    assert ended.record.outcome == CallOutcome.ANSWERED and ended.recordings == []
    line.assert_clean()


async def test_an_agent_leg_that_cannot_be_dialled_is_a_failed_offer(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(BOB, talk_s=0.05)
    line.fake.fail_next("POST", "/channels", status=422)  # originate, once
    call = await line.call(keys="1")
    ended = await line.finished(call)

    assert ended.first(J.AGENT_NO_ANSWER) == {"agent": "alice", "reason": "failed"}
    assert ended.first(J.AGENT_ANSWER)["agent"] == "bob"
    assert len(line.legs(call)) == 1  # alice's leg never existed
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_stopping_the_engine_ends_waiting_calls_and_writes_their_records(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, answer_after_s=None)
    waiting = await line.call("+15550101", keys="3")  # nobody serves this queue
    ringing = await line.call("+15550102", keys="2")
    await line.journal_event(waiting, J.QUEUE_JOIN)
    await line.fake.wait_for(Dial, lambda e: e.dialstatus == "RINGING")
    assert line.engine.busy() and line.engine.count() == 2

    await line.engine.stop()

    assert not line.engine.busy() and line.engine.owned_subjects() == 0
    for call in (waiting, ringing):
        record = await line.db.calls.get(call.call_id)
        assert record is not None and record.ended_at is not None
        assert record.outcome == CallOutcome.ABANDONED_IN_QUEUE
        assert (await line.db.calls.events(call.call_id))[-1].type is J.HANGUP
    (leg,) = line.legs(ringing)
    assert line.fake.requested("DELETE", f"/channels/{leg}")  # carol stops ringing
    assert line.queues.snapshot().calls == ()
    # The callers themselves are left to Asterisk (the service is going away).
    assert sorted(line.fake.channels) == sorted([waiting.channel_id, ringing.channel_id])


async def test_reconciling_ends_calls_whose_caller_vanished_while_disconnected(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    kept = await line.call("+15550101")
    lost = await line.call("+15550102")
    await line.playing(MENU)
    line.fake.fail_next("GET", "/channels", status=None)
    await reconcile(line.fake.rest(), line.engine)  # Asterisk not answering: no harm
    assert line.engine.count() == 2

    del line.fake.channels[lost.channel_id]  # hung up while we were not listening
    await reconcile(line.fake.rest(), line.engine)
    ended = await line.finished(lost)

    assert ended.record.outcome == CallOutcome.ABANDONED_IN_IVR
    assert ended.record.hangup_cause == "Lost while disconnected"
    assert line.engine.count() == 1 and line.engine.journey(kept.call_id) is not None
    line.fake.hang_up(kept.channel_id)
    await line.finished(kept)
    line.assert_clean()


async def test_a_call_arriving_as_the_engine_stops_never_starts_its_script(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.on_event = None  # hold the StasisStart back, to hand it over ourselves
    channel_id = line.fake.call_in("+15550103")
    arrived = await line.fake.wait_for(StasisStart, lambda e: e.channel.id == channel_id)
    line.engine.dispatch(arrived)
    assert line.engine.count() == 1  # the session exists; its task has not run yet

    async with asyncio.timeout(5):  # inline: wait_for's own task would let the session start
        await line.engine.stop()  # at once, not after a whole call

    assert not line.engine.busy() and line.engine.owned_subjects() == 0
    (record,) = await line.db.calls.recent()
    assert record.channel_id == channel_id and record.ended_at is not None
    assert not line.fake.requested("POST", f"/channels/{channel_id}/answer")
