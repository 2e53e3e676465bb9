"""A room's web pages: static HTML at page paths, its scripts and styles under `/ui/<name>/`.

The pages carry no data. Each is a shell of HTML whose script reads the JSON API with the
person's session cookie, and the API alone decides (roles, scopes, audit) what they get; a page
without a session sends its reader to `/login`. So page and asset routes are open in the access
table (`Pages.route_keys`), like a signed-out bank's login page, and nothing is served twice.

Every page response forbids what a page that shows personal data must not allow: scripts or
styles from anywhere but this service (no CDN, no inline script), being framed, sending the
address elsewhere, being cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Pages:
    """`pages` maps a route path (aiohttp pattern, e.g. `/qa/recordings/{recording_id}`) to an
    HTML file in `folder`; every other file in `folder` is served under `/ui/<name>/`."""

    name: str
    folder: Path
    pages: Mapping[str, str]

    @property
    def static_prefix(self) -> str:
        return f"/ui/{self.name}"

    def route_keys(self) -> set[tuple[str, str]]:
        """The (method, path) keys of every route `add_to` adds, for the access table."""
        return {("GET", path) for path in self.pages} | {("GET", self.static_prefix)}

    def add_to(self, app: web.Application) -> None:
        """Serve the pages (read once, here: a missing file stops startup) and the assets."""
        for path, file_name in self.pages.items():
            html = (self.folder / file_name).read_text(encoding="utf-8")
            app.router.add_get(path, _page_handler(html))
        app.router.add_static(self.static_prefix, self.folder)


def _page_handler(html: str) -> Handler:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html", headers=PAGE_HEADERS)

    return page
