"""Dispositions over HTTP: the codes in force (`GET /v1/dispositions`) and closing a call with
one (`POST /v1/calls/{call_id}/disposition`), while it is live or after it ended (wrap-up).

Who may give one: the agent who answered the call (for themselves), or a supervisor or admin
who sees the call (for the agent who answered it, the latest by default). A call the caller may
not see is 404; an agent who sees it but did not answer it (it only rang for them) 403
`not_your_call`. A second disposition by the same agent replaces the first (200, `replaced`);
the first is 201. When the agent themselves gives it while wrapping that call up, their
wrap-up ends: they are ready for the next caller at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ari_app.access.call_scope import may_see_call, parties
from ari_app.calls.desk.model import Disposition, DispositionCode, DispositionCodes
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.record import CallRecord
from ari_app.calls.registry import LiveCalls
from ari_app.calls.store import CallStore
from ivr.journey import JourneyEvent
from kernel.db.errors import DatabaseConflict
from kernel.http import request as read
from kernel.http.auth import Principal, Role, principal
from kernel.http.errors import ApiError, Problem, not_found
from kernel.http.reply import json_reply
from kernel.http.request import Text
from routing.actor import QueueService
from routing.api.schemas import Id
from routing.model import AgentState
from routing.notices import CommandRejected, UnknownAgent

log = structlog.get_logger(__name__)

CODES_PATH = "/v1/dispositions"
DISPOSITION_PATH = "/v1/calls/{call_id}/disposition"


@dataclass(frozen=True, slots=True)
class DeskApiDeps:
    store: DispositionStore
    calls: CallStore  # finished calls and their journeys
    live: LiveCalls
    queues: QueueService  # agents' wrap-up
    codes: DispositionCodes = DispositionCodes()
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


DESK = web.AppKey("desk_api", DeskApiDeps)


class DispositionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, description="one of GET /v1/dispositions")
    notes: Text = Field(default="", max_length=2000)
    agent_id: Id | None = Field(default=None, description="supervisors: whose disposition "
                                "(default: the agent who answered last); agents: their own")


def add_desk_routes(app: web.Application, deps: DeskApiDeps) -> None:
    app[DESK] = deps
    app.router.add_get(CODES_PATH, list_codes)
    app.router.add_post(DISPOSITION_PATH, give_disposition)


def code_json(code: DispositionCode) -> dict[str, object]:
    return asdict(code)


def disposition_json(d: Disposition) -> dict[str, object]:
    return asdict(d)


async def list_codes(request: web.Request) -> web.Response:
    return json_reply({"items": [code_json(c) for c in request.app[DESK].codes]})


async def give_disposition(request: web.Request) -> web.Response:
    deps = request.app[DESK]
    body = await read.body(request, DispositionBody)
    call_id = request.match_info["call_id"]
    code = deps.codes.get(body.code)
    if code is None:
        raise ApiError(422, "unknown_code", f"no disposition code {body.code!r}",
                       [Problem("body.code", "must be one of " + ", ".join(deps.codes.names))])
    who = principal(request)
    record, events, live = await _call(deps, call_id)
    if not may_see_call(who, record, events, live=live):
        raise not_found(f"call {call_id}", "path.call_id")
    agent_id = _whose(who, body.agent_id, record, events)
    ends_wrapup = who.role is Role.AGENT and _wrapping_up(deps.queues, agent_id, call_id)
    now = deps.now()
    given = Disposition(call_id, agent_id, code.code, code.complaint, code.resolved, body.notes,
                        who.actor, who.role.value, now, now, now if ends_wrapup else None)
    try:
        replaced = await deps.store.put(given)
    except DatabaseConflict as exc:  # a live call whose row is not written yet
        raise ApiError(503, "unavailable", "the call is not stored yet; retry shortly") from exc
    if ends_wrapup:
        ends_wrapup = await _end_wrapup(deps.queues, agent_id, call_id)
    stored = next(d for d in await deps.store.for_call(call_id) if d.agent_id == agent_id)
    return json_reply({"disposition": disposition_json(stored), "replaced": replaced,
                       "wrapup_ended": ends_wrapup}, status=200 if replaced else 201)


async def _call(deps: DeskApiDeps, call_id: str
                ) -> tuple[CallRecord, Sequence[JourneyEvent], bool]:  # fmt: skip
    """The call's record and journey: live while it is up, stored afterwards; 404 neither."""
    journey = deps.live.journey(call_id)
    if journey is not None:
        return journey.record, journey.events, True
    record = await deps.calls.get(call_id)
    if record is None:
        raise not_found(f"call {call_id}", "path.call_id")
    return record, await deps.calls.events(call_id), False


def _whose(who: Principal, asked: str | None, record: CallRecord,
           events: Sequence[JourneyEvent]) -> str:  # fmt: skip
    """The agent whose disposition this is: an agent's own (they must have answered the call),
    else the one asked for, or the one who answered last."""
    answered = parties(record, events).agents
    if who.role is Role.AGENT:
        if who.agent_id is None or who.agent_id not in answered or asked not in (None,
                                                                                 who.agent_id):
            raise ApiError(403, "not_your_call",
                           "an agent may give a disposition only of a call they answered, "
                           "for themselves")  # fmt: skip
        return who.agent_id
    agent_id = asked or record.agent_id
    if agent_id is None:
        raise ApiError(409, "not_answered", "no agent answered this call",
                       [Problem("body.agent_id", "no agent answered this call")])
    if agent_id not in answered:
        raise ApiError(422, "not_answered", f"{agent_id} did not answer this call",
                       [Problem("body.agent_id", f"did not answer this call; "
                                f"who did: {', '.join(sorted(answered)) or 'nobody'}")])
    return agent_id


def _wrapping_up(queues: QueueService, agent_id: str, call_id: str) -> bool:
    try:
        view = queues.snapshot().view(agent_id)
    except LookupError:
        return False
    return view.state is AgentState.WRAP_UP and view.wrapup_call_id == call_id


async def _end_wrapup(queues: QueueService, agent_id: str, call_id: str) -> bool:
    """End the agent's wrap-up of the call; False when the timer was quicker."""
    try:
        await queues.end_wrapup(agent_id, call_id)
    except (CommandRejected, UnknownAgent) as exc:
        log.info("desk.wrapup_already_over", agent_id=agent_id, reason=str(exc))
        return False
    return True
