"""How responsive an asyncio event loop stays while it publishes a reliable KEEP_ALL burst.

The writer runs on the benchmark's own asyncio loop (``async with rtbus.Participant``), next
to a ticker task that sleeps 1 ms and records how late it wakes up: the largest gap between
two ticks is the longest the loop was stalled. The reader is ``peers/transport_peer.py
LIB recv`` in its own process, which checks that every sample arrived, in order. Cases, in
one run and one network namespace:

- ``rtbus write_async``: ``await writer.write_async(sample)`` (flow control suspends the task)
- ``rtbus write``: plain ``writer.write(sample)`` called on the loop (it may not wait there)
- ``cyclonedds write``: cyclonedds-python's ``DataWriter.write`` called on the loop (the
  reference: its write blocks in C while its history is full)

Command: ``python -m rtbus.netns python benchmarks/asyncio_writes.py`` (``--quick``: fewer
samples); writes ``results/asyncio_writes.json``.
"""

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers.transport_peer import payload  # noqa: E402
from transport import machine, spawn, stop, wait_line  # noqa: E402

SIZE = 4096


async def _burst(write: object, n: int, is_async: bool) -> dict:
    gaps: list[float] = []
    cpu_gaps: list[float] = []
    stop_ticks = False

    async def ticker() -> None:
        last = time.perf_counter()
        last_cpu = time.thread_time()
        while not stop_ticks:
            await asyncio.sleep(0.001)
            now, now_cpu = time.perf_counter(), time.thread_time()
            gaps.append(now - last)
            cpu_gaps.append(now_cpu - last_cpu)
            last, last_cpu = now, now_cpu

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    for i in range(n):
        data = payload(SIZE, i)
        if is_async:
            await write(data)  # type: ignore[operator]
        else:
            write(data)  # type: ignore[operator]
    if is_async:
        await write(payload(SIZE, n, end=True))  # type: ignore[operator]
    else:
        write(payload(SIZE, n, end=True))  # type: ignore[operator]
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(0.01)
    stop_ticks = True
    await task
    gaps.sort()
    cpu_gaps.sort()
    return {"samples": n, "write_seconds": round(elapsed, 3),
            "writes_per_s": round(n / elapsed), "ticks": len(gaps),
            "max_stall_ms": round(1000 * cpu_gaps[-1], 2),
            "p99_stall_ms": round(1000 * cpu_gaps[int(len(cpu_gaps) * 0.99)], 2),
            "max_tick_gap_ms": round(1000 * gaps[-1], 2),
            "p99_tick_gap_ms": round(1000 * gaps[int(len(gaps) * 0.99)], 2),
            "median_tick_gap_ms": round(1000 * statistics.median(gaps), 2)}


async def rtbus_case(n: int, use_async: bool) -> dict:
    import rtbus
    import rtbus.idl

    blob = rtbus.idl.loads("struct Blob { sequence<octet> data; };").Blob
    qos = rtbus.Qos(reliability="reliable", history="keep_all", max_blocking_time=10.0)
    async with rtbus.Participant(0) as dp:
        w = dp.create_writer(dp.create_topic("tput", blob), qos)
        if not await w.matched(1, 20):
            return {"error": "no match"}
        if use_async:
            async def write(data: bytes) -> None:
                await w.write_async(blob(data=data))
        else:
            def write(data: bytes) -> None:  # type: ignore[misc]
                w.write(blob(data=data))
        out = await _burst(write, n, use_async)
        await w.acknowledged(60)
        return out


async def cyclone_case(n: int) -> dict:
    from dataclasses import dataclass

    from cyclonedds.core import Policy, Qos
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.idl import IdlStruct
    from cyclonedds.idl.types import sequence, uint8
    from cyclonedds.pub import DataWriter
    from cyclonedds.topic import Topic
    from cyclonedds.util import duration

    @dataclass
    class Blob(IdlStruct, typename="Blob"):
        data: sequence[uint8]

    dp = DomainParticipant(0)
    qos = Qos(Policy.Reliability.Reliable(duration(seconds=10)), Policy.History.KeepAll)
    w = DataWriter(dp, Topic(dp, "tput", Blob), qos=qos)
    end = time.monotonic() + 20
    while not w.get_matched_subscriptions() and time.monotonic() < end:
        await asyncio.sleep(0.05)

    def write(data: bytes) -> None:
        w.write(Blob(data=data))

    out = await _burst(write, n, False)
    w.wait_for_acks(duration(seconds=60))
    return out


def run(lib: str, label: str, n: int, coro_factory: object) -> dict:
    recv = spawn(lib, "recv", SIZE, 120)
    try:
        wait_line(recv, "ready", 30)
        result = asyncio.run(coro_factory())  # type: ignore[operator]
        r = json.loads(wait_line(recv, "{", 120) or '{"error": "no result"}')
    finally:
        stop(recv)
    result.update(case=label, lossless=bool(r.get("count_ok")) and r.get("received") == n + 1,
                  receiver=r)
    return result


def main() -> int:
    import rtbus.netns

    if not rtbus.netns.inside():
        print("run me inside a network namespace: python -m rtbus.netns python "
              "benchmarks/asyncio_writes.py", file=sys.stderr)
        return 1
    n = 500 if "--quick" in sys.argv else 5000
    t0 = time.monotonic()
    results = [
        run("rtbus", "rtbus write_async", n, lambda: rtbus_case(n, True)),
        run("rtbus", "rtbus write (on the loop)", n, lambda: rtbus_case(n, False)),
        run("cyclone", "cyclonedds write (on the loop)", n, lambda: cyclone_case(n)),
    ]
    lines = ["| case | writes/s | max loop stall (CPU) | p99 stall (CPU) | max tick gap (wall) "
             "| p99 tick gap (wall) | lossless |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['case']} | {r.get('writes_per_s', 'failed')} | "
                     f"{r.get('max_stall_ms', '-')} ms | {r.get('p99_stall_ms', '-')} ms | "
                     f"{r.get('max_tick_gap_ms', '-')} ms | {r.get('p99_tick_gap_ms', '-')} ms | "
                     f"{r.get('lossless')} |")
    print("\n".join(lines))
    out = {"command": "python -m rtbus.netns python benchmarks/asyncio_writes.py"
                      + (" --quick" if "--quick" in sys.argv else ""),
           "machine": machine(), "size": SIZE, "samples": n,
           "seconds": round(time.monotonic() - t0, 1), "results": results,
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (HERE / "results" / "asyncio_writes.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
