"""Call cost against app_queue, not a test: `make bench-calls` runs this with `.venv/bin/python`.

SIPp callers (benchmarks/sipp/caller.xml: PCMU + telephone-event, RFC 4733 digit 1 at 2.5 s,
then waiting for the far end's BYE) go through the development Asterisk into each target in
turn, at the same load: app_queue + dialplan doing the hotline's journey with its prompts (the
anchor), a minimal ARI app (the floor), and `hotline run` with 200 simulated agents, keypad
only and as shipped (speech on). Journey: welcome, menu "1", claims queue, an agent rings 1 s
and talks 4 s (recorded), survey asked twice (no answer), goodbye: about 35 s a call.

Per target it prints failed calls, Asterisk's and the service's CPU per call (utime + stime
deltas of /proc/<pid>/stat over the run), first-prompt p50/p95/p99 (benchmarks/calls_observer.py:
the same external ARI observer for every target), peak RSS growth per live call, recordings
stored against agents answered, the talking calls' bridges, and ratios against the anchor.

Options: --quick (20 calls at 2/s), --load CALLS@RATE (repeatable; default 120@2 and 300@5),
--targets anchor,floor,keypad,speech, --work DIR (configs, logs, SIPp statistics),
--recordings-method bridge|snoop (the hotline's; default: the service's own default),
--profile-service (cProfile the hotline: where its CPU goes, not what it costs).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calls_observer import Observer  # noqa: E402
from calls_proc import ProcessWatch, sample_every  # noqa: E402
from calls_report import Load, Result, print_table  # noqa: E402
from calls_sipp import check_installed, place_calls  # noqa: E402
from calls_targets import (  # noqa: E402
    TARGETS,
    BenchError,
    Process,
    Target,
    anchor_recordings,
    asterisk_pid,
    hotline_active_calls,
    install_prompts,
    prepare_asterisk,
    remove_anchor_recordings,
    shipped_speech_engine,
    start_floor,
    start_hotline,
    stored_recordings,
    wait_idle,
)

from ari_app.devtools.restart_service import AriAccess  # noqa: E402

SETTLE_S = 60.0  # after SIPp: the longest a target may take to finish its calls
RSS_PERIOD_S = 0.5


async def _settle(http: aiohttp.ClientSession, ari: AriAccess, url: str | None) -> None:
    """Until the target finished its calls: the service's active calls, Asterisk's channels."""
    deadline = time.monotonic() + SETTLE_S
    while url is not None and time.monotonic() < deadline:
        if await hotline_active_calls(http, url) in (0, None):
            break
        await asyncio.sleep(0.5)
    await wait_idle(http, ari, max(1.0, deadline - time.monotonic()))


async def run_target(target: Target, load: Load, work: Path, ari: AriAccess,
                     http: aiohttp.ClientSession, recordings_method: str | None,
                     profile: bool = False) -> Result:
    left = await wait_idle(http, ari, 30.0)
    if left:
        raise BenchError(f"Asterisk still has {left} channels before {target.key}")
    run = work / f"{load.label}-{target.key}"  # its config, logs, store, SIPp statistics
    service: Process | None = None
    url: str | None = None
    recording = "MixMonitor, mono" if target.key == "anchor" else "-"
    if target.key == "floor":
        service = await start_floor(run, ari)
    elif target.speech is not None:
        service, url, recording = await start_hotline(run, target, ari, http,
                                                      recordings_method, profile)
    try:
        watches = [ProcessWatch("asterisk", asterisk_pid())]
        if service is not None:
            watches.append(ProcessWatch("service", service.pid))
        observer = Observer(http, ari.url)
        await observer.start()
        stop_sampling = asyncio.Event()
        for watch in watches:
            watch.start()
        sampler = asyncio.create_task(sample_every(watches, RSS_PERIOD_S, stop_sampling))
        since = time.time()
        started = time.monotonic()
        sipp = await place_calls(target.extension, load.calls, load.rate, run)
        await _settle(http, ari, url)
        seconds = time.monotonic() - started
        for watch in watches:
            watch.stop()
        stop_sampling.set()
        await sampler
        await observer.stop()
        if target.key == "anchor":
            recordings: int | None = anchor_recordings(since)
        elif url is not None:
            recordings = stored_recordings(run)
        else:
            recordings = None
        log = service.log_path if service is not None and url is not None else None
        return Result(target=target, load=load, sipp=sipp, tally=observer.tally,
                      asterisk=watches[0], service=watches[1] if service else None,
                      recordings=recordings, recording=recording, seconds=seconds,
                      service_log=log)
    finally:
        if service is not None:
            await service.stop()
        if target.key == "anchor":
            remove_anchor_recordings()


async def main(args: argparse.Namespace) -> int:
    missing = check_installed()
    if missing:
        print(f"bench-calls: {missing}", file=sys.stderr)
        return 2
    targets = [t for t in TARGETS if t.key in args.targets]
    loads = [Load(20, 2.0)] if args.quick else [Load.parse(x) for x in args.load]
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-calls-"))
    ari = AriAccess.from_env()
    began = time.monotonic()
    print(f"bench-calls: work folder {work}; speech as shipped: {shipped_speech_engine()}",
          flush=True)
    await prepare_asterisk()
    await install_prompts()
    auth = aiohttp.BasicAuth(ari.user, ari.password)
    async with aiohttp.ClientSession(auth=auth, timeout=aiohttp.ClientTimeout(total=10)) as http:
        for load in loads:
            results = []
            for target in targets:
                print(f"bench-calls: {load.label} into {target.key} ...", flush=True)
                result = await run_target(target, load, work, ari, http,
                                          args.recordings_method, args.profile_service)
                print(f"  {result.seconds:.0f} s, {result.sipp.failed} failed", flush=True)
                results.append(result)
                await asyncio.sleep(3.0)
            print_table(load, results)
    print(f"\nbench-calls: {time.monotonic() - began:.0f} s in all; work folder {work}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 calls at 2/s only")
    parser.add_argument("--load", action="append", metavar="CALLS@RATE",
                        help="calls at calls per second; repeatable (default 120@2, 300@5)")
    parser.add_argument("--targets", default=",".join(t.key for t in TARGETS),
                        type=lambda v: v.split(","), help="comma-separated subset")
    parser.add_argument("--work", help="folder for configs, logs and SIPp statistics")
    parser.add_argument("--recordings-method", choices=("bridge", "snoop"),
                        help="the hotline's recordings.method (default: the service's)")
    parser.add_argument("--profile-service", action="store_true",
                        help="run the hotline under cProfile (service.prof in its run folder);"
                             " its CPU figures are then inflated, read only the profile")
    args = parser.parse_args(argv)
    args.load = args.load or ["120@2", "300@5"]
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except BenchError as error:
        print(f"bench-calls: {error}", file=sys.stderr)
        sys.exit(1)
