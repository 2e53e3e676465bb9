"""Contact-centre KPIs with their formulas named (`docs/kpis.md`): pure arithmetic, no I/O.

`formulas` computes each KPI from counts and sums (the notation of the research's KPI table:
A, A≤T, Ab, Ab≤T, Ab≤S, F); `facts` is what one call contributes (its queue visits, survey,
self-service and complaint); `report` groups calls by hour, queue, tier or agent — each call in
the interval in which it entered the queue — and computes every KPI per group. The database
adapter and the HTTP route live in `ari_app/reports/`.
"""
