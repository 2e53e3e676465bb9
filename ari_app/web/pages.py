"""Every console page the service serves: the shell's own (sign in, the consoles' index) and
each room's. Pages and their assets carry no data (`kernel.http.pages`): the access table opens
`PAGE_ROUTES`, and the API routes the pages call check who is asking. Pages are not API
operations: the OpenAPI document leaves them out."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ari_app.calls.desk.pages import DESK_PAGES
from ari_app.reports.pages import REPORT_PAGES
from kernel.http.pages import Pages
from knowledge_client.editors.pages import EDITOR_PAGES
from recordings.qa.pages import QA_PAGES
from routing.console.pages import SUPERVISOR_PAGES

SHELL = Pages("shell", Path(__file__).parent / "shell", {
    "/": "home.html",
    "/login": "login.html",
})  # fmt: skip
ALL_PAGES = (SHELL, QA_PAGES, EDITOR_PAGES, SUPERVISOR_PAGES, DESK_PAGES, REPORT_PAGES)
PAGE_ROUTES: frozenset[tuple[str, str]] = frozenset(
    key for pages in ALL_PAGES for key in pages.route_keys())


def add_pages(app: web.Application) -> None:
    for pages in ALL_PAGES:
        pages.add_to(app)
