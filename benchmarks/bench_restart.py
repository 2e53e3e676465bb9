"""Calls through restarts, not a test: `make bench-restart` runs this with `.venv/bin/python`.

Runs the restart drill (`ari_app/devtools/restart_drill.py`) once per disruption -- SIGKILL,
SIGTERM, `hotline run --drain` then SIGTERM, and an Asterisk restart (and, when asked for,
`asterisk-crash`: Asterisk killed with SIGKILL, then started) -- each with 22 real
callers through the development Asterisk (7 in the IVR, 7 waiting, 4 talking, 4 in the survey
at the disruption), and prints one table: how the calls ended, the longest silence a caller of
each phase heard in the 30 s from the disruption (20 ms frames below RMS 100, 16-bit, 8 kHz),
queue order, recordings, exit and recovery times; then what of issue 8's "Done when" each run
did not show. About a minute per drill.

Options: DISRUPTION... (default: all four), --work DIR (configs, service logs, what each caller
heard), --service-root DIR (run the service from another source tree, e.g. an older commit
exported with `git archive`, to compare), --database-url URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ari_app.devtools.restart_drill import (  # noqa: E402
    DISRUPTIONS,
    EXTRA_DISRUPTIONS,
    DrillOptions,
    run_drill,
)
from ari_app.devtools.restart_report import DrillReport, failures  # noqa: E402
from ari_app.devtools.restart_script import PHASES  # noqa: E402
from ari_app.devtools.restart_service import ROOT  # noqa: E402
from ari_app.logging import configure_logging  # noqa: E402

Figure = Callable[[DrillReport], str]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _silence(phase: str) -> Figure:
    return lambda r: _seconds(r.longest_silence(phase))


def _asterisk(pick: Callable[[DrillReport], float | int | None]) -> Figure:
    def figure(report: DrillReport) -> str:
        if report.asterisk is None:
            return "-"
        value = pick(report)
        return str(value) if isinstance(value, int) else _seconds(value)
    return figure


def _ended(report: DrillReport) -> str:
    if report.asterisk_restarted:
        return str(sum(c.finished_with_reason for c in report.callers))
    return str(len(report.callers) - len(report.not_normal))


def _verified(report: DrillReport) -> str:
    answered = [c for c in report.callers if c.answered]
    return f"{len(answered) - len(report.unverified_recordings)}/{len(answered)}"


ROWS: list[tuple[str, Figure]] = [
    ("callers at the disruption (ivr/queue/talk/survey)",
     lambda r: "/".join(str(len(r.in_phase(p))) for p in PHASES)),
    ("calls ended normally (asterisk: with a reason)", _ended),
    ("callers never served again (drill hung up)",
     lambda r: str(sum(c.stranded for c in r.callers))),
    ("calls in_progress afterwards", lambda r: str(len(r.in_progress))),
    *[(f"longest silence, {phase} (s)", _silence(phase)) for phase in PHASES],
    ("conversations cut short", lambda r: str(sum(
        (c.talk_cut_s or 0) > 2 for c in r.callers))),
    ("waiting callers answered in order",
     lambda r: "-" if r.asterisk_restarted else ("yes" if r.order.kept else "NO")),
    ("answered calls with a verified recording", _verified),
    ("service exit after SIGTERM (s)", lambda r: _seconds(r.service_exit_s)),
    ("next instance healthy after the disruption (s)", lambda r: _seconds(r.restart_ready_s)),
    ("/health 200 answers while Asterisk down",
     _asterisk(lambda r: r.asterisk.healthy_while_down if r.asterisk else None)),
    ("Asterisk back -> /health 200 (s)",
     _asterisk(lambda r: r.asterisk.reconnected_after_return_s if r.asterisk else None)),
    ("Asterisk back -> every call finished (s)",
     _asterisk(lambda r: r.asterisk.finished_after_return_s if r.asterisk else None)),
    ("\"Done when\" items not shown", lambda r: str(len(failures(r)))),
]


def table(reports: list[DrillReport]) -> str:
    width = max(len(label) for label, _ in ROWS) + 2
    lines = [f"{'':<{width}}" + "".join(f"{r.disruption:>12}" for r in reports)]
    lines += [f"{label:<{width}}" + "".join(f"{figure(r):>12}" for r in reports)
              for label, figure in ROWS]
    return "\n".join(lines)


async def run_all(disruptions: list[str], work: Path, service_root: Path,
                  database_url: str | None) -> list[DrillReport]:
    reports = []
    for disruption in disruptions:
        print(f"drill: {disruption} ...", file=sys.stderr, flush=True)
        reports.append(await run_drill(DrillOptions(disruption, work / disruption,
                                                    database_url=database_url,
                                                    service_root=service_root)))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Checked below: Python 3.11's argparse refuses an empty list against `choices`.
    parser.add_argument("disruptions", nargs="*", metavar="DISRUPTION",
                        help=", ".join(DISRUPTIONS) + " (default: these four), "
                        + ", ".join(EXTRA_DISRUPTIONS))
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--service-root", type=Path, default=ROOT)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if unknown := set(args.disruptions) - set(DISRUPTIONS + EXTRA_DISRUPTIONS):
        parser.error(f"unknown disruption {', '.join(sorted(unknown))}: use "
                     + ", ".join(DISRUPTIONS + EXTRA_DISRUPTIONS))
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-restart-"))
    configure_logging("warning")  # the drill's own ARI stream: only what went wrong
    disruptions = args.disruptions or list(DISRUPTIONS)
    reports = asyncio.run(run_all(disruptions, work, args.service_root.resolve(),
                                  args.database_url))
    print(table(reports))
    for report in reports:
        problems = failures(report)
        print(f"\n{report.disruption}: " + ("every \"Done when\" item shown" if not problems
                                             else f"{len(problems)} not shown"))
        for problem in problems:
            print(f"  - {problem}")
    print(f"\nconfigs, service logs and what each caller heard: {work}")


if __name__ == "__main__":
    main()
