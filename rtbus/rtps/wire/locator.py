"""Locators: where an endpoint listens (kind, port, 16-byte address), 24 bytes on the wire."""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from typing import NamedTuple

from . import constants as C


class Locator(NamedTuple):
    kind: int
    port: int
    address: bytes  # 16 bytes; UDPv4 puts the IPv4 address in the last 4

    @classmethod
    def udpv4(cls, host: str, port: int) -> Locator:
        return cls(C.LOCATOR_KIND_UDPv4, port, bytes(12) + ipaddress.IPv4Address(host).packed)

    @classmethod
    def udpv6(cls, host: str, port: int) -> Locator:
        return cls(C.LOCATOR_KIND_UDPv6, port, ipaddress.IPv6Address(host).packed)

    @property
    def host(self) -> str:
        """The address as text (IPv4 for UDPv4, IPv6 for UDPv6, hex otherwise)."""
        if self.kind == C.LOCATOR_KIND_UDPv4:
            return _ipv4_text(self.address[12:])
        if self.kind == C.LOCATOR_KIND_UDPv6:
            return str(ipaddress.IPv6Address(self.address))
        return self.address.hex()

    def __str__(self) -> str:
        names = {C.LOCATOR_KIND_UDPv4: "udp", C.LOCATOR_KIND_UDPv6: "udp6"}
        return f"{names.get(self.kind, f'kind{self.kind}')}/{self.host}:{self.port}"


@lru_cache(maxsize=4096)
def _ipv4_text(packed: bytes) -> str:
    """Dotted quad of 4 bytes; cached because every datagram sent asks for it."""
    return socket.inet_ntoa(packed)


LOCATOR_INVALID = Locator(C.LOCATOR_KIND_INVALID, C.LOCATOR_PORT_INVALID, bytes(16))
