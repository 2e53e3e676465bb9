"""Agent state commands: login, logout, pause (with a reason) and resume; each one audited.
Supervisors give them here for any agent; agents give them for themselves through
`routing/api/me.py`, which runs the same `carry_out`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from kernel.http import request as read
from kernel.http.auth import Principal, principal
from kernel.http.errors import ApiError, Problem, not_found
from routing.api import request_io as io
from routing.api.changes import load
from routing.api.deps import DEPS, AgentCommandRejected, AgentCommands, RoutingApiDeps
from routing.api.operations import Handler, Operation
from routing.api.schemas import Body, CommandOut, PauseBody, ReasonBody
from routing.store import AuditAction, AuditChange

Command = Callable[[AgentCommands], Callable[[str, str | None], Awaitable[None]]]

_COMMANDS: tuple[tuple[AuditAction, type[Body], Command, str], ...] = (
    (AuditAction.LOGIN, ReasonBody, lambda port: port.login, "Log an agent in"),
    (AuditAction.LOGOUT, ReasonBody, lambda port: port.logout, "Log an agent out"),
    (AuditAction.PAUSE, PauseBody, lambda port: port.pause, "Pause an agent (reason required)"),
    (AuditAction.RESUME, ReasonBody, lambda port: port.resume, "Resume a paused agent"),
)


def operations() -> list[Operation]:
    return [
        Operation("POST", f"/agents/{{agent_id}}/{action.value}", _handler(action, body, pick),
                  summary, "agents", body=body, response=CommandOut, errors=(400, 404, 409))
        for action, body, pick, summary in _COMMANDS
    ]  # fmt: skip


def _handler(action: AuditAction, model: type[Body], pick: Command) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sent = await read.optional_body(request, model)
        done = await carry_out(request.app[DEPS], principal(request), action, pick,
                               request.match_info["agent_id"], getattr(sent, "reason", None))
        return io.reply(done)

    return handler


def command(action: AuditAction) -> tuple[type[Body], Command]:
    """The body an agent command takes and the port method that carries it out."""
    _, body, pick, _ = next(c for c in _COMMANDS if c[0] is action)
    return body, pick


async def carry_out(deps: RoutingApiDeps, who: Principal, action: AuditAction, pick: Command,
                    agent_id: str, reason: str | None, *,
                    field: str = "path.agent_id") -> dict[str, str | None]:  # fmt: skip
    """One agent command, audited as `who` (a supervisor, or the agent themselves through
    `/v1/me/agent`): 404 for an agent not configured, 409 when the state forbids it; `field`
    names the agent id in problems. Returns the reply's body."""
    config, _ = await load(deps)
    if config.agent(agent_id) is None:
        raise not_found(f"agent {agent_id!r}", field)
    entry = AuditChange(action, f"agents/{agent_id}", None, {"reason": reason})

    async def run() -> None:
        await _run(deps, pick(deps.agents), action, agent_id, reason, field)

    async with asyncio.timeout(deps.db_timeout_s + deps.command_timeout_s):
        await deps.store.record(entry, actor=who.actor, role=who.role.value,
                                before_commit=run)  # fmt: skip
    return {"agent_id": agent_id, "command": action.value, "reason": reason}


async def _run(
    deps: RoutingApiDeps, command: Callable[[str, str | None], Awaitable[None]],
    action: AuditAction, agent_id: str, reason: str | None, field: str,
) -> None:  # fmt: skip
    try:
        async with asyncio.timeout(deps.command_timeout_s):
            await command(agent_id, reason)
    except LookupError as exc:
        raise not_found(f"agent {agent_id!r} in the routing engine", field) from exc
    except AgentCommandRejected as exc:
        raise ApiError(409, "conflict", f"cannot {action.value} agent {agent_id!r}: {exc}",
                       [Problem(field, str(exc))]) from exc
    except TimeoutError as exc:
        raise ApiError(503, "unavailable", f"the routing engine did not {action.value} agent "
                       f"{agent_id!r} within {deps.command_timeout_s:g} s") from exc
