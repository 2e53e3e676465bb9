"""What the supervisor API needs from the service: its ports and settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from routing.config import RoutingConfig
from routing.store import RoutingConfigStore


class AgentCommandRejected(Exception):
    """The agent's state does not allow the command (e.g. resume when not paused): 409."""


class AgentCommands(Protocol):
    """Agent state commands, carried out by the routing actor.

    Raise LookupError for an agent the actor does not know (404) and AgentCommandRejected
    when the agent's state forbids the command (409).
    """

    async def login(self, agent_id: str, reason: str | None) -> None: ...

    async def logout(self, agent_id: str, reason: str | None) -> None: ...

    async def pause(self, agent_id: str, reason: str | None) -> None: ...

    async def resume(self, agent_id: str, reason: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class RoutingApiDeps:
    store: RoutingConfigStore
    # Puts a configuration in force (the routing actor's apply_config); all or nothing.
    apply: Callable[[RoutingConfig], Awaitable[None]]
    agents: AgentCommands
    # The configuration in force while no version is saved (from the YAML settings).
    initial_config: Callable[[], RoutingConfig]
    db_timeout_s: float = 10.0
    apply_timeout_s: float = 1.0  # the bound for reaching calls already waiting
    command_timeout_s: float = 5.0


DEPS = web.AppKey("routing_api_deps", RoutingApiDeps)
# Serialises this instance's configuration changes (see `changes.commit`).
WRITERS = web.AppKey("routing_api_writers", asyncio.Lock)
