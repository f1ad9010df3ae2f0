"""History caches: the writer's record of what it may still have to (re)send, and the reader's
store of samples waiting for ``read``/``take``.

Both obey the same HISTORY + RESOURCE_LIMITS QoS rules, so the bookkeeping per instance lives in
one place:

- KEEP_LAST(depth): per instance, a new change pushes out the oldest one of that instance.
- KEEP_ALL: nothing is pushed out; when ``max_samples``, ``max_instances`` or
  ``max_samples_per_instance`` would be exceeded, :meth:`HistoryCache.add` refuses with
  :class:`HistoryFull` and the caller decides (writer: block; reader: hold the sample back).

Changes are kept in a dict keyed by sequence number. Sequence numbers are added in increasing
order, so the dict's insertion order *is* sequence order; removal anywhere is O(1) and there is
no per-change heavy object beyond :class:`CacheChange` itself (``__slots__``).

Key hashes are the 16-byte RTPS key hash; ``None`` stands for the single instance of a keyless
topic.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from ..errors import QosError
from .wire import constants as wc

log = logging.getLogger("rtbus.rtps.history")

HistoryKind = Literal["keep_last", "keep_all"]
UNLIMITED = -1

# status info flags (DDSI-RTPS 9.6.3.9, PID_STATUS_INFO)
STATUS_DISPOSED = wc.STATUS_INFO_DISPOSED
STATUS_UNREGISTERED = wc.STATUS_INFO_UNREGISTERED
STATUS_FILTERED = wc.STATUS_INFO_FILTERED


@dataclass(frozen=True)
class HistoryQos:
    """HISTORY and RESOURCE_LIMITS, the part of the QoS a history cache enforces.

    ``-1`` means unlimited for the resource limits (as in the DDS spec's LENGTH_UNLIMITED).
    """

    kind: HistoryKind = "keep_last"
    depth: int = 1
    max_samples: int = UNLIMITED
    max_instances: int = UNLIMITED
    max_samples_per_instance: int = UNLIMITED

    def __post_init__(self) -> None:
        if self.kind not in ("keep_last", "keep_all"):
            raise QosError(f"history kind {self.kind!r}: expected 'keep_last' or 'keep_all'")
        if self.kind == "keep_last" and self.depth < 1:
            raise QosError(f"history depth {self.depth}: expected >= 1 for keep_last")
        for name in ("max_samples", "max_instances", "max_samples_per_instance"):
            value = getattr(self, name)
            if value != UNLIMITED and value < 1:
                raise QosError(f"resource limit {name}={value}: expected >= 1 or -1 (unlimited)")
        if (self.kind == "keep_last" and self.max_samples_per_instance != UNLIMITED
                and self.depth > self.max_samples_per_instance):
            raise QosError(f"history depth {self.depth} exceeds max_samples_per_instance "
                           f"{self.max_samples_per_instance}")


class CacheChange:
    """One change of one instance: a sample, a dispose or an unregister.

    ``payload`` is the serialized payload (encapsulation header included) or None when the
    change carries only the key (dispose/unregister). ``timestamp`` is the source timestamp in
    integer nanoseconds since the Unix epoch, or None.
    """

    __slots__ = ("inline_qos", "key_hash", "payload", "seq", "status_info", "timestamp")

    def __init__(self, seq: int, key_hash: bytes | None, payload: bytes | memoryview | None,
                 status_info: int = 0, timestamp: int | None = None,
                 inline_qos: object = None) -> None:
        self.seq = seq
        self.key_hash = key_hash
        self.payload = payload
        self.status_info = status_info
        self.timestamp = timestamp
        self.inline_qos = inline_qos

    @property
    def size(self) -> int:
        return 0 if self.payload is None else len(self.payload)

    def __repr__(self) -> str:
        return (f"CacheChange(seq={self.seq}, key={self.key_hash.hex() if self.key_hash else None},"
                f" size={self.size}, status=0x{self.status_info:x})")


class Change(Protocol):
    """What a history cache needs of an entry: its order and its instance."""

    seq: int
    key_hash: bytes | None


C = TypeVar("C", bound=Change)


@dataclass(frozen=True)
class HistoryFull:
    """Why a KEEP_ALL cache refused a change: which limit, and its value."""

    limit: str
    value: int


class HistoryCache(Generic[C]):
    """Changes ordered by sequence number, with per-instance bookkeeping for the QoS limits.

    The writer stores :class:`CacheChange`; the reader stores its samples, numbered by its own
    ordinal.
    """

    __slots__ = ("_changes", "_depth", "_instances", "_low", "_top", "qos")

    def __init__(self, qos: HistoryQos | None = None) -> None:
        self.qos = qos or HistoryQos()
        self._changes: dict[int, C] = {}
        self._instances: dict[bytes | None, deque[int]] = {}
        self._low = 1  # every seq below this is known absent (lazy lower bound for min_seq)
        self._top = 0  # highest seq ever added (the order check needs no lookup)
        self._depth = self.qos.depth if self.qos.kind == "keep_last" else 0

    # -- queries ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._changes)

    def __contains__(self, seq: int) -> bool:
        return seq in self._changes

    def get(self, seq: int) -> C | None:
        return self._changes.get(seq)

    def __iter__(self) -> Iterator[C]:
        return iter(self._changes.values())

    @property
    def instance_count(self) -> int:
        return len(self._instances)

    def instance_seqs(self, key_hash: bytes | None) -> tuple[int, ...]:
        """Sequence numbers held for one instance, oldest first."""
        seqs = self._instances.get(key_hash)
        return tuple(seqs) if seqs else ()

    def min_seq(self) -> int | None:
        """The lowest sequence number held, or None when empty (amortized O(1))."""
        if not self._changes:
            return None
        low = self._low
        changes = self._changes
        if len(changes) * 4 < self.max_seq() - low:  # sparse: scanning ints would be slow
            low = min(changes)
        else:
            while low not in changes:
                low += 1
        self._low = low
        return low

    def max_seq(self) -> int:
        """The highest sequence number held (0 when empty)."""
        if not self._changes:
            return 0
        return next(reversed(self._changes))

    def changes_from(self, first: int) -> Iterator[C]:
        """Changes with seq >= first, in order."""
        for seq, change in self._changes.items():
            if seq >= first:
                yield change

    # -- mutation ---------------------------------------------------------------------------
    def check_room(self, key_hash: bytes | None) -> HistoryFull | None:
        """What would refuse a new change of ``key_hash``, or None if it fits."""
        qos = self.qos
        seqs = self._instances.get(key_hash)
        if qos.kind == "keep_last":
            # a keep_last cache replaces within the instance; only a new instance can overflow
            if seqs is None and qos.max_instances != UNLIMITED \
                    and len(self._instances) >= qos.max_instances:
                return HistoryFull("max_instances", qos.max_instances)
            if seqs is not None and len(seqs) >= qos.depth:
                return None
            if qos.max_samples != UNLIMITED and len(self._changes) >= qos.max_samples:
                return HistoryFull("max_samples", qos.max_samples)
            return None
        if qos.max_samples != UNLIMITED and len(self._changes) >= qos.max_samples:
            return HistoryFull("max_samples", qos.max_samples)
        if seqs is None:
            if qos.max_instances != UNLIMITED and len(self._instances) >= qos.max_instances:
                return HistoryFull("max_instances", qos.max_instances)
        elif (qos.max_samples_per_instance != UNLIMITED
              and len(seqs) >= qos.max_samples_per_instance):
            return HistoryFull("max_samples_per_instance", qos.max_samples_per_instance)
        return None

    def add(self, change: C) -> HistoryFull | list[C]:
        """Insert ``change``; return the changes it pushed out (KEEP_LAST) or why it cannot fit.

        Sequence numbers must increase; a writer's own numbering guarantees it, and the reader
        cache assigns its own ordinal to samples for the same reason.
        """
        seq = change.seq
        if seq <= self._top:
            raise ValueError(f"sequence number {seq} not above {self._top}")
        key = change.key_hash
        seqs = self._instances.get(key)
        changes = self._changes
        evicted: list[C] = []
        if seqs is not None and self._depth and len(seqs) >= self._depth:
            # KEEP_LAST replacing within the instance always fits: the common hot path
            while len(seqs) >= self._depth:
                evicted.append(changes.pop(seqs.popleft()))
        else:
            full = self.check_room(key)
            if full is not None:
                return full
            if seqs is None:
                seqs = self._instances[key] = deque()
        seqs.append(seq)
        changes[seq] = change
        self._top = seq
        return evicted

    def remove(self, seq: int) -> C | None:
        """Drop one change (acknowledged by all, or taken by the user)."""
        change = self._changes.pop(seq, None)
        if change is None:
            return None
        seqs = self._instances.get(change.key_hash)
        if seqs is not None:
            if seqs and seqs[0] == seq:
                seqs.popleft()
            else:
                seqs.remove(seq)
            if not seqs:
                del self._instances[change.key_hash]
        return change

    def remove_up_to(self, seq: int) -> list[C]:
        """Drop every change with seq <= ``seq`` (acknowledged by all matched readers)."""
        removed: list[C] = []
        low = self.min_seq()
        while low is not None and low <= seq:
            change = self.remove(low)
            if change is not None:
                removed.append(change)
            low = self.min_seq()
        return removed

    def clear_instance(self, key_hash: bytes | None) -> list[C]:
        """Drop every change of one instance."""
        return [c for s in self.instance_seqs(key_hash) if (c := self.remove(s)) is not None]
