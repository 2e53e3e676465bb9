"""Schema migrations, run in code on the service's own engine (no alembic.ini).

    python -m ari_app.db.migrate URL                      # upgrade to the newest revision
    python -m ari_app.db.migrate URL --check              # exit 1 if models and schema differ
    python -m ari_app.db.migrate URL --revision "why"     # autogenerate the next revision file
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ari_app.db.metadata import METADATA
from kernel.db.errors import DatabaseError, DatabaseUnavailable

MIGRATIONS = Path(__file__).with_name("migrations")

# Two service instances starting together must not both migrate: PostgreSQL serialises them
# on this advisory lock ("hotline" in ASCII); SQLite serialises writers by itself.
_PG_MIGRATION_LOCK = 0x686F746C696E65


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code, pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Raises DatabaseError when the database carries a revision this build does not know
    (a newer build migrated it) or when a migration fails. Alembic keeps its context in a
    module global, so run one upgrade at a time per process (the service does, at start).
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await _sqlite_foreign_keys(conn, on=False)
        try:
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                await conn.run_sync(_run_command, command.upgrade, "head")
                if sqlite:
                    await _sqlite_check_foreign_keys(conn)
        finally:
            if sqlite:
                await _sqlite_foreign_keys(conn, on=True)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def schema_diffs(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty = agree)."""
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: list(compare_metadata(MigrationContext.configure(sync), METADATA))
        )


async def write_revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate the next numbered revision from the difference between models and schema."""
    script = ScriptDirectory.from_config(alembic_config())
    rev_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    async with engine.begin() as conn:
        await conn.run_sync(
            _run_command, command.revision, message=message, autogenerate=True, rev_id=rev_id
        )


def _run_command(connection: Connection, cmd: Any, *args: Any, **kwargs: Any) -> None:
    try:
        cmd(alembic_config(connection), *args, **kwargs)
    except CommandError as exc:
        raise DatabaseError(f"migration failed: {exc}") from exc


async def _sqlite_foreign_keys(conn: AsyncConnection, *, on: bool) -> None:
    # Batch migrations rebuild tables (copy, DROP, rename); with foreign keys on, the DROP of
    # a parent table would cascade into its children. The pragma is a no-op inside a
    # transaction, hence the commit. https://www.sqlite.org/lang_altertable.html#otheralter
    await conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    await conn.commit()


async def _sqlite_check_foreign_keys(conn: AsyncConnection) -> None:
    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise DatabaseError(f"migration left rows with dangling foreign keys in {tables}")


async def _main(url: str, *, check: bool, revision: str | None) -> int:
    from ari_app.db.database import open_database  # engine imports this module

    try:
        db = await open_database(url)
    except DatabaseError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        if revision:
            await write_revision(db.engine, revision)
            print("review the new revision, then run this command again to apply it")
        print(f"{db.url}: at revision {await current_revision(db.engine)}")
        if check:
            diffs = await schema_diffs(db.engine)
            for diff in diffs:
                print(f"differs: {diff}")
            return 1 if diffs else 0
        return 0
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ari_app.db.migrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="e.g. sqlite+aiosqlite:///var/hotline.db or "
                                    "postgresql+asyncpg://user:password@host/db")
    parser.add_argument("--check", action="store_true",
                        help="after upgrading, fail if the models and the schema differ")
    parser.add_argument("--revision", metavar="MESSAGE",
                        help="write the next revision from the models (review it before commit)")
    args = parser.parse_args(argv)
    return asyncio.run(_main(args.url, check=args.check, revision=args.revision))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DatabaseUnavailable as exc:  # lost the database half-way
        print(exc, file=sys.stderr)
        sys.exit(2)
