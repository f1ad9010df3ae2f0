"""The engine's CoreDriver without sockets or a running loop: a fake loop records what is
scheduled, a fake transport what is sent, and a manual clock stands in for time. What is
pinned: the one timer is re-armed only when the core's deadline is earlier; a write from an
application thread sends from that thread and posts the release of a held batch once; events
raised there reach the loop."""

from __future__ import annotations

import threading
from typing import Any

from rtbus.engine.driver import CoreDriver
from tests.unit.test_core_batching import T0, matched, sample


class FakeHandle:
    def __init__(self, loop: FakeLoop, when: float, fn: Any, args: tuple) -> None:
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False
        self.loop = loop

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """call_later / call_soon_threadsafe, recorded; run_soon() runs what was posted."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.later: list[FakeHandle] = []
        self.soon: list[tuple[Any, tuple]] = []

    def call_later(self, delay: float, fn: Any, *args: Any) -> FakeHandle:
        h = FakeHandle(self, self.clock[0] + delay, fn, args)
        self.later.append(h)
        return h

    def call_soon_threadsafe(self, fn: Any, *args: Any) -> None:
        self.soon.append((fn, args))

    def run_soon(self) -> None:
        posted, self.soon = self.soon, []
        for fn, args in posted:
            fn(*args)

    def armed(self) -> list[FakeHandle]:
        return [h for h in self.later if not h.cancelled]


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Any, bool, int]] = []

    def send(self, data: bytes, addr: Any, wait: bool = False) -> None:
        self.sent.append((data, addr, wait, threading.get_ident()))


def driver_for(core: Any) -> tuple[CoreDriver, FakeLoop, FakeTransport, list[float]]:
    clock = [core._now]
    loop = FakeLoop(clock)
    transport = FakeTransport()
    driver = CoreDriver(loop, transport, clock=lambda: clock[0])  # type: ignore[arg-type]
    driver.attach(core)
    return driver, loop, transport, clock


def test_the_timer_is_rearmed_only_for_an_earlier_deadline() -> None:
    _net, a, _b, _w, _r = matched()
    driver, loop, _, _clock = driver_for(a.core)
    first = loop.armed()
    assert len(first) == 1 and first[0].when == a.core.next_timer()
    driver.arm_at(first[0].when + 1.0)  # later: the armed one stays
    assert loop.armed() == first
    driver.arm_at(first[0].when - 0.5)  # earlier: replaces it
    armed = loop.armed()
    assert len(armed) == 1 and armed[0].when == first[0].when - 0.5 and first[0].cancelled


def test_a_burst_from_an_application_thread_is_sent_there_and_released_by_the_loop() -> None:
    _net, a, b, w, r = matched()
    driver, loop, transport, clock = driver_for(a.core)
    transport.sent.clear()

    def burst() -> None:
        for i in range(8):
            driver.call(a.core.write, w, sample(i), None, 0, T0 + i, clock[0])

    t = threading.Thread(target=burst)
    t.start()
    t.join(10)
    app = t.ident
    assert [s[3] for s in transport.sent] == [app] and transport.sent[0][2]  # wait=True
    assert a.core.holding
    releases = [fn for fn, _ in loop.soon if fn == driver._release_batches]
    assert len(releases) == 1  # posted once for the whole burst
    loop.run_soon()
    assert not a.core.holding
    loop_sent = [s for s in transport.sent if s[3] == threading.get_ident()]
    assert len(loop_sent) == 1
    for datagram, _, _, _ in transport.sent:
        b.core.receive(datagram, None, clock[0])
    assert [bytes(s.payload) for s in b.core.take(r, None, clock[0])] == [sample(i)
                                                                         for i in range(8)]


def test_events_raised_in_an_application_thread_are_dispatched_on_the_loop() -> None:
    _net, a, b, w, _r = matched()
    driver, loop, _transport, clock = driver_for(b.core)
    seen: list[tuple[Any, int]] = []
    driver.handlers.append(lambda ev: seen.append((ev, threading.get_ident())))
    a.core.write(w, sample(1), None, 0, T0, clock[0])
    datagrams = a.core.datagrams_to_send(clock[0])
    t = threading.Thread(target=lambda: [driver.digest_here(d, ("10.0.0.1", 7411), clock[0])
                                         for d, _ in datagrams])
    t.start()
    t.join(10)
    assert not seen  # nothing dispatched in the application thread
    loop.run_soon()
    assert seen and all(tid == threading.get_ident() for _, tid in seen)
