"""A Cyclone DDS ShapeType writer in its own process (driven by the interop tests).

    python cyclone_writer.py DOMAIN TOPIC COUNT PAYLOAD_BYTES [--dispose]

Waits until a reader matched, prints "matched", writes COUNT samples (colors alternating
GREEN/YELLOW, x = index, payload bytes i % 251), optionally disposes the last instance, waits
for acknowledgements, prints "done", then stays until stdin closes. A separate process
because cyclonedds-python can hold the GIL while a reliable write blocks, which would starve
an rtbus engine thread sharing the interpreter.
"""

import sys
import time

from cyclone_shape import ShapeType as CShape
from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.topic import Topic
from cyclonedds.util import duration


def main() -> None:
    domain, topic, count, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    dispose = "--dispose" in sys.argv
    qos = CQos(Policy.Reliability.Reliable(duration(seconds=60)), Policy.History.KeepAll)
    dp = DomainParticipant(domain)
    writer = DataWriter(dp, Topic(dp, topic, CShape), qos=qos)
    end = time.monotonic() + 20
    while writer.get_publication_matched_status().current_count < 1:
        if time.monotonic() > end:
            print("no match", flush=True)
            return
        time.sleep(0.01)
    print("matched", flush=True)
    payload = bytes(i % 251 for i in range(size))
    sample = None
    for i in range(count):
        sample = CShape(("GREEN", "YELLOW")[i % 2], i, 3, 40, payload)
        writer.write(sample)
    if dispose and sample is not None:
        writer.dispose(sample)
    writer.wait_for_acks(duration(seconds=60))
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
