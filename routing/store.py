"""The versioned routing configuration and its audit trail: domain values in and out.

Each version is the whole `RoutingConfig` as one JSON document (see `routing.serialize`), so a
version is self-contained and restoring one is copying it forward. Errors arrive as
DatabaseUnavailable, DatabaseError, or VersionConflict when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Integer, Text, bindparam, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.errors import DatabaseConflict, DatabaseError
from kernel.db.schema import Base, UtcDateTime
from kernel.db.unit import Units, key
from routing.config import RoutingConfig
from routing.serialize import DocumentError, from_document, to_document
from routing.tables import RoutingAuditModel, RoutingConfigVersionModel

VERSIONS = Base.metadata.tables["routing_config_versions"]
AUDIT = Base.metadata.tables["routing_audit"]

# The next version is inserted only when the newest one is still the expected one: a stale
# writer inserts nothing, and two writers on the same version collide on the primary key.
_NEXT_VERSION = insert(VERSIONS).from_select(
    ["version", "document", "created_at", "created_by", "comment", "restored_from"],
    select(
        bindparam("version", type_=Integer()),
        bindparam("document", type_=VERSIONS.c.document.type),
        bindparam("created_at", type_=UtcDateTime()),
        bindparam("created_by", type_=Text()),
        bindparam("comment", type_=Text()),
        bindparam("restored_from", type_=Integer()),
    ).where(
        select(func.coalesce(func.max(VERSIONS.c.version), 0)).scalar_subquery()
        == bindparam("expected", type_=Integer())
    ),
)


class VersionConflict(DatabaseConflict):
    """The configuration changed since the version a change was built on."""

    def __init__(self, expected: int) -> None:
        super().__init__(f"routing configuration is no longer at version {expected}")
        self.expected = expected


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class AuditChange:
    """What one request did to one resource; `before`/`after` are its JSON documents."""

    action: AuditAction
    path: str  # e.g. "agents/alice"
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    role: str
    action: AuditAction
    path: str
    before: Any
    after: Any
    version: int | None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    created_at: datetime
    created_by: str
    comment: str
    restored_from: int | None


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    info: VersionInfo
    config: RoutingConfig


class RoutingConfigStore:
    """Saved versions of the routing configuration and the audit of changes to it."""

    def __init__(self, units: Units, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._units = units
        self._now = now

    async def current(self) -> tuple[RoutingConfig, int] | None:
        """The newest version and its number, or None before the first save."""
        async with self._units.begin("routing_config_versions", "newest") as session:
            row = await session.scalar(
                select(RoutingConfigVersionModel)
                .order_by(RoutingConfigVersionModel.version.desc())
                .limit(1)
            )
            return None if row is None else (_config(row), row.version)

    async def get(self, version: int) -> ConfigVersion | None:
        async with self._units.begin("routing_config_versions", key("version", str(version))) as s:
            row = await s.get(RoutingConfigVersionModel, version)
            return None if row is None else ConfigVersion(_info(row), _config(row))

    async def versions(self, limit: int = 50) -> list[VersionInfo]:
        """The newest versions first, without their documents."""
        _positive(limit)
        async with self._units.begin("routing_config_versions", f"limit={limit}") as session:
            rows = await session.scalars(
                select(RoutingConfigVersionModel)
                .order_by(RoutingConfigVersionModel.version.desc())
                .limit(limit)
            )
            return [_info(row) for row in rows]

    async def save(
        self,
        config: RoutingConfig,
        *,
        expected_version: int,
        actor: str,
        role: str,
        comment: str,
        audit_entries: Sequence[AuditChange],
        restored_from: int | None = None,
        before_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Save `config` as version `expected_version + 1` with its audit rows, atomically.

        `expected_version` is the version the change was built on (0: there was none); when
        another version was saved meanwhile, raise VersionConflict and save nothing.
        `before_commit` runs once the rows are written but not committed (to put the new
        version in force); if it raises, nothing is saved and its exception propagates.
        """
        version = expected_version + 1
        at = self._now()
        params = {"version": version, "document": to_document(config), "created_at": at,
                  "created_by": actor, "comment": comment, "restored_from": restored_from,
                  "expected": expected_version}  # fmt: skip
        try:
            async with self._units.begin("routing_config_versions", f"version={version}") as s:
                written = await s.execute(_NEXT_VERSION, params)
                if written.rowcount != 1:  # type: ignore[attr-defined]
                    raise VersionConflict(expected_version)
                await _add_audit(s, audit_entries, at, actor, role, version)
                if before_commit is not None:
                    await before_commit()
        except VersionConflict:
            raise
        except DatabaseConflict as exc:  # the same version number, inserted first elsewhere
            raise VersionConflict(expected_version) from exc
        return version

    async def record(
        self, entry: AuditChange, *, actor: str, role: str,
        before_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> AuditRecord:  # fmt: skip
        """Audit an action that creates no version (agent commands) at the current version.

        `before_commit` (the action itself) runs before the row is committed; if it raises,
        nothing is recorded and its exception propagates.
        """
        at = self._now()
        async with self._units.begin("routing_audit", key("path", entry.path)) as session:
            # The version in the INSERT itself: a read first would pin an SQLite snapshot
            # that a concurrent writer can invalidate before this transaction writes.
            newest = select(func.max(VERSIONS.c.version)).scalar_subquery()
            (row,) = await _add_audit(session, [entry], at, actor, role, newest)
            await session.refresh(row)
            if before_commit is not None:
                await before_commit()
            return _audit(row)

    async def audit(self, limit: int = 100, path_prefix: str = "") -> list[AuditRecord]:
        """The newest audit rows first, optionally only under a path (`agents/`, `queues/q1`)."""
        _positive(limit)
        query = select(RoutingAuditModel).order_by(RoutingAuditModel.id.desc()).limit(limit)
        if path_prefix:
            escaped = path_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                RoutingAuditModel.path.like(literal(escaped) + "%", escape="\\")
            )
        async with self._units.begin("routing_audit", f"path_prefix={path_prefix!r}") as s:
            return [_audit(row) for row in await s.scalars(query)]


async def _add_audit(
    session: AsyncSession, entries: Sequence[AuditChange], at: datetime, actor: str, role: str,
    version: int | ColumnElement[int] | None,
) -> list[RoutingAuditModel]:  # fmt: skip
    rows = [
        RoutingAuditModel(at=at, actor=actor, role=role, action=entry.action.value,
                          path=entry.path, before=entry.before, after=entry.after,
                          version=version)
        for entry in entries
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return rows


def _positive(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")


def _config(row: RoutingConfigVersionModel) -> RoutingConfig:
    try:
        return from_document(row.document, version=row.version)
    except DocumentError as exc:
        raise DatabaseError(f"routing_config_versions version={row.version}: {exc}") from exc


def _info(row: RoutingConfigVersionModel) -> VersionInfo:
    return VersionInfo(row.version, row.created_at, row.created_by, row.comment, row.restored_from)


def _audit(row: RoutingAuditModel) -> AuditRecord:
    return AuditRecord(row.id, row.at, row.actor, row.role, AuditAction(row.action), row.path,
                       row.before, row.after, row.version)  # fmt: skip
