"""QA staff's workplace in a real browser, on recordings of real calls through the development
Asterisk: find a call by agent and survey score, play it from the middle (HTTP Range), pin a
comment, score it on a form with an N/A and an auto-fail item, release it; the auditor sees the
bytes served and the seconds played; each agent sees only their own released evaluations; bad
input is named, not saved."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, Request, expect

from kernel.http.auth import Role
from tests.browser.conftest import Person, SignIn
from tests.e2e.conftest import HotlineFactory, agent

ALICE_PHONE = "Local/1*8@sim-agents"  # rings 1 s, talks 8 s: a recording worth seeking in
BOB_PHONE = "Local/1*4@sim-agents"
SURVEYED = "wait_for:prompt@main_menu press:{key} wait_for:prompt@survey press:{score}"


async def test_qa_finds_plays_comments_scores_and_the_audit_and_agents_see_it(
        hotline: HotlineFactory, sign_in: SignIn) -> None:
    agents = [agent("alice", ALICE_PHONE, ["claims"]), agent("bob", BOB_PHONE, ["billing"])]
    async with hotline(agents) as line:
        await asyncio.gather(
            line.call(SURVEYED.format(key=1, score=5), caller="+15550101"),
            line.call(SURVEYED.format(key=2, score=2), caller="+15550102"))
        await line.settle()

        qa = await sign_in(line, "quinn", Role.QA, first="/qa/forms")
        await make_form_weights_named_until_they_add_up(qa)
        await search_names_a_backwards_range(qa)
        recording_id = await find_alices_call(qa)
        ranges, middle = await play_from_the_middle(qa.page)
        await comment_and_score(qa)
        await refuse_a_comment_past_the_end(qa, recording_id)

        # A second reviewer scores the same call (not released): calibration shows the spread.
        rhea = await sign_in(line, "rhea", Role.QA, first=f"/qa/recordings/{recording_id}")
        await score(rhea.page, {"greeting": "1", "identity": "1", "solution": "4",
                                "no_card_numbers": "1"})
        await expect(rhea.page.locator("#evaluations .evaluation", has_text="by rhea")
                     ).to_contain_text("100 · passed")
        await qa.page.reload()
        await expect(qa.page.locator(".calibration")).to_contain_text("2 reviewers, scores 0–100")
        await qa.screenshot("player-calibration")

        auditor = await sign_in(line, "audrey", Role.AUDITOR, first="/audit/listens")
        served = auditor.page.locator("#listens tbody tr", has_text=recording_id)
        await expect(served.filter(has_text="quinn").first).to_be_visible()
        assert any(r.startswith("bytes=") for r in ranges), ranges
        heard = auditor.page.locator("#plays tbody tr", has_text=recording_id)
        await expect(heard.filter(has_text="quinn")).to_have_count(1)
        start, end = stretch(await heard.locator("td.seconds").inner_text())
        assert middle - 0.3 <= start < middle + 0.3 < end, (start, end, middle)
        await auditor.screenshot("listen-audit")

        alice = await sign_in(line, "alice", Role.AGENT, first="/qa/evaluations",
                              agent_id="alice")
        cards = alice.page.locator(".evaluation")
        await expect(cards).to_have_count(1)
        await expect(cards.first).to_contain_text("agent alice")
        await expect(cards.first).to_contain_text("auto-fail")
        await alice.screenshot("agent-evaluations")

        bob = await sign_in(line, "bob", Role.AGENT, first="/qa/evaluations", agent_id="bob")
        await expect(bob.page.locator(".empty")).to_contain_text("No evaluation")
        await expect(bob.page.locator(".evaluation")).to_have_count(0)
        await bob.open(f"/qa/recordings/{recording_id}")  # alice's call: not bob's to hear
        await expect(bob.page.locator("#problem .error")).to_contain_text("path.recording_id")

        await qa.open("/qa/recordings/forged-0000")
        await expect(qa.page.locator("#problem .error")).to_contain_text("path.recording_id")


async def make_form_weights_named_until_they_add_up(qa: Person) -> None:
    page = qa.page
    await page.fill("input[name=form_id]", "phone-basics")
    await page.fill("input[name=name]", "Phone basics")
    await page.fill("input[name=passing_score]", "70")
    rows = page.locator("#criteria tr")
    for criterion, text, weight, points, na, auto_fail in (
            ("greeting", "Greets the caller and gives their name", "20", "1", False, False),
            ("identity", "Checks the caller's identity", "30", "1", True, False),
            ("solution", "Solves the problem", "40", "4", False, False),
            ("no_card_numbers", "Never reads card numbers aloud", "0", "1", False, True)):
        if await rows.count() < 4 and criterion != "greeting":
            await page.click("#add-row")
        row = rows.nth(["greeting", "identity", "solution", "no_card_numbers"].index(criterion))
        await row.locator("input[name=criterion_id]").fill(criterion)
        await row.locator("input[name=text]").fill(text)
        await row.locator("input[name=weight]").fill(weight)
        await row.locator("input[name=max_points]").fill(points)
        await row.locator("input[name=allow_na]").set_checked(na)
        await row.locator("input[name=auto_fail]").set_checked(auto_fail)
    await page.click("#editor button[type=submit]")
    await expect(page.locator("#problem .error")).to_contain_text("body.criteria")
    await expect(page.locator("#problem .error")).to_contain_text("90")
    await expect(page.locator("#forms .empty")).to_be_visible()  # nothing half saved
    await rows.nth(2).locator("input[name=weight]").fill("50")
    await page.click("#editor button[type=submit]")
    await expect(page.locator("#saved")).to_contain_text("phone-basics version 1")
    await expect(page.locator("#forms")).to_contain_text("Phone basics")
    await qa.screenshot("scorecard-forms")


async def search_names_a_backwards_range(qa: Person) -> None:
    page = qa.page
    await qa.open("/qa/recordings")
    await page.fill("input[name=from]", "2026-12-07T12:00:00")
    await page.fill("input[name=to]", "2026-12-07T11:00:00")
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#problem .error")).to_contain_text("query.to")
    await page.click("#filters button[type=reset]")
    await expect(page.locator("#results tbody tr[data-recording-id]")).to_have_count(2)


async def find_alices_call(qa: Person) -> str:
    page = qa.page
    await page.fill("input[name=agent_id]", "alice")
    await page.select_option("select[name=min_score]", "5")
    await page.select_option("select[name=max_score]", "5")
    await page.click("#filters button[type=submit]")
    found = page.locator("#results tbody tr[data-recording-id]")
    await expect(found).to_have_count(1)
    await expect(found.first).to_contain_text("alice")
    await expect(found.first).to_contain_text("claims")
    assert "agent_id=alice" in page.url and "min_score=5" in page.url  # a search one can share
    await qa.screenshot("recording-search")
    recording_id = await found.first.get_attribute("data-recording-id")
    assert recording_id
    await found.first.locator("a").click()
    await page.wait_for_url(f"**/qa/recordings/{recording_id}")
    return recording_id


async def play_from_the_middle(page: Page) -> tuple[list[str], float]:
    """Clicks the middle of the waveform, plays past it, pauses; returns the Range headers the
    audio requests sent and the middle's time."""
    ranges: list[str] = []

    def seen(request: Request) -> None:
        if request.url.endswith("/audio"):
            ranges.append(request.headers.get("range", ""))

    page.on("request", seen)
    await expect(page.locator("#facts")).to_contain_text("alice")
    await page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    duration = await page.evaluate("document.getElementById('audio').duration")
    assert duration > 6, duration  # the 8 s talk, recorded from the agent's answer
    box = await page.locator("#waveform").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    middle = duration / 2
    await page.wait_for_function(  # a function, not a string to eval: the page's CSP has none
        "past => { const a = document.getElementById('audio');"
        " return !a.paused && a.currentTime > past; }", arg=middle + 0.5, timeout=15_000)
    await page.evaluate("document.getElementById('audio').pause()")
    assert ranges and all(r.startswith("bytes=") for r in ranges), ranges
    return ranges, middle


def stretch(text: str) -> tuple[float, float]:
    """'0:04.2 – 0:05.0' as seconds."""
    match = re.fullmatch(r"(\d+):(\d\d\.\d) – (\d+):(\d\d\.\d)", text)
    assert match, text
    m1, s1, m2, s2 = match.groups()
    return int(m1) * 60 + float(s1), int(m2) * 60 + float(s2)


async def comment_and_score(qa: Person) -> None:
    page = qa.page
    at = await page.evaluate("document.getElementById('audio').currentTime")
    await page.fill("#comment-form textarea[name=text]", "Good recovery after the hold")
    await page.click("#comment-form button[type=submit]")
    comment = page.locator("#comments li", has_text="Good recovery after the hold")
    await expect(comment).to_be_visible()
    shown = await comment.locator("button").inner_text()
    minutes, seconds = shown.split(":")
    assert abs(int(minutes) * 60 + float(seconds) - at) < 0.11, (shown, at)

    await score(page, {"greeting": "1", "identity": "na", "solution": "3",
                       "no_card_numbers": "0"})  # the card rule broken: auto-fail
    evaluation = page.locator("#evaluations .evaluation").first
    await expect(evaluation).to_contain_text("0 · auto-fail")
    await expect(evaluation).to_contain_text("identity: N/A")
    await expect(evaluation).to_contain_text("submitted")
    await qa.screenshot("player-scored")
    await evaluation.get_by_role("button", name="Release to the agent").click()
    await expect(page.locator("#evaluations .evaluation").first).to_contain_text("released")


async def score(page: Page, answers: dict[str, str]) -> None:
    card = page.locator("#scorecard")
    for criterion, points in answers.items():
        await card.locator(f"select[name={criterion}]").select_option(points)
    await card.locator("button[type=submit]").click()


async def refuse_a_comment_past_the_end(qa: Person, recording_id: str) -> None:
    page = qa.page
    session = await (await page.request.get(qa.base + "/v1/session")).json()
    reply = await page.request.post(
        f"{qa.base}/v1/recordings/{recording_id}/comments",
        data={"at_s": 3600, "text": "past the end"},
        headers={session["csrf_header"]: session["csrf_token"]})
    assert reply.status == 400
    assert [p["field"] for p in (await reply.json())["problems"]] == ["body.at_s"]
    comments = await (await page.request.get(
        f"{qa.base}/v1/recordings/{recording_id}/comments")).json()
    assert [c["text"] for c in comments] == ["Good recovery after the hold"]
