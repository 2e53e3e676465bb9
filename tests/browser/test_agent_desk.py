"""The agent's desk and what it feeds, in a real browser on a real call through the development
Asterisk: the screen pop shows the caller's IVR path when the call is offered; the agent gives a
disposition at wrap-up; the supervisor's KPI report counts it; and a what-if on the replayed
call predicts a lower service level for a stricter plan than for the plan in force."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from playwright.async_api import Page, expect

from kernel.http.auth import Role
from tests.browser.conftest import Person, SignIn
from tests.e2e.conftest import HotlineFactory, agent, first

QUICK = "Local/1*3@sim-agents"  # rings 1 s, talks 3 s
CLAIM_WITH_SURVEY = ("wait_for:prompt@main_menu press:1 wait_for:agent_answer "
                     "wait_for:prompt@survey press:5")


async def test_screen_pop_disposition_report_and_what_if(
        hotline: HotlineFactory, sign_in: SignIn) -> None:
    since = quote((datetime.now(UTC) - timedelta(hours=1)).isoformat())
    async with hotline([agent("alice", QUICK, ["claims"])]) as line:
        alice = await sign_in(line, "alice", Role.AGENT, first="/agent", agent_id="alice")
        desk = alice.page
        await expect(desk.locator("#live")).to_have_attribute("data-state", "fresh")
        await expect(desk.locator("#state")).to_have_attribute("data-status", "available")

        call = asyncio.create_task(line.call(CLAIM_WITH_SURVEY, caller="+15550141"))
        await expect(desk.locator("#pop")).to_be_visible(timeout=30_000)
        await expect(desk.locator('#pop-menu-path li[data-step="main_menu=1"]')).to_be_visible()
        await expect(desk.locator("#pop-number")).to_contain_text("+15550141")
        await expect(desk.locator("#pop-queue")).to_contain_text("claims")
        phase, wrapup_shown = await desk.evaluate(  # read together: no race with the call
            "() => [document.getElementById('call-phase').dataset.phase,"
            " document.getElementById('wrapup').checkVisibility()]")
        assert phase == "wrap-up" or not wrapup_shown, (phase, wrapup_shown)
        await alice.screenshot("agent-screen-pop")

        await expect(desk.locator("#call-phase")).to_have_attribute(
            "data-phase", "wrap-up", timeout=30_000)
        await desk.select_option("#disposition", "resolved")
        await desk.fill("#wrapup-notes", "explained where the claim stands")
        await desk.click("#wrapup-submit")
        await expect(desk.locator("#wrapup-result")).to_contain_text("Saved")
        await alice.screenshot("agent-wrapped-up")
        journey = await call
        assert first(journey, "agent_answer")["agent"] == "alice"
        await line.settle()

        sam = await sign_in(line, "sam", Role.SUPERVISOR,
                            first=f"/supervisor/reports?by=agent&from={since}")
        report = sam.page
        alices = report.locator('#report td[data-group="alice"]')
        await expect(alices.locator('[data-code="resolved"]')).to_have_text("resolved 1")
        await expect(alices.and_(report.locator('[data-kpi="answer_rate"]'))).to_have_text(
            "100.0 %")
        await expect(report.locator('#report th[data-kpi="sl_excl_short"]')).to_contain_text(
            "SL(20 s, excl. short ≤ 5 s)")
        assert await report.locator("#chart svg rect.bar").count() >= 1
        await sam.screenshot("kpi-report")

        await a_stricter_plan_predicts_a_lower_service_level(sam)


async def a_stricter_plan_predicts_a_lower_service_level(sam: Person) -> None:
    await sam.open("/supervisor/whatif?hours=2&queue=claims")
    page: Page = sam.page
    steps = page.locator("#plan tbody tr.step")
    await expect(steps).to_have_count(1)
    await steps.first.locator("[name=tiers]").fill("3")  # a tier nobody on the floor has
    await page.click("#run")
    await expect(page.locator("#whatif")).to_have_attribute("data-state", "done",
                                                            timeout=30_000)
    current = await page.locator("#current-sl").get_attribute("data-value")
    proposed = await page.locator("#proposed-sl").get_attribute("data-value")
    assert current and proposed, (current, proposed)
    assert float(proposed) < float(current), (proposed, current)
    await expect(page.locator("#chart svg#chart-sl")).to_be_visible()
    await sam.screenshot("what-if")
