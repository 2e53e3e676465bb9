"""The ARI events websocket as an endless async iterator that survives Asterisk restarts.

Asterisk does not replay events missed while we were disconnected, so every reconnect yields
`Connected(first=False)`: the consumer must reconcile (list channels and bridges) before
trusting its picture of the calls again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import aiohttp
import structlog

from ari_app.ari.errors import AriEventError, AriUnauthorized, AriUnavailable
from ari_app.ari.events import AriEvent, Connected, parse_event
from ari_app.ari.rest import AriRest
from kernel.backoff import Backoff

log = structlog.get_logger(__name__)


def _describe(exc: BaseException) -> str:
    """One line, no traceback: what went wrong on the wire."""
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"websocket handshake answered {exc.status}: {exc.message}"
    return str(exc) or type(exc).__name__


class AriEventStream:
    """Events of `apps`; iterate `events()` inside `contextlib.aclosing` to close the socket.

    Connecting is also what registers the Stasis apps in Asterisk: originate into an app only
    after its `Connected` marker arrived.
    """

    def __init__(
        self,
        ws_url_base: str,
        user: str,
        password: str,
        apps: Sequence[str],
        *,
        backoff: Backoff | None = None,
        heartbeat: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if not apps:
            raise ValueError("AriEventStream needs at least one Stasis application name")
        self.url = f"{ws_url_base.rstrip('/')}/events"
        self.apps = tuple(apps)
        self._auth = aiohttp.encode_basic_auth(user, password)
        self._backoff = backoff or Backoff()
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self.connected = False  # the websocket is open right now

    async def events(self) -> AsyncGenerator[AriEvent | Connected, None]:
        """Connected(first=True), events..., Connected(first=False) after each reconnect, ..."""
        first = True
        timeout = aiohttp.ClientTimeout(total=None, connect=self._connect_timeout,
                                        sock_read=self._connect_timeout)  # fmt: skip
        async with aiohttp.ClientSession(
            headers={"Authorization": self._auth}, timeout=timeout
        ) as http:
            while True:
                ws = await self._connect(http)
                if ws is None:
                    continue
                async with ws:
                    log.info("ari.connected", url=self.url, apps=self.apps, first=first)
                    self.connected = True
                    try:
                        yield Connected(first=first)
                        first = False
                        async for event in self._read(ws):
                            yield event
                    finally:
                        self.connected = False
                failure = ws.exception()
                reason = _describe(failure) if failure else f"closed with code {ws.close_code}"
                await self._pause(f"connection lost: {reason}")

    async def _connect(self, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse | None:
        """The websocket, or None after logging the failure and sleeping the backoff delay."""
        try:
            ws = await http.ws_connect(
                self.url, params={"app": ",".join(self.apps)}, heartbeat=self._heartbeat
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self._pause(_describe(exc))
            return None
        self._backoff.reset()
        return ws

    async def _pause(self, error: str) -> None:
        delay = self._backoff.next_delay()
        log.warning("ari.unreachable", url=self.url, error=error, retry_in=round(delay, 2))
        await asyncio.sleep(delay)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> AsyncGenerator[AriEvent, None]:
        # The iterator ends on close; heartbeat timeouts and socket errors arrive as ERROR.
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                event = _parse(msg.data)
                if event is not None:
                    yield event
            elif msg.type is aiohttp.WSMsgType.ERROR:
                return


def _parse(text: str) -> AriEvent | None:
    """A typed event, or None (logged) when the message is not usable."""
    data: Any = None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return parse_event(data)
    except (ValueError, AriEventError) as exc:
        event_type = data.get("type") if isinstance(data, dict) else None
        log.warning("ari.event.malformed", type=event_type, error=str(exc))
        return None


async def wait_until_ready(rest: AriRest, *, backoff: Backoff | None = None) -> dict[str, Any]:
    """Poll /asterisk/info until Asterisk answers; one warning line per failed attempt.

    Wrong credentials raise AriUnauthorized at once: retrying cannot fix them.
    """
    backoff = backoff or Backoff()
    while True:
        try:
            info = await rest.asterisk_info()
        except AriUnauthorized as exc:
            log.error("ari.auth.rejected", url=rest.base_url, error=exc.message)
            raise
        except AriUnavailable as exc:
            delay = backoff.next_delay()
            log.warning("ari.unreachable", url=rest.base_url, error=exc.message,
                        retry_in=round(delay, 2))  # fmt: skip
            await asyncio.sleep(delay)
            continue
        backoff.reset()
        version = info.get("system", {}).get("version")
        log.info("ari.ready", url=rest.base_url, asterisk_version=version)
        return info
