"""The HTTP knowledge client end to end against the reference server on a random port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from knowledge_client import wire
from knowledge_client.breaker import BreakerState, CircuitBreaker
from knowledge_client.embedded import EmbeddedKnowledge
from knowledge_client.http_client import HttpKnowledgeClient
from knowledge_client.model import Feedback, Outcome, Query, Unanswered
from knowledge_client.outbox import Outbox, OutboxedSource, SqliteOutboxStore
from knowledge_client.port import KnowledgeConfigError, KnowledgeRejected, KnowledgeUnavailable
from knowledge_client.reference_server import Failure, ReferenceServer
from knowledge_client.settings import KnowledgeSettings, build_source

TOKEN = "test-token"
TOW = Query("my car broke down on the highway", call_id="call-1", intent="roadside")


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kb() -> AsyncIterator[EmbeddedKnowledge]:
    async with EmbeddedKnowledge() as source:
        yield source


@pytest.fixture
async def server(kb: EmbeddedKnowledge) -> AsyncIterator[ReferenceServer]:
    srv = ReferenceServer(kb, token=TOKEN)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def client(server: ReferenceServer) -> AsyncIterator[HttpKnowledgeClient]:
    async with HttpKnowledgeClient(server.url, token=TOKEN, deadline_s=0.5) as c:
        yield c


async def eventually(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    """Poll: the outbox and the server report through plain attributes, not events."""
    async with asyncio.timeout(within_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.01)


def unanswered(text: str = "do you insure boats") -> Unanswered:
    return Unanswered("call-9", text, ("hello", text), None, Outcome.TRANSFERRED,
                      datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))


async def test_search_returns_ranked_items(client: HttpKnowledgeClient,
                                           server: ReferenceServer) -> None:
    result = await client.search(TOW, limit=2)
    assert result.items[0].item_id == "roadside-tow"
    assert len(result.items) <= 2 and result.items[0].answer_spoken
    [request] = server.requests_to(wire.SEARCH_PATH)
    assert request.authorization == f"Bearer {TOKEN}"
    sent = wire.SearchRequest.model_validate_json(request.body)
    assert (sent.channel, sent.call_id, sent.intent, sent.limit) == (
        "voice", "call-1", "roadside", 2)


async def test_a_slow_service_is_unavailable_within_the_deadline(
    client: HttpKnowledgeClient, server: ReferenceServer
) -> None:
    server.latency_s = 5.0
    with pytest.raises(KnowledgeUnavailable, match="no response within"):
        await client.search(TOW)
    assert len(server.requests_to(wire.SEARCH_PATH)) == 1, "a timeout is not retried"


async def test_a_hung_service_is_unavailable(client: HttpKnowledgeClient,
                                             server: ReferenceServer) -> None:
    server.fail(Failure.HANG)
    with pytest.raises(KnowledgeUnavailable):
        await client.search(TOW)
    assert server.requests_to(wire.SEARCH_PATH)


async def test_repeated_500s_open_the_breaker_then_calls_fail_without_requests(
    server: ReferenceServer,
) -> None:
    breaker = CircuitBreaker(failure_threshold=3, cool_down_s=30.0, clock=FakeClock())
    async with HttpKnowledgeClient(server.url, token=TOKEN, breaker=breaker) as client:
        server.fail(Failure.ERROR_500)
        for n in range(3):
            with pytest.raises(KnowledgeUnavailable, match="HTTP 500"):
                await client.search(Query(f"question {n}"))
        assert breaker.state() == BreakerState.OPEN
        for n in range(5):
            with pytest.raises(KnowledgeUnavailable, match="circuit open"):
                await client.search(Query(f"another {n}"))
    assert len(server.requests_to(wire.SEARCH_PATH)) == 3, "500 is not retried, open sends none"


async def test_half_open_probe_recovers_or_reopens(server: ReferenceServer) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cool_down_s=10.0, clock=clock)
    async with HttpKnowledgeClient(server.url, token=TOKEN, breaker=breaker) as client:
        server.fail(Failure.ERROR_500)
        for text in ("a", "b"):
            with pytest.raises(KnowledgeUnavailable):
                await client.search(Query(text))
        clock.t = 10.0  # cool-down over: one probe goes out, and fails
        with pytest.raises(KnowledgeUnavailable, match="HTTP 500"):
            await client.search(Query("c"))
        assert breaker.state() == BreakerState.OPEN
        server.fail(Failure.NONE)
        with pytest.raises(KnowledgeUnavailable, match="circuit open"):
            await client.search(TOW)
        clock.t = 20.0
        assert (await client.search(TOW)).items[0].item_id == "roadside-tow"
        assert breaker.state() == BreakerState.CLOSED
    assert len(server.requests_to(wire.SEARCH_PATH)) == 4


async def test_a_503_is_retried_once_within_the_deadline(client: HttpKnowledgeClient,
                                                         server: ReferenceServer) -> None:
    server.fail(Failure.ERROR_503, times=1)
    assert (await client.search(TOW)).items[0].item_id == "roadside-tow"
    assert len(server.requests_to(wire.SEARCH_PATH)) == 2


async def test_a_refused_connection_is_retried_then_unavailable(
    server: ReferenceServer,
) -> None:
    url = server.url
    await server.stop()
    async with HttpKnowledgeClient(url, deadline_s=2.0, retries=1) as client:
        with pytest.raises(KnowledgeUnavailable, match="cannot connect"):
            await client.search(TOW)
        assert client.breaker.failures == 2, "the first attempt and its one retry"


async def test_a_malformed_body_is_unavailable(client: HttpKnowledgeClient,
                                               server: ReferenceServer) -> None:
    server.fail(Failure.MALFORMED)
    with pytest.raises(KnowledgeUnavailable, match="malformed"):
        await client.search(TOW)
    assert client.breaker.failures == 1


async def test_a_wrong_token_is_rejected(server: ReferenceServer) -> None:
    async with HttpKnowledgeClient(server.url, token="wrong") as client:
        with pytest.raises(KnowledgeRejected, match="HTTP 401"):
            await client.search(TOW)
        assert client.breaker.failures == 0, "the service is up; it said no"


async def test_a_cache_hit_does_not_call_the_service(client: HttpKnowledgeClient,
                                                     server: ReferenceServer) -> None:
    first = await client.search(Query("I need a tow truck", call_id="a"))
    again = await client.search(Query("  I NEED a tow truck!", call_id="b"))
    assert again == first
    assert len(server.requests_to(wire.SEARCH_PATH)) == 1
    await client.search(Query("I need a tow truck", intent="roadside"))
    assert len(server.requests_to(wire.SEARCH_PATH)) == 2, "another intent is another key"


async def test_a_blank_question_is_answered_without_a_request(
    client: HttpKnowledgeClient, server: ReferenceServer
) -> None:
    assert (await client.search(Query("  "))).items == ()
    assert (await client.search(Query("x" * 5000), limit=50)).items == ()
    [request] = server.requests_to(wire.SEARCH_PATH)
    sent = wire.SearchRequest.model_validate_json(request.body)
    assert (len(sent.text), sent.limit) == (wire.MAX_TEXT, wire.MAX_LIMIT)


@pytest.mark.parametrize("url", ["ftp://kb.local", "http://", "kb.local:8090", "", "http:///v1",
                                 "http://kb.local:99999", "https://kb.local/?x=1"])
def test_a_bad_url_fails_at_construction(url: str) -> None:
    with pytest.raises(KnowledgeConfigError, match="knowledge service URL"):
        HttpKnowledgeClient(url)
    with pytest.raises(KnowledgeConfigError, match="knowledge.url: "):
        KnowledgeSettings(source="http", url=url)


async def test_reports_reach_the_service_and_duplicates_are_dropped(
    client: HttpKnowledgeClient, server: ReferenceServer
) -> None:
    fb = Feedback("roadside-tow", "call-1", True, Outcome.CONTAINED)
    await client.feedback(fb)
    await client.feedback(fb)
    await client.report_unanswered(unanswered())
    assert list(server.feedback.values()) == [fb]
    assert list(server.unanswered.values()) == [unanswered()]
    assert len(server.requests_to(wire.FEEDBACK_PATH)) == 2


async def test_the_outbox_keeps_reports_while_the_service_is_down_and_delivers_later(
    kb: EmbeddedKnowledge, server: ReferenceServer, tmp_path: Path
) -> None:
    url = server.url
    port = int(url.rsplit(":", 1)[1])
    await server.stop()
    store = SqliteOutboxStore(tmp_path / "outbox.sqlite3")
    breaker = CircuitBreaker(failure_threshold=2, cool_down_s=0.05)
    async with HttpKnowledgeClient(url, token=TOKEN, breaker=breaker) as client:
        outbox = Outbox(client, store, initial_backoff_s=0.02, max_backoff_s=0.1)
        async with asyncio.TaskGroup() as tasks:
            runner = tasks.create_task(outbox.run())
            await outbox.report_unanswered(unanswered())
            await outbox.feedback(Feedback("claim-status", "call-9", False, Outcome.TRANSFERRED))
            await eventually(lambda: outbox.failures >= 3)
            assert await store.count() == 2

            back = ReferenceServer(kb, token=TOKEN)
            await back.start(port=port)
            try:
                await eventually(lambda: len(back.unanswered) == 1 and len(back.feedback) == 1)
                await eventually(lambda: outbox.failures == 0)
                # A delivered report leaves the store just after the server has it.
                async with asyncio.timeout(5):
                    while True:
                        if await store.count() == 0:
                            break
                        await asyncio.sleep(0.01)
            finally:
                runner.cancel()
                await back.stop()
    assert list(back.unanswered.values()) == [unanswered()]
    await store.aclose()


async def test_stored_reports_survive_a_restart(server: ReferenceServer, tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    async with HttpKnowledgeClient(server.url, token=TOKEN) as client:
        first = SqliteOutboxStore(path)
        await Outbox(client, first).report_unanswered(unanswered("first run"))
        await first.aclose()

        second = SqliteOutboxStore(path)
        assert await second.count() == 1
        assert not await Outbox(client, second).flush()
        assert await second.count() == 0
        await second.aclose()
    assert [u.text for u in server.unanswered.values()] == ["first run"]


async def test_a_refused_report_is_parked_not_retried(server: ReferenceServer,
                                                      tmp_path: Path) -> None:
    store = SqliteOutboxStore(tmp_path / "outbox.sqlite3")
    async with HttpKnowledgeClient(server.url, token="wrong") as client:
        outbox = Outbox(client, store)
        await outbox.report_unanswered(unanswered())
        assert not await outbox.flush()
    assert await store.count() == 0
    assert len(server.requests_to(wire.UNANSWERED_PATH)) == 1
    await store.aclose()


async def test_build_source_http_searches_and_reports_through_the_outbox(
    server: ReferenceServer,
) -> None:
    settings = KnowledgeSettings(source="http", url=server.url, token=TOKEN)
    async with build_source(settings) as source:
        assert isinstance(source, OutboxedSource)
        assert (await source.search(TOW)).items[0].item_id == "roadside-tow"
        await source.report_unanswered(unanswered())
        await eventually(lambda: len(server.unanswered) == 1)
