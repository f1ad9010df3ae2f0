"""One reliable 1,000-sample transfer, run by test_loss.py inside a fresh namespace that drops
a share of UDP datagrams. Prints one JSON line: what the reader received, in order.

The Cyclone side runs in a child process: cyclonedds-python's blocking write holds the GIL,
which would starve rtbus's engine thread if both shared one interpreter.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import rtbus
import rtbus.idl

N = 1000
Shape = rtbus.idl.load(Path(__file__).resolve().parents[3] / "idl" / "shape.idl").ShapeType
QOS = rtbus.Qos(reliability="reliable", history="keep_all")


def rtbus_take(reader: rtbus.Reader, seconds: float) -> list[int]:
    got: list[int] = []
    end = time.monotonic() + seconds
    while len(got) < N and time.monotonic() < end:
        got += [s.data.x for s in reader.take(timeout=0.5)]
    return got


def wait_until(predicate, seconds: float = 20.0) -> None:
    """Both sides must have matched before writing: a volatile reader gets only later data."""
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)


def shape(i: int) -> object:
    return Shape(color="BLUE", x=i, y=0, shapesize=1, additional_payload_size=[])


def cyclone_side(role: str, domain: int) -> None:
    """Child process: a Cyclone writer (writes N) or reader (prints what it got)."""
    from cyclone_shape import ShapeType as CShape
    from cyclonedds.core import Policy
    from cyclonedds.core import Qos as CQos
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from cyclonedds.util import duration

    cq = CQos(Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll)
    dp = DomainParticipant(domain)
    topic = Topic(dp, "Square", CShape)
    if role == "cyclone-writer":
        cw = DataWriter(dp, topic, qos=cq)
        wait_until(lambda: cw.get_publication_matched_status().current_count >= 1)
        print("matched", flush=True)
        for i in range(N):
            cw.write(CShape("BLUE", i, 0, 1, []))
        cw.wait_for_acks(duration(seconds=60))
        sys.stdin.readline()  # stay until the parent has read everything
    else:
        cr = DataReader(dp, topic, qos=cq)
        wait_until(lambda: cr.get_subscription_matched_status().current_count >= 1)
        print("matched", flush=True)
        got: list[int] = []
        end = time.monotonic() + 60
        while len(got) < N and time.monotonic() < end:
            got += [s.x for s in cr.take(N=N) if hasattr(s, "x")]
            time.sleep(0.01)
        print(json.dumps(got), flush=True)


def main(mode: str, domain: int) -> None:
    if mode in ("cyclone-writer", "cyclone-reader"):
        cyclone_side(mode, domain)
        return
    if mode == "rtbus-rtbus":
        with rtbus.Participant(domain) as a, rtbus.Participant(domain) as b:
            w = a.create_writer(a.create_topic("Square", Shape), QOS)
            r = b.create_reader(b.create_topic("Square", Shape), QOS)
            w.wait_for_matched(1, 20)
            r.wait_for_matched(1, 20)
            for i in range(N):
                w.write(shape(i))
            got = rtbus_take(r, 60)
            print(json.dumps({"got": got, "stats": dict(b.node.driver.core.counters)}))
        return

    role = "cyclone-reader" if mode == "rtbus-cyclone" else "cyclone-writer"
    child = subprocess.Popen([sys.executable, __file__, role, str(domain)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    with rtbus.Participant(domain) as p:
        if mode == "rtbus-cyclone":
            w = p.create_writer(p.create_topic("Square", Shape), QOS)
            w.wait_for_matched(1, 20)
            child.stdout.readline()  # Cyclone's reader matched too
            for i in range(N):
                w.write(shape(i))
            got = json.loads(child.stdout.readline() or "[]")
        else:
            r = p.create_reader(p.create_topic("Square", Shape), QOS)
            r.wait_for_matched(1, 20)
            got = rtbus_take(r, 60)
        print(json.dumps({"got": got, "stats": dict(p.node.driver.core.counters)}))
    child.stdin.close()
    child.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
