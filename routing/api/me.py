"""The signed-in agent's own state (`/v1/me/agent`): what the queue actor has for them now, and
the same login, logout, pause and resume commands supervisors give under `/v1/routing/agents/`,
for themselves only, carried out and audited by the same code (`agents.carry_out`) with the
agent as the actor.

The agent is the principal's `agent_id` (an agent user's `--agent-id`, a token's `agent_id`);
the route never takes an agent id, so nobody can change someone else's state here. An agent
id that is not in the routing configuration in force is 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel, Field

from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import not_found
from kernel.http.openapi import Route
from kernel.http.reply import json_reply
from routing.actor import QueueService
from routing.api.agents import carry_out, command
from routing.api.deps import RoutingApiDeps
from routing.api.operations import Handler
from routing.api.schemas import CommandOut
from routing.model import AgentState, AgentStatus
from routing.store import AuditAction

PATH = "/v1/me/agent"
FIELD = "agent_id"  # where problems point: the principal's agent id, not a request field
COMMANDS = (AuditAction.LOGIN, AuditAction.LOGOUT, AuditAction.PAUSE, AuditAction.RESUME)


@dataclass(frozen=True, slots=True)
class MyAgentDeps:
    routing: RoutingApiDeps  # the audit store and the agent commands
    queues: QueueService  # the live view


MY_AGENT = web.AppKey("routing_my_agent", MyAgentDeps)


class QueueRef(BaseModel):
    queue_id: str
    name: str


class MyAgentOut(BaseModel):
    agent_id: str
    name: str
    tier: int
    status: AgentStatus = Field(description="set by people: logged_out, available, paused")
    state: AgentState = Field(description="set by routing: idle, offered, on_call, wrap_up")
    pause_reason: str | None
    reachable: bool = Field(description="the agent's phone, as AMI reports it")
    call_id: str | None = Field(description="the call ringing for the agent or being talked to")
    wrapup_call_id: str | None = Field(description="the call being wrapped up, in wrap_up")
    wrapup_left_s: float | None = Field(description="seconds until the wrap-up timer ends it")
    calls_today: int
    queues: list[QueueRef] = Field(description="every queue in force: where a transfer may go")


def add_my_agent_routes(app: web.Application, deps: MyAgentDeps) -> None:
    app[MY_AGENT] = deps
    app.router.add_get(PATH, my_agent)
    for action in COMMANDS:
        app.router.add_post(f"{PATH}/{action.value}", _command_handler(action))


def _my_id(request: web.Request) -> str:
    who = principal(request)
    if who.agent_id is None:  # only agents reach these routes, and agents have one
        raise not_found("agent id for you", FIELD)
    return who.agent_id


async def my_agent(request: web.Request) -> web.Response:
    agent_id = _my_id(request)
    queues = request.app[MY_AGENT].queues
    snapshot = queues.snapshot()
    agent = snapshot.config.agent(agent_id)
    if agent is None:
        raise not_found(f"agent {agent_id!r} in the routing configuration", FIELD)
    view = snapshot.view(agent_id)
    left = None if view.wrapup_until is None else max(0.0, view.wrapup_until - queues.now())
    return json_reply(MyAgentOut(
        agent_id=agent_id, name=agent.name, tier=agent.tier, status=view.status,
        state=view.state, pause_reason=view.pause_reason, reachable=view.reachable,
        call_id=view.call_id, wrapup_call_id=view.wrapup_call_id,
        wrapup_left_s=None if left is None else round(left, 1), calls_today=view.calls_today,
        queues=[QueueRef(queue_id=q.queue_id, name=q.name) for q in snapshot.queues],
    ).model_dump(mode="json"))  # fmt: skip


def _command_handler(action: AuditAction) -> Handler:
    body, pick = command(action)

    async def handler(request: web.Request) -> web.Response:
        agent_id = _my_id(request)
        sent = await read.optional_body(request, body)
        done = await carry_out(request.app[MY_AGENT].routing, principal(request), action, pick,
                               agent_id, getattr(sent, "reason", None), field=FIELD)
        return json_reply(done)

    return handler


def routes() -> list[Route]:
    """The agent's own routes, for the service's OpenAPI document."""
    summaries = {AuditAction.LOGIN: "Log yourself in", AuditAction.LOGOUT: "Log yourself out",
                 AuditAction.PAUSE: "Pause yourself (reason required)",
                 AuditAction.RESUME: "Resume after a pause"}  # fmt: skip
    return [
        Route("GET", PATH, "Your agent state now: status, state, pause reason, current call",
              "agents", MyAgentOut, errors=(404,)),
        *(Route("POST", f"{PATH}/{action.value}", summaries[action], "agents", CommandOut,
                body=command(action)[0], body_required=action is AuditAction.PAUSE,
                errors=(404, 409, 503),
                description="The same command as POST /v1/routing/agents/{agent_id}/"
                            f"{action.value}, for your own agent id; audited with you as the "
                            "actor.")
          for action in COMMANDS),
    ]  # fmt: skip
