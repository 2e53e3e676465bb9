"""The service's one authentication middleware and its access table: who may call which route.

Every route the app serves, the rooms' sub-applications' included, is looked up in `ACCESS` by
(method, path pattern) — e.g. `("POST", "/v1/calls/{call_id}/transfer")`. An entry is either
`OPEN` (no credentials needed: health, readiness, the OpenAPI document, logging in) or the roles
allowed; a route without an entry is refused with 403, so nothing is open by accident.

Who calls is read from `Authorization: Bearer <token>` (machines, `TokenTable`) or, without that
header, from the browser session cookie (people, `CookieSessions`); a request with the cookie
that changes something (not GET/HEAD/OPTIONS) must also send the session's `X-CSRF-Token`. The
principal is stored under `kernel.http.auth.PRINCIPAL`, where rooms read it with
`principal(request)`; a cookie's session under `ari_app.access.sessions.SESSION`. Roles say which
routes; what each may see there (an agent's own calls, a supervisor's queues) the rooms decide
from the principal. On open routes a valid token is resolved too, an invalid one ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ari_app.access.sessions import CSRF_HEADER, SESSION, WebSession, csrf_matches
from ari_app.web.pages import PAGE_ROUTES
from kernel.http.auth import PRINCIPAL, Principal, Role, TokenTable
from kernel.http.errors import ApiError
from routing.api.app import OPENAPI_PATH
from routing.api.app import PREFIX as ROUTING_PREFIX
from routing.api.app import operations as routing_operations

RouteKey = tuple[str, str]  # (method, path pattern as aiohttp's resource.canonical has it)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[Role] | None  # None: open to anyone, without credentials
    what: str = "this route"  # how a refusal names what was refused
    # Only for principals who see every queue: what the route changes is not scoped yet.
    unscoped: bool = False


def roles(*allowed: Role, what: str, unscoped: bool = False) -> Access:
    return Access(frozenset(allowed), what, unscoped)


AGENT, SUPERVISOR, QA, ADMIN, AUDITOR = (Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN,
                                        Role.AUDITOR)
OPEN = Access(None)
ANYONE = roles(*Role, what="this route")
# Calls and recordings are scoped in their rooms: an agent's own, a supervisor's or QA's queues.
CALLS = roles(AGENT, SUPERVISOR, QA, ADMIN, what="calls")
HANDOFFS = roles(AGENT, SUPERVISOR, ADMIN, what="handoffs")
LIVE_EVENTS = roles(AGENT, SUPERVISOR, ADMIN, what="the live event stream")
CALL_ACTIONS = roles(AGENT, SUPERVISOR, what="call actions")
CALL_DECISIONS = roles(AGENT, SUPERVISOR, ADMIN, what="call decisions")
# Agents' desk (ari_app/calls/desk/, routing/api/me.py): an agent closes the calls they answered
# and changes their own state; supervisors and admins close the calls they see, for the agent.
DISPOSITIONS = roles(AGENT, SUPERVISOR, ADMIN, what="dispositions")
DISPOSITION_CODES = roles(AGENT, SUPERVISOR, QA, ADMIN, what="the disposition codes")
MY_AGENT = roles(AGENT, what="your own agent state")
RECORDINGS = roles(AGENT, SUPERVISOR, QA, ADMIN, what="recordings")  # every read audited
LIVE_QUEUES = roles(SUPERVISOR, ADMIN, what="the live queue view")
SUPERVISOR_API = roles(SUPERVISOR, ADMIN, what="the routing API")
# The routing configuration is one document for every queue: a supervisor scoped to some
# queues reads it, but changing it (or an agent's state) needs someone who sees every queue.
ROUTING_CHANGES = roles(SUPERVISOR, ADMIN, what="the routing API", unscoped=True)
ROUTING_AUDIT = roles(SUPERVISOR, ADMIN, AUDITOR, what="the routing audit")
AUDIT = roles(AUDITOR, ADMIN, what="the audit")
# QA (recordings/qa/): reviewers work within their queues, agents see their released evaluations
QA_REVIEW = roles(SUPERVISOR, QA, ADMIN, what="QA reviews")
QA_FORMS = roles(QA, ADMIN, what="scorecard forms")
EVALUATIONS = roles(AGENT, SUPERVISOR, QA, ADMIN, what="evaluations")
DISPUTES = roles(AGENT, what="disputes of evaluations")
KNOWLEDGE_EDITORS = roles(Role.EDITOR, ADMIN, what="the knowledge editors' questions and FAQ")
REPORTS = roles(SUPERVISOR, ADMIN, what="the KPI reports")  # a scoped supervisor: their queues
# Supervisors on live calls (ari_app/calls/monitoring/): scoped to their queues' calls
MONITORING = roles(SUPERVISOR, ADMIN, what="monitoring live calls")
WALLBOARD = roles(SUPERVISOR, ADMIN, what="the wallboard")  # a scoped supervisor: their queues

ACCESS: Mapping[RouteKey, Access] = {
    ("GET", "/health"): OPEN,
    ("GET", "/ready"): OPEN,
    ("GET", OPENAPI_PATH): OPEN,
    # people log in and out (ari_app/access/routes.py)
    ("POST", "/v1/login"): OPEN,
    ("POST", "/v1/logout"): ANYONE,
    ("GET", "/v1/session"): ANYONE,
    ("GET", "/v1/audit/recordings"): AUDIT,
    # the calls room
    ("GET", "/v1/calls"): CALLS,
    ("GET", "/v1/calls/{call_id}"): CALLS,
    ("GET", "/v1/calls/{call_id}/handoff"): HANDOFFS,
    ("GET", "/v1/events"): LIVE_EVENTS,
    ("POST", "/v1/calls/{call_id}/transfer"): CALL_ACTIONS,
    ("POST", "/v1/calls/{call_id}/recording/mute"): CALL_ACTIONS,  # PCI mute: own call, scoped
    ("DELETE", "/v1/calls/{call_id}/recording/mute"): CALL_ACTIONS,
    ("GET", "/v1/calls/{call_id}/decisions"): CALL_DECISIONS,
    ("POST", "/v1/calls/{call_id}/monitor"): MONITORING,  # listen, whisper, barge
    ("GET", "/v1/calls/{call_id}/monitor"): MONITORING,
    ("PATCH", "/v1/calls/{call_id}/monitor/{monitor_id}"): MONITORING,
    ("DELETE", "/v1/calls/{call_id}/monitor/{monitor_id}"): MONITORING,
    ("GET", "/v1/audit/monitors"): AUDIT,
    ("POST", "/v1/calls/{call_id}/disposition"): DISPOSITIONS,  # own call, or scoped
    ("GET", "/v1/dispositions"): DISPOSITION_CODES,
    # an agent's own state (routing/api/me.py): the routing API's commands, for themselves
    ("GET", "/v1/me/agent"): MY_AGENT,
    **{("POST", f"/v1/me/agent/{command}"): MY_AGENT
       for command in ("login", "logout", "pause", "resume")},
    # the recordings room
    ("GET", "/v1/recordings/{recording_id}"): RECORDINGS,
    ("GET", "/v1/recordings/{recording_id}/audio"): RECORDINGS,
    # QA over the recordings (recordings/qa/)
    ("GET", "/v1/recordings"): RECORDINGS,  # search, scoped like reading one
    ("GET", "/v1/recordings/{recording_id}/timeline"): RECORDINGS,  # beside the player
    ("GET", "/v1/recordings/{recording_id}/peaks"): RECORDINGS,
    ("GET", "/v1/recordings/{recording_id}/comments"): QA_REVIEW,
    ("POST", "/v1/recordings/{recording_id}/comments"): QA_REVIEW,
    ("POST", "/v1/recordings/{recording_id}/training"): QA_REVIEW,
    ("GET", "/v1/qa/training"): QA_REVIEW,
    ("GET", "/v1/qa/forms"): QA_REVIEW,
    ("POST", "/v1/qa/forms"): QA_FORMS,
    ("GET", "/v1/qa/forms/{form_id}"): QA_REVIEW,
    ("GET", "/v1/qa/forms/{form_id}/versions/{version}"): QA_REVIEW,
    ("GET", "/v1/recordings/{recording_id}/evaluations"): EVALUATIONS,
    ("POST", "/v1/recordings/{recording_id}/evaluations"): QA_REVIEW,
    ("GET", "/v1/recordings/{recording_id}/calibration"): QA_REVIEW,
    ("GET", "/v1/qa/evaluations"): EVALUATIONS,
    ("GET", "/v1/qa/evaluations/{evaluation_id}"): EVALUATIONS,
    ("POST", "/v1/qa/evaluations/{evaluation_id}/release"): QA_REVIEW,
    ("POST", "/v1/qa/evaluations/{evaluation_id}/dispute"): DISPUTES,
    ("POST", "/v1/qa/evaluations/{evaluation_id}/resolve"): QA_REVIEW,
    ("GET", "/v1/audit/listens"): AUDIT,
    ("POST", "/v1/recordings/{recording_id}/plays"): RECORDINGS,  # whoever may hear it
    ("GET", "/v1/audit/plays"): AUDIT,
    # retention (recordings/retention/): only admins delete and hold; auditors read holds
    ("DELETE", "/v1/recordings/{recording_id}"): roles(ADMIN, what="deleting recordings"),
    ("GET", "/v1/recordings/{recording_id}/hold"): roles(AUDITOR, ADMIN, what="legal holds"),
    ("POST", "/v1/recordings/{recording_id}/hold"): roles(ADMIN, what="legal holds"),
    ("DELETE", "/v1/recordings/{recording_id}/hold"): roles(ADMIN, what="legal holds"),
    ("GET", "/v1/audit/holds"): roles(AUDITOR, ADMIN, what="legal holds"),
    ("GET", "/v1/audit/deletions"): AUDIT,
    # the knowledge editors (knowledge_client/editors/)
    ("GET", "/v1/knowledge/questions"): KNOWLEDGE_EDITORS,
    ("POST", "/v1/knowledge/questions/{question_id}/handled"): KNOWLEDGE_EDITORS,
    ("POST", "/v1/knowledge/questions/{question_id}/variant"): KNOWLEDGE_EDITORS,
    ("POST", "/v1/knowledge/questions/{question_id}/answer"): KNOWLEDGE_EDITORS,
    ("GET", "/v1/knowledge/faq"): KNOWLEDGE_EDITORS,
    ("GET", "/v1/knowledge/faq/edits"): KNOWLEDGE_EDITORS,
    # the routing room: its live view, and the supervisor API (every one of its operations:
    # the same list its router and OpenAPI document are built from); auditors read its audit
    ("GET", "/v1/queues"): LIVE_QUEUES,
    **{(op.method, ROUTING_PREFIX + op.path):
       SUPERVISOR_API if op.method == "GET" else ROUTING_CHANGES for op in routing_operations()},
    ("GET", ROUTING_PREFIX + "/audit"): ROUTING_AUDIT,
    # KPI reports (ari_app/reports/api.py)
    ("GET", "/v1/reports/kpis"): REPORTS,
    ("POST", "/v1/reports/whatif"): REPORTS,  # replays, changes nothing (reports/whatif/)
    # the live wallboard (ari_app/wallboard/)
    ("GET", "/v1/wallboard"): WALLBOARD,
    ("GET", "/v1/wallboard/stream"): WALLBOARD,
    # Prometheus: the route checks its own scrape token (ari_app/metrics.py)
    ("GET", "/metrics"): OPEN,
    # console pages and their assets: no data in them, the API they call checks (pages.py)
    **dict.fromkeys(PAGE_ROUTES, OPEN),
}  # fmt: skip


class CookieSessions(Protocol):
    """Browser sessions as the middleware needs them (`ari_app.access.sessions.Sessions`)."""

    @property
    def cookie_name(self) -> str: ...

    async def resolve(self, cookie: str) -> WebSession | None: ...


def route_key(route: web.AbstractRoute) -> RouteKey | None:
    """The access table's key for a route; None for aiohttp's own (no match, bad method)."""
    resource = route.resource
    if resource is None:
        return None
    method = "GET" if route.method == "HEAD" else route.method  # HEAD is GET without a body
    return method, resource.canonical


def served_routes(app: web.Application) -> set[RouteKey]:
    """Every (method, path pattern) the app serves, its sub-applications' included."""
    found: set[RouteKey] = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            found |= served_routes(resource.get_info()["app"])
            continue
        found |= {key for route in resource
                  if route.method != "OPTIONS" and (key := route_key(route)) is not None}
    return found


UNAUTHENTICATED = "log in (POST /v1/login), or send Authorization: Bearer <token>"


def authenticate(tokens: TokenTable, access: Mapping[RouteKey, Access] = ACCESS,
                 sessions: CookieSessions | None = None) -> Middleware:  # fmt: skip
    """The middleware enforcing `access` with `tokens` and `sessions`; raises ApiError
    401 (no or unknown credentials, session over) or 403 (role, CSRF, no rule)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        match = request.match_info
        key = None if match.http_exception is not None else route_key(match.route)
        if key is None:  # no such route or method: aiohttp answers 404/405
            return await handler(request)
        rule = access.get(key)
        if rule is None:
            raise ApiError(403, "forbidden", f"{key[0]} {key[1]} is in no access rule; "
                           "nobody may call it")  # fmt: skip
        who = await _identify(request, tokens, sessions, needed=rule.roles is not None)
        if rule.roles is not None:
            if who is None:
                raise ApiError(401, "unauthorized", UNAUTHENTICATED)
            if who.role not in rule.roles:
                raise ApiError(403, "forbidden", f"role {who.role.value!r} may not use "
                               f"{rule.what}; it needs {_roles(rule.roles)}")  # fmt: skip
            if rule.unscoped and not who.unscoped:
                raise ApiError(403, "forbidden", f"{who.actor} sees only some queues; changes "
                               f"through {rule.what} apply to every queue: they need a "
                               "supervisor without queues or an admin")  # fmt: skip
        if who is not None:
            request[PRINCIPAL] = who
        return await handler(request)

    return middleware


async def _identify(request: web.Request, tokens: TokenTable, sessions: CookieSessions | None,
                    *, needed: bool) -> Principal | None:  # fmt: skip
    """The bearer token's principal, else (where a role is needed) the session cookie's."""
    header = request.headers.get("Authorization")
    if header is not None or not needed or sessions is None:
        return tokens.principal(header)
    cookie = request.cookies.get(sessions.cookie_name)
    if not cookie:
        return None
    session = await sessions.resolve(cookie)
    if session is None:
        raise ApiError(401, "session_ended", "the session has ended or expired; log in again")
    if request.method not in SAFE_METHODS and not csrf_matches(
            session, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf", f"send the session's {CSRF_HEADER} header with requests "
                       "that change something")  # fmt: skip
    request[SESSION] = session
    return session.principal


def _roles(allowed: frozenset[Role]) -> str:
    names = sorted(repr(r.value) for r in allowed)
    return f"role {names[0]}" if len(names) == 1 else "one of the roles " + ", ".join(names)
