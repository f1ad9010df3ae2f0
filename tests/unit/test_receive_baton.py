"""The receive baton without a network: a Unix datagram socket pair stands in for the user
socket, a fake transport reads it. A thread waiting in receive_until digests what arrives in
that thread; a delivery it digests itself must not wake it through the eventfd (that was one
syscall, and one extra poll, per sample), while a wake from another thread must."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import pytest

from rtbus.engine.baton import ReceiveBaton

pytestmark = pytest.mark.skipif(not hasattr(os, "eventfd"), reason="needs os.eventfd (Linux)")


class FakeTransport:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {"rx_in_caller": 0}

    def pause(self, sock: Any) -> None: ...

    def resume(self, sock: Any) -> None: ...

    def receive_pending(self, sock: Any, handler: Any = None, limit: int = 64) -> int:
        n = 0
        while n < limit:
            try:
                data = sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            n += 1
            if handler is not None:
                handler(data, ("local", 0), 0.0)
        return n


def eventfd_pending(baton: ReceiveBaton) -> bool:
    try:
        os.eventfd_read(baton._wake_fd)
    except BlockingIOError:
        return False
    return True


def test_the_waiting_thread_does_not_wake_itself_but_others_wake_it() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    got: list[bytes] = []
    baton: ReceiveBaton

    def digest(data: bytes, addr: Any, now: float) -> None:
        got.append(data)
        baton.wake()  # what a reader's delivery does when a thread waits for it

    baton = ReceiveBaton(None, FakeTransport(), ours, digest,  # type: ignore[arg-type]
                         on_loop_thread=lambda: False)
    try:
        for i in range(3):
            theirs.send(b"sample %d" % i)
        assert baton.receive_until(lambda: len(got) == 3, deadline=time.monotonic() + 10) is True
        assert got == [b"sample 0", b"sample 1", b"sample 2"]
        assert baton.transport.counters["rx_in_caller"] == 3
        assert not eventfd_pending(baton), "the digesting thread woke itself"
        # another thread's wake (the loop delivering from the multicast socket) gets through
        t = threading.Thread(target=baton.wake)
        t.start()
        t.join()
        assert eventfd_pending(baton)
    finally:
        baton.close()
        ours.close()
        theirs.close()
