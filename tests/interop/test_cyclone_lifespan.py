"""LIFESPAN with Cyclone DDS: an rtbus writer's expired samples are not given to a late-joining
Cyclone reader, and a Cyclone writer's announced lifespan makes rtbus's reader drop what
expired in its history before the application takes it."""

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
from tests.support.polling import take_cyclone, wait_until

from .peers.cyclone_shape import ShapeType as CShape

pytestmark = pytest.mark.interop
Shape = shape_type()
LIFESPAN = 1.0
DURABLE = rtbus.Qos(reliability="reliable", durability="transient_local", history="keep_all")


def c_durable(*more: object) -> CQos:
    return CQos(Policy.Reliability.Reliable(duration(seconds=10)),
                Policy.Durability.TransientLocal, Policy.History.KeepAll, *more)


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def test_a_late_cyclone_reader_gets_only_the_rtbus_samples_still_within_their_lifespan(
        domain_id: int) -> None:
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Square", Shape), DURABLE.replace(lifespan=LIFESPAN))
        w.write(Shape(color="RED", x=1, y=0, shapesize=30, additional_payload_size=b""))
        assert wait_until(lambda: p.counters().get("lifespan_expired", 0) == 1, LIFESPAN + 5)
        w.write(Shape(color="BLUE", x=2, y=0, shapesize=30, additional_payload_size=b""))
        dp = DomainParticipant(domain_id)
        r = DataReader(dp, Topic(dp, "Square", CShape), qos=c_durable())
        assert w.wait_for_matched(1, 10)
        # the history goes out in order: a first sample BLUE means RED was not sent
        got = take_cyclone(r, 1, seconds=5)
        assert [s.color for s in got] == ["BLUE"]


def test_rtbus_reader_drops_a_cyclone_sample_that_expired_before_it_was_taken(
        domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    cw = DataWriter(dp, Topic(dp, "Square", CShape),
                    qos=c_durable(Policy.Lifespan(duration(seconds=LIFESPAN))))
    with rtbus.Participant(domain_id) as p:
        r = p.create_reader(p.create_topic("Square", Shape), DURABLE)
        assert r.wait_for_matched(1, 10)
        cw.write(CShape("RED", 1, 0, 30, []))
        assert wait_until(lambda: p.counters().get("expired_lifespan", 0) == 1, LIFESPAN + 5)
        cw.write(CShape("BLUE", 2, 0, 30, []))
        got = r.take(timeout=5)
        assert [s.data.color for s in got] == ["BLUE"]
