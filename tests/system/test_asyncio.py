"""asyncio: ``async for`` ends when the participant closes, and ``write_async`` suspends the
writing task (the loop keeps running) while flow control waits."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import rtbus
import rtbus.idl
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_rtbus

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
LOCAL = {"multicast": False, "interface": "127.0.0.1"}


def shape(x: int, payload: bytes = b"") -> object:
    return Shape(color="BLUE", x=x, y=0, shapesize=30, additional_payload_size=payload)


async def _iterating(reader: rtbus.Reader) -> tuple[asyncio.Task[float], asyncio.Event]:
    """A task iterating ``reader``, returning when its ``async for`` ended."""
    started = asyncio.Event()

    async def consume() -> float:
        started.set()
        async for _ in reader:
            pass
        return time.monotonic()

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0.05)  # let it suspend inside the iteration
    return task, started


def test_async_for_ends_within_100_ms_of_close_from_another_task(domain_id: int) -> None:
    async def main() -> None:
        async with rtbus.Participant(domain_id, **LOCAL) as dp:
            r = dp.create_reader(dp.create_topic("Square", Shape))
            task, _ = await _iterating(r)
            assert not task.done()
            closed_at = time.monotonic()
            dp.close()
            ended_at = await asyncio.wait_for(task, 5)
            assert ended_at - closed_at < 0.1

    asyncio.run(main())


def test_async_for_ends_when_leaving_async_with(domain_id: int) -> None:
    async def main() -> None:
        async with rtbus.Participant(domain_id, **LOCAL) as dp:
            r = dp.create_reader(dp.create_topic("Square", Shape))
            task, _ = await _iterating(r)
        closed_at = time.monotonic()
        ended_at = await asyncio.wait_for(task, 5)
        assert ended_at - closed_at < 0.1

    asyncio.run(main())


def test_async_for_over_a_background_participant_ends_when_another_thread_closes_it(
        domain_id: int) -> None:
    dp = rtbus.Participant(domain_id, **LOCAL)  # plain code: the engine runs on its own thread
    r = dp.create_reader(dp.create_topic("Square", Shape))
    result: list[float] = []

    async def main() -> None:
        task, _ = await _iterating(r)
        threading.Thread(target=lambda: (time.sleep(0.1), result.append(time.monotonic()),
                                         dp.close())).start()
        result.append(await asyncio.wait_for(task, 5))

    asyncio.run(main())
    assert result[1] - result[0] < 0.1


def test_write_async_suspends_while_flow_control_waits_and_loses_nothing(domain_id: int) -> None:
    n, size = 1500, 4096  # 6 MB: far past the 1 MiB flow-control window
    ticks: list[int] = []
    written = 0

    sub = rtbus.Participant(domain_id)  # the reader: another participant, on rtbus's engine thread

    async def main() -> None:
        nonlocal written
        r = sub.create_reader(sub.create_topic("Square", Shape),
                              rtbus.Qos(reliability="reliable", history="keep_all"))
        got: list = []
        taker = threading.Thread(target=lambda: got.extend(take_rtbus(r, n, seconds=60)))
        taker.start()
        async with rtbus.Participant(domain_id) as dp:
            w = dp.create_writer(dp.create_topic("Square", Shape),
                                 rtbus.Qos(reliability="reliable", history="keep_all",
                                           max_blocking_time=5.0))
            assert await w.matched(1, 10)

            async def tick() -> None:
                while True:
                    ticks.append(written)
                    await asyncio.sleep(0.001)

            ticker = asyncio.create_task(tick())
            payload = bytes(size)
            for i in range(n):
                await w.write_async(shape(i, payload))
                written = i + 1
            assert await w.acknowledged(30)
            ticker.cancel()
        await asyncio.get_running_loop().run_in_executor(None, taker.join, 60)
        sub.close()
        assert [s.data.x for s in got] == list(range(n))

    asyncio.run(main())
    during = [t for t in ticks if 0 < t < n]
    # the ticker ran between writes: write_async suspended the writing task (a write that
    # blocked, or one that never waited, would leave the ticker no moment to run)
    assert len(set(during)) >= 5, f"ticker ran at only {len(set(during))} points of the burst"
