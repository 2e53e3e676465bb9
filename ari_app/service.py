"""Composition root: builds every part from Settings and owns their lifetimes."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web

from ari_app.ami.monitor import AmiMonitor
from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, Connected, StasisStart
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream, wait_until_ready
from ari_app.calls.api import add_call_api
from ari_app.calls.context import CallContext, ServiceParts
from ari_app.calls.dispatcher import EventRouter, SessionFactory
from ari_app.calls.hub import EventHub
from ari_app.calls.journal import CallJournal
from ari_app.calls.mailbox import CallMailbox
from ari_app.calls.reconcile import reconcile
from ari_app.calls.record import CallRecord
from ari_app.calls.session import CallSession
from ari_app.channel_vars import CORRELATION_ID_VAR
from ari_app.db.engine import Database, open_database
from ari_app.routing_wiring import build_queue_service, mount_routing_api
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
from recordings.lifecycle import CallRecordings, RecordingPaths
from routing.service import QueueService

log = structlog.get_logger(__name__)

UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})


@dataclass
class HotlineService:
    settings: Settings
    flow: Flow
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    router: EventRouter | None = None
    database: Database | None = None
    queues: QueueService | None = None
    http_port: int | None = None
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)

    async def run(self) -> None:
        async with AsyncExitStack() as stack:
            db = await open_database_with_retry(self.settings.database_url)
            stack.push_async_callback(db.close)
            parts = await self._build_parts(stack, db)
            self.database, self.queues = db, parts.queues
            self.router = EventRouter(self._session_factory(parts),
                                      lambda channel: self._hang_up_orphan(parts, channel))
            await self._start_http(stack, parts)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(parts.queues.run())
                tasks.create_task(reset_counters_daily(parts.queues))
                tasks.create_task(self._ami(parts).run())
                tasks.create_task(self._consume_events(parts))

    async def _build_parts(self, stack: AsyncExitStack, db: Database) -> ServiceParts:
        ast = self.settings.asterisk
        ari = AriRest(ast.ari_url, ast.ari_user, ast.ari_password, timeout=ast.request_timeout_s)
        stack.push_async_callback(ari.close)
        info = await wait_until_ready(ari, backoff=Backoff())
        log.info("ari.ready", asterisk=str(info.get("system", {}).get("version", "?")))
        renderer = PromptRenderer(self.settings.prompts.cache_dir, voice=self.flow.voice)
        await renderer.warm(flow_texts(self.flow))
        queues = await build_queue_service(self.settings, db)
        knowledge = await open_knowledge(
            stack, knowledge_settings(self.settings.knowledge, "knowledge"))
        return ServiceParts(ari=ari, app=ast.app, queues=queues, renderer=renderer,
                            prompts=self.settings.prompts, recordings=self.settings.recordings,
                            db=db, hub=EventHub(), flow=self.flow,
                            listener=await open_listener(
                                self.settings.speech, flow_grammars(self.flow),
                                question_phrases(knowledge, self.flow)),
                            knowledge=knowledge,
                            is_vip=lambda number: queues.config.vip(number) is not None)

    async def _start_http(self, stack: AsyncExitStack, parts: ServiceParts) -> None:
        assert self.router is not None
        app = build_web_app(WebDeps(db=parts.db, hub=parts.hub, router=self.router,
                                    queues=parts.queues, ready=self.ready,
                                    is_vip=parts.is_vip))
        mount_routing_api(app, self.settings, parts.db, parts.queues)
        add_call_api(app, tokens=TokenTable(self.settings.api_tokens), router=self.router,
                     queues=parts.queues)
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
        assert self.router is not None
        ast = self.settings.asterisk
        stream = AriEventStream(ast.events_url.removesuffix("/events"), ast.ari_user,
                                ast.ari_password, [ast.app], backoff=Backoff())
        try:
            async for item in stream.events():
                if isinstance(item, Connected):
                    self.ready.set()
                    if not item.first:
                        await reconcile(parts.ari, self.router)
                else:
                    self._dispatch(item)
        finally:
            self.ready.clear()
            await self._stop_calls()

    def _dispatch(self, event: AriEvent) -> None:
        assert self.router is not None
        try:
            self.router.dispatch(event)
        except Exception:  # one bad event must not stop every other call
            log.exception("router.dispatch_failed", event=type(event).__name__)

    async def _stop_calls(self) -> None:
        assert self.router is not None
        tasks = set(self.router.tasks) | self._tasks
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _session_factory(self, parts: ServiceParts) -> SessionFactory:
        def make(event: StasisStart, router: EventRouter) -> CallSession:
            call_id = uuid.uuid4().hex
            channel = event.channel
            correlation = channel.channelvars.get(CORRELATION_ID_VAR) or None
            record = CallRecord(call_id=call_id, channel_id=channel.id,
                                caller_number=channel.caller_number,
                                correlation_id=correlation, started_at=datetime.now(UTC))
            holder: list[CallSession] = []
            journal = CallJournal(record, parts.db.calls, parts.hub)
            paths = parts.recordings
            context = CallContext(
                call_id=call_id, channel_id=channel.id, caller_number=channel.caller_number,
                parts=parts, mailbox=CallMailbox(channel.id), journal=journal,
                recordings=CallRecordings(call_id, RecordingPaths(
                    paths.spool_dir, paths.store_dir, paths.format), parts.db.recordings, journal),
                bind=lambda subject: router.bind(subject, holder[0]),
                unbind=router.unbind,
            )
            holder.append(CallSession(context))
            return holder[0]
        return make

    def _hang_up_orphan(self, parts: ServiceParts, channel_id: str) -> None:
        task: asyncio.Task[object] = asyncio.create_task(
            gone_ok(parts.ari.hangup(channel_id), "orphan leg"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Return once no call, and no work for one, is running."""
        while tasks := self._running_tasks():
            await asyncio.wait(tasks)

    def _running_tasks(self) -> set[asyncio.Task[Any]]:
        router_tasks = set(self.router.tasks) if self.router is not None else set()
        return router_tasks | set(self._tasks)

    def busy(self) -> bool:
        """True while any call, or work for one, is still running."""
        router_busy = self.router is not None and (self.router.tasks or self.router.sessions)
        return bool(router_busy or self._tasks)


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
