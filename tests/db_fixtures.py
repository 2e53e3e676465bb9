"""Empty throwaway databases for adapter tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL is found at HOTLINE_TEST_PG_URL (an admin URL that may CREATE DATABASE); when no
server answers there, PostgreSQL tests skip instead of failing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kernel.db.errors import mask_url

PG_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")

_pg_skip_reason: list[str | None] = []  # probed once per session


async def postgres_skip_reason() -> str | None:
    """Why PostgreSQL tests must skip, or None when the server answers.

    Only an unreachable server skips; a server that refuses us (bad role, password) fails.
    """
    if not _pg_skip_reason:
        engine = _admin_engine()
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            _pg_skip_reason.append(None)
        except OSError:  # refused, unknown host, timeout: asyncpg raises these unwrapped
            _pg_skip_reason.append(
                f"PostgreSQL not reachable at {mask_url(PG_ADMIN_URL)}: set HOTLINE_TEST_PG_URL"
            )
        finally:
            await engine.dispose()
    return _pg_skip_reason[0]


@asynccontextmanager
async def temporary_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'hotline-{uuid.uuid4().hex[:8]}' / 'test.db'}"
        return
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def drop_postgres_database(url: str) -> None:
    """Drop a database under the feet of whoever is connected (to test losing it)."""
    admin = _admin_engine()
    try:
        async with admin.connect() as conn:
            name = make_url(url).database
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def _admin_engine() -> AsyncEngine:
    url = make_url(PG_ADMIN_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    return create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
