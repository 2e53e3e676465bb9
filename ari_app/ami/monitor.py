"""Device states of agent phones from AMI, over panoramisk, with reconnects we own.

panoramisk's Manager reconnects on its own (`loop.call_later(reconnect_timeout, connect)` in
`connection_lost` and after a refused connect, logging a traceback through stdlib logging) and
only records a failed login in `manager.authenticated`. Here `run()` owns the lifecycle instead:
it opens the TCP connection itself, hands it to a fresh Manager whose `connection_lost` only
reports back, logs in, seeds the states with `DeviceStateList`, then waits for the loss and
retries with backoff. Asterisk closes the socket right after "Authentication failed".

It sends only actions the least-privilege AMI user of dialplans/manager.conf may run (Login,
Ping, DeviceStateList, Getvar); tests/unit/test_dialplan_contract.py checks each one against
that user's classes.

While connected it sends `Ping` every `heartbeat` seconds: a link that died without closing
(Asterisk's host gone, a network cut) only shows as a Ping left unanswered for `timeout`
seconds, which ends the session like a loss. `connected` is what `/health` reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from kernel.backoff import Backoff

log = structlog.get_logger(__name__)

DeviceListener = Callable[[str, str], None]


class AmiError(Exception):
    """AMI could not be used: unreachable, login rejected or an action failed."""


class AmiUnavailable(AmiError):
    pass


class AmiLoginRejected(AmiError):
    pass


class _OwnedManager(Manager):  # type: ignore[misc]  # panoramisk ships no types
    """A panoramisk Manager that reports a lost connection instead of reconnecting itself."""

    def __init__(self, lost: asyncio.Future[None], **config: Any) -> None:
        super().__init__(**config)
        self._lost = lost

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.close()  # stops the keep-alive pinger; the protocol has already closed itself
        if not self._lost.done():
            self._lost.set_result(None)


class AmiMonitor:
    """Keeps `states` (device → NOT_INUSE, INUSE, RINGING, UNAVAILABLE, ...) current."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        backoff: Backoff | None = None,
        timeout: float = 5.0,
        heartbeat: float = 10.0,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self._backoff = backoff or Backoff()
        self._timeout = timeout
        self._heartbeat = heartbeat
        self.states: dict[str, str] = {}
        self._listeners: list[DeviceListener] = []
        self._manager: _OwnedManager | None = None
        self._lost: asyncio.Future[None] | None = None
        self._ready = asyncio.Event()

    @property
    def connected(self) -> bool:
        """True from a successful login (states seeded) until the connection is lost or stops
        answering Ping; False before, between reconnects and after `run` ends."""
        return self._ready.is_set()

    def add_listener(self, listener: DeviceListener) -> None:
        """`listener(device, state)` runs on every change; it must not block."""
        self._listeners.append(listener)

    async def wait_connected(self) -> None:
        """Until logged in and seeded (wrap in `asyncio.timeout`)."""
        await self._ready.wait()

    async def run(self) -> None:
        """Connect, follow device states, reconnect with backoff; runs until cancelled.

        Every failure is one log line without traceback: `ami.login.rejected` (wrong user or
        secret; retried, as manager.conf can be fixed and reloaded) or `ami.unreachable`.
        """
        while True:
            emit, event, error = log.warning, "ami.unreachable", "connection lost"
            try:
                await self._session()
            except AmiLoginRejected as exc:
                emit, event, error = log.error, "ami.login.rejected", str(exc)
            except AmiError as exc:
                error = str(exc)
            delay = self._backoff.next_delay()
            emit(event, host=self.host, port=self.port, username=self.username, error=error,
                 retry_in=round(delay, 2))  # fmt: skip
            await asyncio.sleep(delay)

    async def device_state(self, device: str) -> str | None:
        """Asterisk's current state of `device` (asked live when connected), else the last known."""
        manager = self._manager
        if manager is None:
            return self.states.get(device)
        action = {"Action": "Getvar", "Variable": f"DEVICE_STATE({device})"}
        try:
            reply = await self._action(manager, action, "Getvar")
        except AmiUnavailable:
            return self.states.get(device)
        if not reply.success:
            raise AmiError(f"Getvar DEVICE_STATE({device}) answered {reply.message!r}")
        state = str(reply.value)
        self._update(device, state)
        return state

    async def _session(self) -> None:
        manager = await self._connect()
        try:
            await self._login(manager)
            manager.register_event("DeviceStateChange", self._on_device_state)
            await self._seed(manager)
            self._manager = manager
            self._ready.set()
            self._backoff.reset()
            log.info("ami.connected", host=self.host, port=self.port, devices=len(self.states))
            await self._until_lost(manager)
        finally:
            self._ready.clear()
            self._manager = None
            manager.close()

    async def _until_lost(self, manager: _OwnedManager) -> None:
        """Return when the connection is lost; raise AmiUnavailable when a Ping goes unanswered."""
        lost = self._lost
        assert lost is not None
        while not lost.done():
            await asyncio.wait({lost}, timeout=self._heartbeat)
            if not lost.done():
                await self._action(manager, {"Action": "Ping"}, "Ping")

    async def _connect(self) -> _OwnedManager:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                transport, protocol = await loop.create_connection(
                    AMIProtocol, self.host, self.port
                )
        except (OSError, TimeoutError) as exc:
            raise AmiUnavailable(f"cannot connect: {exc or 'timed out'}") from None
        self._lost = loop.create_future()
        manager = _OwnedManager(
            self._lost, host=self.host, port=self.port, username=self.username,
            secret=self._secret, loop=loop, events="on",
        )  # fmt: skip
        # Manager.connection_made takes the finished create_connection future: wires the
        # protocol, sends Login and starts the keep-alive pinger.
        connected: asyncio.Future[tuple[Any, Any]] = loop.create_future()
        connected.set_result((transport, protocol))
        manager.connection_made(connected)
        return manager

    async def _login(self, manager: _OwnedManager) -> None:
        reply = await self._action(manager, manager.authenticated_future, "Login")
        if not reply.success:
            raise AmiLoginRejected(f"login as {self.username!r} answered {reply.message!r}")
        # No `Filter` action: it needs the `system` privilege, which the service's AMI user does
        # not have. Its manager.conf `eventfilter` makes Asterisk send only DeviceStateChange;
        # any other event that still arrives has no handler and is ignored.

    async def _seed(self, manager: _OwnedManager) -> None:
        replies = await self._action(manager, {"Action": "DeviceStateList"}, "DeviceStateList")
        replies = replies if isinstance(replies, list) else [replies]
        if not replies[0].success:
            raise AmiError(f"DeviceStateList answered {replies[0].message!r}")
        for item in replies:
            if item.event == "DeviceStateChange":
                self._update(str(item.device), str(item.state))

    async def _action(
        self, manager: _OwnedManager, action: dict[str, str] | Awaitable[Any], what: str
    ) -> Any:
        """The reply to an action, bounded by the timeout and by the connection's life."""
        assert self._lost is not None
        reply = manager.send_action(action) if isinstance(action, dict) else action
        pending = asyncio.ensure_future(reply)
        done, _ = await asyncio.wait({pending, self._lost}, timeout=self._timeout,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if pending in done:
            return pending.result()
        # Not cancelled: panoramisk's own done-callback on the Login future would then raise.
        problem = "connection lost" if self._lost.done() else f"no reply in {self._timeout} s"
        raise AmiUnavailable(f"{what}: {problem}")

    def _on_device_state(self, _manager: Manager, event: Any) -> None:
        self._update(str(event.device), str(event.state))

    def _update(self, device: str, state: str) -> None:
        if not device or self.states.get(device) == state:
            return
        self.states[device] = state
        log.debug("ami.device_state", device=device, state=state)
        for listener in list(self._listeners):
            try:
                listener(device, state)
            except Exception:
                log.exception("ami.listener.failed", device=device)
