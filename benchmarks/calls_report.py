"""The figures `make bench-calls` prints: one table per load, a column per target."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from calls_observer import Tally
from calls_proc import ProcessWatch
from calls_sipp import SippResult
from calls_targets import Target

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Load:
    calls: int
    rate: float

    @classmethod
    def parse(cls, text: str) -> Load:
        calls, _, rate = text.partition("@")
        return cls(int(calls), float(rate or 2))

    @property
    def label(self) -> str:
        return f"{self.calls}@{self.rate:g}"


@dataclass(frozen=True, slots=True)
class Result:
    target: Target
    load: Load
    sipp: SippResult
    tally: Tally
    asterisk: ProcessWatch
    service: ProcessWatch | None
    recordings: int | None
    recording: str  # how the target records: "method, channels"
    seconds: float
    service_log: Path | None

    @property
    def service_cpu(self) -> float:
        return self.service.cpu_s if self.service is not None else 0.0

    @property
    def total_cpu(self) -> float:
        return self.asterisk.cpu_s + self.service_cpu

    def per_call(self, seconds: float) -> float:
        return seconds / max(1, self.load.calls)

    def prompt_ms(self, percent: float) -> float | None:
        return _percentile(self.tally.first_prompt.values(), percent)

    def answer_ms(self, percent: float) -> float | None:
        """Caller created -> answered (Up): the Stasis entry, the app's StasisStart, its answer."""
        return _percentile(self.tally.answered.values(), percent)

    def answer_to_prompt_ms(self, percent: float) -> float | None:
        """Answered -> first prompt started: the app's play request after its answer."""
        t = self.tally
        return _percentile((t.first_prompt[c] - t.answered[c] for c in t.first_prompt
                            if c in t.answered), percent)

    def logged(self, level: str) -> int | None:
        if self.service_log is None:
            return None
        needle = f'"level": "{level}"'
        text = self.service_log.read_text(encoding="utf-8", errors="replace")
        return sum(needle in line for line in text.splitlines())


def _percentile(found: Iterable[float], percent: float) -> float | None:
    values = sorted(found)
    if not values:
        return None
    return 1000 * values[max(0, math.ceil(percent / 100 * len(values)) - 1)]


Figure = Callable[[Result, Result | None, Result | None], str]


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def _cpu(r: Result, _a: Result | None, _f: Result | None) -> str:
    service = f" + {r.service_cpu:.1f}" if r.service is not None else ""
    return f"{r.asterisk.cpu_s:.1f}{service}"


def _per_call(r: Result, _a: Result | None, _f: Result | None) -> str:
    ms = 1000 * r.per_call(r.total_cpu)
    return f"{1000 * r.per_call(r.asterisk.cpu_s):.0f}" + (
        f" + {1000 * r.per_call(r.service_cpu):.0f} = {ms:.0f}" if r.service else "")


def _rss(watch: ProcessWatch | None, live: int) -> str:
    if watch is None:
        return "-"
    return f"{watch.rss_growth / MB / max(1, live):.2f}"


def _recordings(r: Result, _a: Result | None, _f: Result | None) -> str:
    if r.recordings is None:
        return "-"
    return f"{r.recordings}/{r.tally.agents_answered}"


def _bridges(r: Result, _a: Result | None, _f: Result | None) -> str:
    total = sum(r.tally.bridges.values())
    return "; ".join(f"{shape} {100 * n / total:.0f}%"
                     for shape, n in r.tally.bridges.most_common(2)) or "-"


def _channels(r: Result, _a: Result | None, _f: Result | None) -> str:
    """Channels Asterisk made per call, by driver (PJSIP is the caller)."""
    return ", ".join(f"{tech} {n / max(1, r.load.calls):.1f}"
                     for tech, n in r.tally.technologies.most_common()) or "-"


def _prompt(percent: float) -> Figure:
    return lambda r, _a, _f: _ms(r.prompt_ms(percent))


def _logged(level: str) -> Figure:
    return lambda r, _a, _f: "-" if (n := r.logged(level)) is None else str(n)


ROWS: list[tuple[str, Figure]] = [
    ("calls failed (SIPp: no BYE, error)", lambda r, _a, _f: f"{r.sipp.failed}/{r.load.calls}"),
    ("agents answered", lambda r, _a, _f: "-" if r.target.key == "floor"
     else str(r.tally.agents_answered)),
    ("callers sent to the fallback", lambda r, _a, _f: str(r.tally.fallback)),
    ("peak live calls", lambda r, _a, _f: str(r.tally.peak_live)),
    ("channels per call, by driver", _channels),
    ("ARI events per call (all channels)",
     lambda r, _a, _f: f"{r.tally.events / max(1, r.load.calls):.0f}"),
    ("CPU s: Asterisk + service", _cpu),
    ("CPU ms per call: Asterisk + service", _per_call),
    ("CPU per call vs anchor", lambda r, a, _f: _ratio(
        r.total_cpu, a.total_cpu if a else None)),
    ("Asterisk CPU vs anchor", lambda r, a, _f: _ratio(
        r.asterisk.cpu_s, a.asterisk.cpu_s if a else None)),
    ("first prompt p50 ms", _prompt(50)),
    ("first prompt p95 ms", _prompt(95)),
    ("first prompt p99 ms", _prompt(99)),
    ("first prompt p99 vs floor", lambda r, _a, f: _ratio(
        r.prompt_ms(99), f.prompt_ms(99) if f else None)),
    ("first prompts measured", lambda r, _a, _f: str(len(r.tally.first_prompt))),
    ("of which created -> answered p50 / p99 ms", lambda r, _a, _f:
        f"{_ms(r.answer_ms(50))} / {_ms(r.answer_ms(99))}"),
    ("of which answered -> prompt p50 / p99 ms", lambda r, _a, _f:
        f"{_ms(r.answer_to_prompt_ms(50))} / {_ms(r.answer_to_prompt_ms(99))}"),
    ("Asterisk peak RSS growth MB per live call",
     lambda r, _a, _f: _rss(r.asterisk, r.tally.peak_live)),
    ("service peak RSS growth MB per live call",
     lambda r, _a, _f: _rss(r.service, r.tally.peak_live)),
    ("recordings stored / agents answered", _recordings),
    ("recording (method, channels)", lambda r, _a, _f: r.recording),
    ("bridges of 2+ channels (GET /bridges samples)", _bridges),
    ("service log: errors / warnings", lambda r, a, f: (
        "-" if r.service_log is None
        else f"{_logged('error')(r, a, f)} / {_logged('warning')(r, a, f)}")),
    ("wall time s", lambda r, _a, _f: f"{r.seconds:.0f}"),
]


def print_table(load: Load, results: list[Result]) -> None:
    anchor = next((r for r in results if r.target.key == "anchor"), None)
    floor = next((r for r in results if r.target.key == "floor"), None)
    header = ["", *(r.target.label for r in results)]
    rows = [[name, *(figure(r, anchor, floor) for r in results)] for name, figure in ROWS]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{load.calls} calls at {load.rate:g}/s")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
              + " |")
