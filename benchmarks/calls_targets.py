"""What `make bench-calls` sends its callers to, and how each target is set up and taken down.

- anchor: app_queue and dialplan ([bench-anchor] in dialplans/extensions.conf, queue
  bench-claims in dialplans/queues.conf), the hotline's journey with the hotline's prompts;
- floor: the minimal ARI app (benchmarks/calls_floor.py) as its own process;
- keypad, speech: `hotline run` as its own process, with 200 simulated agents in the claims
  queue, speech off (keypad only) or as the shipped config has it (config/hotline.yaml).

The SIPp request-URI (the target's extension in [bench-calls]) picks the target.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ari_app.devtools.restart_service import AriAccess, free_port, health, rootfs  # noqa: E402
from ari_app.settings import load_settings  # noqa: E402
from ivr.flow import Flow, PromptNode, QueueNode  # noqa: E402
from ivr.loader import load_flow  # noqa: E402
from ivr.tts import PromptRenderer  # noqa: E402

AGENTS = 200
HOTLINE_APP = "bench-hotline"  # [bench-calls] hotline sets it
FLOOR_APP = "bench-floor"  # [bench-calls] floor enters it
ANCHOR_RECORDING_PREFIX = "bench-anchor-"  # MONITOR_FILENAME in [bench-anchor]
SHIPPED_CONFIG = ROOT / "config/hotline.yaml"
FLOW = ROOT / "ivr/flows/hotline.yaml"


class BenchError(Exception):
    """The benchmark could not do its job (not a finding about a target)."""


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    label: str
    extension: str  # in [bench-calls]
    speech: str | None = None  # hotline targets: speech.engine


TARGETS = (
    Target("anchor", "app_queue + dialplan (anchor)", "anchor"),
    Target("floor", "minimal ARI app (floor)", "floor"),
    Target("keypad", "hotline, keypad only", "hotline", speech="none"),
    Target("speech", "hotline, shipped config (speech)", "hotline", speech="shipped"),
)


def shipped_speech_engine() -> str:
    document = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    engine: str = (document.get("speech") or {}).get("engine", "none")
    return engine


# ---------------------------------------------------------------- Asterisk

async def asterisk_cli(command: str) -> str:
    """`asterisk -rx` in the development rootfs (the service's AMI user may run no command)."""
    process = await asyncio.create_subprocess_exec(
        "chroot", str(rootfs()), "/usr/sbin/asterisk", "-rx", command,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise BenchError(f"asterisk -rx '{command}' failed: {output.decode(errors='replace')}")
    return output.decode(errors="replace")


def asterisk_pid() -> int:
    pid_file = rootfs() / "run/asterisk/asterisk.pid"
    try:
        return int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise BenchError(f"no development Asterisk ({pid_file}): {exc}; "
                         "start it with scripts/dev-asterisk start") from exc


async def prepare_asterisk() -> None:
    """app_queue loaded (it is not when Asterisk ran before queues.conf existed)."""
    if "app_queue.so" not in await asterisk_cli("module show like app_queue"):
        await asterisk_cli("module load app_queue.so")
    queues = await asterisk_cli("queue show bench-claims")
    if "No such queue" in queues or "members" not in queues:
        await asterisk_cli("queue reload all")
    queues = await asterisk_cli("queue show bench-claims")
    if queues.count("Local/1*4*") != AGENTS:
        raise BenchError(f"queue bench-claims has not {AGENTS} members: {queues[:300]}")


async def channel_count(http: aiohttp.ClientSession, ari: AriAccess) -> int:
    async with http.get(f"{ari.url}/channels") as response:
        return len(await response.json())


async def wait_idle(http: aiohttp.ClientSession, ari: AriAccess, timeout_s: float) -> int:
    """Wait until Asterisk has no channel left; the count left at the timeout."""
    deadline = time.monotonic() + timeout_s
    left = await channel_count(http, ari)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        left = await channel_count(http, ari)
    return left


def anchor_recordings(since: float) -> int:
    """MixMonitor files of the anchor written since `since` (not empty WAVs)."""
    folder = rootfs() / "var/spool/asterisk/monitor"
    return sum(1 for f in folder.glob(f"{ANCHOR_RECORDING_PREFIX}*.wav")
               if f.stat().st_mtime >= since and f.stat().st_size > 44)


def remove_anchor_recordings() -> None:
    for f in (rootfs() / "var/spool/asterisk/monitor").glob(f"{ANCHOR_RECORDING_PREFIX}*"):
        f.unlink(missing_ok=True)


# ---------------------------------------------------------------- prompts

def bench_prompt_texts(flow: Flow) -> dict[str, str]:
    """The hotline's prompts along the benchmark's journey, by the names [bench-anchor] plays."""
    welcome, menu, claims = (flow.nodes[n] for n in ("welcome", "main_menu", "claims"))
    if not (isinstance(welcome, PromptNode) and isinstance(claims, QueueNode) and menu.say
            and claims.say):
        raise BenchError(f"{FLOW}: the journey's nodes changed (welcome, main_menu, claims)")
    survey = flow.survey
    return {"welcome": welcome.say, "menu": menu.say, "claims": claims.say,
            "survey": survey.say, "reprompt": survey.reprompt, "thanks": survey.thanks,
            "unanswered": survey.unanswered}


async def install_prompts() -> None:
    """Render the hotline's prompts (its own renderer and cache) and copy them to sounds/bench."""
    flow = await asyncio.to_thread(load_flow, FLOW)
    sounds = rootfs() / "var/lib/asterisk/sounds"
    renderer = PromptRenderer(sounds / "hotline", voice=flow.voice)
    (sounds / "bench").mkdir(parents=True, exist_ok=True)
    for name, text in bench_prompt_texts(flow).items():
        rendered = await renderer.render(text)
        await asyncio.to_thread(shutil.copyfile, rendered, sounds / "bench" / f"{name}.wav")


# ---------------------------------------------------------------- processes

class Process:
    """A target's own process (the floor app, `hotline run`); output to `log_path`."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.command = command
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError("not started")
        return self._process.pid

    async def start(self) -> None:
        log = await asyncio.to_thread(self.log_path.open, "ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        finally:
            await asyncio.to_thread(log.close)

    def exited(self) -> bool:
        return self._process is None or self._process.returncode is not None

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15.0):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    def tail(self, lines: int = 6) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


async def wait_for(process: Process, ready: Any, timeout_s: float, what: str) -> None:
    """Poll the async `ready()` until true; BenchError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.exited():
            raise BenchError(f"{what} exited during startup: {process.tail()}")
        if await ready():
            return
        await asyncio.sleep(0.2)
    raise BenchError(f"{what} not ready within {timeout_s:.0f} s: {process.tail()}")


async def start_floor(run: Path, ari: AriAccess) -> Process:
    process = Process([sys.executable, str(ROOT / "benchmarks/calls_floor.py"), "--app",
                       FLOOR_APP, "--ari-url", ari.url, "--user", ari.user,
                       "--password", ari.password], run / "floor.log")
    await asyncio.to_thread(run.mkdir, parents=True, exist_ok=True)
    await process.start()

    async def ready() -> bool:
        return "floor.ready" in process.log_path.read_text(encoding="utf-8", errors="replace")
    await wait_for(process, ready, 20.0, "the floor app")
    return process


def hotline_config(run: Path, target: Target, ari: AriAccess,
                   recordings_method: str | None = None) -> tuple[Path, str]:
    """The shipped configuration with the bench's app, database, port, store and 200 agents;
    the recording method as the service defaults it unless `recordings_method` is given."""
    document = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    root = rootfs()
    port = free_port()
    run.mkdir(parents=True, exist_ok=True)
    document["asterisk"].update(app=HOTLINE_APP, ari_url=ari.url, ari_user=ari.user,
                                ari_password=ari.password)
    document.update(
        database_url=f"sqlite+aiosqlite:///{run / 'hotline.sqlite3'}",
        http={"host": "127.0.0.1", "port": port},
        flow=str(FLOW),
        prompts={"cache_dir": str(root / "var/lib/asterisk/sounds/hotline"),
                 "asterisk_dir": "/var/lib/asterisk/sounds/hotline"},
        recordings={"spool_dir": str(root / "var/spool/asterisk/recording"),
                    "store_dir": str(run / "recordings"),
                    **({"method": recordings_method} if recordings_method else {})},
        agents=[{"id": f"a{n:03d}", "name": f"Agent {n}",
                 "endpoint": f"Local/1*4*{n:03d}@sim-agents", "queues": ["claims"]}
                for n in range(1, AGENTS + 1)],
        knowledge={"source": "embedded", "outbox_file": str(run / "outbox.sqlite3"),
                   "record_file": str(run / "knowledge-record.jsonl")})
    if target.speech != "shipped":
        document["speech"] = {"engine": target.speech or "none"}
    path = run / "hotline.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path, f"http://127.0.0.1:{port}"


def recording_setup(config: Path) -> str:
    """How the service will record, read with its own settings loader: "method, channels"."""
    recordings = load_settings(config).recordings
    return f"{recordings.method}, {recordings.channels}"


async def start_hotline(run: Path, target: Target, ari: AriAccess,
                        http: aiohttp.ClientSession,
                        recordings_method: str | None = None,
                        profile: bool = False) -> tuple[Process, str, str]:
    config, url = hotline_config(run, target, ari, recordings_method)
    python = [sys.executable]
    if profile:  # written when the service stops on the bench's SIGTERM
        python += ["-m", "cProfile", "-o", str(config.parent / "service.prof")]
    process = Process([*python, "-m", "ari_app", "run", "--config", str(config)],
                      config.parent / "service.log")
    await process.start()

    async def ready() -> bool:
        return await health(http, url) == 200
    await wait_for(process, ready, 180.0, "hotline run")
    return process, url, recording_setup(config)


async def hotline_active_calls(http: aiohttp.ClientSession, url: str) -> int | None:
    try:
        async with http.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
            active: int = (await r.json()).get("active_calls", 0)
            return active
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def stored_recordings(run: Path) -> int:
    store = run / "recordings"
    return sum(1 for f in store.rglob("*") if f.is_file() and f.suffix in {".wav", ".gsm"}
               and f.stat().st_size > 44)
