"""One unit of work: a short session and transaction, with library errors translated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db.errors import DatabaseConflict, DatabaseError, DatabaseUnavailable, one_line

# Errors meaning "the database is not there right now" (server down, network, pool
# exhausted, SQLite file locked too long); drivers raise OSError before SQLAlchemy wraps.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    OSError,
)
# PostgreSQL SQLSTATE classes that mean the same: connection exception, bad login,
# unknown database, too many connections, server shutting down or starting.
# https://www.postgresql.org/docs/current/errcodes-appendix.html
_UNAVAILABLE_SQLSTATES = ("08", "28", "3D", "53", "57P")


def is_unavailable(exc: BaseException) -> bool:
    """Whether retrying later against the same URL might succeed."""
    if isinstance(exc, UNAVAILABLE):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


class Units:
    """Hands out units of work; shared by the stores of one Database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], masked_url: str) -> None:
        self._sessions = sessions
        self._url = masked_url

    @asynccontextmanager
    async def begin(self, table: str, key: str) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on exit; `table` and `key` name the work
        in error messages (`calls call_id='c-1'`)."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise DatabaseConflict(f"{table} {key}: {one_line(exc)}") from exc
        except (OSError, DBAPIError, DisconnectionError, PoolTimeoutError) as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(
                    f"database at {self._url} unavailable ({table} {key}): {one_line(exc)}"
                ) from exc
            raise DatabaseError(f"{table} {key}: {one_line(exc)}") from exc
        except StatementError as exc:
            # Raised before the database saw anything: a value our column types refuse.
            if isinstance(exc.orig, ValueError | TypeError):
                raise ValueError(f"{table} {key}: {exc.orig}") from exc
            raise


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """`INSERT ... ON CONFLICT` for the session's dialect (both spell it the same way)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def key(name: str, *values: str) -> str:
    """How a row is named in error messages: `call_id='c-1'`."""
    return f"{name}={values[0]!r}" if len(values) == 1 else f"{name} in {list(values)!r}"
