"""Which network interface rtbus uses, and why.

Multi-homed robots (Wi-Fi + Ethernet + docker0) are where DDS discovery most often fails
silently, so the choice is explicit and reportable: an argument beats the ``RTBUS_INTERFACE``
environment variable, which beats the ``[network] interface`` entry of the config file
(``RTBUS_CONFIG`` or ``~/.config/rtbus/config.toml``), which beats the automatic choice (the
first interface that is up and multicast-capable, preferring non-loopback). Each value may be
an interface name (``eth0``) or one of its IPv4 addresses.
"""

from __future__ import annotations

import array
import fcntl
import os
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import RtbusError

_SIOCGIFCONF = 0x8912
_SIOCGIFFLAGS = 0x8913
_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000


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


class InterfaceError(RtbusError):
    """The requested interface does not exist or has no IPv4 address."""


def list_interfaces() -> list[Interface]:
    """IPv4 interfaces of this host (Linux ioctl; falls back to loopback elsewhere)."""
    if not sys.platform.startswith("linux"):
        return [Interface("lo", "127.0.0.1", True, True, True)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        size = 40  # sizeof(struct ifreq) on 64-bit Linux
        buf = array.array("B", b"\0" * size * 64)
        addr, _ = buf.buffer_info()
        ifconf = struct.pack("iL", len(buf), addr)
        out = fcntl.ioctl(sock.fileno(), _SIOCGIFCONF, ifconf)
        length = struct.unpack("iL", out)[0]
        raw = buf.tobytes()[:length]
        result = []
        for off in range(0, length, size):
            name = raw[off:off + 16].split(b"\0", 1)[0].decode()
            ip = socket.inet_ntoa(raw[off + 20:off + 24])
            flags_req = struct.pack("16sH14x", name.encode(), 0)
            reply = fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, flags_req)
            flags = struct.unpack("16sH14x", reply)[1]
            result.append(Interface(name, ip, bool(flags & _IFF_UP), bool(flags & _IFF_LOOPBACK),
                                    bool(flags & _IFF_MULTICAST)))
        return result
    finally:
        sock.close()


def _config_interface() -> str | None:
    path = Path(os.environ.get("RTBUS_CONFIG", Path.home() / ".config" / "rtbus" / "config.toml"))
    if not path.is_file():
        return None
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        return None
    data = tomllib.loads(path.read_text())
    value = data.get("network", {}).get("interface")
    return str(value) if value else None


def choose_interface(requested: str | None = None) -> InterfaceChoice:
    """Pick the interface per the precedence in the module docstring; say why."""
    interfaces = list_interfaces()
    sources = ((requested, "argument"), (os.environ.get("RTBUS_INTERFACE"), "environment"),
               (_config_interface(), "config file"))
    for value, reason in sources:
        if value:
            for itf in interfaces:
                if value in (itf.name, itf.address):
                    return InterfaceChoice(itf, reason)
            known = ", ".join(f"{i.name} ({i.address})" for i in interfaces) or "none"
            raise InterfaceError(f"interface {value!r} (from {reason}) not found; "
                                 f"expected one of: {known}")
    usable = [i for i in interfaces if i.up]
    for pick in ([i for i in usable if i.multicast and not i.loopback],
                 [i for i in usable if i.multicast], usable):
        if pick:
            return InterfaceChoice(pick[0], "automatic")
    return InterfaceChoice(Interface("lo", "127.0.0.1", True, True, False), "automatic")
