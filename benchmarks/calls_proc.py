"""CPU and memory of one process, read from /proc while a benchmark runs.

CPU is utime + stime of /proc/<pid>/stat (every thread of the process), as a delta over the
run; memory is VmRSS of /proc/<pid>/status, sampled, so the peak is the peak of the samples.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process so far, in seconds (fields 14 and 15 of its stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass(slots=True)
class ProcessWatch:
    """One process over one run: CPU from start() to stop(), RSS sampled by sample()."""

    name: str
    pid: int
    cpu_start: float = 0.0
    cpu_s: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0
    samples: list[int] = field(default_factory=list)

    def start(self) -> None:
        self.cpu_start = cpu_seconds(self.pid)
        self.rss_start = self.rss_peak = rss_bytes(self.pid)

    def sample(self) -> None:
        try:
            rss = rss_bytes(self.pid)
        except OSError:
            return
        self.samples.append(rss)
        self.rss_peak = max(self.rss_peak, rss)

    def stop(self) -> None:
        self.cpu_s = cpu_seconds(self.pid) - self.cpu_start

    @property
    def rss_growth(self) -> int:
        return max(0, self.rss_peak - self.rss_start)


async def sample_every(watches: list[ProcessWatch], period_s: float,
                       stop: asyncio.Event) -> None:
    """Sample every watch's RSS each `period_s` until `stop` is set."""
    while not stop.is_set():
        for watch in watches:
            watch.sample()
        try:
            async with asyncio.timeout(period_s):
                await stop.wait()
        except TimeoutError:
            pass
