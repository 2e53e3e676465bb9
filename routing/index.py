"""Incremental indexes for the matcher: free agents by (queue, rank, tier), waiting calls by bucket.

Pure data structures (no I/O). Both use lazy deletion: removing or re-keying an item only updates
a dictionary; stale heap entries are dropped when they reach the top, and a heap is rebuilt when
more than half of it is stale. So every update is O(log n) and finding the best is amortised
O(log n), whatever the number of agents and calls.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)
K = TypeVar("K", bound=tuple[object, ...])


class LazyHeap(Generic[T, K]):
    """A min-heap of items by key with O(log n) removal and re-keying."""

    __slots__ = ("_heap", "_keys")

    def __init__(self) -> None:
        self._heap: list[tuple[K, T]] = []
        self._keys: dict[T, K] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, item: object) -> bool:
        return item in self._keys

    def __iter__(self) -> Iterator[T]:
        return iter(self._keys)

    def put(self, item: T, key: K) -> None:
        if self._keys.get(item) == key:
            return
        self._keys[item] = key
        heapq.heappush(self._heap, (key, item))
        self._compact()

    def discard(self, item: T) -> None:
        if self._keys.pop(item, None) is not None:
            self._compact()

    def key(self, item: T) -> K | None:
        return self._keys.get(item)

    def best(self, skip: Callable[[T], bool] | None = None) -> T | None:
        """The item with the smallest key that `skip` does not reject."""
        heap, keys = self._heap, self._keys
        while heap and keys.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        if not heap or skip is None or not skip(heap[0][1]):
            return heap[0][1] if heap else None
        held = [heapq.heappop(heap)]
        found: T | None = None
        while heap:
            key, item = heap[0]
            if keys.get(item) != key:
                heapq.heappop(heap)
            elif skip(item):
                held.append(heapq.heappop(heap))
            else:
                found = item
                break
        for entry in held:
            heapq.heappush(heap, entry)
        return found

    def _compact(self) -> None:
        if len(self._heap) > 2 * len(self._keys) + 32:
            self._heap = [(k, i) for i, k in self._keys.items()]
            heapq.heapify(self._heap)


class RingSet:
    """Agent positions in order, for round robin: the first one after a position, wrapping."""

    __slots__ = ("_items", "_members")

    def __init__(self) -> None:
        self._items: list[int] = []
        self._members: set[int] = set()

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def put(self, item: int, key: object = None) -> None:
        if item not in self._members:
            self._members.add(item)
            insort(self._items, item)

    def discard(self, item: int) -> None:
        if item in self._members:
            self._members.discard(item)
            self._items.remove(item)

    def after(self, last: int, skip: Callable[[int], bool] | None = None) -> int | None:
        items = self._items
        start = bisect_right(items, last)
        for i in range(len(items)):
            item = items[(start + i) % len(items)]
            if skip is None or not skip(item):
                return item
        return None
