"""Local delivery: a writer and a reader of one participant match and exchange data as with a
remote peer (reliability, KEEP_ALL push-back, durability, QoS matching, partitions,
statuses, instance states), without a datagram on the wire."""

from __future__ import annotations

import threading
import time

import pytest

import rtbus
import rtbus.idl
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_rtbus, wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
RELIABLE_LOCAL = rtbus.Qos(reliability="reliable", history="keep_all",
                           durability="transient_local")


def shape(color: str, x: int) -> object:
    return Shape(color=color, x=x, y=0, shapesize=30, additional_payload_size=b"")


def isolated(domain: int) -> rtbus.Participant:
    """A participant that sends nothing anywhere: no multicast, no peers."""
    return rtbus.Participant(domain, multicast=False, interface="127.0.0.1")


def test_reliable_keyed_transient_local_within_one_participant_sends_no_datagram(
        domain_id: int) -> None:
    with isolated(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, RELIABLE_LOCAL)
        for i in range(5):  # written before any reader exists: the history
            w.write(shape("RED" if i % 2 else "BLUE", i))
        r = dp.create_reader(topic, RELIABLE_LOCAL)  # a late joiner
        assert r.wait_for_matched(1, 5) and w.wait_for_matched(1, 5)
        for i in range(5, 200):
            w.write(shape("RED" if i % 2 else "BLUE", i))
        got = take_rtbus(r, 200, seconds=20)
        assert [s.data.x for s in got] == list(range(200))
        assert {s.data.color for s in got} == {"RED", "BLUE"}
        assert w.wait_for_acknowledgments(5)
        counters = dp.counters()
        assert counters["tx_datagrams"] == 0, counters
        assert counters["local_submessages"] > 200


def test_keep_all_reader_with_small_history_pushes_back_without_loss(domain_id: int) -> None:
    with isolated(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        r = dp.create_reader(topic, rtbus.Qos(reliability="reliable", history="keep_all",
                                              resource_limits=(10, -1, -1)))
        w = dp.create_writer(topic, rtbus.Qos(reliability="reliable", history="keep_all",
                                              resource_limits=(20, -1, -1),
                                              max_blocking_time=5.0))
        got: list[int] = []
        taker = threading.Thread(target=lambda: got.extend(
            s.data.x for s in take_rtbus(r, 300, seconds=30)))
        taker.start()
        for i in range(300):  # 30x what the reader holds: the writer must wait for it
            w.write(shape("GREEN", i))
        taker.join(35)
        assert got == list(range(300))


def test_incompatible_qos_and_partitions_between_local_endpoints(domain_id: int) -> None:
    with isolated(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, reliability="best_effort", partition=["robots/arm"])
        strict = dp.create_reader(topic, reliability="reliable", partition=["robots*"])
        elsewhere = dp.create_reader(topic, partition=["cameras"])
        barrier = dp.create_reader(topic, partition=["robots/*"])  # matches: events settle
        assert barrier.wait_for_matched(1, 5)
        st = strict.requested_incompatible_qos_status()
        assert st.total_count == 1 and int(st.last_policy_id) == 11  # RELIABILITY
        assert w.offered_incompatible_qos_status().total_count == 1
        assert strict.subscription_matched_status().current_count == 0
        assert elsewhere.subscription_matched_status().current_count == 0
        assert w.publication_matched_status().current_count == 1  # the barrier only
        w.write(shape("BLUE", 1))
        assert [s.data.x for s in barrier.take(timeout=5)] == [1]
        assert elsewhere.take() == [] and strict.take() == []


def test_dispose_and_writer_close_reach_the_local_reader_with_key_fields(domain_id: int) -> None:
    with isolated(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, reliability="reliable")
        r = dp.create_reader(topic, reliability="reliable", history=("keep_last", 10))
        w.write(shape("BLUE", 1))
        w.write(shape("RED", 2))
        w.dispose(shape("BLUE", 0))
        got = take_rtbus(r, 3, seconds=5)
        states = [(s.info.valid_data, s.data.color, s.info.instance_state) for s in got]
        # a SampleInfo shows the instance's state at the time of the take (DDS)
        assert states == [(True, "BLUE", rtbus.InstanceState.NOT_ALIVE_DISPOSED),
                          (True, "RED", rtbus.InstanceState.ALIVE),
                          (False, "BLUE", rtbus.InstanceState.NOT_ALIVE_DISPOSED)]
        w.close()  # RED's only writer goes: NOT_ALIVE_NO_WRITERS, and the reader unmatches
        got = r.take(timeout=5)
        assert [(s.data.color, s.info.instance_state) for s in got] == \
            [("RED", rtbus.InstanceState.NOT_ALIVE_NO_WRITERS)]
        assert r.subscription_matched_status().current_count == 0


def test_take_waiting_in_one_thread_wakes_for_a_write_from_another(domain_id: int) -> None:
    with isolated(domain_id) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, reliability="reliable")
        r = dp.create_reader(topic, reliability="reliable")
        out: list = []
        taker = threading.Thread(target=lambda: out.append(r.take(timeout=30)))
        taker.start()
        assert wait_until(lambda: r._direct_waiting)  # blocked in the take: the write wakes it
        t0 = time.monotonic()
        w.write(shape("BLUE", 7))
        taker.join(30)
        assert [s.data.x for s in out[0]] == [7]
        assert time.monotonic() - t0 < 10, "the waiting take was not woken by the write"


def test_two_participants_of_one_process_exchange_reliable_transient_local_data(
        domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape), RELIABLE_LOCAL)
        for i in range(10):
            w.write(shape("BLUE", i))
        r = b.create_reader(b.create_topic("Square", Shape), RELIABLE_LOCAL)
        assert r.wait_for_matched(1, 10)
        for i in range(10, 50):
            w.write(shape("RED", i))
        assert [s.data.x for s in take_rtbus(r, 50)] == list(range(50))
