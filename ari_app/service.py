"""Composition root: builds every part from Settings and owns their lifetimes."""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from ari_app.access.wiring import AccessPolicy, access_parts
from ari_app.ami.monitor import AmiMonitor
from ari_app.ari.errors import AriError
from ari_app.ari.events import Connected
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream, wait_until_ready
from ari_app.ari.transport import HttpTransport
from ari_app.calls.adoption import adopt_calls
from ari_app.calls.deps import CallDeps
from ari_app.calls.engine import CallEngine
from ari_app.calls.hub import EventHub
from ari_app.calls.monitoring.audit import MonitorStore
from ari_app.calls.monitoring.call_monitors import MonitorPolicy
from ari_app.calls.reconcile import reconcile
from ari_app.calls.recording_audit import audit_recordings_every
from ari_app.calls.snoop_recorder import recorder_factory
from ari_app.db.database import Database, open_database
from ari_app.media.prompt import PromptSounds
from ari_app.metrics import Metrics, call_stages
from ari_app.retention_wiring import retention_policy, retention_sweep
from ari_app.routing_wiring import build_queue_service, routing_api_deps
from ari_app.settings import Settings
from ari_app.speech_and_knowledge import (
    knowledge_settings,
    open_knowledge,
    open_listener,
    question_phrases,
)
from ari_app.web.app import WebDeps, build_web_app
from ari_app.web.health import HealthChecks
from ivr.flow import Flow, flow_texts
from ivr.grammars import flow_grammars
from ivr.tts import PromptRenderer
from kernel import heap, stalls
from kernel.aio import first_of
from kernel.backoff import Backoff
from kernel.db.errors import DatabaseUnavailable
from kernel.http.auth import TokenTable
from knowledge_client.editors.loop import FaqEditor, QuestionKeeper
from knowledge_client.editors.store import QuestionStore
from knowledge_client.embedded import EmbeddedKnowledge
from recordings.lifecycle import RecordingPaths
from routing.actor import QueueService

log = structlog.get_logger(__name__)

UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
HAND_OVER_TIMEOUT_S = 3.0  # SIGTERM to exit stays within 5 s
HTTP_SHUTDOWN_TIMEOUT_S = 0.5
ADOPTION_ATTEMPTS = 5
ARI_RECONNECT_CAP_S = 2.0


@dataclass(frozen=True)
class ServiceParts:
    """What the composition root built; only this module sees it whole."""

    ari: AriRest
    db: Database
    hub: EventHub
    call_deps: CallDeps  # what every call is built from: the queues and is_vip among them
    faq_editor: FaqEditor | None = None  # the embedded FAQ, as the knowledge editors change it
    metrics: Metrics | None = None  # /metrics (ari_app/metrics.py)

    @property
    def queues(self) -> QueueService:
        return self.call_deps.queues


class _StopRequested(Exception):
    """Raised inside the service's task group once a requested stop has done its work."""


@dataclass
class HotlineService:
    settings: Settings
    flow: Flow
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # ARI up, old calls adopted
    router: CallEngine | None = None  # the call engine: dispatches events, LiveCalls
    database: Database | None = None
    queues: QueueService | None = None
    http_port: int | None = None
    # The process is this service's own (`hotline run`): freeze what start-up built
    # (kernel.heap). Off where the service shares a process, as in tests.
    settle_heap: bool = False
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _hand_over_now: asyncio.Event = field(default_factory=asyncio.Event)
    _drain: bool = False

    def request_stop(self, *, drain: bool = False) -> None:
        """Stop taking calls and exit. Without `drain`, live calls are left in Asterisk for
        the next run to adopt (within HAND_OVER_TIMEOUT_S); with it, they finish first. A
        second request without `drain` while draining hands the rest over at once."""
        if self._stop.is_set() and not drain:
            self._hand_over_now.set()
        self._drain = drain if not self._stop.is_set() else self._drain
        self._stop.set()

    async def run(self) -> None:
        try:
            await self._run()
        except* _StopRequested:
            log.info("service.stopped")

    async def _run(self) -> None:
        async with AsyncExitStack() as stack:
            db = await open_database_with_retry(self.settings.database_url)
            stack.push_async_callback(db.close)
            parts = await self._build_parts(stack, db)
            self.database, self.queues = db, parts.queues
            self.router = CallEngine(parts.ari, self.settings.asterisk.app, parts.call_deps,
                                     db.calls, parts.hub)
            engine = self.router
            if parts.metrics is not None:
                parts.metrics.watch(lambda: call_stages(engine), parts.queues)
            ast = self.settings.asterisk
            # Reconnect often: while the stream is down no call hears its events.
            stream = AriEventStream(ast.events_url.removesuffix("/events"), ast.ari_user,
                                    ast.ari_password, [ast.app],
                                    backoff=Backoff(cap=ARI_RECONNECT_CAP_S))
            monitor = self._ami(parts)
            await self._start_http(stack, parts, stream, monitor)
            if self.settle_heap:
                heap.settle()
            stalls.watch_if_asked(asyncio.get_running_loop())  # a measuring aid, off by default
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(parts.queues.run())
                tasks.create_task(reset_counters_daily(parts.queues))
                tasks.create_task(monitor.run())
                tasks.create_task(self._consume_events(parts, stream))
                tasks.create_task(audit_recordings_every(
                    self.settings.recordings.reconcile_every_s,
                    parts.call_deps.recording_paths, db.recordings, db.calls,
                    self.router.live_call_ids, self.ready))
                tasks.create_task(retention_sweep(self.settings.recordings, db.units,
                                                  self.ready))
                tasks.create_task(self._stop_when_asked(self.router))
                if parts.metrics is not None:
                    tasks.create_task(parts.metrics.count_journeys(parts.hub))

    async def _stop_when_asked(self, engine: CallEngine) -> None:
        await self._stop.wait()
        started = asyncio.get_running_loop().time()
        if self._drain:
            log.info("service.draining", calls=engine.count())
            index, _ = await first_of(engine.drain(), self._hand_over_now.wait())
            if index == 1:
                await engine.hand_over(HAND_OVER_TIMEOUT_S)
        else:
            log.info("service.handing_over", calls=engine.count())
            await engine.hand_over(HAND_OVER_TIMEOUT_S)
        log.info("service.calls_released",
                 seconds=round(asyncio.get_running_loop().time() - started, 3))
        raise _StopRequested

    async def _build_parts(self, stack: AsyncExitStack, db: Database) -> ServiceParts:
        settings = self.settings
        ast = settings.asterisk
        metrics = Metrics.create(os.environ.get("HOTLINE_METRICS_TOKEN"))
        ari = AriRest(ast.ari_url, ast.ari_user, ast.ari_password, transport=metrics.timed(
            HttpTransport(ast.ari_url, ast.ari_user, ast.ari_password,
                          timeout=ast.request_timeout_s)))
        stack.push_async_callback(ari.close)
        info = await wait_until_ready(ari, backoff=Backoff())
        log.info("ari.ready", asterisk=str(info.get("system", {}).get("version", "?")))
        renderer = PromptRenderer(settings.prompts.cache_dir, voice=self.flow.voice)
        await renderer.warm(flow_texts(self.flow))
        queues = await build_queue_service(settings, db)
        knowledge = await open_knowledge(stack, knowledge_settings(settings.knowledge, "knowledge"))
        questions = QuestionStore(db.units)
        editor = FaqEditor(knowledge, questions) \
            if isinstance(knowledge, EmbeddedKnowledge) else None
        if editor is not None:  # before the grammars: callers are heard with the editors' words
            log.info("knowledge.faq_edits_applied", edits=await editor.load())
        listener = await open_listener(settings.speech, flow_grammars(self.flow),
                                       question_phrases(knowledge, self.flow))

        def is_vip(number: str) -> bool:
            return queues.config.vip(number) is not None

        rec = settings.recordings
        call_deps = CallDeps(
            flow=self.flow, prompts=PromptSounds(renderer, settings.prompts.asterisk_dir),
            queues=queues, surveys=db.surveys,
            recording_paths=RecordingPaths(rec.spool_dir, rec.store_dir, rec.format),
            recording_store=db.recordings, is_vip=is_vip, listener=listener,
            knowledge=QuestionKeeper(knowledge, questions) if knowledge is not None else None,
            recorders=recorder_factory(rec.method, rec.channels, rec.spool_dir, rec.format),
            monitor_audit=MonitorStore(db.units), monitor_policy=MonitorPolicy(
                settings.monitoring.ring_timeout_s, settings.monitoring.max_per_call))
        return ServiceParts(ari=ari, db=db, hub=EventHub(), call_deps=call_deps,
                            faq_editor=editor, metrics=metrics)

    async def _start_http(self, stack: AsyncExitStack, parts: ServiceParts,
                          stream: AriEventStream, monitor: AmiMonitor) -> None:
        engine = self.router
        assert engine is not None
        app = build_web_app(WebDeps(
            db=parts.db, hub=parts.hub, live=engine, queues=parts.queues,
            routing=routing_api_deps(self.settings, parts.db, parts.queues),
            tokens=TokenTable(self.settings.api_tokens),
            recordings_dir=self.settings.recordings.store_dir, faq_editor=parts.faq_editor,
            retention=retention_policy(self.settings.recordings.retention),
            access=access_parts(parts.db.units, AccessPolicy.from_settings(self.settings)),
            allowed_origins=frozenset(self.settings.http.allowed_origins),
            max_event_subscribers=self.settings.http.max_event_subscribers,
            health=HealthChecks(
                ari_connected=lambda: stream.connected, ami_connected=lambda: monitor.connected,
                database=parts.db.ping, live=engine,
                # Old calls adopted first; none taken while stopping or draining.
                accepting_calls=lambda: self.ready.is_set() and engine.accepting),
            is_vip=parts.call_deps.is_vip, metrics=parts.metrics,
            dispositions=self.settings.disposition_codes(),
            monitors=engine, monitor_endpoints=self.settings.monitoring.endpoints))
        # A stop must not wait for open event streams: they reconnect to the next run.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # aiohttp has no public accessor
        self.http_port = sockets[0].getsockname()[1] if sockets else self.settings.http.port
        log.info("http.listening", host=self.settings.http.host, port=self.http_port)

    def _ami(self, parts: ServiceParts) -> AmiMonitor:
        ast = self.settings.asterisk
        monitor = AmiMonitor(ast.ami_host, ast.ami_port, ast.ami_user, ast.ami_secret,
                             backoff=Backoff())
        def on_device_state(device: str, state: str) -> None:
            # Looked up per event: supervisors change agents' endpoints while we run.
            for agent in parts.queues.config.agents:
                if agent.endpoint == device:
                    parts.queues.set_reachable(agent.agent_id,
                                               state not in UNREACHABLE_DEVICE_STATES)

        monitor.add_listener(on_device_state)
        return monitor

    async def _consume_events(self, parts: ServiceParts, stream: AriEventStream) -> None:
        engine = self.router
        assert engine is not None
        ast = self.settings.asterisk
        asterisk_started = await _asterisk_started(parts.ari)
        try:
            async for item in stream.events():
                if isinstance(item, Connected):
                    if item.first:
                        await adopt_with_retry(parts.ari, parts.db, engine, ast.app)
                    else:
                        now_started = await _asterisk_started(parts.ari)
                        restarted = asterisk_started is not None \
                            and now_started != asterisk_started
                        asterisk_started = now_started
                        await reconcile(parts.ari, engine, asterisk_restarted=restarted)
                    self.ready.set()
                else:
                    engine.dispatch(item)
        finally:
            self.ready.clear()
            await engine.stop()

    async def wait_idle(self) -> None:
        """Return once no call, and no work for one, is running."""
        if self.router is not None:
            await self.router.wait_idle()

    def busy(self) -> bool:
        """True while any call, or work for one, is still running."""
        return self.router is not None and self.router.busy()


async def reset_counters_daily(queues: QueueService) -> None:
    """Least-talk-time and fewest-calls count 'today': start a new day at local midnight."""
    while True:
        now = datetime.now().astimezone()
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        await asyncio.sleep((midnight - now).total_seconds())
        await queues.reset_daily_counters()


async def _asterisk_started(ari: AriRest) -> str | None:
    """When Asterisk started: a different answer after a reconnect means it restarted."""
    try:
        info = await ari.asterisk_info()
    except AriError:
        return None
    started = info.get("status", {}).get("startup_time")
    return str(started) if started else None


async def adopt_with_retry(ari: AriRest, db: Database, engine: CallEngine, app: str) -> None:
    """Adopt the last run's calls; Asterisk or the database briefly away is retried."""
    backoff = Backoff()
    for attempt in range(1, ADOPTION_ATTEMPTS + 1):
        try:
            await adopt_calls(ari, db.calls, engine, app)
            return
        except (AriError, DatabaseUnavailable) as exc:
            delay = backoff.next_delay()
            log.error("adoption.failed", attempt=attempt, error=str(exc), retry_in=round(delay, 2))
            await asyncio.sleep(delay)
    log.error("adoption.given_up", attempts=ADOPTION_ATTEMPTS)


async def open_database_with_retry(url: str) -> Database:
    backoff = Backoff()
    while True:
        try:
            return await open_database(url)
        except DatabaseUnavailable as exc:
            delay = backoff.next_delay()
            log.error("database.unreachable", error=str(exc), retry_in=round(delay, 2))
            await asyncio.sleep(delay)
