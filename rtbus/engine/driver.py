"""Drives one sans-IO ParticipantCore: its lock, draining what it produced, one timer.

A datagram goes socket → ``core.receive`` → :meth:`CoreDriver.flush`; ``flush`` sends what
the core produced, dispatches its events and re-arms the single timer at
``core.next_timer()`` (only when that is earlier than the one armed). No protocol decision
is made here, and no byte is edited: the core builds, batches and protects every datagram.

The core is guarded by a lock rather than confined to the loop thread: a write or a take from
a plain thread runs the core call right there (:meth:`CoreDriver.call`) and sends what it
produced from that thread. A thread hop per sample costs ~250 µs, more than the whole
protocol work of a small sample; a lock that the loop holds only while it digests one
datagram costs well under a microsecond when uncontended. Events (deliveries, matches) are
dispatched on the loop thread, because the API objects they wake use asyncio, except those
the ``direct_handler`` takes care of in the thread that caused them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import ClosedError
from ..rtps.participant import ParticipantCore

EventHandler = Callable[[Any], None]
Address = tuple[str, int]


class Sender(Protocol):
    """The part of a transport the driver uses (UdpTransport, or a test's fake)."""

    def send(self, data: bytes, addr: Address, wait: bool = False) -> None: ...


class CoreDriver:
    """One core, its lock and its timer on ``loop`` (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: Sender,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.loop = loop
        self.transport = transport
        self.clock = clock
        self.core: ParticipantCore | None = None
        self.lock = threading.RLock()  # guards core (see the module docstring)
        self.handlers: list[EventHandler] = []
        #: events an application thread may handle itself; returns whether it did, else the
        #: event goes to the loop (see :meth:`hand_over`)
        self.direct_handler: Callable[[Any], bool] | None = None
        self.closed = False
        self.thread_id: int | None = None  # the loop thread's ident, known once started
        self.timer_at: float | None = None  # when the armed timer fires (None: none armed)
        self._timer: asyncio.TimerHandle | None = None
        self._release_posted = False  # a release of held batches is posted to the loop

    def attach(self, core: ParticipantCore) -> None:
        """Start driving ``core`` (on the loop thread)."""
        self.thread_id = threading.get_ident()
        self.core = core
        self.flush()

    def on_loop_thread(self) -> bool:
        return self.thread_id == threading.get_ident()

    # --- on the loop -------------------------------------------------------------------------
    def on_datagram(self, data: bytes, addr: Address, now: float) -> None:
        """A datagram the loop read: digest it, then flush."""
        core = self.core
        if core is None or self.closed:
            return
        with self.lock:
            core.receive(data, addr, now)
        self.flush()

    def flush(self, rearm: bool = True) -> None:
        """Send what the core produced, dispatch its events, re-arm the timer (loop thread).

        ``rearm=False``: the caller knows the loop's timer fires before anything it did is
        due (see :meth:`call`'s ``timer_slack``)."""
        core = self.core
        if core is None or self.closed:
            return
        send = self.transport.send
        while True:
            with self.lock:
                out, events = core.datagrams_to_send(self.clock()), core.events()
            for datagram, addr in out:
                send(datagram, addr)
            if not events:
                break
            self.dispatch(events)  # handlers may cause output (e.g. a take's ACKNACK)
        if rearm:
            self.rearm()

    def dispatch(self, events: list[Any]) -> None:
        for ev in events:
            for handler in self.handlers:
                handler(ev)

    def rearm(self) -> None:
        core = self.core
        if core is None or self.closed:
            return
        with self.lock:
            t = core.next_timer()
        self.arm_at(t)

    def arm_at(self, t: float | None) -> None:
        """Have the timer fire at ``t`` unless it fires earlier already (loop thread)."""
        if t is None or self.closed:
            return
        if self._timer is not None and self.timer_at is not None and self.timer_at <= t:
            return
        if self._timer is not None:
            self._timer.cancel()
        self.timer_at = t
        self._timer = self.loop.call_later(max(0.0, t - self.clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.timer_at = None
        core = self.core
        if core is None or self.closed:
            return
        with self.lock:
            core.handle_timer(self.clock())
        self.flush()

    def _release_batches(self) -> None:
        self._release_posted = False
        self.flush(rearm=False)  # a held batch goes out; nothing new is due

    def _dispatch_and_flush(self, events: list[Any]) -> None:
        if self.closed:
            return
        self.dispatch(events)
        self.flush()

    # --- from any thread ---------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, timer_slack: float = 0.0) -> Any:
        """Run ``fn(*args)`` (a core operation) in this thread and send what it produced.

        Safe from any thread: the core is locked for the call, datagrams go out from this
        thread (small ones a moment apart share a datagram: the core batches them, and the
        loop releases a held batch at once), events and an earlier deadline are handed to the
        loop. On the loop thread this is ``fn`` plus :meth:`flush`.

        ``timer_slack``: the caller knows ``fn`` arms no timer sooner than this many seconds
        from now (a write arms at most a heartbeat period ahead), so while the loop's timer
        fires within that horizon the next deadline need not be recomputed per call.
        """
        core = self.core
        if core is None or self.closed:
            raise ClosedError("the participant is closed")
        timer_at = self.timer_at
        now = self.clock()
        exact = timer_at is None or timer_at > now + timer_slack
        if self.thread_id is None or self.thread_id == threading.get_ident():
            with self.lock:
                result = fn(*args)
            self.flush(rearm=exact)
            return result
        with self.lock:
            result = fn(*args)
            out = core.datagrams_to_send(now, batch=True)
            events = core.events()
            holding = core.holding
            t = core.next_timer() if exact else None
        send = self.transport.send
        for datagram, addr in out:
            send(datagram, addr, wait=True)
        if events:
            self.hand_over(events)
        if holding and not self._release_posted:
            self._release_posted = True
            self.loop.call_soon_threadsafe(self._release_batches)
        if t is not None and (timer_at is None or t < timer_at):
            self.loop.call_soon_threadsafe(self.arm_at, t)
        return result

    def digest_here(self, data: bytes, addr: Address, now: float) -> None:
        """Digest a datagram an application thread read (see ReceiveBaton) in that thread:
        answers go out from here, events and an earlier deadline to the loop."""
        core = self.core
        if core is None or self.closed:
            return
        timer_at = self.timer_at
        with self.lock:
            core.receive(data, addr, now)
            out, events = core.datagrams_to_send(now), core.events()
            t = core.next_timer()
        send = self.transport.send
        for datagram, to in out:
            send(datagram, to, wait=True)
        if events:
            self.hand_over(events)
        if t is not None and (timer_at is None or t < timer_at):
            self.loop.call_soon_threadsafe(self.arm_at, t)

    def hand_over(self, events: list[Any]) -> None:
        """Events that arose in an application thread: those ``direct_handler`` takes care
        of stay here, the rest are dispatched on the loop. The direct handler speaks for the
        participant's handler only: with another handler registered (an observer), every
        event goes to the loop."""
        handler = self.direct_handler if len(self.handlers) == 1 else None
        rest = events if handler is None else [ev for ev in events if not handler(ev)]
        if rest:
            self.loop.call_soon_threadsafe(self._dispatch_and_flush, rest)

    def shut_down(self) -> None:
        """Announce our departure, send everything still held, stop the timer (any thread)."""
        if self.closed:
            return
        self.closed = True
        core = self.core
        if self._timer is not None:
            self._timer.cancel()
        if core is None:
            return
        with self.lock:
            now = self.clock()
            core.shutdown(now)
            out = core.datagrams_to_send(now)
        for datagram, addr in out:
            self.transport.send(datagram, addr)
