"""AMI device state keeps calls away from agent phones that are not there."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import HotlineFactory, agent, first

QUICK_AGENT = "Local/1*2@sim-agents"


async def test_an_unregistered_agent_phone_is_not_offered(hotline: HotlineFactory) -> None:
    # PJSIP/1001 exists in pjsip.conf but nothing registers it: its device is UNAVAILABLE.
    # Listed first and equally idle, ivan would be offered first if AMI were not consulted.
    agents = [agent("ivan", "PJSIP/1001"), agent("judy", QUICK_AGENT)]
    async with hotline(agents) as line:
        queues = line.service.queues
        assert queues is not None
        async with asyncio.timeout(10):
            # The routing actor has no change notification to await; poll its read model.
            while queues.snapshot().view("ivan").reachable:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        journey = await line.call("wait_for:prompt@main_menu press:1 wait_for:agent_answer "
                                  "hangup")
    offered = [line["agent"] for line in journey if line["type"] == "agent_offer"]
    assert offered == ["judy"]
    assert first(journey, "agent_answer")["agent"] == "judy"
