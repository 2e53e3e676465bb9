"""The what-if replay over stored traffic (`routing/whatif/` is the pure core): the last hours'
calls read as arrivals and recorded figures (`traffic.py`, through the KPI reports' own reading
of journeys), the agents' commands from the routing audit (`commands.py`), the replay of both
plans off the event loop (`service.py`), and POST /v1/reports/whatif (`body.py`, `api.py`,
`openapi.py`). What is replayed and what is assumed: `docs/whatif.md`."""
