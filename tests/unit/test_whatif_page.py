"""The what-if page (`/supervisor/whatif`): served open with the pages' strict CSP, its assets
from the service, the stable ids a browser test drives, no inline script or style, every
element its script looks up present in the page, and only the API routes a supervisor may use.
(A real browser drives it in tests/browser/.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ari_app.db.database import Database
from ari_app.web.auth import ACCESS
from kernel.http.auth import Role
from kernel.http.pages import PAGE_HEADERS
from routing.console.pages import SUPERVISOR_PAGES
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_desk_page import Elements

STABLE_IDS = {"whatif", "hours", "queue", "interval", "patience", "plan", "add-step",
              "reset-plan", "run", "status", "problem", "result", "summary", "current-sl",
              "proposed-sl", "recorded-sl", "current-asa", "proposed-asa", "current-abandon",
              "proposed-abandon", "chart", "warnings", "notes"}  # fmt: skip
SCRIPT = (SUPERVISOR_PAGES.folder / "whatif.js").read_text(encoding="utf-8")
HTML = (SUPERVISOR_PAGES.folder / "whatif.html").read_text(encoding="utf-8")


@pytest.fixture
async def client(database: Database) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(whole_app(database))) as served:
        yield served


async def test_the_page_is_served_open_with_the_strict_policy(
        client: TestClient[Any, Any]) -> None:
    async with client.get("/supervisor/whatif") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
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
    page.feed(HTML)
    looked_up = set(re.findall(r'getElementById\("([a-z-]+)"\)', SCRIPT))
    built = {f"{plan}-{kpi}" for plan in ("current", "proposed", "recorded")
             for kpi in ("sl", "asa", "abandon", "counts")} | {
             f"{kpi}-label" for kpi in ("sl", "asa", "abandon")}  # fmt: skip
    assert looked_up and looked_up <= set(page.ids), looked_up - set(page.ids)
    assert built <= set(page.ids), built - set(page.ids)


def test_the_script_uses_only_routes_a_supervisor_may() -> None:
    paths = set(re.findall(r"(/v1/[a-z/]+)", SCRIPT))
    assert paths == {"/v1/routing/queues", "/v1/routing/queues/", "/v1/reports/whatif"}
    assert Role.SUPERVISOR in (ACCESS[("POST", "/v1/reports/whatif")].roles or ())
    assert Role.SUPERVISOR in (ACCESS[("GET", "/v1/routing/queues/{queue_id}/plan")].roles
                               or ())  # fmt: skip
    assert "eval(" not in SCRIPT and "innerHTML" not in SCRIPT
