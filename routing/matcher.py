"""The incremental matcher: the same choices as `decide()`, without scanning everything.

Indexes (see `routing.index`):

* free agents, one group per (queue, rank, tier), ordered by the queue's strategy key;
* waiting calls, one bucket per (queue, open steps, minimum tier, dedicated-phase agent), ordered
  by call order; calls past a VIP's dedicated phase are also listed under their dedicated agent.

Between events the invariant holds: no free agent is eligible for a waiting call. An event marks
the agents and calls it touched *dirty*; `settle()` then repeats "take the first call, in call
order, among the dirty calls and the best call of each dirty agent; offer it its best agents",
which is exactly `decide()`'s greedy pass restricted to what can have changed. A best call costs
one heap look-up per (queue, bucket) the agent serves; a best agent one per (rank, tier) group of
the call's open steps.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from routing.calls import CallRecord
from routing.config import Agent
from routing.explain import Candidate
from routing.index import LazyHeap, RingSet
from routing.model import AgentState, AgentStatus, AgentView
from routing.plan import CompiledQueue
from routing.strategies import Key, random_index, static_key, strategy_key

BucketKey = tuple[int, int, str]  # (open steps, minimum tier, dedicated-phase agent or "")
OrderKey = tuple[int, int, float, int]
Group = LazyHeap[str, Key] | RingSet


def indexable(view: AgentView) -> bool:
    """Free as the index sees it (wrap-up ends by timer before anything else happens then)."""
    return view.status is AgentStatus.AVAILABLE and view.reachable \
        and view.state is AgentState.IDLE


@dataclass(slots=True)
class Tables:
    """The routing state the matcher reads (owned and mutated by the router)."""

    compiled: dict[str, CompiledQueue]
    agents: dict[str, Agent]
    positions: dict[str, int]
    views: dict[str, AgentView]
    calls: dict[str, CallRecord] = field(default_factory=dict)
    rr_last: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # agent id by position


class Matcher:
    def __init__(self, t: Tables, now: float, seed: int = 0) -> None:
        self.t = t
        self.seed = seed
        self.now = now  # kept current by the router
        self.dirty_agents: set[str] = set()
        self.dirty_calls: set[str] = set()
        self._groups: dict[tuple[str, int, int], Group] = {}
        self._member_of: dict[str, list[tuple[str, int]]] = {}
        self._buckets: dict[str, dict[BucketKey, LazyHeap[str, OrderKey]]] = {}
        self._where: dict[str, tuple[str, BucketKey]] = {}
        self._phase_buckets: dict[str, set[tuple[str, BucketKey]]] = {}
        self._dedicated: dict[str, set[str]] = {}
        self._ded_of: dict[str, str] = {}
        for cq in t.compiled.values():
            for agent_id, rank in cq.rank.items():
                self._member_of.setdefault(agent_id, []).append((cq.queue_id, rank))
        for agent_id, view in t.views.items():
            if indexable(view):
                self.agent_free(agent_id)
        for call in t.calls.values():
            self.call_changed(call)

    # ------------------------------------------------------------ agents

    def agent_free(self, agent_id: str) -> None:
        view = self.t.views[agent_id]
        pos = self.t.positions[agent_id]
        tier = self.t.agents[agent_id].tier
        for qid, rank in self._member_of.get(agent_id, ()):
            strategy = self.t.compiled[qid].queue.strategy
            group = self._groups.get((qid, rank, tier))
            if group is None:
                group = LazyHeap() if static_key(strategy) else RingSet()
                self._groups[(qid, rank, tier)] = group
            if isinstance(group, RingSet):
                group.put(pos)
            else:
                group.put(agent_id, strategy_key(strategy, view, pos, -1))
        self.dirty_agents.add(agent_id)

    def agent_busy(self, agent_id: str) -> None:
        tier = self.t.agents[agent_id].tier
        pos = self.t.positions[agent_id]
        for qid, rank in self._member_of.get(agent_id, ()):
            group = self._groups.get((qid, rank, tier))
            if isinstance(group, RingSet):
                group.discard(pos)
            elif group is not None:
                group.discard(agent_id)
        self.dirty_agents.discard(agent_id)

    # ------------------------------------------------------------ calls

    def call_changed(self, call: CallRecord) -> None:
        """Re-file a call after any change of its queue, steps, phase, order or offers."""
        cid = call.call_id
        old = self._where.pop(cid, None)
        if old is not None:
            bucket = self._buckets[old[0]][old[1]]
            bucket.discard(cid)
            if not bucket:
                del self._buckets[old[0]][old[1]]
                if old[1][2]:
                    self._phase_buckets[old[1][2]].discard(old)
        prev_ded = self._ded_of.pop(cid, None)
        if prev_ded is not None:
            self._dedicated[prev_ded].discard(cid)
        if not call.waiting or self.t.calls.get(cid) is not call:
            return
        phase = call.dedicated if call.in_phase(self.now) and call.dedicated else ""
        key: BucketKey = (call.open_steps, call.min_tier, phase)
        self._buckets.setdefault(call.queue_id, {}).setdefault(key, LazyHeap()).put(
            cid, call.order_key)
        self._where[cid] = (call.queue_id, key)
        if phase:
            self._phase_buckets.setdefault(phase, set()).add((call.queue_id, key))
        elif call.dedicated:
            self._dedicated.setdefault(call.dedicated, set()).add(cid)
            self._ded_of[cid] = call.dedicated
        self.dirty_calls.add(cid)

    def best_call(self, agent_id: str) -> str | None:
        """The first waiting call, in call order, that the free agent may take now."""
        now, calls = self.now, self.t.calls
        tier = self.t.agents[agent_id].tier

        def in_retry(cid: str) -> bool:
            return calls[cid].tried.get(agent_id, -1.0) > now

        best: tuple[OrderKey, str] | None = None
        heaps = [heap for qid, rank in self._member_of.get(agent_id, ())
                 for (k, mt, ded), heap in self._buckets.get(qid, {}).items()
                 if not ded and rank < k and tier >= mt]
        heaps += [self._buckets[qid][key] for qid, key in self._phase_buckets.get(agent_id, ())]
        for heap in heaps:
            cid = heap.best(in_retry)
            if cid is not None:
                key = heap.key(cid)
                assert key is not None
                if best is None or key < best[0]:
                    best = (key, cid)
        for cid in self._dedicated.get(agent_id, ()):
            if not in_retry(cid) and (best is None or calls[cid].order_key < best[0]):
                best = (calls[cid].order_key, cid)
        return best[1] if best is not None else None

    def best_agents(self, call: CallRecord) -> tuple[list[Candidate], bool]:
        """The agents to offer the call to now (several for ring_all), and whether it is a new
        round (every candidate had been tried)."""
        now = self.now
        tried = set(call.tried)
        in_retry = {a for a, until in call.tried.items() if until > now}
        found = self._search(call, tried)
        if found:
            return found, False
        return self._search(call, in_retry), True

    def _search(self, call: CallRecord, exclude: set[str]) -> list[Candidate]:
        t, now = self.t, self.now
        ded = call.dedicated
        if ded and ded not in exclude and ded in t.views and indexable(t.views[ded]):
            return [self._candidate(ded, -1, call)]
        if call.in_phase(now):
            return []
        cq = t.compiled[call.queue_id]
        strategy = cq.queue.strategy

        def skip(agent_id: str) -> bool:
            return agent_id in exclude or agent_id == ded

        for rank in range(min(call.open_steps, len(cq.steps))):
            for tier in cq.tiers:
                group = self._groups.get((call.queue_id, rank, tier))
                if tier < call.min_tier or not group:
                    continue
                picked = self._pick(group, strategy, call, skip)
                if picked:
                    return [self._candidate(a, rank, call) for a in picked]
        return []

    def _pick(
        self, group: Group, strategy: str, call: CallRecord, skip: Callable[[str], bool]
    ) -> list[str]:
        ids = self.t.ids
        if isinstance(group, RingSet) and strategy == "random":
            pool = [ids[p] for p in group if not skip(ids[p])]
            if not pool:
                return []
            return [pool[random_index(self.seed, call.call_id, call.attempts + 1, len(pool))]]
        if isinstance(group, RingSet):
            pos = group.after(self.t.rr_last.get(call.queue_id, -1), lambda p: skip(ids[p]))
            return [] if pos is None else [ids[pos]]
        if strategy == "ring_all":
            return sorted((a for a in group if not skip(a)), key=self.t.positions.__getitem__)
        best = group.best(skip)
        return [] if best is None else [best]

    def _candidate(self, agent_id: str, rank: int, call: CallRecord) -> Candidate:
        t = self.t
        return Candidate(t.agents[agent_id], t.views[agent_id], t.positions[agent_id], rank,
                         agent_id in call.tried)

    # ------------------------------------------------------------ settle

    def settle(self, offer: Callable[[CallRecord, list[Candidate], bool], None]) -> None:
        """Offer until the invariant holds again; `offer` applies one call's offers."""
        calls = self.t.calls
        heap: list[tuple[OrderKey, str]] = []
        nominated: dict[str, set[str]] = {}

        def nominate(agent_id: str) -> None:
            cid = self.best_call(agent_id)
            if cid is not None:
                heapq.heappush(heap, (calls[cid].order_key, cid))
                nominated.setdefault(cid, set()).add(agent_id)

        for cid in self.dirty_calls:
            call = calls.get(cid)
            if call is not None and call.waiting:
                heapq.heappush(heap, (call.order_key, cid))
        for agent_id in self.dirty_agents:
            nominate(agent_id)
        self.dirty_calls.clear()
        self.dirty_agents.clear()
        while heap:
            key, cid = heapq.heappop(heap)
            call = calls.get(cid)
            if call is not None and call.waiting and call.order_key == key:
                group, new_round = self.best_agents(call)
                if group:
                    offer(call, group, new_round)
            for agent_id in nominated.pop(cid, ()):
                if agent_id in self.t.views and indexable(self.t.views[agent_id]):
                    nominate(agent_id)
        self.dirty_calls.clear()
        self.dirty_agents.clear()
