"""One redundant ShapeType writer of the failover benchmark, cyclonedds-python side.

    python failover_writer_cyclone.py DOMAIN STRENGTH LEASE DEADLINE BASE

The same line protocol as failover_writer_rtbus.py (``standby``, ``go``, ``ready``; commands
``close`` = delete the writer entity, ``unregister`` = ``unregister_instance`` then write no
more, ``stop`` = write no more; each answered by ``done T_OP T_LAST N`` in time.monotonic(),
i.e. CLOCK_MONOTONIC, which the benchmark shares). The participant keeps Cyclone's default
lease (10 s); the writer's AUTOMATIC liveliness lease is LEASE seconds.
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
import os
import select
import sys
import time
from dataclasses import dataclass

from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as t
from cyclonedds.idl.annotations import appendable, key
from cyclonedds.pub import DataWriter
from cyclonedds.topic import Topic
from cyclonedds.util import duration

PERIOD = 0.010


# the OMG ShapeType (idl/shape.idl), as in tests/interop/peers/cyclone_shape.py
@dataclass
@appendable
class ShapeType(IdlStruct, typename="ShapeType"):
    color: t.bounded_str[128]
    key("color")
    x: t.int32
    y: t.int32
    shapesize: t.int32
    additional_payload_size: t.sequence[t.uint8]


def qos(strength: int | None, lease: float, deadline: float) -> CQos:
    """The benchmark's QoS (reader: strength None); infinite durations are left default."""
    policies = [Policy.Reliability.Reliable(duration(seconds=1)), Policy.History.KeepLast(64),
                Policy.Ownership.Exclusive]
    if strength is not None:
        policies.append(Policy.OwnershipStrength(strength))
    if lease != float("inf"):
        policies.append(Policy.Liveliness.Automatic(duration(seconds=lease)))
    if deadline != float("inf"):
        policies.append(Policy.Deadline(duration(seconds=deadline)))
    return CQos(*policies)


def main() -> int:
    domain, strength = int(sys.argv[1]), int(sys.argv[2])
    lease, deadline, base = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
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

    dp = DomainParticipant(domain)
    topic = Topic(dp, "Square", ShapeType)
    print("standby", flush=True)
    while True:
        got = command(60.0)
        if got == "go":
            break
        if got == "":
            return 0
    writer: DataWriter | None = DataWriter(dp, topic, qos=qos(strength, lease, deadline))
    assert writer is not None
    end = time.monotonic() + 30
    while writer.get_publication_matched_status().current_count < 1:
        if time.monotonic() > end:
            print("error no reader matched within 30 s", flush=True)
            return 1
        time.sleep(0.005)
    print("ready", flush=True)
    n, last, writing = 0, 0.0, True
    next_at = time.monotonic()
    while True:
        if writing and writer is not None and time.monotonic() >= next_at:
            writer.write(ShapeType("BLUE", strength, base + n, 30, []))
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
        if got == "close" and writer is not None:
            writer.__del__()  # dds_delete of the writer entity, now (not at garbage collection)
            writer = None
        elif got == "unregister" and writer is not None:
            writer.unregister_instance(ShapeType("BLUE", strength, 0, 30, []))
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
