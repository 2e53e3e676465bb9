"""The agents' page (`/agent`): served open with the pages' strict CSP, its assets from the
service, the stable ids the browser test drives, no inline script or style, and every element
its script looks up present in the page. (A real browser drives it in tests/browser/.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ari_app.calls.desk.pages import DESK_PAGES
from ari_app.db.database import Database
from kernel.http.pages import PAGE_HEADERS
from tests.unit.test_api_inputs import whole_app

STABLE_IDS = {"state", "login", "logout", "pause-reason", "pause", "resume", "pop",
              "pop-menu-path", "pop-said", "pop-answers", "pop-notes", "pop-vip",
              "transfer-queue", "transfer-notes", "transfer", "mute", "wrapup", "disposition",
              "wrapup-notes", "wrapup-submit", "problem", "live"}  # fmt: skip
SCRIPT = (DESK_PAGES.folder / "agent.js").read_text(encoding="utf-8")


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.inline: list[str] = []  # what the CSP would refuse
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if "style" in found or any(name.startswith("on") for name in found):
            self.inline.append(f"<{tag} {found}>")
        if tag == "script" and not found.get("src"):
            self.inline.append("<script> without src")
        for name in ("src", "href"):
            if tag in ("script", "link") and found.get(name):
                self.assets.append(str(found[name]))


@pytest.fixture
async def client(database: Database) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(whole_app(database))) as served:
        yield served


async def test_the_page_is_served_open_with_the_strict_policy(
        client: TestClient[Any, Any]) -> None:
    async with client.get("/agent") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        for name, value in PAGE_HEADERS.items():
            assert resp.headers[name] == value
        page = Elements()
        page.feed(await resp.text())
    assert not page.inline
    assert len(page.ids) == len(set(page.ids)), "an id used twice"
    assert set(page.ids) >= STABLE_IDS
    for asset in page.assets:
        assert asset.startswith("/ui/"), asset  # nothing from elsewhere
        async with client.get(asset) as resp:
            assert resp.status == 200, asset


def test_every_element_the_script_looks_up_is_in_the_page() -> None:
    page = Elements()
    page.feed((DESK_PAGES.folder / "agent.html").read_text(encoding="utf-8"))
    looked_up = set(re.findall(r'\$\("([a-z-]+)"\)', SCRIPT))
    assert looked_up and looked_up <= set(page.ids), looked_up - set(page.ids)


def test_the_script_uses_only_the_api_it_is_allowed() -> None:
    """The routes the desk calls, each one an agent may use (the access table's test holds)."""
    paths = set(re.findall(r"(/v1/[a-z/]+)", SCRIPT))
    assert paths == {"/v1/me/agent", "/v1/me/agent/", "/v1/dispositions", "/v1/calls/",
                     "/v1/events"}  # fmt: skip
    assert "eval(" not in SCRIPT and "innerHTML" not in SCRIPT
