"""GET /metrics: Prometheus text read back with prometheus_client's own parser, after calls
made through the call engine over FakeAsterisk; the scrape token; no caller number shown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from ari_app.metrics import Metrics, add_metrics_route, call_stages
from ari_app.web.app import assemble
from ari_app.web.auth import ACCESS
from ivr.journey import JourneyEvent
from ivr.journey import JourneyType as J
from kernel.http.auth import TokenTable
from tests.unit.engine_harness import (
    CAROL,
    Hotline,
    HotlineFactory,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
)

TOKEN = "scrape-token-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@contextlib.asynccontextmanager
async def scraped(line: Hotline, metrics: Metrics) -> AsyncIterator[TestClient[Any, Any]]:
    metrics.watch(lambda: call_stages(line.engine), line.queues)
    counting = asyncio.create_task(metrics.count_journeys(line.journal))
    app = assemble(TokenTable(()), [lambda app: add_metrics_route(app, metrics)])
    try:
        async with TestClient(TestServer(app)) as client:
            yield client
    finally:
        counting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counting


async def scrape(client: TestClient[Any, Any]) -> tuple[Samples, str]:
    async with client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return samples, text


async def test_live_calls_queues_agents_and_ended_calls(hotline: HotlineFactory) -> None:
    line = await hotline()
    metrics = Metrics.create(TOKEN)
    async with scraped(line, metrics) as client:
        waiting = await line.call("+15550199", keys="3")  # the queue nobody works in
        await line.journal_event(waiting, J.QUEUE_JOIN)
        talking = await line.call("+15550188", keys="2")  # billing: carol
        leg = await line.answered_leg(talking, CAROL)
        await line.journal_event(talking, J.RECORDING, state="started")
        samples, text = await scrape(client)
        assert samples[("hotline_calls", (("stage", "queue"),))] == 1
        assert samples[("hotline_calls", (("stage", "talking"),))] == 1
        assert samples[("hotline_calls", (("stage", "ivr"),))] == 0
        assert samples[("hotline_queue_calls_waiting", (("queue", "empty"),))] == 1
        assert samples[("hotline_queue_longest_wait_seconds", (("queue", "empty"),))] > 0
        assert samples[("hotline_queue_calls_waiting", (("queue", "claims"),))] == 0
        assert samples[("hotline_agents", (("state", "on_call"), ("status", "available")))] == 1
        assert sum(v for (name, _), v in samples.items() if name == "hotline_agents") == 3
        assert "5550199" not in text and "5550188" not in text and "carol" not in text
        line.fake.hang_up(waiting.channel_id)
        line.fake.hang_up(leg)
        line.fake.hang_up(talking.channel_id)
        await line.finished(waiting)
        await line.finished(talking)
        await asyncio.sleep(0)  # the counting task reads what the hub was given
        samples, _ = await scrape(client)
    ended = {labels: v for (name, labels), v in samples.items()
             if name == "hotline_calls_ended_total"}
    assert ended == {(("outcome", "abandoned_in_queue"),): 1, (("outcome", "answered"),): 1}
    assert samples[("hotline_calls", (("stage", "queue"),))] == 0
    line.assert_clean()


async def test_recording_failures_are_counted(hotline: HotlineFactory) -> None:
    line = await hotline()
    metrics = Metrics.create(TOKEN)
    async with scraped(line, metrics) as client:
        await asyncio.sleep(0)  # subscribed
        failed = JourneyEvent("c1", J.RECORDING, 1.0, datetime.now(UTC),
                              {"state": "failed", "reason": "refused"})
        line.journal.publish(failed)
        line.journal.publish(JourneyEvent("c1", J.RECORDING, 1.0, datetime.now(UTC),
                                          {"state": "started"}))
        await asyncio.sleep(0)
        samples, _ = await scrape(client)
    assert samples[("hotline_recording_failures_total", ())] == 1


async def test_ari_requests_are_timed_by_method(hotline: HotlineFactory) -> None:
    line = await hotline()
    metrics = Metrics.create(TOKEN)
    timed = metrics.timed(line.fake)
    await timed.request("GET", "/channels", {}, None)
    await timed.request("get", "/bridges", {}, None)
    async with scraped(line, metrics) as client:
        samples, _ = await scrape(client)
    assert samples[("hotline_ari_request_seconds_count", (("method", "GET"),))] == 2
    assert samples[("hotline_ari_request_seconds_bucket", (("le", "+Inf"), ("method", "GET")))] == 2


@pytest.mark.parametrize(("token", "sent", "status"), [
    (None, f"Bearer {TOKEN}", 404), (TOKEN, None, 401), (TOKEN, "Bearer wrong", 401),
    (TOKEN, TOKEN, 401), (TOKEN, f"Bearer {TOKEN}", 200),
])  # fmt: skip
async def test_the_scrape_token(token: str | None, sent: str | None, status: int) -> None:
    assert ACCESS[("GET", "/metrics")].roles is None  # open: the route checks its own token
    app = assemble(TokenTable(()), [lambda app: add_metrics_route(app, Metrics.create(token))])
    headers = {} if sent is None else {"Authorization": sent}
    async with TestClient(TestServer(app)) as client, client.get("/metrics",
                                                                 headers=headers) as resp:
        assert resp.status == status
