"""Writes that must survive a short database outage: retried with backoff, then logged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from kernel.db.errors import DatabaseUnavailable

log = structlog.get_logger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)


async def save_with_retries(save: Callable[[], Awaitable[None]], what: str,
                            **context: object) -> bool:
    """Run `save`, retrying while the database is unavailable; False when it never worked."""
    for delay in RETRY_DELAYS_S:
        try:
            await save()
            return True
        except DatabaseUnavailable as exc:
            log.warning("db.write_deferred", what=what, retry_in=delay, error=str(exc), **context)
            await asyncio.sleep(delay)
    log.error("db.write_lost", what=what, **context)
    return False
