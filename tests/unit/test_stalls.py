"""The stall watch (a measuring aid for make bench-calls) finds the code that held the loop."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

from kernel.stalls import StallWatch


def hold_the_loop_for(seconds: float) -> None:
    time.sleep(seconds)  # what a blocking call on the event loop looks like


async def test_a_blocking_call_is_reported_with_where_it_held_the_loop(tmp_path: Path) -> None:
    report = tmp_path / "stalls.txt"
    watch = StallWatch(asyncio.get_running_loop(), report)
    watch.start(report_at_exit=False)
    try:
        await asyncio.sleep(0.05)
        hold_the_loop_for(0.08)
        await asyncio.sleep(0.05)
        gc.collect()
    finally:
        watch.write()
        gc.callbacks.remove(watch._on_gc)
    text = report.read_text()
    stalls = int(text.splitlines()[0].rsplit(": ", 1)[1])
    assert stalls >= 1, text
    assert "hold_the_loop_for" in text and "test_stalls.py" in text, text
    assert "gc generation 2: " in text, text
