"""UDPv4 sockets for RTPS: binding the unicast and multicast sockets, reading them, sending.

This is the only module that reads or writes a socket, and it moves bytes and nothing else:
no parsing, no batching (the core joins messages in ``datagrams_to_send``), no retry beyond
waiting for buffer room. A datagram read goes to a handler ``(data, (host, port), now)``
(the core driver's, or the one a reading thread passes). Sockets are read in one of two ways:
through an asyncio datagram transport on the loop, or, for a socket whose owner wants to read
it from other threads too (the user unicast socket and its receive baton), by calling the
owner back when it is readable and reading with :meth:`UdpTransport.receive_pending`.

Socket buffer sizes are asked for (``RTBUS_SOCKET_RCVBUF``/``RTBUS_SOCKET_SNDBUF`` or the
config file, see ``netconfig``) and then read back, because kernels cap them silently
(Linux at ``net.core.rmem_max``/``wmem_max``): a reader that drops fragments under load
because its buffer is a quarter of what was configured should be told so in the log, and
the granted sizes are kept in ``UdpTransport.sockets`` for anyone who asks.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .netconfig import buffer_size

log = logging.getLogger("rtbus.transport")

DatagramHandler = Callable[[bytes, tuple[str, int], float], None]
DEFAULT_RCVBUF = 4 * 1024 * 1024
DEFAULT_SNDBUF = 1 * 1024 * 1024
_MAX_DATAGRAM = 65536
SEND_WAIT = 0.05  # seconds a writing thread may wait for socket buffer room
#: Linux option number (``IP_MULTICAST_ALL``, not exported by every Python build).
_IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)


@dataclass(frozen=True)
class SocketInfo:
    """What one socket is bound to, and the buffer sizes asked for and granted (bytes)."""

    address: tuple[str, int]
    group: str | None
    rcvbuf_requested: int
    rcvbuf: int
    sndbuf_requested: int
    sndbuf: int


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


def granted_buffers(sock: socket.socket) -> tuple[int, int]:
    """(receive, send) buffer sizes the kernel granted, in the units they were asked in.

    Linux reports twice the size it accounts for payload (it doubles every request to cover
    its bookkeeping); halving gives the number to compare with the request.
    """
    rcv = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    snd = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    if sys.platform.startswith("linux"):
        return rcv // 2, snd // 2
    return rcv, snd


def _set_buffers(sock: socket.socket, rcvbuf: int | None, sndbuf: int | None) -> tuple[int, int]:
    """Ask for the buffer sizes (None: configured or default); return what was asked.

    A shortfall is logged once per process and size: as a warning when the size was
    configured (someone wanted it), at info level when it is only our default.
    """
    asked = (buffer_size("socket_receive_buffer", DEFAULT_RCVBUF, rcvbuf),
             buffer_size("socket_send_buffer", DEFAULT_SNDBUF, sndbuf))
    defaults = (DEFAULT_RCVBUF, DEFAULT_SNDBUF)
    for opt, size in zip((socket.SO_RCVBUF, socket.SO_SNDBUF), asked, strict=True):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, size)
        except OSError as exc:  # pragma: no cover - kernels cap silently, rarely refuse
            log.warning("socket buffer size %d refused: %s", size, exc)
    granted = granted_buffers(sock)
    for i, (what, sysctl) in enumerate((("receive", "net.core.rmem_max"),
                                        ("send", "net.core.wmem_max"))):
        want, got = asked[i], granted[i]
        if got < want and (what, want, got) not in _REPORTED_SHORTFALLS:
            _REPORTED_SHORTFALLS.add((what, want, got))
            level = logging.INFO if want == defaults[i] else logging.WARNING
            log.log(level, "socket %s buffer: asked for %d bytes, the kernel granted %d (raise "
                    "%s to get more)", what, want, got, sysctl)
    return asked


_REPORTED_SHORTFALLS: set[tuple[str, int, int]] = set()


class RtpsSocket(socket.socket):
    """A UDP socket that remembers the buffer sizes asked for and the group it joined."""

    asked: tuple[int, int] = (0, 0)
    group: str | None = None


def multicast_socket(group: str, port: int, interface_ip: str, rcvbuf: int | None = None,
                     sndbuf: int | None = None) -> socket.socket:
    """A socket bound to ``port`` (shared with other participants) that joined ``group``.

    It receives only the groups it joined itself (``IP_MULTICAST_ALL`` off): by default Linux
    hands a wildcard-bound socket every group any socket on the host joined on that port.
    """
    sock = RtpsSocket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.asked = _set_buffers(sock, rcvbuf, sndbuf)
        if sys.platform.startswith("linux"):
            sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
        sock.bind(("", port))
        mreq = socket.inet_aton(group) + socket.inet_aton(interface_ip)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    except BaseException:
        sock.close()
        raise
    sock.group = group
    sock.setblocking(False)
    return sock


def unicast_socket(interface_ip: str, port: int, rcvbuf: int | None = None,
                   sndbuf: int | None = None) -> socket.socket:
    """A socket bound to ``port`` (0 = any) on all addresses, sending multicast via the interface.

    Raises OSError(EADDRINUSE) when the port is taken: that is how participant ids are allocated.
    """
    sock = RtpsSocket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.asked = _set_buffers(sock, rcvbuf, sndbuf)
        sock.bind(("", port))
    except BaseException:
        sock.close()  # EADDRINUSE is routine (participant id search): do not leak the fd
        raise
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface_ip))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setblocking(False)
    return sock


@dataclass
class UdpTransport:
    """One participant's sockets: receivers feeding one handler (or read by their owner),
    and the one of them that also sends."""

    handler: DatagramHandler
    counters: dict[str, int] = field(default_factory=lambda: {
        "rx_datagrams": 0, "rx_errors": 0, "rx_handler_errors": 0, "rx_in_caller": 0,
        "tx_datagrams": 0, "tx_errors": 0})
    #: One entry per receiving socket, in the order they were added.
    sockets: list[SocketInfo] = field(default_factory=list)
    _transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    _sender: socket.socket | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _polled: dict[int, tuple[socket.socket, Callable[[], None]]] = field(default_factory=dict)

    async def add_socket(self, sock: socket.socket, sender: bool = False,
                         on_readable: Callable[[], None] | None = None) -> None:
        """Receive on ``sock``: through an asyncio datagram transport, or, with
        ``on_readable``, by calling it whenever the socket is readable; it then reads with
        :meth:`receive_pending`, from whichever thread it chooses (see ReceiveBaton).
        ``sender``: :meth:`send` sends from this socket (so peers see its port as the source)."""
        rcv, snd = granted_buffers(sock)
        rcv_asked, snd_asked = getattr(sock, "asked", (rcv, snd))
        host, port = sock.getsockname()[:2]
        self.sockets.append(SocketInfo((host, port), getattr(sock, "group", None), rcv_asked,
                                       rcv, snd_asked, snd))
        loop = asyncio.get_running_loop()
        if on_readable is not None:
            self._loop = loop
            self._polled[sock.fileno()] = (sock, on_readable)
            loop.add_reader(sock.fileno(), on_readable)
        else:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Receiver(self.handler, self.counters), sock=sock)
            self._transports.append(transport)  # type: ignore[arg-type]
        if sender:
            self._sender = sock

    # --- polled sockets ----------------------------------------------------------------------
    def pause(self, sock: socket.socket) -> None:
        """Stop the loop watching ``sock`` (loop thread only)."""
        if self._loop is not None and sock.fileno() in self._polled:
            self._loop.remove_reader(sock.fileno())

    def resume(self, sock: socket.socket) -> None:
        """Watch ``sock`` again (loop thread only)."""
        entry = self._polled.get(sock.fileno())
        if self._loop is not None and entry is not None:
            self._loop.add_reader(sock.fileno(), entry[1])

    def receive_pending(self, sock: socket.socket, handler: DatagramHandler | None = None,
                        limit: int = 64) -> int:
        """Read up to ``limit`` datagrams that are waiting on ``sock`` (never blocks) and hand
        each to ``handler`` (default: the transport's); return how many were read. Any
        thread, one at a time."""
        handler = handler or self.handler
        counters, recv = self.counters, sock.recvfrom
        n = 0
        while n < limit:
            try:
                data, addr = recv(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                counters["rx_errors"] += 1
                log.debug("socket error: %s", exc)
                break
            n += 1
            counters["rx_datagrams"] += 1
            try:
                handler(data, addr, time.monotonic())
            except Exception:
                counters["rx_handler_errors"] += 1
                log.exception("error handling datagram from %s", addr)
        return n

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
        for fd, (sock, _) in list(self._polled.items()):
            if self._loop is not None and not self._loop.is_closed():
                try:
                    self._loop.remove_reader(fd)
                except RuntimeError:  # pragma: no cover - loop closing from another thread
                    pass
            sock.close()
        self._polled.clear()
        self._sender = None
