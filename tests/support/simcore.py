"""A ParticipantCore on the simulated network (tests.support.simnet): the whole sans-IO participant
(SPDP, SEDP, TypeLookup, user endpoints) with real RTPS datagrams and virtual time."""

from __future__ import annotations

from typing import Any

from rtbus.rtps import wire
from rtbus.rtps.participant import ParticipantCore
from tests.support.simnet import SimNetwork


class SimCore:
    """A ParticipantCore plugged into the SimNetwork in place of a SimParticipant."""

    def __init__(self, net: SimNetwork, n: int, peer: int, **kw: Any) -> None:
        self.net = net
        self.host = f"10.0.0.{n}"
        meta = wire.Locator.udpv4(self.host, 7410)
        self.core = ParticipantCore(
            bytes([0x01, 0x0F] + [0] * 9 + [n]), 0, metatraffic_unicast=(meta,),
            default_unicast=(wire.Locator.udpv4(self.host, 7411),),
            announce_locators=(wire.Locator.udpv4(f"10.0.0.{peer}", 7410),), now=net.now, **kw)
        self.prefix = self.core.prefix
        self.events: list[Any] = []
        net.participants.append(self)  # type: ignore[arg-type]
        for port in (7410, 7411):
            net._by_locator[(self.host, port)] = self  # type: ignore[assignment]

    def next_timer(self) -> float | None:
        return self.core.next_timer()

    def fire_timers(self, now: float) -> None:
        self.core.handle_timer(now)
        self.drain()

    def receive(self, datagram: bytes) -> None:
        self.core.receive(datagram, None, self.net.now)
        self.drain()

    def drain(self) -> None:
        for datagram, addr in self.core.datagrams_to_send():
            self.net.transmit(self, datagram, (addr,))  # type: ignore[arg-type]
        self.events += self.core.events()

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]
