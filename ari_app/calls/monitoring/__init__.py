"""Supervisors on a live call: listen, whisper and barge through ARI snoops, every session
audited (`docs/supervisor-api.md`, "Monitoring a live call")."""
