"""The KPI reports page (`pages/`): every KPI per hour, queue, tier or agent with its formula
on screen, a chart, CSV export; it reads only `GET /v1/reports/kpis` (`docs/kpis.md`)."""

from __future__ import annotations

from pathlib import Path

from kernel.http.pages import Pages

REPORT_PAGES = Pages("reports", Path(__file__).parent / "pages", {
    "/supervisor/reports": "reports.html",
})  # fmt: skip
