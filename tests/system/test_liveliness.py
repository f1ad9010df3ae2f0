"""LIVELINESS between rtbus processes over real sockets: a writer process killed with SIGKILL
is reported not alive by its readers within its liveliness lease -- long before its
participant's lease (60 s) would notice -- its instances become NOT_ALIVE_NO_WRITERS, an
EXCLUSIVE backup takes over, and a MANUAL writer that stops asserting reports
LIVELINESS_LOST."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import rtbus
from rtbus import InstanceState
from rtbus.shape import shape_type
from tests.support.polling import wait_until
from tests.support.processes import Arrivals, PeerProcess

pytestmark = pytest.mark.system
Shape = shape_type()
PEER = Path(__file__).parent / "peers" / "liveliness_writer.py"
LEASE = 1.0
#: how late past the lease a reader may notice on a loaded 2-core machine
LATE = 0.6


def peer(*args: object) -> PeerProcess:
    return PeerProcess(PEER, *args)


@pytest.mark.parametrize("kind", ["automatic", "manual_by_participant", "manual_by_topic"])
def test_a_killed_writer_is_not_alive_within_its_lease(kind: str, domain_id: int) -> None:
    changed: list[rtbus.LivelinessChangedStatus] = []
    with rtbus.Participant(domain_id) as dp:
        reader = dp.create_reader(dp.create_topic("Square", Shape), reliability="reliable",
                                  listeners={"on_liveliness_changed":
                                             lambda r, s: changed.append(s)})
        with peer(domain_id, kind, LEASE) as writer:
            assert wait_until(lambda: writer.said("ready") == 1, 30), writer.lines
            assert wait_until(lambda: [s.alive_count for s in changed] == [1], 10)
            # it keeps its promise for several leases (its assertions, or for AUTOMATIC its
            # participant's messages, are what the reader renews it by)
            if kind == "automatic":
                base = dp.counters().get("pmd_received", 0)
                assert wait_until(lambda: dp.counters().get("pmd_received", 0) >= base + 4, 10)
            else:
                assert wait_until(lambda: writer.said("asserted") >= 7, 10)
            assert [(s.alive_count, s.not_alive_count) for s in changed] == [(1, 0)]
            assert reader.take(timeout=5)  # its one sample

            killed = writer.kill()
            assert wait_until(lambda: changed[-1].not_alive_count == 1, 10)
            noticed = time.monotonic()
        status = changed[-1]
        assert (status.alive_count, status.not_alive_count) == (0, 1)
        assert (status.alive_count_change, status.not_alive_count_change) == (-1, 1)
        assert noticed - killed <= LEASE + LATE, noticed - killed
        # still matched: liveliness noticed it, not the participant lease
        assert reader.subscription_matched_status().current_count == 1
        [notice] = reader.take(timeout=5)
        assert not notice.info.valid_data
        assert notice.info.instance_state is InstanceState.NOT_ALIVE_NO_WRITERS


def test_the_backup_takes_over_when_the_owner_process_is_killed(domain_id: int) -> None:
    lease = 0.5
    with rtbus.Participant(domain_id) as dp:
        reader = dp.create_reader(dp.create_topic("Square", Shape), reliability="reliable",
                                  ownership="exclusive", history="keep_all")
        arrivals = Arrivals(reader)
        with peer(domain_id, "automatic", lease, 10) as primary, \
                peer(domain_id, "automatic", lease, 5) as backup:
            assert wait_until(lambda: primary.said("ready") and backup.said("ready"), 30)
            assert wait_until(lambda: arrivals.take().count(10) >= 25, 10)
            seen = arrivals.take()
            # once the stronger one wrote, the weaker one is not delivered while both live
            assert 5 not in seen[seen.index(10):]
            killed = primary.kill()
            assert wait_until(lambda: 5 in arrivals.take()[len(seen):], 10)
        switch = arrivals.switch(len(seen), 5)
        assert arrivals.got[switch][0] - killed <= lease + LATE
        assert {x for _, x in arrivals.got[switch:]} == {5}  # nothing of the dead owner after it


def test_a_manual_writer_that_stops_asserting_reports_liveliness_lost(domain_id: int) -> None:
    lost: list[rtbus.LivelinessLostStatus] = []
    with rtbus.Participant(domain_id) as dp:
        writer = dp.create_writer(dp.create_topic("Square", Shape),
                                  liveliness="manual_by_topic", liveliness_lease=0.3,
                                  listeners={"on_liveliness_lost": lambda w, s: lost.append(s)})
        for y in range(5):  # writing keeps it alive
            writer.write(Shape(color="RED", x=1, y=y, shapesize=30, additional_payload_size=b""))
            writer.assert_liveliness()
        assert wait_until(lambda: lost, 5)
        assert (lost[0].total_count, lost[0].total_count_change) == (1, 1)
        writer.assert_liveliness()  # alive again: the next lapse counts again
        assert wait_until(lambda: len(lost) == 2, 5)
        assert lost[1].total_count == 2
        assert writer.liveliness_lost_status().total_count == 2
