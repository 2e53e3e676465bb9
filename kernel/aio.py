"""asyncio shapes the rooms repeat: "the first of these to finish", "cancel these and wait"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def first_of(*waits: Awaitable[Any]) -> tuple[int, asyncio.Future[Any]]:
    """Wait until one of `waits` finishes; return its position and its (done) future.

    Coroutines are run as tasks owned here: the ones still running are cancelled, and
    awaited, before this returns (also when this is cancelled). Futures and tasks passed in
    belong to the caller and are left as they are.
    """
    owned: list[asyncio.Future[Any]] = []
    futures: list[asyncio.Future[Any]] = []
    for wait in waits:
        future = asyncio.ensure_future(wait)
        if future is not wait:  # a coroutine we wrapped: ours to cancel
            owned.append(future)
        futures.append(future)
    try:
        done, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
        index = next(i for i, future in enumerate(futures) if future in done)
        return index, futures[index]
    finally:
        await cancel_and_wait(*owned)


async def cancel_and_wait(*futures: asyncio.Future[Any]) -> None:
    """Cancel the ones still running and wait until they have finished; their errors no
    longer matter (retrieved, so none is reported as lost)."""
    pending = [f for f in futures if not f.done()]
    for future in pending:
        future.cancel()
    if pending:
        await asyncio.wait(pending)
    for future in futures:
        if future.done() and not future.cancelled():
            future.exception()
