"""rtbus and RTI Connext (rticonnextdds-connector) exchange ShapeType data, both ways.

Connext runs in a subprocess (peers/rti_peer.py, configured by peers/rti_shapes.xml: UDPv4 on
loopback only, no shared memory) inside the test's private network namespace. Every sample is
checked. Notes in docs/rti-interop.md.
"""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rtbus
import rtbus.idl
from rtbus import netns
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_rtbus, wait_until

pytest.importorskip("rticonnextdds_connector")
pytestmark = pytest.mark.interop
PEERS = Path(__file__).parent / "peers"
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


class RtiPeer:
    """One Connext participant (a writer or a reader) in a subprocess, driven by JSON lines."""

    def __init__(self, domain: int, topic: str, role: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(PEERS / "rti_peer.py"), str(domain), topic, role],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.log: list[str] = []
        assert self.reply_ok()["ready"]

    def call(self, **req: object) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self.reply_ok()

    def reply_ok(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        while line and not line.startswith('{"ok"'):  # Connext logs to stdout too
            self.log.append(line)
            line = self.proc.stdout.readline()
        assert line, f"RTI peer exited (rc={self.proc.poll()}): {''.join(self.log)[-2000:]}"
        reply = json.loads(line)
        assert reply["ok"], reply
        return reply

    def close(self) -> None:
        try:
            self.call(cmd="quit")
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def _payload(i: int, size: int) -> np.ndarray:
    return ((np.arange(size) + i) % 251).astype(np.uint8)


def test_discovery_both_ways(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Square", Shape), RELIABLE)
        r = p.create_reader(p.create_topic("Circle", Shape), RELIABLE)
        sub = RtiPeer(domain_id, "Square", "sub")
        pub = RtiPeer(domain_id, "Circle", "pub")
        try:
            assert sub.call(cmd="wait_matched", timeout=10)["change"] >= 1
            assert pub.call(cmd="wait_matched", timeout=10)["change"] >= 1
            assert w.wait_for_matched(1, 10)
            assert r.wait_for_matched(1, 10)
        finally:
            sub.close()
            pub.close()


def test_rtbus_to_rti_reliable_1000_keyed(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Square", Shape), RELIABLE)
        sub = RtiPeer(domain_id, "Square", "sub")
        try:
            sub.call(cmd="wait_matched", timeout=10)
            assert w.wait_for_matched(1, 10)
            for i in range(1000):
                w.write(Shape(color=("BLUE", "RED")[i % 2], x=i, y=-i, shapesize=30,
                              additional_payload_size=_payload(i, 3)))
            got = sub.call(cmd="take", count=1000, timeout=15)["samples"]
            assert w.wait_for_acknowledgments(10)
        finally:
            sub.close()
        assert sorted(s["x"] for s in got) == list(range(1000))
        for color in ("BLUE", "RED"):
            xs = [s["x"] for s in got if s["color"] == color]
            assert xs == sorted(xs) and len(xs) == 500
        for s in got:
            assert s["color"] == ("BLUE", "RED")[s["x"] % 2] and s["y"] == -s["x"]
            assert s["shapesize"] == 30 and s["n"] == 3
            assert s["digest"] == hashlib.sha256(_payload(s["x"], 3).tobytes()).hexdigest()


def test_rti_to_rtbus_reliable_1000_keyed(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        r = p.create_reader(p.create_topic("Circle", Shape), RELIABLE)
        pub = RtiPeer(domain_id, "Circle", "pub")
        try:
            pub.call(cmd="wait_matched", timeout=10)
            assert r.wait_for_matched(1, 10)
            pub.call(cmd="write", count=1000, size=3)
            got = take_rtbus(r, 1000, seconds=40)
            pub.call(cmd="wait_acks", timeout=10)
        finally:
            pub.close()
        assert [s.data.x for s in got] == list(range(1000))
        for s in got:
            assert s.data.color == ("GREEN", "YELLOW")[s.data.x % 2]
            assert s.data.y == -s.data.x and s.data.shapesize == 30
            assert s.data.additional_payload_size.tobytes() == _payload(s.data.x, 3).tobytes()
        assert len({s.info.writer_guid for s in got}) == 1


@pytest.mark.parametrize("size", [1 << 20, 8 << 20])
def test_rtbus_to_rti_large(size: int, domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Square", Shape), RELIABLE)
        sub = RtiPeer(domain_id, "Square", "sub")
        try:
            sub.call(cmd="wait_matched", timeout=10)
            assert w.wait_for_matched(1, 10)
            w.write(Shape(color="BIG", x=7, y=-7, shapesize=30,
                          additional_payload_size=_payload(7, size)))
            got = sub.call(cmd="take", count=1, timeout=30)["samples"]
            assert w.wait_for_acknowledgments(10)
        finally:
            sub.close()
        assert got, f"RTI received no {size}-byte sample"
        assert got[0]["n"] == size
        assert got[0]["digest"] == hashlib.sha256(_payload(7, size).tobytes()).hexdigest()


@pytest.mark.parametrize("size", [1 << 20, 8 << 20])
def test_rti_to_rtbus_large(size: int, domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        r = p.create_reader(p.create_topic("Circle", Shape), RELIABLE)
        pub = RtiPeer(domain_id, "Circle", "pub")
        try:
            pub.call(cmd="wait_matched", timeout=10)
            assert r.wait_for_matched(1, 10)
            pub.call(cmd="write", count=1, size=size)
            samples = take_rtbus(r, 1, seconds=30)
            pub.call(cmd="wait_acks", timeout=10)
        finally:
            pub.close()
        assert samples and samples[0].data.color == "GREEN"
        assert samples[0].data.additional_payload_size.tobytes() == _payload(0, size).tobytes()


def test_rti_owner_killed_is_not_alive_within_its_lease_and_the_rtbus_backup_takes_over(
        domain_id: int) -> None:
    """Hot-swap with RTI Connext as the primary (EXCLUSIVE, strength 10, AUTOMATIC lease 1 s)
    and rtbus as the backup (strength 5): while Connext lives only its samples are delivered;
    killed with SIGKILL, rtbus's reader reports its writer not alive within the lease (Connext's
    participant lease is 100 s: this is liveliness) and the backup's samples follow."""
    lease, late = 1.0, 0.6
    exclusive = RELIABLE.replace(ownership="exclusive")
    changed: list[rtbus.LivelinessChangedStatus] = []
    with rtbus.Participant(domain_id) as p:
        topic = p.create_topic("Square", Shape)
        reader = p.create_reader(topic, exclusive, listeners={
            "on_liveliness_changed": lambda r, s: changed.append(s)})
        backup = p.create_writer(topic, exclusive.replace(ownership_strength=5))
        rti = RtiPeer(domain_id, "Square", "owner")
        got: list[tuple[float, int]] = []

        def step() -> list[int]:
            backup.write(Shape(color="GREEN", x=5, y=0, shapesize=30,
                               additional_payload_size=np.zeros(3, np.uint8)))
            got.extend((time.monotonic(), s.data.x) for s in reader.take(timeout=0.05)
                       if s.info.valid_data)
            return [x for _, x in got]

        try:
            assert rti.call(cmd="wait_matched", timeout=10)["change"] >= 1
            assert reader.wait_for_matched(2, 10)
            for _ in range(20):  # Connext writes x=0, GREEN: the instance the backup writes
                rti.call(cmd="write", count=1, size=3)
                step()
            seen = [x for _, x in got]
            assert 0 in seen and 5 not in seen[seen.index(0):], seen
            assert changed[-1].alive_count == 2
            rti.proc.kill()
            rti.proc.wait(10)
            killed = time.monotonic()
            assert wait_until(lambda: 5 in step()[len(seen):], 10)
        finally:
            rti.close()
        switch = next(i for i, (t, x) in enumerate(got) if i >= len(seen) and x == 5)
        assert got[switch][0] - killed <= lease + late
        assert {x for _, x in got[switch:]} == {5}
        lost = [s for s in changed if s.not_alive_count == 1]
        assert lost and lost[0].alive_count == 1  # the backup lives on
