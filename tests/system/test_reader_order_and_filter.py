"""TIME_BASED_FILTER and DESTINATION_ORDER BY_SOURCE_TIMESTAMP at an rtbus reader over real
sockets, with the writer's source timestamps chosen by the test (so what passes is exact)."""

from __future__ import annotations

import pytest

import rtbus
from rtbus.errors import QosError
from rtbus.shape import shape_type

pytestmark = pytest.mark.system
Shape = shape_type()
QOS = rtbus.Qos(reliability="reliable", history="keep_all")
T0 = 1_800_000_000.0


def shape(y: int, color: str = "BLUE") -> object:
    return Shape(color=color, x=0, y=y, shapesize=30, additional_payload_size=b"")


def pair(domain_id: int, writer_qos: rtbus.Qos = QOS,  # type: ignore[no-untyped-def]
         **reader_qos: object):
    a, b = rtbus.Participant(domain_id), rtbus.Participant(domain_id)
    w = a.create_writer(a.create_topic("Square", Shape), writer_qos)
    r = b.create_reader(b.create_topic("Square", Shape), QOS.replace(**reader_qos))
    plain = b.create_reader(b.create_topic("Square", Shape), QOS)
    assert w.wait_for_matched(2, 10) and r.wait_for_matched(1, 10)
    return a, b, w, r, plain


def taken(reader: rtbus.Reader) -> list[tuple[str, int, float]]:
    return [(s.data.color, s.data.y, s.info.source_timestamp) for s in reader.take()]


def test_time_based_filter_keeps_one_sample_per_separation_per_instance(
        domain_id: int) -> None:
    a, b, w, r, plain = pair(domain_id, time_based_filter=0.2)
    with a, b:
        for i in range(20):  # 50 ms apart by source timestamp, two instances
            w.write(shape(i, "BLUE"), timestamp=T0 + i * 0.05)
            w.write(shape(i, "RED"), timestamp=T0 + i * 0.05)
        assert w.wait_for_acknowledgments(10)
        got = taken(r)
        assert [y for c, y, _ in got if c == "BLUE"] == [0, 4, 8, 12, 16]
        assert [y for c, y, _ in got if c == "RED"] == [0, 4, 8, 12, 16]
        assert len(taken(plain)) == 40  # an unfiltered reader of the same writer gets all


def test_by_source_timestamp_drops_a_sample_older_than_the_instances_newest(
        domain_id: int) -> None:
    # the writer must offer it (request vs offered); the plain reader requests less
    by_source = QOS.replace(destination_order="by_source_timestamp")
    a, b, w, r, plain = pair(domain_id, by_source, destination_order="by_source_timestamp")
    with a, b:
        w.write(shape(1), timestamp=T0 + 10)
        w.write(shape(2), timestamp=T0 + 5)  # older than what the reader has
        w.write(shape(3, "RED"), timestamp=T0 + 5)  # another instance: its own order
        w.write(shape(4), timestamp=T0 + 10)  # as new: kept
        w.write(shape(5), timestamp=T0 + 20)
        assert w.wait_for_acknowledgments(10)
        assert [y for _, y, _ in taken(r)] == [1, 3, 4, 5]
        assert [y for _, y, _ in taken(plain)] == [1, 2, 3, 4, 5]  # by reception: all


def test_a_filter_longer_than_the_deadline_is_refused(domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        with pytest.raises(QosError, match="longer than deadline"):
            dp.create_reader(dp.create_topic("Square", Shape),
                             QOS.replace(time_based_filter=1.0, deadline=0.5))
