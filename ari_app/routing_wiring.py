"""The routing room inside the running service: its configuration at startup (a saved
version wins over the YAML) and the ports the supervisor API drives it through (the web
assembly, `ari_app/web/app.py`, mounts the API with them)."""

from __future__ import annotations

from collections.abc import Awaitable

from ari_app.db.database import Database
from ari_app.settings import Settings
from routing.actor import QueueService
from routing.api import AgentCommandRejected, RoutingApiDeps
from routing.clock import MonotonicClock
from routing.config import RoutingConfig
from routing.notices import CommandRejected


def initial_routing(settings: Settings) -> RoutingConfig:
    return RoutingConfig.from_simple(settings.queue_configs(), settings.agent_configs())


async def build_queue_service(settings: Settings, db: Database) -> QueueService:
    saved = await db.routing.current()
    config = saved[0] if saved is not None else initial_routing(settings)
    return QueueService(config, MonotonicClock())


class ActorAgentCommands:
    """routing_api.AgentCommands over the queue actor."""

    def __init__(self, queues: QueueService) -> None:
        self._queues = queues

    async def login(self, agent_id: str, reason: str | None) -> None:
        await self._run(self._queues.login(agent_id))

    async def logout(self, agent_id: str, reason: str | None) -> None:
        await self._run(self._queues.logout(agent_id))

    async def pause(self, agent_id: str, reason: str | None) -> None:
        await self._run(self._queues.pause(agent_id, reason or "paused"))

    async def resume(self, agent_id: str, reason: str | None) -> None:
        await self._run(self._queues.resume(agent_id))

    @staticmethod
    async def _run(command: Awaitable[None]) -> None:
        try:
            await command
        except CommandRejected as exc:
            raise AgentCommandRejected(str(exc)) from exc


def routing_api_deps(settings: Settings, db: Database, queues: QueueService) -> RoutingApiDeps:
    return RoutingApiDeps(store=db.routing, apply=queues.apply_config,
                          agents=ActorAgentCommands(queues),
                          initial_config=lambda: initial_routing(settings))  # fmt: skip
