"""One DDS participant as a sans-IO state machine: SPDP + SEDP + user writers and readers.

The engine feeds it datagrams (``receive(datagram, addr, now)``) and timer ticks
(``handle_timer(now)`` once ``next_timer()`` has passed), and drains what it produced:
``datagrams_to_send(now)`` (bytes and a UDP address each: the core builds, batches and
protects every byte; the engine only calls ``sendto``) and ``events()`` (deliveries, matches,
discovery, statuses). Nothing here reads a clock or touches a socket, so a whole participant
can be driven by a simulated network in tests, exactly as a real one is by the engine.

Protection (DDS Security) plugs in as one :class:`~rtbus.rtps.transforms.Transforms` object
called at message and submessage decode before routing, payload encode before the writer
history, and submessage and message encode on send; without one nothing is called.

Timers: each endpoint's next deadline sits in a heap and is recomputed only for endpoints a
call touched, so neither a datagram nor a tick walks every endpoint.

Routing follows DDSI-RTPS 8.3.7: a submessage addressed (INFO_DST) to another participant is
ignored; SPDP DATA goes to SPDP; SEDP entities to SEDP; ACKNACK/NACK_FRAG to the local
writer they name; DATA/DATA_FRAG/HEARTBEAT/GAP to the local reader they name, or to every
local reader when the reader id is ENTITYID_UNKNOWN (the reader ignores writers it has not
matched). Submessages of the XTypes TypeLookup service endpoints go to
:class:`~rtbus.rtps.type_lookup.TypeLookupService`, which also decides type matches for SEDP
(its ``TypesResolved`` outputs re-run matching). Malformed datagrams are dropped and counted
per reason in ``counters``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ..errors import MalformedError
from ..qos import Qos
from . import wire
from .actions import (
    DeadlineMissed,
    Deliver,
    LivelinessChanged,
    SampleRejected,
    SamplesLost,
    Send,
)
from .builtin_data import DEFAULT_BUILTIN_ENDPOINTS, EndpointData, ParticipantData
from .deadline import OfferedDeadline, RequestedDeadline
from .destination_order import SourceTimestampOrder
from .history import HistoryQos
from .lifespan import WriterLifespan
from .liveliness import MANUAL_BY_TOPIC, OfferedLiveliness
from .matching import TypeCheck
from .ownership import ExclusiveOwnership
from .participant_message import AUTOMATIC_LIVELINESS_UPDATE as PMD_AUTOMATIC
from .participant_message import BUILTIN_ENDPOINTS as PMD_ENDPOINTS
from .participant_message import ENTITY_IDS as PMD_ENTITIES
from .participant_message import MANUAL_LIVELINESS_UPDATE as PMD_MANUAL
from .participant_message import LivelinessAsserted, ParticipantMessageService
from .reader import ReaderConfig, Selection, StatefulReader
from .reader_stages import Stage
from .sedp import EndpointMatched, EndpointUnmatched, Sedp
from .spdp import ParticipantDiscovered, ParticipantLost, ParticipantUpdated, Spdp, SpdpConfig
from .time_based_filter import TimeBasedFilter
from .transforms import Address, Transforms
from .type_lookup import (
    TYPE_LOOKUP_ENDPOINTS,
    TYPE_LOOKUP_ENTITIES,
    TypeLookupService,
    TypesResolved,
)
from .wire import constants as C
from .wire.parameters import ContentFilterProperty
from .writer import StatefulWriter, WouldBlock, WriterConfig, Written

log = logging.getLogger("rtbus.rtps.participant")

_SEDP_ENTITIES = frozenset(
    bytes(e) for e in (wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER,
                       wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER,
                       wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER,
                       wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER))
_TO_READER = (wire.Data, wire.DataFrag, wire.Heartbeat, wire.Gap, wire.HeartbeatFrag)
BuiltinHandler = Callable[[Any, Any, float, "int | None"], None]
# s: in batching mode (see datagrams_to_send), a message to an address this soon after the
# previous datagram to it waits to share a datagram with the next ones
SEND_BATCH_WINDOW = 0.0002
_RTPS_HEADER = 20
_DATA_KINDS = (wire.Data, wire.DataFrag)


def _is_multicast(loc: wire.Locator) -> bool:
    return 224 <= int(loc.host.split(".")[0]) <= 239 if loc.kind == 1 else False


def history_of(qos: Qos) -> HistoryQos:
    """The HistoryQos (history + resource limits) a Qos asks for."""
    hist = qos.history
    max_samples, max_instances, per_instance = qos.resource_limits
    if hist == "keep_all" or (isinstance(hist, tuple) and hist[0] == "keep_all"):
        return HistoryQos("keep_all", 1, max_samples, max_instances, per_instance)
    depth = hist[1] if isinstance(hist, tuple) else 1
    return HistoryQos("keep_last", depth, max_samples, max_instances, per_instance)


def _durability(qos: Qos) -> str:
    return "volatile" if qos.durability == "volatile" else "transient_local"


@dataclass
class LocalEndpoint:
    """A user writer or reader of this participant with its announced discovery data."""

    guid: wire.Guid
    data: EndpointData
    core: Any  # StatefulWriter | StatefulReader
    matched: set[bytes] = field(default_factory=set)
    # the core's timer bookkeeping (see ParticipantCore.next_timer)
    timer_at: float | None = None
    touched: bool = False
    removed: bool = False
    delivered_mark: int = -1  # ParticipantCore._mark when a Delivered was last queued


@dataclass(frozen=True, slots=True)
class Delivered:
    """Samples entered the history of local reader ``reader_guid``: wake its takers."""

    reader_guid: wire.Guid


@dataclass(frozen=True, slots=True)
class ReaderStatusChange:
    """A SAMPLE_LOST (:class:`SamplesLost`) or SAMPLE_REJECTED (:class:`SampleRejected`)
    input for local reader ``reader_guid``."""

    reader_guid: wire.Guid
    change: Any


class ParticipantCore:
    """SPDP, SEDP and the user endpoints of one participant (see the module docstring)."""

    def __init__(self, guid_prefix: bytes, domain_id: int, *,
                 metatraffic_unicast: tuple[wire.Locator, ...],
                 default_unicast: tuple[wire.Locator, ...],
                 metatraffic_multicast: tuple[wire.Locator, ...] = (),
                 default_multicast: tuple[wire.Locator, ...] = (),
                 announce_locators: tuple[wire.Locator, ...] | None = None,
                 lease_duration: float = 10.0, name: str | None = None,
                 spdp_config: SpdpConfig | None = None, type_check: TypeCheck | None = None,
                 now: float = 0.0, max_message_size: int = wire.DEFAULT_MAX_MESSAGE_SIZE,
                 type_lookup: bool = True,
                 properties: tuple[tuple[str, str], ...] = (),
                 transforms: Transforms | None = None, wall_offset: float = 0.0) -> None:
        """``type_lookup`` False: no TypeLookup service, and no TypeInformation is announced
        (peers then match our endpoints by type name). ``properties``: name/value pairs
        announced in SPDP (the engine sends host, process name and pid, as Cyclone does).
        ``transforms``: the protection applied to what goes in and out (None: none).
        ``wall_offset``: wall-clock time minus the ``now`` the driver passes in (seconds), to
        judge received source timestamps (LIFESPAN, :mod:`.lifespan`)."""
        self.transforms = transforms
        self.wall_offset = wall_offset
        self.prefix = wire.GuidPrefix(guid_prefix)
        self.domain_id = domain_id
        self.type_lookup = TypeLookupService(bytes(self.prefix)) if type_lookup else None
        if type_check is None and self.type_lookup is not None:
            type_check = self.type_lookup.check
        self.pmd = ParticipantMessageService(bytes(self.prefix))  # liveliness (WLP)
        builtin = DEFAULT_BUILTIN_ENDPOINTS | PMD_ENDPOINTS \
            | (TYPE_LOOKUP_ENDPOINTS if type_lookup else 0)
        self.local = ParticipantData(
            guid_prefix=bytes(self.prefix), domain_id=domain_id, lease_duration=lease_duration,
            metatraffic_unicast=metatraffic_unicast, metatraffic_multicast=metatraffic_multicast,
            default_unicast=default_unicast, default_multicast=default_multicast,
            entity_name=name, builtin_endpoints=builtin, properties=properties)
        if announce_locators is not None:  # initial peers may repeat the multicast locator
            announce_locators = tuple(dict.fromkeys(announce_locators))
        self.spdp = Spdp(self.local, now, announce_locators=announce_locators,
                         config=spdp_config)
        self.sedp = Sedp(bytes(self.prefix), type_check=type_check,
                         local_locators=default_unicast)
        self.writers: dict[wire.EntityId, LocalEndpoint] = {}
        self.readers: dict[wire.EntityId, LocalEndpoint] = {}
        # builtin services by the entity ids they own (see register_builtin)
        self._builtin: dict[bytes, BuiltinHandler] = {}
        self.register_builtin((wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER,), self._route_spdp)
        if self.type_lookup is not None:
            service = self.type_lookup
            self.register_builtin(TYPE_LOOKUP_ENTITIES, lambda src, sub, now, ts: self._perform(
                service.handle_submessage(src, sub, now, ts)))
        self.register_builtin(_SEDP_ENTITIES, lambda src, sub, now, ts: self._perform(
            self.sedp.handle_submessage(src, sub, now, ts)))
        self.register_builtin(PMD_ENTITIES, lambda src, sub, now, ts: self._pmd(
            self.pmd.handle_submessage(src, sub, now, ts), now))
        self.counters: Counter[str] = Counter()
        self.max_message_size = max_message_size
        self._header = wire.encode_header(bytes(self.prefix))  # every datagram starts so
        # messages built, with whether each restates its whole receiver context (INFO_DST,
        # and INFO_TS before any DATA) so it may follow another in one datagram
        self._out: list[tuple[bytes, Address, bool]] = []
        self._batches: dict[Address, bytearray] = {}  # held in batching mode, per address
        self._last_sent: dict[Address, float] = {}
        #: a batch waits for :meth:`datagrams_to_send` without ``batch`` (an attribute, not a
        #: property: the engine reads it after every write from an application thread)
        self.holding = False
        self._addresses: dict[wire.Locator, Address] = {}  # locator -> (host, port), cached
        #: the address the datagram being routed came from (None while routing locally)
        self.source: Address | None = None
        # endpoint timers: a heap of (deadline, push order, endpoint), stale entries skipped
        self._timer_heap: list[tuple[float, int, LocalEndpoint]] = []
        self._timer_order = itertools.count()
        self._touched: list[LocalEndpoint] = []
        self._events: list[Any] = []
        # submessages between this participant's own writers and readers: routed in memory,
        # never encoded (see _send and _route_local)
        self._local: deque[Sequence[Any]] = deque()
        self._routing_local = False
        self._depth = 0  # nesting of _perform
        self._builtin_dirty = True  # see next_timer
        self._builtin_timer: float | None = None
        self._next_key = 1
        self._now = now  # the latest time the driver gave us, for actions triggered by events
        self._mark = 0  # counts datagrams and drains of events() (LocalEndpoint.delivered_mark)

    # --- what the driver drains --------------------------------------------------------------
    def datagrams_to_send(self, now: float = 0.0,
                          batch: bool = False) -> list[tuple[bytes, Address]]:
        """What to send now: (datagram, address) pairs, each protected by the message
        transform.

        ``batch`` True (the engine asks so after a call from an application thread): a small
        message to an address that got a datagram less than ``SEND_BATCH_WINDOW`` ago is held
        and the next ones to that address join it, header stripped, up to
        ``max_message_size``; a burst of writes then shares datagrams while a lone write
        leaves at once (only batching calls count as "sent recently": the loop's own
        heartbeats and acknowledgements never make a write wait). Only messages that restate
        their receiver context are joined, so the batch means what the messages meant.
        :attr:`holding` says a batch waits; the next call without ``batch`` releases it (the
        engine makes one from its loop at once).
        """
        out = self._out
        if not out and (batch or not self._batches):
            return []
        self._out = []
        if batch:
            if len(self._last_sent) > 256:
                self._last_sent.clear()  # only "recently" matters: forget the long tail
            sent = self._batched(out, now)
        else:
            sent = []
            if self._batches:  # released: a batching send, so it counts as "sent recently"
                sent = [(bytes(b), addr) for addr, b in self._batches.items()]
                for addr in self._batches:
                    self._last_sent[addr] = now
                self._batches.clear()
            sent += [(d, addr) for d, addr, _ in out]
        self.holding = bool(self._batches)
        tf = self.transforms
        if tf is not None:
            sent = [(tf.encode_message(d, addr), addr) for d, addr in sent]
        return sent


    def _batched(self, out: list[tuple[bytes, Address, bool]],
                 now: float) -> list[tuple[bytes, Address]]:
        sent: list[tuple[bytes, Address]] = []
        batches, last = self._batches, self._last_sent
        limit = self.max_message_size
        for datagram, addr, joinable in out:
            held = batches.get(addr)
            if not joinable or len(datagram) > limit // 2:  # keep order, send as it is
                if held is not None:
                    del batches[addr]
                    sent.append((bytes(held), addr))
                sent.append((datagram, addr))
                last[addr] = now
            elif held is not None:
                if len(held) + len(datagram) - _RTPS_HEADER <= limit:
                    held += memoryview(datagram)[_RTPS_HEADER:]
                else:
                    sent.append((bytes(held), addr))
                    last[addr] = now
                    batches[addr] = bytearray(datagram)
            else:
                previous = last.get(addr)
                last[addr] = now
                if previous is None or now - previous > SEND_BATCH_WINDOW:
                    sent.append((datagram, addr))
                else:
                    batches[addr] = bytearray(datagram)
        return sent

    def events(self) -> list[Any]:
        out, self._events = self._events, []
        self._mark += 1  # a reader's next delivery queues a Delivered again
        return out

    # --- local endpoints ---------------------------------------------------------------------
    def _entity_id(self, kind: int) -> wire.EntityId:
        key = self._next_key
        self._next_key += 1
        return wire.EntityId(key.to_bytes(3, "big") + bytes([kind]))

    def add_writer(self, topic_name: str, type_name: str, qos: Qos, keyed: bool, now: float,
                   type_information: bytes | None = None,
                   fragment_size: int | None = None, type_model: Any = None) -> wire.Guid:
        """``type_model``: the topic type's model; announced as PID_TYPE_INFORMATION and served
        by the TypeLookup service (unless ``type_information`` is given explicitly)."""
        self._now = now
        type_information = self._type_information(type_information, type_model)
        eid = self._entity_id(C.ENTITYKIND_WRITER_WITH_KEY if keyed else C.ENTITYKIND_WRITER_NO_KEY)
        guid = wire.Guid(self.prefix, eid)
        cfg = WriterConfig(reliable=qos.reliability == "reliable",
                           durability=_durability(qos),  # type: ignore[arg-type]
                           history=history_of(qos),
                           **({"fragment_size": fragment_size} if fragment_size else {}))
        data = EndpointData(role="writer", endpoint_guid=bytes(guid), topic_name=topic_name,
                            type_name=type_name, qos=qos, participant_guid=self._participant_guid,
                            type_information=type_information)
        offered = None if math.isinf(qos.deadline) else OfferedDeadline(guid, qos.deadline)
        lease = None if qos.liveliness == "automatic" or math.isinf(qos.liveliness_lease) \
            else OfferedLiveliness(guid, qos.liveliness_lease, now)
        expiry = None if math.isinf(qos.lifespan) else WriterLifespan(qos.lifespan)
        self.writers[eid] = ep = LocalEndpoint(
            guid, data, StatefulWriter(guid, cfg, offered, lease, expiry))
        self._touch(ep)
        self._builtin_dirty = True
        self._perform(self.sedp.add_local(data, now))
        self._flush_type_requests(now)
        if qos.liveliness == "automatic" and not math.isinf(qos.liveliness_lease):
            self._liveliness_changed(now)
            self._perform(self.pmd.assert_liveliness(PMD_AUTOMATIC, now))  # alive from now
        return guid

    def add_reader(self, topic_name: str, type_name: str, qos: Qos, keyed: bool, now: float,
                   type_information: bytes | None = None,
                   key_hash_of: Callable[[bytes | memoryview], bytes | None] | None = None,
                   key_hash_of_key: Callable[[bytes | memoryview], bytes | None] | None = None,
                   type_model: Any = None, stages: Sequence[Stage] = (),
                   content_filter: ContentFilterProperty | None = None) -> wire.Guid:
        """``stages``: the reader cache's pipeline (QoS policies that decide per sample and
        keep their own timers), run in order after key extraction. The reader's QoS puts its
        own in front: EXCLUSIVE ownership (:mod:`.ownership`), destination order by source
        timestamp (:mod:`.destination_order`), a time-based filter (:mod:`.time_based_filter`),
        then a finite deadline (:mod:`.deadline`). The writers' liveliness
        (:mod:`.liveliness`) is tracked beside the stages, from the writer streams.
        ``content_filter``: the reader's filter as SEDP announces it
        (PID_CONTENT_FILTER_PROPERTY); the filtering is a stage."""
        self._now = now
        type_information = self._type_information(type_information, type_model)
        eid = self._entity_id(C.ENTITYKIND_READER_WITH_KEY if keyed else C.ENTITYKIND_READER_NO_KEY)
        guid = wire.Guid(self.prefix, eid)
        cfg = ReaderConfig(reliable=qos.reliability == "reliable",
                           durability=_durability(qos),  # type: ignore[arg-type]
                           history=history_of(qos))
        tf = self.transforms
        decode = None if tf is None else partial(tf.decode_payload, guid)
        own = ExclusiveOwnership() if qos.ownership == "exclusive" else None
        policy_stages: list[Stage] = []
        if own is not None:  # arbitration first: a non-owner's change goes no further
            policy_stages.append(own)
        if qos.destination_order == "by_source_timestamp":
            policy_stages.append(SourceTimestampOrder())
        if qos.time_based_filter > 0:
            policy_stages.append(TimeBasedFilter(qos.time_based_filter))
        if not math.isinf(qos.deadline):  # renewed by what passed the stages before it
            policy_stages.append(RequestedDeadline(qos.deadline, own))
        stages = (*policy_stages, *stages)
        core = StatefulReader(guid, cfg, key_hash_of=key_hash_of, key_hash_of_key=key_hash_of_key,
                              stages=tuple(stages), decode_payload=decode, liveliness=True)
        core.cache.wall_offset = self.wall_offset
        core.cache.autopurge_nowriter = qos.autopurge_nowriter_samples_delay
        core.cache.autopurge_disposed = qos.autopurge_disposed_samples_delay
        data = EndpointData(role="reader", endpoint_guid=bytes(guid), topic_name=topic_name,
                            type_name=type_name, qos=qos, participant_guid=self._participant_guid,
                            type_information=type_information,
                            content_filter=content_filter)
        self.readers[eid] = ep = LocalEndpoint(guid, data, core)
        self._touch(ep)
        self._builtin_dirty = True
        self._perform(self.sedp.add_local(data, now))
        self._flush_type_requests(now)
        return guid

    def _type_information(self, given: bytes | None, model: Any) -> bytes | None:
        if model is None or self.type_lookup is None:
            return given
        served = self.type_lookup.add_local_type(model)
        return given if given is not None else served

    def _flush_type_requests(self, now: float) -> None:
        """Send the TypeLookup requests matching queued (remote types we must fetch)."""
        if self.type_lookup is not None and self.type_lookup.unsent:
            out = self.type_lookup.flush(now)
            if out:
                self._builtin_dirty = True
                self._perform(out)

    def set_writer_qos(self, guid: wire.Guid, qos: Qos, now: float) -> None:
        """Re-announce local writer ``guid`` with ``qos`` (a policy that may change while it
        runs: its ownership strength). Matched readers, here and remote, see the change
        through SEDP, as they would another vendor's."""
        ep = self.writers.get(guid.entity_id)
        if ep is None:
            raise KeyError(f"no local writer {guid!r}")
        ep.data = replace(ep.data, qos=qos)
        self._builtin_dirty = True
        self._perform(self.sedp.add_local(ep.data, now))

    def remove_endpoint(self, guid: wire.Guid, now: float) -> None:
        ep = self.writers.pop(guid.entity_id, None) or self.readers.pop(guid.entity_id, None)
        if ep is not None:
            ep.removed = True
            self._builtin_dirty = True
            self._perform(self.sedp.remove_local(bytes(guid), now))
            if ep.data.role == "writer":
                self._liveliness_changed(now)

    @property
    def _participant_guid(self) -> bytes:
        return bytes(wire.Guid(self.prefix, wire.ENTITYID_PARTICIPANT))

    # --- user data ---------------------------------------------------------------------------
    def write(self, writer: wire.Guid, payload: bytes | None, key_hash: bytes | None,
              status_info: int, timestamp: int | None, now: float) -> Written | WouldBlock:
        self._now = now
        ep = self.writers[writer.entity_id]
        tf = self.transforms
        if tf is not None and payload is not None:
            payload = tf.encode_payload(writer, payload)
        if not ep.touched:
            ep.touched = True
            self._touched.append(ep)
        result = ep.core.write(payload, key_hash, status_info, timestamp, now)
        if isinstance(result, Written):
            self._perform(result.actions)
        return result  # type: ignore[no-any-return]

    def take(self, reader: wire.Guid, max_samples: int | None, now: float,
             select: Selection | None = None) -> list[Any]:
        self._now = now
        ep = self.readers[reader.entity_id]
        self._touch(ep)
        samples, actions = ep.core.take(max_samples, now, select)
        self._perform(actions, ep)  # a held stream it resumed may deliver: wake takers
        return samples  # type: ignore[no-any-return]

    def read(self, reader: wire.Guid, max_samples: int | None,
             select: Selection | None = None) -> list[Any]:
        return self.readers[reader.entity_id].core.read(max_samples, select)  # type: ignore[no-any-return]

    def has_samples(self, reader: wire.Guid, select: Selection | None = None) -> bool:
        return bool(self.readers[reader.entity_id].core.has_samples(select))

    def has_instance(self, reader: wire.Guid, key_hash: bytes | None) -> bool:
        return self.readers[reader.entity_id].core.instances.get(key_hash) is not None

    def acked_by_all(self, writer: wire.Guid) -> bool:
        ep = self.writers[writer.entity_id]
        return bool(ep.core.is_acked_by_all(ep.core.last_seq))

    # --- input -------------------------------------------------------------------------------
    def receive(self, datagram: bytes, addr: Address | None, now: float) -> None:
        """Digest one datagram that came from ``addr`` (None: unknown)."""
        self._now = now
        self._mark += 1  # at most one Delivered per reader and datagram
        tf = self.transforms
        if tf is not None:
            plain = tf.decode_message(datagram, addr)
            if plain is None:
                self.counters["dropped_by_transform_message"] += 1
                return
            datagram = plain
        try:
            msg = wire.parse_message(datagram)
        except MalformedError as exc:
            self.counters["malformed_" + exc.reason] += 1
            return
        if msg.guid_prefix == self.prefix:
            return  # our own multicast, looped back
        for reason in msg.dropped:
            self.counters["dropped_" + reason] += 1
        self.source = addr
        refreshed: set[bytes] = set()
        # a writer's HEARTBEATs in one datagram (a batch of writes carries one per
        # ``heartbeat_every`` DATA) are answered once: each is held until the end of the
        # datagram, where only the last from that writer to that reader is routed -- as if it
        # had come a moment later, after the DATA it announces (fewer false NACKs, one
        # ACKNACK per datagram instead of one per heartbeat)
        held: dict[tuple, tuple[Any, int | None]] | None = None
        try:
            for rec in msg.received:
                if rec.dst_prefix != wire.GUIDPREFIX_UNKNOWN and rec.dst_prefix != self.prefix:
                    continue
                src = rec.src_prefix
                sub: Any = rec.submessage
                if tf is not None:
                    sub = tf.decode_submessage(bytes(src), sub)
                    if sub is None:
                        self.counters["dropped_by_transform_submessage"] += 1
                        continue
                if src not in refreshed:
                    self.spdp.refresh(src, now)
                    refreshed.add(src)
                if type(sub) is wire.Heartbeat and not sub.liveliness:
                    if held is None:
                        held = {}
                    key = (src, sub.writer_id, sub.reader_id)
                    earlier = held.get(key)
                    if earlier is not None:
                        self.counters["heartbeat_superseded"] += 1
                        if not earlier[0].final and sub.final:  # it asked for an answer
                            self._route_checked(src, earlier[0], now, earlier[1])
                    held[key] = (sub, rec.timestamp)
                    continue
                self._route_checked(src, sub, now, rec.timestamp)
            if held is not None:
                for (src, _, _), (sub, timestamp) in held.items():
                    self._route_checked(src, sub, now, timestamp)
        finally:
            self.source = None
        self._flush_type_requests(now)

    def _route_checked(self, src: Any, sub: Any, now: float, timestamp: int | None) -> None:
        try:
            self._route(src, sub, now, timestamp)
        except MalformedError as exc:
            self.counters["malformed_" + exc.reason] += 1

    def register_builtin(self, entity_ids: Any, handler: BuiltinHandler) -> None:
        """Route submessages whose writer or reader is one of ``entity_ids`` to ``handler``
        (``handler(src_prefix, submessage, now, timestamp)``) instead of the user endpoints:
        how SPDP, SEDP and TypeLookup plug in, and how further builtin endpoints (secure
        discovery, participant messages) will."""
        for eid in entity_ids:
            key = bytes(eid)
            if key in self._builtin:
                raise ValueError(f"builtin entity {key.hex()} is routed already")
            self._builtin[key] = handler

    def _route_spdp(self, src: Any, sub: Any, now: float, timestamp: int | None) -> None:
        if type(sub) is wire.Data:
            self._spdp(self.spdp.handle_data(src, sub, now), now)

    def _route(self, src: Any, sub: Any, now: float, timestamp: int | None) -> None:
        cls = type(sub)
        writer_id = getattr(sub, "writer_id", None)
        if writer_id is None:
            return
        reader_id = sub.reader_id
        # user endpoints on both ends (entity kind's top bits 00; a reader may be "unknown"):
        # the common case goes straight to the endpoints, past the builtin services
        if not writer_id[3] & 0xC0 and (not reader_id[3] & 0xC0 or not any(reader_id)):
            self._route_user(cls, src, sub, now, timestamp)
            return
        self._builtin_dirty = True
        handler = self._builtin.get(bytes(writer_id)) or self._builtin.get(bytes(reader_id))
        if handler is not None:
            handler(src, sub, now, timestamp)
            return
        self._route_user(cls, src, sub, now, timestamp)

    def _route_user(self, cls: type, src: Any, sub: Any, now: float,
                    timestamp: int | None) -> None:
        if cls is wire.AckNack or cls is wire.NackFrag:
            ep = self.writers.get(sub.writer_id)
            if ep is not None:
                self._touch(ep)
                handler = ep.core.handle_acknack if cls is wire.AckNack else ep.core.handle_nackfrag
                self._perform(handler(src, sub, now))
            return
        if cls not in _TO_READER:
            return
        if cls is wire.Data:  # the hot path: one DATA, one reader, usually one Deliver
            ep = self.readers.get(sub.reader_id)
            if ep is not None:
                if not ep.touched:
                    ep.touched = True
                    self._touched.append(ep)
                actions = ep.core.handle_data(src, sub, now, timestamp)
                if len(actions) == 1 and type(actions[0]) is Deliver and not self._local:
                    if ep.delivered_mark != self._mark:
                        ep.delivered_mark = self._mark
                        self._events.append(Delivered(ep.guid))
                elif actions:
                    self._perform(actions, ep)
                return
        if sub.reader_id == wire.ENTITYID_UNKNOWN:
            targets = list(self.readers.values())
        else:
            one = self.readers.get(sub.reader_id)
            targets = [one] if one is not None else []
        for ep in targets:
            self._touch(ep)
            self._perform(ep.core.handle_submessage(src, sub, now, timestamp), ep)

    # --- timers ------------------------------------------------------------------------------
    def _touch(self, ep: LocalEndpoint) -> None:
        """``ep``'s deadline may have changed: recompute it at the next :meth:`next_timer`."""
        if not ep.touched:
            ep.touched = True
            self._touched.append(ep)

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` is next due (None: never).

        Asked after every datagram, so nothing here walks every endpoint: only the endpoints
        touched since the last call recompute their deadline (into the heap), and the builtin
        services' part is kept until something could have made it earlier
        (``_builtin_dirty``): traffic to or from them, a timer, endpoints coming and going.
        User traffic refreshes leases, which only postpones them.
        """
        if self._builtin_dirty:
            times = [self.spdp.next_timer(), self.sedp.next_timer(), self.pmd.next_timer()]
            if self.type_lookup is not None:
                times.append(self.type_lookup.next_timer())
            present = [t for t in times if t is not None]
            self._builtin_timer = min(present) if present else None
            self._builtin_dirty = False
        heap = self._timer_heap
        if self._touched:
            for ep in self._touched:
                ep.touched = False
                t = None if ep.removed else ep.core.next_timer()
                if t != ep.timer_at:
                    ep.timer_at = t
                    if t is not None:
                        heapq.heappush(heap, (t, next(self._timer_order), ep))
            self._touched.clear()
            if len(heap) > 64 + 4 * (len(self.writers) + len(self.readers)):
                heap[:] = [e for e in heap if e[2].timer_at == e[0] and not e[2].removed]
                heapq.heapify(heap)
        while heap and (heap[0][2].removed or heap[0][2].timer_at != heap[0][0]):
            heapq.heappop(heap)  # stale: that endpoint's deadline moved or it is gone
        best = self._builtin_timer
        if heap and (best is None or heap[0][0] < best):
            best = heap[0][0]
        return best

    def handle_timer(self, now: float) -> None:
        """Run what is due at ``now``: the builtin services, and the endpoints whose
        deadline has passed (writers before readers, as announced traffic comes first)."""
        self._now = now
        self._builtin_dirty = True
        self._spdp(self.spdp.handle_timer(now), now)
        self._perform(self.sedp.handle_timer(now))
        self._pmd(self.pmd.handle_timer(now), now)
        if self.type_lookup is not None:
            self._perform(self.type_lookup.handle_timer(now))
        self.next_timer()  # fold in what was touched, so the heap is exact
        heap = self._timer_heap
        due: list[LocalEndpoint] = []
        while heap and heap[0][0] <= now:
            t, _, ep = heapq.heappop(heap)
            if ep.timer_at == t and not ep.removed:
                ep.timer_at = None
                due.append(ep)
        due.sort(key=lambda ep: ep.data.role != "writer")
        for ep in due:
            self._touch(ep)
            if ep.data.role == "writer":
                self._perform(ep.core.handle_timer(now))
            else:
                self._perform(ep.core.handle_timer(now), ep)
        self._flush_type_requests(now)

    def shutdown(self, now: float) -> None:
        """Announce our departure (SPDP dispose) and drop local endpoints."""
        self._builtin_dirty = True
        for guid in [ep.guid for ep in (*self.writers.values(), *self.readers.values())]:
            self.remove_endpoint(guid, now)
        self._perform(self.spdp.shutdown())

    # --- outputs -----------------------------------------------------------------------------
    def _spdp(self, outputs: list[Any], now: float) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._send(out)
                continue
            self._events.append(out)
            if isinstance(out, (ParticipantDiscovered, ParticipantUpdated)):
                if self.type_lookup is not None:  # before SEDP: matching may need to ask it
                    self._perform(self.type_lookup.participant_discovered(out.data, now))
                self._perform(self.sedp.participant_discovered(out.data, now))
                self._perform(self.pmd.participant_discovered(out.data, now))
            elif isinstance(out, ParticipantLost):
                if self.type_lookup is not None:
                    self._perform(self.type_lookup.participant_lost(out.guid_prefix, now))
                self._perform(self.pmd.participant_lost(out.guid_prefix, now))
                self._perform(self.sedp.participant_lost(out.guid_prefix, now))

    def _pmd(self, outputs: list[Any], now: float) -> None:
        """What the participant-message service produced: liveliness assertions renew the
        leases the local readers keep of that participant's writers."""
        for out in outputs:
            if type(out) is LivelinessAsserted:
                for ep in self.readers.values():
                    actions = ep.core.participant_asserted(out.guid_prefix, out.kind, now)
                    if actions:
                        self._touch(ep)
                        self._perform(actions, ep)
            else:
                self._perform([out])

    def _liveliness_changed(self, now: float) -> None:
        """A writer came or went: the participant asserts AUTOMATIC liveliness at 80% of
        its AUTOMATIC writers' shortest finite lease (as Cyclone does), none without one."""
        leases = [ep.data.qos.liveliness_lease for ep in self.writers.values()
                  if ep.data.qos.liveliness == "automatic"
                  and not math.isinf(ep.data.qos.liveliness_lease)]
        self._builtin_dirty = True
        self.pmd.set_automatic_interval(0.8 * min(leases) if leases else None, now)

    def assert_liveliness(self, now: float) -> None:
        """The application asserts this participant's liveliness: its MANUAL_BY_PARTICIPANT
        writers are alive for another lease here and at every reader."""
        self._now = now
        for ep in self.writers.values():
            if ep.data.qos.liveliness == "manual_by_participant":
                ep.core.assert_liveliness(now, heartbeat=False)
                self._touch(ep)
        self._builtin_dirty = True
        self._perform(self.pmd.assert_liveliness(PMD_MANUAL, now))

    def assert_writer_liveliness(self, guid: wire.Guid, now: float) -> None:
        """The application asserts local writer ``guid``'s liveliness: a MANUAL_BY_TOPIC
        writer tells its readers with a liveliness HEARTBEAT, a MANUAL_BY_PARTICIPANT one
        asserts its participant (DDS: that asserts every such writer of it); an AUTOMATIC
        writer needs nothing (the participant asserts for it)."""
        ep = self.writers.get(guid.entity_id)
        if ep is None:
            raise KeyError(f"no local writer {guid!r}")
        kind = ep.data.qos.liveliness
        if kind == "manual_by_participant":
            self.assert_liveliness(now)
        elif kind == MANUAL_BY_TOPIC:
            self._now = now
            self._touch(ep)
            self._perform(ep.core.assert_liveliness(now, heartbeat=True), ep)

    def _perform(self, outputs: list[Any], ep: LocalEndpoint | None = None) -> None:
        """Carry out ``outputs``; once the outermost call is done, route what our own
        endpoints sent each other (so a batch of matches completes before its traffic)."""
        self._depth += 1
        try:
            self._carry_out(outputs, ep)
        finally:
            self._depth -= 1
        if self._local and not self._depth and not self._routing_local:
            self._route_local()

    def _route_local(self) -> None:
        """Hand the submessages our writers sent our readers (and back) to their endpoints,
        in order, as :meth:`receive` would have after a round trip through a socket: same
        protocol (so reliability, KEEP_ALL push-back, durability and GAPs behave as with a
        remote peer), no encoding and no datagram. Answers they cause join the queue."""
        self._routing_local = True
        try:
            while self._local:
                timestamp = None
                for sub in self._local.popleft():
                    cls = type(sub)
                    if cls is wire.InfoTs:
                        timestamp = sub.timestamp
                    elif cls is not wire.InfoDst:
                        self._route(self.prefix, sub, self._now, timestamp)
        finally:
            self._routing_local = False

    def _carry_out(self, outputs: list[Any], ep: LocalEndpoint | None = None) -> None:
        for out in outputs:
            cls = type(out)
            if cls is Send:
                self._send(out)
            elif cls is Deliver:
                # one Delivered per reader until the events are drained: it wakes the
                # reader's takers, who then take everything there is
                if ep is not None and ep.delivered_mark != self._mark:
                    ep.delivered_mark = self._mark
                    self._events.append(Delivered(ep.guid))
            elif cls is EndpointMatched:
                self._on_matched(out)
            elif cls is EndpointUnmatched:
                self._on_unmatched(out)
            elif cls is TypesResolved:
                self._builtin_dirty = True
                self._perform(self.sedp.rematch_all(self._now))
            elif (cls is SamplesLost or cls is SampleRejected or cls is DeadlineMissed
                  or cls is LivelinessChanged) and ep is not None:
                self._events.append(ReaderStatusChange(ep.guid, out))
            else:
                self._events.append(out)

    def _on_matched(self, ev: EndpointMatched) -> None:
        local = wire.Guid(ev.local_guid)
        remote = wire.Guid(ev.remote.endpoint_guid)
        reliable = ev.remote.qos.reliability == "reliable"
        # unicast where the peer gave one: multicast would reach every participant on the host
        unicast = tuple(loc for loc in ev.locators if not _is_multicast(loc))
        locators = unicast or ev.locators
        if ev.remote.endpoint_guid in self._matched_endpoint(local):
            # a re-announced endpoint (its QoS changed, still compatible): re-adding would
            # reset the proxy and make the writer GAP what is still in flight to that reader,
            # so only the reader's view of the writer's QoS is updated
            if local.entity_id in self.readers:
                ep = self.readers[local.entity_id]
                self._touch(ep)  # its stages may time the writer differently now
                self._perform(ep.core.update_writer(remote, ev.remote.qos, self._now), ep)
            return
        if local.entity_id in self.writers:
            ep = self.writers[local.entity_id]
            self._touch(ep)
            self._perform(ep.core.add_reader(remote, locators, reliable=reliable,
                                             expects_inline_qos=ev.remote.expects_inline_qos,
                                             durability=_durability(ev.remote.qos),
                                             now=self._now))
        elif local.entity_id in self.readers:
            ep = self.readers[local.entity_id]
            self._touch(ep)
            self._perform(ep.core.add_writer(remote, locators, reliable=reliable,
                                             now=self._now, qos=ev.remote.qos), ep)
        else:
            return
        ep.matched.add(ev.remote.endpoint_guid)
        self._events.append(ev)

    def _matched_endpoint(self, local: wire.Guid) -> set[bytes]:
        ep = self.writers.get(local.entity_id) or self.readers.get(local.entity_id)
        return ep.matched if ep is not None else set()

    def _on_unmatched(self, ev: EndpointUnmatched) -> None:
        local_eid = wire.Guid(ev.local_guid).entity_id
        remote = wire.Guid(ev.remote_guid)
        if local_eid in self.writers:
            ep = self.writers[local_eid]
            self._touch(ep)
            self._perform(ep.core.remove_reader(remote))
        elif local_eid in self.readers:
            ep = self.readers[local_eid]
            self._touch(ep)
            self._perform(ep.core.remove_writer(remote, self._now), ep)
        else:
            return
        ep.matched.discard(ev.remote_guid)
        self._events.append(ev)

    def _send(self, send: Send) -> None:
        dest = send.dest_prefix
        subs: Sequence[Any] = send.submessages
        if dest == self.prefix:  # a local writer/reader pair
            self._local.append(subs)
            self.counters["local_submessages"] += len(subs)
            return
        tf = self.transforms
        if tf is not None:
            subs = tf.encode_submessages(None if dest is None else bytes(dest), subs)
            if not subs:
                self.counters["dropped_by_transform_send"] += 1
                return
        one = None
        if dest is not None:  # the common case of a plain write, built at once
            one = wire.encode_data_message(self._header, dest, subs, self.max_message_size)
        if one is not None:
            datagrams = [one]
            joinable = True  # INFO_DST, then INFO_TS with a time before the DATA
        else:
            builder = wire.MessageBuilder(bytes(self.prefix), max_size=self.max_message_size)
            if dest is not None:
                builder.add(wire.InfoDst(dest))
            builder.add_all(subs)
            datagrams = builder.datagrams()
            # a message may join another only when it restates its whole context: INFO_DST
            # first, and INFO_TS with a time before any data rather than the previous one's
            # (a send the builder split does not repeat the INFO_TS: sent as it is)
            joinable = dest is not None and len(datagrams) == 1 and (
                (type(subs[0]) is wire.InfoTs and subs[0].timestamp is not None)
                or not any(type(sub) in _DATA_KINDS for sub in subs))
        for loc in send.locators:
            if not 0 < loc.port <= 0xFFFF:  # a peer may announce any uint32 (hostile or wrong)
                self.counters["bad_locator_port"] += 1
                continue
            addr = self._addresses.get(loc)
            if addr is None:
                if len(self._addresses) > 1024:
                    self._addresses.clear()  # peers' locators come and go: stay bounded
                addr = self._addresses[loc] = (loc.host, loc.port)
            for d in datagrams:
                self._out.append((d, addr, joinable))
