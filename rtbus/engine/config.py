"""Where a participant's peers are and what it says about its process: the configuration
the engine reads once, when a participant starts."""

from __future__ import annotations

import os
import socket
import sys

from ..rtps import wire
from ..rtps.ports import port_mapping
from ..transport.netconfig import ConfigError


def initial_peer_locators(peers: list[str], domain_id: int) -> tuple[wire.Locator, ...]:
    """SPDP unicast destinations for ``host`` (participant ids 0..9) or ``host:port`` entries.

    Raises ConfigError naming the entry when a host does not resolve or a port is not one.
    """
    out = []
    for peer in peers:
        host, _, port = peer.strip().partition(":")
        try:
            number = int(port) if port else None
        except ValueError:
            number = -1
        if number is not None and not 0 < number <= 0xFFFF:
            raise ConfigError(f"initial peer {peer!r}: port {port!r} is not a UDP port "
                              "(expected host or host:1-65535)")
        try:
            addr = socket.gethostbyname(host)
        except (OSError, UnicodeError) as exc:
            raise ConfigError(f"initial peer {peer!r}: cannot resolve host {host!r} ({exc})") \
                from None
        if number is not None:
            out.append(wire.Locator.udpv4(addr, number))
        else:
            out += [wire.Locator.udpv4(addr, port_mapping(domain_id, pid).metatraffic_unicast)
                    for pid in range(10)]
    return tuple(out)


def configured_peers(peers: list[str] | None) -> list[str]:
    """The initial peers given, then those of ``RTBUS_PEERS`` (comma-separated)."""
    env_peers = os.environ.get("RTBUS_PEERS", "")
    return list(peers or []) + [p for p in env_peers.split(",") if p]


def multicast_wanted(interface_multicast: bool, asked: bool | None) -> bool:
    """Multicast discovery on: as asked, else when the interface carries it and
    ``RTBUS_MULTICAST`` is not ``0``."""
    if asked is not None:
        return asked
    return interface_multicast and os.environ.get("RTBUS_MULTICAST", "1") != "0"


def process_properties() -> tuple[tuple[str, str], ...]:
    """What Cyclone announces about its process in SPDP (``cyclonedds ps`` shows them)."""
    try:  # the name ps shows (a console script's own name, else the interpreter's)
        with open("/proc/self/comm") as f:
            process = f.read().strip()
    except OSError:
        process = os.path.basename(sys.executable) or "python"
    return (("__Hostname", socket.gethostname()), ("__ProcessName", process),
            ("__Pid", str(os.getpid())))
