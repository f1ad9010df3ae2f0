"""The builtin discovery topics: what a participant knows about the domain, as readers.

DDS 1.4 2.2.5 gives every participant readers of ``DCPSParticipant``, ``DCPSPublication``
and ``DCPSSubscription``, fed by discovery rather than by a writer: one instance per
participant or endpoint (keyed by its GUID), ALIVE while it is known, NOT_ALIVE_DISPOSED
once it left. rtbus builds them from the core's discovery events (SPDP and SEDP), and, as
Cyclone DDS does, includes this participant's own entities (``local=True``)::

    readers = dp.create_reader(rtbus.DCPSSubscription)
    for sample in readers.take(timeout=1.0):
        print(sample.data.topic_name, sample.data.qos.reliability, sample.info.instance_state)

Like any reader they can be taken from, read, iterated (``for``/``async for``) and given an
``on_data_available`` listener; they keep the latest state of each instance (KEEP_LAST 1),
and a reader created late starts with every entity known at that moment.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .engine.wakeup import Wakeup
from .errors import BadParameterError, ClosedError
from .qos import Qos
from .rtps.builtin_data import EndpointData, ParticipantData
from .rtps.instances import InstanceState, SampleState, ViewState
from .rtps.sedp import RemoteEndpointDiscovered, RemoteEndpointRemoved
from .rtps.spdp import ParticipantDiscovered, ParticipantLost, ParticipantUpdated
from .sample import Sample, SampleInfo

if TYPE_CHECKING:
    from .participant import Participant

T = TypeVar("T")
_PARTICIPANT_ENTITY = b"\x00\x00\x01\xc1"


@dataclass(frozen=True, slots=True)
class ParticipantBuiltinTopicData:
    """A participant of the domain (DCPSParticipant). ``key``: its 16-byte GUID;
    ``properties``: the name/value pairs it announced (Cyclone sends host, process name
    and pid as ``__Hostname``, ``__ProcessName``, ``__Pid``; rtbus announces none yet)."""

    key: bytes
    entity_name: str | None
    vendor_id: bytes
    domain_id: int | None
    lease_duration: float
    user_data: bytes
    properties: tuple[tuple[str, str], ...]
    unicast_locators: tuple[str, ...]
    local: bool = False

    def property(self, name: str) -> str | None:
        """The value of the announced property ``name`` (None if absent)."""
        return next((v for k, v in self.properties if k == name), None)


@dataclass(frozen=True, slots=True)
class EndpointBuiltinTopicData:
    """A writer (DCPSPublication) or reader (DCPSSubscription) of the domain: its GUID
    (``key``), its participant's, topic and type names, and the QoS it announced."""

    key: bytes
    participant_key: bytes
    topic_name: str
    type_name: str
    qos: Qos
    vendor_id: bytes | None
    has_type_information: bool
    local: bool = False


PublicationBuiltinTopicData = EndpointBuiltinTopicData
SubscriptionBuiltinTopicData = EndpointBuiltinTopicData


@dataclass(frozen=True)
class BuiltinTopic(Generic[T]):
    """One of the builtin discovery topics; pass it to ``Participant.create_reader``."""

    name: str
    type: type[T]


DCPSParticipant: BuiltinTopic[ParticipantBuiltinTopicData] = \
    BuiltinTopic("DCPSParticipant", ParticipantBuiltinTopicData)
DCPSPublication: BuiltinTopic[EndpointBuiltinTopicData] = \
    BuiltinTopic("DCPSPublication", EndpointBuiltinTopicData)
DCPSSubscription: BuiltinTopic[EndpointBuiltinTopicData] = \
    BuiltinTopic("DCPSSubscription", EndpointBuiltinTopicData)
BUILTIN_TOPICS = (DCPSParticipant, DCPSPublication, DCPSSubscription)


def participant_data(p: ParticipantData, local: bool = False) -> ParticipantBuiltinTopicData:
    return ParticipantBuiltinTopicData(
        bytes(p.guid_prefix) + _PARTICIPANT_ENTITY, p.entity_name, bytes(p.vendor_id),
        p.domain_id, p.lease_duration, bytes(p.user_data), tuple(p.properties),
        tuple(f"{loc.host}:{loc.port}" for loc in p.default_unicast), local)


def endpoint_data(e: EndpointData, local: bool = False) -> EndpointBuiltinTopicData:
    participant = e.participant_guid or (e.prefix + _PARTICIPANT_ENTITY)
    return EndpointBuiltinTopicData(bytes(e.endpoint_guid), bytes(participant), e.topic_name,
                                    e.type_name, e.qos, e.vendor_id,
                                    e.type_information is not None, local)


class DiscoveryCache:
    """What one participant discovered, by builtin topic, and the builtin readers it feeds
    (events arrive on the engine loop; readers are read from any thread)."""

    def __init__(self, participant: Participant) -> None:
        self.participant = participant
        self.known: dict[str, dict[bytes, Any]] = {t.name: {} for t in BUILTIN_TOPICS}
        self.readers: list[BuiltinReader[Any]] = []
        self._lock = threading.Lock()
        self._seeded = False

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {ParticipantDiscovered: self._participant, ParticipantUpdated: self._participant,
                ParticipantLost: self._participant_lost,
                RemoteEndpointDiscovered: self._endpoint,
                RemoteEndpointRemoved: self._endpoint_removed}

    # --- feeding -------------------------------------------------------------------------------
    def _seed_local(self) -> None:
        if not self._seeded and self.participant._node is not None:
            self._seeded = True
            local = self.participant.engine.local_participant_data()
            if local is not None:
                self._put("DCPSParticipant", participant_data(local, local=True))

    def _put(self, topic: str, data: Any) -> None:
        with self._lock:
            self.known[topic][data.key] = data
            readers = [r for r in self.readers if r.topic.name == topic]
        for r in readers:
            r._put(data.key, data, InstanceState.ALIVE)

    def _drop(self, topic: str, key: bytes) -> None:
        with self._lock:
            data = self.known[topic].pop(key, None)
            readers = [r for r in self.readers if r.topic.name == topic]
        if data is not None:
            for r in readers:
                r._put(key, data, InstanceState.NOT_ALIVE_DISPOSED)

    def _participant(self, ev: ParticipantDiscovered | ParticipantUpdated) -> None:
        self._put("DCPSParticipant", participant_data(ev.data))

    def _participant_lost(self, ev: ParticipantLost) -> None:
        self._drop("DCPSParticipant", bytes(ev.guid_prefix) + _PARTICIPANT_ENTITY)

    @staticmethod
    def _topic_of(role: str) -> str:
        return "DCPSPublication" if role == "writer" else "DCPSSubscription"

    def _endpoint(self, ev: RemoteEndpointDiscovered) -> None:
        self._put(self._topic_of(ev.data.role), endpoint_data(ev.data))

    def _endpoint_removed(self, ev: RemoteEndpointRemoved) -> None:
        self._drop(self._topic_of(ev.role), bytes(ev.guid))

    def local_endpoint_added(self, endpoint: Any) -> None:
        role = "writer" if endpoint._MATCHED_LISTENER == "on_publication_matched" else "reader"
        self._seed_local()
        data = EndpointBuiltinTopicData(
            bytes(endpoint.guid), self.participant.guid_prefix + _PARTICIPANT_ENTITY,
            endpoint.topic.name, endpoint.topic.type_name, endpoint.qos, None, True, True)
        self._put(self._topic_of(role), data)

    def local_endpoint_removed(self, endpoint: Any) -> None:
        role = "writer" if endpoint._MATCHED_LISTENER == "on_publication_matched" else "reader"
        self._drop(self._topic_of(role), bytes(endpoint.guid))

    # --- readers ---------------------------------------------------------------------------------
    def create_reader(self, topic: BuiltinTopic[T],
                      listeners: dict[str, Callable[..., Any]] | None) -> BuiltinReader[T]:
        if topic not in BUILTIN_TOPICS:
            raise BadParameterError(f"create_reader: unknown builtin topic {topic!r}")
        self._seed_local()
        reader: BuiltinReader[T] = BuiltinReader(self.participant, topic)
        for name, fn in (listeners or {}).items():
            if name != "on_data_available":
                raise BadParameterError(f"unknown listener {name!r} for a builtin reader; "
                                        "expected on_data_available")
            reader.on_data_available = fn
        with self._lock:
            self.readers.append(reader)
            existing = list(self.known[topic.name].values())
        for data in existing:
            reader._put(data.key, data, InstanceState.ALIVE)
        return reader

    def reader_closed(self, reader: BuiltinReader[Any]) -> None:
        with self._lock:
            if reader in self.readers:
                self.readers.remove(reader)

    def close(self) -> None:
        with self._lock:
            readers, self.readers = self.readers, []
        for r in readers:
            r._participant_closed()


class BuiltinReader(Generic[T]):
    """A reader of one builtin topic (see the module docstring)."""

    def __init__(self, participant: Participant, topic: BuiltinTopic[T]) -> None:
        self.participant = participant
        self.topic = topic
        self.on_data_available: Callable[[BuiltinReader[T]], None] | None = None
        self._wake = Wakeup()  # guards _pending, _views
        self._pending: dict[bytes, Sample[T]] = {}  # KEEP_LAST 1: latest change per instance
        self._views: dict[bytes, ViewState] = {}
        self._seq = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"BuiltinReader({self.topic.name!r})"

    def _put(self, key: bytes, data: T, state: InstanceState) -> None:
        with self._wake.lock:
            self._seq += 1
            view = self._views.setdefault(key, ViewState.NEW)
            info = SampleInfo(None, time.monotonic(), b"", self._seq, state,
                              state == InstanceState.ALIVE, key, view, SampleState.NOT_READ)
            self._pending.pop(key, None)  # re-insert: the dict order is the arrival order
            self._pending[key] = Sample(data, info)
        self._wake.notify()
        if self.on_data_available is not None:
            self.on_data_available(self)

    def _get(self, take: bool, max_samples: int | None) -> list[Sample[T]]:
        with self._wake.lock:
            keys = list(self._pending)[:max_samples]
            out: list[Sample[T]] = []
            for key in keys:
                s = self._pending[key]
                view = self._views.get(key, ViewState.NEW)
                info = SampleInfo(s.info.source_timestamp, s.info.reception_timestamp,
                                  s.info.writer_guid, s.info.sequence_number,
                                  s.info.instance_state, s.info.valid_data, key, view,
                                  s.info.sample_state)
                out.append(Sample(s.data, info))
                self._views[key] = ViewState.NOT_NEW
                if take:
                    del self._pending[key]
                    if s.info.instance_state != InstanceState.ALIVE:
                        self._views.pop(key, None)
                else:
                    s.info.sample_state = SampleState.READ
            return out

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"reader of builtin topic {self.topic.name} is closed")

    def take(self, max_samples: int | None = None, timeout: float = 0.0) -> list[Sample[T]]:
        """Remove and return what changed since the last take; wait up to ``timeout``."""
        return self._wait_get(True, max_samples, timeout)

    def read(self, max_samples: int | None = None, timeout: float = 0.0) -> list[Sample[T]]:
        """Return what changed since the last take, leaving it in the reader (marked READ)."""
        return self._wait_get(False, max_samples, timeout)

    def _wait_get(self, take: bool, max_samples: int | None,
                  timeout: float) -> list[Sample[T]]:
        self._check_open()
        self._wake.wait(time.monotonic() + timeout, self._nothing_yet)
        return self._get(take, max_samples)

    def _nothing_yet(self) -> bool:
        return not self._pending and not self._closed

    async def take_async(self, max_samples: int | None = None) -> list[Sample[T]]:
        """Wait until something changed, then take it ([] once the reader closed)."""
        self._check_open()
        await self._wake.wait_async(math.inf, self._nothing_yet)
        return self._get(True, max_samples)

    def __iter__(self) -> Iterator[Sample[T]]:
        while not self._closed:
            yield from self._wait_get(True, None, 3600.0)

    def __aiter__(self) -> AsyncIterator[Sample[T]]:
        self._check_open()
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Sample[T]]:
        while not self._closed:
            for s in await self.take_async():
                yield s

    def close(self) -> None:
        self.participant.discovery.reader_closed(self)
        self._participant_closed()

    def _participant_closed(self) -> None:
        self._closed = True
        self._wake.notify()
