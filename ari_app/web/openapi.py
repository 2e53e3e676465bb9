"""The service's one OpenAPI document: every room's routes, merged, with who may call each one
read from the access table (`auth.py`), served at `routing.api.app.OPENAPI_PATH`.

Each room lists its routes next to where it registers them: logging in and the recording-read
audit (`ari_app/access/openapi.py`), the calls (`ari_app/calls/openapi.py`), the recordings
(`recordings/openapi.py`), routing (`routing/api/app.py`: the supervisor API, the live view and
the document's own route); `/health` and `/ready` are listed here, beside `health.py`.
`build_web_app` calls `publish_openapi(app)` once the rooms are added: it puts the document where
the document's route serves it from, and logs any route served but not documented (or the other
way round); a unit test holds the two equal.

Every route that is not open takes what the authentication middleware (`auth.py`) takes: a
bearer token, or a browser session's cookie, with the session's `X-CSRF-Token` header on
requests that change something. The cookie's name depends on where the service listens
(`ari_app/access/sessions.py`), so both names are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel, Field

from ari_app.access.openapi import routes as access_routes
from ari_app.access.sessions import CSRF_HEADER, SessionPolicy
from ari_app.calls.desk.openapi import routes as desk_routes
from ari_app.calls.monitoring.openapi import routes as monitor_routes
from ari_app.calls.openapi import routes as call_routes
from ari_app.metrics import routes as metrics_routes
from ari_app.reports.openapi import routes as report_routes
from ari_app.reports.whatif.openapi import routes as whatif_routes
from ari_app.wallboard.openapi import routes as wallboard_routes
from ari_app.web.auth import ACCESS, SAFE_METHODS, Access, RouteKey, served_routes
from ari_app.web.pages import PAGE_ROUTES
from kernel.http.openapi import Requirements, Route, Schema, document
from knowledge_client.editors.openapi import routes as editor_routes
from recordings.openapi import routes as recording_routes
from recordings.qa.openapi import routes as qa_routes
from recordings.retention.openapi import routes as retention_routes
from routing.api.app import OPENAPI
from routing.api.app import routes as routing_routes
from routing.api.me import routes as my_agent_routes

log = structlog.get_logger(__name__)

TITLE = "Hotline API"
DESCRIPTION = (
    "Calls and their journeys, recordings, the routing configuration (versioned, audited, "
    "applied live), agent states, the live queues, health and readiness. Each operation "
    "names the roles that may call it (`x-roles`); open ones need no credentials. Machines "
    "send a bearer token; people log in (`POST /v1/login`) and send the session cookie, with "
    f"the session's `{CSRF_HEADER}` header on requests that change something. Errors "
    "are one shape: `{error, message, problems: [{field, message}]}`."
)

LOGIN = "a person's browser session, set by POST /v1/login (HttpOnly, SameSite=Strict)"
SCHEMES: dict[str, Schema] = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "a machine's API token (`api_tokens` in the configuration)"},
    "session": {"type": "apiKey", "in": "cookie",
                "name": SessionPolicy(secure_cookie=False).cookie_name,
                "description": f"{LOGIN}; its name while the service listens on loopback only"},
    "host_session": {"type": "apiKey", "in": "cookie", "name": SessionPolicy().cookie_name,
                     "description": f"{LOGIN}; its name (Secure, HTTPS only) while the service "
                                    "listens beyond loopback"},
    "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
             "description": "the session's CSRF token (in the login answer and GET /v1/session),"
                            " sent with the session cookie on every request that changes "
                            "something (not GET, HEAD or OPTIONS); without it 403 `csrf`"},
}  # fmt: skip


def security(route: Route) -> Requirements:
    """A bearer token, or a session cookie (with the CSRF header when the request changes
    something): what the authentication middleware accepts on every route that is not open."""
    csrf: dict[str, list[str]] = {} if route.method in SAFE_METHODS else {"csrf": []}
    return [{"bearer": []}, {"session": [], **csrf}, {"host_session": [], **csrf}]


class HealthOut(BaseModel):
    status: str = Field(description="ok, or degraded when ARI, AMI or the database is down")
    ari: str = Field(description="connected or disconnected")
    ami: str = Field(description="connected or disconnected")
    database: str = Field(description="ok or unreachable")
    active_calls: int


class ReadyOut(BaseModel):
    ready: bool
    reason: str


def health_routes() -> list[Route]:
    return [
        Route("GET", "/health", "Is the service whole: ARI, AMI and the database", "health",
              HealthOut, same_shape=(503,)),
        Route("GET", "/ready", "May new calls come here", "health", ReadyOut,
              same_shape=(503,)),
    ]  # fmt: skip


def routes() -> list[Route]:
    """Every route the service serves, room by room."""
    return [*health_routes(), *access_routes(), *call_routes(), *monitor_routes(),
            *desk_routes(),
            *my_agent_routes(), *recording_routes(),
            *qa_routes(), *retention_routes(), *editor_routes(),
            *routing_routes(), *report_routes(), *whatif_routes(), *wallboard_routes(),
            *metrics_routes()]


def whole_document(access: Mapping[RouteKey, Access] = ACCESS) -> dict[str, Any]:
    return document(routes(), title=TITLE, description=DESCRIPTION,
                    roles=lambda route: roles(access, route), schemes=SCHEMES,
                    security=security)  # fmt: skip


def roles(access: Mapping[RouteKey, Access], route: Route) -> Iterable[str] | None:
    """Who may call `route` per `access`: None when it is open; nobody when it has no rule."""
    rule = access.get((route.method, route.path))
    if rule is None:
        return ()
    return None if rule.roles is None else sorted(role.value for role in rule.roles)


def documented(doc: Mapping[str, Any]) -> set[RouteKey]:
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def publish_openapi(app: web.Application,
                    access: Mapping[RouteKey, Access] = ACCESS) -> dict[str, Any]:  # fmt: skip
    """Serve the whole document at the OpenAPI path of `app` (after its rooms are added)."""
    doc = whole_document(access)
    app[OPENAPI] = doc
    served = served_routes(app) - PAGE_ROUTES
    if served != documented(doc):
        log.warning("http.openapi_drift",
                    undocumented=sorted(f"{m} {p}" for m, p in served - documented(doc)),
                    not_served=sorted(f"{m} {p}" for m, p in documented(doc) - served))
    return doc
