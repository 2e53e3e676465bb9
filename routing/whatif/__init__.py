"""What-if: recorded traffic replayed through the real routing core with a proposed plan.

Pure (no I/O, no asyncio, no wall clock). `model` holds the inputs: the arrivals (each call's
first queue entry, its conversations' talk and ring times, the caller's patience when they
hung up waiting) and the agents' availability on a replay clock whose second 0 is the start of
the window. `traffic` turns recorded queue visits (`routing.kpis.facts.QueueVisit`, as the KPI
reports read journeys) into arrivals; `staffing` folds agent commands into availability;
`replay` drives `routing.router.Router` on a simulated clock with agents who answer every
offer; `figures` counts the replayed visits with the KPI core's formulas, per queue and per
interval; `compare` runs the plan in force and the proposed one side by side. The database
adapter and the route are `ari_app/reports/whatif/`; the assumptions are in `docs/whatif.md`.
"""
