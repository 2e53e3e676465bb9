"""What each drill caller does: get into its place before the disruption, then carry on.

Before the disruption (by group):
- survey:  press 2 at the menu (billing: short talks), talk, the agent hangs up, the survey
           asks; the caller does not answer yet (the disruption comes during the question).
- talking: press 1 (claims: long talks); talking to an agent.
- queue:   press 1 (claims); every claims agent is busy, so the caller waits.
- ivr:     hears the menu and does not press anything yet.

After the disruption every caller reacts only to what the service says from then on: a menu
prompt that offers keys -> press 2 (billing); a survey question -> press 4; an agent answering
a caller who was waiting -> hang up 2 s later (the caller's own hangup, which frees the agent
for the next one in line). While the service drains (it goes on serving the same calls), a
caller in the menu or the survey answers at once what it is hearing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ari_app.devtools.restart_callers import DrillCaller, Journey, Seen

SURVEY, TALKING, QUEUE, IVR, ENDED = "survey", "talking", "queue", "ivr", "ended"
PHASES = (IVR, QUEUE, TALKING, SURVEY)
CLAIMS_KEY, BILLING_KEY = "1", "2"
RATING = "4"
HANG_UP_AFTER_ANSWER_S = 2.0
MENU = "main_menu"


def is_menu_prompt(seen: Seen) -> bool:
    """A main-menu prompt that takes keys (not the last 'let me connect you' line)."""
    return seen.matches("prompt", MENU) and "press" in str(seen.line.get("text", "")).lower()


def is_survey_question(seen: Seen) -> bool:
    return seen.matches("prompt", "survey")


def _is(kind: str) -> Callable[[Seen], bool]:
    return lambda seen: seen.type == kind


_WAYPOINTS: dict[str, tuple[Callable[[Seen], bool], ...]] = {
    QUEUE: (_is("queue_join"),),
    TALKING: (_is("agent_answer"),),
    SURVEY: (_is("agent_answer"), is_survey_question),
}


async def get_in_place(caller: DrillCaller) -> None:
    """Walk the caller to its place for the disruption, then set `caller.in_place`."""
    journey = caller.journey
    if caller.group == IVR:
        await journey.wait_seen(is_menu_prompt)
    else:
        await journey.wait_for(is_menu_prompt)
        await caller.press(BILLING_KEY if caller.group == SURVEY else CLAIMS_KEY)
        for waypoint in _WAYPOINTS[caller.group]:
            await journey.wait_for(waypoint)
    caller.in_place.set()


async def carry_on(caller: DrillCaller, phase: str, since: float, *,
                   answer_now: bool = False) -> None:
    """React to the service from `since` (the disruption) until the caller's leg ends.

    `answer_now`: the service keeps serving the call (draining), so a caller in the menu or
    the survey answers the prompt it is hearing instead of waiting for the next one."""
    journey = caller.journey
    journey.skip_before(since)
    if answer_now and phase in (IVR, SURVEY):
        await caller.press(BILLING_KEY if phase == IVR else RATING)
    while (seen := await journey.next()) is not None:
        if is_menu_prompt(seen) and not journey.seen("menu", MENU, since=since):
            await caller.press(BILLING_KEY)
        elif is_survey_question(seen) and not journey.seen("survey"):
            await caller.press(RATING)
        elif seen.type == "agent_answer" and phase == QUEUE and not caller.hung_up_by_caller:
            await asyncio.sleep(HANG_UP_AFTER_ANSWER_S)
            caller.hung_up_by_caller = True
            await caller.hang_up()


def phase_at(journey: Journey, moment: float, ended_at: float | None) -> str:
    """Where the caller was at `moment`, from the journey lines received before it."""
    if ended_at is not None and ended_at < moment:
        return ENDED
    phase = IVR
    for seen in journey.before(moment):
        phase = _next_phase(phase, seen)
    return phase


def _next_phase(phase: str, seen: Seen) -> str:
    kind = seen.type
    if kind in ("hangup", "survey"):  # a rating given: only the goodbye is left
        return ENDED
    if phase == ENDED:
        return ENDED
    if kind in ("queue_join", "transfer"):
        return QUEUE
    if kind == "agent_answer":
        return TALKING
    if kind == "agent_hangup" or is_survey_question(seen):
        return SURVEY  # the agent left: the survey is asked next
    return phase
