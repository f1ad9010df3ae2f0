"""WRITER_DATA_LIFECYCLE between rtbus participants: an unregister also disposes the instance
by default (DDS, Cyclone DDS and RTI Connext do the same), and only unregisters it with
``autodispose_unregistered_instances=False``; READER_DATA_LIFECYCLE purges a NOT_ALIVE
instance's samples after the reader's delay."""

from __future__ import annotations

import pytest

import rtbus
from rtbus import InstanceState
from rtbus.shape import shape_type
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = shape_type()
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")


def shape(color: str) -> object:
    return Shape(color=color, x=1, y=2, shapesize=30, additional_payload_size=b"")


@pytest.mark.parametrize(("autodispose", "state"), [
    (True, InstanceState.NOT_ALIVE_DISPOSED), (False, InstanceState.NOT_ALIVE_NO_WRITERS)])
def test_unregister_disposes_unless_told_not_to(autodispose: bool, state: InstanceState,
                                                domain_id: int) -> None:
    with rtbus.Participant(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        reader = dp.create_reader(topic, RELIABLE)
        writer = dp.create_writer(topic, RELIABLE.replace(
            autodispose_unregistered_instances=autodispose))
        assert writer.wait_for_matched(1, 10)
        writer.write(shape("RED"))
        writer.unregister(shape("RED"))
        got: list = []

        def taken() -> int:
            got.extend(reader.take(timeout=0.1))
            return len(got)
        assert wait_until(lambda: taken() >= 2, 10)
        assert [s.info.valid_data for s in got] == [True, False]
        assert got[-1].info.instance_state is state


def test_a_reader_purges_a_disposed_instance_after_its_delay(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        reader = dp.create_reader(topic, RELIABLE.replace(autopurge_disposed_samples_delay=0.3))
        writer = dp.create_writer(topic, RELIABLE)
        assert writer.wait_for_matched(1, 10)
        writer.write(shape("RED"))
        writer.dispose(shape("RED"))
        assert wait_until(lambda: len(reader.read()) == 2, 10)
        assert wait_until(lambda: dp.counters().get("autopurged", 0) == 2, 5)
        assert reader.read() == []
