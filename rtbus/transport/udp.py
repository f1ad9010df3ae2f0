"""UDPv4 sockets for RTPS: unicast and multicast receivers plus one sender, on asyncio.

This is the only module that touches sockets. It moves bytes and nothing else: every
datagram received goes to one callback ``on_datagram(data, (host, port), now)``, which hands
it to the sans-IO core; sends are fire-and-forget (UDP).
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("rtbus.transport")

DatagramHandler = Callable[[bytes, tuple[str, int], float], None]
DEFAULT_RCVBUF = 4 * 1024 * 1024
DEFAULT_SNDBUF = 1 * 1024 * 1024
SEND_WAIT = 0.05  # seconds a writing thread may wait for socket buffer room


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, handler: DatagramHandler, counters: dict[str, int]) -> None:
        self.handler = handler
        self.counters = counters

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.counters["rx_datagrams"] += 1
        try:
            self.handler(data, addr, time.monotonic())
        except Exception:
            self.counters["rx_handler_errors"] += 1
            log.exception("error handling datagram from %s", addr)

    def error_received(self, exc: Exception) -> None:
        self.counters["rx_errors"] += 1
        log.debug("socket error: %s", exc)


def _set_buffers(sock: socket.socket, rcvbuf: int, sndbuf: int) -> None:
    for opt, size in ((socket.SO_RCVBUF, rcvbuf), (socket.SO_SNDBUF, sndbuf)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, size)
        except OSError as exc:  # pragma: no cover - kernels cap silently, rarely refuse
            log.debug("buffer size %d refused: %s", size, exc)


def multicast_socket(group: str, port: int, interface_ip: str, rcvbuf: int = DEFAULT_RCVBUF,
                     sndbuf: int = DEFAULT_SNDBUF) -> socket.socket:
    """A socket bound to ``port`` (shared with other participants) that joined ``group``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    _set_buffers(sock, rcvbuf, sndbuf)
    sock.bind(("", port))
    mreq = socket.inet_aton(group) + socket.inet_aton(interface_ip)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.setblocking(False)
    return sock


def unicast_socket(interface_ip: str, port: int, rcvbuf: int = DEFAULT_RCVBUF,
                   sndbuf: int = DEFAULT_SNDBUF) -> socket.socket:
    """A socket bound to ``port`` (0 = any) on all addresses, sending multicast via the interface.

    Raises OSError(EADDRINUSE) when the port is taken: that is how participant ids are allocated.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    _set_buffers(sock, rcvbuf, sndbuf)
    sock.bind(("", port))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface_ip))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setblocking(False)
    return sock


@dataclass
class UdpTransport:
    """A set of receiving sockets feeding one handler, and a sender socket."""

    handler: DatagramHandler
    counters: dict[str, int] = field(default_factory=lambda: {
        "rx_datagrams": 0, "rx_errors": 0, "rx_handler_errors": 0, "tx_datagrams": 0,
        "tx_errors": 0})
    _transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    _sender: socket.socket | None = None

    async def add_socket(self, sock: socket.socket, sender: bool = False) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self.handler, self.counters), sock=sock)
        self._transports.append(transport)  # type: ignore[arg-type]
        if sender:
            self._sender = sock

    def send(self, data: bytes, addr: tuple[str, int], wait: bool = False) -> None:
        """Send one datagram. ``wait``: when the socket buffer is full, wait (up to
        ``SEND_WAIT`` seconds) for room instead of dropping; only for callers outside the
        event loop (a writing application thread), which this back-pressures."""
        sock = self._sender
        if sock is None:
            raise RuntimeError("transport has no sender socket")
        try:
            sock.sendto(data, addr)
            self.counters["tx_datagrams"] += 1
            return
        except BlockingIOError as exc:
            if not wait:
                self.counters["tx_errors"] += 1
                log.debug("send to %s failed: %s", addr, exc)
                return
        except OSError as exc:
            self.counters["tx_errors"] += 1
            log.debug("send to %s failed: %s", addr, exc)
            return
        end = time.monotonic() + SEND_WAIT
        while time.monotonic() < end:
            select.select([], [sock], [], SEND_WAIT)
            try:
                sock.sendto(data, addr)
                self.counters["tx_datagrams"] += 1
                self.counters["tx_waited"] = self.counters.get("tx_waited", 0) + 1
                return
            except BlockingIOError:
                continue
            except OSError:
                break
        self.counters["tx_errors"] += 1

    def close(self) -> None:
        for t in self._transports:
            t.close()
        self._transports.clear()
        self._sender = None
