"""``hotline demo``: the service and three scripted callers, in one process, then stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from ari_app.access.process_tokens import with_process_token
from ari_app.devtools.simulator import Endpoints, place_call
from ari_app.devtools.simulator_script import parse_script
from ari_app.service import HotlineService
from ari_app.settings import Settings
from ivr.flow import Flow

Line = dict[str, object]

DEMO_CALLS = (
    ("a: menu by keypad, agent, recording, survey 5",
     "wait_for:prompt@main_menu press:1 wait_for:agent_answer wait_for:prompt@survey press:5"),
    ("b: an invalid digit, a reprompt, then a valid choice",
     "wait_for:prompt@main_menu press:9 wait_for:no_match press:2 wait_for:agent_answer "
     "wait_for:prompt@survey press:4"),
    ("c: silence, escalating reprompts, then an agent",
     "wait_for:no_input wait_for:no_input wait_for:queue_join wait_for:agent_answer wait:2 "
     "hangup"),
)


@contextlib.asynccontextmanager
async def running(settings: Settings, flow: Flow) -> AsyncIterator[HotlineService]:
    """The service running in this process until the block ends; startup failures surface."""
    service = HotlineService(settings, flow)
    task = asyncio.create_task(service.run())
    ready = asyncio.create_task(service.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()
        raise RuntimeError("the service stopped during startup")
    try:
        yield service
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_demo(settings: Settings, flow: Flow, *, on_line: Callable[[Line], None]) -> int:
    settings, token = with_process_token(settings, "demo")
    async with running(settings, flow) as service:
        ast = settings.asterisk
        endpoints = Endpoints(ast.ari_url, ast.ari_user, ast.ari_password,
                              f"http://{settings.http.host}:{service.http_port}", ast.app,
                              token=token)
        for title, script in DEMO_CALLS:
            on_line({"journey": title, "script": script})
            await place_call(endpoints, parse_script(script), on_line=on_line)
            await service.wait_idle()  # after-call work (recording storage) finishes first
    return 0
