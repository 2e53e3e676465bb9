"""The KPI report route (`api.py`) as the service's OpenAPI document describes it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kernel.http.openapi import Param, Route
from routing.kpis.formulas import Unit
from routing.kpis.report import GroupBy

PATH = "/v1/reports/kpis"
MAX_RANGE_DAYS = 92
MAX_SERVICE_S = 3600
MAX_FCR_DAYS = 90
TIME = {"type": "string", "format": "date-time"}


class KpiOut(BaseModel):
    key: str = Field(description="stable id, e.g. sl_excl_short")
    label: str = Field(description='as shown on screen, e.g. "SL(20 s, excl. short ≤ 5 s)"')
    formula: str = Field(description="e.g. A≤20 / (A + Ab − Ab≤5)")
    value: float | None = Field(description="numerator / denominator (a ratio 0..1 for "
                                            "percentages); null when the denominator is 0")
    numerator: float
    denominator: float
    unit: Unit
    shown: str = Field(description='e.g. "81.9 %", "12.3 s", or "n/a"')


class CountsOut(BaseModel):
    answered: int = Field(description="A")
    answered_within: int = Field(description="A≤T")
    abandoned: int = Field(description="Ab")
    abandoned_within: int = Field(description="Ab≤T")
    short_abandoned: int = Field(description="Ab≤S")
    flow_outs: int = Field(description="F: the queue gave up (max wait, overflow, exit)")


class KpiRowOut(BaseModel):
    group: str = Field(description="an hour (ISO 8601, UTC), queue id, tier, agent id, "
                                   "'unassigned' (nobody answered) or 'total'")
    calls: int = Field(description="calls whose call-level KPIs count here")
    counts: CountsOut
    kpis: list[KpiOut]
    dispositions: dict[str, int] = Field(description="answered visits closed with each "
                                         "disposition code, e.g. {\"resolved\": 3}")


class SettingsOut(BaseModel):
    service_level_s: float = Field(description="T")
    short_abandon_s: float = Field(description="S")
    fcr_days: float = Field(description="N")


class KpiReportOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    by: GroupBy | None
    queue: str | None
    interval_rule: str
    settings: SettingsOut
    notes: list[str] = Field(description="how the stored calls were read into the formulas")
    rows: list[KpiRowOut]
    total: KpiRowOut


PARAMS = (
    Param("from", "query", "range start (ISO 8601 with a time zone), inclusive; default: "
          "24 h before `to`", TIME),
    Param("to", "query", "range end (ISO 8601 with a time zone), exclusive; default: now; "
          f"after `from`, at most {MAX_RANGE_DAYS} days later", TIME),
    Param("by", "query", "one row per hour (of entering the queue), queue, tier or agent",
          {"type": "string", "enum": [g.value for g in GroupBy]}),
    Param("queue", "query", "only this queue's calls",
          {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}),
    Param("format", "query", "json (default) or csv (one row per group, then the total)",
          {"type": "string", "enum": ["json", "csv"]}),
    Param("sl_s", "query", f"T, the service level threshold in seconds (1-{MAX_SERVICE_S}, "
          "default 20)", {"type": "integer", "minimum": 1, "maximum": MAX_SERVICE_S}),
    Param("short_s", "query", "S, the short-abandon threshold in seconds (0 to T − 1, "
          "default 5)", {"type": "integer", "minimum": 0, "maximum": MAX_SERVICE_S - 1}),
    Param("fcr_days", "query", f"N, first-call resolution's days (1-{MAX_FCR_DAYS}, default 7)",
          {"type": "integer", "minimum": 1, "maximum": MAX_FCR_DAYS}),
)  # fmt: skip


def routes() -> list[Route]:
    return [
        Route("GET", PATH, "KPIs with their formulas, per hour, queue, tier or agent",
              "reports", KpiReportOut,
              params=PARAMS, errors=(503,),
              description="Every KPI of docs/kpis.md over the calls that entered a queue "
                          "(or arrived, when they never queued) in [from, to). A supervisor "
                          "scoped to some queues sees only theirs. `format=csv` answers "
                          "text/csv."),
    ]  # fmt: skip
