"""Where the event loop stalls: a measuring aid for `make bench-calls` (issue 9), off unless
`HOTLINE_STALL_WATCH=<file>` is set for `hotline run`.

A thread asks the loop every `every_s` to run a marker callback and times how long the loop
takes to get to it. While the loop is late by more than `stall_s`, the thread samples the main
thread's stack every millisecond, so the report says which code held the loop, by how much, and
how often. Garbage collections are timed too (`gc.callbacks`), by generation. The report is
written when the process exits. It costs a wake-up every few milliseconds: measure latency with
it off, find causes with it on.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ENV = "HOTLINE_STALL_WATCH"


class StallWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, report: Path, *,
                 every_s: float = 0.004, stall_s: float = 0.006) -> None:  # fmt: skip
        self._loop = loop
        self._report = report
        self._every_s = every_s
        self._stall_s = stall_s
        self._main = threading.main_thread().ident
        self._stalls: list[float] = []
        self._stacks: Counter[str] = Counter()  # stack -> milliseconds sampled in stalls
        self._gc: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_started = 0.0
        self._stop = threading.Event()

    def start(self, *, report_at_exit: bool = True) -> None:
        gc.callbacks.append(self._on_gc)
        threading.Thread(target=self._watch, name="stall-watch", daemon=True).start()
        if report_at_exit:
            atexit.register(self.write)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._gc[info["generation"]].append(time.perf_counter() - self._gc_started)

    def _watch(self) -> None:
        while not self._stop.wait(self._every_s):
            reached = threading.Event()
            asked = time.perf_counter()
            try:
                self._loop.call_soon_threadsafe(reached.set)
            except RuntimeError:
                return  # the loop is closed
            if reached.wait(self._stall_s):
                continue
            while not reached.wait(0.001):
                self._sample()
            self._stalls.append(time.perf_counter() - asked)

    def _sample(self) -> None:
        frame = sys._current_frames().get(self._main or 0)
        if frame is None:
            return
        stack = traceback.extract_stack(frame)
        ours = [f for f in stack if "/asyncio/" not in f.filename][-8:]
        self._stacks["\n".join(f"  {_short(f.filename)}:{f.lineno} {f.name}"
                               for f in ours)] += 1

    def write(self) -> None:
        self._stop.set()
        lines = [f"loop stalls over {self._stall_s * 1000:.0f} ms: {len(self._stalls)}"]
        for low, high in ((0.006, 0.01), (0.01, 0.02), (0.02, 0.05), (0.05, 1e9)):
            n = sum(1 for s in self._stalls if low <= s < high)
            lines.append(f"  {low * 1000:.0f}-{min(high, 9.999) * 1000:.0f} ms: {n}")
        for generation, times in self._gc.items():
            if times:
                times.sort()
                lines.append(f"gc generation {generation}: {len(times)} collections, p50 "
                             f"{times[len(times) // 2] * 1000:.1f} ms, max "
                             f"{times[-1] * 1000:.1f} ms, total {sum(times):.2f} s")
        lines.append("where the loop was held (milliseconds sampled, top 25):")
        for stack, ms in self._stacks.most_common(25):
            lines.append(f"{ms} ms\n{stack}")
        self._report.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def watch_if_asked(loop: asyncio.AbstractEventLoop) -> None:
    """Start the watch when HOTLINE_STALL_WATCH names a report file."""
    report = os.environ.get(ENV)
    if report:
        StallWatch(loop, Path(report)).start()
