"""HTTP client of a knowledge service speaking docs/knowledge-contract.md.

Per search: a cache lookup, then at most `1 + retries` attempts inside one deadline (default
800 ms, the self-service budget of research/ivr.md §6.2). A retry happens only for the
idempotent search, only after a refused connection or a 503, and only when at least
`min_retry_budget_s` of the deadline is left. Every attempt passes the circuit breaker: when the
service keeps failing, calls fail at once without a request until the cool-down has passed.
Reports (feedback, unanswered) are sent once with their own timeout; `outbox.Outbox` retries
them and the service deduplicates them by their content id.

Every failure is a KnowledgeUnavailable (a refusal with a 4xx is its subclass KnowledgeRejected):
the call flow offers an agent and never sees aiohttp's exceptions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
import structlog

from knowledge_client import wire
from knowledge_client.breaker import CircuitBreaker
from knowledge_client.cache import CacheKey, TtlLru, cache_key
from knowledge_client.model import Feedback, Query, SearchResult, Unanswered
from knowledge_client.port import KnowledgeConfigError, KnowledgeRejected, KnowledgeUnavailable

log = structlog.get_logger(__name__)

_RETRYABLE_STATUS = frozenset({503})
_BREAKER_IGNORES = frozenset(range(400, 500)) - {408, 429}  # the service is up, it said no


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; KnowledgeConfigError when it cannot work."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"}:
        raise KnowledgeConfigError(
            f"knowledge service URL {base_url!r}: must start with http:// or https://"
        )
    if not parts.hostname:
        raise KnowledgeConfigError(f"knowledge service URL {base_url!r}: has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise KnowledgeConfigError(f"knowledge service URL {base_url!r}: {exc}") from exc
    if parts.query or parts.fragment:
        raise KnowledgeConfigError(
            f"knowledge service URL {base_url!r}: no query or fragment, only scheme://host/path"
        )
    return base_url.strip().rstrip("/")


class _AttemptFailed(Exception):
    def __init__(self, reason: str, *, retryable: bool, rejected: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.rejected = rejected


class HttpKnowledgeClient:
    """KnowledgeSource over HTTP. Use `async with` (or `aclose()`) to release connections."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        deadline_s: float = 0.8,
        retries: int = 1,
        min_retry_budget_s: float = 0.15,
        report_timeout_s: float = 3.0,
        breaker: CircuitBreaker | None = None,
        cache: TtlLru[CacheKey, SearchResult] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = check_base_url(base_url)
        if deadline_s <= 0 or report_timeout_s <= 0 or retries < 0:
            raise KnowledgeConfigError(
                f"knowledge client: deadline_s={deadline_s}, report_timeout_s="
                f"{report_timeout_s} must be positive and retries={retries} not negative"
            )
        self.deadline_s = deadline_s
        self.retries = retries
        self.min_retry_budget_s = min_retry_budget_s
        self.report_timeout_s = report_timeout_s
        self.breaker = breaker or CircuitBreaker()
        self.cache: TtlLru[CacheKey, SearchResult] = cache or TtlLru()
        self._clock = clock
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        if not query.text.strip() or limit < 1:
            return SearchResult(())
        key = cache_key(query)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        body = wire.search_request(query, limit)
        deadline = self._clock() + self.deadline_s
        attempt = 0
        while True:
            try:
                raw = await self._attempt(wire.SEARCH_PATH, body, deadline - self._clock())
                result = wire.parse_search_response(raw)
            except wire.WireError as exc:
                self.breaker.record_failure()
                log.warning("knowledge.malformed_response", path=wire.SEARCH_PATH, error=str(exc))
                raise KnowledgeUnavailable(f"malformed search response: {exc}") from exc
            except _AttemptFailed as exc:
                left = deadline - self._clock()
                if exc.retryable and attempt < self.retries and left >= self.min_retry_budget_s:
                    attempt += 1
                    log.info("knowledge.search_retry", reason=str(exc), left_s=round(left, 3))
                    continue
                raise _unavailable(exc) from exc
            self.cache.put(key, result)
            return result

    async def feedback(self, fb: Feedback) -> None:
        await self._report(wire.FEEDBACK_PATH, wire.feedback_body(fb))

    async def report_unanswered(self, u: Unanswered) -> None:
        await self._report(wire.UNANSWERED_PATH, wire.unanswered_body(u))

    async def _report(self, path: str, body: dict[str, Any]) -> None:
        try:
            await self._attempt(path, body, self.report_timeout_s)
        except _AttemptFailed as exc:
            raise _unavailable(exc) from exc

    async def _attempt(self, path: str, body: dict[str, Any], budget_s: float) -> bytes:
        """One request under the breaker; records its verdict there. Returns a 200's body."""
        if budget_s <= 0:
            raise _AttemptFailed("deadline exceeded before the request", retryable=False)
        if not self.breaker.allow():
            raise _AttemptFailed(
                f"circuit open, next probe in {self.breaker.retry_after():.1f} s", retryable=False
            )
        try:
            async with asyncio.timeout(budget_s):
                status, raw = await self._post(path, body)
        except TimeoutError as exc:
            self.breaker.record_failure()
            raise _AttemptFailed(f"no response within {budget_s:.3f} s", retryable=False) from exc
        except aiohttp.ClientConnectorError as exc:  # nothing was sent: safe to retry
            self.breaker.record_failure()
            raise _AttemptFailed(f"cannot connect: {exc.os_error}", retryable=True) from exc
        except aiohttp.ClientError as exc:
            self.breaker.record_failure()
            raise _AttemptFailed(f"{type(exc).__name__}: {exc}", retryable=False) from exc
        except BaseException:  # cancelled (the caller hung up): no verdict on the service
            self.breaker.release()
            raise
        if status == 200:
            self.breaker.record_success()
            return raw
        reason = f"HTTP {status} from {path}: {wire.error_message(raw)}"
        if status in _BREAKER_IGNORES:
            self.breaker.record_success()
            raise _AttemptFailed(reason, retryable=False, rejected=True)
        self.breaker.record_failure()
        raise _AttemptFailed(reason, retryable=status in _RETRYABLE_STATUS)

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
        async with self._session.post(self.base_url + path, json=body) as response:
            return response.status, await response.read()


def _unavailable(exc: _AttemptFailed) -> KnowledgeUnavailable:
    log.warning("knowledge.request_failed", reason=str(exc))
    if exc.rejected:
        return KnowledgeRejected(str(exc))
    return KnowledgeUnavailable(str(exc))
