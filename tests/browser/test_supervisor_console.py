"""The supervisors' console in a real browser, on a real call through the development Asterisk:
the waiting call appears on the wallboard within 2 s; a tier plan is changed in the rules page,
its linter error shown at the field, fixed, its difference viewed and applied, and the waiting
call is routed by the new plan (the wallboard shows the agent on it); the change is rolled back
from the version list; a wallboard whose feed stops says it is stale."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from playwright.async_api import Page, Route, expect

from kernel.http.auth import Role
from tests.browser.conftest import Person, SignIn
from tests.e2e.conftest import AUDITOR_TOKEN, Hotline, HotlineFactory, agent, first

# rings 1 s, answers, 15 s of silence, talks 3 s: long enough to listen in and barge
SPECIALIST = "Local/hears*{tag}@sim-agents"
SUPERVISOR_PHONE = "Local/supervisor*{tag}@sim-agents"  # answers at once, talks until hung up
WAITS_FOR_AN_AGENT = ("wait_for:prompt@main_menu press:1 wait_for:agent_answer "
                      "wait_for:prompt@survey press:4")
FRONT_LINE_ONLY = [{"name": "front line", "after_s": 0, "tiers": [1]}]


async def test_wallboard_rule_change_reroutes_the_waiting_call_and_rolls_back(
        hotline: HotlineFactory, sign_in: SignIn) -> None:
    tag = str(uuid.uuid4().int)[:10]  # digits: the sim-agents patterns read X as a digit
    async with hotline([agent("vera", SPECIALIST.format(tag=tag), ["claims"])]) as line:
        await line.api("PATCH", "/v1/routing/agents/vera", {"tier": 2})  # version 1
        await line.api("PUT", "/v1/routing/queues/claims/plan", FRONT_LINE_ONLY)  # version 2
        sam = await sign_in(line, "sam", Role.SUPERVISOR, first="/supervisor/wallboard")
        wall = sam.page
        await expect(wall.locator("#live")).to_have_attribute("data-state", "fresh")
        claims = wall.locator(".queue[data-queue=claims]")
        await expect(claims.locator("[data-figure=waiting]")).to_have_text("0")

        call = asyncio.create_task(line.call(WAITS_FOR_AN_AGENT, caller="+15550131",
                                             timeout_s=180))
        await waiting_in(line, "claims")  # the service holds the call in the queue
        await expect(claims.locator("[data-figure=waiting]")).to_have_text("1", timeout=2000)
        await expect(wall.locator("#agents tr[data-agent=vera]")).to_contain_text("Idle")
        await sam.screenshot("wallboard-waiting")

        rules = await second_page(sam, "/supervisor/rules")
        await expect(rules.locator("#version")).to_have_text("2")
        await add_a_step_the_linter_refuses_then_fix_it(sam, rules)
        await expect(rules.locator("#diff .line.add", has_text='"specialists"')).to_be_visible()
        await sam.screenshot("rules-diff", rules)
        await rules.click("#apply")
        await expect(rules.locator("#applied")).to_contain_text("Version 3 is in force")

        vera = wall.locator("#agents tr[data-agent=vera]")
        await expect(vera).to_contain_text("On call", timeout=15_000)  # the call, re-routed
        await expect(claims.locator("[data-figure=waiting]")).to_have_text("0")
        await listen_then_barge_then_stop(sam, SUPERVISOR_PHONE.format(tag=tag))
        journey = await call
        assert first(journey, "agent_answer")["agent"] == "vera"
        await line.settle()

        audit = await line.api("GET", "/v1/audit/monitors", token=AUDITOR_TOKEN)
        modes = [m["mode"] for m in audit[0]["modes"]]
        assert (audit[0]["actor"], audit[0]["agent_id"], modes) == ("sam", "vera",
                                                                     ["listen", "barge"])
        assert audit[0]["ended_at"] is not None

        await roll_back_to(rules, 2)
        plan = await line.api("GET", "/v1/routing/queues/claims/plan")
        assert [(s["name"], s["tiers"]) for s in plan] == [("front line", [1])]
        restored = await line.api("GET", "/v1/routing/versions?limit=1")
        assert (restored["items"][0]["version"], restored["items"][0]["restored_from"]) == (4, 2)
        await sam.screenshot("rules-rolled-back", rules)

        await a_feed_that_stops_is_marked_stale(sam)


async def listen_then_barge_then_stop(sam: Person, phone: str) -> None:
    wall = sam.page
    await wall.fill("#monitor-phone", phone)
    await wall.locator("#agents tr[data-agent=vera]").get_by_role("button", name="Listen").click()
    box = wall.locator("#monitoring")
    await expect(box).to_be_visible()
    await expect(box.locator("#monitor-what")).to_contain_text("listen on vera's call")
    await box.get_by_role("button", name="Barge in").click()
    await expect(box.locator("#monitor-what")).to_contain_text("barge on vera's call")
    await sam.screenshot("wallboard-monitoring")
    await box.get_by_role("button", name="Stop").click()
    await expect(box).to_be_hidden()


async def waiting_in(line: Hotline, queue: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        queues = await line.api("GET", "/v1/queues")
        if any(w["queue_id"] == queue for w in queues["waiting"]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no call waited in {queue} within {timeout_s} s")


async def second_page(person: Person, path: str) -> Page:
    page = await person.page.context.new_page()
    await page.goto(person.base + path)
    await page.wait_for_selector("header.shell .who")
    return page


async def add_a_step_the_linter_refuses_then_fix_it(sam: Person, rules: Page) -> None:
    steps = rules.locator("#plan-steps tbody tr")
    await expect(steps).to_have_count(1)
    await rules.click("#add-step")
    second = steps.nth(1)
    await second.locator("input[name=name]").fill("specialists")
    await second.locator("input[name=after_s]").fill("0")  # not after 'front line' at 0 s
    await second.locator("input[name=tiers]").fill("1, 2")
    await rules.click("#check-plan")
    refused = rules.locator('.field-problem[data-field="body[1].after_s"]')
    await expect(refused).to_contain_text("unreachable")
    await expect(second.locator("input[name=after_s]")).to_have_attribute("aria-invalid", "true")
    await expect(rules.locator("#apply")).to_be_disabled()
    await sam.screenshot("rules-linter-error", rules)
    await second.locator("input[name=after_s]").fill("5")
    await rules.click("#check-plan")
    await expect(refused).to_have_count(0)
    await expect(rules.locator("#apply")).to_be_enabled()


async def roll_back_to(rules: Page, version: int) -> None:
    await rules.locator(f"#versions tr[data-version='{version}'] button.restore").click()
    await expect(rules.locator("#staged-what")).to_contain_text(f"restoring version {version}")
    await expect(rules.locator("#diff .line.del", has_text='"specialists"')).to_be_visible()
    await rules.click("#apply")
    await expect(rules.locator("#applied")).to_contain_text("Version 4 is in force")
    await expect(rules.locator("#versions tr[data-version='4']")).to_contain_text("in force")


async def a_feed_that_stops_is_marked_stale(sam: Person) -> None:
    """A stream that sends one frame and then nothing (its retry put far off): the board must
    say it is stale, not keep looking live."""
    page = await sam.page.context.new_page()
    frame = await page.request.get(sam.base + "/v1/wallboard")
    board = await frame.json()

    async def one_frame_then_silence(route: Route) -> None:
        body = f"retry: 600000\n\nid: 1\nevent: board\ndata: {json.dumps(board)}\n\n"
        await route.fulfill(status=200, headers={"Content-Type": "text/event-stream"},
                            body=body)

    await page.route("**/v1/wallboard/stream", one_frame_then_silence)
    await page.goto(sam.base + "/supervisor/wallboard")
    live = page.locator("#live")
    await expect(live).to_have_attribute("data-state", "fresh")
    await expect(live).to_have_attribute("data-state", "stale", timeout=6000)
    await expect(live).to_contain_text("stale")
    await sam.screenshot("wallboard-stale", page)
