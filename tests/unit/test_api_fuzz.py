"""schemathesis against the whole OpenAPI document: no request makes a server error (5xx).

The service's whole app (`whole_app`: SQLite, an in-memory LiveCalls, a real QueueService) is
served on 127.0.0.1 from its own thread and event loop, and schemathesis generates requests for
every operation of the document the app serves: data that fits the schema (positive) and data
that does not (negative), with a supervisor's token and without one. Examples per operation are
bounded and the seed fixed (`derandomize`), so a run takes the same time and finds the same
thing every time. What it tried is printed, and raised as a `FuzzFigures` warning too: the one
channel pytest-xdist carries from its workers to the terminal.
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from ari_app.db.database import open_database
from kernel.http.auth import Role
from routing.api.app import OPENAPI_PATH
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_calls_api import auth

# Examples per operation and generation mode, for each credential. Without credentials nearly
# every request stops at the 401, so fewer of them find as much.
CREDENTIALS = {"supervisor": (auth(Role.SUPERVISOR), 12), "anonymous": ({}, 5)}


class FuzzFigures(UserWarning):
    """How many requests the fuzzer sent, and how long it took."""


@dataclass
class Served:
    base_url: str
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The whole app on 127.0.0.1, in a thread of its own (schemathesis's client blocks)."""
    started: dict[str, Any] = {}
    ready = threading.Event()
    stop = threading.Event()

    async def serve() -> None:
        db = await open_database("sqlite+aiosqlite:///" + str(tmp_path / "fuzz.db"))
        app = whole_app(db)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        started["port"] = runner.addresses[0][1]
        ready.set()
        try:
            await asyncio.to_thread(stop.wait)
        finally:
            await runner.cleanup()
            await db.close()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # shown by the test below
            started["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="fuzzed-app", daemon=True)
    thread.start()
    assert ready.wait(30), "the app did not start"
    if "error" in started:
        raise started["error"]
    try:
        yield Served(f"http://127.0.0.1:{started['port']}", stop)
    finally:
        stop.set()
        thread.join(10)


@dataclass
class Tally:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], examples: int,
         base_url: str, session: requests.Session, tally: Tally) -> None:  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def one(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        tally.cases += 1
        tally.by_status[response.status_code] = tally.by_status.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{response.status_code} {case.method} {case.formatted_path}"
                                       f" {response.text[:200]}\n  {case.as_curl_command()}")

    try:
        one()
    except Unsatisfiable:  # negative mode, on an operation with nothing to get wrong
        if mode is GenerationMode.POSITIVE:
            raise


@pytest.mark.long
def test_no_generated_request_makes_a_server_error(served: Served) -> None:
    schema = schemathesis.openapi.from_url(served.base_url + OPENAPI_PATH)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally, began = Tally(), time.monotonic()
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for headers, examples in CREDENTIALS.values():
                    fuzz(operation, mode, headers, examples, served.base_url, session, tally)
    took = time.monotonic() - began
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.by_status.items()))
    per = ", ".join(f"{name} {n}" for name, (_, n) in CREDENTIALS.items())
    figures = (f"schemathesis tried {tally.cases} cases on {len(operations)} operations "
               f"(per operation and mode, positive and negative: {per}) in {took:.1f} s; "
               f"statuses {statuses}")  # fmt: skip
    print(figures)
    warnings.warn(FuzzFigures(figures), stacklevel=1)
    assert len(operations) >= 40
    assert tally.server_errors == [], "\n".join(tally.server_errors)
