"""LIFESPAN (DDS 1.4 2.2.3.16): a sample is worth nothing once it is older than the writer's
lifespan, so nobody may see it after that.

* At the writer, :class:`WriterLifespan` removes each change from the history one lifespan
  after it was written: it is no longer sent to a late joiner nor repaired (a reader that
  still asks gets a GAP, and a HEARTBEAT's first sequence number moves past it).
* At the reader the cache (:mod:`.reader_cache`) judges by the writer's announced lifespan
  and the sample's source timestamp: a sample that arrives already expired (in transit too
  long, or repaired too late) is dropped and counted ``expired_lifespan``; one that expires
  while waiting in the history is removed then, before the application can take it.

The core reads no clock: a source timestamp is wall-clock time (ns since the Unix epoch), so
the reader converts it with the driver's ``wall_offset`` (wall time minus the ``now`` it
passes in). As in every DDS, the writer's and the reader's clocks must agree well enough.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class WriterLifespan:
    """When each change of a writer's history expires (writes come in time order, so a deque
    keeps them sorted)."""

    __slots__ = ("_due", "duration")

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self._due: deque[tuple[float, int]] = deque()

    def written(self, seq: int, now: float) -> None:
        self._due.append((now + self.duration, seq))

    def next_timer(self) -> float | None:
        return self._due[0][0] if self._due else None

    def expire(self, now: float, history: Any) -> int:
        """Remove what expired by ``now`` from ``history``; how many changes that removed
        (a change already gone -- acknowledged by all, or replaced -- is skipped)."""
        removed = 0
        due = self._due
        while due and due[0][0] <= now:
            _, seq = due.popleft()
            if history.remove(seq) is not None:
                removed += 1
        return removed


def expires_at(source_timestamp: int | None, lifespan: float, now: float,
               wall_offset: float) -> float:
    """When (on the driver's ``now`` axis) a sample received at ``now`` expires: its source
    timestamp plus the lifespan, or, without a timestamp, its reception plus the lifespan."""
    if source_timestamp is None:
        return now + lifespan
    return source_timestamp / 1e9 + lifespan - wall_offset
