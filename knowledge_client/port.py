"""The knowledge-service port: what the call flow depends on, whatever answers it.

Implementations: `embedded.EmbeddedKnowledge` (the bundled FAQ, the default) and
`http_client.HttpKnowledgeClient` (a knowledge service speaking docs/knowledge-contract.md).
"""

from __future__ import annotations

from typing import Protocol, Self

from knowledge_client.model import Feedback, Query, SearchResult, Unanswered


class KnowledgeError(Exception):
    """Base of this room's errors."""


class KnowledgeUnavailable(KnowledgeError):
    """The source cannot answer now: down, too slow for the deadline, circuit open, a 5xx, a
    malformed body. The call flow treats it like "no answer" and offers an agent; never fatal."""


class KnowledgeRejected(KnowledgeUnavailable):
    """The service answered and refused this request (a 4xx): sending the same request again
    will not help. The outbox parks such a report instead of retrying it."""


class KnowledgeConfigError(KnowledgeError):
    """The configuration cannot work (bad URL, unreadable FAQ file). Raised at startup only."""


class KnowledgeSource(Protocol):
    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        """Ranked items for the query, best first; empty when nothing fits.

        Raises KnowledgeUnavailable; returns within the source's deadline.
        """
        ...

    async def feedback(self, fb: Feedback) -> None:
        """Record whether an answer helped. Raises KnowledgeUnavailable."""
        ...

    async def report_unanswered(self, u: Unanswered) -> None:
        """Record a question self-service could not answer. Raises KnowledgeUnavailable."""
        ...


class ManagedKnowledgeSource(KnowledgeSource, Protocol):
    """A source with a lifetime: `async with` builds its index or opens its connections and
    starts what runs in the background; leaving stops it. What `settings.build_source` returns."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...
