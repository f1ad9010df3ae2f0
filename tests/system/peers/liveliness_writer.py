"""An rtbus ShapeType writer with a liveliness lease, in its own process, to be killed.

    python liveliness_writer.py DOMAIN KIND LEASE [STRENGTH]

KIND is automatic, manual_by_participant or manual_by_topic. Creates the writer on "Square"
(EXCLUSIVE ownership with STRENGTH if given), waits for a reader, prints "ready", writes one
sample, then keeps its promise until it is killed: AUTOMATIC by doing nothing (its participant
asserts), MANUAL_BY_PARTICIPANT by ``Participant.assert_liveliness()`` and MANUAL_BY_TOPIC by
``Writer.assert_liveliness()``, each every third of the lease (printing "asserted"). With
STRENGTH it also writes every 20 ms (one of a hot-swap pair). Its participant lease is 60 s,
so a reader that notices its death within the liveliness lease noticed it by liveliness.
"""

import sys
import time

import rtbus
from rtbus.shape import shape_type


def main() -> None:
    domain, kind, lease = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    strength = int(sys.argv[4]) if len(sys.argv) > 4 else None
    Shape = shape_type()
    qos = rtbus.Qos(reliability="reliable", liveliness=kind,  # type: ignore[arg-type]
                    liveliness_lease=lease)
    if strength is not None:
        qos = qos.replace(ownership="exclusive", ownership_strength=strength)
    with rtbus.Participant(domain, lease_duration=60.0) as dp:
        writer = dp.create_writer(dp.create_topic("Square", Shape), qos)
        if not writer.wait_for_matched(1, 30):
            print("no match", flush=True)
            return
        print("ready", flush=True)
        n = 0
        period = 0.02 if strength is not None else lease / 3
        next_assert = time.monotonic()
        while True:
            if n == 0 or strength is not None:
                writer.write(Shape(color="BLUE", x=strength or 0, y=n, shapesize=30,
                                   additional_payload_size=b""))
                n += 1
            if time.monotonic() >= next_assert:
                next_assert += lease / 3
                if kind == "manual_by_participant":
                    dp.assert_liveliness()
                elif kind == "manual_by_topic":
                    writer.assert_liveliness()
                print("asserted", flush=True)
            time.sleep(period)


if __name__ == "__main__":
    main()
