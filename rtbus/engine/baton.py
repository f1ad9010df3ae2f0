"""Receiving in a waiting application thread: the baton for the user unicast socket.

A sample that the loop receives costs a thread hand-off (loop → waiting thread): two wake-ups
and a GIL transfer, ~50 µs per sample on a small VM. A thread that is waiting for data anyway
may as well do the receiving itself. One thread at a time holds the baton that entitles it to
read the socket; the loop stops watching the socket while an application thread holds it and
resumes a moment after it lets go.
"""

from __future__ import annotations

import asyncio
import math
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

Address = tuple[str, int]
DatagramHandler = Callable[[bytes, Address, float], None]

RESUME_CHECK = 0.002  # s: while an application thread reads the user socket, the loop looks
RESUME_CHECK_MAX = 0.064  # this often (backing off to this) whether it let go of it at least
RESUME_IDLE = 0.001  # this long ago (then the loop reads it again)


class Receiver(Protocol):
    """The part of a transport the baton uses (UdpTransport, or a test's fake)."""

    counters: Any

    def pause(self, sock: Any) -> None: ...

    def resume(self, sock: Any) -> None: ...

    def receive_pending(self, sock: Any, handler: DatagramHandler | None = None,
                        limit: int = 64) -> int: ...


class ReceiveBaton:
    """Who reads the user unicast socket ``sock``: the loop, or a waiting thread.

    ``digest(data, addr, now)`` processes a datagram in the thread that read it;
    ``on_loop_thread()`` tells whether the caller is the loop's thread (which never waits
    here).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: Receiver, sock: Any,
                 digest: DatagramHandler, on_loop_thread: Callable[[], bool]) -> None:
        self.loop = loop
        self.transport = transport
        self.sock = sock
        self.digest = digest
        self.on_loop_thread = on_loop_thread
        self.closed = False
        self._baton = threading.Lock()  # held by whoever reads the socket
        self.held_by_app = False  # ... and that is an application thread (not the loop)
        self._holder: int | None = None  # that thread's ident
        self._paused = False  # the loop stopped watching it while an app thread read
        self._resume_pending = False  # a _resume check is scheduled
        self._resume_delay = RESUME_CHECK  # ... this far ahead (backs off while held)
        self._left_at = 0.0  # when an application thread last let go of it
        self._poller: Any = None  # select.poll over the socket and the wake eventfd
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK) if hasattr(os, "eventfd") else -1

    # --- the loop's side ---------------------------------------------------------------------
    def on_readable(self) -> None:
        """The loop saw the socket readable: read it, unless an application thread holds
        the baton (it reads then); stop watching until that thread is done, or epoll would
        report the same readiness again and again."""
        if self.closed:
            return
        if not self._baton.acquire(blocking=False):
            self.transport.pause(self.sock)
            self._paused = True
            self._schedule_resume_check()
            return
        try:
            self.transport.receive_pending(self.sock)
        finally:
            self._baton.release()

    def _schedule_resume_check(self, delay: float = RESUME_CHECK) -> None:
        if not self._resume_pending:
            self._resume_pending = True
            self._resume_delay = delay
            self.loop.call_later(delay, self._resume)

    def _resume(self) -> None:
        """While paused: watch the socket again once the application thread has let go of
        it for ``RESUME_IDLE`` (not just between two takes).

        Resuming each time a take returns would wake the loop, and make it compete for the
        GIL, once per sample; a thread taking in a loop is back within microseconds. While
        the thread holds the baton the checks back off (2, 4, ... ``RESUME_CHECK_MAX``
        seconds), so a thread idling in ``take(timeout=60)`` costs a few wake-ups a second
        and nobody posts to the loop from the taking thread.
        """
        self._resume_pending = False
        if not self._paused or self.closed:
            return
        if not self._baton.acquire(blocking=False):  # held: look again, later each time
            self._schedule_resume_check(min(self._resume_delay * 2, RESUME_CHECK_MAX))
            return
        try:
            if time.monotonic() - self._left_at >= RESUME_IDLE:
                self._paused = False
                self.transport.resume(self.sock)
            else:  # let go only just now, probably back soon: look again soon
                self._schedule_resume_check()
        finally:
            self._baton.release()

    @property
    def paused(self) -> bool:
        """The loop is not watching the socket (an application thread has it)."""
        return self._paused

    # --- the waiting thread's side -----------------------------------------------------------
    def wake(self) -> None:
        """Wake the thread waiting in :meth:`receive_until` (any thread). The waiting thread
        itself, digesting a datagram, needs no wake-up: it looks at ``ready()`` next."""
        if self._holder == threading.get_ident():
            return
        if self._wake_fd >= 0:
            try:
                os.eventfd_write(self._wake_fd, 1)
            except OSError:  # pragma: no cover - counter overflow cannot happen at 1 per call
                pass

    def receive_until(self, ready: Callable[[], bool], deadline: float) -> bool | None:
        """Wait in this (application) thread until ``ready()`` or ``deadline``, reading and
        digesting the socket here instead of on the loop. Whoever else may make ``ready()``
        true (the loop, from the multicast socket) wakes it with :meth:`wake`.

        Returns None when it could not wait here (no eventfd, loop thread, closed), False
        when another thread holds the baton (the caller waits on its own event), True after
        waiting here.
        """
        if self._wake_fd < 0 or self.closed or self.on_loop_thread():
            return None
        if not self._baton.acquire(blocking=False):
            return False
        self.held_by_app = True
        self._holder = threading.get_ident()
        try:
            poller = self._poller
            if poller is None:  # one per socket, used by the baton holder only
                poller = self._poller = select.poll()
                poller.register(self.sock.fileno(), select.POLLIN)
                poller.register(self._wake_fd, select.POLLIN)
            sock_fd = self.sock.fileno()
            while not ready() and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for fd, _ in poller.poll(math.ceil(left * 1000)):
                    if fd == sock_fd:
                        self._receive_one()
                    else:
                        try:
                            os.eventfd_read(self._wake_fd)
                        except OSError:
                            pass
        finally:
            self.held_by_app = False
            self._holder = None
            self._left_at = time.monotonic()
            self._baton.release()
        return True

    def _receive_one(self) -> None:
        """Read one datagram (poll said the socket is readable) and digest it here. One: the
        next poll says whether there is more, which costs less than the failing read (an
        exception) that draining would end with, and usually the datagram was the one
        awaited and there is no next poll."""
        n = self.transport.receive_pending(self.sock, self.digest, limit=1)
        self.transport.counters["rx_in_caller"] += n

    def close(self) -> None:
        """Make a waiting thread let go of the socket (within a second) and stop."""
        self.closed = True
        self.wake()
        if self._baton.acquire(timeout=1.0):
            self._baton.release()
        if self._wake_fd >= 0:
            os.close(self._wake_fd)
            self._wake_fd = -1
