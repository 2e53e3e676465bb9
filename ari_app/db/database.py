"""Opening the database: engine, connection settings, migrations, and the stores on top."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from ari_app.calls.store import CallStore
from ari_app.db.migrate import upgrade_to_head
from kernel.db.errors import DatabaseError, DatabaseUnavailable, mask_url, one_line
from kernel.db.unit import Units, is_unavailable
from recordings.store import RecordingStore, SurveyStore
from routing.store import RoutingConfigStore

# The two backends we test; plain `postgresql://` and `sqlite://` get their async driver.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_SUPPORTED = frozenset(_ASYNC_DRIVERS.values())

log = structlog.get_logger(__name__)


class Database:
    """The open database: one engine, one store per kind of record.

    Each store method is its own short transaction, so the stores are safe to share between
    call tasks; the engine's pool hands every unit of work its own connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        units = Units(async_sessionmaker(engine, expire_on_commit=False), self.url)
        self.units = units
        self.calls = CallStore(units)
        self.recordings = RecordingStore(units)
        self.surveys = SurveyStore(units)
        self.routing = RoutingConfigStore(units)
        self._abandoned: set[asyncio.Future[None]] = set()  # late pings, until they end

    async def check(self) -> None:
        """Raise DatabaseUnavailable unless a round trip to the database succeeds."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as exc:
            if not is_unavailable(exc):
                raise DatabaseError(f"database at {self.url}: {one_line(exc)}") from exc
            raise DatabaseUnavailable(
                f"database at {self.url} unavailable: {one_line(exc)}"
            ) from exc

    async def ping(self, timeout_s: float = 1.0) -> bool:
        """Whether `SELECT 1` comes back within `timeout_s`; never raises (for health checks).

        The round trip runs as its own task and is abandoned (cancelled, not awaited) when it
        is late: a hung driver may take its time to give up, the answer may not.
        """
        probe = asyncio.ensure_future(self.check())
        try:
            done, _ = await asyncio.wait({probe}, timeout=timeout_s)
        except asyncio.CancelledError:
            self._abandon(probe)
            raise
        if not done:
            self._abandon(probe)
            log.debug("database.ping.timeout", url=self.url, timeout_s=timeout_s)
            return False
        if probe.cancelled():
            return False
        if (exc := probe.exception()) is not None:
            log.debug("database.ping.failed", url=self.url, error=one_line(exc))
            return False
        return True

    def _abandon(self, probe: asyncio.Future[None]) -> None:
        """Cancel a late round trip; hold it until it ends (the loop keeps tasks weakly)."""
        self._abandoned.add(probe)
        probe.add_done_callback(self._forget)
        probe.cancel()

    def _forget(self, probe: asyncio.Future[None]) -> None:
        self._abandoned.discard(probe)
        if not probe.cancelled():
            probe.exception()  # retrieved: a failure while giving up is not worth a warning

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(
    url: str, *, connect_timeout_s: float = 10.0, statement_timeout_s: float = 30.0
) -> Database:
    """Connect, migrate to the newest schema and return the stores.

    Raises DatabaseUnavailable (message names the URL, password masked) when the URL is
    malformed or unsupported or the server cannot be reached; one attempt only, retrying
    with backoff is the caller's decision.
    """
    masked = mask_url(url)
    engine = _create_engine(_parse(url, masked), masked, connect_timeout_s, statement_timeout_s)
    try:
        await _connect_once(engine, masked)
        await upgrade_to_head(engine)
    except (OSError, SQLAlchemyError) as exc:
        await engine.dispose()
        if is_unavailable(exc):
            raise DatabaseUnavailable(
                f"database at {masked} unavailable: {one_line(exc)}"
            ) from exc
        raise DatabaseError(f"database at {masked}: migration failed: {one_line(exc)}") from exc
    except BaseException:
        await engine.dispose()
        raise
    return Database(engine)


async def _connect_once(engine: AsyncEngine, masked: str) -> None:
    """Any failure to log in (unknown database or role, bad password) means unavailable,
    whatever error class the driver chose for it."""
    try:
        async with engine.connect():
            pass
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"database at {masked} unavailable: {one_line(exc)}") from exc


def _parse(url: str, masked: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(f"malformed database URL {masked}: {one_line(exc)}") from exc
    parsed = parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
    if parsed.drivername not in _SUPPORTED:
        raise DatabaseUnavailable(
            f"unsupported database URL {masked}: use postgresql+asyncpg:// or sqlite+aiosqlite://"
        )
    return parsed


def _create_engine(
    url: URL, masked: str, connect_timeout_s: float, statement_timeout_s: float
) -> AsyncEngine:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "postgresql":
        options["connect_args"] = {
            "timeout": connect_timeout_s,
            "command_timeout": statement_timeout_s,
        }
        return create_async_engine(url, **options)

    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        # Every new connection to :memory: would be a new, empty database.
        options["poolclass"] = StaticPool
    elif not str(url.database).startswith("file:"):
        _make_parent(Path(str(url.database)), masked)
    # sqlite3's timeout is how long a writer waits for another writer's lock.
    options["connect_args"] = {"timeout": statement_timeout_s}
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def _make_parent(path: Path, masked: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"database at {masked} unavailable: cannot create {path.parent}: "
            f"{exc.strerror or exc}"
        ) from exc
    if not os.access(path.parent, os.W_OK):
        raise DatabaseUnavailable(f"database at {masked} unavailable: {path.parent} not writable")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite, per connection; WAL lets readers (the web
    # console) run while a call writes. https://www.sqlite.org/foreignkeys.html#fk_enable
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
