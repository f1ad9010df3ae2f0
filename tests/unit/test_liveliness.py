"""LIVELINESS between whole sans-IO participants on the simulated network (virtual time).

Writers and readers are real ParticipantCores (tests.support.simcore) that discover each other
through their own SPDP and SEDP; the participant-message (WLP) traffic, the liveliness
HEARTBEATs and the leases are the cores' own. A "killed" process is a participant whose
datagrams the network drops from then on (its participant lease is long, so only the writer's
liveliness lease can notice in time); a healed link lets them through again.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import LivelinessChanged, LivelinessLost, ReceivedSample
from rtbus.rtps.history import STATUS_UNREGISTERED
from rtbus.rtps.liveliness import OfferedLiveliness
from rtbus.rtps.participant import ReaderStatusChange
from tests.support.simcore import SimCore, submessages
from tests.support.simnet import SimNetwork

TOPIC, TYPE = "Liveliness", "Blob"
KEY = bytes([7]) * 16
LEASE = 1.0
PARTICIPANT_LEASE = 1000.0  # far beyond every test: only liveliness can tell
SLACK = 0.25  # a datagram's way and the timer's granularity


def cdr(body: bytes) -> bytes:
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


class Bus:
    """Participants 1.. on one simulated network; ``down`` holds the ones cut off."""

    def __init__(self, seed: int = 1) -> None:
        self.net = SimNetwork(seed=seed)
        self.down: set[SimCore] = set()
        self.net.drop_filter = lambda src, dst, datagram: src in self.down or dst in self.down
        self.nodes: list[SimCore] = []

    def participant(self) -> SimCore:
        p = SimCore(self.net, len(self.nodes) + 1, type_lookup=False,
                    lease_duration=PARTICIPANT_LEASE)
        self.nodes.append(p)
        return p

    def writer(self, p: SimCore, qos: Qos) -> wire.Guid:
        w = p.core.add_writer(TOPIC, TYPE, qos, True, self.net.now)
        p.drain()
        return w

    def reader(self, p: SimCore, qos: Qos) -> wire.Guid:
        r = p.core.add_reader(TOPIC, TYPE, qos, True, self.net.now)
        p.drain()
        return r

    def run(self, seconds: float, stop: Any = None) -> None:
        self.net.run(until=self.net.now + seconds, stop=stop)

    def match(self, rp: SimCore, r: wire.Guid, *writers: wire.Guid) -> None:
        streams = rp.core.readers[r.entity_id].core.writers
        self.run(30.0, stop=lambda: all(w in streams for w in writers))
        assert all(w in streams for w in writers)

    def write(self, p: SimCore, w: wire.Guid, body: bytes, key: bytes = KEY) -> None:
        now = self.net.now
        p.core.write(w, cdr(body), key, 0, int(now * 1e9), now)
        p.drain()


def changes(p: SimCore, r: wire.Guid) -> list[LivelinessChanged]:
    return [e.change for e in p.events
            if isinstance(e, ReaderStatusChange) and e.reader_guid == r
            and isinstance(e.change, LivelinessChanged)]


def counts(p: SimCore, r: wire.Guid) -> tuple[int, int]:
    """(alive, not alive) as the LIVELINESS_CHANGED status adds them up."""
    cs = changes(p, r)
    return sum(c.alive_delta for c in cs), sum(c.not_alive_delta for c in cs)


def taken(p: SimCore, r: wire.Guid) -> list[ReceivedSample]:
    out = p.core.take(r, None, p.net.now)
    p.drain()
    return out


def writer_qos(kind: str, lease: float = LEASE, **kw: Any) -> Qos:
    return Qos(liveliness=kind, liveliness_lease=lease, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["automatic", "manual_by_participant", "manual_by_topic"])
def test_a_writer_cut_off_is_not_alive_within_its_lease_and_alive_again_when_healed(
        kind: str) -> None:
    bus = Bus()
    wp, rp = bus.participant(), bus.participant()
    w = bus.writer(wp, writer_qos(kind))
    r = bus.reader(rp, Qos())
    bus.match(rp, r, w)
    assert counts(rp, r) == (1, 0)
    # alive while it keeps its promise: AUTOMATIC by the participant's own messages, the
    # MANUAL kinds by writing (every 0.5 s here), for many leases
    for i in range(10):
        if kind != "automatic" or i == 0:
            bus.write(wp, w, b"%d" % i)
        bus.run(0.5)
    assert counts(rp, r) == (1, 0), changes(rp, r)
    assert taken(rp, r)
    cut = bus.net.now
    bus.down.add(wp)
    bus.run(LEASE + SLACK, stop=lambda: counts(rp, r) == (0, 1))
    assert counts(rp, r) == (0, 1)
    gone = changes(rp, r)[-1]
    assert gone.writer_guid == w and (gone.alive_delta, gone.not_alive_delta) == (-1, 1)
    assert bus.net.now - cut <= LEASE + SLACK
    # its instance has no live writer left
    [notice] = taken(rp, r)
    assert notice.status_info & STATUS_UNREGISTERED and not notice.info.valid_data
    # healed: its next sample (or, for AUTOMATIC, its participant's next message) revives it
    bus.down.clear()
    if kind != "automatic":
        bus.write(wp, w, b"back")
    bus.run(LEASE + SLACK, stop=lambda: counts(rp, r) == (1, 0))
    assert counts(rp, r) == (1, 0)
    assert changes(rp, r)[-1].alive_delta == 1


def test_participant_assertion_keeps_manual_by_participant_writers_alive_but_not_by_topic(
        ) -> None:
    bus = Bus()
    wp, rp = bus.participant(), bus.participant()
    by_pp = bus.writer(wp, writer_qos("manual_by_participant"))
    by_topic = bus.writer(wp, writer_qos("manual_by_topic"))
    r = bus.reader(rp, Qos())
    bus.match(rp, r, by_pp, by_topic)
    for _ in range(6):  # 3 leases, asserting the participant every half lease
        wp.core.assert_liveliness(bus.net.now)
        wp.drain()
        bus.run(LEASE / 2)
    assert [c.writer_guid for c in changes(rp, r) if c.alive_delta < 0] == [by_topic]
    assert counts(rp, r) == (1, 1)


def test_writer_assertion_by_topic_is_a_liveliness_heartbeat() -> None:
    bus = Bus()
    wp, rp = bus.participant(), bus.participant()
    w = bus.writer(wp, writer_qos("manual_by_topic"))
    r = bus.reader(rp, Qos())
    bus.match(rp, r, w)
    heartbeats: list[wire.Heartbeat] = []

    def spy(src: Any, dst: Any, datagram: bytes) -> bool:
        heartbeats.extend(sub for _, sub in submessages(datagram)
                          if isinstance(sub, wire.Heartbeat) and sub.liveliness)
        return False
    bus.net.drop_filter = spy
    for _ in range(8):
        wp.core.assert_writer_liveliness(w, bus.net.now)
        wp.drain()
        bus.run(LEASE / 2)
    assert counts(rp, r) == (1, 0)
    assert heartbeats and all(hb.writer_id == w.entity_id and hb.final for hb in heartbeats)
    assert not [e for e in wp.events if isinstance(e, LivelinessLost)]


def test_a_manual_writer_that_stops_asserting_loses_liveliness_once_per_lapse() -> None:
    bus = Bus()
    wp = bus.participant()
    w = bus.writer(wp, writer_qos("manual_by_topic"))
    bus.write(wp, w, b"x")
    bus.run(LEASE * 3.5)  # one lapse, however long
    lost = [e for e in wp.events if isinstance(e, LivelinessLost)]
    assert [e.writer_guid for e in lost] == [w]
    wp.core.assert_writer_liveliness(w, bus.net.now)
    wp.drain()
    bus.run(LEASE * 0.9)
    assert len([e for e in wp.events if isinstance(e, LivelinessLost)]) == 1
    bus.run(LEASE * 0.2)
    assert len([e for e in wp.events if isinstance(e, LivelinessLost)]) == 2


def test_automatic_writers_never_lose_liveliness_at_the_writer() -> None:
    bus = Bus()
    wp = bus.participant()
    bus.writer(wp, writer_qos("automatic"))
    bus.run(LEASE * 5)
    assert not [e for e in wp.events if isinstance(e, LivelinessLost)]


def test_writers_with_infinite_lease_count_alive_and_leave_the_count_when_they_go() -> None:
    bus = Bus()
    wp, rp = bus.participant(), bus.participant()
    w = bus.writer(wp, Qos())
    r = bus.reader(rp, Qos())
    bus.match(rp, r, w)
    bus.run(5.0)
    assert counts(rp, r) == (1, 0)
    wp.core.remove_endpoint(w, bus.net.now)
    wp.drain()
    bus.run(5.0, stop=lambda: counts(rp, r) == (0, 0))
    assert counts(rp, r) == (0, 0)


def test_a_writer_that_leaves_while_not_alive_leaves_the_not_alive_count() -> None:
    bus = Bus()
    wp, rp = bus.participant(), bus.participant()
    w = bus.writer(wp, writer_qos("manual_by_topic"))
    r = bus.reader(rp, Qos())
    bus.match(rp, r, w)
    bus.run(LEASE + SLACK, stop=lambda: counts(rp, r) == (0, 1))
    assert counts(rp, r) == (0, 1)
    wp.core.remove_endpoint(w, bus.net.now)
    wp.drain()
    bus.run(5.0, stop=lambda: counts(rp, r) == (0, 0))
    assert counts(rp, r) == (0, 0)


def exclusive(strength: int, kind: str = "automatic", lease: float = LEASE) -> Qos:
    return writer_qos(kind, lease, ownership="exclusive", ownership_strength=strength)


def test_the_owner_cut_off_hands_over_to_the_backup_after_its_lease_and_takes_back() -> None:
    bus = Bus()
    pp, bp, rp = bus.participant(), bus.participant(), bus.participant()
    primary, backup = bus.writer(pp, exclusive(10)), bus.writer(bp, exclusive(5))
    r = bus.reader(rp, Qos(ownership="exclusive"))
    bus.match(rp, r, primary, backup)
    got: list[ReceivedSample] = []
    period = 0.05
    sent: dict[str, int] = {}

    def tick(*writers: tuple[SimCore, wire.Guid, str]) -> None:
        for p, w, name in writers:
            sent[name] = sent.get(name, 0) + 1
            bus.write(p, w, f"{name}{sent[name]}".encode())
        bus.run(period)
        got.extend(s for s in taken(rp, r) if s.info.valid_data)

    both = ((pp, primary, "P"), (bp, backup, "B"))
    for _ in range(20):
        tick(*both)
    assert got and all(s.info.writer_guid == primary for s in got)
    bus.down.add(pp)
    killed_at, first_backup = bus.net.now, None
    while first_backup is None and bus.net.now - killed_at < 3 * LEASE:
        tick(*both)
        first_backup = next((s for s in got if s.info.writer_guid == backup), None)
    assert first_backup is not None
    failover = first_backup.info.reception_timestamp - killed_at
    assert LEASE - SLACK <= failover <= LEASE + SLACK + period
    # from the switch on only the backup's samples, each once, in order
    after = [s for s in got if s.info.reception_timestamp >= first_backup.info.reception_timestamp]
    assert all(s.info.writer_guid == backup for s in after)
    # healed: the stronger primary takes the instance back with its next sample
    bus.down.clear()
    mark = len(got)
    for _ in range(20):
        tick(*both)
    tail = [s.info.writer_guid for s in got[mark:]]
    assert tail[-1] == primary
    back = tail.index(primary)
    assert all(g == primary for g in tail[back:])


@settings(max_examples=50, deadline=None)
@given(steps=st.lists(st.sampled_from(["assert", "wait"]), min_size=1, max_size=30))
def test_offered_liveliness_reports_each_lapse_once_and_only_after_a_whole_silent_lease(
        steps: list[str]) -> None:
    lease, step = 1.0, 0.4
    tracker = OfferedLiveliness("w", lease, 0.0)
    now, reported = 0.0, 0
    for action in steps:
        if action == "assert":
            tracker.asserted(now)
        now += step
        due = tracker.next_timer()
        if due is not None and due <= now + 1e-9:
            reported += len(tracker.handle_timer(now + 1e-9))
    assert reported == lapses(steps, lease, step)


def lapses(steps: list[str], lease: float, step: float) -> int:
    """How many times the writer went a whole lease without asserting (each lapse once)."""
    now, last, lapsed, count = 0.0, 0.0, False, 0
    for action in steps:
        if action == "assert":
            last, lapsed = now, False
        now += step
        if not lapsed and now - last >= lease - 1e-9:
            lapsed, count = True, count + 1
    return count
