"""A data reader: samples wait in the core's history until read or taken; decoding happens
in the caller's thread.

Reading as DDS users know it: ``take``/``read`` (destructive or not) with optional sample,
view and instance state masks and one instance (``instance=reader.lookup_instance(key)``);
blocking with ``timeout=``, ``for sample in reader`` and ``async for sample in reader``
(both end when the reader or its participant closes), ``take_async``, listeners, and read
conditions for a :class:`rtbus.WaitSet`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import cdr
from .errors import BadParameterError, ClosedError, DecodeError
from .qos import Qos
from .rtps.instances import InstanceState, SampleState, ViewState
from .rtps.reader import ANY_INSTANCE, Selection
from .sample import NIL_HANDLE, Sample, sample_info
from .status import (
    IncompatibleQosStatus,
    Listener,
    LivelinessChangedStatus,
    MatchedStatus,
    RequestedDeadlineMissedStatus,
    SampleLostStatus,
    SampleRejectedStatus,
    StatusMixin,
)
from .topic import ContentFilteredTopic, Topic

if TYPE_CHECKING:
    from .participant import Participant
    from .waitset import ReadCondition

T = TypeVar("T")
_ANY = Selection()
#: how long a thread that cannot receive itself waits between looks when another thread
#: holds the user socket and may not be the one to wake it
_POLL_WHILE_OTHER_RECEIVES = 0.001


class Reader(StatusMixin, Generic[T]):
    """Receives samples of one topic. Statuses: ``subscription_matched_status()``,
    ``requested_incompatible_qos_status()``, ``inconsistent_topic_status()``,
    ``sample_lost_status()``, ``sample_rejected_status()``,
    ``requested_deadline_missed_status()``, ``liveliness_changed_status()``; listeners of
    the same names with
    ``on_`` (called as ``fn(reader, status)`` on the engine thread), and
    ``on_data_available(reader)``."""

    _MATCHED_LISTENER = "on_subscription_matched"
    _INCOMPATIBLE_LISTENER = "on_requested_incompatible_qos"
    on_subscription_matched: Listener | None = None
    on_requested_incompatible_qos: Listener | None = None
    on_sample_lost: Listener | None = None
    on_sample_rejected: Listener | None = None
    on_requested_deadline_missed: Listener | None = None
    on_liveliness_changed: Listener | None = None

    def __init__(self, participant: Participant, topic: Topic[T], qos: Qos) -> None:
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
        self._closed = False
        self._conditions: list[ReadCondition] = []
        self._keys: dict[bytes, Any] = {}  # instance handle -> a sample with its key fields
        self.decode_errors = 0  # samples dropped because their payload did not decode
        #: the content-filtered topic it reads ``topic`` through (None: every sample)
        self.content_filtered_topic: ContentFilteredTopic[T] | None = None
        self._init_statuses()

    @property
    def guid(self) -> bytes:
        return bytes(self._guid)

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"Reader({self.topic.name!r}, {self.topic.type_name}, guid={self.guid.hex()})"

    # --- engine side -----------------------------------------------------------------------------
    def _notify(self) -> None:
        """Samples were delivered (loop thread): wake takers, conditions, the listener."""
        if not self._ready.is_set():  # setting a set Event still takes its lock
            self._ready.set()
        if self._direct_waiting:
            self.participant.engine.wake_receiver()
        if not self._async_ready.is_set():
            self._async_ready.set()
        for cond in self._conditions:
            cond._changed()
        if self.on_data_available is not None:
            self.on_data_available(self)

    def _notify_direct(self) -> bool:
        """A delivery an application thread caused (digesting a datagram, or a local
        writer's write): mark the reader ready right here; whether the loop must still be
        told (an ``async`` taker waits on an asyncio event, a listener runs on the engine
        thread, a condition may have a waiting WaitSet)."""
        if not self._ready.is_set():
            self._ready.set()
        if self._direct_waiting:
            self.participant.engine.wake_receiver()
        return not self._async_waiters and self.on_data_available is None \
            and not self._conditions

    def _match_changed(self, matched: bool, remote_guid: bytes = b"") -> None:
        self.matched_count += 1 if matched else -1
        if self.matched_count > 0:
            self._matched.set()
        self._status_matched(remote_guid, matched)

    def subscription_matched_status(self) -> MatchedStatus:
        """Writers matched now and in total (resets the ``*_change`` counts)."""
        return self._statuses.take_matched()

    def requested_incompatible_qos_status(self) -> IncompatibleQosStatus:
        """Writers that could not match because of QoS, by policy (resets the change)."""
        return self._statuses.take_incompatible_qos()

    def sample_lost_status(self) -> SampleLostStatus:
        """Samples that will never arrive (resets the change)."""
        return self._statuses.take_sample_lost()

    def requested_deadline_missed_status(self) -> RequestedDeadlineMissedStatus:
        """Deadline periods an alive instance went without a sample, and the last such
        instance's handle (resets the change)."""
        return self._statuses.take_deadline_missed()

    def liveliness_changed_status(self) -> LivelinessChangedStatus:
        """Matched writers alive and not alive (their liveliness lease passed), and the
        last one that changed (resets the changes)."""
        return self._statuses.take_liveliness_changed()

    def sample_rejected_status(self) -> SampleRejectedStatus:
        """Samples the history's resource limits refused, and why (resets the change)."""
        return self._statuses.take_sample_rejected()

    def _participant_closed(self) -> None:
        """Closing (any thread): waiting takes return, ``for`` and ``async for`` end."""
        self._closed = True
        self._ready.set()
        loop = self.participant._loop
        if loop is not None and not loop.is_closed():
            if self.participant._on_loop():
                self._async_ready.set()
            else:
                loop.call_soon_threadsafe(self._async_ready.set)
        for cond in self._conditions:
            cond._changed()
        self._wake_status_waiters()

    def close(self) -> None:
        """Delete this reader: it unmatches its writers; waiting takes and iterations end."""
        if self._closed:
            return
        self.participant._endpoint_closed(self)
        self._participant_closed()

    def _check_open(self) -> None:
        if self._closed:
            what = "participant" if self.participant.closed else "reader"
            raise ClosedError(f"reader of topic {self.topic.name!r}: the {what} is closed")

    # --- selecting samples -----------------------------------------------------------------------
    def _selection(self, instance: bytes | None, sample_states: int | None,
                   view_states: int | None, instance_states: int | None) -> Selection:
        if instance is None and sample_states is None and view_states is None \
                and instance_states is None:
            return _ANY
        key: Any = ANY_INSTANCE
        if instance is not None:
            if not isinstance(instance, (bytes, bytearray)) or len(instance) != 16:
                raise BadParameterError(f"instance: expected a 16-byte instance handle (from "
                                        f"lookup_instance or SampleInfo.instance_handle), got "
                                        f"{instance!r}")
            key = bytes(instance) if self.topic.keyed else None
        return Selection(
            _mask(sample_states, SampleState, "sample_states"),
            _mask(view_states, ViewState, "view_states"),
            _mask(instance_states, InstanceState, "instance_states"), key)

    def _core(self, take: bool, max_samples: int | None, select: Selection) -> list[Any]:
        """Read or take from the core, from any thread. The ready flags are cleared *before*
        the call: a delivery that lands after it sets them again, so no wake-up is lost;
        they are set again unless an unrestricted take emptied the history."""
        if max_samples is not None and (not isinstance(max_samples, int) or max_samples < 1):
            raise BadParameterError(f"max_samples: expected a positive int or None, got "
                                    f"{max_samples!r}")
        node = self.participant.engine
        self._ready.clear()
        self._async_ready.clear()
        raw = node.take(self._guid, max_samples, select) if take \
            else node.read(self._guid, max_samples, select)
        if raw and (not take or select is not _ANY
                    or (max_samples is not None and len(raw) >= max_samples)):
            self._ready.set()  # there may be more: the next call must look
            if self.participant._on_loop():  # an asyncio.Event is set on its loop only
                self._async_ready.set()
        if raw and self._conditions:
            for cond in self._conditions:
                cond._changed()
        return raw

    def _has(self, select: Selection) -> bool:
        return self.participant.engine.has_samples(self._guid, select)

    # --- user side -------------------------------------------------------------------------------
    def take(self, max_samples: int | None = None, timeout: float = 0.0, *,
             instance: bytes | None = None, sample_states: int | None = None,
             view_states: int | None = None,
             instance_states: int | None = None) -> list[Sample[T]]:
        """Remove and return available samples, oldest first; wait up to ``timeout`` seconds
        for the first. ``instance``: only that instance's; ``*_states``: masks of
        :class:`~rtbus.SampleState`, :class:`~rtbus.ViewState`, :class:`~rtbus.InstanceState`
        flags (default: any). A take that is waiting when the reader closes returns []."""
        self._check_open()
        return self._get(True, max_samples, timeout,
                         self._selection(instance, sample_states, view_states, instance_states))

    def read(self, max_samples: int | None = None, timeout: float = 0.0, *,
             instance: bytes | None = None, sample_states: int | None = None,
             view_states: int | None = None,
             instance_states: int | None = None) -> list[Sample[T]]:
        """Like :meth:`take`, but the samples stay in the reader, marked READ (read them
        again, or take them later); ``sample_states=SampleState.NOT_READ`` gives only
        what was not read before."""
        self._check_open()
        return self._get(False, max_samples, timeout,
                         self._selection(instance, sample_states, view_states, instance_states))

    def _get(self, take: bool, max_samples: int | None, timeout: float,
             select: Selection) -> list[Sample[T]]:
        end = time.monotonic() + timeout
        while True:
            # _ready is clear only while nothing arrived since the last (complete) take: then
            # waiting right away saves a core call per wake-up
            if timeout <= 0 or self._ready.is_set():
                if self._closed:
                    return []
                raw = self._core(take, max_samples, select)
                if raw or timeout <= 0:
                    return self._decode(raw)
            if self._closed:
                return []
            left = end - time.monotonic()
            if left <= 0:
                return []
            self._wait(left, end)

    def _wait(self, left: float, end: float) -> None:
        """Wait for a delivery: receiving in this thread when it may (the fast path, see
        Node.receive_until), else on the ready event."""
        node = self.participant.engine
        self._direct_waiting = True
        try:
            got = node.receive_until(self._ready.is_set, end)
        finally:
            self._direct_waiting = False
        if got is None:
            self._ready.wait(left)
        elif got is False:  # another thread reads: it or the loop sets _ready
            self._ready.wait(left if node.receiving_in_app_thread
                             else min(left, _POLL_WHILE_OTHER_RECEIVES))

    async def take_async(self, max_samples: int | None = None) -> list[Sample[T]]:
        """Wait until samples are available, then take them ([] once the reader closed)."""
        self._check_open()
        return await self._get_async(True, max_samples, _ANY)

    async def read_async(self, max_samples: int | None = None) -> list[Sample[T]]:
        """Wait until samples not read before are available, then read them."""
        self._check_open()
        return await self._get_async(False, max_samples,
                                     Selection(sample_states=int(SampleState.NOT_READ)))

    async def _get_async(self, take: bool, max_samples: int | None,
                         select: Selection) -> list[Sample[T]]:
        async def wait_and_get() -> list[Any]:
            # _ready is the truth (a delivery digested by an application thread sets only
            # it, unless it sees an async waiter registered); _async_ready only wakes us
            while True:
                if self._closed:
                    return []
                if self._ready.is_set():  # else nothing arrived since the last take
                    raw = self._core(take, max_samples, select)
                    if raw:
                        return raw
                self._async_waiters += 1
                try:
                    if not self._ready.is_set():
                        self._async_ready.clear()  # may be stale; a new delivery sets it
                        await self._async_ready.wait()
                finally:
                    self._async_waiters -= 1

        raw = await self.participant._await(wait_and_get())
        return self._decode(raw)

    def __iter__(self) -> Iterator[Sample[T]]:
        """Block for samples and yield them one by one; ends when the reader closes."""
        self._check_open()
        while not self._closed:
            yield from self._get(True, None, 3600.0, _ANY)

    def __aiter__(self) -> AsyncIterator[Sample[T]]:
        self._check_open()
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Sample[T]]:
        while not self._closed:
            for s in await self._get_async(True, None, _ANY):
                yield s

    # --- instances -------------------------------------------------------------------------------
    def lookup_instance(self, key: T) -> bytes | None:
        """The instance handle of the instance ``key``'s key fields name, if this reader
        knows that instance (None otherwise; other fields of ``key`` are ignored)."""
        self._check_open()
        if not isinstance(key, self.topic.type):
            raise BadParameterError(f"lookup_instance: expected a {self.topic.type.__name__}, "
                                    f"got {type(key).__name__}")
        handle = cdr.key_hash(key) if self.topic.keyed else NIL_HANDLE
        core_key = handle if self.topic.keyed else None
        return handle if self.participant.engine.has_instance(self._guid, core_key) else None

    def _decode(self, raw: list[Any]) -> list[Sample[T]]:
        """Decode samples; one that does not decode is dropped and counted, not raised, so it
        cannot take the good samples of the same call down with it. A dispose or unregister
        gets the instance's key fields, from the key it carried or an earlier sample."""
        out: list[Sample[T]] = []
        cls = self.topic.type
        keyed = self.topic.keyed
        for s in raw:
            try:
                if s.info.valid_data:
                    data: Any = cdr.decode(cls, s.payload)
                    if keyed and s.key_hash not in self._keys:
                        self._keys[s.key_hash] = cdr.key_fields_only(data)
                else:
                    data = self._key_sample(s) if keyed else cls()
            except DecodeError:
                self.decode_errors += 1
                continue
            out.append(Sample(data, sample_info(s.info)))
        return out

    def _key_sample(self, s: Any) -> Any:
        """The key fields of the instance an invalid-data sample is about: from the key it
        carried (a dispose/unregister's key payload), else from an earlier sample of it."""
        known = self._keys.get(s.key_hash)
        if s.info.instance_state != InstanceState.ALIVE and known is not None:
            self._keys.pop(s.key_hash, None)  # it may be purged: do not keep it forever
        if s.payload is None:
            return known if known is not None else self.topic.type()
        if s.key_only:
            return cdr.decode_key_payload(self.topic.type, s.payload)
        return cdr.key_fields_only(cdr.decode(self.topic.type, s.payload))


def _mask(value: int | None, flags: Any, name: str) -> int:
    if value is None:
        return int(sum(flags))
    if isinstance(value, bool) or not isinstance(value, int) or not value & int(sum(flags)):
        raise BadParameterError(f"{name}: expected {flags.__name__} flags (e.g. "
                                f"{next(iter(flags))!r}) or None, got {value!r}")
    return int(value)
