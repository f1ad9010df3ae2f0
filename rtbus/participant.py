"""The public entry point: a DDS domain participant, its topics, writers and readers.

Two ways to use it, same objects:

    with rtbus.Participant(domain_id=0) as dp:          # plain code: the engine runs on
        ...                                             # rtbus's background loop thread

    async with rtbus.Participant(domain_id=0) as dp:    # asyncio: the engine runs on the
        ...                                             # caller's loop, no thread hops

The protocol core is guarded by a lock: writes and takes from application threads run the
core call in that thread (no hop), and a thread waiting in a take may receive there too.
Sockets, the timer and asyncio objects live on the engine loop, where events (matches,
statuses, deliveries to a reader with a listener, async taker or condition) go through one
event type -> handler table; a delivery to a plain reader and an acknowledgement are handled
in the thread that caused them. Encoding and decoding happen in the caller's thread.

A closed participant (and its writers and readers) raises :class:`rtbus.errors.ClosedError`
for anything but ``close()`` and ``counters()``; a take or ``async for`` that was waiting
when it closed ends quietly (an empty result, the end of the iteration).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, TypeVar, overload

from .builtin_topics import BuiltinReader, BuiltinTopic, DiscoveryCache
from .engine.context import EngineContext
from .engine.loop import background_loop
from .engine.node import Node
from .errors import BadParameterError, ClosedError, IllegalOperationError, NotEnabledError
from .qos import (
    DEFAULT_DATA_REPRESENTATION,
    XCDR1,
    XCDR2,
    EndpointRole,
    Qos,
    check_supported,
    unsupported,
)
from .reader import Reader
from .rtps.actions import (
    Acknowledged,
    DeadlineMissed,
    LivelinessChanged,
    LivelinessLost,
    OfferedDeadlineMissed,
    SampleRejected,
    SamplesLost,
)
from .rtps.participant import Delivered, ReaderStatusChange
from .rtps.sedp import EndpointMatched, EndpointUnmatched, IncompatibleQos, InconsistentTopic
from .topic import ContentFilteredTopic, Topic
from .writer import Writer

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("rtbus.participant")

#: DDSI-RTPS 9.6.1.1: port numbers for domain ids above this exceed 65535.
MAX_DOMAIN_ID = 232


class Participant:
    """A participant in DDS domain ``domain_id`` (0..232).

    ``interface``: name or IPv4 address of the interface to use (default: ``RTBUS_INTERFACE``,
    the config file, else automatic). ``peers``: unicast discovery peers (``host`` or
    ``host:port``), also from ``RTBUS_PEERS``; ``multicast=False`` disables multicast
    discovery (for networks without it). ``name``: the participant's entity name, shown by
    tools. ``lease_duration``: seconds peers wait without hearing from it before dropping it.
    """

    def __init__(self, domain_id: int = 0, *, interface: str | None = None,
                 peers: list[str] | None = None, multicast: bool | None = None,
                 name: str | None = None, lease_duration: float = 10.0) -> None:
        _check_arguments(domain_id, interface, peers, multicast, name, lease_duration)
        self.domain_id = domain_id
        self._opts = dict(interface=interface, peers=peers, multicast=multicast, name=name,
                          lease_duration=lease_duration)
        self._node: Node | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background = False
        self._closed = False
        self._writers: dict[bytes, Writer[Any]] = {}
        self._readers: dict[bytes, Reader[Any]] = {}
        self._topics: dict[str, Topic[Any]] = {}
        self.discovery = DiscoveryCache(self)
        self._handlers: dict[type, Callable[[Any], None]] = {
            Delivered: self._on_delivered,
            Acknowledged: self._on_acknowledged,
            EndpointMatched: self._on_matched,
            EndpointUnmatched: self._on_unmatched,
            IncompatibleQos: self._on_incompatible_qos,
            InconsistentTopic: self._on_inconsistent_topic,
            ReaderStatusChange: self._on_reader_status,
            OfferedDeadlineMissed: self._on_offered_deadline_missed,
            LivelinessLost: self._on_liveliness_lost,
            **self.discovery.handlers(),
        }
        if not _in_event_loop():
            self._start_background()  # plain code: ready right away

    # --- lifecycle ---------------------------------------------------------------------------
    def _start_background(self) -> None:
        bg = background_loop()
        self._loop = bg.loop
        self._background = True
        self._node = self._new_node(bg.loop)
        bg.run(self._node.start())

    async def _start_here(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._node = self._new_node(self._loop)
        await self._node.start()

    def _new_node(self, loop: asyncio.AbstractEventLoop) -> Node:
        node = Node(loop, self.domain_id, **self._opts)  # type: ignore[arg-type]
        node.subscribe(self._on_event, direct=self._on_event_direct)
        return node

    def __enter__(self) -> Participant:
        self._check_open()
        if self._node is None:
            raise IllegalOperationError("this Participant was created inside an event loop: "
                                        "use 'async with', or create it outside the loop")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Participant:
        self._check_open()
        if self._node is None:
            await self._start_here()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Announce our departure to the domain and release the sockets. Waiting takes,
        ``async for`` loops and waits end; later calls on this participant or its writers
        and readers raise :class:`~rtbus.errors.ClosedError`. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        node = self._node
        if node is not None:
            self._call_on_loop(node.close)
        for r in self._readers.values():
            r._participant_closed()
        for w in self._writers.values():
            w._participant_closed()
        self.discovery.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")

    @property
    def guid_prefix(self) -> bytes:
        """The 12-byte GUID prefix that identifies this participant on the domain."""
        return self.engine.prefix

    @property
    def engine(self) -> EngineContext:
        """What this participant's writers and readers may ask of its engine."""
        return self.node

    @property
    def node(self) -> Node:
        """The engine driving this participant (tests and tools; not a stable API)."""
        if self._node is None:
            raise NotEnabledError("participant not started (use 'async with')")
        return self._node

    def assert_liveliness(self) -> None:
        """Tell every reader on the domain that this participant's writers with
        ``liveliness='manual_by_participant'`` are alive (DDS ``assert_liveliness``: a
        participant message that rtbus, Cyclone DDS and RTI Connext readers understand).
        Writing any sample does the same for its writer's participant at that writer's
        readers; AUTOMATIC writers need neither."""
        self._check_open()
        self.engine.assert_liveliness()

    def counters(self) -> dict[str, int]:
        """A snapshot of the engine's counters: datagrams received and sent (``rx_*``,
        ``tx_*``; ``rx_in_caller`` counts those digested by a thread waiting in a take),
        and every protocol event worth counting, e.g. ``malformed_<reason>`` and
        ``dropped_<reason>`` for hostile or broken input, the discovery and liveliness
        services' (``spdp_*``, ``pmd_*``), and the writers' and readers' own, summed over the
        live endpoints (``lost``, ``duplicate``, ``heartbeat_stale``, ``acknack_stale``,
        ``*_count_resync``, ``data_unknown_writer``, ``out_of_order_overflow``, ``filtered``,
        ``rejected``, ``expired_lifespan``, ``lifespan_expired``, ``autopurged``, ...).
        Readable after close."""
        return self.engine.counters()

    # --- calls onto the engine loop ------------------------------------------------------------
    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _call_on_loop(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(*args)`` on the engine loop (socket and timer work) and wait for it."""
        node = self.node
        if self._on_loop() or not self._background:
            result = fn(*args)
            node.flush()
            return result

        async def hop() -> R:
            result = fn(*args)
            node.flush()
            return result

        return background_loop().run(hop())

    async def _await(self, coro: Coroutine[Any, Any, R]) -> R:
        """Await ``coro`` on the engine loop from whichever loop the caller runs."""
        if self._on_loop():
            return await coro
        fut = asyncio.run_coroutine_threadsafe(coro, self.engine.loop)
        return await asyncio.wrap_future(fut)

    def _run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        """Run ``coro`` on the engine loop from plain (non-loop) code and wait for it."""
        if self._on_loop():
            coro.close()
            raise IllegalOperationError("blocking call on the engine's event loop would stall "
                                        "it: use the async variant (await ...)")
        if not self._background:
            fut = asyncio.run_coroutine_threadsafe(coro, self.engine.loop)
            return fut.result(timeout)
        return background_loop().run(coro, timeout)

    # --- entities ------------------------------------------------------------------------------
    def create_topic(self, name: str, type: type[T], qos: Qos | None = None) -> Topic[T]:
        """The topic ``name`` of IDL struct class ``type`` (from ``rtbus.idl.load``, a
        module ``rtbus idl compile`` wrote, or the declare API). Creating it again with the
        same type returns an equal topic."""
        self._check_open()
        _check_name("create_topic: name", name)
        if not hasattr(type, "__rtbus_type__"):
            raise BadParameterError(f"create_topic({name!r}): expected an IDL struct class "
                                    "(from rtbus.idl.load, rtbus idl compile or the declare "
                                    f"API), got {type!r}")
        if qos is not None and not isinstance(qos, Qos):
            raise BadParameterError(f"create_topic({name!r}): qos must be an rtbus.Qos, got "
                                    f"{qos!r}")
        existing = self._topics.get(name)
        if existing is None:
            _check_name(f"create_topic({name!r}): the type name",
                        getattr(getattr(type, "__rtbus_type__", None), "name", name))
        if existing is not None and existing.type is not type:
            from .errors import PreconditionNotMetError

            raise PreconditionNotMetError(
                f"topic {name!r} already exists in this participant with type "
                f"{existing.type_name} ({existing.type!r}); cannot create it with {type!r}")
        topic = Topic(name, type, qos or Qos())
        self._topics[name] = topic
        return topic

    def create_content_filtered_topic(self, name: str, topic: Topic[T], expression: str,
                                      parameters: Sequence[str] = ()) -> ContentFilteredTopic[T]:
        """``topic`` seen through a filter: a reader created from the result delivers only
        the samples for which ``expression`` holds, e.g. ``"x > %0 AND color LIKE 'B%'"``
        with ``parameters=["10"]`` (the DDS 1.4 Annex B SQL subset: comparisons, AND/OR/NOT,
        BETWEEN, LIKE, ``%n`` parameters, nested fields ``a.b[2]``, enum labels). The
        expression is checked against the topic's type now; a bad one raises
        :class:`~rtbus.content_filter.FilterError` with the column and what was expected.
        The filter runs at the reader (it is announced in discovery as well)."""
        from .content_filter import compile_filter

        self._check_open()
        _check_topic(topic, "create_content_filtered_topic")
        if not isinstance(name, str) or not name:
            raise BadParameterError(f"create_content_filtered_topic: name must be a non-empty "
                                    f"str, got {name!r}")
        if not isinstance(expression, str):
            raise BadParameterError(f"create_content_filtered_topic({name!r}): expression must "
                                    f"be a str, got {expression!r}")
        return ContentFilteredTopic(name, topic,
                                    compile_filter(expression, parameters, topic.model))

    def create_writer(self, topic: Topic[T], qos: Qos | None = None, *,
                      listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> Writer[T]:
        """A writer of ``topic``. QoS: a :class:`~rtbus.Qos` and/or policies as keywords
        (``reliability="reliable"``). ``listeners``: ``{"on_publication_matched": fn, ...}``,
        installed before the writer can match (so no early status change is missed)."""
        self._check_open()
        _check_topic(topic, "create_writer")
        q = _merge(qos or topic.qos, policies, "create_writer")
        _check_qos(q, "writer", topic.name)
        writer: Writer[T] = Writer(self, topic, q)
        writer._set_listeners(listeners)

        def added(guid: Any) -> None:  # registered before the engine flushes match events
            writer._guid = guid
            self._writers[bytes(guid)] = writer

        self.engine.add_writer(topic, q, added)
        self.discovery.local_endpoint_added(writer)
        return writer

    @overload
    def create_reader(self, topic: BuiltinTopic[T], qos: Qos | None = None, *,
                      listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> BuiltinReader[T]: ...

    @overload
    def create_reader(self, topic: Topic[T] | ContentFilteredTopic[T], qos: Qos | None = None,
                      *, listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> Reader[T]: ...

    def create_reader(self, topic: Topic[T] | ContentFilteredTopic[T] | BuiltinTopic[T],
                      qos: Qos | None = None, *,
                      listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> Reader[T] | BuiltinReader[T]:
        """A reader of ``topic``; QoS and ``listeners`` as for :meth:`create_writer`
        (``{"on_subscription_matched": fn, "on_data_available": fn, ...}``). A builtin
        discovery topic (``rtbus.DCPSParticipant``, ``rtbus.DCPSPublication``,
        ``rtbus.DCPSSubscription``) gives a reader of what this participant discovered."""
        self._check_open()
        if isinstance(topic, BuiltinTopic):
            return self.discovery.create_reader(topic, listeners)
        filtered = None
        if isinstance(topic, ContentFilteredTopic):
            filtered, topic = topic, topic.topic
        _check_topic(topic, "create_reader")
        if qos is None and "reliability" not in policies and topic.qos == Qos():
            policies["reliability"] = "best_effort"  # the DDS default for a data reader
        q = _merge(qos or topic.qos, policies, "create_reader")
        if q.data_representation is DEFAULT_DATA_REPRESENTATION:
            # never chosen (an explicit (XCDR1,) is honoured): rtbus decodes both, so such a
            # reader accepts both, as Cyclone's default reader does
            q = replace(q, data_representation=(XCDR1, XCDR2))
        _check_qos(q, "reader", topic.name)
        reader: Reader[T] = Reader(self, topic, q)
        reader._set_listeners(listeners)

        def added(guid: Any) -> None:  # registered before the engine flushes match events
            reader._guid = guid
            self._readers[bytes(guid)] = reader

        reader.content_filtered_topic = filtered
        self.engine.add_reader(topic, q, added, filtered)
        self.discovery.local_endpoint_added(reader)
        return reader

    def _endpoint_closed(self, endpoint: Writer[Any] | Reader[Any]) -> None:
        """A writer or reader was closed by the user: unmatch and forget it."""
        guid = endpoint._guid
        if not self._closed:
            self.engine.remove_endpoint(guid)
        self._writers.pop(bytes(guid), None)
        self._readers.pop(bytes(guid), None)
        self.discovery.local_endpoint_removed(endpoint)

    # --- events from the engine ------------------------------------------------------------------
    def _on_event_direct(self, ev: Any) -> bool:
        """An event met by an application thread that digested a datagram or ran a write:
        handle it there if that is safe (a delivery to a reader without async takers or
        listener, an acknowledgement), else leave it to the loop (False)."""
        cls = type(ev)
        if cls is Delivered:
            r = self._readers.get(bytes(ev.reader_guid))
            return r is None or r._notify_direct()
        if cls is Acknowledged:
            self._on_acknowledged(ev)
            return True
        return cls not in self._handlers

    def _on_event(self, ev: Any) -> None:
        handler = self._handlers.get(type(ev))
        if handler is not None:
            handler(ev)

    def _endpoint(self, guid: bytes) -> Writer[Any] | Reader[Any] | None:
        return self._writers.get(guid) or self._readers.get(guid)

    def _on_delivered(self, ev: Delivered) -> None:
        r = self._readers.get(bytes(ev.reader_guid))
        if r is not None:
            r._notify()

    def _on_acknowledged(self, ev: Acknowledged) -> None:
        w = self._writers.get(bytes(ev.writer_guid))
        if w is not None:
            w._acknowledged(ev.seq)

    def _on_offered_deadline_missed(self, ev: OfferedDeadlineMissed) -> None:
        w = self._writers.get(bytes(ev.writer_guid))
        if w is not None:
            w._status_offered_deadline_missed(ev.key_hash)

    def _on_liveliness_lost(self, ev: LivelinessLost) -> None:
        w = self._writers.get(bytes(ev.writer_guid))
        if w is not None:
            w._status_liveliness_lost()

    def _on_matched(self, ev: EndpointMatched) -> None:
        ep = self._endpoint(ev.local_guid)
        if ep is not None:
            ep._match_changed(True, bytes(ev.remote.endpoint_guid))

    def _on_unmatched(self, ev: EndpointUnmatched) -> None:
        ep = self._endpoint(ev.local_guid)
        if ep is not None:
            ep._match_changed(False, bytes(ev.remote_guid))

    def _on_incompatible_qos(self, ev: IncompatibleQos) -> None:
        ep = self._endpoint(ev.local_guid)
        if ep is not None:
            log.warning("%r does not match %s %s: incompatible QoS: %s", ep,
                        _remote_role(ep), ev.remote_guid.hex(), ev.detail)
            ep._status_incompatible_qos(tuple(ev.policies))

    def _on_inconsistent_topic(self, ev: InconsistentTopic) -> None:
        ep = self._endpoint(ev.local_guid)
        if ep is not None:
            log.warning("%r does not match %s %s: inconsistent topic: %s", ep,
                        _remote_role(ep), ev.remote_guid.hex(), ev.detail)
            ep._status_inconsistent_topic()


    def _on_reader_status(self, ev: ReaderStatusChange) -> None:
        r = self._readers.get(bytes(ev.reader_guid))
        if r is None:
            return
        change = ev.change
        if isinstance(change, SamplesLost):
            r._status_sample_lost(change.count)
        elif isinstance(change, SampleRejected):
            r._status_sample_rejected(change.reason, change.key_hash)
        elif isinstance(change, DeadlineMissed):
            r._status_deadline_missed(change.key_hash)
        elif isinstance(change, LivelinessChanged):
            r._status_liveliness_changed(bytes(change.writer_guid), change.alive_delta,
                                         change.not_alive_delta)


def _remote_role(ep: Any) -> str:
    return "reader" if isinstance(ep, Writer) else "writer"


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _check_arguments(domain_id: Any, interface: Any, peers: Any, multicast: Any, name: Any,
                     lease_duration: Any) -> None:
    """Participant(...)'s arguments, each refused with what was expected."""
    if isinstance(domain_id, bool) or not isinstance(domain_id, int):
        raise BadParameterError(f"Participant: domain_id must be an int 0..{MAX_DOMAIN_ID}, "
                                f"got {domain_id!r}")
    if not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise BadParameterError(f"Participant: domain_id {domain_id} is out of range: "
                                f"expected 0..{MAX_DOMAIN_ID} (the RTPS port mapping)")
    if interface is not None and not isinstance(interface, str):
        raise BadParameterError("Participant: interface must be an interface name or IPv4 "
                                f"address (str), got {interface!r}")
    if peers is not None and (isinstance(peers, str)
                              or not all(isinstance(p, str) for p in peers)):
        raise BadParameterError("Participant: peers must be a list of 'host' or 'host:port' "
                                f"strings, got {peers!r}")
    if multicast is not None and not isinstance(multicast, bool):
        raise BadParameterError(f"Participant: multicast must be True, False or None, got "
                                f"{multicast!r}")
    if name is not None and not isinstance(name, str):
        raise BadParameterError(f"Participant: name must be a str, got {name!r}")
    if isinstance(lease_duration, bool) or not isinstance(lease_duration, (int, float)) \
            or not lease_duration > 0:
        raise BadParameterError("Participant: lease_duration must be a positive number of "
                                f"seconds, got {lease_duration!r}")


#: the longest topic or type name accepted, in UTF-8 bytes (RTI Connext's default limit is
#: 255 characters; a name must also fit one discovery parameter)
MAX_NAME_BYTES = 256


def _check_name(what: str, name: Any) -> None:
    """A topic or type name goes on the wire as a NUL-terminated UTF-8 string: refuse what
    cannot, before anything is registered."""
    if not isinstance(name, str) or not name:
        raise BadParameterError(f"{what} must be a non-empty str, got {name!r}")
    if "\0" in name:
        raise BadParameterError(f"{what} must not contain NUL: got {name!r}")
    try:
        size = len(name.encode())
    except UnicodeEncodeError as exc:
        raise BadParameterError(f"{what} cannot be encoded as UTF-8: {exc.reason} at index "
                                f"{exc.start}") from None
    if size > MAX_NAME_BYTES:
        raise BadParameterError(f"{what} is {size} bytes long: at most {MAX_NAME_BYTES} "
                                "(UTF-8) are accepted")


def _check_topic(topic: Any, what: str) -> None:
    if not isinstance(topic, Topic):
        raise BadParameterError(f"{what}: expected a Topic (from create_topic), got {topic!r}")


def _check_qos(qos: Qos, role: EndpointRole, topic_name: str) -> None:
    """Refuse what rtbus cannot do at all; warn about what it accepts but does not honour."""
    check_supported(qos, role)
    for sentence in unsupported(qos, role):
        log.warning("%s of topic %r: %s", role, topic_name, sentence)


def _merge(base: Qos, policies: dict[str, Any], what: str) -> Qos:
    if not isinstance(base, Qos):
        raise BadParameterError(f"{what}: qos must be an rtbus.Qos, got {base!r}")
    if not policies:
        return base
    try:
        return replace(base, **policies)
    except TypeError as exc:  # an unknown keyword
        raise BadParameterError(f"{what}: {exc}; the QoS policies are the fields of "
                                "rtbus.Qos") from None
