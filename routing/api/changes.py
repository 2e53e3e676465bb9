"""One configuration change, all or nothing: build, validate, lint, save with audit, apply.

The new version is put in force (the `apply` callback) inside the database transaction that
saves it, so it is committed only once it is live; when applying fails the transaction rolls
back, and when anything fails after applying, the previous version is applied again. Without
`If-Match`, a change that lost a race with another writer is rebuilt on the newer version, so
no write is lost; with `If-Match`, it is refused with 409.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import structlog

from kernel.http.auth import Principal
from kernel.http.errors import ApiError, Problem
from routing.api.deps import RoutingApiDeps
from routing.config import LintFinding, RoutingConfig, lint_plan
from routing.store import AuditChange, VersionConflict

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 10  # only other instances cause retries; this one queues its writers


@dataclass(frozen=True, slots=True)
class Change:
    """What a request makes of the current configuration (built by a pure function)."""

    config: RoutingConfig
    audit: tuple[AuditChange, ...]
    comment: str
    resource: dict[str, Any] | None = None  # the changed resource's document, for the reply
    where: str | None = None  # its path in `config` (`queues[2]`): problems there are `body.`
    restored_from: int | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    version: int  # the new version; for a dry run, the version it was tried on
    change: Change
    warnings: tuple[Problem, ...]
    dry_run: bool = False  # checked only: nothing saved, nothing applied


class ApplyFailed(Exception):
    """The routing actor did not take the new version."""


async def load(deps: RoutingApiDeps) -> tuple[RoutingConfig, int]:
    """The configuration in force and its version (0 before the first save)."""
    async with asyncio.timeout(deps.db_timeout_s):
        found = await deps.store.current()
    if found is None:
        return replace(deps.initial_config(), version=0), 0
    return found


async def commit(
    deps: RoutingApiDeps,
    who: Principal,
    build: Callable[[RoutingConfig], Change],
    if_match: int | None,
    writers: asyncio.Lock,
    *,
    dry_run: bool = False,
) -> Saved:
    """Apply `build` to the current configuration and make the result the next version.

    `writers` queues this instance's changes one behind the other (a supervisor's burst of
    edits would otherwise mostly collide); other instances are kept out by the version check.
    A dry run builds and checks the change exactly so (422 naming every problem, warnings)
    and stops before saving: what an editor shows before a supervisor applies.
    """
    for attempt in range(MAX_ATTEMPTS):
        async with asyncio.timeout(deps.db_timeout_s + deps.apply_timeout_s), writers:
            current, version = await load(deps)
            if if_match is not None and if_match != version:
                raise _stale(if_match, version)
            change = build(current)
            new = replace(change.config, version=version + 1)
            warnings = check(new, change.where)
            if dry_run:
                return Saved(version, replace(change, config=new), warnings, dry_run=True)
            try:
                saved = await _save(deps, who, change, new, current, version)
            except VersionConflict:
                if if_match is not None:
                    raise _stale(if_match, None) from None
            else:
                return Saved(saved, replace(change, config=new), warnings)
        await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))  # another instance won
    raise ApiError(409, "version_conflict", "the configuration kept changing; try again")


def check(config: RoutingConfig, where: str | None) -> tuple[Problem, ...]:
    """The linter's warnings; raises 422 naming every validation problem and lint error."""
    findings = lint(config)
    errors = [Problem(_field(p.path, where), p.message) for p in config.validate()]
    errors += [Problem(_field(f.path, where), f.message) for f in findings
               if f.severity == "error"]  # fmt: skip
    if errors:
        raise ApiError(422, "rejected", "the change would make the routing configuration "
                       "invalid; nothing was saved or applied", errors)  # fmt: skip
    return tuple(Problem(_field(f.path, where), f.message) for f in findings)


def lint(config: RoutingConfig) -> list[LintFinding]:
    """Every queue's plan findings, each once (VIP findings repeat per queue)."""
    return list(dict.fromkeys(f for q in config.queues for f in lint_plan(q, config)))


def _field(path: str, where: str | None) -> str:
    if where and (path == where or path.startswith((f"{where}.", f"{where}["))):
        return "body" + path.removeprefix(where)
    return path


def _stale(expected: int, current: int | None) -> ApiError:
    now = "" if current is None else f" (now {current})"
    return ApiError(409, "version_conflict", f"the configuration is no longer at version "
                    f"{expected}{now}; reload it and retry",
                    [Problem("header.If-Match", f"expected version {expected}{now}")])


async def _save(
    deps: RoutingApiDeps, who: Principal, change: Change, new: RoutingConfig,
    current: RoutingConfig, version: int,
) -> int:  # fmt: skip
    applied = False

    async def put_in_force() -> None:
        nonlocal applied
        applied = True
        try:
            async with asyncio.timeout(deps.apply_timeout_s):
                await deps.apply(new)
        except Exception as exc:
            raise ApplyFailed(f"{type(exc).__name__}: {exc}") from exc

    try:
        async with asyncio.timeout(deps.db_timeout_s + deps.apply_timeout_s):
            return await deps.store.save(
                new, expected_version=version, actor=who.actor, role=who.role.value,
                comment=change.comment, audit_entries=change.audit,
                restored_from=change.restored_from, before_commit=put_in_force,
            )  # fmt: skip
    except BaseException as exc:
        if applied:
            await reinstate(deps, current, reason=type(exc).__name__)
        if isinstance(exc, ApplyFailed):
            raise ApiError(503, "apply_failed", f"the routing engine did not take version "
                           f"{version + 1} ({exc}); version {version} stays in force") from exc
        raise


async def reinstate(deps: RoutingApiDeps, previous: RoutingConfig, *, reason: str) -> None:
    """Put the previous version back in force after a failed change (best effort, logged)."""
    try:
        async with asyncio.timeout(deps.apply_timeout_s):
            await deps.apply(previous)
        log.warning("routing_api.reinstated", version=previous.version, reason=reason)
    except Exception as exc:
        log.error("routing_api.reinstate_failed", version=previous.version, reason=reason,
                  error=f"{type(exc).__name__}: {exc}")

