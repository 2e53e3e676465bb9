"""POST /v1/reports/whatif: the last hours replayed with the plan in force and a proposed one.

Here, beside the KPI reports, rather than under /v1/routing: it reads the stored calls of
every room (journeys, dispositions) as the reports do, and counts with the same formulas; the
routing room cannot read journeys, and its API's changes are for unscoped principals only,
while a what-if changes nothing and a supervisor scoped to some queues may run one on theirs.
Who may call the route is the access table's to say (supervisors and admins); a scoped
supervisor sees only their queues' figures, and may propose changes only to their queues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from ari_app.reports.api import kpi_json
from ari_app.reports.whatif.body import Proposed, WhatIfBody, out_of_scope, parse, proposed
from ari_app.reports.whatif.openapi import PATH
from ari_app.reports.whatif.service import WhatIf, WhatIfQuery, WhatIfReplays
from kernel.http import request as read
from kernel.http.auth import Principal, principal
from kernel.http.errors import ApiError, Problem, invalid
from kernel.http.reply import json_reply
from routing.config import RoutingConfig
from routing.kpis.formulas import Thresholds
from routing.whatif.compare import PlanOutcome
from routing.whatif.figures import HEADLINE, Figures, PlanFigures
from routing.whatif.model import Patience, ReplaySettings

NOTES = (
    "arrivals: each call's first queue entry in the window, with its caller number (VIPs and "
    "abandon-resume as live), its IVR context and priority 0; overflows and max-wait exits are "
    "the replayed plan's to make",
    "agents answer every offer after the ring time the call had for real (the mean ring time "
    "for calls never answered), talk for the recorded talk time and transfer as recorded; "
    "wrap-up is the replayed queue's timer, ended early where the agent ended it for real",
    "patience: a caller who hung up waiting hangs up after the same wait; one never seen to "
    "hang up waits as settings.assumed_patience_s says",
    "agents: logged in at the start unless the routing audit says otherwise; login, logout, "
    "pause and resume replayed as audited; an agent who answered a call was available when "
    "offered it; no-answers, busy phones and unreachable devices are not replayed",
    "configuration: 'current' is the version in force now, replayed over the whole window",
)


@dataclass(frozen=True, slots=True)
class WhatIfApiDeps:
    replays: WhatIfReplays


WHATIF = web.AppKey("whatif_api", WhatIfApiDeps)


def add_whatif_routes(app: web.Application, deps: WhatIfApiDeps) -> None:
    app[WHATIF] = deps
    app.router.add_post(PATH, post_whatif)


async def post_whatif(request: web.Request) -> web.Response:
    replays = request.app[WHATIF].replays
    body = parse(await read.json_body(request))
    current = replays.config()
    who = principal(request)
    plan, ids = _checked(body, current)
    if who.queues is not None and not who.unscoped:
        outside = ([] if body.queue_id is None or body.queue_id in who.queues
                   else ["body.queue_id"])
        outside += [f for qid, f in plan.changed.items() if qid not in who.queues]
        if outside:
            raise out_of_scope(who.actor, outside)
    end = replays.now()
    start = end - timedelta(hours=body.hours)
    interval_min = body.interval_min or (15 if body.hours <= 6 else 60)
    settings = ReplaySettings(Thresholds(body.sl_s, body.short_s), interval_min * 60.0,
                              Patience(body.patience), body.min_patience_s, body.seed)
    query = WhatIfQuery(start, end, _counted(body, ids, who), current, plan.config, settings)
    result = await replays.run(query)
    reply = as_json(result, query, body, current)
    reply["warnings"] = [{"field": w.field, "message": w.message} for w in plan.warnings]
    return json_reply(reply)


def _checked(body: WhatIfBody, current: RoutingConfig) -> tuple[Proposed, list[str]]:
    """The proposal and every queue id of either configuration; 400 naming every problem."""
    problems: list[Problem] = []
    if body.short_s >= body.sl_s:
        problems.append(Problem("body.short_s", f"must be below body.sl_s ({body.sl_s} s)"))
    try:
        plan = proposed(body, current)
    except ApiError as exc:
        raise invalid([*problems, *exc.problems], exc.message) from None
    ids = list(dict.fromkeys(q.queue_id for q in (*current.queues, *plan.config.queues)))
    if body.queue_id is not None and body.queue_id not in ids:
        problems.append(Problem("body.queue_id", f"no queue {body.queue_id!r} in the "
                                "configuration in force or the proposed one"))
    if problems:
        raise invalid(problems)
    return plan, ids


def _counted(body: WhatIfBody, ids: Sequence[str], who: Principal) -> tuple[str, ...]:
    """The queues whose figures are counted: the one asked for, else every queue the caller
    sees."""
    if body.queue_id is not None:
        return (body.queue_id,)
    if who.unscoped or who.queues is None:
        return tuple(ids)
    return tuple(q for q in ids if q in who.queues)


# ------------------------------------------------------------------ the reply


def _row(r: Figures) -> dict[str, Any]:
    c = r.counts
    counts = {"answered": c.answered, "answered_within": c.answered_within,
              "abandoned": c.abandoned, "abandoned_within": c.abandoned_within,
              "short_abandoned": c.short_abandoned, "flow_outs": c.flow_outs}  # fmt: skip
    return {"group": r.group, "counts": counts, "kpis": [kpi_json(k) for k in r.kpis]}


def _figures(f: PlanFigures) -> dict[str, Any]:
    return {"total": _row(f.total), "queues": [_row(r) for r in f.queues],
            "intervals": [_row(r) for r in f.intervals]}  # fmt: skip


def _plan(p: PlanOutcome, version: int | None) -> dict[str, Any]:
    return {"version": version, "still_waiting": p.still_waiting, "skipped": p.skipped,
            **_figures(p.figures)}  # fmt: skip


def as_json(result: WhatIf, query: WhatIfQuery, body: WhatIfBody,
            current: RoutingConfig) -> dict[str, Any]:  # fmt: skip
    c, s = result.comparison, query.settings
    return {
        "from": query.start.isoformat(), "to": query.end.isoformat(), "hours": body.hours,
        "queue": body.queue_id, "interval_s": s.interval_s, "arrivals": c.arrivals,
        "settings": {"service_level_s": s.thresholds.service_s,
                     "short_abandon_s": s.thresholds.short_s, "patience": s.patience.value,
                     "min_patience_s": s.min_patience_s, "assumed_patience_s": c.patience_s,
                     "seed": s.seed},
        "headline": dict(HEADLINE),
        "staffing": {"agents_unavailable_at_start": len(result.staffing.initial),
                     "changes": len(result.staffing.changes), "commands": result.commands,
                     "answers": result.answers},
        "notes": list(NOTES), "warnings": [],
        "current": _plan(c.current, current.version), "proposed": _plan(c.proposed, None),
        "recorded": _figures(c.recorded) if c.recorded is not None else None,
    }  # fmt: skip
