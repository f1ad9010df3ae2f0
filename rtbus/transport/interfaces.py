"""Which network interface rtbus uses, and why.

Multi-homed robots (Wi-Fi + Ethernet + docker0) are where DDS discovery most often fails
silently, so the choice is explicit and reportable: an argument beats the ``RTBUS_INTERFACE``
environment variable, which beats the ``[network] interface`` entry of the config file
(``RTBUS_CONFIG`` or ``~/.config/rtbus/config.toml``, see ``netconfig``), which beats the
automatic choice (the first interface that is up and multicast-capable, preferring
non-loopback). Each value may be an interface name (``eth0``) or any one of its IPv4 addresses,
secondary addresses included; a name selects the interface's first address.

Addresses come from ``getifaddrs(3)``, which, unlike the older ``SIOCGIFCONF`` ioctl, also
reports secondary addresses (``ip addr add`` without a label).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import socket
import sys
from dataclasses import dataclass

from ..errors import InterfaceError
from .netconfig import setting

log = logging.getLogger("rtbus.transport.interfaces")

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000 if sys.platform.startswith("linux") else 0x8000


@dataclass(frozen=True)
class Interface:
    name: str
    address: str
    up: bool
    loopback: bool
    multicast: bool


@dataclass(frozen=True)
class InterfaceChoice:
    interface: Interface
    reason: str  # "argument", "environment", "config file", "automatic"


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [  # struct ifaddrs, the same prefix on Linux and the BSDs
    ("ifa_next", ctypes.POINTER(_IfAddrs)),
    ("ifa_name", ctypes.c_char_p),
    ("ifa_flags", ctypes.c_uint),
    ("ifa_addr", ctypes.c_void_p),
]


def _ipv4_of(sockaddr: int) -> str | None:
    """The dotted address in a ``struct sockaddr`` if it is AF_INET."""
    raw = ctypes.string_at(sockaddr, 8)
    if sys.platform.startswith("linux"):
        family = int.from_bytes(raw[0:2], sys.byteorder)
    else:  # BSD layout: sa_len, sa_family
        family = raw[1]
    if family != socket.AF_INET:
        return None
    return socket.inet_ntoa(ctypes.string_at(sockaddr + 4, 4))


def _getifaddrs() -> list[Interface] | None:
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        getifaddrs, freeifaddrs = libc.getifaddrs, libc.freeifaddrs
    except (OSError, AttributeError):
        return None
    head = ctypes.POINTER(_IfAddrs)()
    if getifaddrs(ctypes.byref(head)) != 0:
        return None
    result = []
    try:
        node = head
        while node:
            entry = node.contents
            address = _ipv4_of(entry.ifa_addr) if entry.ifa_addr else None
            if address is not None and entry.ifa_name is not None:
                flags = entry.ifa_flags
                result.append(Interface(entry.ifa_name.decode(errors="replace"), address,
                                        bool(flags & _IFF_UP), bool(flags & _IFF_LOOPBACK),
                                        bool(flags & _IFF_MULTICAST)))
            node = entry.ifa_next
    finally:
        freeifaddrs(head)
    return result


def list_interfaces() -> list[Interface]:
    """IPv4 addresses of this host, one entry per (interface, address), in kernel order."""
    found = _getifaddrs()
    if found is None:  # no getifaddrs (not a POSIX libc): loopback is all we can promise
        return [Interface("lo", "127.0.0.1", True, True, True)]
    return found


def _all_names() -> list[str]:
    """Every interface name, with or without an IPv4 address."""
    try:
        return [name for _, name in socket.if_nameindex()]
    except OSError:
        return []


def describe_interfaces(interfaces: list[Interface] | None = None) -> str:
    """``eth0 (10.0.0.5, up, multicast), wg0 (no IPv4)``: for error messages and logs."""
    interfaces = list_interfaces() if interfaces is None else interfaces
    parts = []
    for itf in interfaces:
        traits = ["up" if itf.up else "down"]
        if itf.loopback:
            traits.append("loopback")
        if itf.multicast:
            traits.append("multicast")
        parts.append(f"{itf.name} ({itf.address}, {', '.join(traits)})")
    with_ipv4 = {i.name for i in interfaces}
    parts += [f"{name} (no IPv4)" for name in _all_names() if name not in with_ipv4]
    return ", ".join(parts) or "none"


def _lookup(value: str, reason: str, interfaces: list[Interface]) -> Interface:
    by_address = [i for i in interfaces if i.address == value]
    by_name = [i for i in interfaces if i.name == value]
    found = by_address or by_name
    if not found:
        what = ("has no IPv4 address" if value in _all_names()
                else "is not an interface name or IPv4 address of this host")
        raise InterfaceError(f"interface {value!r} (from {reason}) {what}; available: "
                             f"{describe_interfaces(interfaces)}")
    itf = found[0]
    if not itf.up:
        log.warning("interface %s (%s, from %s) is down: nothing will be sent or received "
                    "until it comes up", itf.name, itf.address, reason)
    return itf


def choose_interface(requested: str | None = None) -> InterfaceChoice:
    """Pick the interface per the precedence in the module docstring; say why."""
    value, reason = setting("interface", requested)
    interfaces = list_interfaces()
    if value is not None:
        return InterfaceChoice(_lookup(value.strip(), reason, interfaces), reason)
    usable = [i for i in interfaces if i.up]
    for pick in ([i for i in usable if i.multicast and not i.loopback],
                 [i for i in usable if i.multicast], usable):
        if pick:
            return InterfaceChoice(pick[0], "automatic")
    return InterfaceChoice(Interface("lo", "127.0.0.1", True, True, False), "automatic")
