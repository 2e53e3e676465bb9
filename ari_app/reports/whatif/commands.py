"""The agent commands of the routing audit (`routing_audit`), read for the what-if.

Login, logout, pause and resume are audited when they were carried out (`routing/api/
agents.py`: path `agents/<id>`, the row written in the transaction that ran the command), so
the rows are what the router did. Only the window and the `LOOKBACK` before it are read: the
service logs every agent in when it starts, so an older command tells little about the start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kernel.db.unit import Units
from routing.store import AUDIT
from routing.whatif.staffing import AgentCommand, Command

LOOKBACK = timedelta(days=7)
COMMANDS: tuple[Command, ...] = ("login", "logout", "pause", "resume")
PREFIX = "agents/"


class AgentCommandLog:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def commands(self, start: datetime, end: datetime) -> list[AgentCommand]:
        """The commands audited in [start − LOOKBACK, end), oldest first, on a replay clock
        whose second 0 is `start`."""
        since = start - LOOKBACK
        query = (select(AUDIT.c.at, AUDIT.c.path, AUDIT.c.action)
                 .where(AUDIT.c.at >= since, AUDIT.c.at < end,
                        AUDIT.c.action.in_(COMMANDS), AUDIT.c.path.startswith(PREFIX))
                 .order_by(AUDIT.c.at, AUDIT.c.id))  # fmt: skip
        async with self._units.begin("routing_audit", f"agent commands {since.isoformat()}..") \
                as s:  # fmt: skip
            rows = (await s.execute(query)).all()
        return [AgentCommand((at - start).total_seconds(), path.removeprefix(PREFIX), action)
                for at, path, action in rows if action in COMMANDS]  # fmt: skip
