"""One redundant ShapeType writer of the failover benchmark, rtbus side (its own process).

    python failover_writer_rtbus.py DOMAIN STRENGTH LEASE DEADLINE BASE

Creates a participant (participant lease 60 s, so that the writer's LIVELINESS lease is what
a reader's failover waits for), prints ``standby`` and waits for ``go`` on stdin; then creates
an EXCLUSIVE reliable writer on "Square" (strength STRENGTH, AUTOMATIC liveliness with LEASE
seconds, DEADLINE seconds; ``inf`` = infinite), waits for the reader, prints ``ready`` and
writes ShapeType(color="BLUE", x=STRENGTH, y=BASE + n) every 10 ms on a fixed schedule. The
same line protocol as failover_writer_cyclone.py; commands on stdin:

    close       delete the writer (Writer.close)
    unregister  unregister the instance (Writer.unregister), then write no more
    stop        write no more (the writer and participant stay)

each answered, once done, by ``done T_OP T_LAST N`` (T_OP: time.monotonic() just before the
operation, T_LAST: that of the last write, N: samples written; CLOCK_MONOTONIC is
system-wide on Linux, so the benchmark compares these with its own arrival times). EOF on
stdin closes the participant and exits.
"""

from __future__ import annotations

import os
import select
import sys
import time

import rtbus
from rtbus.shape import shape_type

PERIOD = 0.010


def main() -> int:
    domain, strength = int(sys.argv[1]), int(sys.argv[2])
    lease, deadline, base = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    shape = shape_type()
    stdin = sys.stdin.fileno()
    pending = b""

    def command(timeout: float) -> str | None:
        """The next stdin line within ``timeout`` ('' at EOF, None if none came)."""
        nonlocal pending
        if b"\n" not in pending:
            if not select.select([stdin], [], [], max(0.0, timeout))[0]:
                return None
            chunk = os.read(stdin, 4096)
            if not chunk:
                return ""
            pending += chunk
            if b"\n" not in pending:
                return None
        line, _, pending = pending.partition(b"\n")
        return line.decode().strip()

    with rtbus.Participant(domain, name=f"failover-{strength}", lease_duration=60.0) as dp:
        topic = dp.create_topic("Square", shape)
        print("standby", flush=True)
        while (got := command(60.0)) != "go":
            if got == "":
                return 0
        qos = rtbus.Qos(reliability="reliable", history=("keep_last", 64), ownership="exclusive",
                        ownership_strength=strength, liveliness="automatic",
                        liveliness_lease=lease, deadline=deadline)
        writer = dp.create_writer(topic, qos)
        if not writer.wait_for_matched(1, 30):
            print("error no reader matched within 30 s", flush=True)
            return 1
        print("ready", flush=True)
        n, last, writing = 0, 0.0, True
        next_at = time.monotonic()
        while True:
            if writing and time.monotonic() >= next_at:
                writer.write(shape(color="BLUE", x=strength, y=base + n, shapesize=30,
                                   additional_payload_size=b""))
                last = time.monotonic()
                n += 1
                next_at = max(next_at + PERIOD, last)  # no burst after a stall
            wait = next_at - time.monotonic() if writing else 60.0
            got = command(wait)
            if got is None:
                continue
            if got == "":
                return 0
            t_op = time.monotonic()
            if got == "close":
                writer.close()
            elif got == "unregister":
                writer.unregister(shape(color="BLUE", x=strength, y=0, shapesize=30,
                                        additional_payload_size=b""))
            elif got != "stop":
                print(f"error unknown command {got!r}", flush=True)
                continue
            writing = False
            print(f"done {t_op!r} {last!r} {n}", flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
