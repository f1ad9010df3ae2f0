"""A data writer: encodes samples in the caller's thread, hands them to the engine."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import cdr
from .errors import RtbusError
from .qos import XCDR1, Qos
from .rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .rtps.writer import WouldBlock
from .status import IncompatibleQosStatus, Listener, MatchedStatus, StatusMixin
from .topic import Topic

if TYPE_CHECKING:
    from .participant import Participant

T = TypeVar("T")
# a write arms at most the writer's heartbeat, one heartbeat period (>= 0.1 s by default) ahead
_WRITE_TIMER_SLACK = 0.05
UNACKED_WINDOW = 1 << 20  # bytes a KEEP_ALL writer may have unacknowledged (see _pace)
_MIN_WINDOW_SAMPLES = 8


class Writer(StatusMixin, Generic[T]):
    """Publishes samples of one topic. Statuses: ``publication_matched_status()``,
    ``offered_incompatible_qos_status()``, ``inconsistent_topic_status()``; listeners of the
    same names with ``on_`` (called as ``fn(writer, status)`` on the engine thread)."""

    _MATCHED_LISTENER = "on_publication_matched"
    _INCOMPATIBLE_LISTENER = "on_offered_incompatible_qos"
    on_publication_matched: Listener | None = None
    on_offered_incompatible_qos: Listener | None = None

    def __init__(self, participant: Participant, topic: Topic, qos: Qos) -> None:
        self.participant = participant
        self.topic = topic
        self.qos = qos
        self._guid: Any = None
        self.matched_count = 0
        self._representation = "XCDR1" if qos.data_representation[:1] == (XCDR1,) else "XCDR2"
        self._matched = asyncio.Event()
        self._keyed = topic.keyed  # computed from the type model: once, not per sample
        self._init_statuses()
        self._core_writer: Any = None  # the sans-IO writer, for flow control (see _pace)
        self._blocking = qos.history == "keep_all" or (
            isinstance(qos.history, tuple) and qos.history[0] == "keep_all")

    @property
    def guid(self) -> bytes:
        return bytes(self._guid)

    def _check(self, sample: Any) -> None:
        if not isinstance(sample, self.topic.type):
            raise TypeError(f"writer of topic {self.topic.name!r}: expected a "
                            f"{self.topic.type.__name__}, got {type(sample).__name__}")

    def write(self, sample: T, timestamp: float | None = None) -> None:
        """Publish ``sample``; ``timestamp`` (seconds since the epoch) defaults to now."""
        self._check(sample)
        payload = cdr.encode(sample, representation=self._representation)  # type: ignore[arg-type]
        key_hash = cdr.key_hash(sample) if self._keyed else None
        self._submit(payload, key_hash, 0, timestamp)

    def dispose(self, sample: T, timestamp: float | None = None) -> None:
        """Dispose the instance ``sample``'s key names (readers see NOT_ALIVE_DISPOSED)."""
        self._instance_op(sample, STATUS_DISPOSED, timestamp)

    def unregister(self, sample: T, timestamp: float | None = None) -> None:
        self._instance_op(sample, STATUS_UNREGISTERED, timestamp)

    def _instance_op(self, sample: Any, status: int, timestamp: float | None) -> None:
        self._check(sample)
        if not self.topic.keyed:
            raise RtbusError(f"topic {self.topic.name!r} has no key: nothing to dispose")
        # the serialized key, with a CDR encapsulation header, as Cyclone expects it
        key = cdr.serialize_key(sample, representation=self._representation,
                                endianness="little")
        header = b"\x00\x01\x00\x00" if self._representation == "XCDR1" else b"\x00\x07\x00\x00"
        payload = header + key + b"\x00" * (-len(key) % 4)
        self._submit(payload, cdr.key_hash(sample), status, timestamp)

    def _submit(self, payload: bytes, key_hash: bytes | None, status: int,
                timestamp: float | None) -> None:
        ts = time.time_ns() if timestamp is None else int(timestamp * 1e9)
        node = self.participant.node
        core = node.core
        if not self._blocking:
            node.call(core.write, self._guid, payload, key_hash, status, ts,  # type: ignore[union-attr]
                      node.now(), timer_slack=_WRITE_TIMER_SLACK)
            return
        deadline = time.monotonic() + self.qos.max_blocking_time
        while True:
            result = node.call(core.write, self._guid, payload, key_hash, status,  # type: ignore[union-attr]
                               ts, node.now(), timer_slack=_WRITE_TIMER_SLACK)
            if not isinstance(result, WouldBlock):
                self._pace(len(payload), deadline)
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"writer of {self.topic.name!r}: history full for "
                                   f"max_blocking_time={self.qos.max_blocking_time}s")
            time.sleep(0.0005)

    def _pace(self, size: int, deadline: float) -> None:
        """Flow control for a KEEP_ALL writer: while more than ``UNACKED_WINDOW`` bytes of
        samples wait for some reliable reader's acknowledgement, wait (until ``deadline``).

        Without it a writing thread that no longer hops threads outruns a Python reader: the
        reader's socket buffer overflows and the repairs cost more than the pause (measured
        at 4 KiB: 2.25 resends per sample). The window is in samples of this size, at least
        ``_MIN_WINDOW_SAMPLES``; acknowledgements come back with the piggy-backed heartbeats.
        """
        if self._core_writer is None:
            ep = self.participant.node.core.writers.get(self._guid.entity_id)  # type: ignore[union-attr]
            if ep is None:
                return
            self._core_writer = ep.core
        w = self._core_writer
        window = max(_MIN_WINDOW_SAMPLES, UNACKED_WINDOW // max(size, 1))
        if w.last_seq - w.acked_all <= window:
            return
        resume = window // 2
        while w.last_seq - w.acked_all > resume and w.readers:
            if time.monotonic() >= deadline:
                return  # a pacing limit, not a history limit: never an error
            time.sleep(0.0002)

    # --- matching and acknowledgements -------------------------------------------------------
    def _match_changed(self, matched: bool, remote_guid: bytes = b"") -> None:
        self.matched_count += 1 if matched else -1
        if self.matched_count > 0:
            self._matched.set()
        else:
            self._matched.clear()
        self._status_matched(remote_guid, matched)

    def publication_matched_status(self) -> MatchedStatus:
        """Readers matched now and in total (resets the ``*_change`` counts)."""
        return self._statuses.take_matched()

    def offered_incompatible_qos_status(self) -> IncompatibleQosStatus:
        """Readers that could not match because of QoS, by policy id (resets the change)."""
        return self._statuses.take_incompatible_qos()

    async def _wait_acked(self, timeout: float) -> bool:
        node = self.participant.node
        end = time.monotonic() + timeout
        while True:
            with node.lock:
                if node.core.acked_by_all(self._guid):  # type: ignore[union-attr]
                    break
            if time.monotonic() >= end:
                return False
            await asyncio.sleep(0.002)
        return True

    def wait_for_acknowledgments(self, timeout: float = 10.0) -> bool:
        """Block until every reliable matched reader acknowledged all samples written."""
        return self.participant._run(self._wait_acked(timeout))

    async def acknowledged(self, timeout: float = 10.0) -> bool:
        return await self.participant._await(self._wait_acked(timeout))
