"""Dispositions in the database: one per agent and call, a second replacing the first."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from ari_app.calls.desk.model import Disposition
from ari_app.calls.desk.tables import CallDispositionModel
from kernel.db.schema import Base
from kernel.db.unit import Units, key, upsert

TABLE = Base.metadata.tables[CallDispositionModel.__tablename__]
# What a second disposition by the same agent replaces; the first's creation stays, and so does
# an early end of wrap-up (it happened, whatever the code now says).
_REPLACED = ("code", "complaint", "resolved", "notes", "by", "role", "updated_at")


class DispositionStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def put(self, disposition: Disposition) -> bool:
        """Store it; True when it replaced the agent's earlier disposition of the call.
        DatabaseConflict when the call is not stored (yet)."""
        D = CallDispositionModel
        d = disposition
        async with self._units.begin("call_dispositions", key("call_id", d.call_id)) as s:
            earlier = await s.scalar(select(func.count()).select_from(D).where(
                (D.call_id == d.call_id) & (D.agent_id == d.agent_id)))
            stmt = upsert(s, TABLE).values(asdict(d))
            set_: dict[str, Any] = {name: stmt.excluded[name] for name in _REPLACED}
            set_["wrapup_ended_at"] = func.coalesce(TABLE.c.wrapup_ended_at,
                                                    stmt.excluded.wrapup_ended_at)
            await s.execute(stmt.on_conflict_do_update(index_elements=["call_id", "agent_id"],
                                                       set_=set_))
            return bool(earlier)

    async def for_call(self, call_id: str) -> list[Disposition]:
        """The call's dispositions, oldest first."""
        D = CallDispositionModel
        async with self._units.begin("call_dispositions", key("call_id", call_id)) as s:
            rows = await s.scalars(select(D).where(D.call_id == call_id)
                                   .order_by(D.created_at, D.agent_id))
            return [from_row(r) for r in rows]


def from_row(r: CallDispositionModel) -> Disposition:
    return Disposition(r.call_id, r.agent_id, r.code, r.complaint, r.resolved, r.notes, r.by,
                       r.role, r.created_at, r.updated_at, r.wrapup_ended_at)
