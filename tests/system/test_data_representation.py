"""Which data representations a reader accepts: unset means both, an explicit choice is kept."""

from __future__ import annotations

import pytest

import rtbus
import rtbus.idl
from rtbus.qos import XCDR1, XCDR2
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType


def _shape(x: int) -> object:
    return Shape(color="RED", x=x, y=1, shapesize=5, additional_payload_size=[])


def test_unset_reader_takes_xcdr2_but_explicit_xcdr1_reader_does_not_match(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape),
                            rtbus.Qos(reliability="reliable", data_representation=(XCDR2,)))
        topic = b.create_topic("Square", Shape)
        unset = b.create_reader(topic, rtbus.Qos(reliability="reliable"))
        xcdr1 = b.create_reader(topic, rtbus.Qos(reliability="reliable",
                                                 data_representation=(XCDR1,)))
        assert unset.qos.data_representation == (XCDR1, XCDR2)
        assert xcdr1.qos.data_representation == (XCDR1,)
        assert unset.wait_for_matched(1, 10)
        assert w.wait_for_matched(1, 10)
        # the XCDR1-only reader was discovered and judged: incompatible, not matched
        assert wait_until(lambda: xcdr1.requested_incompatible_qos_status().total_count == 1)
        assert w.matched_count == 1 and xcdr1.matched_count == 0
        w.write(_shape(7))
        got = unset.take(timeout=5.0)
        assert [s.data.x for s in got] == [7]
        assert xcdr1.take() == [] and xcdr1.matched_count == 0  # never matched: nothing to get
