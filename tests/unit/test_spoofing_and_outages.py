"""Streams that one forged datagram, or a one-way outage, must not break for good (sans-IO
participants on the simulated network).

* A one-way outage longer than the participant lease (the publisher's traffic is lost, the
  subscriber's still arrives) heals: once the link is back the pair rematches and data flows
  within a few seconds. Before, the subscriber dropped the publisher, rediscovered it, and
  its fresh discovery reader's pre-emptive ACKNACK (count 1) was taken as stale by the
  publisher's SEDP writer, which remembered a higher count: no endpoint matched again.
  Cyclone DDS handles this ("asymmetrical disconnection"): it accepts pre-emptive ACKNACKs,
  and any count once 2 s have passed since the last accepted one. So does rtbus now.
* A forged HEARTBEAT or ACKNACK with count 0xFFFFFFFF silences the real ones for at most
  that resync time.
* A forged SPDP dispose or announcement naming another participant is dropped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.builtin_data import build_key_payload, build_participant_payload
from rtbus.rtps.wire.constants import (
    PID_PARTICIPANT_GUID,
    STATUS_INFO_DISPOSED,
    STATUS_INFO_UNREGISTERED,
)
from tests.support.simcore import SimCore, submessages
from tests.support.simnet import SimNetwork

TOPIC, TYPE = "Outage", "Blob"
LEASE = 3.0
KEY = bytes([9]) * 16


def cdr(body: bytes) -> bytes:
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


def matched_pair(net: SimNetwork, lease: float = 10.0
                 ) -> tuple[SimCore, SimCore, wire.Guid, wire.Guid]:
    """A reliable KEEP_ALL writer on participant 1 and its reader on 2, matched both ways."""
    pub = SimCore(net, 1, type_lookup=False, lease_duration=lease)
    sub = SimCore(net, 2, type_lookup=False, lease_duration=lease)
    qos = Qos(reliability="reliable", history="keep_all")
    w = pub.core.add_writer(TOPIC, TYPE, qos, True, net.now)
    r = sub.core.add_reader(TOPIC, TYPE, qos, True, net.now)
    pub.drain()
    sub.drain()
    net.run(until=net.now + 10, stop=lambda: w in sub.core.readers[r.entity_id].core.writers
            and pub.core.acked_by_all(w))
    return pub, sub, w, r


def write(pub: SimCore, w: wire.Guid, i: int) -> None:
    """Sample ``i`` (its body "%04d")."""
    pub.core.write(w, cdr(b"%04d" % i), KEY, 0, int(pub.net.now * 1e9), pub.net.now)
    pub.drain()


def take(sub: SimCore, r: wire.Guid, got: list[bytes]) -> list[bytes]:
    """Add what the reader has to ``got`` (the bodies' first four bytes); ``got``."""
    got.extend(bytes(s.payload)[4:8] for s in sub.core.take(r, None, sub.net.now)
               if s.payload is not None)
    sub.drain()
    return got


def test_a_one_way_outage_longer_than_the_lease_heals_into_a_flowing_pair() -> None:
    net = SimNetwork(seed=11)
    pub, sub, w, r = matched_pair(net, lease=LEASE)
    streams = lambda: sub.core.readers[r.entity_id].core.writers  # noqa: E731
    got: list[bytes] = []
    write(pub, w, 0)
    net.run(until=net.now + 1, stop=lambda: take(sub, r, got) == [b"0000"])
    assert got == [b"0000"]
    # the publisher's datagrams are lost for longer than its lease; the subscriber's arrive
    net.drop_filter = lambda src, dst, datagram: src is pub
    net.run(until=net.now + LEASE + 2)
    assert w not in streams()  # the subscriber gave the publisher up
    net.drop_filter = None
    healed = net.now
    net.run(until=healed + 3, stop=lambda: w in streams())
    assert w in streams(), "the pair never matched again"
    write(pub, w, 1)
    net.run(until=net.now + 3, stop=lambda: b"0001" in take(sub, r, got))
    assert b"0001" in got
    assert net.now - healed <= 3.0 + 0.5


def forged(prefix: bytes, sub: object) -> bytes:
    """One datagram that claims to come from participant ``prefix``."""
    return wire.encode_header(prefix) + wire.encode_submessage(sub)  # type: ignore[arg-type]


def test_a_forged_max_count_heartbeat_silences_the_writer_for_at_most_the_resync_time() -> None:
    net = SimNetwork(seed=12)
    pub, sub, w, r = matched_pair(net)
    hb = wire.Heartbeat(reader_id=r.entity_id, writer_id=w.entity_id, first_sn=1, last_sn=0,
                        count=0xFFFFFFFF, final=True)
    sub.receive(forged(bytes(pub.prefix), hb), (pub.host, 7410))
    got: list[bytes] = []
    lose_next = [True]

    def drop_first_data(src: object, dst: object, datagram: bytes) -> bool:
        if src is pub and lose_next[0] and any(isinstance(s, wire.Data) and s.writer_id ==
                                               w.entity_id for _, s in submessages(datagram)):
            lose_next[0] = False
            return True  # the sample is lost: only the (now "stale") heartbeats can repair it
        return False
    net.drop_filter = drop_first_data
    start = net.now
    write(pub, w, 1)
    net.run(until=start + 5, stop=lambda: take(sub, r, got) == [b"0001"])
    assert got == [b"0001"]
    assert net.now - start <= 3.0
    assert sub.core.readers[r.entity_id].core.counters["heartbeat_count_resync"] >= 1


def test_a_forged_max_count_acknack_delays_acknowledgement_by_at_most_the_resync_time() -> None:
    net = SimNetwork(seed=13)
    pub, sub, w, r = matched_pair(net)
    ack = wire.AckNack(reader_id=r.entity_id, writer_id=w.entity_id,
                       reader_sn_state=wire.SequenceNumberSet(2, ()), count=0xFFFFFFFF,
                       final=True)
    pub.receive(forged(bytes(sub.prefix), ack), (sub.host, 7410))
    start = net.now
    write(pub, w, 2)
    net.run(until=start + 5, stop=lambda: pub.core.acked_by_all(w))
    assert pub.core.acked_by_all(w)
    assert net.now - start <= 3.0
    assert pub.core.writers[w.entity_id].core.counters["acknack_count_resync"] >= 1


def spdp_data(payload: bytes, key_hash: bytes, status: int = 0, key_only: bool = False
              ) -> wire.Data:
    return wire.Data(reader_id=wire.ENTITYID_UNKNOWN,
                     writer_id=wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER, writer_sn=99,
                     inline_qos=wire.InlineQos(key_hash=key_hash, status_info=status or None),
                     serialized_payload=payload, key_only=key_only)


def test_a_forged_spdp_dispose_or_announcement_naming_another_participant_is_dropped() -> None:
    """An attacker with its own prefix says the publisher left, then announces the publisher
    with other locators: neither is believed (before, the first unmatched the publisher for
    good, the second redirected its traffic)."""
    net = SimNetwork(seed=14)
    pub, sub, w, r = matched_pair(net)
    attacker = bytes([0x01, 0x0F] + [0xEE] * 10)
    guid = bytes(pub.prefix) + bytes([0, 0, 1, 0xC1])
    dispose = spdp_data(build_key_payload(PID_PARTICIPANT_GUID, guid), guid,
                        STATUS_INFO_DISPOSED | STATUS_INFO_UNREGISTERED, key_only=True)
    sub.receive(forged(attacker, dispose), ("10.0.0.66", 7410))
    moved = replace(pub.core.local, metatraffic_unicast=(wire.Locator.udpv4("10.0.0.66", 7410),),
                    default_unicast=(wire.Locator.udpv4("10.0.0.66", 7411),))
    sub.receive(forged(attacker, spdp_data(build_participant_payload(moved), guid)),
                ("10.0.0.66", 7410))
    assert w in sub.core.readers[r.entity_id].core.writers  # still matched
    proxy = sub.core.readers[r.entity_id].core.writers[w]
    assert all(loc.host != "10.0.0.66" for loc in proxy.locators)
    assert sub.core.spdp.counters["spdp_foreign_dispose"] == 1
    assert sub.core.spdp.counters["spdp_foreign_participant"] == 1
    # and the stream goes on
    write(pub, w, 3)
    got: list[bytes] = []
    net.run(until=net.now + 2, stop=lambda: take(sub, r, got) == [b"0003"])
    assert got == [b"0003"]


def test_a_reader_that_never_acknowledges_cannot_amplify_its_nacks() -> None:
    """A reader that gets nothing (its link is down one way) and is made to NACK the newest
    200 samples 100 times a second -- forged ACKNACKs in its name, never acknowledging
    anything -- draws resends within 10x the bytes of those ACKNACKs (issue 9 finding 6:
    2,300x before); a reader that makes progress is repaired at once as before."""
    net = SimNetwork(seed=15)
    pub, sub, w, r = matched_pair(net)
    to_reader = [0]

    def one_way_down(src: object, dst: object, datagram: bytes) -> bool:
        if src is pub and dst is sub:
            to_reader[0] += len(datagram)
            return True
        return False
    net.drop_filter = one_way_down
    writer = pub.core.writers[w.entity_id].core
    first = writer.last_seq + 1
    for i in range(200):
        pub.core.write(w, cdr(b"%04d" % i + bytes(60)), KEY, 0, int(net.now * 1e9), net.now)
        pub.drain()
    net.run(until=net.now + 1)
    to_reader[0] = 0
    nack_bytes = 0
    start = net.now
    for k in range(300):  # 3 s at 100 Hz
        ack = wire.AckNack(reader_id=r.entity_id, writer_id=w.entity_id,
                           reader_sn_state=wire.SequenceNumberSet(first, tuple(
                               range(first, first + 200))), count=10_000 + k, final=True)
        datagram = forged(bytes(sub.prefix), ack)
        nack_bytes += len(datagram)
        pub.receive(datagram, (sub.host, 7410))
        net.run(until=start + (k + 1) * 0.01)
    assert to_reader[0] <= 10 * nack_bytes, (to_reader[0], nack_bytes)
    assert writer.counters["resend_suppressed"] > 0
    # the link comes back: the reader gets all 200, repaired
    net.drop_filter = None
    got: list[bytes] = []
    net.run(until=net.now + 5, stop=lambda: len(take(sub, r, got)) == 200)
    assert got == [b"%04d" % i for i in range(200)]


def forged_jump(kind: str, w: wire.Guid, r: wire.Guid) -> object:
    huge = 1 << 62
    if kind == "heartbeat":  # the writer "has" only 2^62 any more
        return wire.Heartbeat(reader_id=r.entity_id, writer_id=w.entity_id, first_sn=huge,
                              last_sn=huge, count=7, final=True)
    return wire.Gap(reader_id=r.entity_id, writer_id=w.entity_id, gap_start=1,
                    gap_list=wire.SequenceNumberSet(huge, ()))  # "1..2^62-1 are irrelevant"


@pytest.mark.parametrize("kind", ["heartbeat", "gap"])
def test_a_forged_sequence_jump_interrupts_a_stream_for_at_most_three_seconds(kind: str) -> None:
    """A HEARTBEAT claiming first = last = 2^62, or a GAP 1..2^62, in the writer's name made
    the reader skip everything the real writer would ever send, while the writer believed
    all was acknowledged. Now the writer's next real HEARTBEAT (last below where the reader
    stands) undoes the jump and the stream resumes with nothing lost."""
    net = SimNetwork(seed=16)
    pub, sub, w, r = matched_pair(net)
    got: list[bytes] = []
    write(pub, w, 0)
    net.run(until=net.now + 1, stop=lambda: len(take(sub, r, got)) == 1)
    sub.receive(forged(bytes(pub.prefix), forged_jump(kind, w, r)), (pub.host, 7410))
    start = net.now
    for i in range(1, 21):
        write(pub, w, i)
        net.run(until=net.now + 0.05)
    net.run(until=start + 3, stop=lambda: len(take(sub, r, got)) == 21)
    assert got == [b"%04d" % i for i in range(21)]
    assert sub.core.readers[r.entity_id].core.counters["sequence_rollback"] == 1
