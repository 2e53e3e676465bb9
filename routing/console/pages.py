"""Supervisors' web pages (`routing/console/pages/`): the live wallboard, rule editing and the
what-if replay. They read and write only through the JSON API (`docs/supervisor-api.md`)."""

from __future__ import annotations

from pathlib import Path

from kernel.http.pages import Pages

SUPERVISOR_PAGES = Pages("supervisor", Path(__file__).parent / "pages", {
    "/supervisor/wallboard": "wallboard.html",
    "/supervisor/rules": "rules.html",
    "/supervisor/whatif": "whatif.html",
})  # fmt: skip
