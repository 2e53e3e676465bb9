"""How AriRest reaches Asterisk: one `request` per ARI operation (httpx's transport idea).

`HttpTransport` talks HTTP with aiohttp; `ari_app.ari.fake.FakeAsterisk` answers in memory,
so the call engine's tests run without an Asterisk and assert on what a caller would hear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from json import loads
from typing import Any, Protocol

import aiohttp

from ari_app.ari.errors import AriUnavailable


@dataclass(frozen=True, slots=True)
class AriResponse:
    """Asterisk's answer: `body` is the decoded JSON (None when empty, or not JSON on an
    error status), `text` the raw body, `reason` the HTTP reason phrase."""

    status: int
    body: Any
    text: str
    reason: str = ""


class AriTransport(Protocol):
    """Sends one ARI request. `path` is relative to the ARI base (`/channels/...`).

    Raises AriUnavailable (status None) when no answer came; HTTP error statuses are
    answers, returned like any other.
    """

    async def request(
        self, method: str, path: str, params: Mapping[str, str], json: Mapping[str, Any] | None
    ) -> AriResponse: ...

    async def close(self) -> None: ...


# Requests in flight at once. Asterisk serves each HTTP connection with a thread and refuses
# connections beyond http.conf `sessionlimit` (raised to 1000 in dialplans/http.conf; its
# default of 100 is what 150 live calls ran into). aiohttp's default pool of 100 made requests
# queue behind slow ones, and that wait counted against their timeout.
MAX_CONNECTIONS = 256
# Asterisk closes an idle keep-alive connection after 15 s (`session_keep_alive`); reusing one
# it is just closing fails the request, so ours are dropped first.
KEEPALIVE_S = 10.0


class HttpTransport:
    """ARI over HTTP: one aiohttp session with basic auth and a total timeout per request."""

    def __init__(self, base_url: str, user: str, password: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = aiohttp.encode_basic_auth(user, password)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # Created lazily so the session belongs to the running loop, not the constructor's.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": self._auth},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0,
                                               keepalive_timeout=KEEPALIVE_S),
            )
        return self._session

    async def request(
        self, method: str, path: str, params: Mapping[str, str], json: Mapping[str, Any] | None
    ) -> AriResponse:
        try:
            async with self._http().request(
                method, self.base_url + path, params=dict(params), json=json
            ) as resp:
                text = await resp.text()
                return AriResponse(resp.status, _decode(text, resp.status), text,
                                   resp.reason or "")  # fmt: skip
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # ValueError: a success answer that is not JSON; Asterisk is not itself.
            message = str(exc) or f"{type(exc).__name__}: no answer within {self._timeout} s"
            raise AriUnavailable(message, status=None, method=method, path=path) from exc


def _decode(text: str, status: int) -> Any:
    if status == 204 or not text.strip():
        return None
    if status < 400:
        return loads(text)  # ValueError when it is not JSON
    try:
        return loads(text)
    except ValueError:  # an error page: the text itself is the message
        return None
