"""The engine of one participant: sockets and one timer around a sans-IO ParticipantCore.

Everything here runs on one event loop (the caller's, or rtbus's background loop for the
synchronous API). A datagram goes socket → ``core.receive`` → ``flush``; ``flush`` sends what
the core produced, dispatches its events to the API objects and re-arms the single timer at
``core.next_timer()``. No protocol decision is made here.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from ..rtps import wire
from ..rtps.participant import ParticipantCore
from ..rtps.ports import SPDP_MULTICAST_GROUP, PortMapping, allocate_participant_id, port_mapping
from ..rtps.spdp import SpdpConfig, new_guid_prefix
from ..transport.interfaces import InterfaceChoice, choose_interface
from ..transport.udp import UdpTransport, multicast_socket, unicast_socket

log = logging.getLogger("rtbus.engine.node")

EventHandler = Callable[[Any], None]


def initial_peer_locators(peers: list[str], domain_id: int) -> tuple[wire.Locator, ...]:
    """SPDP unicast destinations for ``host`` (participant ids 0..9) or ``host:port`` entries."""
    out = []
    for peer in peers:
        host, _, port = peer.partition(":")
        host = socket.gethostbyname(host)
        if port:
            out.append(wire.Locator.udpv4(host, int(port)))
        else:
            out += [wire.Locator.udpv4(host, port_mapping(domain_id, pid).metatraffic_unicast)
                    for pid in range(10)]
    return tuple(out)


class Node:
    """One participant's sockets, timer and core on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, domain_id: int, *,
                 interface: str | None = None, peers: list[str] | None = None,
                 multicast: bool | None = None, name: str | None = None,
                 lease_duration: float = 10.0) -> None:
        self.loop = loop
        self.domain_id = domain_id
        self.choice: InterfaceChoice = choose_interface(interface)
        env_peers = os.environ.get("RTBUS_PEERS", "")
        self.peers = list(peers or []) + [p for p in env_peers.split(",") if p]
        if multicast is None:
            multicast = self.choice.interface.multicast and \
                os.environ.get("RTBUS_MULTICAST", "1") != "0"
        self.multicast = multicast
        self.name = name
        self.lease_duration = lease_duration
        self.handlers: list[EventHandler] = []
        self.core: ParticipantCore | None = None
        self.transport = UdpTransport(self._on_datagram)
        self.mapping: PortMapping | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._closed = False

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

        self.mapping = m = allocate_participant_id(self.domain_id, try_bind)
        await self.transport.add_socket(bound["user"], sender=True)
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
        announce = meta_mc + initial_peer_locators(self.peers, self.domain_id)
        self.core = ParticipantCore(
            new_guid_prefix(), self.domain_id,
            metatraffic_unicast=(wire.Locator.udpv4(ip, m.metatraffic_unicast),),
            default_unicast=(wire.Locator.udpv4(ip, m.user_unicast),),
            metatraffic_multicast=meta_mc, default_multicast=user_mc,
            announce_locators=announce, lease_duration=self.lease_duration, name=self.name,
            spdp_config=SpdpConfig(initial_period=0.1, initial_count=5), now=self.now())
        log.info("participant %s on domain %d: interface %s (%s, %s), participant id %d, "
                 "multicast %s", bytes(self.core.prefix).hex(), self.domain_id,
                 self.choice.interface.name, self.choice.interface.address, self.choice.reason,
                 m.participant_id, "on" if self.multicast else "off")
        self.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.core is not None:
            self.core.shutdown(self.now())
            self._send_pending()
        if self._timer is not None:
            self._timer.cancel()
        self.transport.close()

    # --- driving the core --------------------------------------------------------------------
    @staticmethod
    def now() -> float:
        return time.monotonic()

    def _on_datagram(self, data: bytes, addr: tuple[str, int], now: float) -> None:
        if self.core is None or self._closed:
            return
        self.core.receive(data, now)
        self.flush()

    def _send_pending(self) -> None:
        assert self.core is not None
        for datagram, addr in self.core.datagrams_to_send():
            self.transport.send(datagram, addr)

    def flush(self) -> None:
        """Send what the core produced, dispatch its events, re-arm the timer."""
        core = self.core
        if core is None or self._closed:
            return
        self._send_pending()
        for ev in core.events():
            for handler in self.handlers:
                handler(ev)
        self._send_pending()  # handlers may have caused output (e.g. a take's ACKNACK)
        t = core.next_timer()
        if t is None:
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= t:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = t
        self._timer = self.loop.call_later(max(0.0, t - self.now()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.core is None or self._closed:
            return
        self.core.handle_timer(self.now())
        self.flush()
