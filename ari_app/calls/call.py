"""One call's own handle: its ids, its ARI client and app, its events (mailbox), its journal,
and the one TaskGroup that owns every task the call starts.

No service-wide parts hang off it: each step is handed the ports it needs (see `deps`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from ari_app.ari.rest import AriRest
from ari_app.calls.journal import CallJournal
from ari_app.calls.mailbox import CallMailbox

log = structlog.get_logger(__name__)

AFTER_CALL_TIMEOUT_S = 30.0

WorkFactory = Callable[[], Coroutine[Any, Any, Any]]


class EventRoutes(Protocol):
    """Where the dispatcher sends ARI events about ids this call creates (legs, bridges,
    playbacks, recordings, media channels)."""

    def bind(self, subject_id: str, call_id: str) -> None: ...

    def unbind(self, subject_id: str) -> None: ...


class CallTasks:
    """The call's tasks, all in its TaskGroup (opened by the session for the call's life).

    A task's failure is logged and never cancels its siblings; cancellation still reaches
    them all when the group is cancelled.
    """

    def __init__(self) -> None:
        self._group: asyncio.TaskGroup | None = None
        self._after: set[asyncio.Task[None]] = set()

    def open(self, group: asyncio.TaskGroup) -> None:
        self._group = group

    def close(self) -> None:
        self._group = None

    def spawn(self, work: WorkFactory, name: str) -> asyncio.Task[None] | None:
        """Start `work()` in the call's group; None (nothing started) once the group closed."""
        if self._group is None:
            return None
        return self._group.create_task(_logged(work, name), name=name)

    def after_hangup(self, work: WorkFactory, name: str) -> None:
        """Work that must finish even when the caller hangs up (recording storage, survey
        rows): the session waits for it, up to AFTER_CALL_TIMEOUT_S, before the call ends."""
        task = self.spawn(work, name)
        if task is None:
            raise RuntimeError(f"{name}: the call's tasks are closed")
        self._after.add(task)
        task.add_done_callback(self._after.discard)

    async def wait_after_hangup_work(self) -> None:
        pending = set(self._after)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=AFTER_CALL_TIMEOUT_S)
        for task in late:
            log.error("call.after_call_timeout", task=task.get_name())
            task.cancel()


async def _logged(work: WorkFactory, name: str) -> None:
    try:
        await work()
    except Exception:
        log.exception("call.task_failed", task=name)


@dataclass(eq=False)
class Call:
    call_id: str
    channel_id: str
    caller_number: str
    ari: AriRest
    app: str  # the Stasis application agent legs and media channels are started in
    mailbox: CallMailbox
    journal: CallJournal
    routes: EventRoutes
    tasks: CallTasks = field(default_factory=CallTasks)
    talking_to: str | None = None  # the agent bridged with the caller right now
    # The service is stopping and leaves the call to the next run: what Asterisk holds for
    # the caller (bridge, agent, recording, music) stays up, nothing is torn down.
    handing_over: bool = False

    def bind(self, subject_id: str) -> None:
        self.routes.bind(subject_id, self.call_id)

    def unbind(self, subject_id: str) -> None:
        self.routes.unbind(subject_id)
