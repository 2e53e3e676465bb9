"""Prometheus metrics at GET /metrics, read from the live service at scrape time.

Gauges are read when scraped, from what the service already holds: the engine's live calls by
stage, the queue actor's snapshot (calls waiting and the longest wait per queue, agents by
status and state); counters come from the journey stream (calls ended by outcome, recording
failures) and from a timing wrapper around the ARI transport (request latency by method).
No label carries personal data: queue ids, stages, states, outcomes and HTTP methods only (no
caller number, no agent id: per-person figures are the KPI reports' business).

Access: the route is open in the access table and checks a scrape token of its own
(`HOTLINE_METRICS_TOKEN`, sent as `Authorization: Bearer …`), which grants nothing else, so a
Prometheus server needs no person's or API client's credentials. Without a token configured
/metrics answers 404: metrics are off.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ari_app.ari.transport import AriResponse, AriTransport
from ari_app.calls.checkpoint import Stage
from ari_app.calls.engine import CallEngine
from ari_app.calls.hub import EventHub
from ivr.journey import JourneyType
from kernel.http.errors import ApiError
from kernel.http.openapi import Route
from routing.actor import QueueService

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def call_stages(engine: CallEngine) -> dict[str, int]:
    """Live calls by where they stand (every stage named, 0 included)."""
    found = Tally(s.call.journal.checkpoint.stage.value
                  for s in engine.dispatcher.sessions.values())  # fmt: skip
    return {stage.value: found.get(stage.value, 0) for stage in Stage}


class LiveCollector(Collector):
    """The gauges, read from the engine and the queue actor when scraped."""

    def __init__(self, stages: Callable[[], Mapping[str, int]], queues: QueueService) -> None:
        self._stages = stages
        self._queues = queues

    def collect(self) -> Iterator[Metric]:
        calls = GaugeMetricFamily("hotline_calls", "live calls by stage", labels=["stage"])
        for stage, n in sorted(self._stages().items()):
            calls.add_metric([stage], n)
        yield calls
        snap = self._queues.snapshot()
        waiting = GaugeMetricFamily("hotline_queue_calls_waiting", "calls waiting in a queue",
                                    labels=["queue"])  # fmt: skip
        longest = GaugeMetricFamily("hotline_queue_longest_wait_seconds",
                                    "the longest current wait in a queue", labels=["queue"])
        waits: dict[str, list[float]] = {q.queue_id: [] for q in snap.queues}
        for call in snap.calls:
            waits.setdefault(call.queue_id, []).append(max(0.0, snap.at - call.joined_at))
        for queue_id, ages in sorted(waits.items()):
            waiting.add_metric([queue_id], len(ages))
            longest.add_metric([queue_id], max(ages, default=0.0))
        yield waiting
        yield longest
        agents = GaugeMetricFamily("hotline_agents", "agents by status (set by people) and "
                                   "state (set by routing)", labels=["status", "state"])
        by = Tally((v.status.value, v.state.value) for v in snap.views)
        for (status, state), n in sorted(by.items()):
            agents.add_metric([status, state], n)
        yield agents


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    ari_latency: Histogram
    calls_ended: Counter
    recording_failures: Counter
    token: str | None  # the scrape token; None: /metrics answers 404

    @classmethod
    def create(cls, token: str | None) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry,
            Histogram("hotline_ari_request_seconds", "ARI REST request latency, answered or "
                      "not", ["method"], registry=registry,
                      buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5)),
            Counter("hotline_calls_ended", "calls ended, by outcome", ["outcome"],
                    registry=registry),
            Counter("hotline_recording_failures", "recordings that failed (start, mute or "
                    "stop refused by Asterisk)", registry=registry),
            token or None,
        )  # fmt: skip

    def watch(self, stages: Callable[[], Mapping[str, int]], queues: QueueService) -> None:
        self.registry.register(LiveCollector(stages, queues))

    def timed(self, transport: AriTransport) -> AriTransport:
        return TimedTransport(transport, self.ari_latency)

    async def count_journeys(self, hub: EventHub) -> None:
        """Count calls ended and recording failures from the journey stream (until cancelled)."""
        with hub.subscribe() as events:
            while True:
                event = await events.get()
                if event.type is JourneyType.HANGUP:
                    outcome = str(event.details.get("outcome", "unknown"))
                    self.calls_ended.labels(outcome=outcome).inc()
                elif (event.type is JourneyType.RECORDING
                      and event.details.get("state") == "failed"):  # fmt: skip
                    self.recording_failures.inc()


class TimedTransport:
    """An ARI transport that times every request into a histogram by HTTP method."""

    def __init__(self, inner: AriTransport, latency: Histogram) -> None:
        self._inner = inner
        self._latency = latency

    async def request(self, method: str, path: str, params: Mapping[str, str],
                      json: Mapping[str, Any] | None) -> AriResponse:  # fmt: skip
        began = time.monotonic()
        try:
            return await self._inner.request(method, path, params, json)
        finally:
            self._latency.labels(method=method.upper()).observe(time.monotonic() - began)

    async def close(self) -> None:
        await self._inner.close()


METRICS = web.AppKey("metrics", Metrics)


def add_metrics_route(app: web.Application, metrics: Metrics | None) -> None:
    app[METRICS] = metrics or Metrics.create(None)
    app.router.add_get(PATH, get_metrics)


async def get_metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    if metrics.token is None:
        raise ApiError(404, "not_found", "metrics are off: set HOTLINE_METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {metrics.token}".encode()):
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <the metrics token>")
    # On the loop, not in a thread: collecting reads the engine and the queue actor, which
    # only the loop may touch; it is a few hundred lines of text.
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def routes() -> list[Route]:
    return [Route("GET", PATH, "Prometheus metrics (text format)", "metrics",
                  {"type": "string"}, media_type="text/plain", errors=(401, 404),
                  description="Open in the access table: the route checks its own scrape "
                              "token (HOTLINE_METRICS_TOKEN) as `Authorization: Bearer`; 401 "
                              "without it, 404 while no token is configured.")]
