"""The restart drill's service: `hotline run` as a real process, and the Asterisk it talks to.

The drill writes its own configuration (a Stasis app, database, port and recording store of
its own, simulated agents), starts the service with `python -m ari_app run`, waits for
`GET /health` to answer 200, and signals it like a deploy or a crash would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEV_ASTERISK = ROOT / "scripts" / "dev-asterisk"
DEFAULT_ROOTFS = Path.home() / ".cache/hotline/asterisk-rootfs"
HEALTH_TIMEOUT_S = 1.0
# The drill reads the live journey stream, which needs a role: a supervisor's token of its own.
DRILL_TOKEN = "restart-drill-supervisor-token"


class DrillError(Exception):
    """The drill itself could not do its job (not a finding about the service)."""


@dataclass(frozen=True, slots=True)
class AriAccess:
    url: str
    user: str
    password: str

    @classmethod
    def from_env(cls) -> AriAccess:
        return cls(os.environ.get("HOTLINE_ARI_URL", "http://127.0.0.1:8088/ari"),
                   os.environ.get("HOTLINE_ARI_USER", "hotline"),
                   os.environ.get("HOTLINE_ARI_PASSWORD", "hotline"))


@dataclass(frozen=True, slots=True)
class DrillConfig:
    """The configuration file the drill wrote, and what the drill needs to know of it."""

    path: Path
    app: str
    http_port: int
    database_url: str
    spool_dir: Path  # where Asterisk writes recordings, as this host sees it
    ari: AriAccess

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def rootfs() -> Path:
    return Path(os.environ.get("HOTLINE_ASTERISK_ROOT", DEFAULT_ROOTFS))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(work: Path, *, queues: Sequence[dict[str, Any]],
                 agents: Sequence[dict[str, Any]], ari: AriAccess,
                 database_url: str | None = None) -> DrillConfig:
    """Blocking (run it in a thread): the service's YAML in `work`, like the e2e fixtures'."""
    work.mkdir(parents=True, exist_ok=True)
    root = rootfs()
    config = DrillConfig(
        path=work / "hotline.yaml", app=f"hotline-drill-{uuid.uuid4().hex[:8]}",
        http_port=free_port(),
        database_url=database_url or f"sqlite+aiosqlite:///{work / 'hotline.sqlite3'}",
        spool_dir=root / "var/spool/asterisk/recording", ari=ari)
    document = {
        "asterisk": {"app": config.app, "ari_url": ari.url, "ari_user": ari.user,
                     "ari_password": ari.password},
        "database_url": config.database_url,
        "http": {"host": "127.0.0.1", "port": config.http_port},
        "flow": str(ROOT / "ivr/flows/hotline.yaml"),
        "prompts": {"cache_dir": str(root / "var/lib/asterisk/sounds/hotline"),
                    "asterisk_dir": "/var/lib/asterisk/sounds/hotline"},
        "recordings": {"spool_dir": str(config.spool_dir), "store_dir": str(work / "recordings")},
        "queues": list(queues),
        "agents": list(agents),
        "speech": {"engine": "none"},
        "api_tokens": [{"token": DRILL_TOKEN, "actor": "restart-drill", "role": "supervisor"}],
        "knowledge": {"source": "embedded", "outbox_file": str(work / "outbox.sqlite3"),
                      "record_file": str(work / "knowledge-record.jsonl")},
    }
    config.path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return config


async def health(http: aiohttp.ClientSession, service_url: str) -> int | None:
    """The status `GET /health` answers, or None when nothing answers."""
    try:
        async with http.get(f"{service_url}/health",
                            timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


class ServiceProcess:
    """One `hotline run` process; its output goes to `log_path`.

    `root`: the source tree it runs from (`python -m ari_app` in that folder imports that
    tree's code), e.g. an older commit exported with `git archive`, to see the drill fail."""

    def __init__(self, config: DrillConfig, log_path: Path, *, drain: bool = False,
                 root: Path = ROOT) -> None:
        self.config = config
        self.log_path = log_path
        self.drain = drain
        self.root = root
        self._process: asyncio.subprocess.Process | None = None
        self.signalled_at: float | None = None
        self.exited_at: float | None = None

    @property
    def command(self) -> list[str]:
        extra = ["--drain"] if self.drain else []
        return [sys.executable, "-m", "ari_app", "run", "--config", str(self.config.path), *extra]

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    async def start(self, http: aiohttp.ClientSession, timeout_s: float = 90.0) -> float:
        """Start and wait until `/health` answers 200; returns the seconds that took.

        DrillError (with the end of the service's output) if it exits or never gets ready."""
        started = time.monotonic()
        log = await asyncio.to_thread(self.log_path.open, "ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command, cwd=self.root, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        finally:
            await asyncio.to_thread(log.close)
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise DrillError(f"`{' '.join(self.command[1:])}` exited with "
                                 f"{self._process.returncode} during startup: "
                                 f"{await self.log_tail()}")
            if await health(http, self.config.service_url) == 200:
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        raise DrillError(f"the service was not healthy within {timeout_s:.0f} s: "
                         f"{await self.log_tail()}")

    def send(self, sig: signal.Signals) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self.signalled_at = time.monotonic()
        self._process.send_signal(sig)

    async def wait_exit(self, timeout_s: float) -> float | None:
        """Seconds from the last signal to the exit, or None if still running at the timeout."""
        if self._process is None:
            return None
        try:
            async with asyncio.timeout(timeout_s):
                await self._process.wait()
        except TimeoutError:
            return None
        self.exited_at = self.exited_at or time.monotonic()
        return self.exited_at - (self.signalled_at or self.exited_at)

    async def stop(self) -> None:
        """Make sure the process is gone: SIGTERM, then SIGKILL after 10 s."""
        if self._process is None or self._process.returncode is not None:
            return
        self.send(signal.SIGTERM)
        if await self.wait_exit(10.0) is None:
            self.send(signal.SIGKILL)
            await self._process.wait()

    async def log_tail(self, lines: int = 8) -> str:
        text = await asyncio.to_thread(self.log_path.read_text, encoding="utf-8",
                                       errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


async def dev_asterisk(action: str, timeout_s: float = 120.0) -> None:
    """`scripts/dev-asterisk stop|start`; DrillError when it fails."""
    process = await asyncio.create_subprocess_exec(
        str(DEV_ASTERISK), action, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(timeout_s):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DrillError(f"scripts/dev-asterisk {action} took over {timeout_s:.0f} s") from None
    if process.returncode != 0:
        raise DrillError(f"scripts/dev-asterisk {action} failed ({process.returncode}): "
                         f"{output.decode(errors='replace').strip()}")


async def kill_asterisk() -> None:
    """SIGKILL the development Asterisk (a crash: no channel is hung up, no event is sent)."""
    pid_file = rootfs() / "run/asterisk/asterisk.pid"
    try:
        pid = int((await asyncio.to_thread(pid_file.read_text)).strip())
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError) as exc:
        raise DrillError(f"cannot kill the development Asterisk ({pid_file}): {exc}") from exc
