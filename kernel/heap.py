"""Keep the garbage collector out of callers' ears once the service has started.

Measured at 150 live calls (`make bench-calls`, timing gc callbacks in the service): with
Python's default thresholds a full collection came every ~20 s and walked every object the
start-up made (imports, the flow, grammars, models), 140 ms typical and up to 0.5 s, while no
caller's prompt could start: the first-prompt p99 was 7x the minimal ARI app's. Those objects
live as long as the process, so after start-up `settle()` moves them out of the collector's
sight (`gc.freeze()`), and a higher first threshold makes young collections rarer (each one
is still small: a call makes a few thousand objects in its life).
"""

from __future__ import annotations

import gc

import structlog

log = structlog.get_logger(__name__)

YOUNG_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


def settle() -> None:
    """Call once everything built at start-up is in place, before calls arrive."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    log.info("heap.settled", frozen_objects=gc.get_freeze_count(),
             thresholds=list(gc.get_threshold()))
