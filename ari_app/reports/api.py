"""GET /v1/reports/kpis: the KPIs of a range as JSON, or as CSV with `format=csv`.

Every query parameter is checked and each problem is a 400 naming it (`query.from`, ...). Who
may call the route is the access table's to say (supervisors and admins); a supervisor scoped to
some queues sees only theirs: asking for another queue is a 403.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ari_app.reports.openapi import MAX_FCR_DAYS, MAX_RANGE_DAYS, MAX_SERVICE_S, PATH
from ari_app.reports.service import NOTES, KpiReports, ReportQuery
from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, invalid
from kernel.http.reply import json_reply
from routing.kpis.facts import KpiSettings
from routing.kpis.formulas import Kpi, Thresholds, Unit
from routing.kpis.report import GroupBy, KpiReport, KpiRow

QUEUE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_INT = re.compile(r"[0-9]{1,6}")  # ASCII digits only
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
DEFAULT_SPAN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ReportApiDeps:
    reports: KpiReports
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    settings: KpiSettings = KpiSettings()  # the defaults of T, S and N
    # The disposition codes in force: the CSV has a column for each, in this order.
    disposition_codes: tuple[str, ...] = ()


REPORTS = web.AppKey("reports_api", ReportApiDeps)


def add_report_routes(app: web.Application, deps: ReportApiDeps) -> None:
    app[REPORTS] = deps
    app.router.add_get(PATH, get_kpis)


async def get_kpis(request: web.Request) -> web.Response:
    deps = request.app[REPORTS]
    query, fmt = parse(request, deps)
    result = await deps.reports.report(query)
    if fmt == "csv":
        name = f"kpis-{query.start:%Y%m%dT%H%M}-{query.end:%Y%m%dT%H%M}.csv"
        return web.Response(text=as_csv(result, deps.disposition_codes), content_type="text/csv",
                            charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
    queue = request.query.get("queue")
    return json_reply(as_json(result, query, queue))


def parse(request: web.Request, deps: ReportApiDeps) -> tuple[ReportQuery, str]:
    """The query checked, every problem named at once; 403 for a queue not the caller's."""
    q, problems = request.query, []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(f"query.{name}", message))

    end = _time(q.get("to"), "to", bad) if "to" in q else deps.now()
    start = _time(q.get("from"), "from", bad) if "from" in q else None
    if start is None and "from" not in q and end is not None:
        start = end - DEFAULT_SPAN
    if start is not None and end is not None:
        if end <= start:
            bad("to", "must be after query.from")
        elif end - start > timedelta(days=MAX_RANGE_DAYS):
            bad("to", f"must be at most {MAX_RANGE_DAYS} days after query.from")
    by = _choice(q.get("by"), "by", [g.value for g in GroupBy], bad)
    fmt = _choice(q.get("format"), "format", ["json", "csv"], bad) or "json"
    queue = q.get("queue")
    if queue is not None and not QUEUE_ID.fullmatch(queue):
        bad("queue", "must be a queue id: 1 to 64 letters, digits, '_', '.' or '-'")
    defaults = deps.settings
    t = _int(q.get("sl_s"), "sl_s", 1, MAX_SERVICE_S, bad, defaults.thresholds.service_s)
    s = _int(q.get("short_s"), "short_s", 0, MAX_SERVICE_S - 1, bad, defaults.thresholds.short_s)
    if s >= t and "short_s" in q:
        bad("short_s", f"must be below the service level threshold ({t:g} s)")
    elif s >= t:
        bad("sl_s", f"must be above the short-abandon threshold ({s:g} s by default)")
    n = _int(q.get("fcr_days"), "fcr_days", 1, MAX_FCR_DAYS, bad, defaults.fcr_days)
    if problems:
        raise invalid(problems)
    assert start is not None and end is not None
    settings = KpiSettings(Thresholds(t, s), n)
    query = ReportQuery(start, end, GroupBy(by) if by else None,
                        _queues(request, queue), settings)  # fmt: skip
    return query, fmt


Bad = Callable[[str, str], None]


def _time(raw: str | None, name: str, bad: Bad) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw or "")
    except ValueError:
        bad(name, "must be a date and time in ISO 8601, e.g. 2026-12-02T09:00:00Z")
        return None
    if value.tzinfo is None:
        bad(name, "must name its time zone, e.g. Z or +01:00")
        return None
    if not EARLIEST <= value <= LATEST:
        bad(name, "must be between 2000 and 2100")
        return None
    return value.astimezone(UTC)


def _choice(raw: str | None, name: str, allowed: list[str], bad: Bad) -> str | None:
    if raw is not None and raw not in allowed:
        bad(name, f"must be one of {', '.join(allowed)}")
        return None
    return raw


def _int(raw: str | None, name: str, low: int, high: int, bad: Bad, default: float) -> float:
    if raw is None:
        return default
    if _INT.fullmatch(raw) is None or not low <= int(raw) <= high:
        bad(name, f"must be an integer from {low} to {high}")
        return default
    return int(raw)


def _queues(request: web.Request, queue: str | None) -> frozenset[str] | None:
    """The queues to count: the one asked for, else every queue the caller sees."""
    who = principal(request)
    if who.unscoped or who.queues is None:
        return None if queue is None else frozenset({queue})
    if queue is None:
        return who.queues
    if queue not in who.queues:
        raise ApiError(403, "out_of_scope", f"queue {queue!r} is not one of {who.actor}'s queues",
                       [Problem("query.queue", "not one of your queues")])  # fmt: skip
    return frozenset({queue})


def kpi_json(k: Kpi) -> dict[str, Any]:
    return {"key": k.key, "label": k.label, "formula": k.formula, "value": k.value,
            "numerator": k.numerator, "denominator": k.denominator, "unit": k.unit.value,
            "shown": k.shown}  # fmt: skip


def _row(r: KpiRow) -> dict[str, Any]:
    c = r.counts
    counts = {"answered": c.answered, "answered_within": c.answered_within,
              "abandoned": c.abandoned, "abandoned_within": c.abandoned_within,
              "short_abandoned": c.short_abandoned, "flow_outs": c.flow_outs}  # fmt: skip
    return {"group": r.group, "calls": r.calls, "counts": counts,
            "kpis": [kpi_json(k) for k in r.kpis],
            "dispositions": dict(r.dispositions)}  # fmt: skip


def as_json(result: KpiReport, query: ReportQuery, queue: str | None) -> dict[str, Any]:
    th = result.settings.thresholds
    return {
        "from": query.start.isoformat(), "to": query.end.isoformat(),
        "by": None if result.by is None else result.by.value, "queue": queue,
        "interval_rule": result.interval_rule,
        "settings": {"service_level_s": th.service_s, "short_abandon_s": th.short_s,
                     "fcr_days": result.settings.fcr_days},
        "notes": list(NOTES),
        "rows": [_row(r) for r in result.rows], "total": _row(result.total),
    }  # fmt: skip


COUNT_COLUMNS = ("A", "A≤T", "Ab", "Ab≤T", "Ab≤S", "F")


def as_csv(result: KpiReport, codes: Sequence[str] = ()) -> str:
    """One line per group, then the total; a column per KPI headed by its label, percentages
    as percent, times in seconds, empty where n/a; then a column per disposition code
    (`disposition: resolved`): the codes in force in their order, then any other counted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    labels = [f"{k.label} [{_unit(k.unit)}]" for k in result.total.kpis]
    given = dict(result.total.dispositions)
    columns = [*codes, *sorted(set(given) - set(codes))]
    writer.writerow(["group", "calls", *COUNT_COLUMNS, *labels,
                     *(f"disposition: {code}" for code in columns)])
    for r in (*result.rows, result.total):
        c, counted = r.counts, dict(r.dispositions)
        writer.writerow([r.group, r.calls, c.answered, c.answered_within, c.abandoned,
                         c.abandoned_within, c.short_abandoned, c.flow_outs,
                         *(_cell(k) for k in r.kpis),
                         *(counted.get(code, 0) for code in columns)])  # fmt: skip
    return out.getvalue()


def _unit(unit: Unit) -> str:
    return {Unit.PERCENT: "%", Unit.SECONDS: "s", Unit.SCORE: "1-5"}[unit]


def _cell(k: Kpi) -> str:
    value = k.value
    if value is None:
        return ""
    return f"{value * 100:.2f}" if k.unit is Unit.PERCENT else f"{value:.2f}"
