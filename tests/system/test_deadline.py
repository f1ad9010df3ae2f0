"""Requested DEADLINE over real sockets: a reader reports each missed period of a silent
instance, and under EXCLUSIVE ownership a primary that stops writing (hung, but still
matched) hands the instance to the backup, and takes it back when it writes again."""

from __future__ import annotations

import time

import pytest

import rtbus
from rtbus.shape import shape_type
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = shape_type()
QOS = rtbus.Qos(reliability="reliable", history="keep_all")


def shape(x: int, y: int, color: str = "BLUE") -> object:
    return Shape(color=color, x=x, y=y, shapesize=30, additional_payload_size=b"")


def test_a_silent_instance_raises_requested_deadline_missed_with_its_handle(
        domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        reader = b.create_reader(b.create_topic("Square", Shape), QOS.replace(deadline=0.1))
        writer = a.create_writer(a.create_topic("Square", Shape), QOS.replace(deadline=0.1))
        assert writer.wait_for_matched(1, 10) and reader.wait_for_matched(1, 10)
        missed: list[rtbus.RequestedDeadlineMissedStatus] = []
        reader.on_requested_deadline_missed = lambda r, status: missed.append(status)
        writer.write(shape(1, 0, "RED"))
        assert wait_until(lambda: len(reader.take()) == 0 and missed, 5)
        status = reader.requested_deadline_missed_status()
        assert status.total_count >= 1
        assert status.last_instance_handle == reader.lookup_instance(shape(0, 0, "RED"))
        assert missed[0].last_instance_handle == status.last_instance_handle
        # a silent instance goes on missing, once per period
        before = status.total_count
        assert wait_until(lambda: reader.requested_deadline_missed_status().total_count
                          >= before + 2, 5)


def test_a_writer_that_does_not_write_an_instance_in_time_reports_offered_deadline_missed(
        domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        writer = dp.create_writer(dp.create_topic("Square", Shape), QOS.replace(deadline=0.1))
        missed: list[rtbus.OfferedDeadlineMissedStatus] = []
        writer.on_offered_deadline_missed = lambda w, status: missed.append(status)
        writer.write(shape(1, 0, "GREEN"))
        assert wait_until(lambda: missed, 5)
        status = writer.offered_deadline_missed_status()
        assert status.total_count >= 1 and status.last_instance_handle == \
            missed[0].last_instance_handle
        assert len(status.last_instance_handle) == 16


def test_a_primary_that_stops_writing_hands_over_to_the_backup_and_takes_it_back(
        domain_id: int) -> None:
    exclusive = QOS.replace(ownership="exclusive")
    with rtbus.Participant(domain_id) as sub, rtbus.Participant(domain_id) as a, \
            rtbus.Participant(domain_id) as b:
        reader = sub.create_reader(sub.create_topic("Square", Shape),
                                   exclusive.replace(deadline=0.2))
        primary = a.create_writer(a.create_topic("Square", Shape),
                                  exclusive.replace(ownership_strength=10, deadline=0.2))
        backup = b.create_writer(b.create_topic("Square", Shape),
                                 exclusive.replace(ownership_strength=5, deadline=0.2))
        assert reader.wait_for_matched(2, 10)
        assert primary.wait_for_matched(1, 10) and backup.wait_for_matched(1, 10)
        got: list[int] = []

        def tick(n: int, primary_writes: bool) -> None:
            backup.write(shape(2, n))
            if primary_writes:
                primary.write(shape(1, n))
            got.extend(s.data.x for s in reader.take() if s.info.valid_data)
            time.sleep(0.02)  # the writers' period

        primary.write(shape(1, 0))
        assert wait_until(lambda: (got.extend(s.data.x for s in reader.take()), 1 in got)[1])
        for n in range(1, 15):  # 0.3 s of both writing: the primary owns
            tick(n, True)
        assert set(got) == {1}, got
        del got[:]
        n = 15
        while 2 not in got and n < 400:  # the primary hangs: the backup takes over
            tick(n, False)
            n += 1
        assert 2 in got, "the backup never took over"
        assert reader.requested_deadline_missed_status().total_count >= 1
        del got[:]
        while 1 not in got and n < 800:  # the primary writes again: it takes it back
            tick(n, True)
            n += 1
        assert 1 in got
        i = got.index(1)
        for _ in range(5):
            tick(n, True)
            n += 1
        assert set(got[i:]) == {1}, got  # the backup is not delivered after the failback
