"""The web assembly: one aiohttp app from the rooms' routes, behind one error middleware and one
authentication middleware (`errors.py`, `auth.py`). The rooms serve their own routes:

- `/health` and `/ready` (here, `health.py`);
- logging in and out, the recording-read audit (`ari_app/access/routes.py`): `/v1/login`,
  `/v1/logout`, `/v1/session`, `/v1/audit/recordings`;
- the calls (`ari_app/calls/api.py`): `/v1/calls…`, `/v1/events`;
- the recordings (`recordings/api.py`): `/v1/recordings/…`; QA over them (`recordings/qa/`):
  search, comments, scorecards, evaluations, the training library, `/v1/audit/listens`; legal
  holds and deletion (`recordings/retention/`): `…/hold`, `DELETE /v1/recordings/{id}`,
  `/v1/audit/holds`, `/v1/audit/deletions`;
- the knowledge editors (`knowledge_client/editors/`): `/v1/knowledge/…`;
- the agents' desk (`ari_app/calls/desk/`): `/v1/dispositions`, `…/{call_id}/disposition`;
  and their own state (`routing/api/me.py`): `/v1/me/agent…`;
- the live wallboard (`ari_app/wallboard/`): `/v1/wallboard`, `/v1/wallboard/stream`;
- supervisors on live calls (`ari_app/calls/monitoring/`): `/v1/calls/{call_id}/monitor…`,
  `/v1/audit/monitors`;
- the KPI reports and the what-if replay (`ari_app/reports/`): `/v1/reports/kpis`,
  `/v1/reports/whatif`;
- routing (`routing/api/`): the live view `/v1/queues`, the supervisor API under `/v1/routing`
  (a sub-application: aiohttp runs this app's middlewares for it too) and `/v1/openapi.json`,
  which serves the one document of every room's routes (`openapi.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web

from ari_app.access.routes import AccessApiDeps, add_access_routes
from ari_app.access.wiring import access_parts
from ari_app.calls.api import CallApiDeps, add_call_routes
from ari_app.calls.desk.api import DeskApiDeps, add_desk_routes
from ari_app.calls.desk.model import DispositionCodes
from ari_app.calls.desk.store import DispositionStore
from ari_app.calls.hub import EventHub
from ari_app.calls.monitoring.api import MonitorApiDeps, add_monitor_routes
from ari_app.calls.monitoring.audit import MonitorStore
from ari_app.calls.monitoring.model import LiveMonitors
from ari_app.calls.registry import LiveCalls
from ari_app.db.database import Database
from ari_app.metrics import Metrics, add_metrics_route
from ari_app.reports.api import ReportApiDeps, add_report_routes
from ari_app.reports.service import KpiReports
from ari_app.reports.store import ReportStore
from ari_app.reports.whatif.api import WhatIfApiDeps, add_whatif_routes
from ari_app.reports.whatif.commands import AgentCommandLog
from ari_app.reports.whatif.service import WhatIfReplays
from ari_app.wallboard.api import WallboardDeps, add_wallboard_routes
from ari_app.wallboard.today import TodayFigures
from ari_app.web.auth import ACCESS, Access, CookieSessions, RouteKey, authenticate, served_routes
from ari_app.web.errors import errors
from ari_app.web.health import HealthChecks, add_health_routes
from ari_app.web.openapi import publish_openapi
from ari_app.web.pages import add_pages
from kernel.http.auth import TokenTable
from knowledge_client.editors.api import EditorApiDeps, add_editor_routes
from knowledge_client.editors.loop import FaqEditor
from knowledge_client.editors.store import QuestionStore
from recordings.api import RecordingApiDeps, add_recording_routes
from recordings.qa.evaluations import EvaluationStore
from recordings.qa.http import QaApiDeps
from recordings.qa.listens import ListenAuditor, ListenLog
from recordings.qa.plays import PlayLog
from recordings.qa.routes import add_qa_routes
from recordings.qa.search_store import RecordingSearch
from recordings.qa.store import QaStore
from recordings.qa.timeline import Timelines
from recordings.retention.api import RetentionApiDeps, RetentionFacts, add_retention_routes
from recordings.retention.deleter import RecordingDeleter
from recordings.retention.policy import RetentionPolicy
from recordings.retention.store import RetentionStore
from routing.actor import QueueService
from routing.api import RoutingApiDeps, add_live_routes, add_routing_api
from routing.api.me import MyAgentDeps, add_my_agent_routes

log = structlog.get_logger(__name__)

Room = Callable[[web.Application], None]  # adds one room's routes (and what they need)


@dataclass(frozen=True)
class WebDeps:
    db: Database
    hub: EventHub
    live: LiveCalls
    queues: QueueService
    routing: RoutingApiDeps
    tokens: TokenTable
    ready: asyncio.Event | None = None  # set while ARI is connected; only without `health`
    is_vip: Callable[[str], bool] = lambda _number: False
    health: HealthChecks | None = None  # what /health and /ready ask
    access: AccessApiDeps | None = None  # logins and sessions; default: default policies
    allowed_origins: frozenset[str] = frozenset()  # pages that may open /v1/events
    max_event_subscribers: int = 50
    recordings_dir: Path | None = None  # the recording store; None: no audio is served
    faq_editor: FaqEditor | None = None  # the embedded FAQ editors change; None: not embedded
    metrics: Metrics | None = None  # GET /metrics; None: it answers 404 (metrics off)
    retention: RetentionPolicy = RetentionPolicy()  # how long recordings are kept: for ever
    dispositions: DispositionCodes = DispositionCodes()  # what agents close calls with
    monitors: LiveMonitors | None = None  # supervisors on live calls; None: 503
    monitor_endpoints: Mapping[str, str] = field(default_factory=dict)  # actor -> their phone

    def health_checks(self) -> HealthChecks:
        """`health`, else (only `ready` given) ARI from `ready`, the database pinged, AMI
        taken as connected and calls as accepted while ARI is connected."""
        if self.health is not None:
            return self.health
        if self.ready is None:
            raise TypeError("WebDeps needs health (HealthChecks) or ready (asyncio.Event)")
        return HealthChecks(ari_connected=self.ready.is_set, ami_connected=lambda: True,
                            database=self.db.ping, accepting_calls=self.ready.is_set,
                            live=self.live)  # fmt: skip


def build_web_app(deps: WebDeps) -> web.Application:
    """The service's whole HTTP surface."""
    given = DispositionStore(deps.db.units)
    calls = CallApiDeps(db=deps.db, hub=deps.hub, live=deps.live, queues=deps.queues,
                        is_vip=deps.is_vip, allowed_origins=deps.allowed_origins,
                        max_subscribers=deps.max_event_subscribers,
                        dispositions=given)  # fmt: skip
    desk = DeskApiDeps(given, deps.db.calls, deps.live, deps.queues, deps.dispositions)
    health = deps.health_checks()
    access = deps.access or access_parts(deps.db.units)
    listens = ListenLog(deps.db.units)
    kept = RetentionStore(deps.db.units)
    retention = RetentionApiDeps(kept, RecordingDeleter(kept, deps.recordings_dir),
                                 deps.retention)
    recordings = RecordingApiDeps(deps.db.recordings, deps.recordings_dir, access.reads,
                                  ListenAuditor(listens), RetentionFacts(kept, deps.retention))
    qa = QaApiDeps(deps.db.recordings, QaStore(deps.db.units), EvaluationStore(deps.db.units),
                   listens, Timelines(deps.db.units), deps.recordings_dir,
                   PlayLog(deps.db.units))
    search = RecordingSearch(deps.db.units)
    editors = EditorApiDeps(QuestionStore(deps.db.units), deps.faq_editor, search)
    kpis = KpiReports(ReportStore(deps.db.units), lambda: deps.queues.config,
                      lambda: datetime.now(UTC))
    reports = ReportApiDeps(kpis, disposition_codes=deps.dispositions.names)
    wallboard = WallboardDeps(deps.queues, TodayFigures(kpis))
    monitoring = MonitorApiDeps(deps.live, deps.monitors, MonitorStore(deps.db.units),
                                deps.monitor_endpoints)
    app = assemble(deps.tokens, [
        lambda app: add_health_routes(app, health),
        lambda app: add_access_routes(app, access),
        lambda app: add_call_routes(app, calls),
        lambda app: add_monitor_routes(app, monitoring),
        lambda app: add_desk_routes(app, desk),
        lambda app: add_my_agent_routes(app, MyAgentDeps(deps.routing, deps.queues)),
        lambda app: add_recording_routes(app, recordings),
        lambda app: add_qa_routes(app, qa, search),
        lambda app: add_retention_routes(app, retention),
        lambda app: add_editor_routes(app, editors),
        lambda app: add_live_routes(app, deps.queues),
        lambda app: add_routing_api(app, deps.routing),
        lambda app: add_report_routes(app, reports),
        lambda app: add_whatif_routes(app, WhatIfApiDeps(WhatIfReplays(
            ReportStore(deps.db.units), AgentCommandLog(deps.db.units),
            lambda: deps.queues.config, lambda: datetime.now(UTC)))),
        lambda app: add_wallboard_routes(app, wallboard),
        lambda app: add_metrics_route(app, deps.metrics),
        add_pages,
    ], sessions=access.sessions)  # fmt: skip
    publish_openapi(app)  # every room's routes, with the roles of the access table
    return app


def assemble(tokens: TokenTable, rooms: Iterable[Room],
             access: Mapping[RouteKey, Access] = ACCESS,
             sessions: CookieSessions | None = None) -> web.Application:  # fmt: skip
    """An app serving `rooms`, errors first (so it writes the auth middleware's 401/403 too);
    people's browser sessions are accepted when `sessions` is given."""
    app = web.Application(middlewares=[errors, authenticate(tokens, access, sessions)])
    for add in rooms:
        add(app)
    if unlisted := sorted(served_routes(app) - set(access)):
        log.warning("http.routes_without_access_rule", refused=[f"{m} {p}" for m, p in unlisted])
    return app
