"""KPI reports over the stored calls: journeys read as `routing.kpis` facts (`facts.py`), the
database reads (`store.py`), a range counted off the event loop (`service.py`) and
GET /v1/reports/kpis in JSON or CSV (`api.py`, `openapi.py`). Formulas: `docs/kpis.md`."""
