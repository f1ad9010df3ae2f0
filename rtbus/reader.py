"""A data reader: samples wait in the core's history until taken; decoding happens in the
caller's thread. Supports blocking ``take(timeout=...)``, ``async for``, and a listener."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import cdr
from .errors import DecodeError
from .qos import Qos
from .sample import Sample
from .status import IncompatibleQosStatus, Listener, MatchedStatus, StatusMixin
from .topic import Topic

if TYPE_CHECKING:
    from .participant import Participant

T = TypeVar("T")
# a take arms a timer only when it resumes a stream held on a full history (an ACKNACK after
# the NACK delay); the loop's next timer may be up to this late for it
_TAKE_TIMER_SLACK = 0.01


class Reader(StatusMixin, Generic[T]):
    """Receives samples of one topic. Statuses: ``subscription_matched_status()``,
    ``requested_incompatible_qos_status()``, ``inconsistent_topic_status()``; listeners of the
    same names with ``on_`` (called as ``fn(reader, status)`` on the engine thread), and
    ``on_data_available(reader)``."""

    _MATCHED_LISTENER = "on_subscription_matched"
    _INCOMPATIBLE_LISTENER = "on_requested_incompatible_qos"
    on_subscription_matched: Listener | None = None
    on_requested_incompatible_qos: Listener | None = None

    def __init__(self, participant: Participant, topic: Topic, qos: Qos) -> None:
        self.participant = participant
        self.topic = topic
        self.qos = qos
        self._guid: Any = None
        self.matched_count = 0
        self.on_data_available: Callable[[Reader[T]], None] | None = None
        self._ready = threading.Event()  # sync takers: set when the history may hold samples
        self._ready.set()
        self._async_ready = asyncio.Event()  # async takers, on the engine loop
        self._async_ready.set()
        self._matched = asyncio.Event()
        self._async_waiters = 0  # coroutines waiting for _async_ready (engine loop only)
        self._direct_waiting = False  # a thread waits in Node.receive_until for this reader
        self._is_closed = False
        self.decode_errors = 0  # samples dropped because their payload did not decode
        self._init_statuses()

    @property
    def guid(self) -> bytes:
        return bytes(self._guid)

    # --- key hashes for peers that send none (Cyclone by default) ------------------------------
    def _key_hash_of(self, payload: bytes | memoryview) -> bytes | None:
        try:
            return cdr.key_hash(cdr.decode(self.topic.type, payload))
        except (DecodeError, ValueError):
            return None

    def _key_hash_of_key(self, payload: bytes | memoryview) -> bytes | None:
        try:
            data = memoryview(payload)
            little = data[1] & 1 == 1
            rep = "XCDR1" if data[1] < 6 else "XCDR2"
            sample = cdr.decode_key(self.topic.type, data[4:], representation=rep,
                                    endianness="little" if little else "big")
            return cdr.key_hash(sample)
        except (DecodeError, ValueError, IndexError):
            return None

    # --- engine side (loop thread) ---------------------------------------------------------------
    def _notify(self) -> None:
        if not self._ready.is_set():  # setting a set Event still takes its lock
            self._ready.set()
        if self._direct_waiting:
            self.participant.node.wake_direct()
        if not self._async_ready.is_set():
            self._async_ready.set()
        if self.on_data_available is not None:
            self.on_data_available(self)

    def _notify_direct(self) -> bool:
        """A delivery digested by an application thread (Node.receive_until): mark the
        reader ready right here; whether the loop must still be told (an ``async`` taker
        waits on an asyncio event, a listener runs on the engine thread)."""
        if not self._ready.is_set():
            self._ready.set()
        return not self._async_waiters and self.on_data_available is None

    def _match_changed(self, matched: bool, remote_guid: bytes = b"") -> None:
        self.matched_count += 1 if matched else -1
        if self.matched_count > 0:
            self._matched.set()
        self._status_matched(remote_guid, matched)

    def subscription_matched_status(self) -> MatchedStatus:
        """Writers matched now and in total (resets the ``*_change`` counts)."""
        return self._statuses.take_matched()

    def requested_incompatible_qos_status(self) -> IncompatibleQosStatus:
        """Writers that could not match because of QoS, by policy id (resets the change)."""
        return self._statuses.take_incompatible_qos()

    def _closed(self) -> None:
        self._is_closed = True
        self._ready.set()

    def _take_core(self, max_samples: int | None) -> list[Any]:
        """Take from the core, from any thread. The ready flags are cleared *before* taking:
        a delivery that lands after the take sets them again, so no wake-up is lost."""
        node = self.participant.node
        self._ready.clear()
        self._async_ready.clear()
        raw: list[Any] = node.call(node.core.take, self._guid, max_samples,  # type: ignore[union-attr]
                                   node.now(), timer_slack=_TAKE_TIMER_SLACK)
        if max_samples is not None and len(raw) >= max_samples:
            self._ready.set()  # there may be more: the next take must look
            if self.participant._on_loop():  # an asyncio.Event is set on its loop only
                self._async_ready.set()
        return raw

    # --- user side ----------------------------------------------------------------------------
    def take(self, max_samples: int | None = None, timeout: float = 0.0) -> list[Sample[T]]:
        """Remove and return available samples; wait up to ``timeout`` seconds for the first."""
        end = time.monotonic() + timeout
        while True:
            # _ready is clear only while nothing arrived since the last (complete) take: then
            # waiting right away saves a core call per wake-up
            if timeout <= 0 or self._ready.is_set():
                raw = self._take_core(max_samples)
                if raw or timeout <= 0:
                    return self._decode(raw)
            if self._is_closed:
                return []
            left = end - time.monotonic()
            if left <= 0:
                return []
            self._wait(left, end)
            if self._is_closed or self.participant.node._closed:
                return []  # closed while waiting: an empty result, not an error

    def _wait(self, left: float, end: float) -> None:
        """Wait for a delivery: receiving in this thread when it may (the fast path, see
        Node.receive_until), else on the ready event."""
        node = self.participant.node
        self._direct_waiting = True
        try:
            got = node.receive_until(self._ready.is_set, end)
        finally:
            self._direct_waiting = False
        if got is None:
            self._ready.wait(left)
        elif got is False:  # another thread reads: it or the loop sets _ready
            self._ready.wait(left if node._baton_app else min(left, 0.001))

    async def take_async(self, max_samples: int | None = None) -> list[Sample[T]]:
        """Wait until samples are available, then take them."""
        async def wait_and_take() -> list[Any]:
            # _ready is the truth (a delivery digested by an application thread sets only
            # it, unless it sees an async waiter registered); _async_ready only wakes us
            while True:
                if self._ready.is_set():  # else nothing arrived since the last take
                    raw = self._take_core(max_samples)
                    if raw:
                        return raw
                if self._is_closed:
                    return []
                self._async_waiters += 1
                try:
                    if not self._ready.is_set():
                        self._async_ready.clear()  # may be stale; a new delivery sets it
                        await self._async_ready.wait()
                finally:
                    self._async_waiters -= 1

        raw = await self.participant._await(wait_and_take())
        return self._decode(raw)

    def _decode(self, raw: list[Any]) -> list[Sample[T]]:
        """Decode taken samples; one that does not decode is dropped and counted, not raised,
        so it cannot take the good samples of the same call down with it."""
        out: list[Sample[T]] = []
        for s in raw:
            try:
                out.append(Sample.from_core(s, self.topic.type))
            except DecodeError:
                self.decode_errors += 1
        return out

    def __aiter__(self) -> AsyncIterator[Sample[T]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Sample[T]]:
        while not self._is_closed:
            for s in await self.take_async():
                yield s


