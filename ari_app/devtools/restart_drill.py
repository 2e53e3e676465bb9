"""The restart drill (issue 8): do live calls survive the service or Asterisk going away?

It writes a configuration with simulated agents, starts `hotline run` as a real process,
places callers held in the drill's own Stasis app and spreads them so that at the disruption
some are in the IVR, some wait in the queue, some talk to an agent and some are in the survey.
Then it disrupts:

- ``sigkill``: `kill -9` the service, start it again;
- ``sigterm``: SIGTERM (a deploy; timed to the exit), start it again;
- ``drain``: the service runs with `--drain`; SIGTERM, wait until it exits, start it again;
- ``asterisk``: `scripts/dev-asterisk stop`, a few seconds down, `start`; the service runs on;
- ``asterisk-crash`` (not among the defaults): the same, but Asterisk is killed with SIGKILL,
  so its channels vanish without a hangup event.

The callers then carry on by what the service says (`restart_script`), every caller's audio is
searched for silence around the disruption (`restart_audio`), and the database is read for
outcomes, queue order and recordings (`restart_results`). The findings: `restart_report`.

    python -m ari_app.devtools.restart_drill sigkill [sigterm drain asterisk] [--work DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError, AriNotFound
from ari_app.ari.rest import AriRest
from ari_app.ari.transport import HttpTransport
from ari_app.devtools.restart_audio import heard
from ari_app.devtools.restart_callers import (
    CallerBoard,
    DrillCaller,
    JourneyFeed,
    Seen,
    follow_drill_app,
)
from ari_app.devtools.restart_report import (
    AsteriskFigures,
    CallerOutcome,
    DrillReport,
    Waiting,
    queue_order,
)
from ari_app.devtools.restart_results import DrillDatabase, StoredCall, check_recordings
from ari_app.devtools.restart_script import (
    IVR,
    QUEUE,
    SURVEY,
    TALKING,
    carry_on,
    get_in_place,
    phase_at,
)
from ari_app.devtools.restart_service import (
    ROOT,
    AriAccess,
    DrillConfig,
    DrillError,
    ServiceProcess,
    dev_asterisk,
    health,
    kill_asterisk,
    write_config,
)
from ari_app.logging import configure_logging

DISRUPTIONS = ("sigkill", "sigterm", "drain", "asterisk")
EXTRA_DISRUPTIONS = ("asterisk-crash",)
PLACE_TIMEOUT_S = 40.0
EXIT_TIMEOUT_S = 30.0
HEALTH_GRACE_S = 0.5  # after Asterisk stopped, /health must say 503 from this moment on
FINISH_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 10.0
SURVEY_LEAD_S = 1.0  # the disruption comes this long into the survey question


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """How many callers go where, and the timings that put them there."""

    survey: int = 4
    talking: int = 4
    queue: int = 7
    ivr: int = 7
    short_talk_s: int = 6  # billing agents: the survey callers talk this long
    long_talk_s: int = 30  # claims agents: still talking at the disruption
    window_s: float = 30.0  # silence counts when it overlaps [D, D + window_s]
    settle_s: float = 45.0  # callers still on the line this long after D are stranded
    asterisk_down_s: float = 4.0
    stagger_s: float = 0.3

    def count(self, group: str) -> int:
        return {SURVEY: self.survey, TALKING: self.talking, QUEUE: self.queue,
                IVR: self.ivr}[group]


@dataclass(frozen=True, slots=True)
class DrillOptions:
    disruption: str
    work_dir: Path
    plan: DrillPlan = DrillPlan()
    database_url: str | None = None
    ari: AriAccess = field(default_factory=AriAccess.from_env)
    service_root: Path = ROOT  # the source tree `hotline run` runs from


def drill_queues() -> list[dict[str, Any]]:
    return [{"id": q, "name": q.title(), "ring_timeout_s": 4, "wrapup_s": 1}
            for q in ("claims", "billing", "general")]


def drill_agents(plan: DrillPlan) -> list[dict[str, Any]]:
    """Billing (and general) agents with short talks, claims agents with long ones."""
    short = [{"id": f"short{i}", "name": f"Short {i}", "queues": ["billing", "general"],
              "endpoint": f"Local/1*{plan.short_talk_s}@sim-agents"}
             for i in range(1, plan.survey + 1)]
    long = [{"id": f"long{i}", "name": f"Long {i}", "queues": ["claims"],
             "endpoint": f"Local/1*{plan.long_talk_s}@sim-agents"}
            for i in range(1, plan.talking + 1)]
    return short + long


async def run_drill(options: DrillOptions) -> DrillReport:
    if options.disruption not in DISRUPTIONS + EXTRA_DISRUPTIONS:
        raise DrillError(f"unknown disruption {options.disruption!r}: use one of "
                         + ", ".join(DISRUPTIONS + EXTRA_DISRUPTIONS))
    config = await asyncio.to_thread(
        write_config, options.work_dir, queues=drill_queues(),
        agents=drill_agents(options.plan), ari=options.ari, database_url=options.database_url)
    async with aiohttp.ClientSession() as http:
        drill = Drill(options, config, http)
        try:
            await drill.prepare()
            await drill.place_callers()
            await drill.disrupt()
            await drill.finish_calls()
            return await drill.results()
        finally:
            await drill.clean_up()


class Drill:
    def __init__(self, options: DrillOptions, config: DrillConfig,
                 http: aiohttp.ClientSession) -> None:
        self.options = options
        self.plan = options.plan
        self.config = config
        self.http = http
        access = options.ari
        self.ari = AriRest(access.url, access.user, access.password)
        self.raw = HttpTransport(access.url, access.user, access.password)
        self.app = f"{config.app}-callers"
        self.board = CallerBoard()
        self.report = DrillReport(options.disruption, options.work_dir)
        self.services: list[ServiceProcess] = []
        self.db: DrillDatabase | None = None
        self.disrupted = asyncio.Event()
        self.disrupted_at = 0.0
        self.first_call_at = 0.0
        self.phases: dict[int, str] = {}
        self._callers: dict[int, asyncio.Task[None]] = {}
        self._background: list[asyncio.Task[None]] = []

    # --- set-up ----------------------------------------------------------------------------

    async def prepare(self) -> None:
        connected = asyncio.Event()
        self._run(follow_drill_app(self.options.ari, self.app, self.board, connected))
        await _within(connected.wait(), 10, "the drill's Stasis app did not connect to ARI")
        await self.start_service(drain=self.options.disruption == "drain")
        self.db = DrillDatabase.open(self.config.database_url)
        feed = JourneyFeed(self.config.service_url, self.board)
        self._run(feed.run())
        await _within(feed.connected.wait(), 10,
                      lambda: f"no /v1/events WebSocket: {feed.last_error}")

    async def start_service(self, *, drain: bool = False) -> None:
        number = len(self.services) + 1
        log = self.options.work_dir / f"service-{number}.log"
        root = self.options.service_root
        service = ServiceProcess(self.config, log, drain=drain, root=root)
        try:
            await service.start(self.http)
        except DrillError as exc:
            if not drain:
                raise
            self.report.drain_flag_accepted = False
            self.report.notes.append(f"`hotline run --drain` refused ({exc}); the drill ran "
                                     "the service without it")
            service = ServiceProcess(self.config, log.with_suffix(".plain.log"), root=root)
            await service.start(self.http)
        else:
            if drain:
                self.report.drain_flag_accepted = True
        self.services.append(service)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        self._background.append(asyncio.create_task(work))

    # --- callers into place ----------------------------------------------------------------

    async def place_callers(self) -> None:
        """Talking and waiting callers first; then the survey callers, whose short talks end
        while the IVR callers (placed meanwhile) hear the menu. The disruption comes once
        every survey caller is a moment into the survey question."""
        self.first_call_at = time.monotonic()
        await self._all_seen(await self._place(TALKING), "agent_answer")
        await self._all_in_place(await self._place(QUEUE))
        survey = await self._place(SURVEY)
        await self._all_seen(survey, "agent_answer")
        await self._all_in_place(await self._place(IVR))
        await self._all_in_place(survey)
        await asyncio.sleep(SURVEY_LEAD_S)

    async def _place(self, group: str) -> list[DrillCaller]:
        callers = []
        for _ in range(self.plan.count(group)):
            caller = DrillCaller(len(self.board.callers) + 1, group, self.ari, self.raw,
                                 self.app)
            self.board.add(caller)
            self._callers[caller.index] = asyncio.create_task(self._play(caller))
            callers.append(caller)
            await asyncio.sleep(self.plan.stagger_s)
        return callers

    async def _play(self, caller: DrillCaller) -> None:
        await caller.dial(self.config.app)
        await get_in_place(caller)
        await self.disrupted.wait()
        # Draining, the same service goes on with the call: the caller answers what it hears.
        await carry_on(caller, self.phases[caller.index], self.disrupted_at,
                       answer_now=self.options.disruption == "drain")

    async def _all_seen(self, callers: list[DrillCaller], kind: str) -> None:
        def match(seen: Seen) -> bool:
            return seen.type == kind

        await _within(asyncio.gather(*(c.journey.wait_seen(match) for c in callers)),
                      PLACE_TIMEOUT_S, lambda: f"not every caller reached {kind}: "
                      + _journeys(callers))

    async def _all_in_place(self, callers: list[DrillCaller]) -> None:
        await _within(asyncio.gather(*(c.in_place.wait() for c in callers)), PLACE_TIMEOUT_S,
                      lambda: f"not every {callers[0].group} caller got into place: "
                      + _journeys(callers))

    # --- the disruption --------------------------------------------------------------------

    async def disrupt(self) -> None:
        self.disrupted_at = time.monotonic()
        self.report.disrupted_after_s = self.disrupted_at - self.first_call_at
        for caller in self.board.callers:
            self.phases[caller.index] = phase_at(caller.journey, self.disrupted_at,
                                                 caller.ended_at)
        self.disrupted.set()
        kind = self.options.disruption
        if self.report.asterisk_restarted:
            await self._restart_asterisk(crash=kind == "asterisk-crash")
            return
        old = self.services[-1]
        old.send(signal.SIGKILL if kind == "sigkill" else signal.SIGTERM)
        await self._await_exit(old, self.plan.settle_s if kind == "drain" else EXIT_TIMEOUT_S)
        await self.start_service()
        self.report.restart_ready_s = time.monotonic() - self.disrupted_at

    async def _await_exit(self, service: ServiceProcess, timeout_s: float) -> None:
        exit_s = await service.wait_exit(timeout_s)
        if exit_s is None:
            self.report.notes.append(f"the service did not exit within {timeout_s:.0f} s of "
                                     "the signal; the drill killed it")
            service.send(signal.SIGKILL)
            await service.wait_exit(10)
        elif self.options.disruption != "sigkill":
            self.report.service_exit_s = exit_s
        self.report.service_exit_code = service.returncode

    async def _restart_asterisk(self, *, crash: bool) -> None:
        figures = self.report.asterisk = AsteriskFigures()
        stop_began = time.monotonic()
        if crash:
            await kill_asterisk()
        try:
            await dev_asterisk("stop")  # after a crash: only the unmounting
            stopped = time.monotonic()
            sampling = asyncio.create_task(self._sample_health(figures, stopped))
            await asyncio.sleep(self.plan.asterisk_down_s)
            sampling.cancel()
            figures.down_for_s = time.monotonic() - stopped
        finally:  # whatever happens, the shared Asterisk comes back
            await dev_asterisk("start")
        back = time.monotonic()
        figures.back_after_s = back - stop_began
        await self._legs_gone_with_asterisk()
        reconnected, finished = await asyncio.gather(self._healthy_again(),
                                                     self._no_call_in_progress())
        figures.reconnected_after_return_s = None if reconnected is None else reconnected - back
        figures.finished_after_return_s = None if finished is None else finished - back

    async def _sample_health(self, figures: AsteriskFigures, stopped: float) -> None:
        while True:
            await asyncio.sleep(0.2)
            since = time.monotonic() - stopped
            status = await health(self.http, self.config.service_url)
            if since >= HEALTH_GRACE_S:
                figures.health_while_down.append((round(since, 2), status))

    async def _legs_gone_with_asterisk(self) -> None:
        for caller in self.board.callers:
            try:
                await self.ari.get_channel(caller.channel_id)
            except AriNotFound:
                await caller.leg_gone()

    async def _healthy_again(self) -> float | None:
        return await _poll_until(
            lambda: _is_200(health(self.http, self.config.service_url)), FINISH_TIMEOUT_S)

    async def _no_call_in_progress(self) -> float | None:
        async def none_left() -> bool:
            return not await self._in_progress()

        return await _poll_until(none_left, FINISH_TIMEOUT_S)

    async def _in_progress(self) -> list[str]:
        assert self.db is not None
        return await self.db.in_progress(self._correlations(), self._call_ids())

    # --- after the disruption --------------------------------------------------------------

    async def finish_calls(self) -> None:
        """Wait for the callers until the settle deadline; hang up whoever is still there."""
        left = self.disrupted_at + self.plan.settle_s - time.monotonic()
        tasks = set(self._callers.values())
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.0, left))
        for caller in self.board.callers:
            if not caller.ended.is_set():
                caller.stranded = True
                await caller.hang_up()
        await _within(asyncio.gather(*(c.ended.wait() for c in self.board.callers)), 10,
                      "caller legs did not end after hangup")
        await _poll_until(self._nothing_in_progress, SETTLE_TIMEOUT_S)

    async def _nothing_in_progress(self) -> bool:
        return not await self._in_progress()

    async def results(self) -> DrillReport:
        assert self.db is not None
        stored = await self.db.calls(self._correlations(), self._call_ids())
        self.report.in_progress = [c.call_id for c in stored if c.outcome == "in_progress"]
        by_correlation: dict[str, list[StoredCall]] = {}
        for call in stored:
            by_correlation.setdefault(str(call.row.get("correlation_id")), []).append(call)
        await self._recordings_finished()
        for caller in self.board.callers:
            calls = by_correlation.get(caller.correlation, [])
            self.report.callers.append(await self._outcome(caller, calls))
        self.report.order = queue_order([_waiting(c.index, by_correlation.get(c.correlation, []))
                                         for c in self.board.callers
                                         if self.phases.get(c.index) == QUEUE])
        return self.report

    async def _recordings_finished(self) -> None:
        if self.report.asterisk_restarted:
            return  # Asterisk died with the recordings: no RecordingFinished will come
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*(c.recording_done.wait() for c in self.board.callers))

    async def _outcome(self, caller: DrillCaller, calls: list[StoredCall]) -> CallerOutcome:
        main = min(calls, key=lambda c: c.row["started_at"], default=None)
        answered = any(c.row.get("agent_id") or c.first("agent_answer") for c in calls) \
            or caller.journey.seen("agent_answer")
        silence, note = await self._silence(caller)
        return CallerOutcome(
            index=caller.index, group=caller.group, phase=self.phases[caller.index],
            correlation=caller.correlation, call_id=main.call_id if main else None,
            outcome=main.outcome if main else None, reason=main.reason if main else None,
            answered=bool(answered),
            survey_reached=any(c.first("survey") or c.survey for c in calls)
            or caller.journey.seen("survey"),
            hung_up_by_caller=caller.hung_up_by_caller, stranded=caller.stranded,
            lines_after=sum(1 for s in caller.journey.lines if s.at >= self.disrupted_at),
            longest_silence_s=silence, silence_note=note,
            recording_problems=await _recording_problems(calls) if answered else (),
            recording_reason=_recording_failure(calls),
            talk_cut_s=_talk_cut(calls, self.plan.long_talk_s)
            if self.phases[caller.index] == TALKING else None)

    async def _silence(self, caller: DrillCaller) -> tuple[float | None, str | None]:
        path = self.config.spool_dir / f"{caller.recording_name}.wav"
        try:
            return await self._longest_silence(caller, path)
        finally:
            await _keep(path, self.options.work_dir / "heard")

    async def _longest_silence(self, caller: DrillCaller,
                               path: Path) -> tuple[float | None, str | None]:
        if self.report.asterisk_restarted:
            return None, "Asterisk restarted: the call itself is gone"
        if caller.recording_error or caller.recording_started_at is None:
            return None, f"no recording of the caller: {caller.recording_error}"
        try:
            audio = await heard(path)
        except (OSError, EOFError, ValueError) as exc:
            return None, f"unreadable recording {path}: {exc}"
        offset = self.disrupted_at - caller.recording_started_at
        return audio.longest_silence_in(offset, offset + self.plan.window_s), None

    # --- clean-up --------------------------------------------------------------------------

    async def clean_up(self) -> None:
        for task in self._callers.values():
            task.cancel()
        for caller in self.board.callers:
            if not caller.ended.is_set():
                await caller.hang_up()
        for service in self.services:
            await service.stop()
        with contextlib.suppress(AriError):
            await self._clear_asterisk()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._callers.values(), *self._background,
                             return_exceptions=True)
        await self.ari.close()
        await self.raw.close()
        if self.db is not None:
            await self.db.close()

    async def _clear_asterisk(self) -> None:
        """Hang up what the service left in Asterisk for our calls; say what it was."""
        ours = (self.config.app, self.app)
        prefixes = tuple(self._call_ids())
        left = [c.id for c in await self.ari.list_channels()
                if c.stasis_app in ours or (prefixes and c.id.startswith(prefixes))]
        bridges = [b.id for b in await self.ari.list_bridges()
                   if prefixes and b.id.startswith(prefixes)]
        for channel_id in left:
            await gone_ok(self.ari.hangup(channel_id), "leftover channel")
        for bridge_id in bridges:
            await gone_ok(self.ari.destroy_bridge(bridge_id), "leftover bridge")
        if left or bridges:
            self.report.notes.append(f"left in Asterisk after the drill, hung up: "
                                     f"{len(left)} channels, {len(bridges)} bridges")

    def _correlations(self) -> set[str]:
        return {c.correlation for c in self.board.callers}

    def _call_ids(self) -> set[str]:
        return {call_id for c in self.board.callers for call_id in c.call_ids}


def _waiting(index: int, calls: list[StoredCall]) -> Waiting:
    joined = min((e.at for c in calls for e in c.events if e.type == "queue_join"),
                 default=None)
    answered = None if joined is None else min(
        (e.at for c in calls for e in c.events if e.type == "agent_answer" and e.at >= joined),
        default=None)
    return Waiting(index, joined, answered)


async def _recording_problems(calls: list[StoredCall]) -> tuple[str, ...]:
    checks = [check for call in calls for check in await check_recordings(call)]
    if not checks:
        return ("no stored recording",)
    return tuple(f"{c.recording_id}: {c.problem}" for c in checks if c.problem)


def _talk_cut(calls: list[StoredCall], talk_s: float) -> float | None:
    """Seconds the first conversation ended before its agent's talk time was up (a simulated
    agent hangs up `talk_s` after answering); None without an answer and a hangup."""
    events = sorted((e for c in calls for e in c.events), key=lambda e: e.at)
    answered = next((e.at for e in events if e.type == "agent_answer"), None)
    if answered is None:
        return None
    left = next((e.at for e in events if e.type == "agent_hangup" and e.at >= answered), None)
    if left is None:
        return None
    return round(talk_s - (left - answered).total_seconds(), 2)


def _recording_failure(calls: list[StoredCall]) -> str | None:
    """The reason the service journaled for a recording it could not keep, if any."""
    return next((str(e.details.get("reason")) for c in calls for e in c.events
                 if e.type == "recording" and e.details.get("state") == "failed"), None)


async def _keep(path: Path, folder: Path) -> None:
    """Move a caller's recording out of Asterisk's spool into the drill's folder."""
    def move() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.move(path, folder / path.name)

    with contextlib.suppress(OSError):
        await asyncio.to_thread(move)


async def _is_200(status: Coroutine[Any, Any, int | None]) -> bool:
    return await status == 200


async def _poll_until(check: Callable[[], Awaitable[bool]], timeout_s: float,
                      every_s: float = 0.1) -> float | None:
    """The monotonic time `await check()` first came true, or None after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return time.monotonic()
        await asyncio.sleep(every_s)
    return None


async def _within(work: Awaitable[object], timeout_s: float,
                  why: str | Callable[[], str]) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            await work
    except TimeoutError:
        raise DrillError(why() if callable(why) else str(why)) from None


def _journeys(callers: Iterable[DrillCaller]) -> str:
    return "; ".join(f"caller {c.index} ({c.group}): "
                     + (" ".join(s.type for s in c.journey.lines) or "nothing")
                     + (" [leg ended]" if c.ended.is_set() else "") for c in callers)


# --- command line ---------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ari_app.devtools.restart_drill",
                                     description=__doc__.split("\n\n")[0])
    # Checked below: Python 3.11's argparse refuses an empty list against `choices`.
    parser.add_argument("disruptions", nargs="*", metavar="DISRUPTION",
                        help=f"one or more of {', '.join(DISRUPTIONS + EXTRA_DISRUPTIONS)} "
                             f"(default: {', '.join(DISRUPTIONS)})")
    parser.add_argument("--work", type=Path, help="folder for configs, logs, recordings")
    parser.add_argument("--database-url", help="default: a SQLite file in the work folder")
    parser.add_argument("--service-root", type=Path, default=ROOT,
                        help="run the service from this source tree (e.g. an older commit "
                             "exported with `git archive`); default: this one")
    args = parser.parse_args(argv)
    if unknown := set(args.disruptions) - set(DISRUPTIONS + EXTRA_DISRUPTIONS):
        parser.error(f"unknown disruption {', '.join(sorted(unknown))}: use "
                     + ", ".join(DISRUPTIONS + EXTRA_DISRUPTIONS))
    work = args.work or Path(tempfile.mkdtemp(prefix="restart-drill-"))
    configure_logging("warning")  # the drill's own ARI stream: only what went wrong
    for disruption in args.disruptions or DISRUPTIONS:
        report = asyncio.run(run_drill(DrillOptions(
            disruption, work / disruption, database_url=args.database_url,
            service_root=args.service_root.resolve())))
        print(report.table(), report.callers_table(), sep="\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
