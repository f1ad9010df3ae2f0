"""DEADLINE (DDS 1.4 2.2.3.7), both sides: at the reader every alive instance must see a new
sample within the deadline period, or REQUESTED_DEADLINE_MISSED is reported for it; at the
writer every instance it keeps alive must be written within the period it offers, or
OFFERED_DEADLINE_MISSED is reported.

Per instance the stage keeps when the next sample is due; a miss is reported once per period
while none comes (DDS: the status counts each missed period), with the instance's handle.
Under EXCLUSIVE ownership a miss also opens the instance (DDS 1.4 2.2.3.9.2: a writer that
misses its deadline loses ownership): the next change of another live writer takes it, and
the old owner takes it back with its own next change if it outranks that writer. This is the
failover for an owner that stops writing -- hung, killed, or cut off -- without waiting for
its participant's lease.

Timers (:class:`DueTimes`): one heap entry per watched instance, whatever the sample rate (a
sample only moves the instance's due time; the entry is pushed again when it comes up early),
so ``next_timer`` is O(1) and a sample O(1). An instance is forgotten when it is disposed or
unregistered, or (reader) when it is found not alive at its due time.
"""

from __future__ import annotations

import heapq
from typing import Any

from .actions import Action, DeadlineMissed, OfferedDeadlineMissed
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance, InstanceState
from .ownership import ExclusiveOwnership
from .reader_stages import PassStage, SampleMeta


class DueTimes:
    """When each instance (by key hash) is next due, with one heap entry per instance."""

    __slots__ = ("_due", "_heap", "_n", "_queued", "period")

    def __init__(self, period: float) -> None:
        if not 0 < period < float("inf"):
            raise ValueError(f"deadline period {period!r}: expected a finite number > 0")
        self.period = period
        self._due: dict[Any, float] = {}  # key hash -> when its next sample is due
        self._heap: list[tuple[float, int, Any]] = []
        self._n = 0  # tie-breaker: heap entries never compare keys
        self._queued: set[Any] = set()  # keys with their one heap entry

    def __len__(self) -> int:
        return len(self._due)

    def renew(self, key: Any, now: float) -> None:
        """A sample of ``key`` at ``now``: due again one period later."""
        if key not in self._queued:
            self._queued.add(key)
            self._push(now + self.period, key)
        self._due[key] = now + self.period

    def forget(self, key: Any) -> None:
        self._due.pop(key, None)

    def next_timer(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def expired(self, now: float) -> list[Any]:
        """The keys whose period passed without a sample (each is due again a period later;
        a key missed for several periods at once is listed once per period)."""
        out: list[Any] = []
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
            out.append(key)
            self._due[key] = due + self.period
            self._push(due + self.period, key)
        return out

    def _push(self, at: float, key: Any) -> None:
        self._n += 1
        heapq.heappush(self._heap, (at, self._n, key))


class RequestedDeadline(PassStage):
    """The reader's side (see the module docstring). ``period``: seconds (finite, > 0);
    ``ownership``: the reader's ownership stage, when it has one, to hand a missed instance
    over."""

    __slots__ = ("_instances", "_times", "ownership")

    def __init__(self, period: float, ownership: ExclusiveOwnership | None = None) -> None:
        self._times = DueTimes(period)
        self.ownership = ownership
        self._instances: dict[Any, Instance] = {}

    @property
    def period(self) -> float:
        return self._times.period

    @property
    def watched(self) -> int:
        """How many instances the stage is timing."""
        return len(self._times)

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        key = instance.key_hash
        if meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED):
            self._forget(key)
            return True
        self._times.renew(key, now)
        self._instances[key] = instance
        return True

    def next_timer(self) -> float | None:
        return self._times.next_timer()

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for key in self._times.expired(now):
            instance = self._instances[key]
            if instance.state is not InstanceState.ALIVE:
                self._forget(key)
                continue
            actions.append(DeadlineMissed(key))
            if self.ownership is not None:
                self.ownership.deadline_missed(instance)
        return actions

    def _forget(self, key: Any) -> None:
        self._times.forget(key)
        self._instances.pop(key, None)


class OfferedDeadline:
    """The writer's side: :meth:`written` after each write of the writer ``writer_guid``;
    its timer reports each instance it keeps alive but did not write within the period."""

    __slots__ = ("_times", "writer_guid")

    def __init__(self, writer_guid: Any, period: float) -> None:
        self.writer_guid = writer_guid
        self._times = DueTimes(period)

    def written(self, key_hash: Any, status_info: int, now: float) -> None:
        if status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED):
            self._times.forget(key_hash)  # the writer gave it up: no promise left
        else:
            self._times.renew(key_hash, now)

    def next_timer(self) -> float | None:
        return self._times.next_timer()

    def handle_timer(self, now: float) -> list[Action]:
        return [OfferedDeadlineMissed(self.writer_guid, key)
                for key in self._times.expired(now)]
