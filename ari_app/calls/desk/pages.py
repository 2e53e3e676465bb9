"""The agents' own page (`pages/agent.html`, at `/agent`): their state and its commands, the
screen pop of a call offered to them, transfer and PCI mute while talking, and the wrap-up with
a disposition. It reads and writes only through the JSON API (`docs/agents.md`)."""

from __future__ import annotations

from pathlib import Path

from kernel.http.pages import Pages

DESK_PAGES = Pages("desk", Path(__file__).parent / "pages", {
    "/agent": "agent.html",
})  # fmt: skip
