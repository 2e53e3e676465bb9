"""End-to-end fixtures: the real development Asterisk, the service in this process, real calls."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from ari_app.__main__ import load_all
from ari_app.ari.errors import AriError
from ari_app.ari.rest import AriRest
from ari_app.channel_vars import CORRELATION_ID_VAR
from ari_app.devtools.demo import running
from ari_app.devtools.simulator import Endpoints, place_call
from ari_app.devtools.simulator_script import parse_script
from ari_app.service import HotlineService
from ari_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ARI_URL = os.environ.get("HOTLINE_ARI_URL", "http://127.0.0.1:8088/ari")
ARI_USER = os.environ.get("HOTLINE_ARI_USER", "hotline")
ARI_PASSWORD = os.environ.get("HOTLINE_ARI_PASSWORD", "hotline")
ROOTFS = Path(os.environ.get("HOTLINE_ASTERISK_ROOT",
                             Path.home() / ".cache/hotline/asterisk-rootfs"))

Line = dict[str, object]
SUPERVISOR_TOKEN = "test-supervisor-token-0001"
AGENT_TOKEN = "test-agent-token-00000001"
AUDITOR_TOKEN = "test-auditor-token-000001"  # reads the audits (test_call_monitoring.py)

DEFAULT_QUEUES = [
    {"id": "claims", "name": "Claims", "ring_timeout_s": 4, "wrapup_s": 1},
    {"id": "billing", "name": "Billing", "ring_timeout_s": 4, "wrapup_s": 1},
    {"id": "general", "name": "General", "ring_timeout_s": 4, "wrapup_s": 1},
]
ALL_QUEUES = ["claims", "billing", "general"]


@pytest.fixture(scope="session")
async def ari() -> AsyncIterator[AriRest]:
    rest = AriRest(ARI_URL, ARI_USER, ARI_PASSWORD)
    try:
        await rest.asterisk_info()
    except AriError as exc:
        await rest.close()
        pytest.skip(f"development Asterisk not reachable at {ARI_URL} ({exc}): "
                    "run `make test`, or `scripts/dev-asterisk start` first")
    yield rest
    await rest.close()


@dataclass
class Hotline:
    service: HotlineService
    settings: Settings
    endpoints: Endpoints
    call_ids: set[str] = field(default_factory=set)
    correlation_ids: set[str] = field(default_factory=set)

    async def call(self, script: str, *, caller: str = "+15550100", timeout_s: float = 60,
                   on_line: Callable[[Line], None] = lambda line: None) -> list[Line]:
        def seen(line: Line) -> None:
            self._remember(line)
            on_line(line)

        return await place_call(self.endpoints, parse_script(script), caller_number=caller,
                                timeout_s=timeout_s, on_line=seen)

    async def api(self, method: str, path: str, body: object = None, *,
                  token: str = SUPERVISOR_TOKEN, expect: int | None = None) -> Any:
        """Call the service's HTTP API; returns the JSON answer."""
        async with aiohttp.ClientSession() as http, http.request(
                method, self.endpoints.service_url + path, json=body,
                headers={"Authorization": f"Bearer {token}"}) as response:
            answer = await response.json()
            if expect is not None:
                assert response.status == expect, (response.status, answer)
            elif response.status >= 400:
                raise AssertionError(f"{method} {path}: {response.status} {answer}")
            return answer

    def _remember(self, line: Line) -> None:
        self.call_ids.add(str(line["call_id"]))
        if line["type"] == "call_start":
            self.correlation_ids.add(str(line["correlation_id"]))

    async def settle(self, timeout_s: float = 30) -> None:
        """Wait until no call task and no after-call work is left in the service."""
        async with asyncio.timeout(timeout_s):
            await self.service.wait_idle()


HotlineFactory = Callable[..., AbstractAsyncContextManager[Hotline]]


@pytest.fixture
async def hotline(ari: AriRest, tmp_path: Path) -> AsyncIterator[HotlineFactory]:
    """Start the service with the given agents; afterwards prove nothing was left behind."""
    started: list[Hotline] = []

    @asynccontextmanager
    async def start(agents: list[dict[str, Any]], queues: list[dict[str, Any]] | None = None,
                    database_url: str | None = None, speech_engine: str = "none",
                    knowledge: dict[str, Any] | None = None) -> AsyncIterator[Hotline]:
        config = _write_config(tmp_path, agents, queues or DEFAULT_QUEUES, database_url,
                               speech_engine, knowledge)
        settings, flow = load_all(config)
        async with running(settings, flow) as service:
            # The simulator reads the journey stream, which needs credentials: a supervisor's.
            hotline = Hotline(service, settings, Endpoints(
                ARI_URL, ARI_USER, ARI_PASSWORD, f"http://127.0.0.1:{service.http_port}",
                settings.asterisk.app, token=SUPERVISOR_TOKEN))
            started.append(hotline)
            yield hotline
            await hotline.settle()

    yield start
    for hotline in started:
        assert not hotline.service.busy(), "service still has call tasks after the test"
        assert hotline.service.router is not None
        assert hotline.service.router.owned_subjects() == 0, "event routes left behind"
        await _assert_asterisk_clean(ari, hotline)


async def _assert_asterisk_clean(ari: AriRest, hotline: Hotline) -> None:
    """No channel or bridge of this test's calls is left (other suites may share Asterisk)."""
    def ours(object_id: str, correlation: str | None = None) -> bool:
        return correlation in hotline.correlation_ids or any(
            object_id.startswith(call_id) for call_id in hotline.call_ids)

    # Hangups travel through Asterisk asynchronously: allow a moment for the last ones.
    for _ in range(50):
        channels = [c for c in await ari.list_channels()
                    if ours(c.id, c.channelvars.get(CORRELATION_ID_VAR))]
        bridges = [b for b in await ari.list_bridges() if ours(b.id)]
        if not channels and not bridges:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"left in Asterisk: channels {[c.name for c in channels]}, "
                         f"bridges {[b.id for b in bridges]}")


def _write_config(tmp: Path, agents: list[dict[str, Any]], queues: list[dict[str, Any]],
                  database_url: str | None = None, speech_engine: str = "none",
                  knowledge: dict[str, Any] | None = None) -> Path:
    config = {
        # An app of its own, so suites running side by side never see each other's calls.
        "asterisk": {"app": f"hotline-test-{uuid.uuid4().hex[:8]}"},
        "database_url": database_url or f"sqlite+aiosqlite:///{tmp / 'hotline.sqlite3'}",
        "http": {"host": "127.0.0.1", "port": 0},
        "flow": str(ROOT / "ivr/flows/hotline.yaml"),
        "prompts": {"cache_dir": str(ROOTFS / "var/lib/asterisk/sounds/hotline"),
                    "asterisk_dir": "/var/lib/asterisk/sounds/hotline"},
        "recordings": {"spool_dir": str(ROOTFS / "var/spool/asterisk/recording"),
                       "store_dir": str(tmp / "recordings")},
        "queues": queues,
        "agents": agents,
        "speech": {"engine": speech_engine},
        "knowledge": knowledge or {"source": "embedded",
                                   "outbox_file": str(tmp / "outbox.sqlite3"),
                                   "record_file": str(tmp / "knowledge-record.jsonl")},
        # An agent transfers only the caller they talk to: AGENT_TOKEN is agent cara's desktop
        # (tests/e2e/test_routing.py escalates cara's call with it).
        "api_tokens": [{"token": SUPERVISOR_TOKEN, "actor": "sam", "role": "supervisor"},
                       {"token": AGENT_TOKEN, "actor": "cara", "role": "agent",
                        "agent_id": "cara"},
                       {"token": AUDITOR_TOKEN, "actor": "audrey", "role": "auditor"}],
    }
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def agent(agent_id: str, endpoint: str, queues: list[str] | None = None) -> dict[str, Any]:
    return {"id": agent_id, "name": agent_id.title(), "endpoint": endpoint,
            "queues": queues or ALL_QUEUES}


def types(journey: list[Line]) -> list[str]:
    return [str(line["type"]) for line in journey]


def first(journey: list[Line], event_type: str, /, **match: object) -> Line:
    for line in journey:
        if line["type"] == event_type and all(line.get(k) == v for k, v in match.items()):
            return line
    heard = [{k: line.get(k) for k in ("node", "text", "intent", "confidence", "action")
              if line.get(k) is not None} for line in journey
             if line["type"] in ("speech", "intent")]
    raise AssertionError(f"no {event_type} {match} in journey: {types(journey)}; "
                         f"speech and intents: {heard}")


def index_of(journey: list[Line], event_type: str, /, **match: object) -> int:
    return journey.index(first(journey, event_type, **match))
