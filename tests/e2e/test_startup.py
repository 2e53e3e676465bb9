"""A dead dependency at startup: one clear log line per attempt, retries, no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import structlog

from ari_app.__main__ import load_all
from ari_app.service import HotlineService
from tests.e2e.conftest import DEFAULT_QUEUES, _write_config


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _attempts(tmp_path: Path, event: str, **overrides: str) -> list[dict[str, Any]]:
    config = _write_config(tmp_path, [], DEFAULT_QUEUES)
    settings, flow = load_all(config)
    settings = settings.model_copy(update=overrides) if "database_url" in overrides else \
        settings.model_copy(update={"asterisk": settings.asterisk.model_copy(update=overrides)})
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(HotlineService(settings, flow).run())
        try:
            async with asyncio.timeout(30):
                while len([e for e in logs if e["event"] == event]) < 3:
                    assert not task.done(), f"the service gave up: {task}"
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert not [e for e in logs if "exc_info" in e or e.get("log_level") == "critical"]
    return [e for e in logs if e["event"] == event]


async def test_asterisk_unreachable_at_startup_is_retried_with_a_clear_message(
        tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/ari"
    attempts = await _attempts(tmp_path, "ari.unreachable", ari_url=url)
    assert all(a["url"] == url and a["retry_in"] >= 0 for a in attempts)
    assert all("refused" in str(a["error"]).lower() or "connect" in str(a["error"]).lower()
               for a in attempts)


async def test_database_unreachable_at_startup_is_retried_with_a_clear_message(
        tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://hotline:secret@127.0.0.1:{_closed_port()}/hotline"
    attempts = await _attempts(tmp_path, "database.unreachable", database_url=url)
    assert all("secret" not in str(a["error"]) for a in attempts)  # password masked
    assert all(f":{url.rsplit(':', 1)[1].split('/')[0]}" in str(a["error"]) for a in attempts)
