"""The call engine at its edges, over FakeAsterisk: keys pressed before the first prompt, the
live journey stream, a database that is briefly down, an agent answering after routing let go
of the call, Stasis channels that are not calls."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ari_app.ari.events import ChannelDestroyed, Dial, StasisStart
from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.calls.store import CallStore
from ari_app.calls.waiting import NO_AGENT_PROMPT
from ari_app.channel_vars import ROLE_AGENT, ROLE_SIM_CALLER
from ari_app.db.database import Database
from ivr.journey import JourneyEvent
from ivr.journey import JourneyType as J
from kernel.db.errors import DatabaseUnavailable
from tests.unit.engine_harness import (
    CAROL,
    MENU,
    HotlineFactory,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
    routing,
)


async def test_keys_pressed_before_the_first_prompt_skip_the_menu(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, talk_s=0.05)
    call = await line.call(keys="2")
    ended = await line.finished(call)

    assert ended.first(J.MENU)["choice"] == "2"
    # The welcome is journaled as reached but never played, the menu not even reached: the
    # caller had answered it already.
    prompts = [e.details["node"] for e in ended.events if e.type is J.PROMPT]
    assert prompts[0] == "welcome" and "main_menu" not in prompts
    heard = line.fake.heard(call.channel_id)
    assert media_of("Welcome to the test line.") not in heard and media_of(MENU) not in heard
    assert line.said(call.channel_id)[0] == "moh:default"
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_journey_events_stream_live_to_subscribers(hotline: HotlineFactory) -> None:
    line = await hotline()
    with line.journal.subscribe() as live:
        call = await line.call(keys="9")  # straight to goodbye
        await line.finished(call)
    streamed: list[JourneyEvent] = []
    while not live.empty():
        streamed.append(live.get_nowait())
    assert [str(e.type) for e in streamed if e.call_id == call.call_id] == line.live_types(call)
    assert streamed[-1].type is J.HANGUP


class DownAtFirst(CallStore):
    """The calls store while the database is unreachable for the first `failures` writes."""

    def __init__(self, db: Database, failures: int) -> None:
        super().__init__(db.units)
        self.failures = failures

    async def start(self, record: CallRecord) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DatabaseUnavailable("database down (test)")
        await super().start(record)


async def test_a_database_outage_does_not_hold_up_the_caller(hotline: HotlineFactory) -> None:
    stores: list[DownAtFirst] = []

    def down_at_first(db: Database) -> CallStore:
        stores.append(DownAtFirst(db, failures=1))
        return stores[0]

    line = await hotline(call_store=down_at_first)
    call = await line.call(keys="9")
    ended = await line.finished(call)

    assert stores[0].failures == 0  # it was down once, and the write was retried
    assert ended.record.outcome == CallOutcome.ENDED_IN_IVR
    assert ended.types == line.live_types(call)
    line.assert_clean()


async def test_an_agent_answering_after_routing_let_go_is_hung_up(
        hotline: HotlineFactory) -> None:
    config = routing(billing={"ring_timeout_s": 30.0})
    line = await hotline(config)
    line.fake.agent_behaviour(CAROL, answer_after_s=None)
    call = await line.call(keys="2")
    await line.fake.wait_for(Dial, lambda e: e.dialstatus == "RINGING")
    (leg,) = line.legs(call)
    # A supervisor removes the billing queue while carol's phone rings.
    await line.queues.apply_config(replace(
        config, queues=tuple(q for q in config.queues if q.queue_id != "billing")))
    line.fake.agent_answers(leg)
    ended = await line.finished(call)

    assert line.fake.requested("DELETE", f"/channels/{leg}")
    assert line.logged("agent.answer_too_late")
    assert J.AGENT_ANSWER not in [e.type for e in ended.events]
    assert ended.first(J.QUEUE_LEAVE) == {"reason": "QueueRemoved"}
    assert line.said(call.channel_id)[-1] == NO_AGENT_PROMPT
    assert ended.record.outcome == CallOutcome.QUEUE_EXIT
    line.assert_clean()


async def test_stasis_channels_that_are_not_calls_start_nothing(hotline: HotlineFactory) -> None:
    line = await hotline()
    simulated = line.fake.call_in(args=(ROLE_SIM_CALLER,))
    orphan = line.fake.call_in(args=(ROLE_AGENT, "a-call-that-ended"))
    await line.fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == orphan)
    await line.fake.wait_for(StasisStart, lambda e: e.channel.id == simulated)
    await asyncio.wait_for(line.engine.wait_idle(), 5)

    assert line.fake.requested("DELETE", f"/channels/{orphan}")  # nobody to talk to
    assert line.logged("agent.orphan_leg")
    assert not line.fake.requested("DELETE", f"/channels/{simulated}")  # not ours at all
    assert line.engine.count() == 0 and line.journal.events == []
    line.assert_clean(channels_left=[simulated])
