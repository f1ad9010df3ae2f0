"""LIVELINESS with Cyclone DDS, both directions, for AUTOMATIC and MANUAL_BY_PARTICIPANT: a
writer process killed with SIGKILL is reported not alive by the other vendor's reader within
its liveliness lease (long before a participant lease would notice), and while it lives its
participant messages -- Cyclone's, rtbus's -- keep it alive at the other's reader."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import rtbus
from rtbus import InstanceState, netns
from rtbus.shape import shape_type
from tests.support.polling import wait_until
from tests.support.processes import Arrivals, PeerProcess

pytestmark = pytest.mark.interop
Shape = shape_type()
PEERS = Path(__file__).parent / "peers"
RTBUS_WRITER = Path(__file__).parents[1] / "system" / "peers" / "liveliness_writer.py"
LEASE = 1.0
LATE = 0.6  # how late past the lease a reader may notice on a loaded 2-core machine
KINDS = ["automatic", "manual_by_participant"]


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def peer(*args: object) -> PeerProcess:
    return PeerProcess(*args, cwd=PEERS)


@pytest.mark.parametrize("kind", KINDS)
def test_rtbus_reader_sees_a_killed_cyclone_writer_not_alive_within_its_lease(
        kind: str, domain_id: int) -> None:
    changed: list[rtbus.LivelinessChangedStatus] = []
    with rtbus.Participant(domain_id) as dp:
        reader = dp.create_reader(dp.create_topic("Square", Shape), reliability="reliable",
                                  listeners={"on_liveliness_changed":
                                             lambda r, s: changed.append(s)})
        with peer(PEERS / "cyclone_liveliness.py", "writer", domain_id, kind, LEASE) as cw:
            assert wait_until(lambda: "ready" in cw.lines, 30), cw.lines
            assert wait_until(lambda: changed and changed[-1].alive_count == 1, 10)
            base = dp.counters().get("pmd_received", 0)
            # Cyclone's participant messages (AUTOMATIC by itself, MANUAL on each
            # dds_assert_liveliness) keep its writer alive here for several leases
            assert wait_until(lambda: dp.counters().get("pmd_received", 0) >= base + 4, 10)
            assert [(s.alive_count, s.not_alive_count) for s in changed] == [(1, 0)]
            assert reader.take(timeout=5)
            killed = cw.kill()
            assert wait_until(lambda: changed[-1].not_alive_count == 1, 10)
            noticed = time.monotonic()
        assert (changed[-1].alive_count, changed[-1].not_alive_count) == (0, 1)
        assert noticed - killed <= LEASE + LATE, noticed - killed
        assert reader.subscription_matched_status().current_count == 1  # still matched
        [notice] = reader.take(timeout=5)
        assert notice.info.instance_state is InstanceState.NOT_ALIVE_NO_WRITERS


@pytest.mark.parametrize("kind", KINDS)
def test_cyclone_reader_sees_a_killed_rtbus_writer_not_alive_within_its_lease(
        kind: str, domain_id: int) -> None:
    with peer(PEERS / "cyclone_liveliness.py", "reader", domain_id) as cr, \
            peer(RTBUS_WRITER, domain_id, kind, LEASE) as rw:
        assert wait_until(lambda: "ready" in rw.lines, 30), (rw.lines, cr.lines)
        assert wait_until(lambda: cr.lines[-1:] == ["alive 1 not_alive 0"], 10), cr.lines
        # rtbus's participant messages keep it alive at Cyclone for several leases
        assert wait_until(lambda: rw.lines.count("asserted") >= 7, 10)
        assert "not_alive 1" not in " ".join(cr.lines), cr.lines
        killed = rw.kill()
        assert wait_until(lambda: cr.lines[-1:] == ["alive 0 not_alive 1"], 10), cr.lines
        noticed = time.monotonic()
    assert noticed - killed <= LEASE + LATE, noticed - killed


@pytest.mark.parametrize("primary", ["cyclone", "rtbus"])
def test_hot_swap_between_a_cyclone_and_an_rtbus_writer_when_the_owner_is_killed(
        primary: str, domain_id: int) -> None:
    """EXCLUSIVE ownership with one writer process of each vendor (strengths 10 and 5, AUTOMATIC
    lease 0.5 s, both writing every 20 ms): the rtbus reader delivers only the owner's
    samples, and after the owner is killed with SIGKILL only the backup's, from within the
    lease."""
    lease = 0.5
    peers = {"cyclone": lambda s: peer(PEERS / "cyclone_liveliness.py", "writer", domain_id,
                                          "automatic", lease, s),
             "rtbus": lambda s: peer(RTBUS_WRITER, domain_id, "automatic", lease, s)}
    backup_kind = "rtbus" if primary == "cyclone" else "cyclone"
    with rtbus.Participant(domain_id) as dp:
        reader = dp.create_reader(dp.create_topic("Square", Shape), reliability="reliable",
                                  ownership="exclusive", history="keep_all")
        arrivals = Arrivals(reader)
        with peers[primary](10) as owner, peers[backup_kind](5) as backup:
            assert wait_until(lambda: "ready" in owner.lines and "ready" in backup.lines, 30)
            assert wait_until(lambda: arrivals.take().count(10) >= 25, 10)
            seen = arrivals.take()
            assert 5 not in seen[seen.index(10):]  # the weaker one waits while the owner lives
            killed = owner.kill()
            assert wait_until(lambda: 5 in arrivals.take()[len(seen):], 10)
        switch = arrivals.switch(len(seen), 5)
        assert arrivals.got[switch][0] - killed <= lease + LATE
        assert {x for _, x in arrivals.got[switch:]} == {5}  # nothing of the dead owner after it
