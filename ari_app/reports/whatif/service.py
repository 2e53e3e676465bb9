"""A what-if for a window: the stored calls and agent commands read, then both plans replayed.

Reading is the database's work; turning journeys into arrivals and replaying them through the
routing core twice is CPU work proportional to the calls in the window, done in a thread
(`asyncio.to_thread`) so the event loop keeps serving calls. The replay shares nothing with the
live router: it builds its own from the configurations it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ari_app.reports.service import LONGEST_IVR
from ari_app.reports.store import ReportStore, StoredCall
from ari_app.reports.whatif.commands import AgentCommandLog
from ari_app.reports.whatif.traffic import recorded
from routing.config import RoutingConfig
from routing.whatif.compare import Comparison, compare
from routing.whatif.model import ReplaySettings, Staffing, Traffic
from routing.whatif.staffing import AgentCommand, staffing


@dataclass(frozen=True, slots=True)
class WhatIfQuery:
    start: datetime
    end: datetime
    queues: tuple[str, ...] | None  # whose figures are counted; None: every queue
    current: RoutingConfig
    proposed: RoutingConfig
    settings: ReplaySettings


@dataclass(frozen=True, slots=True)
class WhatIf:
    comparison: Comparison
    staffing: Staffing
    commands: int  # agent commands read from the audit
    answers: int  # answers read, each proving its agent available


class WhatIfReplays:
    def __init__(self, store: ReportStore, commands: AgentCommandLog,
                 config: Callable[[], RoutingConfig], now: Callable[[], datetime]) -> None:
        self._store = store
        self._commands = commands
        self.config = config  # the configuration in force
        self.now = now

    async def run(self, query: WhatIfQuery) -> WhatIf:
        stored = await self._store.calls(query.start - LONGEST_IVR, query.end)
        commands = await self._commands.commands(query.start, query.end)
        return await asyncio.to_thread(replay_window, stored, commands, query)


def replay_window(stored: Sequence[StoredCall], commands: Sequence[AgentCommand],
                  query: WhatIfQuery) -> WhatIf:  # fmt: skip
    found = recorded(stored, query.current, query.start, query.end)
    agents = dict.fromkeys(a.agent_id for a in (*query.current.agents, *query.proposed.agents))
    staff = staffing(agents, commands, found.answered)
    traffic = Traffic(query.start, (query.end - query.start).total_seconds(), found.arrivals,
                      staff)
    comparison = compare(traffic, query.current, query.proposed, query.settings, query.queues,
                         found.visits)
    return WhatIf(comparison, staff, len(commands), len(found.answered))
