"""Each queue's calls in routing order, for positions (1 = next) in O(log n)."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from routing.calls import CallRecord

Entry = tuple[tuple[int, int, float, int], str]


class Positions:
    """Calls waiting or ringing per queue, sorted by call order (answered calls leave)."""

    def __init__(self, calls: Iterable[CallRecord] = ()) -> None:
        self._order: dict[str, list[Entry]] = {}
        self._listed: dict[str, tuple[str, Entry]] = {}
        for call in calls:
            self.update(call)

    def update(self, call: CallRecord) -> None:
        listed = self._listed.get(call.call_id)
        if call.answered is not None:
            self.remove(call.call_id)
            return
        entry = (call.order_key, call.call_id)
        if listed == (call.queue_id, entry):
            return
        self.remove(call.call_id)
        insort(self._order.setdefault(call.queue_id, []), entry)
        self._listed[call.call_id] = (call.queue_id, entry)

    def remove(self, call_id: str) -> None:
        listed = self._listed.pop(call_id, None)
        if listed is not None:
            order = self._order[listed[0]]
            del order[bisect_left(order, listed[1])]

    def position(self, call: CallRecord) -> int:
        return bisect_left(self._order.get(call.queue_id, []), (call.order_key, call.call_id)) + 1

    def calls_in(self, queue_id: str) -> list[str]:
        return [cid for _, cid in self._order.get(queue_id, [])]
