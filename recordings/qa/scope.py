"""Which recordings (and their QA records) a principal may see, as a search scope: the same rule
as reading one recording (`Principal.sees`): an agent their own, a supervisor or QA their
queues', an admin all, anyone else none."""

from __future__ import annotations

from kernel.http.auth import SCOPED_BY_QUEUE, Principal, Role
from recordings.qa.search import Scope


def scope_of(who: Principal) -> Scope:
    if who.role is Role.ADMIN:
        return Scope()
    if who.role is Role.AGENT:
        return Scope(agent_id=who.agent_id) if who.agent_id else Scope(nothing=True)
    if who.role in SCOPED_BY_QUEUE:
        return Scope(queues=who.queues)
    return Scope(nothing=True)
