"""The engine of one participant: sockets and one timer around a sans-IO ParticipantCore.

Sockets and the timer live on one event loop (the caller's, or rtbus's background loop for
the synchronous API). A datagram goes socket → ``core.receive`` → ``flush``; ``flush`` sends
what the core produced, dispatches its events to the API objects and re-arms the single timer
at ``core.next_timer()``. No protocol decision is made here.

The core itself is guarded by a lock rather than confined to the loop thread: a write or a
take from a plain thread runs the core call right there (:meth:`Node.call`) and sends what it
produced from that thread. A thread hop per sample costs ~250 µs, more than the whole
protocol work of a small sample; a lock that the loop holds only while it digests one
datagram costs well under a microsecond when uncontended. Events (deliveries, matches) are
always dispatched on the loop thread, because the API objects they wake use asyncio.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import os
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ClosedError
from ..rtps import wire
from ..rtps.participant import ParticipantCore
from ..rtps.ports import SPDP_MULTICAST_GROUP, PortMapping, allocate_participant_id, port_mapping
from ..rtps.spdp import SpdpConfig, new_guid_prefix
from ..transport.interfaces import InterfaceChoice, choose_interface
from ..transport.netconfig import ConfigError
from ..transport.udp import UdpTransport, multicast_socket, unicast_socket

log = logging.getLogger("rtbus.engine.node")

EventHandler = Callable[[Any], None]
BATCH_WINDOW = 0.0002  # s: a send this soon after the previous one to an address is batched
_RTPS_HEADER = 20
RESUME_CHECK = 0.002  # s: while an application thread reads the user socket, the loop looks
RESUME_CHECK_MAX = 0.064  # this often (backing off to this) whether it let go of it at least
RESUME_IDLE = 0.001  # this long ago (then the loop reads it again)
# a write arms at most the writer's heartbeat, one heartbeat period (>= 0.1 s by default) ahead
WRITE_TIMER_SLACK = 0.05
# a take arms a timer only when it resumes a stream held on a full history (an ACKNACK after
# the NACK delay); the loop's next timer may be up to this late for it
TAKE_TIMER_SLACK = 0.01


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


def process_properties() -> tuple[tuple[str, str], ...]:
    """What Cyclone announces about its process in SPDP (``cyclonedds ps`` shows them)."""
    try:  # the name ps shows (a console script's own name, else the interpreter's)
        with open("/proc/self/comm") as f:
            process = f.read().strip()
    except OSError:
        process = os.path.basename(sys.executable) or "python"
    return (("__Hostname", socket.gethostname()), ("__ProcessName", process),
            ("__Pid", str(os.getpid())))


def _key_hashers(cls: Any) -> tuple[Callable[[Any], bytes | None], Callable[[Any], bytes | None]]:
    """Key hashes for peers that send none (Cyclone by default), read straight from the
    bytes by the type's compiled key extractor: of a whole sample, and of a DATA(K)'s key
    payload (dispose/unregister). Bytes that do not hold a key give None (the core counts
    such a sample and drops it)."""
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
        self._peer_locators = initial_peer_locators(self.peers, domain_id)  # raises here
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
        self.lock = threading.RLock()  # guards core (see the module docstring)
        self._thread_id: int | None = None  # the loop thread's ident, known once started
        # batching of datagrams sent from application threads (see _batch_or_send)
        self._batch_lock = threading.Lock()
        self._batches: dict[tuple[str, int], bytearray] = {}
        self._last_send: dict[tuple[str, int], float] = {}
        self._flush_scheduled = False
        self._batch_limit = wire.DEFAULT_MAX_MESSAGE_SIZE
        # receiving in a waiting application thread (see receive_until)
        self._user_sock: socket.socket | None = None
        self._baton = threading.Lock()  # held by whoever reads the user unicast socket
        self._baton_app = False  # ... and that is an application thread (not the loop)
        self._user_paused = False  # the loop stopped watching it while an app thread read
        self._resume_pending = False  # a _resume_user check is scheduled
        self._resume_delay = RESUME_CHECK  # ... this far ahead (backs off while held)
        self._baton_left_at = 0.0  # when an application thread last let go of it
        self._poller: Any = None  # select.poll over the user socket and the wake eventfd
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK) if hasattr(os, "eventfd") else -1
        #: events an application thread may handle itself (see receive_until); returns
        #: whether it did, else the event goes to the loop
        self.direct_handler: Callable[[Any], bool] | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._thread_id = threading.get_ident()
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
        self._user_sock = bound["user"]
        await self.transport.add_socket(bound["user"], sender=True,
                                        on_readable=self._on_user_readable)
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
        self.core = ParticipantCore(
            new_guid_prefix(), self.domain_id,
            metatraffic_unicast=(wire.Locator.udpv4(ip, m.metatraffic_unicast),),
            default_unicast=(wire.Locator.udpv4(ip, m.user_unicast),),
            metatraffic_multicast=meta_mc, default_multicast=user_mc,
            announce_locators=announce, lease_duration=self.lease_duration, name=self.name,
            spdp_config=SpdpConfig(initial_period=0.1, initial_count=5), now=self.now(),
            properties=process_properties())
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
            self._flush_batches()
            with self.lock:
                self.core.shutdown(self.now())
            self._send_pending()
        if self._timer is not None:
            self._timer.cancel()
        self.wake_direct()  # a thread in receive_until lets go of the socket before it closes
        if self._baton.acquire(timeout=1.0):
            self._baton.release()
        self.transport.close()
        if self._wake_fd >= 0:
            os.close(self._wake_fd)
            self._wake_fd = -1

    # --- driving the core --------------------------------------------------------------------
    @staticmethod
    def now() -> float:
        return time.monotonic()

    def _on_datagram(self, data: bytes, addr: tuple[str, int], now: float) -> None:
        core = self.core
        if core is None or self._closed:
            return
        with self.lock:
            core.receive(data, now)
        self.flush()

    def _drain(self) -> tuple[list[tuple[bytes, tuple[str, int]]], list[Any]]:
        core = self.core
        assert core is not None
        with self.lock:
            return core.datagrams_to_send(), core.events()

    def _send_pending(self) -> None:
        assert self.core is not None
        with self.lock:
            out = self.core.datagrams_to_send()
        for datagram, addr in out:
            self.transport.send(datagram, addr)

    def flush(self, rearm: bool = True) -> None:
        """Send what the core produced, dispatch its events, re-arm the timer (loop thread).

        ``rearm=False``: the caller knows the loop's timer fires before anything it did is
        due (see ``call``'s ``timer_slack``)."""
        if self.core is None or self._closed:
            return
        while True:
            out, events = self._drain()
            for datagram, addr in out:
                self.transport.send(datagram, addr)
            if not events:
                break
            self._dispatch(events)  # handlers may cause output (e.g. a take's ACKNACK)
        if rearm:
            self._rearm()

    def _dispatch(self, events: list[Any]) -> None:
        for ev in events:
            for handler in self.handlers:
                handler(ev)

    def _rearm(self) -> None:
        core = self.core
        if core is None or self._closed:
            return
        with self.lock:
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
        core = self.core
        if core is None or self._closed:
            return
        with self.lock:
            core.handle_timer(self.now())
        self.flush()

    # --- calls from any thread ---------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, timer_slack: float = 0.0) -> Any:
        """Run ``fn(*args)`` (a core operation) in this thread and send what it produced.

        Safe from any thread: the core is locked for the call, datagrams go out from this
        thread, events and an earlier timer are handed to the loop. On the loop thread this is
        ``fn`` plus ``flush``.

        ``timer_slack``: the caller knows ``fn`` arms no timer sooner than this many seconds
        from now (a write arms at most a heartbeat period ahead), so while the loop's timer
        fires within that horizon the next deadline need not be recomputed per call.
        """
        core = self.core
        if core is None or self._closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")
        timer_at = self._timer_at
        exact = timer_at is None or timer_at > time.monotonic() + timer_slack
        if self._thread_id is None or self._thread_id == threading.get_ident():
            with self.lock:
                result = fn(*args)
            self.flush(rearm=exact)
            return result
        with self.lock:
            result = fn(*args)
            out, events = core.datagrams_to_send(), core.events()
            t = core.next_timer() if exact else None
        for datagram, addr in out:
            self._batch_or_send(datagram, addr)
        if events:
            self._hand_over(events)
        if t is not None and (timer_at is None or t < timer_at):
            self.loop.call_soon_threadsafe(self._rearm)
        return result

    # --- the context the API uses: writers and readers never touch the core directly ----------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def prefix(self) -> bytes:
        assert self.core is not None
        return bytes(self.core.prefix)

    def on_loop_thread(self) -> bool:
        """Is the caller the engine loop's thread (where waiting would stall the loop)?"""
        return self._thread_id == threading.get_ident()

    @property
    def receiving_in_app_thread(self) -> bool:
        """An application thread holds the user socket (see :meth:`receive_until`)."""
        return self._baton_app

    def counters(self) -> dict[str, int]:
        with self.lock:
            out = dict(self.transport.counters)
            if self.core is not None:
                out.update(self.core.counters)
                for ep in self.core.readers.values():  # the readers' drops, summed
                    for name, n in ep.core.counters.items():
                        if name.startswith("dropped_"):
                            out[name] = out.get(name, 0) + n
        return out

    def local_participant_data(self) -> Any:
        """This participant's own SPDP data (None before start)."""
        return self.core.local if self.core is not None else None

    def core_add_writer(self, topic: Any, qos: Any) -> wire.Guid:
        assert self.core is not None
        return self.core.add_writer(topic.name, topic.type_name, qos, topic.keyed, self.now(),
                                    type_model=topic.model)

    def core_add_reader(self, topic: Any, qos: Any, reader: Any) -> wire.Guid:
        assert self.core is not None
        keyed = topic.keyed
        of_sample, of_key = _key_hashers(topic.type) if keyed else (None, None)
        return self.core.add_reader(topic.name, topic.type_name, qos, keyed, self.now(), None,
                                    of_sample, of_key, type_model=topic.model)

    def core_remove_endpoint(self, guid: wire.Guid) -> None:
        assert self.core is not None
        self.core.remove_endpoint(guid, self.now())

    def write(self, guid: wire.Guid, payload: bytes, key_hash: bytes | None, status: int,
              timestamp: int) -> Any:
        """One write (Written or WouldBlock), from any thread."""
        return self.call(self.core.write, guid, payload, key_hash, status,  # type: ignore[union-attr]
                         timestamp, time.monotonic(), timer_slack=WRITE_TIMER_SLACK)

    def take(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]:
        return self.call(self.core.take, guid, max_samples,  # type: ignore[union-attr, no-any-return]
                         time.monotonic(), select, timer_slack=TAKE_TIMER_SLACK)

    def read(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]:
        self._check_open()
        with self.lock:
            return self.core.read(guid, max_samples, select)  # type: ignore[union-attr, no-any-return]

    def has_samples(self, guid: wire.Guid, select: Any) -> bool:
        self._check_open()
        with self.lock:
            return self.core.has_samples(guid, select)  # type: ignore[union-attr]

    def has_instance(self, guid: wire.Guid, key_hash: bytes | None) -> bool:
        self._check_open()
        with self.lock:
            return self.core.has_instance(guid, key_hash)  # type: ignore[union-attr]

    def writer_acked(self, guid: wire.Guid) -> bool:
        """Has every reliable matched reader acknowledged all this writer wrote?"""
        self._check_open()
        with self.lock:
            return self.core.acked_by_all(guid)  # type: ignore[union-attr]

    def _check_open(self) -> None:
        if self.core is None or self._closed:
            raise ClosedError(f"participant on domain {self.domain_id} is closed")

    # --- receiving in a waiting application thread ------------------------------------------
    def _on_user_readable(self) -> None:
        """The loop saw the user unicast socket readable: read it, unless an application
        thread holds the baton (it reads then); stop watching until that thread is done,
        or epoll would report the same readiness again and again."""
        sock = self._user_sock
        if sock is None or self._closed:
            return
        if not self._baton.acquire(blocking=False):
            self.transport.pause(sock)
            self._user_paused = True
            self._schedule_resume_check()
            return
        try:
            self.transport.receive_pending(sock)
        finally:
            self._baton.release()

    def _schedule_resume_check(self, delay: float = RESUME_CHECK) -> None:
        if not self._resume_pending:
            self._resume_pending = True
            self._resume_delay = delay
            self.loop.call_later(delay, self._resume_user)

    def _resume_user(self) -> None:
        """While paused: watch the user socket again once the application thread has let
        go of it for ``RESUME_IDLE`` (not just between two takes).

        Resuming each time a take returns would wake the loop, and make it compete for the
        GIL, once per sample; a thread taking in a loop is back within microseconds. While
        the thread holds the baton the checks back off (2, 4, ... ``RESUME_CHECK_MAX``
        seconds), so a thread idling in ``take(timeout=60)`` costs a few wake-ups a second
        and nobody posts to the loop from the taking thread.
        """
        self._resume_pending = False
        sock = self._user_sock
        if not self._user_paused or sock is None or self._closed:
            return
        if not self._baton.acquire(blocking=False):  # held: look again, later each time
            self._schedule_resume_check(min(self._resume_delay * 2, RESUME_CHECK_MAX))
            return
        try:
            if time.monotonic() - self._baton_left_at >= RESUME_IDLE:
                self._user_paused = False
                self.transport.resume(sock)
            else:  # let go only just now, probably back soon: look again soon
                self._schedule_resume_check()
        finally:
            self._baton.release()

    def wake_direct(self) -> None:
        """Wake the thread waiting in :meth:`receive_until` (any thread)."""
        if self._wake_fd >= 0:
            try:
                os.eventfd_write(self._wake_fd, 1)
            except OSError:  # pragma: no cover - counter overflow cannot happen at 1 per call
                pass

    def receive_until(self, ready: Callable[[], bool], deadline: float) -> bool | None:
        """Wait in this (application) thread until ``ready()`` or ``deadline``, reading and
        processing the user unicast socket here instead of on the loop.

        A sample that the loop receives costs a thread hand-off (loop → waiting thread): two
        wake-ups and a GIL transfer, ~50 µs per sample on a small VM. A thread that is
        waiting anyway may as well do the receiving itself. One thread at a time holds the
        baton that entitles it to read; the loop stops watching the socket while an
        application thread holds it and resumes a moment after it lets go. Events the
        thread cannot handle itself (``direct_handler``) go to the loop as usual. Whoever
        else may deliver to the waiter (the loop, from the multicast socket) wakes it with
        :meth:`wake_direct`.

        Returns None when it could not wait here (no eventfd, loop thread, closed), False
        when another thread holds the baton (the caller waits on its own event), True after
        waiting here.
        """
        sock = self._user_sock
        if sock is None or self._wake_fd < 0 or self._closed \
                or self._thread_id == threading.get_ident():
            return None
        if not self._baton.acquire(blocking=False):
            return False
        self._baton_app = True
        try:
            poller = self._poller
            if poller is None:  # one per node, used by the baton holder only
                poller = self._poller = select.poll()
                poller.register(sock.fileno(), select.POLLIN)
                poller.register(self._wake_fd, select.POLLIN)
            user_fd = sock.fileno()
            while not ready() and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for fd, _ in poller.poll(math.ceil(left * 1000)):
                    if fd == user_fd:
                        self._receive_here(sock)
                    else:
                        try:
                            os.eventfd_read(self._wake_fd)
                        except OSError:
                            pass
        finally:
            self._baton_app = False
            self._baton_left_at = time.monotonic()
            self._baton.release()
        return True

    def _hand_over(self, events: list[Any]) -> None:
        """Events that arose in an application thread: those ``direct_handler`` takes care
        of stay here, the rest are dispatched on the loop. The direct handler speaks for the
        participant's handler only: with another handler registered (an observer), every
        event goes to the loop."""
        handler = self.direct_handler if len(self.handlers) == 1 else None
        rest = events if handler is None else [ev for ev in events if not handler(ev)]
        if rest:
            self.loop.call_soon_threadsafe(self._dispatch_and_flush, rest)

    def _receive_here(self, sock: socket.socket) -> None:
        """Read one datagram from ``sock`` (poll said it is readable) and digest it in this
        thread (baton held). One: the caller's next poll says whether there is more, which
        costs less than the failing read (an exception) that draining would end with, and
        usually the datagram was the one awaited and there is no next poll."""
        core = self.core
        if core is None:
            return
        self.transport.receive_pending(sock, self._on_datagram_here, limit=1)

    def _on_datagram_here(self, data: bytes, addr: tuple[str, int], now: float) -> None:
        core = self.core
        if core is None or self._closed:
            return
        self.transport.counters["rx_in_caller"] += 1
        timer_at = self._timer_at
        with self.lock:
            core.receive(data, now)
            out, events = core.datagrams_to_send(), core.events()
            t = core.next_timer()
        for datagram, to in out:
            self.transport.send(datagram, to, wait=True)
        if events:
            self._hand_over(events)
        if t is not None and (timer_at is None or t < timer_at):
            self.loop.call_soon_threadsafe(self._rearm)

    # --- send batching for application threads ----------------------------------------------
    def _batch_or_send(self, datagram: bytes, addr: tuple[str, int]) -> None:
        """Send ``datagram`` now, or append its submessages to a batch for ``addr``.

        A write that follows the previous send to the same address within ``BATCH_WINDOW``
        joins a batch instead of costing its own syscall (and the receiver its own wake-up):
        every RTPS message rtbus builds restates INFO_DST and INFO_TS before its DATA, so
        messages from one participant concatenate into one message with the same meaning.
        The batch goes out when it would exceed ``max_message_size``, or from the loop a
        moment later (``call_soon``), so a lone write still leaves at once and a burst of
        writes shares datagrams. Writers that send rarely (ping-pong) never batch.
        """
        with self._batch_lock:
            batch = self._batches.get(addr)
            if len(datagram) > self._batch_limit // 2:  # already full enough: keep order, send
                if batch is not None:
                    del self._batches[addr]
                    self.transport.send(bytes(batch), addr, wait=True)
                self.transport.send(datagram, addr, wait=True)
                self._last_send[addr] = time.monotonic()
                return
            if batch is not None:
                if len(batch) + len(datagram) - _RTPS_HEADER <= self._batch_limit:
                    batch += memoryview(datagram)[_RTPS_HEADER:]
                    return
                del self._batches[addr]
                self.transport.send(bytes(batch), addr, wait=True)
                self._last_send[addr] = time.monotonic()
                self._batches[addr] = bytearray(datagram)
                return
            now = time.monotonic()
            last = self._last_send.get(addr)
            self._last_send[addr] = now
            if last is None or now - last > BATCH_WINDOW:
                self.transport.send(datagram, addr, wait=True)
                return
            self._batches[addr] = bytearray(datagram)
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if schedule:
            self.loop.call_soon_threadsafe(self._flush_batches)

    def _flush_batches(self) -> None:
        with self._batch_lock:
            batches, self._batches = self._batches, {}
            self._flush_scheduled = False
            now = time.monotonic()
            for addr, batch in batches.items():
                self.transport.send(bytes(batch), addr)
                self._last_send[addr] = now

    def _dispatch_and_flush(self, events: list[Any]) -> None:
        if self._closed:
            return
        self._dispatch(events)
        self.flush()
