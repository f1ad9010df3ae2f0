"""The public entry point: a DDS domain participant, its topics, writers and readers.

Two ways to use it, same objects:

    with rtbus.Participant(domain_id=0) as dp:          # plain code: the engine runs on
        ...                                             # rtbus's background loop thread

    async with rtbus.Participant(domain_id=0) as dp:    # asyncio: the engine runs on the
        ...                                             # caller's loop, no thread hops

Protocol state is only ever touched on the engine's loop; calls from other threads hop onto
it. Encoding and decoding happen in the caller's thread, outside the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .engine.loop import background_loop
from .engine.node import Node
from .errors import NotEnabledError, RtbusError
from .qos import DEFAULT_DATA_REPRESENTATION, XCDR1, XCDR2, Qos
from .reader import Reader
from .rtps.participant import Delivered
from .rtps.sedp import EndpointMatched, EndpointUnmatched, IncompatibleQos, InconsistentTopic
from .topic import Topic
from .writer import Writer

T = TypeVar("T")


class Participant:
    """A participant in DDS domain ``domain_id``.

    ``interface``: name or IPv4 address of the interface to use (default: ``RTBUS_INTERFACE``,
    the config file, else automatic). ``peers``: unicast discovery peers (``host`` or
    ``host:port``), also from ``RTBUS_PEERS``; ``multicast=False`` disables multicast
    discovery (for networks without it).
    """

    def __init__(self, domain_id: int = 0, *, interface: str | None = None,
                 peers: list[str] | None = None, multicast: bool | None = None,
                 name: str | None = None, lease_duration: float = 10.0) -> None:
        self.domain_id = domain_id
        self._opts = dict(interface=interface, peers=peers, multicast=multicast, name=name,
                          lease_duration=lease_duration)
        self._node: Node | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background = False
        self._writers: dict[bytes, Writer] = {}
        self._readers: dict[bytes, Reader] = {}
        self._topics: dict[str, Topic] = {}
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._start_background()  # plain code: ready right away

    # --- lifecycle ---------------------------------------------------------------------------
    def _start_background(self) -> None:
        bg = background_loop()
        self._loop = bg.loop
        self._background = True
        self._node = Node(bg.loop, self.domain_id, **self._opts)  # type: ignore[arg-type]
        self._node.handlers.append(self._on_event)
        self._node.direct_handler = self._on_event_direct
        bg.run(self._node.start())

    async def _start_here(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._node = Node(self._loop, self.domain_id, **self._opts)  # type: ignore[arg-type]
        self._node.handlers.append(self._on_event)
        self._node.direct_handler = self._on_event_direct
        await self._node.start()

    def __enter__(self) -> Participant:
        if self._node is None:
            raise RtbusError("this Participant was created inside an event loop: use "
                             "'async with', or create it outside the loop")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Participant:
        if self._node is None:
            await self._start_here()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Announce our departure to the domain and release the sockets."""
        node = self._node
        if node is None or node._closed:
            return
        self._call_on_loop(node.close)
        for r in self._readers.values():
            r._closed()

    @property
    def guid_prefix(self) -> bytes:
        return bytes(self.node.core.prefix)  # type: ignore[union-attr]

    @property
    def node(self) -> Node:
        if self._node is None:
            raise NotEnabledError("participant not started (use 'async with')")
        return self._node

    def counters(self) -> dict[str, int]:
        """A snapshot of the engine's counters: datagrams received and sent (``rx_*``,
        ``tx_*``; ``rx_in_caller`` counts those digested by a thread waiting in a take),
        and every protocol event worth counting, e.g. ``malformed_<reason>`` and
        ``dropped_<reason>`` for hostile or broken input."""
        node = self.node
        with node.lock:
            out = dict(node.transport.counters)
            if node.core is not None:
                out.update(node.core.counters)
        return out

    # --- calls onto the engine loop ------------------------------------------------------------
    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the core operation ``fn(*args)`` from any thread, no hop (see Node.call)."""
        return self.node.call(fn, *args)  # type: ignore[no-any-return]

    def _call_on_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the engine loop (socket and timer work) and wait for it."""
        node = self.node
        if self._on_loop() or not self._background:
            result = fn(*args)
            node.flush()
            return result

        async def hop() -> T:
            result = fn(*args)
            node.flush()
            return result

        return background_loop().run(hop())

    async def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the engine loop from whichever loop the caller runs."""
        if self._on_loop():
            return await coro
        fut = asyncio.run_coroutine_threadsafe(coro, self.node.loop)
        return await asyncio.wrap_future(fut)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the engine loop from plain (non-loop) code and wait for it."""
        if self._on_loop():
            coro.close()
            raise RtbusError("blocking call on the engine loop: use the async variant")
        if not self._background:
            fut = asyncio.run_coroutine_threadsafe(coro, self.node.loop)
            return fut.result(timeout)
        return background_loop().run(coro, timeout)

    # --- entities ------------------------------------------------------------------------------
    def create_topic(self, name: str, type: Any, qos: Qos | None = None) -> Topic:
        if not hasattr(type, "__rtbus_type__"):
            raise TypeError(f"create_topic({name!r}): expected an IDL struct class (from "
                            f"rtbus.idl.load or the declare API), got {type!r}")
        existing = self._topics.get(name)
        if existing is not None and existing.type is not type:
            raise RtbusError(f"topic {name!r} already exists with type {existing.type_name}")
        topic = Topic(name, type, qos or Qos())
        self._topics[name] = topic
        return topic

    def create_writer(self, topic: Topic, qos: Qos | None = None, *,
                      listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> Writer:
        """A writer of ``topic``. ``listeners``: ``{"on_publication_matched": fn, ...}``,
        installed before the writer can match (so no early status change is missed)."""
        q = _merge(qos or topic.qos, policies)
        writer: Writer[Any] = Writer(self, topic, q)
        writer._set_listeners(listeners)

        def add() -> None:  # register before the engine flushes match events
            writer._guid = self.node.core.add_writer(  # type: ignore[union-attr]
                topic.name, topic.type_name, q, topic.keyed, self.node.now(),
                type_model=topic.model)
            self._writers[bytes(writer._guid)] = writer

        self._call(add)
        return writer

    def create_reader(self, topic: Topic, qos: Qos | None = None, *,
                      listeners: dict[str, Callable[..., Any]] | None = None,
                      **policies: Any) -> Reader:
        """A reader of ``topic``. ``listeners``: ``{"on_subscription_matched": fn,
        "on_data_available": fn, ...}``, installed before the reader can match."""
        if qos is None and "reliability" not in policies and topic.qos == Qos():
            policies["reliability"] = "best_effort"  # the DDS default for a data reader
        q = _merge(qos or topic.qos, policies)
        if q.data_representation is DEFAULT_DATA_REPRESENTATION:
            # never chosen (an explicit (XCDR1,) is honoured): rtbus decodes both, so such a
            # reader accepts both, as Cyclone's default reader does
            q = _merge(q, {"data_representation": (XCDR1, XCDR2)})
        reader: Reader[Any] = Reader(self, topic, q)
        reader._set_listeners(listeners)
        keyed = topic.keyed

        def add() -> None:  # register before the engine flushes match events
            reader._guid = self.node.core.add_reader(  # type: ignore[union-attr]
                topic.name, topic.type_name, q, keyed, self.node.now(), None,
                reader._key_hash_of if keyed else None,
                reader._key_hash_of_key if keyed else None, type_model=topic.model)
            self._readers[bytes(reader._guid)] = reader

        self._call(add)
        return reader

    # --- events from the engine (on the loop) ----------------------------------------------------
    def _on_event_direct(self, ev: Any) -> bool:
        """An event met by an application thread that digested a datagram: handle it there
        if that is safe (a delivery to a reader without async takers or listener), drop it
        if :meth:`_on_event` would ignore it (e.g. a writer's acknowledgement mark: waiting
        for acknowledgements polls the core), else leave it to the loop (False)."""
        cls = type(ev)
        if cls is Delivered:
            r = self._readers.get(bytes(ev.reader_guid))
            return r is None or r._notify_direct()
        return cls not in _LOOP_EVENTS

    def _on_event(self, ev: Any) -> None:
        cls = type(ev)
        if cls is Delivered:
            r = self._readers.get(bytes(ev.reader_guid))
            if r is not None:
                r._notify()
        elif cls is EndpointMatched or cls is EndpointUnmatched:
            ep = self._writers.get(ev.local_guid) or self._readers.get(ev.local_guid)
            if ep is not None:
                remote = ev.remote.endpoint_guid if cls is EndpointMatched else ev.remote_guid
                ep._match_changed(cls is EndpointMatched, bytes(remote))
        elif cls is IncompatibleQos or cls is InconsistentTopic:
            ep = self._writers.get(ev.local_guid) or self._readers.get(ev.local_guid)
            if ep is None:
                return
            if cls is IncompatibleQos:
                ep._status_incompatible_qos(tuple(ev.policies))
            else:
                ep._status_inconsistent_topic()


# the events _on_event acts on, besides Delivered (they wake asyncio objects or listeners)
_LOOP_EVENTS = frozenset({EndpointMatched, EndpointUnmatched, IncompatibleQos, InconsistentTopic})


def _merge(base: Qos, policies: dict[str, Any]) -> Qos:
    if not policies:
        return base
    from dataclasses import replace

    return replace(base, **policies)

