"""The what-if route (`api.py`) as the service's OpenAPI document describes it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ari_app.reports.openapi import CountsOut, KpiOut
from ari_app.reports.whatif.body import WhatIfBody
from kernel.http.errors import ProblemOut
from kernel.http.openapi import Route

PATH = "/v1/reports/whatif"


class WhatIfRowOut(BaseModel):
    group: str = Field(description="a queue id, an interval's start (ISO 8601, UTC) or 'total'")
    counts: CountsOut
    kpis: list[KpiOut] = Field(description="SL variants, abandonment, answer rate and ASA, "
                                           "with the KPI reports' keys, labels and formulas")


class FiguresOut(BaseModel):
    total: WhatIfRowOut
    queues: list[WhatIfRowOut]
    intervals: list[WhatIfRowOut] = Field(description="each visit in the interval it entered "
                                                      "its queue, as the reports count")


class PlanOut(FiguresOut):
    version: int | None = Field(description="the configuration version replayed (current); "
                                            "null for the proposal")
    still_waiting: int = Field(description="calls that never ended (infinite patience and "
                                           "nobody to take them): counted nowhere")
    skipped: int = Field(description="arrivals to a queue the configuration does not have")


class WhatIfSettingsOut(BaseModel):
    service_level_s: float = Field(description="T")
    short_abandon_s: float = Field(description="S")
    patience: str
    min_patience_s: float
    assumed_patience_s: float | None = Field(description="what callers never seen to hang "
                                                         "up were given; null: for ever")
    seed: int


class StaffingOut(BaseModel):
    agents_unavailable_at_start: int = Field(description="logged out or paused at the start, "
                                                         "by the audit")
    changes: int = Field(description="availability changes replayed within the window")
    commands: int = Field(description="agent commands read from the routing audit")
    answers: int = Field(description="answers read, each proving its agent available")


class WhatIfOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    hours: int
    queue: str | None
    interval_s: float
    arrivals: int = Field(description="calls whose first queue entry, in the window, was one "
                                      "of the queues counted")
    settings: WhatIfSettingsOut
    headline: dict[str, str] = Field(description="the KPI keys shown first: service_level, "
                                                 "asa, abandonment")
    staffing: StaffingOut
    notes: list[str] = Field(description="what was replayed and what was assumed")
    warnings: list[ProblemOut] = Field(description="plan linter warnings the proposal adds")
    current: PlanOut
    proposed: PlanOut
    recorded: FiguresOut = Field(description="the same calls as they really went")


def routes() -> list[Route]:
    return [
        Route("POST", PATH, "Replay the last hours' calls with the plan in force and a "
              "proposed one", "reports", WhatIfOut, body=WhatIfBody, errors=(503,),
              description="The arrivals, handle times and agent availability of the last "
                          "`hours` are replayed through the routing core with the "
                          "configuration in force and with `proposed`; nothing is saved or "
                          "applied. Predicted service level, ASA and abandonment per queue and "
                          "per interval, beside the recorded ones (docs/whatif.md). A "
                          "supervisor scoped to some queues sees only theirs and may propose "
                          "changes only to them (403 out_of_scope)."),
    ]  # fmt: skip
