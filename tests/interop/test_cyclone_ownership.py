"""EXCLUSIVE ownership with Cyclone DDS as one of the redundant writers, and with Cyclone as
the reader that arbitrates between rtbus writers; every delivered sample is checked."""


import pytest
from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

import rtbus
from rtbus import netns
from rtbus.shape import shape_type
from tests.support.polling import wait_until

from .peers.cyclone_shape import ShapeType as CShape

pytestmark = pytest.mark.interop
Shape = shape_type()
EXCLUSIVE = rtbus.Qos(reliability="reliable", history="keep_all", ownership="exclusive")


def c_exclusive(strength: int | None = None) -> CQos:
    policies = [Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll,
                Policy.Ownership.Exclusive]
    if strength is not None:
        policies.append(Policy.OwnershipStrength(strength))
    return CQos(*policies)


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def rt_shape(x: int, y: int) -> object:
    return Shape(color="BLUE", x=x, y=y, shapesize=30, additional_payload_size=b"")


def test_rtbus_reader_delivers_only_the_stronger_cyclone_writer_then_the_rtbus_backup(
        domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    cwriter = DataWriter(dp, Topic(dp, "Square", CShape), qos=c_exclusive(10))
    with rtbus.Participant(domain_id) as p:
        reader = p.create_reader(p.create_topic("Square", Shape), EXCLUSIVE)
        backup = p.create_writer(p.create_topic("Square", Shape),
                                 EXCLUSIVE.replace(ownership_strength=5))
        assert reader.wait_for_matched(2, 10) and backup.wait_for_matched(1, 10)
        got: list[int] = []

        def taken() -> list[int]:
            got.extend(s.data.x for s in reader.take(timeout=0.05) if s.info.valid_data)
            return got

        cwriter.write(CShape("BLUE", 1, 0, 30, []))
        assert wait_until(lambda: 1 in taken(), 10)
        for n in range(1, 41):
            backup.write(rt_shape(2, n))
            cwriter.write(CShape("BLUE", 1, n, 30, []))
        assert backup.wait_for_acknowledgments(10)
        # all 41 of the primary came, and the backup's (acknowledged: they arrived) did not
        assert wait_until(lambda: len(taken()) >= 41, 10), got
        assert set(taken()) == {1} and len(got) == 41, got

        cwriter.unregister_instance(CShape("BLUE", 1, 0, 30, []))  # the primary gives it up
        del got[:]
        # the backup's next sample takes the instance, once the unregister arrived
        assert wait_until(lambda: (backup.write(rt_shape(2, 100)), 2 in taken())[1], 10), got
        assert set(got) == {2}


def test_cyclone_reader_arbitrates_between_rtbus_writers_by_announced_strength(
        domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    creader = DataReader(dp, Topic(dp, "Square", CShape), qos=c_exclusive())
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        primary = a.create_writer(a.create_topic("Square", Shape),
                                  EXCLUSIVE.replace(ownership_strength=10))
        backup = b.create_writer(b.create_topic("Square", Shape),
                                 EXCLUSIVE.replace(ownership_strength=5))
        assert primary.wait_for_matched(1, 10) and backup.wait_for_matched(1, 10)
        got: list[tuple[int, int]] = []  # (writer, its sample number)

        def taken() -> list[int]:
            got.extend((s.x, s.y) for s in creader.take(N=100) if s.sample_info.valid_data)
            return [x for x, _ in got]

        primary.write(rt_shape(1, 0))
        assert wait_until(lambda: 1 in taken(), 10)
        for n in range(1, 41):
            backup.write(rt_shape(2, n))
            primary.write(rt_shape(1, n))
        assert primary.wait_for_acknowledgments(10) and backup.wait_for_acknowledgments(10)
        assert wait_until(lambda: len(taken()) >= 41, 10), got
        assert set(taken()) == {1}, got  # Cyclone read our strengths from SEDP

        # the standby is made stronger at run time: Cyclone sees the re-announcement
        backup.set_qos(ownership_strength=20)
        del got[:]
        assert wait_until(lambda: (backup.write(rt_shape(2, 100)), 2 in taken())[1], 10), got
        primary.write(rt_shape(1, 101))
        backup.write(rt_shape(2, 102))
        assert primary.wait_for_acknowledgments(10) and backup.wait_for_acknowledgments(10)
        assert wait_until(lambda: (taken(), (2, 102) in got)[1], 10), got
        switch = taken().index(2)
        assert 1 not in taken()[switch:], got  # none of the weaker writer after the switch
