"""The engine of one participant, as the API sees it: sockets bound, a core driven, a baton.

:class:`Node` puts the parts together and is the :class:`~rtbus.engine.context.EngineContext`
the API talks to: configuration (``config``) is read once, the sockets are bound on start,
:class:`~rtbus.engine.driver.CoreDriver` drives the sans-IO core (lock, flush, one timer), and
:class:`~rtbus.engine.baton.ReceiveBaton` lets a waiting application thread read the user
socket itself. No protocol decision is made here.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from .. import cdr
from ..errors import ClosedError
from ..rtps import wire
from ..rtps.filter_stage import ContentFilterStage
from ..rtps.participant import ParticipantCore
from ..rtps.ports import SPDP_MULTICAST_GROUP, PortMapping, allocate_participant_id
from ..rtps.spdp import SpdpConfig, new_guid_prefix
from ..rtps.wire.parameters import ContentFilterProperty
from ..transport.interfaces import InterfaceChoice, choose_interface
from ..transport.udp import UdpTransport, multicast_socket, unicast_socket
from .baton import ReceiveBaton
from .config import configured_peers, initial_peer_locators, multicast_wanted, process_properties
from .driver import CoreDriver

log = logging.getLogger("rtbus.engine.node")

# a write arms at most the writer's heartbeat, one heartbeat period (>= 0.1 s by default) ahead
WRITE_TIMER_SLACK = 0.05
# a take arms a timer only when it resumes a stream held on a full history (an ACKNACK after
# the NACK delay); the loop's next timer may be up to this late for it
TAKE_TIMER_SLACK = 0.01


def key_hash_readers(cls: Any) -> tuple[Callable[[Any], bytes | None],
                                        Callable[[Any], bytes | None]]:
    """Key hashes for peers that send none (Cyclone by default), read straight from the
    bytes by the type's compiled key extractor: of a whole sample, and of a DATA(K)'s key
    payload (dispose/unregister). Bytes that do not hold a key give None (the core counts
    such a sample and drops it). Handed to the reader core as data: it never calls up into
    the API."""
    from .. import cdr
    from ..errors import DecodeError

    extractor = cdr.key_extractor(cls)
    of_key_payload = extractor.from_key

    def of_sample(payload: Any) -> bytes | None:
        try:
            return extractor(payload)
        except DecodeError:
            return None

    def of_key(payload: Any) -> bytes | None:
        try:
            return of_key_payload(payload)
        except DecodeError:
            return None

    return of_sample, of_key


class Node:
    """One participant's sockets, driven core and receive baton on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, domain_id: int, *,
                 interface: str | None = None, peers: list[str] | None = None,
                 multicast: bool | None = None, name: str | None = None,
                 lease_duration: float = 10.0) -> None:
        self.loop = loop
        self.domain_id = domain_id
        self.choice: InterfaceChoice = choose_interface(interface)
        self.peers = configured_peers(peers)
        self._peer_locators = initial_peer_locators(self.peers, domain_id)  # raises here
        self.multicast = multicast_wanted(self.choice.interface.multicast, multicast)
        self.name = name
        self.lease_duration = lease_duration
        self.mapping: PortMapping | None = None
        self.driver = CoreDriver(loop, transport=None)  # type: ignore[arg-type]
        self.transport = UdpTransport(self.driver.on_datagram)
        self.driver.transport = self.transport
        self.baton: ReceiveBaton | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        ip = self.choice.interface.address
        bound: dict[str, socket.socket] = {}

        def try_bind(m: PortMapping) -> bool:
            try:
                meta = unicast_socket(ip, m.metatraffic_unicast)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return False
                raise
            try:
                user = unicast_socket(ip, m.user_unicast)
            except OSError as exc:
                meta.close()
                if exc.errno == errno.EADDRINUSE:
                    return False
                raise
            bound["meta"], bound["user"] = meta, user
            return True

        driver = self.driver
        self.mapping = m = allocate_participant_id(self.domain_id, try_bind)
        self.baton = baton = ReceiveBaton(self.loop, self.transport, bound["user"],
                                          driver.digest_here, driver.on_loop_thread)
        await self.transport.add_socket(bound["user"], sender=True,
                                        on_readable=baton.on_readable)
        await self.transport.add_socket(bound["meta"])
        meta_mc: tuple[wire.Locator, ...] = ()
        user_mc: tuple[wire.Locator, ...] = ()
        if self.multicast:
            await self.transport.add_socket(
                multicast_socket(SPDP_MULTICAST_GROUP, m.metatraffic_multicast, ip))
            await self.transport.add_socket(
                multicast_socket(SPDP_MULTICAST_GROUP, m.user_multicast, ip))
            meta_mc = (wire.Locator.udpv4(SPDP_MULTICAST_GROUP, m.metatraffic_multicast),)
            user_mc = (wire.Locator.udpv4(SPDP_MULTICAST_GROUP, m.user_multicast),)
        announce = meta_mc + self._peer_locators
        core = ParticipantCore(
            new_guid_prefix(), self.domain_id,
            metatraffic_unicast=(wire.Locator.udpv4(ip, m.metatraffic_unicast),),
            default_unicast=(wire.Locator.udpv4(ip, m.user_unicast),),
            metatraffic_multicast=meta_mc, default_multicast=user_mc,
            announce_locators=announce, lease_duration=self.lease_duration, name=self.name,
            spdp_config=SpdpConfig(initial_period=0.1, initial_count=5), now=self.now(),
            wall_offset=time.time() - time.monotonic(),
            properties=process_properties())
        log.info("participant %s on domain %d: interface %s (%s, %s), participant id %d, "
                 "multicast %s", bytes(core.prefix).hex(), self.domain_id,
                 self.choice.interface.name, self.choice.interface.address, self.choice.reason,
                 m.participant_id, "on" if self.multicast else "off")
        driver.attach(core)

    def close(self) -> None:
        if self.driver.closed:
            return
        self.driver.shut_down()
        if self.baton is not None:  # a thread in receive_until lets go before the socket closes
            self.baton.close()
        self.transport.close()

    @staticmethod
    def now() -> float:
        return time.monotonic()

    # --- the EngineContext -------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.driver.closed

    @property
    def prefix(self) -> bytes:
        return bytes(self._core.prefix)

    @property
    def _core(self) -> ParticipantCore:
        core = self.driver.core
        if core is None or self.driver.closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")
        return core

    def on_loop_thread(self) -> bool:
        return self.driver.on_loop_thread()

    def subscribe(self, handler: Callable[[Any], None],
                  direct: Callable[[Any], bool] | None = None) -> None:
        self.driver.handlers.append(handler)
        if direct is not None:
            self.driver.direct_handler = direct

    def flush(self) -> None:
        self.driver.flush()

    def add_writer(self, topic: Any, qos: Any, added: Callable[[wire.Guid], None]) -> wire.Guid:
        def add() -> wire.Guid:
            guid = self._core.add_writer(topic.name, topic.type_name, qos, topic.keyed,
                                         self.now(), type_model=topic.model)
            added(guid)
            return guid

        return self.driver.call(add)  # type: ignore[no-any-return]

    def add_reader(self, topic: Any, qos: Any, added: Callable[[wire.Guid], None],
                   filtered: Any = None) -> wire.Guid:
        keyed = topic.keyed
        of_sample, of_key = key_hash_readers(topic.type) if keyed else (None, None)
        stages: tuple[Any, ...] = ()
        announced = None
        if filtered is not None:  # a ContentFilteredTopic of ``topic``
            stages = (ContentFilterStage(partial(cdr.decode, topic.type), filtered.filter),)
            announced = ContentFilterProperty(filtered.name, topic.name, "DDSSQL",
                                              filtered.expression, filtered.parameters)

        def add() -> wire.Guid:
            guid = self._core.add_reader(topic.name, topic.type_name, qos, keyed, self.now(),
                                         None, of_sample, of_key, type_model=topic.model,
                                         stages=stages, content_filter=announced)
            added(guid)
            return guid

        return self.driver.call(add)  # type: ignore[no-any-return]

    def remove_endpoint(self, guid: wire.Guid) -> None:
        core = self._core
        self.driver.call(lambda: core.remove_endpoint(guid, self.now()))

    def set_writer_qos(self, guid: wire.Guid, qos: Any) -> None:
        core = self._core
        self.driver.call(lambda: core.set_writer_qos(guid, qos, self.now()))

    def assert_writer_liveliness(self, guid: wire.Guid) -> None:
        core = self._core
        self.driver.call(lambda: core.assert_writer_liveliness(guid, self.now()))

    def assert_liveliness(self) -> None:
        core = self._core
        self.driver.call(lambda: core.assert_liveliness(self.now()))

    def write(self, guid: wire.Guid, payload: bytes, key_hash: bytes | None, status: int,
              timestamp: int) -> Any:
        driver = self.driver
        core = driver.core  # the hot path: no property call
        if core is None or driver.closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")
        return driver.call(core.write, guid, payload, key_hash, status, timestamp,
                           time.monotonic(), timer_slack=WRITE_TIMER_SLACK)

    def take(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]:
        driver = self.driver
        core = driver.core
        if core is None or driver.closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")
        return driver.call(core.take, guid, max_samples,  # type: ignore[no-any-return]
                           time.monotonic(), select, timer_slack=TAKE_TIMER_SLACK)

    def read(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]:
        core = self._core
        with self.driver.lock:
            return core.read(guid, max_samples, select)

    def has_samples(self, guid: wire.Guid, select: Any) -> bool:
        core = self._core
        with self.driver.lock:
            return core.has_samples(guid, select)

    def has_instance(self, guid: wire.Guid, key_hash: bytes | None) -> bool:
        core = self._core
        with self.driver.lock:
            return core.has_instance(guid, key_hash)

    def writer_acked(self, guid: wire.Guid) -> bool:
        core = self._core
        with self.driver.lock:
            return core.acked_by_all(guid)

    def receive_until(self, ready: Callable[[], bool], deadline: float) -> bool | None:
        baton = self.baton
        if baton is None or self.driver.closed:
            return None
        return baton.receive_until(ready, deadline)

    @property
    def receiving_in_app_thread(self) -> bool:
        return self.baton is not None and self.baton.held_by_app

    def wake_receiver(self) -> None:
        if self.baton is not None:
            self.baton.wake()

    def counters(self) -> dict[str, int]:
        with self.driver.lock:
            out = dict(self.transport.counters)
            core = self.driver.core
            if core is not None:
                out.update(core.counters)
                out.update(core.pmd.counters)  # liveliness messages sent and received
                out.update(core.spdp.counters)  # announcements refused
                # every writer's and reader's own counters, summed over the endpoints: drops,
                # stale and resynchronised counts, losses, limits, expiries
                for ep in (*core.readers.values(), *core.writers.values()):
                    for name, n in ep.core.counters.items():
                        out[name] = out.get(name, 0) + n
        return out

    def local_participant_data(self) -> Any:
        """This participant's own SPDP data (None before start)."""
        core = self.driver.core
        return core.local if core is not None else None
