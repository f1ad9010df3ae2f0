"""Large samples (DATA_FRAG both ways) between rtbus and Cyclone DDS: 1 MiB and 8 MiB.

The payload is i % 251 for byte i on both sides, so every byte is checked. The rtbus writer is
matched and Cyclone's reader has matched it when the sample is written, with no settling delay:
the case that once lost the 8 MiB sample to Cyclone's reading of the first heartbeat (see
tests/unit/test_writer_session.py and docs/rti-interop.md)."""

import time

import numpy as np
import pytest
from cyclonedds.domain import DomainParticipant
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

import rtbus

from .test_cyclone_data import C_RELIABLE, RELIABLE, CShape, Shape, cyclone_writer

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("size", [1 << 20, 8 << 20])
def test_large_samples_both_ways(size: int, domain_id: int) -> None:
    payload = (np.arange(size) % 251).astype(np.uint8)
    dp = DomainParticipant(domain_id)
    creader = DataReader(dp, Topic(dp, "Square", CShape), qos=C_RELIABLE)
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("Square", Shape), RELIABLE)
        r = p.create_reader(p.create_topic("Circle", Shape), RELIABLE)
        assert w.wait_for_matched(1, 10)
        end = time.monotonic() + 10
        while creader.get_subscription_matched_status().current_count < 1:
            assert time.monotonic() < end, "Cyclone reader did not match"
            time.sleep(0.01)

        w.write(Shape(color="BIG", x=1, y=2, shapesize=3, additional_payload_size=payload))
        got: list = []
        end = time.monotonic() + 90
        while not got and time.monotonic() < end:
            got = [s for s in creader.take(N=4) if hasattr(s, "additional_payload_size")]
            time.sleep(0.01)
        assert got, f"Cyclone received no {size}-byte sample"
        assert bytes(got[0].additional_payload_size) == payload.tobytes()

        peer = cyclone_writer(domain_id, "Circle", 1, size)
        try:
            samples = r.take(timeout=90)
        finally:
            peer.communicate("", timeout=90)
        assert samples and samples[0].data.color == "GREEN"
        assert samples[0].data.additional_payload_size.tobytes() == payload.tobytes()
