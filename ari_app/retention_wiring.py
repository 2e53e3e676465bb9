"""Recording retention in the running service: the policy from the settings, and the sweep
(recordings.retention.deleter) as a task the service owns, first once old calls are adopted,
then every `recordings.retention.sweep_every_s`; cancelled with the service's task group."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType

import structlog

from ari_app.settings import RecordingSettings, RetentionSettings
from kernel.db.errors import DatabaseError
from kernel.db.unit import Units
from recordings.retention.deleter import RecordingDeleter
from recordings.retention.policy import RetentionPolicy
from recordings.retention.store import RetentionStore

log = structlog.get_logger(__name__)


def retention_policy(settings: RetentionSettings) -> RetentionPolicy:
    return RetentionPolicy(settings.default_days, MappingProxyType(dict(settings.queues)))


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def sweep_once(deleter: RecordingDeleter, policy: RetentionPolicy,
                     now: Callable[[], datetime] = _utc_now) -> int | None:  # fmt: skip
    """One pass; None when the database is away (the next pass tries again)."""
    try:
        deleted = await deleter.sweep(policy, now())
    except DatabaseError as exc:
        log.warning("recording.retention.deferred", error=str(exc))
        return None
    if deleted:
        log.info("recording.retention.swept", deleted=deleted)
    return deleted


async def sweep_every(every_s: float, deleter: RecordingDeleter, policy: RetentionPolicy,
                      ready: asyncio.Event) -> None:  # fmt: skip
    """Nothing to do while every recording is kept for ever."""
    if policy.default_days is None and not policy.queues:
        return
    await ready.wait()
    while True:
        await sweep_once(deleter, policy)
        await asyncio.sleep(every_s)


async def retention_sweep(settings: RecordingSettings, units: Units,
                          ready: asyncio.Event) -> None:  # fmt: skip
    """The service's sweep over its database and recording store."""
    deleter = RecordingDeleter(RetentionStore(units), settings.store_dir)
    await sweep_every(settings.retention.sweep_every_s, deleter,
                      retention_policy(settings.retention), ready)
