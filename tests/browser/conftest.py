"""Browser fixtures: real Chromium (Debian's `chromium`) driven by Playwright for Python, against
the service started in this process on the real development Asterisk (the e2e fixtures), with
people who log in through the login page as they would."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from ari_app.access.passwords import Passwords
from ari_app.access.users import User, UserStore
from kernel.http.auth import Role
from tests.e2e.conftest import Hotline, ari, hotline  # noqa: F401  (fixtures used here)

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
SHOTS = Path("var/screenshots")  # looked at by people; never committed (var/ is ignored)
HAVE_CHROMIUM = CHROMIUM.exists() or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed: run scripts/install-deps as root")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required"])  # fmt: skip
        yield chromium
        await chromium.close()


@dataclass
class Person:
    """Someone signed in to the consoles in a browser context of their own."""

    username: str
    page: Page
    base: str

    async def open(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def screenshot(self, name: str, page: Page | None = None) -> None:
        """Their page (or another page of theirs) as `var/screenshots/<name>.png`."""
        await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
        await (page or self.page).screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


SignIn = Callable[..., Awaitable[Person]]


@pytest.fixture
async def sign_in(browser: Browser) -> AsyncIterator[SignIn]:
    """`await sign_in(line, "quinn", Role.QA, first="/qa/recordings")`: makes the user, opens
    the page, is sent to the login page, signs in there and lands on the page."""
    contexts: list[BrowserContext] = []
    made: set[tuple[int, str]] = set()
    page_errors: list[str] = []  # an uncaught error in a page's script fails the test

    async def person(line: Hotline, username: str, role: Role, *, first: str = "/",
                     agent_id: str | None = None) -> Person:  # fmt: skip
        assert line.service.database is not None
        if (id(line), username) not in made:
            await UserStore(line.service.database.units).add(
                User(username, role, agent_id, None, datetime.now(UTC)),
                await Passwords().hash(PASSWORD))
            made.add((id(line), username))
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{username}: {error}"))
        base = line.endpoints.service_url
        await page.goto(base + first)
        await page.wait_for_url("**/login?next=*")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(base + first + "*")
        await page.wait_for_selector("header.shell .who")
        return Person(username, page, base)

    yield person
    for context in contexts:
        await context.close()
    assert not page_errors, page_errors
