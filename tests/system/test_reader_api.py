"""The reader API a Cyclone/RTI user reaches for: read vs take with sample, view and instance
states, lookup_instance and per-instance access, conditions and WaitSets, and the builtin
discovery topics."""

from __future__ import annotations

import asyncio
import threading

import pytest

import rtbus
import rtbus.idl
from rtbus import InstanceState, SampleState, ViewState
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_rtbus, wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
LOCAL = {"multicast": False, "interface": "127.0.0.1"}
KEEP10 = rtbus.Qos(reliability="reliable", history=("keep_last", 10))


def shape(color: str, x: int) -> object:
    return Shape(color=color, x=x, y=0, shapesize=30, additional_payload_size=b"")


def pair(dp: rtbus.Participant) -> tuple[rtbus.Writer, rtbus.Reader]:
    topic = dp.create_topic("Square", Shape)
    return dp.create_writer(topic, KEEP10), dp.create_reader(topic, KEEP10)


def test_read_leaves_samples_and_marks_them_read(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        w, r = pair(dp)
        w.write(shape("BLUE", 1))
        w.write(shape("RED", 2))
        first = r.read(timeout=5)
        assert [(s.data.x, s.info.sample_state, s.info.view_state) for s in first] == [
            (1, SampleState.NOT_READ, ViewState.NEW), (2, SampleState.NOT_READ, ViewState.NEW)]
        again = r.read()
        assert [(s.data.x, s.info.sample_state, s.info.view_state) for s in again] == [
            (1, SampleState.READ, ViewState.NOT_NEW), (2, SampleState.READ, ViewState.NOT_NEW)]
        assert r.read(sample_states=SampleState.NOT_READ) == []
        w.write(shape("BLUE", 3))
        fresh = r.read(timeout=5, sample_states=SampleState.NOT_READ)
        assert [s.data.x for s in fresh] == [3]
        assert [s.data.x for s in r.take()] == [1, 2, 3]
        assert r.take() == [] and r.read() == []


def test_lookup_instance_and_per_instance_take(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        w, r = pair(dp)
        assert r.lookup_instance(shape("BLUE", 0)) is None  # not known yet
        for i in range(6):
            w.write(shape(("BLUE", "RED", "GREEN")[i % 3], i))
        assert len(r.read(timeout=5)) >= 1 and wait_until(lambda: len(r.read()) == 6)
        blue = r.lookup_instance(shape("BLUE", 999))  # only the key counts
        assert blue is not None and len(blue) == 16
        assert r.lookup_instance(shape("YELLOW", 0)) is None
        got = r.take(instance=blue)
        assert [(s.data.color, s.data.x) for s in got] == [("BLUE", 0), ("BLUE", 3)]
        assert all(s.info.instance_handle == blue for s in got)
        assert sorted(s.data.x for s in r.take()) == [1, 2, 4, 5]


def test_instance_state_masks(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        w, r = pair(dp)
        w.write(shape("BLUE", 1))
        w.write(shape("RED", 2))
        w.dispose(shape("BLUE", 0))
        assert wait_until(lambda: len(r.read()) == 3)
        alive = r.take(instance_states=InstanceState.ALIVE)
        assert [s.data.color for s in alive] == ["RED"]
        gone = r.take(instance_states=InstanceState.NOT_ALIVE_DISPOSED)
        assert [(s.data.color, s.info.valid_data) for s in gone] == [("BLUE", True),
                                                                      ("BLUE", False)]


def test_waitset_with_read_and_guard_conditions(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        w, r = pair(dp)
        data = rtbus.ReadCondition(r, sample_states=SampleState.NOT_READ)
        stop = rtbus.GuardCondition()
        ws = rtbus.WaitSet([data, stop])
        assert ws.wait(timeout=0.05) == []  # nothing yet: the timeout passes
        threading.Timer(0.1, lambda: w.write(shape("BLUE", 1))).start()
        assert ws.wait(timeout=10) == [data]
        assert [s.data.x for s in r.read(sample_states=SampleState.NOT_READ)] == [1]
        assert not data.trigger_value  # read: no NOT_READ sample left
        threading.Timer(0.1, lambda: stop.set_trigger_value(True)).start()
        assert ws.wait(timeout=10) == [stop]

        async def wait_async() -> list:
            stop.set_trigger_value(False)
            w.write(shape("RED", 2))
            return await ws.wait_async(timeout=10)

        assert asyncio.run(wait_async()) == [data]


def test_status_condition_wakes_on_a_match(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, KEEP10)
        matched = rtbus.StatusCondition(w, ["publication_matched"])
        ws = rtbus.WaitSet([matched])
        threading.Timer(0.1, lambda: dp.create_reader(topic, KEEP10)).start()
        assert ws.wait(timeout=10) == [matched]
        assert w.publication_matched_status().current_count == 1
        assert not matched.trigger_value  # reading the status consumed the change


def test_builtin_discovery_topics_show_remote_and_local_entities(domain_id: int) -> None:
    with rtbus.Participant(domain_id, name="observer") as obs:
        participants = obs.create_reader(rtbus.DCPSParticipant)
        publications = obs.create_reader(rtbus.DCPSPublication)
        with rtbus.Participant(domain_id, name="publisher") as pub:
            w = pub.create_writer(pub.create_topic("Square", Shape), KEEP10)
            seen = {s.data.entity_name: s for s in take_rtbus(participants, 2)}
            assert seen["observer"].data.local and not seen["publisher"].data.local
            assert seen["publisher"].data.key == pub.guid_prefix + b"\x00\x00\x01\xc1"
            assert seen["publisher"].info.instance_state == InstanceState.ALIVE
            pubs = take_rtbus(publications, 1)
            assert [(s.data.key, s.data.topic_name, s.data.type_name, s.data.qos.reliability)
                    for s in pubs] == [(w.guid, "Square", "ShapeType", "reliable")]
            w.close()
            gone = take_rtbus(publications, 1)
            assert [(s.data.key, s.info.instance_state) for s in gone] == [
                (w.guid, InstanceState.NOT_ALIVE_DISPOSED)]
        left = take_rtbus(participants, 1)
        assert [(s.data.entity_name, s.info.instance_state) for s in left] == [
            ("publisher", InstanceState.NOT_ALIVE_DISPOSED)]
        # a reader created late starts with what is known, its own entities included
        subs = obs.create_reader(rtbus.DCPSSubscription)
        r = obs.create_reader(obs.create_topic("Circle", Shape))
        assert [(s.data.key, s.data.local) for s in subs.take(timeout=5)] == [(r.guid, True)]


def test_sample_rejected_status_names_the_limit_and_the_instance(domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        topic = dp.create_topic("Square", Shape)
        r = dp.create_reader(topic, reliability="best_effort", history="keep_all",
                             resource_limits=(2, -1, -1))
        cond = rtbus.StatusCondition(r, ["sample_rejected"])
        heard: list = []
        r.on_sample_rejected = lambda reader, status: heard.append(status)
        w = dp.create_writer(topic, reliability="best_effort")
        for i in range(5):
            w.write(shape("RED", i))
        assert wait_until(lambda: len(heard) == 3)
        assert [s.total_count for s in heard] == [1, 2, 3]
        last = heard[-1]
        assert last.last_reason is rtbus.SampleRejectedReason.REJECTED_BY_SAMPLES_LIMIT
        assert last.last_instance_handle == r.lookup_instance(shape("RED", 0))
        assert [s.data.x for s in r.take()] == [0, 1]  # the two that fitted
        assert r.sample_rejected_status().total_count == 3
        r.on_sample_rejected = None
        w.write(shape("RED", 5))
        w.write(shape("RED", 6))
        w.write(shape("RED", 7))  # the third no longer fits
        assert rtbus.WaitSet([cond]).wait(5) == [cond]
        status = r.sample_rejected_status()
        assert status.total_count == 4 and status.total_count_change == 1
        assert not cond.trigger_value  # reading the status consumed the change
