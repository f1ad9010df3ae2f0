"""Two rtbus participants over real UDP sockets in the test namespace: sync and async API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import rtbus
import rtbus.idl
from rtbus.rtps.instances import InstanceState
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_rtbus

pytestmark = pytest.mark.system
SHAPES = rtbus.idl.load(SHAPE_IDL)
Shape = SHAPES.ShapeType
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")


def shape(color: str, x: int) -> object:
    return Shape(color=color, x=x, y=2, shapesize=30, additional_payload_size=[])


def test_reliable_1000_samples_in_order_exactly_once(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape), RELIABLE)
        r = b.create_reader(b.create_topic("Square", Shape), RELIABLE)
        assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
        for i in range(1000):
            w.write(shape("BLUE", i))
        got = take_rtbus(r, 1000)
        assert [s.data.x for s in got] == list(range(1000))
        assert all(s.info.writer_guid == w.guid for s in got)
        assert w.wait_for_acknowledgments(5)
        assert r.take() == []


def test_transient_local_late_joiner_gets_last_n_per_instance(domain_id: int) -> None:
    qos = rtbus.Qos(reliability="reliable", durability="transient_local",
                    history=("keep_last", 3))
    with rtbus.Participant(domain_id) as a:
        w = a.create_writer(a.create_topic("Square", Shape), qos)
        for i in range(10):
            w.write(shape("BLUE", i))
            w.write(shape("RED", 100 + i))
        with rtbus.Participant(domain_id) as b:
            r = b.create_reader(b.create_topic("Square", Shape), qos)
            got = take_rtbus(r, 6)
            by_color: dict[str, list[int]] = {}
            for s in got:
                by_color.setdefault(s.data.color, []).append(s.data.x)
            assert by_color == {"BLUE": [7, 8, 9], "RED": [107, 108, 109]}


def test_dispose_reaches_reader_as_not_alive_disposed(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape), RELIABLE)
        r = b.create_reader(b.create_topic("Square", Shape), RELIABLE)
        assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
        w.write(shape("GREEN", 1))
        w.dispose(shape("GREEN", 1))
        got = take_rtbus(r, 2)
        assert got[0].data.x == 1 and got[0].info.valid_data
        assert got[1].info.instance_state == InstanceState.NOT_ALIVE_DISPOSED


def test_partition_and_domain_mismatch_yield_no_data(
        domain_id: int, new_domain_id: Callable[[], int]) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b, \
            rtbus.Participant(new_domain_id()) as c:
        w = a.create_writer(a.create_topic("Square", Shape), RELIABLE, partition=("left",))
        r_part = b.create_reader(b.create_topic("Square", Shape), RELIABLE, partition=("right",))
        r_dom = c.create_reader(c.create_topic("Square", Shape), RELIABLE)
        r_ok = b.create_reader(b.create_topic("Square", Shape), RELIABLE, partition=("l*",))
        assert r_ok.wait_for_matched(1, 10)
        for i in range(5):
            w.write(shape("BLUE", i))
        assert [s.data.x for s in take_rtbus(r_ok, 5)] == list(range(5))
        assert r_part.take(timeout=0.3) == [] and r_dom.take() == []
        assert w.matched_count == 1


def test_async_api_iterates_samples(domain_id: int) -> None:
    async def main() -> list[int]:
        async with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
            w = a.create_writer(a.create_topic("Square", Shape), RELIABLE)
            r = b.create_reader(b.create_topic("Square", Shape), RELIABLE)
            assert await w.matched(1, 10)
            for i in range(50):
                w.write(shape("BLUE", i))
            xs: list[int] = []
            async for s in r:
                xs.append(s.data.x)
                if len(xs) == 50:
                    break
            return xs

    assert asyncio.run(asyncio.wait_for(main(), 20)) == list(range(50))
