"""kernel.heap.settle: start-up's objects frozen out of the collector's way, rarer young passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kernel import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_settle_freezes_what_lives_and_raises_only_the_young_threshold() -> None:
    kept = [object() for _ in range(100)]
    _, middle, old = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, old)
