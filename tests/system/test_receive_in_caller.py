"""A blocking take digests datagrams in the taking thread (Node.receive_until), and nothing
else loses by it: async takers and listeners are still woken, and once the thread stops
taking the engine loop reads the socket again."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import rtbus
import rtbus.idl
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")


def shape(x: int, color: str = "BLUE") -> object:
    return Shape(color=color, x=x, y=0, shapesize=1, additional_payload_size=[])


def pair(pub: rtbus.Participant, sub: rtbus.Participant, topic: str) -> tuple[Any, Any]:
    """A reliable writer of ``topic`` on ``pub`` and its matched reader on ``sub``."""
    w = pub.create_writer(pub.create_topic(topic, Shape), RELIABLE)
    r = sub.create_reader(sub.create_topic(topic, Shape), RELIABLE)
    assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
    return w, r


def test_ping_pong_is_digested_by_the_taking_threads_and_loses_nothing(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        ping_w, ping_r = pair(a, b, "Ping")
        pong_w, pong_r = pair(b, a, "Pong")
        echoed: list[int] = []

        def echo() -> None:
            while len(echoed) < 300:
                for s in ping_r.take(timeout=5.0):
                    echoed.append(s.data.x)
                    pong_w.write(s.data)

        t = threading.Thread(target=echo)
        t.start()
        before = a.counters()["rx_in_caller"]
        got = []
        for i in range(300):
            ping_w.write(shape(i))
            while True:
                back = pong_r.take(timeout=5.0)
                assert back, f"no pong for {i}"
                got += [s.data.x for s in back]
                if got[-1] == i:
                    break
        t.join(10)
        assert got == list(range(300)) and echoed == list(range(300))
        # most replies were read by this thread, not handed over by the loop
        assert a.counters()["rx_in_caller"] - before > 150
        assert b.counters()["rx_in_caller"] > 150


def test_an_async_taker_is_woken_when_a_blocked_thread_digests_its_data(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w_sync, r_sync = pair(a, b, "Sync")
        w_async, r_async = pair(a, b, "Async")
        # a thread blocks in take on r_sync, so it holds b's socket while r_async's data comes
        blocked = threading.Thread(target=lambda: r_sync.take(timeout=3.0))
        blocked.start()
        assert wait_until(lambda: b.node.receiving_in_app_thread)

        async def consume() -> list[int]:
            out: list[int] = []
            while len(out) < 5:
                out += [s.data.x for s in await r_async.take_async()]
            return out

        fut = asyncio.run_coroutine_threadsafe(consume(), b.node.loop)
        time.sleep(0.1)  # the coroutine is waiting now
        for i in range(5):
            w_async.write(shape(i))
        assert fut.result(5) == [0, 1, 2, 3, 4]
        assert b.counters()["rx_in_caller"] > 0
        w_sync.write(shape(99))
        blocked.join(5)
        assert not blocked.is_alive()


def test_a_listener_still_runs_on_the_engine_thread(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w1, r1 = pair(a, b, "One")
        w2, r2 = pair(a, b, "Two")
        threads: list[str] = []
        r2.on_data_available = lambda r: threads.append(threading.current_thread().name)
        blocked = threading.Thread(target=lambda: r1.take(timeout=3.0), name="taker")
        blocked.start()
        assert wait_until(lambda: b.node.receiving_in_app_thread)
        w2.write(shape(1))
        assert wait_until(lambda: bool(threads))
        assert set(threads) == {"rtbus-engine"}
        assert [s.data.x for s in r2.take()] == [1]
        w1.write(shape(2))
        blocked.join(5)


def test_the_loop_reads_again_once_the_thread_stops_taking(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w, r = pair(a, b, "Square")
        w.write(shape(1))
        assert [s.data.x for s in r.take(timeout=5.0)] == [1]
        # nobody takes any more: deliveries must still be acknowledged (by the loop) and
        # announced to a listener
        seen = threading.Event()
        r.on_data_available = lambda _r: seen.set()
        for i in range(2, 12):
            w.write(shape(i))
        assert w.wait_for_acknowledgments(5)
        assert seen.wait(5)
        assert [s.data.x for s in r.take()] == list(range(2, 12))


def test_close_wakes_a_thread_blocked_in_take(domain_id: int) -> None:
    a = rtbus.Participant(domain_id)
    r = a.create_reader(a.create_topic("Square", Shape), RELIABLE)
    done = threading.Event()

    def block() -> None:
        r.take(timeout=30.0)
        done.set()

    t = threading.Thread(target=block)
    t.start()
    assert wait_until(lambda: a.node.receiving_in_app_thread)
    t0 = time.monotonic()
    a.close()
    assert done.wait(5) and time.monotonic() - t0 < 3


def test_two_threads_taking_two_readers_of_one_participant_get_everything(domain_id: int) -> None:
    """Only one of them can hold the socket; the other waits on its reader's event and is
    woken by whoever digests its data (the other thread or the loop)."""
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        writers, readers = zip(*(pair(a, b, n) for n in ("L", "R")), strict=True)
        got: dict[int, list[int]] = {0: [], 1: []}

        def taker(i: int) -> None:
            while len(got[i]) < 200:
                samples = readers[i].take(timeout=5.0)
                if not samples:
                    return
                got[i] += [s.data.x for s in samples]

        threads = [threading.Thread(target=taker, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for x in range(200):
            writers[x % 2].write(shape(x))
            writers[1 - x % 2].write(shape(x))
            if x % 20 == 0:
                time.sleep(0.002)  # let both threads go back to waiting now and then
        for t in threads:
            t.join(15)
        assert got[0] == list(range(200)) and got[1] == list(range(200))


def test_a_thread_idling_in_a_long_take_costs_the_loop_no_periodic_wake_ups(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w, r_other = pair(a, b, "Square")
        r_idle = b.create_reader(b.create_topic("Quiet", Shape), RELIABLE)
        node = b.node
        baton = node.baton
        assert baton is not None
        checks = []
        original = baton._resume

        def counted() -> None:
            checks.append(time.monotonic())
            original()

        baton._resume = counted  # type: ignore[method-assign]
        t = threading.Thread(target=lambda: r_idle.take(timeout=1.5))
        t.start()
        assert wait_until(lambda: node.receiving_in_app_thread)
        for i in range(20):  # traffic the idle thread digests (for the other reader)
            w.write(shape(i))
            time.sleep(0.01)
        assert w.wait_for_acknowledgments(5)
        t.join(5)
        assert len(r_other.take()) == 20
        # while the thread held the socket the loop's checks backed off (2, 4, ... 64 ms:
        # ~25 in 1.2 s), not every 2 ms (~600); after it let go, the loop read it again
        assert len(checks) < 40, len(checks)
        assert wait_until(lambda: not baton.paused)
