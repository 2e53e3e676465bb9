"""The calls' HTTP routes: recent calls, one call with its journey, the agent's handoff, journey
events live over a WebSocket, and per-call actions (transfer the caller on, mute the recording
while card data is spoken, explain routing).

Live calls are reached only through the `LiveCalls` port, finished ones through the stores.
Which roles may call each route is the service's one access table (`ari_app/web/auth.py`);
which calls a caller may see is decided here (`ari_app/access/call_scope.py`): an agent their
own, a supervisor or QA their queues', an admin all. Someone else's call is answered as not
found. Handlers raise `ApiError` and the one error middleware writes the reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field

from ari_app.access.call_scope import CallParties, EventScope, may_see_call, parties
from ari_app.calls.conversation import TransferRequest
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.handoff import build_handoff
from ari_app.calls.hub import EventHub
from ari_app.calls.registry import LiveCalls, MuteOutcome, TransferOutcome
from ari_app.db.database import Database
from ivr.journey import JourneyEvent, JourneyType
from kernel.aio import first_of
from kernel.http import request as read
from kernel.http.auth import Principal, Role, principal
from kernel.http.errors import ApiError, Problem, not_found
from kernel.http.reply import json_reply, to_json
from kernel.http.request import Line, Text
from recordings.api import recording_json
from recordings.lifecycle import DEFAULT_MUTE_REASON
from routing.actor import QueueService
from routing.api.schemas import Id


@dataclass(frozen=True, slots=True)
class CallApiDeps:
    db: Database  # finished calls, their recordings and survey answers
    hub: EventHub  # journey events as they happen
    live: LiveCalls
    queues: QueueService  # known queues, live routing decisions
    is_vip: Callable[[str], bool] = lambda _number: False
    # Browser pages that may open /v1/events (scheme://host[:port], lower case); a request
    # with another Origin is refused. Requests without one come from no browser page.
    allowed_origins: frozenset[str] = frozenset()
    max_subscribers: int = 50  # open /v1/events sockets; beyond: 503
    dispositions: DispositionStore | None = None  # agents' dispositions, with a call's details


class Subscribers:
    """How many /v1/events sockets are open, against the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open = 0


CALLS = web.AppKey("calls_api", CallApiDeps)
SUBSCRIBERS = web.AppKey("calls_api_subscribers", Subscribers)
ROUTES = web.RouteTableDef()
MAX_LIMIT = 500
SCOPED_SCAN = 5000  # a scoped caller's recent calls are found among this many newest calls


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue_id: Id | None = None  # as the routing API's ids: letters, digits, _ . -
    min_tier: int | None = Field(default=None, ge=1, le=9)
    notes: Text = Field(default="", max_length=2000)  # no control characters but tab, lines


class MuteBody(BaseModel):
    """Why the recording is muted; the body may be left out (the reason is then card data)."""

    model_config = ConfigDict(extra="forbid")

    reason: Line = Field(default=DEFAULT_MUTE_REASON, min_length=1, max_length=200)


def add_call_routes(app: web.Application, deps: CallApiDeps) -> None:
    app[CALLS] = deps
    app[SUBSCRIBERS] = Subscribers(deps.max_subscribers)
    app.add_routes(ROUTES)


@ROUTES.get("/v1/calls")
async def list_calls(request: web.Request) -> web.Response:
    """The newest calls the caller may see, newest first."""
    limit = read.query_int(request, "limit", 50, MAX_LIMIT)
    who = principal(request)
    calls = request.app[CALLS].db.calls
    if who.unscoped:
        return json_reply([asdict(c) for c in await calls.recent(limit=limit)])
    # TODO(store): a query by agent and queues; until then, among the newest SCOPED_SCAN.
    theirs = [c for c in await calls.recent(limit=SCOPED_SCAN) if may_see_call(who, c)]
    return json_reply([asdict(c) for c in theirs[:limit]])


@ROUTES.get("/v1/calls/{call_id}")
async def get_call(request: web.Request) -> web.Response:
    db = request.app[CALLS].db
    call_id = request.match_info["call_id"]
    record = await db.calls.get(call_id)
    events = [] if record is None else await db.calls.events(call_id)
    if record is None or not may_see_call(principal(request), record, events):
        raise not_found(f"call {call_id}", "path.call_id")
    recordings = await db.recordings.for_call(call_id)
    survey = await db.surveys.for_call(call_id)
    store = request.app[CALLS].dispositions
    dispositions = [] if store is None else await store.for_call(call_id)
    return json_reply({
        "call": asdict(record),
        "journey": [e.as_line() for e in events],
        "recordings": [recording_json(r) for r in recordings],
        "survey": asdict(survey) if survey else None,
        "dispositions": [asdict(d) for d in dispositions],
    })  # fmt: skip


@ROUTES.get("/v1/calls/{call_id}/handoff")
async def get_handoff(request: web.Request) -> web.Response:
    """What the answering agent should know; live while the call is up, stored afterwards."""
    deps = request.app[CALLS]
    call_id = request.match_info["call_id"]
    live = deps.live.journey(call_id)
    if live is not None:
        record, events = live.record, list(live.events)
    else:
        stored = await deps.db.calls.get(call_id)
        if stored is None:
            raise not_found(f"call {call_id}", "path.call_id")
        record, events = stored, await deps.db.calls.events(call_id)
    if not may_see_call(principal(request), record, events, live=live is not None):
        raise not_found(f"call {call_id}", "path.call_id")
    handoff = build_handoff(record, events, vip=deps.is_vip(record.caller_number))
    return json_reply(handoff.as_dict())


@ROUTES.get("/v1/events")
async def stream_events(request: web.Request) -> web.WebSocketResponse:
    """Journey events as JSON, live, of the calls the caller may see; ``?correlation_id=`` or
    ``?call_id=`` narrows to one call. Browser pages only from the allowed origins; at most
    `max_subscribers` sockets at once."""
    deps = request.app[CALLS]
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(origin, request, deps.allowed_origins):
        raise ApiError(403, "origin_not_allowed",
                       f"pages from {origin!r} may not open the event stream")  # fmt: skip
    subscribers = request.app[SUBSCRIBERS]
    if subscribers.open >= subscribers.cap:
        raise ApiError(503, "too_many_subscribers",
                       f"{subscribers.cap} event streams are open; retry later")  # fmt: skip
    subscribers.open += 1
    try:
        return await _stream(request, deps, EventScope(principal(request), deps.live))
    finally:
        subscribers.open -= 1


def _origin_allowed(origin: str, request: web.Request, allowed: frozenset[str]) -> bool:
    """One of `allowed`, or the service's own pages: an origin naming the host and port the
    request was sent to (`Host`, which a page on another site cannot set), so a page served
    here (the agent's desk) may open the stream without being configured. Behind a proxy
    that rewrites `Host`, list the public origin in `http.allowed_origins`."""
    origin = origin.lower()
    if origin in allowed:
        return True
    scheme, sep, authority = origin.partition("://")
    host = (request.headers.get("Host") or "").lower()
    return bool(sep) and scheme in ("http", "https") and bool(host) and authority == host


async def _stream(request: web.Request, deps: CallApiDeps,
                  scope: EventScope) -> web.WebSocketResponse:  # fmt: skip
    correlation = request.query.get("correlation_id")
    call_ids = {request.query["call_id"]} if "call_id" in request.query else set()
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    with deps.hub.subscribe() as queue:
        reader = asyncio.ensure_future(ws.receive())
        try:
            while not ws.closed:
                index, first = await first_of(queue.get(), reader)
                if index == 1:
                    if reader.result().type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                        break
                    reader = asyncio.ensure_future(ws.receive())
                    continue
                event = first.result()
                if scope.allows(event) and _wanted(event, correlation, call_ids):
                    await ws.send_json(event.as_line(), dumps=to_json)
        finally:
            reader.cancel()
    return ws


def _wanted(event: JourneyEvent, correlation: str | None, call_ids: set[str]) -> bool:
    """No filter: every event. A correlation id adds its call once the call starts."""
    if correlation is None and not call_ids:
        return True
    if (correlation is not None and event.type is JourneyType.CALL_START
            and event.details.get("correlation_id") == correlation):
        call_ids.add(event.call_id)
    return event.call_id in call_ids


@ROUTES.post("/v1/calls/{call_id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    """The agent talking to the caller sends them to another queue and/or a higher tier."""
    deps = request.app[CALLS]
    body = await read.body(request, TransferBody)
    call_id = request.match_info["call_id"]
    if body.queue_id is not None and deps.queues.config.queue(body.queue_id) is None:
        raise ApiError(422, "unknown_queue", f"no queue {body.queue_id}",
                       [Problem("body.queue_id", f"no queue {body.queue_id}")])  # fmt: skip
    who = principal(request)
    _may_act(who, deps, call_id, "an agent may transfer only the call they are talking to")
    outcome = deps.live.request_transfer(
        call_id, TransferRequest(body.queue_id, body.min_tier, body.notes, by=who.actor))
    if outcome is TransferOutcome.NO_SUCH_CALL:
        raise not_found(f"live call {call_id}", "path.call_id")
    if outcome is TransferOutcome.NOT_TALKING:
        raise ApiError(409, "not_talking", "the caller is not talking to an agent now")
    return json_reply({"call_id": call_id, "status": "transferring"}, status=202)


def _may_act(who: Principal, deps: CallApiDeps, call_id: str, refused: str) -> None:
    """An agent only the call they are talking to (403, saying `refused`); others the calls
    they see (404)."""
    journey = deps.live.journey(call_id)
    if journey is None:
        return  # the engine says there is no such live call
    if who.role is Role.AGENT:
        if who.agent_id is None or journey.record.agent_id != who.agent_id:
            raise ApiError(403, "not_your_call", refused)
    elif not may_see_call(who, journey.record, journey.events, live=True):
        raise not_found(f"live call {call_id}", "path.call_id")


_MUTE_REFUSED = "an agent may mute only the recording of the call they are talking to"


@ROUTES.post("/v1/calls/{call_id}/recording/mute")
async def mute_recording(request: web.Request) -> web.Response:
    """PCI: silence the call's recording while card data is spoken. The file keeps its length
    (silence is written); the interval, who and why are kept with the recording."""
    deps = request.app[CALLS]
    body = await read.optional_body(request, MuteBody)
    call_id = request.match_info["call_id"]
    who = principal(request)
    _may_act(who, deps, call_id, _MUTE_REFUSED)
    return _muted(call_id, await deps.live.mute(call_id, who.actor, body.reason))


@ROUTES.delete("/v1/calls/{call_id}/recording/mute")
async def unmute_recording(request: web.Request) -> web.Response:
    deps = request.app[CALLS]
    call_id = request.match_info["call_id"]
    who = principal(request)
    _may_act(who, deps, call_id, _MUTE_REFUSED)
    return _muted(call_id, await deps.live.unmute(call_id, who.actor))


def _muted(call_id: str, outcome: MuteOutcome) -> web.Response:
    if outcome is MuteOutcome.NO_SUCH_CALL:
        raise not_found(f"live call {call_id}", "path.call_id")
    if outcome is MuteOutcome.NOT_RECORDING:
        raise ApiError(409, "not_recording", "the call is not being recorded now")
    if outcome is MuteOutcome.FAILED:
        raise ApiError(503, "asterisk_failed",
                       "Asterisk did not change the recording; nothing changed, try again")
    return json_reply({"call_id": call_id, "muted": outcome is MuteOutcome.MUTED})


@ROUTES.get("/v1/calls/{call_id}/decisions")
async def decisions(request: web.Request) -> web.Response:
    """Why each agent was (or was not) offered this call: live decisions while it waits."""
    deps = request.app[CALLS]
    call_id = request.match_info["call_id"]
    explained = deps.queues.explain(call_id)
    journey = deps.live.journey(call_id)
    who = principal(request)
    if not who.unscoped:
        seen = (parties(journey.record, journey.events) if journey is not None
                else CallParties(queues={d.queue_id for d in explained}))
        if not seen.seen_by(who, live=True):
            raise not_found(f"call {call_id}", "path.call_id")
    live = [{"text": str(d), "at": d.at, "queue": d.queue_id,
             "config_version": d.config_version,
             "chosen": [asdict(c) for c in d.chosen],
             "others": [{"agent": v.agent_id, "why": str(v.why), "until": v.until,
                         "detail": v.detail} for v in d.others]}
            for d in explained]  # fmt: skip
    offers = [] if journey is None else [
        dict(e.details) for e in journey.events if e.type is JourneyType.AGENT_OFFER]
    return json_reply({"call_id": call_id, "decisions": live, "offers": offers})
