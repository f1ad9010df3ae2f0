"""A data writer: encodes samples in the caller's thread and hands them to the engine.

Waiting is driven by the core's events, never by polling: a KEEP_ALL writer whose history is
full, or whose readers lag too far behind (flow control, see :meth:`Writer._lagging`), waits
for the next ``Acknowledged`` event — on a ``threading.Condition`` in :meth:`write`, on an
asyncio future in :meth:`write_async`, which suspends the calling task instead of blocking
its event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import cdr
from .engine.context import EngineContext
from .engine.wakeup import Wakeup
from .errors import (
    BadParameterError,
    ClosedError,
    IllegalOperationError,
    ImmutablePolicyError,
    TimeoutError_,
)
from .qos import XCDR1, Qos
from .rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .rtps.writer import WouldBlock, Written
from .status import (
    IncompatibleQosStatus,
    Listener,
    LivelinessLostStatus,
    MatchedStatus,
    OfferedDeadlineMissedStatus,
    StatusMixin,
)
from .topic import Topic

if TYPE_CHECKING:
    from .participant import Participant

T = TypeVar("T")
log = logging.getLogger("rtbus.writer")
UNACKED_WINDOW = 1 << 20  # bytes a KEEP_ALL writer may have unacknowledged (see _lagging)
_MIN_WINDOW_SAMPLES = 8
#: write_async gives the event loop a turn after this long without one (seconds)
YIELD_EVERY = 0.001


class Writer(StatusMixin, Generic[T]):
    """Publishes samples of one topic. Statuses: ``publication_matched_status()``,
    ``offered_incompatible_qos_status()``, ``inconsistent_topic_status()``,
    ``offered_deadline_missed_status()``, ``liveliness_lost_status()``; listeners of the
    same names with ``on_`` (called as ``fn(writer, status)`` on the engine thread)."""

    _MATCHED_LISTENER = "on_publication_matched"
    _INCOMPATIBLE_LISTENER = "on_offered_incompatible_qos"
    on_publication_matched: Listener | None = None
    on_offered_incompatible_qos: Listener | None = None
    on_offered_deadline_missed: Listener | None = None
    on_liveliness_lost: Listener | None = None

    def __init__(self, participant: Participant, topic: Topic[T], qos: Qos) -> None:
        self.participant = participant
        self.topic = topic
        self.qos = qos
        self._guid: Any = None
        self.matched_count = 0
        self._representation = "XCDR1" if qos.data_representation[:1] == (XCDR1,) else "XCDR2"
        self._matched = asyncio.Event()
        self._keyed = topic.keyed  # computed from the type model: once, not per sample
        self._key_hash = cdr.key_hasher(topic.type)  # compiled once per type
        self._type = topic.type
        self._node: EngineContext = participant.engine  # looked up once: the write path is hot
        self._init_statuses()
        self._blocking = qos.history_kind == "keep_all"
        self._closed = False
        # what the core told us: the last sequence number written and the mark every
        # reliable reader acknowledged (Written / Acknowledged); guarded by _acks
        self._last_seq = 0
        self._acked = 0
        self._acks = Wakeup()
        self._ack_gen = 0  # Acknowledged events seen: a retry knows whether one came
        self._warned_on_loop = False
        self._yielded_at = 0.0  # when write_async last let the loop run
        self._conditions: list[Any] = []  # status conditions (rtbus.waitset)

    @property
    def guid(self) -> bytes:
        return bytes(self._guid)

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"Writer({self.topic.name!r}, {self.topic.type_name}, guid={self.guid.hex()})"

    # --- writing -------------------------------------------------------------------------------
    def write(self, sample: T, timestamp: float | None = None) -> None:
        """Publish ``sample``; ``timestamp`` (seconds since the epoch) defaults to now.

        A KEEP_ALL writer waits while its history is full (raising
        :class:`~rtbus.errors.TimeoutError_` after ``max_blocking_time``) and while its
        readers lag behind; called on an event loop it never waits (that would stall the
        loop): use ``await write_async(sample)`` there."""
        payload, key_hash = self._encode(sample)
        self._submit(payload, key_hash, 0, timestamp)

    async def write_async(self, sample: T, timestamp: float | None = None) -> None:
        """Publish ``sample``, suspending (not blocking) while flow control waits; a burst
        of writes also lets the loop run at least every ``YIELD_EVERY`` seconds."""
        payload, key_hash = self._encode(sample)
        await self._submit_async(payload, key_hash, 0, timestamp)
        now = time.perf_counter()
        if now - self._yielded_at > YIELD_EVERY:
            await asyncio.sleep(0)
            self._yielded_at = time.perf_counter()

    def dispose(self, sample: T, timestamp: float | None = None) -> None:
        """Dispose the instance ``sample``'s key names (readers see NOT_ALIVE_DISPOSED)."""
        self._instance_op(sample, STATUS_DISPOSED, timestamp)

    def unregister(self, sample: T, timestamp: float | None = None) -> None:
        """This writer stops updating the instance ``sample``'s key names; once no writer
        does, readers see NOT_ALIVE_NO_WRITERS. With the DDS default
        ``autodispose_unregistered_instances=True`` it also disposes the instance (readers
        see NOT_ALIVE_DISPOSED), as Cyclone DDS and RTI Connext writers do."""
        status = STATUS_UNREGISTERED
        if self.qos.autodispose_unregistered_instances:
            status |= STATUS_DISPOSED
        self._instance_op(sample, status, timestamp)

    def _encode(self, sample: Any) -> tuple[bytes, bytes | None]:
        if self._closed:
            self._check_open()
        if not isinstance(sample, self._type):
            self._check(sample)
        payload = cdr.encode(sample, representation=self._representation)  # type: ignore[arg-type]
        return payload, (self._key_hash(sample) if self._keyed else None)

    def _check(self, sample: Any) -> None:
        if not isinstance(sample, self.topic.type):
            raise BadParameterError(f"writer of topic {self.topic.name!r}: expected a "
                                    f"{self.topic.type.__name__}, got "
                                    f"{type(sample).__name__}")

    def _check_open(self) -> None:
        if self._closed:
            what = "participant" if self.participant.closed else "writer"
            raise ClosedError(f"writer of topic {self.topic.name!r}: the {what} is closed")

    def _instance_op(self, sample: Any, status: int, timestamp: float | None) -> None:
        self._check_open()
        self._check(sample)
        if not self.topic.keyed:
            raise BadParameterError(f"topic {self.topic.name!r} has no key: there is no "
                                    "instance to dispose or unregister")
        # the key-only sample (DHEADERs/EMHEADERs as the type has them), as Cyclone sends it
        payload = cdr.encode_key(sample, self._representation, "little")
        self._submit(payload, self._key_hash(sample), status, timestamp)

    def _submit(self, payload: bytes, key_hash: bytes | None, status: int,
                timestamp: float | None) -> None:
        ts = time.time_ns() if timestamp is None else int(timestamp * 1e9)
        node = self._node
        if not self._blocking:
            self._written(node.write(self._guid, payload, key_hash, status, ts))
            return
        gen = self._ack_gen
        result = node.write(self._guid, payload, key_hash, status, ts)
        deadline = None  # the slow paths below need it, and whether this is the loop's thread
        while isinstance(result, WouldBlock):
            if self._on_loop_thread():
                raise TimeoutError_(f"writer of {self.topic.name!r}: history full "
                                    f"({result.reason.limit}); write() on the event loop "
                                    "cannot wait for acknowledgements: use await "
                                    "writer.write_async()")
            if deadline is None:
                deadline = time.monotonic() + self.qos.max_blocking_time
            if not self._wait_acks(deadline, partial(self._no_ack_since, gen)):
                raise self._still_full(result)
            gen = self._ack_gen
            result = node.write(self._guid, payload, key_hash, status, ts)
        with self._acks.mutex:  # _written, inline: this is every write's path
            self._last_seq = result.seq
            if result.acked > self._acked:
                self._acked = result.acked
        size = len(payload)
        if self._last_seq - self._acked <= max(_MIN_WINDOW_SAMPLES, UNACKED_WINDOW // max(size, 1)):
            return  # not too far ahead of the readers (see _lagging)
        resume = self._lagging(size, 0)
        if not resume:
            return
        if self._on_loop_thread():
            if not self._warned_on_loop:
                self._warned_on_loop = True
                log.warning("writer of %r: write() on the event loop cannot pace a KEEP_ALL "
                            "burst without stalling the loop; use await writer.write_async()",
                            self.topic.name)
            return
        if deadline is None:
            deadline = time.monotonic() + self.qos.max_blocking_time
        # a pacing limit, not a history limit: running out of time is never an error
        self._wait_acks(deadline, lambda: bool(self._lagging(len(payload), resume)),
                        until_done=True)

    def _on_loop_thread(self) -> bool:
        return self._node.on_loop_thread() or self.participant._on_loop()

    def _still_full(self, result: WouldBlock) -> TimeoutError_:
        return TimeoutError_(f"writer of {self.topic.name!r}: history full "
                             f"({result.reason.limit}) for max_blocking_time="
                             f"{self.qos.max_blocking_time}s")

    async def _submit_async(self, payload: bytes, key_hash: bytes | None, status: int,
                            timestamp: float | None) -> None:
        ts = time.time_ns() if timestamp is None else int(timestamp * 1e9)
        node = self._node
        deadline = time.monotonic() + self.qos.max_blocking_time
        while True:
            gen = self._ack_gen
            result = node.write(self._guid, payload, key_hash, status, ts)
            if not isinstance(result, WouldBlock):
                break
            if not await self._wait_acks_async(deadline, partial(self._no_ack_since, gen)):
                raise self._still_full(result)
        self._written(result)
        resume = self._lagging(len(payload), 0) if self._blocking else 0
        if resume:
            await self._wait_acks_async(
                deadline, lambda: bool(self._lagging(len(payload), resume)), until_done=True)
            self._yielded_at = time.perf_counter()

    def _written(self, result: Written | WouldBlock) -> None:
        if isinstance(result, Written):
            with self._acks.mutex:
                self._last_seq = result.seq
                if result.acked > self._acked:
                    self._acked = result.acked

    # --- flow control --------------------------------------------------------------------------
    def _lagging(self, size: int, resume: int) -> int:
        """Flow control for a KEEP_ALL writer: how far behind the readers may fall before a
        write waits (``resume`` 0), or whether they are still behind the point where it
        resumes. Returns the resume point while too far behind, else 0.

        Without it a writing thread that no longer hops threads outruns a Python reader: the
        reader's socket buffer overflows and the repairs cost more than the pause (measured
        at 4 KiB: 2.25 resends per sample). The window is ``UNACKED_WINDOW`` bytes in
        samples of this size, at least ``_MIN_WINDOW_SAMPLES``; it resumes at half of it.
        """
        window = max(_MIN_WINDOW_SAMPLES, UNACKED_WINDOW // max(size, 1))
        behind = self._last_seq - self._acked
        if resume:
            return resume if behind > resume else 0
        return window // 2 if behind > window else 0

    def _wait_acks(self, deadline: float, waiting: Callable[[], bool],
                   until_done: bool = False) -> bool:
        """Wait, while ``waiting()``, for the next acknowledgement event, or until it no
        longer waits (``until_done``). False if ``deadline`` passed or the writer closed."""
        ok = self._acks.wait(deadline, lambda: not self._closed and waiting(),
                             once=not until_done)
        return ok and not self._closed

    async def _wait_acks_async(self, deadline: float, waiting: Callable[[], bool],
                               until_done: bool = False) -> bool:
        """:meth:`_wait_acks` for a coroutine: suspends the task, never blocks its loop."""
        ok = await self._acks.wait_async(deadline, lambda: not self._closed and waiting(),
                                         once=not until_done)
        return ok and not self._closed

    def _no_ack_since(self, gen: int) -> bool:
        return self._ack_gen == gen

    def _acknowledged(self, seq: int) -> None:
        """The core's ``Acknowledged`` event (any thread): wake whoever waits."""
        with self._acks.lock:
            if seq > self._acked:
                self._acked = seq
            self._ack_gen += 1
        self._acks.notify()

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
        """Readers that could not match because of QoS, by policy (resets the change)."""
        return self._statuses.take_incompatible_qos()

    def offered_deadline_missed_status(self) -> OfferedDeadlineMissedStatus:
        """Deadline periods an instance this writer keeps alive went without a write, and
        the last such instance's handle (resets the change)."""
        return self._statuses.take_offered_deadline_missed()

    def liveliness_lost_status(self) -> LivelinessLostStatus:
        """Times this MANUAL writer let its liveliness lease pass without writing or
        asserting (resets the change)."""
        return self._statuses.take_liveliness_lost()

    def assert_liveliness(self) -> None:
        """Tell the readers this writer is alive without writing a sample (DDS
        ``assert_liveliness``): needed by a writer with ``liveliness='manual_by_topic'`` or
        ``'manual_by_participant'`` and a finite ``liveliness_lease`` that may go a lease
        without writing. MANUAL_BY_TOPIC sends a liveliness HEARTBEAT to its readers;
        MANUAL_BY_PARTICIPANT asserts the whole participant (every such writer of it), as
        :meth:`Participant.assert_liveliness` does. Nothing to do for AUTOMATIC."""
        self._check_open()
        self._node.assert_writer_liveliness(self._guid)

    def wait_for_acknowledgments(self, timeout: float = 10.0) -> bool:
        """Block until every reliable matched reader acknowledged all samples written (True),
        or ``timeout`` seconds pass (False)."""
        self._check_open()
        node = self.participant.engine
        if node.on_loop_thread() or self.participant._on_loop():
            raise IllegalOperationError("wait_for_acknowledgments() would stall the event "
                                        "loop: use await writer.acknowledged()")
        end = time.monotonic() + timeout
        # woken by every Acknowledged event; the 0.5 s bound re-checks the exact mark in case
        # a reader matched since (which can lower it without an event)
        while not node.writer_acked(self._guid):
            if time.monotonic() >= end or self._closed:
                return False
            self._wait_acks(min(end, time.monotonic() + 0.5),
                            lambda: not node.writer_acked(self._guid))
        return True

    async def acknowledged(self, timeout: float = 10.0) -> bool:
        """Await what :meth:`wait_for_acknowledgments` blocks for."""
        self._check_open()
        node = self.participant.engine
        end = time.monotonic() + timeout
        while not node.writer_acked(self._guid):
            if time.monotonic() >= end or self._closed:
                return False
            await self._wait_acks_async(min(end, time.monotonic() + 0.5),
                                        lambda: not node.writer_acked(self._guid))
        return True

    # --- changing QoS at run time --------------------------------------------------------------
    #: the policies a running writer may change (DDS: the others are immutable once enabled)
    MUTABLE_POLICIES = frozenset({"ownership_strength"})

    def set_qos(self, **changes: Any) -> None:
        """Change QoS policies while the writer runs, e.g. ``set_qos(ownership_strength=20)``
        (a standby that takes over as the primary): matched readers -- rtbus, Cyclone DDS, RTI
        Connext -- learn it from the re-announcement and arbitrate ownership by it from their
        next sample of this writer. A policy that cannot change raises
        :class:`~rtbus.errors.ImmutablePolicyError`."""
        self._check_open()
        fields = Qos.__dataclass_fields__
        for name, value in changes.items():
            if name not in fields:
                raise BadParameterError(f"set_qos: {name!r} is not a QoS policy")
            if name not in self.MUTABLE_POLICIES and value != getattr(self.qos, name):
                raise ImmutablePolicyError(
                    f"writer of topic {self.topic.name!r}: {name} cannot change while the "
                    f"writer exists (changeable: {', '.join(sorted(self.MUTABLE_POLICIES))})")
        qos = dataclasses.replace(self.qos, **changes)
        if qos == self.qos:
            return
        self._node.set_writer_qos(self._guid, qos)
        self.qos = qos

    # --- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        """Delete this writer: its readers unmatch (and see its instances NOT_ALIVE_NO_WRITERS)."""
        if self._closed:
            return
        self.participant._endpoint_closed(self)
        self._participant_closed()

    def _participant_closed(self) -> None:
        self._closed = True
        self._acknowledged(self._acked)  # wake waiters: they see _closed
        self._wake_status_waiters()
