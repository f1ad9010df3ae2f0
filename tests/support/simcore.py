"""A ParticipantCore on the simulated network (tests.support.simnet): the whole sans-IO participant
(SPDP, SEDP, TypeLookup, user endpoints, routing, batching, transforms) with real RTPS datagrams
and virtual time.

:class:`SimCore` is the driver the engine would be, minus sockets and threads: it hands the core
each datagram that arrives with the virtual ``now``, ticks it when ``next_timer()`` falls due,
and after either (and after any call a test makes, through :meth:`SimCore.drain`) sends what
``datagrams_to_send`` returns and keeps what ``events()`` returns. Tests create endpoints, write
and take through the core's own API; discovery is the core's own SPDP and SEDP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rtbus.rtps import wire
from rtbus.rtps.participant import ParticipantCore
from rtbus.rtps.ports import SPDP_MULTICAST_GROUP, spdp_multicast_port
from rtbus.rtps.transforms import Address
from tests.support.simnet import SimNetwork

METATRAFFIC_PORT = 7410
USER_PORT = 7411
DOMAIN = 0


class SimCore:
    """ParticipantCore number ``n`` (host 10.0.0.n) attached to ``net``.

    ``peer``: where SPDP announces (the engine's initial peers): one participant number or
    several; None (default) is the domain's SPDP multicast group, which this participant joins,
    so participants created later discover and are discovered by every one already there.
    ``kw`` goes to ParticipantCore.
    """

    def __init__(self, net: SimNetwork, n: int, peer: int | Sequence[int] | None = None,
                 **kw: Any) -> None:
        self.net = net
        self.host = f"10.0.0.{n}"
        group = wire.Locator.udpv4(SPDP_MULTICAST_GROUP, spdp_multicast_port(DOMAIN))
        if peer is None:
            announce: tuple[wire.Locator, ...] = (group,)
        else:
            peers = (peer,) if isinstance(peer, int) else tuple(peer)
            announce = tuple(wire.Locator.udpv4(f"10.0.0.{p}", METATRAFFIC_PORT) for p in peers)
        self.core = ParticipantCore(
            bytes([0x01, 0x0F] + [0] * 9 + [n]), DOMAIN,
            metatraffic_unicast=(wire.Locator.udpv4(self.host, METATRAFFIC_PORT),),
            default_unicast=(wire.Locator.udpv4(self.host, USER_PORT),),
            announce_locators=announce, now=net.now, **kw)
        self.prefix = self.core.prefix
        self.events: list[Any] = []
        for port in (METATRAFFIC_PORT, USER_PORT):
            net.attach(self, (self.host, port))
        if peer is None:
            net.attach(self, (group.host, group.port))

    def __repr__(self) -> str:
        return f"SimCore({self.host})"

    # -- the simnet.Node protocol -------------------------------------------------------------
    def next_timer(self) -> float | None:
        return self.core.next_timer()

    def handle_timer(self, now: float) -> None:
        self.core.handle_timer(now)
        self.drain()

    def receive(self, datagram: bytes, addr: Address) -> None:
        self.core.receive(datagram, addr, self.net.now)
        self.drain()

    # -- what a test uses ---------------------------------------------------------------------
    def drain(self) -> None:
        """Send what the core has to send and keep its events (after a call on ``core``)."""
        for datagram, addr in self.core.datagrams_to_send(self.net.now):
            self.net.transmit(self, datagram, addr)
        self.events += self.core.events()

    def of(self, cls: type) -> list[Any]:
        """The events so far of type ``cls``."""
        return [e for e in self.events if isinstance(e, cls)]


def submessages(datagram: bytes) -> list[tuple[wire.GuidPrefix, Any]]:
    """(source prefix, submessage) of each submessage of a plain datagram: for tests that
    watch the wire (``SimNetwork.tap`` / ``drop_filter``)."""
    return [(rec.src_prefix, rec.submessage) for rec in wire.parse_message(datagram).received]
