"""A content-filtered rtbus reader of a Cyclone DDS writer (Cyclone has no SQL filters and
filters nothing for it: the rtbus reader does), every sample checked; the filter rtbus
announces in SEDP does not upset Cyclone's matching; and a filtering Cyclone reader of an
rtbus writer."""


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
from tests.support.polling import take_cyclone, take_rtbus

from .peers.cyclone_shape import ShapeType as CShape

pytestmark = pytest.mark.interop
Shape = shape_type()


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def test_rtbus_filters_a_cyclone_writers_samples(domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    cwriter = DataWriter(dp, Topic(dp, "Square", CShape), qos=CQos(
        Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll))
    with rtbus.Participant(domain_id) as p:
        square = p.create_topic("Square", Shape)
        small_red = p.create_content_filtered_topic("SmallRed", square,
                                                    "color = %0 AND shapesize <= 20", ["RED"])
        reader = p.create_reader(small_red, reliability="reliable", history="keep_all")
        everything = p.create_reader(square, reliability="reliable", history="keep_all")
        assert reader.wait_for_matched(1, 10) and everything.wait_for_matched(1, 10)
        for i in range(200):
            color = ("RED", "BLUE")[i % 2]
            cwriter.write(CShape(color, i, 0, 10 + (i % 20), []))
        assert len(take_rtbus(everything, 200)) == 200
        want = [i for i in range(200) if i % 2 == 0 and 10 + (i % 20) <= 20]
        got = take_rtbus(reader, len(want))
        assert [s.data.x for s in got] == want
        # both readers digest the same datagrams: the unfiltered one has all 200, so the
        # filtered one has seen them all too, and holds nothing more
        assert reader.take() == []


def test_a_filtering_cyclone_reader_of_an_rtbus_writer(domain_id: int) -> None:
    """The other direction: Cyclone's reader filters (a topic filter function: Cyclone's
    Python API has no SQL) what an rtbus writer sends; every sample that passes is checked."""
    dp = DomainParticipant(domain_id)
    topic = Topic(dp, "Circle", CShape)
    topic.set_topic_filter(lambda t, s: s.shapesize > 40)
    creader = DataReader(dp, topic, qos=CQos(
        Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll))
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Circle", Shape), reliability="reliable",
                            history="keep_all")
        assert w.wait_for_matched(1, 10)
        sizes = [10, 50, 30, 70, 45, 40]
        for i, size in enumerate(sizes):
            w.write(Shape(color="RED", x=i, y=0, shapesize=size, additional_payload_size=b""))
        assert w.wait_for_acknowledgments(10)
        got = take_cyclone(creader, 3, seconds=10)
        assert [(s.x, s.shapesize) for s in got] == [(1, 50), (3, 70), (4, 45)]
