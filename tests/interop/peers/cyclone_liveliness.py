"""A Cyclone DDS endpoint for the liveliness interop tests, in its own process.

    python cyclone_liveliness.py writer DOMAIN KIND LEASE [STRENGTH]
    python cyclone_liveliness.py reader DOMAIN

``writer``: a ShapeType writer on "Square" with liveliness KIND (automatic or
manual_by_participant) and LEASE seconds (EXCLUSIVE with STRENGTH if given). Waits for a
reader, prints "ready", writes one sample (every 20 ms with STRENGTH), and keeps its promise
until killed: MANUAL_BY_PARTICIPANT asserts the participant (``dds_assert_liveliness``) every
third of the lease.

``reader``: a reliable ShapeType reader on "Square"; prints ``alive A not_alive N`` each time
its LIVELINESS_CHANGED status changes, until stdin closes.
"""

import ctypes
import sys
import time

from cyclone_shape import ShapeType as CShape
from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.internal import load_cyclonedds
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

KINDS = {"automatic": Policy.Liveliness.Automatic,
         "manual_by_participant": Policy.Liveliness.ManualByParticipant}


def writer(domain: int, kind: str, lease: float, strength: int | None) -> None:
    policies = [Policy.Reliability.Reliable(duration(seconds=10)),
                KINDS[kind](duration(seconds=lease))]
    if strength is not None:
        policies += [Policy.Ownership.Exclusive, Policy.OwnershipStrength(strength)]
    dp = DomainParticipant(domain)
    w = DataWriter(dp, Topic(dp, "Square", CShape), qos=CQos(*policies))
    end = time.monotonic() + 30
    while w.get_publication_matched_status().current_count < 1:
        if time.monotonic() > end:
            print("no match", flush=True)
            return
        time.sleep(0.01)
    print("ready", flush=True)
    ddsc = load_cyclonedds()
    n, next_assert = 0, time.monotonic()
    while True:
        if n == 0 or strength is not None:
            w.write(CShape("BLUE", strength or 0, n, 30, []))
            n += 1
        if kind == "manual_by_participant" and time.monotonic() >= next_assert:
            next_assert += lease / 3
            ddsc.dds_assert_liveliness(ctypes.c_int32(dp._ref))
        time.sleep(0.02 if strength is not None else 0.01)


def reader(domain: int) -> None:
    dp = DomainParticipant(domain)
    r = DataReader(dp, Topic(dp, "Square", CShape),
                   qos=CQos(Policy.Reliability.Reliable(duration(seconds=10))))
    print("ready", flush=True)
    last = None
    import select
    while not select.select([sys.stdin], [], [], 0.01)[0]:
        s = r.get_liveliness_changed_status()
        now = (s.alive_count, s.not_alive_count)
        if now != last:
            print(f"alive {now[0]} not_alive {now[1]}", flush=True)
            last = now
        r.take(N=100)


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        writer(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]),
               int(sys.argv[5]) if len(sys.argv) > 5 else None)
    else:
        reader(int(sys.argv[2]))
