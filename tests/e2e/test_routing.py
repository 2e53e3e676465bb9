"""Skill and tier routing through the real Asterisk, with rules changed over the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.e2e.conftest import AGENT_TOKEN, Hotline, HotlineFactory, Line, agent, first, types

QUICK = "Local/1*2@sim-agents"  # rings 1 s, talks 2 s
TALKS = "Local/1*20@sim-agents"
NEVER = "Local/never@sim-agents"
KEYPAD_ESCALATES = "Local/escalate@sim-agents"  # answers, then presses *2
CLAIMS = "wait_for:prompt@main_menu press:1 "
GENERAL = "wait_for:prompt@main_menu press:0 "


def _dt(journey: list[Line], later: Line, earlier: Line) -> float:
    return float(later["t"]) - float(earlier["t"])  # type: ignore[arg-type]


async def _plan(line: Hotline, queue: str, steps: list[dict[str, object]]) -> int:
    answer = await line.api("PUT", f"/v1/routing/queues/{queue}/plan", steps)
    return int(answer["version"])


async def test_tier_two_is_offered_only_once_the_plan_opens_it(hotline: HotlineFactory) -> None:
    async with hotline([agent("tina", QUICK), agent("uma", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/uma", {"tier": 2})
        await line.api("POST", "/v1/routing/agents/tina/logout", {"reason": "lunch"})
        await _plan(line, "claims", [{"name": "front", "after_s": 0, "tiers": [1]},
                                     {"name": "specialists", "after_s": 3, "tiers": [1, 2]}])
        journey = await line.call(CLAIMS + "wait_for:agent_answer hangup")
    joined, offer = first(journey, "queue_join"), first(journey, "agent_offer")
    assert offer["agent"] == "uma"
    assert _dt(journey, offer, joined) >= 3.0  # not before tier 2 opens
    assert _dt(journey, offer, joined) < 4.5
    opened = first(journey, "routing", kind="step_opened", step="specialists")
    assert _dt(journey, opened, joined) >= 3.0


async def test_an_idle_tier_one_agent_beats_an_idle_tier_two_agent(
        hotline: HotlineFactory) -> None:
    # wendy is first in configuration order (the tie-break), vic is tier 1: vic must win.
    async with hotline([agent("wendy", QUICK), agent("vic", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/wendy", {"tier": 2})
        await _plan(line, "claims", [{"name": "all", "after_s": 0, "tiers": [1, 2]}])
        journey = await line.call(CLAIMS + "wait_for:agent_answer hangup")
    assert [x["agent"] for x in journey if x["type"] == "agent_offer"] == ["vic"]


class Stamps:
    """When (event-loop time) each caller's journey reached each event type."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], float] = {}
        self.changed = asyncio.Event()

    def follow(self, caller: str) -> Callable[[Line], None]:
        def seen(item: Line) -> None:
            kind = f':{item["kind"]}' if item["type"] == "routing" else ""  # routing:overflow
            self.at.setdefault((caller, f'{item["type"]}{kind}'), asyncio.get_running_loop().time())
            self.changed.set()
        return seen

    async def wait(self, *keys: tuple[str, str]) -> None:
        async with asyncio.timeout(30):
            while not all(k in self.at for k in keys):
                self.changed.clear()
                await self.changed.wait()


async def test_a_vip_is_answered_before_an_earlier_normal_caller(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("ann", QUICK)]) as line:
        await line.api("POST", "/v1/routing/vips", {"caller_number": "+15550999", "priority": 10})
        await line.api("POST", "/v1/routing/agents/ann/pause", {"reason": "briefing"})
        stamps = Stamps()
        script = CLAIMS + "wait_for:agent_answer wait:0.5 hangup"
        normal = asyncio.create_task(line.call(script, caller="+15550100",
                                               on_line=stamps.follow("normal")))
        await stamps.wait(("normal", "queue_join"))
        vip = asyncio.create_task(line.call(script, caller="+15550999",
                                            on_line=stamps.follow("vip")))
        await stamps.wait(("vip", "queue_join"))
        await line.api("POST", "/v1/routing/agents/ann/resume")
        await asyncio.gather(normal, vip)
    assert stamps.at["normal", "queue_join"] < stamps.at["vip", "queue_join"]
    assert stamps.at["vip", "agent_answer"] < stamps.at["normal", "agent_answer"]


async def test_a_dedicated_agent_is_offered_first_then_the_others(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("xena", NEVER), agent("yuri", QUICK)]) as line:
        await line.api("POST", "/v1/routing/vips", {
            "caller_number": "+15550777", "priority": 5, "dedicated_agent": "xena",
            "dedicated_wait_s": 5})
        journey = await line.call(CLAIMS + "wait_for:agent_answer hangup", caller="+15550777")
    offers = [x for x in journey if x["type"] == "agent_offer"]
    assert offers[0]["agent"] == "xena"
    yuri = first(journey, "agent_offer", agent="yuri")
    assert _dt(journey, yuri, first(journey, "queue_join")) >= 5.0
    assert first(journey, "agent_answer")["agent"] == "yuri"


async def test_no_answer_tries_the_next_agent_and_pauses_after_n_misses(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("zed", NEVER), agent("amy", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/zed", {"max_no_answer": 2})
        first_call = await line.call(CLAIMS + "wait_for:agent_answer hangup")
        await line.settle()
        await asyncio.sleep(1.5)  # amy's wrap-up
        second_call = await line.call(CLAIMS + "wait_for:agent_answer hangup")
        assert line.service.queues is not None
        zed = line.service.queues.snapshot().view("zed")
    for journey in (first_call, second_call):
        assert [x["agent"] for x in journey if x["type"] == "agent_offer"][:2] == ["zed", "amy"]
        assert first(journey, "agent_no_answer")["agent"] == "zed"
    paused = first(second_call, "routing", kind="agent_auto_paused")
    assert (paused["agent"], paused["misses"]) == ("zed", 2)
    assert str(zed.status) == "paused" and zed.pause_reason == "no_answer"


async def test_max_wait_overflows_to_another_queue_keeping_the_callers_age(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("bea", QUICK, ["general"])]) as line:
        await line.api("PATCH", "/v1/routing/queues/claims", {
            "max_wait_s": 8, "exit": {"kind": "overflow", "target_queue": "general"}})
        await line.api("POST", "/v1/routing/agents/bea/pause", {"reason": "briefing"})
        stamps = Stamps()
        script = "wait_for:agent_answer wait:0.5 hangup"
        older = asyncio.create_task(line.call(CLAIMS + script, caller="+15550101",
                                              on_line=stamps.follow("older")))
        await stamps.wait(("older", "queue_join"))
        younger = asyncio.create_task(line.call(GENERAL + script, caller="+15550102",
                                                on_line=stamps.follow("younger")))
        await stamps.wait(("younger", "queue_join"), ("older", "routing:overflow"))
        await line.api("POST", "/v1/routing/agents/bea/resume")
        older_journey, _ = await asyncio.gather(older, younger)
    overflow = first(older_journey, "routing", kind="overflow")
    assert (overflow["from_queue"], overflow["queue"]) == ("claims", "general")
    # The younger caller was in general first, but the overflowed caller kept its age.
    assert stamps.at["younger", "queue_join"] < stamps.at["older", "routing:overflow"]
    assert stamps.at["older", "agent_answer"] < stamps.at["younger", "agent_answer"]


async def test_an_agent_escalates_to_tier_two_and_the_context_follows(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("cara", TALKS), agent("dan", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/dan", {"tier": 2})
        await _plan(line, "claims", [{"name": "all", "after_s": 0, "tiers": [1, 2]}])
        call_id: list[str] = []

        def on_answer(item: Line) -> None:
            if item["type"] == "agent_answer" and item["agent"] == "cara":
                call_id.append(str(item["call_id"]))

        call = asyncio.create_task(line.call(
            CLAIMS + "wait_for:agent_answer wait_for:agent_answer hangup", on_line=on_answer))
        async with asyncio.timeout(30):
            while not call_id:  # noqa: ASYNC110 - waiting for cara to be on the call
                await asyncio.sleep(0.05)
        await line.api("POST", f"/v1/calls/{call_id[0]}/transfer",
                       {"min_tier": 2, "notes": "policy 123 lapsed, wants reinstatement"},
                       token=AGENT_TOKEN, expect=202)
        journey = await call
    transfer = first(journey, "transfer")
    assert (transfer["agent"], transfer["min_tier"]) == ("cara", 2)
    answers = [x for x in journey if x["type"] == "agent_answer"]
    assert [a["agent"] for a in answers] == ["cara", "dan"]
    handoff = answers[1]["handoff"]
    assert isinstance(handoff, dict)
    assert handoff["previous_agents"] == ["cara"]
    assert handoff["notes"][0]["notes"] == "policy 123 lapsed, wants reinstatement"
    assert "main_menu=1" in handoff["menu_path"]


async def test_the_agent_keypad_feature_code_escalates(hotline: HotlineFactory) -> None:
    async with hotline([agent("eve", KEYPAD_ESCALATES), agent("finn", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/finn", {"tier": 2})
        await _plan(line, "claims", [{"name": "all", "after_s": 0, "tiers": [1, 2]}])
        journey = await line.call(CLAIMS + "wait_for:agent_answer wait_for:agent_answer hangup")
    transfer = first(journey, "transfer")
    assert (transfer["agent"], transfer["min_tier"], transfer["by"]) == ("eve", 2, "keypad")
    assert [x["agent"] for x in journey if x["type"] == "agent_answer"] == ["eve", "finn"]


async def test_a_rule_change_reaches_a_caller_already_waiting(hotline: HotlineFactory) -> None:
    async with hotline([agent("gus", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/agents/gus", {"tier": 2})
        await _plan(line, "claims", [{"name": "front", "after_s": 0, "tiers": [1]},
                                     {"name": "late", "after_s": 120}])
        waiting = asyncio.Event()
        offered_at: list[float] = []
        loop = asyncio.get_running_loop()

        def seen(item: Line) -> None:
            if item["type"] == "queue_join":
                waiting.set()
            if item["type"] == "agent_offer":
                offered_at.append(loop.time())

        call = asyncio.create_task(line.call(CLAIMS + "wait_for:agent_answer hangup",
                                             on_line=seen))
        async with asyncio.timeout(20):
            await waiting.wait()
        await asyncio.sleep(1.0)  # nobody can take the call under the old rules
        assert not offered_at
        version = await _plan(line, "claims", [{"name": "all", "after_s": 0, "tiers": [1, 2]}])
        changed_at = loop.time()
        journey = await call
    offer = first(journey, "agent_offer")
    assert offer["agent"] == "gus" and offer["config_version"] == version
    assert offered_at[0] - changed_at < 5.0  # long before the old plan's 120 s step


async def test_a_waiting_caller_hears_position_and_estimated_wait(
        hotline: HotlineFactory) -> None:
    async with hotline([agent("hal", QUICK)]) as line:
        await line.api("PATCH", "/v1/routing/queues/claims", {"announce_every_s": 2})
        await line.api("POST", "/v1/routing/agents/hal/pause", {"reason": "briefing"})
        stamps = Stamps()
        call = asyncio.create_task(line.call(CLAIMS + "wait_for:agent_answer hangup",
                                             on_line=stamps.follow("caller")))
        await stamps.wait(("caller", "queue_position"))
        await line.api("POST", "/v1/routing/agents/hal/resume")
        journey = await call
    position = first(journey, "queue_position")
    assert position["position"] == 1 and "eta_s" in position
    assert types(journey).index("queue_position") < types(journey).index("agent_answer")
