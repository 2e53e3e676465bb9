"""Composition root: builds every part from Settings and owns their lifetimes."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from ari_app.ami.monitor import AmiMonitor
from ari_app.ari.events import Connected
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream, wait_until_ready
from ari_app.calls.deps import CallDeps
from ari_app.calls.engine import CallEngine
from ari_app.calls.hub import EventHub
from ari_app.calls.reconcile import reconcile
from ari_app.db.database import Database, open_database
from ari_app.media.prompt import PromptSounds
from ari_app.routing_wiring import build_queue_service, routing_api_deps
from ari_app.settings import Settings
from ari_app.speech_and_knowledge import (
    knowledge_settings,
    open_knowledge,
    open_listener,
    question_phrases,
)
from ari_app.web.app import WebDeps, build_web_app
from ivr.flow import Flow, flow_texts
from ivr.grammars import flow_grammars
from ivr.tts import PromptRenderer
from kernel.backoff import Backoff
from kernel.db.errors import DatabaseUnavailable
from kernel.http.auth import TokenTable
from recordings.lifecycle import RecordingPaths
from routing.actor import QueueService

log = structlog.get_logger(__name__)

UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})


@dataclass(frozen=True)
class ServiceParts:
    """What the composition root built; only this module sees it whole."""

    ari: AriRest
    db: Database
    hub: EventHub
    call_deps: CallDeps  # what every call is built from: the queues and is_vip among them

    @property
    def queues(self) -> QueueService:
        return self.call_deps.queues


@dataclass
class HotlineService:
    settings: Settings
    flow: Flow
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    router: CallEngine | None = None  # the call engine: dispatches events, LiveCalls
    database: Database | None = None
    queues: QueueService | None = None
    http_port: int | None = None

    async def run(self) -> None:
        async with AsyncExitStack() as stack:
            db = await open_database_with_retry(self.settings.database_url)
            stack.push_async_callback(db.close)
            parts = await self._build_parts(stack, db)
            self.database, self.queues = db, parts.queues
            self.router = CallEngine(parts.ari, self.settings.asterisk.app, parts.call_deps,
                                     db.calls, parts.hub)
            await self._start_http(stack, parts)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(parts.queues.run())
                tasks.create_task(reset_counters_daily(parts.queues))
                tasks.create_task(self._ami(parts).run())
                tasks.create_task(self._consume_events(parts))

    async def _build_parts(self, stack: AsyncExitStack, db: Database) -> ServiceParts:
        settings = self.settings
        ast = settings.asterisk
        ari = AriRest(ast.ari_url, ast.ari_user, ast.ari_password, timeout=ast.request_timeout_s)
        stack.push_async_callback(ari.close)
        info = await wait_until_ready(ari, backoff=Backoff())
        log.info("ari.ready", asterisk=str(info.get("system", {}).get("version", "?")))
        renderer = PromptRenderer(settings.prompts.cache_dir, voice=self.flow.voice)
        await renderer.warm(flow_texts(self.flow))
        queues = await build_queue_service(settings, db)
        knowledge = await open_knowledge(stack, knowledge_settings(settings.knowledge, "knowledge"))
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
            knowledge=knowledge)
        return ServiceParts(ari=ari, db=db, hub=EventHub(), call_deps=call_deps)

    async def _start_http(self, stack: AsyncExitStack, parts: ServiceParts) -> None:
        assert self.router is not None
        app = build_web_app(WebDeps(
            db=parts.db, hub=parts.hub, live=self.router, queues=parts.queues,
            routing=routing_api_deps(self.settings, parts.db, parts.queues),
            tokens=TokenTable(self.settings.api_tokens), ready=self.ready,
            is_vip=parts.call_deps.is_vip))
        runner = web.AppRunner(app, access_log=None)
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

    async def _consume_events(self, parts: ServiceParts) -> None:
        engine = self.router
        assert engine is not None
        ast = self.settings.asterisk
        stream = AriEventStream(ast.events_url.removesuffix("/events"), ast.ari_user,
                                ast.ari_password, [ast.app], backoff=Backoff())
        try:
            async for item in stream.events():
                if isinstance(item, Connected):
                    self.ready.set()
                    if not item.first:
                        await reconcile(parts.ari, engine.dispatcher)
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


async def open_database_with_retry(url: str) -> Database:
    backoff = Backoff()
    while True:
        try:
            return await open_database(url)
        except DatabaseUnavailable as exc:
            delay = backoff.next_delay()
            log.error("database.unreachable", error=str(exc), retry_in=round(delay, 2))
            await asyncio.sleep(delay)
