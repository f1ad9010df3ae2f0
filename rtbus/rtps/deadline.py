"""Requested DEADLINE at the reader (DDS 1.4 2.2.3.7): every alive instance must see a new
sample within the deadline period, or REQUESTED_DEADLINE_MISSED is reported for it.

Per instance the stage keeps when the next sample is due; a miss is reported once per period
while none comes (DDS: the status counts each missed period), with the instance's handle.
Under EXCLUSIVE ownership a miss also opens the instance (DDS 1.4 2.2.3.9.2: a writer that
misses its deadline loses ownership): the next change of another live writer takes it, and
the old owner takes it back with its own next change if it outranks that writer. This is the
failover for an owner that stops writing -- hung, killed, or cut off -- without waiting for
its participant's lease.

Timers: one heap entry per watched instance, whatever the sample rate (a sample only moves
the instance's due time; the entry is pushed again when it comes up early), so ``next_timer``
is O(1) and a sample O(1). An instance is forgotten when it is disposed or unregistered, or
when it is found not alive at its due time.
"""

from __future__ import annotations

import heapq
from typing import Any

from .actions import Action, DeadlineMissed
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance, InstanceState
from .ownership import ExclusiveOwnership
from .reader_stages import PassStage, SampleMeta


class RequestedDeadline(PassStage):
    """See the module docstring. ``period``: seconds (finite, > 0); ``ownership``: the
    reader's ownership stage, when it has one, to hand a missed instance over."""

    __slots__ = ("_due", "_heap", "_instances", "_n", "_queued", "ownership", "period")

    def __init__(self, period: float, ownership: ExclusiveOwnership | None = None) -> None:
        if not 0 < period < float("inf"):
            raise ValueError(f"deadline period {period!r}: expected a finite number > 0")
        self.period = period
        self.ownership = ownership
        self._due: dict[Any, float] = {}  # key hash -> when its next sample is due
        self._instances: dict[Any, Instance] = {}
        self._heap: list[tuple[float, int, Any]] = []
        self._n = 0  # tie-breaker: heap entries never compare keys
        self._queued: set[Any] = set()  # keys with their one heap entry

    @property
    def watched(self) -> int:
        """How many instances the stage is timing."""
        return len(self._due)

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        key = instance.key_hash
        if meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED):
            self._forget(key)
            return True
        if key not in self._queued:
            self._queued.add(key)
            self._push(now + self.period, key)
        self._instances[key] = instance
        self._due[key] = now + self.period
        return True

    def next_timer(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _at, _, key = heapq.heappop(heap)
            due = self._due.get(key)
            if due is None:
                self._queued.discard(key)  # forgotten: its entry goes with it
                continue
            if due > now:  # a sample came since: not missed, wait for the new due time
                self._push(due, key)
                continue
            instance = self._instances[key]
            if instance.state is not InstanceState.ALIVE:
                self._forget(key)
                continue
            actions.append(DeadlineMissed(key))
            if self.ownership is not None:
                self.ownership.deadline_missed(instance)
            self._due[key] = due + self.period
            self._push(due + self.period, key)
        return actions

    def _push(self, at: float, key: Any) -> None:
        self._n += 1
        heapq.heappush(self._heap, (at, self._n, key))

    def _forget(self, key: Any) -> None:
        self._due.pop(key, None)
        self._instances.pop(key, None)
