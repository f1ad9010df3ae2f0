"""Communication statuses of writers and readers, as DDS defines them, with listeners.

Each writer and reader keeps its statuses here. ``*_change`` counts what happened since the
application last looked: reading a status (``writer.publication_matched_status()``) returns a
snapshot and resets those counters, as DDS's ``get_*_status`` does. A listener
(``writer.on_publication_matched = fn``) is called with the endpoint and the status each time
the status changes, which consumes the change as reading does (DDS 1.4 2.2.4.1); give
listeners at creation (``create_writer(..., listeners={...})``) to see the first match. It
runs on the engine's loop thread, so it must not block (hand work to another thread or
task). Statuses change on engine events only: matching, unmatching,
incompatible QoS (naming the policies as :class:`rtbus.qos.QosPolicyId` members, so
``status.last_policy_id`` prints as ``QosPolicyId.RELIABILITY`` and still equals 11),
inconsistent topics (same name, a type that does not fit), and the QoS timers: deadlines,
liveliness leases.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import IllegalOperationError
from .qos import QosPolicyId

log = logging.getLogger("rtbus.status")
Listener = Callable[[Any, Any], None]


@dataclass(slots=True)
class MatchedStatus:
    """PUBLICATION_MATCHED (writer) or SUBSCRIPTION_MATCHED (reader)."""

    total_count: int = 0
    total_count_change: int = 0
    current_count: int = 0
    current_count_change: int = 0
    last_handle: bytes = b""  # GUID of the remote endpoint that matched or left last


@dataclass(slots=True)
class IncompatibleQosStatus:
    """OFFERED_INCOMPATIBLE_QOS (writer) or REQUESTED_INCOMPATIBLE_QOS (reader)."""

    total_count: int = 0
    total_count_change: int = 0
    last_policy_id: QosPolicyId = QosPolicyId.INVALID  # INVALID until one fails
    policies: Counter[QosPolicyId] = field(default_factory=Counter)  # policy -> times it failed


class SampleRejectedReason(enum.IntEnum):
    """DDS ``SampleRejectedStatusKind``: which resource limit refused a sample."""

    NOT_REJECTED = 0
    REJECTED_BY_INSTANCES_LIMIT = 1
    REJECTED_BY_SAMPLES_LIMIT = 2
    REJECTED_BY_SAMPLES_PER_INSTANCE_LIMIT = 3


_REJECTED_BY = {"max_instances": SampleRejectedReason.REJECTED_BY_INSTANCES_LIMIT,
                "max_samples": SampleRejectedReason.REJECTED_BY_SAMPLES_LIMIT,
                "max_samples_per_instance":
                    SampleRejectedReason.REJECTED_BY_SAMPLES_PER_INSTANCE_LIMIT}


@dataclass(slots=True)
class SampleLostStatus:
    """SAMPLE_LOST (reader): samples that will never arrive (a reliable writer dropped them
    before this reader had them, or gaps in a best-effort stream)."""

    total_count: int = 0
    total_count_change: int = 0


@dataclass(slots=True)
class SampleRejectedStatus:
    """SAMPLE_REJECTED (reader): samples that arrived but the history's resource limits
    refused (a best-effort reader; a reliable one holds the stream instead)."""

    total_count: int = 0
    total_count_change: int = 0
    last_reason: SampleRejectedReason = SampleRejectedReason.NOT_REJECTED
    last_instance_handle: bytes = b""


@dataclass(slots=True)
class RequestedDeadlineMissedStatus:
    """REQUESTED_DEADLINE_MISSED (reader): an alive instance went a whole deadline period
    without a sample; counted once per missed period, with the last instance's handle."""

    total_count: int = 0
    total_count_change: int = 0
    last_instance_handle: bytes = b""


@dataclass(slots=True)
class OfferedDeadlineMissedStatus:
    """OFFERED_DEADLINE_MISSED (writer): an instance the writer keeps alive went a whole
    deadline period without a write; counted once per missed period."""

    total_count: int = 0
    total_count_change: int = 0
    last_instance_handle: bytes = b""


@dataclass(slots=True)
class LivelinessChangedStatus:
    """LIVELINESS_CHANGED (reader): how many matched writers are alive and how many have let
    their liveliness lease pass (a writer that leaves is in neither count any more);
    ``last_publication_handle``: the GUID of the writer that changed last."""

    alive_count: int = 0
    not_alive_count: int = 0
    alive_count_change: int = 0
    not_alive_count_change: int = 0
    last_publication_handle: bytes = b""


@dataclass(slots=True)
class LivelinessLostStatus:
    """LIVELINESS_LOST (writer): times a MANUAL writer let its lease pass without writing or
    asserting its liveliness (its readers judged it not alive)."""

    total_count: int = 0
    total_count_change: int = 0


@dataclass(slots=True)
class InconsistentTopicStatus:
    """A remote endpoint uses this topic name with a type that does not fit."""

    total_count: int = 0
    total_count_change: int = 0


def _policy(value: int) -> QosPolicyId:
    try:
        return QosPolicyId(value)
    except ValueError:  # not a DDS policy id: nothing in rtbus produces one
        log.warning("unknown QoS policy id %r in an incompatible-QoS status", value)
        return QosPolicyId.INVALID


class EndpointStatuses:
    """The statuses of one endpoint; fed on the loop thread, read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.matched = MatchedStatus()
        self.incompatible_qos = IncompatibleQosStatus()
        self.inconsistent_topic = InconsistentTopicStatus()
        self.sample_lost = SampleLostStatus()
        self.sample_rejected = SampleRejectedStatus()
        self.deadline_missed = RequestedDeadlineMissedStatus()
        self.offered_deadline_missed = OfferedDeadlineMissedStatus()
        self.liveliness_changed = LivelinessChangedStatus()
        self.liveliness_lost = LivelinessLostStatus()

    def on_matched(self, remote_guid: bytes, matched: bool) -> MatchedStatus:
        with self._lock:
            s = self.matched
            step = 1 if matched else -1
            s.current_count += step
            s.current_count_change += step
            if matched:
                s.total_count += 1
                s.total_count_change += 1
            s.last_handle = remote_guid
            return replace(s)

    def on_incompatible_qos(self, policies: tuple[int, ...]) -> IncompatibleQosStatus:
        """Count one incompatible remote endpoint. Plain ints are turned into their enum
        members here, so the status names them whoever produced the ids."""
        named = tuple(_policy(p) for p in policies)
        with self._lock:
            s = self.incompatible_qos
            s.total_count += 1
            s.total_count_change += 1
            s.last_policy_id = named[-1] if named else QosPolicyId.INVALID
            s.policies.update(named)
            return replace(s, policies=Counter(s.policies))

    def on_inconsistent_topic(self) -> InconsistentTopicStatus:
        with self._lock:
            s = self.inconsistent_topic
            s.total_count += 1
            s.total_count_change += 1
            return replace(s)

    def on_sample_lost(self, count: int) -> SampleLostStatus:
        with self._lock:
            s = self.sample_lost
            s.total_count += count
            s.total_count_change += count
            return replace(s)

    def on_sample_rejected(self, limit: str, key_hash: bytes | None) -> SampleRejectedStatus:
        with self._lock:
            s = self.sample_rejected
            s.total_count += 1
            s.total_count_change += 1
            s.last_reason = _REJECTED_BY.get(limit, SampleRejectedReason.REJECTED_BY_SAMPLES_LIMIT)
            s.last_instance_handle = bytes(key_hash or b"")
            return replace(s)

    def on_deadline_missed(self, key_hash: bytes | None) -> RequestedDeadlineMissedStatus:
        with self._lock:
            s = self.deadline_missed
            s.total_count += 1
            s.total_count_change += 1
            s.last_instance_handle = bytes(key_hash or bytes(16))
            return replace(s)

    def on_offered_deadline_missed(self, key_hash: bytes | None) -> None:
        with self._lock:
            s = self.offered_deadline_missed
            s.total_count += 1
            s.total_count_change += 1
            s.last_instance_handle = bytes(key_hash or bytes(16))

    def on_liveliness_changed(self, writer: bytes, alive: int, not_alive: int) -> None:
        with self._lock:
            s = self.liveliness_changed
            s.alive_count += alive
            s.alive_count_change += alive
            s.not_alive_count += not_alive
            s.not_alive_count_change += not_alive
            s.last_publication_handle = writer

    def take_liveliness_changed(self) -> LivelinessChangedStatus:
        with self._lock:
            out = replace(self.liveliness_changed)
            self.liveliness_changed.alive_count_change = 0
            self.liveliness_changed.not_alive_count_change = 0
            return out

    def on_liveliness_lost(self) -> None:
        with self._lock:
            self.liveliness_lost.total_count += 1
            self.liveliness_lost.total_count_change += 1

    def take_liveliness_lost(self) -> LivelinessLostStatus:
        with self._lock:
            out = replace(self.liveliness_lost)
            self.liveliness_lost.total_count_change = 0
            return out

    def take_offered_deadline_missed(self) -> OfferedDeadlineMissedStatus:
        with self._lock:
            out = replace(self.offered_deadline_missed)
            self.offered_deadline_missed.total_count_change = 0
            return out

    def take_deadline_missed(self) -> RequestedDeadlineMissedStatus:
        with self._lock:
            out = replace(self.deadline_missed)
            self.deadline_missed.total_count_change = 0
            return out

    def take_sample_lost(self) -> SampleLostStatus:
        with self._lock:
            out = replace(self.sample_lost)
            self.sample_lost.total_count_change = 0
            return out

    def take_sample_rejected(self) -> SampleRejectedStatus:
        with self._lock:
            out = replace(self.sample_rejected)
            self.sample_rejected.total_count_change = 0
            return out

    def take_matched(self) -> MatchedStatus:
        with self._lock:
            out = replace(self.matched)
            self.matched.total_count_change = self.matched.current_count_change = 0
            return out

    def take_incompatible_qos(self) -> IncompatibleQosStatus:
        with self._lock:
            out = replace(self.incompatible_qos, policies=Counter(self.incompatible_qos.policies))
            self.incompatible_qos.total_count_change = 0
            return out

    def take_inconsistent_topic(self) -> InconsistentTopicStatus:
        with self._lock:
            out = replace(self.inconsistent_topic)
            self.inconsistent_topic.total_count_change = 0
            return out


class StatusMixin:
    """Status plumbing shared by Writer and Reader: the engine calls ``_status_*`` on the
    loop thread; the subclass names its listener attributes (DDS names differ by side)."""

    _MATCHED_LISTENER = ""
    _INCOMPATIBLE_LISTENER = ""
    on_inconsistent_topic: Listener | None = None
    # provided by Writer / Reader
    participant: Any
    matched_count: int
    _matched: asyncio.Event
    _closed: bool
    _conditions: list[Any]  # the StatusConditions (and ReadConditions) made on this entity

    def _check_open(self) -> None:
        raise NotImplementedError

    def _init_statuses(self) -> None:
        self._statuses = EndpointStatuses()

    def _listener_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = (self._MATCHED_LISTENER, self._INCOMPATIBLE_LISTENER,
                                  "on_inconsistent_topic")
        if hasattr(self, "on_data_available"):  # a reader
            names += ("on_data_available", "on_sample_lost", "on_sample_rejected",
                      "on_requested_deadline_missed", "on_liveliness_changed")
        else:
            names += ("on_offered_deadline_missed", "on_liveliness_lost")
        return names

    def _set_listeners(self, listeners: dict[str, Callable[..., Any]] | None) -> None:
        """Install listeners given at creation, before the endpoint can match: a status that
        changes right away (a peer already there) is not missed."""
        if not listeners:
            return
        known = self._listener_names()
        for name, fn in listeners.items():
            if name not in known:
                raise TypeError(f"unknown listener {name!r} for a {type(self).__name__}; "
                                f"expected one of {', '.join(known)}")
            if fn is not None and not callable(fn):
                raise TypeError(f"listener {name!r}: expected a callable, got {fn!r}")
            setattr(self, name, fn)

    def _fire(self, listener_name: str, status: Any) -> None:
        fn = getattr(self, listener_name, None)
        if fn is None:
            return
        try:
            fn(self, status)
        except Exception:  # a listener's bug must not stop the engine
            log.exception("%s listener raised", listener_name)

    # A listener that is called consumes the change, as reading the status does (DDS 1.4
    # 2.2.4.1: the *_change counts are since the listener was last called or the status read).
    def _status_changed(self) -> None:
        """A status changed (loop thread): conditions on this entity re-evaluate."""
        for cond in self._conditions:
            cond._changed()

    def _wake_status_waiters(self) -> None:
        """Closing (any thread): ``wait_for_matched``/``matched`` waiters wake and raise."""
        loop = self.participant._loop
        if loop is None or loop.is_closed():
            return
        if self.participant._on_loop():
            self._matched.set()
        else:
            loop.call_soon_threadsafe(self._matched.set)

    def _status_matched(self, remote_guid: bytes, matched: bool) -> None:
        self._statuses.on_matched(remote_guid, matched)
        self._status_changed()
        if getattr(self, self._MATCHED_LISTENER, None) is not None:
            self._fire(self._MATCHED_LISTENER, self._statuses.take_matched())

    def _status_incompatible_qos(self, policies: tuple[int, ...]) -> None:
        self._statuses.on_incompatible_qos(policies)
        self._status_changed()
        if getattr(self, self._INCOMPATIBLE_LISTENER, None) is not None:
            self._fire(self._INCOMPATIBLE_LISTENER, self._statuses.take_incompatible_qos())

    def _status_sample_lost(self, count: int) -> None:
        self._statuses.on_sample_lost(count)
        self._status_changed()
        if getattr(self, "on_sample_lost", None) is not None:
            self._fire("on_sample_lost", self._statuses.take_sample_lost())

    def _status_sample_rejected(self, limit: str, key_hash: bytes | None) -> None:
        self._statuses.on_sample_rejected(limit, key_hash)
        self._status_changed()
        if getattr(self, "on_sample_rejected", None) is not None:
            self._fire("on_sample_rejected", self._statuses.take_sample_rejected())

    def _status_deadline_missed(self, key_hash: bytes | None) -> None:
        self._statuses.on_deadline_missed(key_hash)
        self._status_changed()
        if getattr(self, "on_requested_deadline_missed", None) is not None:
            self._fire("on_requested_deadline_missed", self._statuses.take_deadline_missed())

    def _status_offered_deadline_missed(self, key_hash: bytes | None) -> None:
        self._statuses.on_offered_deadline_missed(key_hash)
        self._status_changed()
        if getattr(self, "on_offered_deadline_missed", None) is not None:
            self._fire("on_offered_deadline_missed",
                       self._statuses.take_offered_deadline_missed())

    def _status_liveliness_changed(self, writer: bytes, alive: int, not_alive: int) -> None:
        self._statuses.on_liveliness_changed(writer, alive, not_alive)
        self._status_changed()
        if getattr(self, "on_liveliness_changed", None) is not None:
            self._fire("on_liveliness_changed", self._statuses.take_liveliness_changed())

    def _status_liveliness_lost(self) -> None:
        self._statuses.on_liveliness_lost()
        self._status_changed()
        if getattr(self, "on_liveliness_lost", None) is not None:
            self._fire("on_liveliness_lost", self._statuses.take_liveliness_lost())

    def _status_inconsistent_topic(self) -> None:
        self._statuses.on_inconsistent_topic()
        self._status_changed()
        if self.on_inconsistent_topic is not None:
            self._fire("on_inconsistent_topic", self._statuses.take_inconsistent_topic())

    # --- waiting for matches (needs participant, matched_count and the asyncio.Event _matched)
    async def _wait_matched(self, n: int) -> None:
        while True:
            self._check_open()
            if self.matched_count >= n:
                return
            self._matched.clear()
            await self._matched.wait()

    def wait_for_matched(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Block until ``count`` remote endpoints match (True) or ``timeout`` passes (False).

        Raises ClosedError once the entity is closed (also while waiting), and
        IllegalOperationError on the event loop, where ``await ....matched()`` is the way."""
        self._check_open()
        if self.participant._on_loop():
            raise IllegalOperationError(
                f"{type(self).__name__.lower()}.wait_for_matched() would block the event loop "
                f"it runs on: in async code use await {type(self).__name__.lower()}"
                ".matched(count, timeout)")
        try:
            self.participant._run(asyncio.wait_for(self._wait_matched(count), timeout))
            return True
        except (TimeoutError, asyncio.TimeoutError):
            return False

    async def matched(self, count: int = 1, timeout: float = 10.0) -> bool:
        """The same, awaitable."""
        self._check_open()
        try:
            await self.participant._await(asyncio.wait_for(self._wait_matched(count), timeout))
            return True
        except (TimeoutError, asyncio.TimeoutError):
            return False

    def inconsistent_topic_status(self) -> InconsistentTopicStatus:
        """Remote endpoints on this topic name whose type does not fit (resets the change)."""
        return self._statuses.take_inconsistent_topic()
