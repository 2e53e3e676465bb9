"""Knowledge-source settings and the one place that turns them into a source.

The service's YAML configuration maps onto `KnowledgeSettings`; `build_source` checks it
without I/O (a bad URL stops startup with a message naming it) and returns a source to enter
with `async with` (the embedded index is built, or the outbox starts delivering, on entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from knowledge_client.breaker import CircuitBreaker
from knowledge_client.cache import TtlLru
from knowledge_client.embedded import DEFAULT_FAQ, EmbeddedKnowledge
from knowledge_client.http_client import HttpKnowledgeClient, check_base_url
from knowledge_client.outbox import MemoryOutboxStore, Outbox, OutboxedSource, SqliteOutboxStore
from knowledge_client.port import KnowledgeConfigError, ManagedKnowledgeSource
from knowledge_client.ranking import DEFAULT_CLOSE_MARGIN, DEFAULT_MIN_SCORE, check_thresholds

SourceKind = Literal["embedded", "http"]


@dataclass(frozen=True, slots=True)
class KnowledgeSettings:
    """`source`: "embedded" (the bundled FAQ, default) or "http" (needs `url`).
    `deadline_s`: per search, the caller hears "one moment" meanwhile.
    `min_score`, `close_margin`: the funnel thresholds, see ranking.py.
    `faq_file`: the embedded source's FAQ. `record_file`: where the embedded source appends
    feedback and unanswered questions (JSON lines; None keeps them in memory).
    `outbox_file`: where undelivered reports to an HTTP service wait (SQLite; None keeps them in
    memory, lost on restart). The rest tunes the HTTP client's breaker and cache."""

    source: SourceKind = "embedded"
    url: str | None = None
    token: str | None = None
    deadline_s: float = 0.8
    min_score: float = DEFAULT_MIN_SCORE
    close_margin: float = DEFAULT_CLOSE_MARGIN
    faq_file: Path = DEFAULT_FAQ
    record_file: Path | None = None
    outbox_file: Path | None = None
    retries: int = 1
    breaker_failures: int = 5
    breaker_cool_down_s: float = 10.0
    cache_ttl_s: float = 300.0
    cache_entries: int = 512

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """KnowledgeConfigError naming the first field that cannot work."""
        if self.source not in ("embedded", "http"):
            raise KnowledgeConfigError(
                f"knowledge.source: {self.source!r}, expected 'embedded' or 'http'"
            )
        if self.source == "http":
            if not self.url:
                raise KnowledgeConfigError("knowledge.url: required when knowledge.source is http")
            try:
                check_base_url(self.url)
            except KnowledgeConfigError as exc:
                raise KnowledgeConfigError(f"knowledge.url: {exc}") from exc
        for name in ("deadline_s", "breaker_cool_down_s", "cache_ttl_s"):
            if getattr(self, name) <= 0:
                raise KnowledgeConfigError(f"knowledge.{name}: must be positive")
        for name in ("breaker_failures", "cache_entries"):
            if getattr(self, name) < 1:
                raise KnowledgeConfigError(f"knowledge.{name}: must be at least 1")
        if self.retries < 0:
            raise KnowledgeConfigError("knowledge.retries: must not be negative")
        try:
            check_thresholds(self.min_score, self.close_margin)
        except ValueError as exc:
            raise KnowledgeConfigError(f"knowledge: {exc}") from exc


def build_source(settings: KnowledgeSettings) -> ManagedKnowledgeSource:
    """The configured source, not yet entered. Raises KnowledgeConfigError."""
    if settings.source == "embedded":
        return EmbeddedKnowledge(settings.faq_file, deadline_s=settings.deadline_s,
                                 record_path=settings.record_file)
    assert settings.url is not None  # checked above
    client = HttpKnowledgeClient(
        settings.url,
        token=settings.token,
        deadline_s=settings.deadline_s,
        retries=settings.retries,
        breaker=CircuitBreaker(failure_threshold=settings.breaker_failures,
                               cool_down_s=settings.breaker_cool_down_s),
        cache=TtlLru(settings.cache_entries, settings.cache_ttl_s),
    )
    store = (SqliteOutboxStore(settings.outbox_file) if settings.outbox_file is not None
             else MemoryOutboxStore())
    return OutboxedSource(client, Outbox(client, store))
