"""A small TTL + LRU cache for search results, on an injected clock. Pure, not thread-safe
(it lives on the event loop)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from knowledge_client.faq import words
from knowledge_client.model import Query

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

CacheKey = tuple[str, str, str]


def cache_key(query: Query) -> CacheKey:
    """Normalised text (case, punctuation, spacing), language and intent: "Where's my claim?"
    and "wheres my claim" share an entry. The call id and context do not take part."""
    return " ".join(words(query.text)), query.language.casefold(), query.intent or ""


class TtlLru(Generic[K, V]):
    def __init__(
        self,
        max_entries: int = 512,
        ttl_s: float = 300.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_s <= 0:
            raise ValueError(f"invalid cache: max_entries={max_entries} ttl_s={ttl_s}")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
