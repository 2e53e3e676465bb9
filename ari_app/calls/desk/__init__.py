"""The agents' desk: their own page (`/agent`), the disposition codes they close a call with,
and the dispositions given, which feed the KPI reports (`docs/agents.md`)."""
