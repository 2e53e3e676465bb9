"""A small knowledge service speaking docs/knowledge-contract.md, backed by the embedded source:
for tests of the HTTP client and for trying the contract by hand.

    python -m knowledge_client.reference_server --port 8090 [--token T] [--latency-ms 50]

Switches for tests (attributes of `ReferenceServer`): `latency_s` delays every answer;
`failure` makes requests fail (500, 503, malformed JSON, or hang until released); `failures_left`
limits that to the next N requests (None: until changed); `requests` logs every request as it
arrives, before any delay or failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiohttp import web

from knowledge_client import wire
from knowledge_client.embedded import DEFAULT_FAQ, EmbeddedKnowledge
from knowledge_client.model import Feedback, Query, Unanswered
from knowledge_client.port import KnowledgeSource, KnowledgeUnavailable


class Failure(StrEnum):
    NONE = "none"
    ERROR_500 = "500"
    ERROR_503 = "503"
    MALFORMED = "malformed"  # 200 with a body that is not the contract's
    HANG = "hang"  # never answers (until `release_hung()` or stop)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    body: bytes
    authorization: str | None


@dataclass
class ReferenceServer:
    source: KnowledgeSource
    token: str | None = None
    latency_s: float = 0.0
    failure: Failure = Failure.NONE
    failures_left: int | None = None
    requests: list[LoggedRequest] = field(default_factory=list)
    feedback: dict[str, Feedback] = field(default_factory=dict)  # by message id
    unanswered: dict[str, Unanswered] = field(default_factory=dict)
    hang_limit_s: float = 60.0
    url: str = field(default="", init=False)  # set by start()
    _runner: web.AppRunner | None = field(default=None, init=False)
    _release: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._switches])
        app.router.add_post(wire.SEARCH_PATH, self._search)
        app.router.add_post(wire.FEEDBACK_PATH, self._feedback)
        app.router.add_post(wire.UNANSWERED_PATH, self._unanswered)
        app.router.add_get(wire.HEALTH_PATH, self._health)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve; returns the base URL (port 0 picks a free port)."""
        # handler_cancellation: a client that gave up (deadline) cancels its hung handler.
        self._runner = web.AppRunner(self.app(), handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        self.release_hung()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def release_hung(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def fail(self, failure: Failure, times: int | None = None) -> None:
        self.failure, self.failures_left = failure, times

    def requests_to(self, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == path]

    @web.middleware
    async def _switches(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(LoggedRequest(request.method, request.path, await request.read(),
                                           request.headers.get("Authorization")))
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "missing or wrong bearer token")
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        failure = self._take_failure()
        if failure is Failure.HANG:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.hang_limit_s):
                    await self._release.wait()
            return _error(503, "unavailable", "released from a hang")
        if failure in (Failure.ERROR_500, Failure.ERROR_503):
            return _error(int(failure.value), "injected", f"injected failure {failure.value}")
        if failure is Failure.MALFORMED:
            return web.Response(text='{"items": [{"id": 1, "oops": tru', status=200,
                                content_type="application/json")
        response: web.StreamResponse = await handler(request)
        return response

    def _take_failure(self) -> Failure:
        if self.failure is Failure.NONE:
            return Failure.NONE
        if self.failures_left is not None:
            if self.failures_left <= 0:
                return Failure.NONE
            self.failures_left -= 1
        return self.failure

    async def _search(self, request: web.Request) -> web.Response:
        try:
            body = wire.SearchRequest.model_validate_json(await request.read())
        except ValueError as exc:
            return _error(400, "bad_request", str(exc).splitlines()[0])
        query = Query(body.text, body.language, body.call_id, body.intent, body.context)
        try:
            result = await self.source.search(query, limit=body.limit)
        except KnowledgeUnavailable as exc:
            return _error(503, "unavailable", str(exc))
        return web.json_response(wire.search_response(result))

    async def _feedback(self, request: web.Request) -> web.Response:
        try:
            message_id, fb = wire.feedback_from(await request.read())
        except wire.WireError as exc:
            return _error(400, "bad_request", str(exc))
        duplicate = message_id in self.feedback
        if not duplicate:
            self.feedback[message_id] = fb
            await self.source.feedback(fb)
        return web.json_response({"accepted": True, "duplicate": duplicate})

    async def _unanswered(self, request: web.Request) -> web.Response:
        try:
            message_id, u = wire.unanswered_from(await request.read())
        except wire.WireError as exc:
            return _error(400, "bad_request", str(exc))
        duplicate = message_id in self.unanswered
        if not duplicate:
            self.unanswered[message_id] = u
            await self.source.report_unanswered(u)
        return web.json_response({"accepted": True, "duplicate": duplicate})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(wire.error_body(code, message), status=status)


async def serve(host: str, port: int, faq: Path, token: str | None, latency_s: float) -> None:
    async with EmbeddedKnowledge(faq) as source:
        server = ReferenceServer(source, token=token, latency_s=latency_s)
        url = await server.start(host, port)
        print(f"knowledge reference server on {url} (FAQ {faq})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Knowledge-service reference server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--faq", type=Path, default=DEFAULT_FAQ)
    parser.add_argument("--token", default=None, help="require 'Authorization: Bearer TOKEN'")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.faq, args.token, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
