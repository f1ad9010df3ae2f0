"""The participant-message (WLP) codec and service, two services joined by an in-test network.

The network carries each ``Send`` as one datagram to the service it names (or every other one
for ``dest_prefix`` None), hands its submessages over with the sender's prefix, may drop
datagrams (a seeded ``random.Random``) and runs the timers on a virtual clock.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, deque
from typing import Any

import pytest

from rtbus.errors import MalformedError
from rtbus.rtps import wire
from rtbus.rtps.actions import Send
from rtbus.rtps.builtin_data import DEFAULT_BUILTIN_ENDPOINTS, ParticipantData
from rtbus.rtps.participant_message import (
    AUTOMATIC_LIVELINESS_UPDATE,
    BUILTIN_ENDPOINTS,
    ENTITY_IDS,
    MANUAL_LIVELINESS_UPDATE,
    LivelinessAsserted,
    ParticipantMessageData,
    ParticipantMessageService,
    decode_participant_message,
    encode_participant_message,
    key_hash,
)
from rtbus.rtps.wire.constants import VENDORID_CYCLONEDDS, VENDORID_RTI_CONNEXT
from rtbus.rtps.writer import Written

PA, PB, PC = bytes(range(1, 13)), bytes(range(21, 33)), bytes(range(41, 53))
AUTO, MANUAL = AUTOMATIC_LIVELINESS_UPDATE, MANUAL_LIVELINESS_UPDATE


# --- codec -----------------------------------------------------------------------------------

def test_layout_is_cdr_le_prefix_kind_length_one_zero_octet() -> None:
    expected = (b"\x00\x01\x00\x03"  # CDR_LE, options: 3 padding octets at the end
                + PA
                + b"\x00\x00\x00\x01"  # kind: octet[4], big-endian
                + b"\x01\x00\x00\x00"  # data length, little-endian
                + b"\x00"  # data: one zero octet (Cyclone)
                + b"\x00\x00\x00")  # padding to a multiple of 4
    assert encode_participant_message(PA, AUTO) == expected
    assert decode_participant_message(expected) == ParticipantMessageData(PA, AUTO, b"\x00")


@pytest.mark.parametrize("kind", [0, AUTO, MANUAL, 0x80000001, 0xFFFFFFFF])
@pytest.mark.parametrize("data", [b"", b"\x00", b"abcd", bytes(range(37))])
@pytest.mark.parametrize("little", [True, False])
def test_round_trip(kind: int, data: bytes, little: bool) -> None:
    raw = encode_participant_message(PB, kind, data, little=little)
    assert len(raw) % 4 == 0
    msg = decode_participant_message(memoryview(raw))
    assert msg == ParticipantMessageData(PB, kind, data)
    assert msg.key_hash == PB + kind.to_bytes(4, "big") == key_hash(PB, kind)


def test_big_endian_encapsulation_decodes() -> None:
    raw = b"\x00\x00\x00\x00" + PA + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x02" + b"\x07\x08"
    assert decode_participant_message(raw) == ParticipantMessageData(PA, MANUAL, b"\x07\x08")


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\x01",
    b"\x00\x01\x00\x00",
    b"\x00\x01\x00\x00" + PA,
    b"\x00\x01\x00\x00" + PA + b"\x00\x00\x00\x01" + b"\x01\x00",  # length cut short
    b"\x00\x01\x00\x00" + PA + b"\x00\x00\x00\x01" + b"\x02\x00\x00\x00" + b"\x00",  # data cut
    b"\x00\x01\x00\x00" + PA + b"\x00\x00\x00\x01" + b"\xff\xff\xff\xff",  # absurd length
    b"\x00\x03\x00\x00" + PA + b"\x00\x00\x00\x01" + b"\x01\x00\x00\x00\x00\x00\x00\x00",  # PL
    b"\x00\x07\x00\x00" + PA + b"\x00\x00\x00\x01" + b"\x01\x00\x00\x00\x00\x00\x00\x00",  # XCDR2
])
def test_garbled_payloads_raise_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedError):
        decode_participant_message(raw)


def test_every_truncation_of_a_valid_message_is_refused() -> None:
    raw = encode_participant_message(PA, MANUAL, b"xyz")
    for n in range(4 + 20 + 3):
        with pytest.raises(MalformedError):
            decode_participant_message(raw[:n])


def test_encode_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        encode_participant_message(PA[:11], AUTO)
    with pytest.raises(ValueError):
        encode_participant_message(PA, 1 << 32)


def test_registry_constants() -> None:
    assert [bytes(e) for e in ENTITY_IDS] == [bytes.fromhex("000200c2"), bytes.fromhex("000200c7")]
    assert all(isinstance(e, wire.EntityId) for e in ENTITY_IDS)
    assert BUILTIN_ENDPOINTS == (1 << 10) | (1 << 11)


# --- the network -----------------------------------------------------------------------------

def participant(prefix: bytes, port: int, bits: int = DEFAULT_BUILTIN_ENDPOINTS | BUILTIN_ENDPOINTS,
                vendor: int = VENDORID_CYCLONEDDS) -> ParticipantData:
    return ParticipantData(guid_prefix=prefix, domain_id=0,
                           metatraffic_unicast=(wire.Locator.udpv4("127.0.0.1", port),),
                           default_unicast=(wire.Locator.udpv4("127.0.0.1", port + 1),),
                           builtin_endpoints=bits, vendor_id=vendor.to_bytes(2, "big"))


class Net:
    """Carries Send actions between services; virtual clock, optional seeded loss."""

    def __init__(self, *services: ParticipantMessageService, loss: float = 0.0, seed: int = 0,
                 strip_key_hash: bool = False) -> None:
        self.nodes = {bytes(s.prefix): s for s in services}
        self.rng = random.Random(seed)
        self.loss = loss
        self.strip_key_hash = strip_key_hash  # as Cyclone: no PID_KEY_HASH in DATA
        self.now = 0.0
        self.events: dict[bytes, list[LivelinessAsserted]] = {p: [] for p in self.nodes}
        self.sent: Counter[tuple[bytes, bytes]] = Counter()
        self.dropped = 0
        self._queue: deque[tuple[bytes, bytes, tuple[Any, ...]]] = deque()

    def post(self, src: bytes, outputs: list[Any]) -> None:
        for out in outputs:
            if isinstance(out, LivelinessAsserted):
                self.events[src].append(out)
            elif isinstance(out, Send):
                dests = [bytes(out.dest_prefix)] if out.dest_prefix is not None \
                    else [p for p in self.nodes if p != src]
                for dest in dests:
                    self.sent[(src, dest)] += 1
                    if self.rng.random() < self.loss:
                        self.dropped += 1
                    elif dest in self.nodes:
                        self._queue.append((src, dest, out.submessages))

    def deliver(self) -> None:
        while self._queue:
            src, dest, subs = self._queue.popleft()
            for sub in subs:
                if self.strip_key_hash and isinstance(sub, wire.Data) and sub.inline_qos:
                    sub = dataclasses.replace(sub, inline_qos=dataclasses.replace(
                        sub.inline_qos, key_hash=None))
                self.post(dest, self.nodes[dest].handle_submessage(src, sub, self.now))

    def run(self, until: float, step: float = 0.01) -> None:
        self.deliver()
        while self.now < until - 1e-9:
            self.now = round(self.now + step, 9)
            for prefix, svc in self.nodes.items():
                t = svc.next_timer()
                if t is not None and t <= self.now:
                    self.post(prefix, svc.handle_timer(self.now))
            self.deliver()

    def discover(self, a: ParticipantMessageService, b: ParticipantMessageService) -> None:
        """Both ways, as SPDP would."""
        pa, pb = bytes(a.prefix), bytes(b.prefix)
        self.post(pa, a.participant_discovered(participant(pb, 7420), self.now))
        self.post(pb, b.participant_discovered(participant(pa, 7410), self.now))
        self.deliver()


def pair(**kw: Any) -> tuple[Net, ParticipantMessageService, ParticipantMessageService]:
    a, b = ParticipantMessageService(PA), ParticipantMessageService(PB)
    net = Net(a, b, **kw)
    net.discover(a, b)
    net.run(0.5)
    return net, a, b


def kinds(net: Net, prefix: bytes) -> list[int]:
    assert all(e.guid_prefix != prefix for e in net.events[prefix])
    return [e.kind for e in net.events[prefix]]


# --- the service -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [AUTO, MANUAL])
def test_an_assertion_reaches_the_matched_participant(kind: int) -> None:
    net, a, b = pair()
    net.post(PA, a.assert_liveliness(kind, net.now))
    net.run(1.0)
    assert net.events[PB] == [LivelinessAsserted(PA, kind)]
    assert net.events[PA] == []
    assert b.reader.history.min_seq() is None  # taken out: the history stays empty
    assert b.counters["pmd_received"] == 1


def test_both_directions_and_both_kinds() -> None:
    net, a, b = pair()
    net.post(PA, a.assert_liveliness(AUTO, net.now))
    net.post(PB, b.assert_liveliness(MANUAL, net.now))
    net.run(1.0)
    net.post(PA, a.assert_liveliness(MANUAL, net.now))
    net.run(2.0)
    assert kinds(net, PB) == [AUTO, MANUAL]
    assert net.events[PA] == [LivelinessAsserted(PB, MANUAL)]


def test_without_key_hash_the_payload_keys_the_instance() -> None:
    net, a, b = pair(strip_key_hash=True)
    for kind in (AUTO, MANUAL, AUTO):
        net.post(PA, a.assert_liveliness(kind, net.now))
        net.run(net.now + 0.5)
    assert kinds(net, PB) == [AUTO, MANUAL, AUTO]
    assert len(b.reader.instances) == 2  # one instance per kind, keyed from the payload
    assert b.reader.instances.get(key_hash(PA, AUTO)) is not None
    assert b.reader.instances.get(key_hash(PA, MANUAL)) is not None


def test_a_late_joiner_gets_the_latest_message_of_each_kind() -> None:
    a, b = ParticipantMessageService(PA), ParticipantMessageService(PB)
    net = Net(a, b)
    for kind in (AUTO, MANUAL, AUTO, AUTO, MANUAL):  # nobody matched yet: history only
        assert a.assert_liveliness(kind, net.now) == []
    assert a.writer.last_seq == 5
    net.run(1.0)
    net.discover(a, b)
    net.run(2.0)
    assert sorted(kinds(net, PB)) == [AUTO, MANUAL]  # keep last 1 per kind: once each


def test_periodic_automatic_assertion_follows_the_virtual_clock() -> None:
    net, a, _ = pair()
    start = net.now
    a.set_automatic_interval(1.0, start)
    timer = a.next_timer()
    assert timer is not None and timer <= start + 1.0
    net.run(start + 0.95)
    assert a.counters["pmd_written"] == 0
    net.run(start + 3.5)
    assert a.counters["pmd_written"] == 3
    assert kinds(net, PB) == [AUTO, AUTO, AUTO]
    a.set_automatic_interval(None, net.now)
    net.run(start + 6.0)
    assert a.counters["pmd_written"] == 3
    with pytest.raises(ValueError):
        a.set_automatic_interval(0.0, net.now)


def test_a_stalled_clock_does_not_make_a_burst() -> None:
    a = ParticipantMessageService(PA)
    a.set_automatic_interval(1.0, 0.0)
    a.handle_timer(10.0)  # woken late: one write, the next a full interval later
    assert a.counters["pmd_written"] == 1
    assert a.next_timer() == 11.0
    a.handle_timer(11.0)
    assert a.counters["pmd_written"] == 2
    assert a.next_timer() == 12.0


def test_a_message_naming_another_participant_is_dropped() -> None:
    net, a, b = pair()
    forged = encode_participant_message(PC, MANUAL)  # A's writer, C's prefix
    res = a.writer.write(forged, key_hash(PC, MANUAL), now=net.now)
    assert isinstance(res, Written)
    net.post(PA, res.actions)
    net.run(1.0)
    assert net.events[PB] == []
    assert b.counters["pmd_prefix_mismatch"] == 1
    net.post(PA, a.assert_liveliness(MANUAL, net.now))  # the genuine one still passes
    net.run(2.0)
    assert net.events[PB] == [LivelinessAsserted(PA, MANUAL)]


def test_undecodable_and_disposed_messages_are_counted_not_raised() -> None:
    net, a, b = pair(strip_key_hash=True)
    for payload in (b"\x00\x01\x00\x00" + PA, b"\x00\x03\x00\x00" + PA + bytes(8)):
        res = a.writer.write(payload, None, now=net.now)
        assert isinstance(res, Written)
        net.post(PA, res.actions)
    net.run(1.0)
    assert b.counters["pmd_malformed"] == 2
    net.post(PA, a.assert_liveliness(AUTO, net.now))
    net.run(1.5)
    res = a.writer.dispose(key_hash(PA, AUTO), b"\x00\x01\x00\x00" + key_hash(PA, AUTO),
                           now=net.now)
    assert isinstance(res, Written)
    net.post(PA, res.actions)
    net.run(2.5)
    assert kinds(net, PB) == [AUTO]
    assert b.counters["pmd_dispose_ignored"] == 1
    assert b.reader.history.min_seq() is None


def test_participant_lost_unmatches() -> None:
    net, a, b = pair()
    assert a.writer.readers and a.reader.writers
    net.post(PA, a.assert_liveliness(AUTO, net.now))
    net.run(1.0)
    net.post(PA, a.participant_lost(PB, net.now))
    net.post(PB, b.participant_lost(PA, net.now))
    assert not a.writer.readers and not a.reader.writers
    assert not b.writer.readers and not b.reader.writers
    assert b.reader.history.min_seq() is None
    before = net.sent[(PA, PB)]
    net.post(PA, a.assert_liveliness(MANUAL, net.now))
    a.set_automatic_interval(0.5, net.now)
    net.run(5.0)
    assert net.sent[(PA, PB)] == before  # nothing more goes to B
    assert a.next_timer() is not None  # the automatic timer alone
    assert net.events[PB] == [LivelinessAsserted(PA, AUTO)]
    assert a.participant_lost(PB, net.now) == []  # twice: harmless


def test_endpoints_are_matched_only_when_announced() -> None:
    a = ParticipantMessageService(PA)
    a.participant_discovered(participant(PB, 7420, bits=DEFAULT_BUILTIN_ENDPOINTS), 0.0)
    assert not a.writer.readers and not a.reader.writers
    a.participant_discovered(participant(PB, 7420, bits=DEFAULT_BUILTIN_ENDPOINTS
                                         | (1 << 11)), 0.0)  # a reader only
    assert list(a.writer.readers) == [wire.Guid(PB, ENTITY_IDS[1])] and not a.reader.writers
    a.participant_discovered(participant(PB, 7430), 0.0)  # both, at a new port
    assert list(a.reader.writers) == [wire.Guid(PB, ENTITY_IDS[0])]
    assert a.writer.readers[wire.Guid(PB, ENTITY_IDS[1])].locators == (
        wire.Locator.udpv4("127.0.0.1", 7430),)
    a.participant_discovered(participant(PB, 7430, bits=DEFAULT_BUILTIN_ENDPOINTS), 0.0)
    assert not a.writer.readers and not a.reader.writers  # announced away
    assert a.participant_discovered(participant(PA, 7410), 0.0) == []  # ourselves


def test_rti_connext_is_assumed_to_have_the_endpoints() -> None:
    a = ParticipantMessageService(PA)
    a.participant_discovered(participant(PB, 7420, bits=DEFAULT_BUILTIN_ENDPOINTS,
                                         vendor=VENDORID_RTI_CONNEXT), 0.0)
    assert a.writer.readers and a.reader.writers
    strict = ParticipantMessageService(PA, assume_rti_endpoints=False)
    strict.participant_discovered(participant(PB, 7420, bits=DEFAULT_BUILTIN_ENDPOINTS,
                                              vendor=VENDORID_RTI_CONNEXT), 0.0)
    assert not strict.writer.readers and not strict.reader.writers


def test_other_entities_and_submessages_are_ignored() -> None:
    a = ParticipantMessageService(PA)
    other = wire.EntityId(bytes.fromhex("000003c2"))
    hb = wire.Heartbeat(reader_id=ENTITY_IDS[1], writer_id=other, first_sn=1, last_sn=1,
                        count=1)
    assert a.handle_submessage(PB, hb, 0.0) == []
    assert a.handle_submessage(PB, wire.InfoTs(0), 0.0) == []


@pytest.mark.parametrize("seed", range(8))
def test_ten_percent_loss_still_delivers(seed: int) -> None:
    a, b = ParticipantMessageService(PA), ParticipantMessageService(PB)
    net = Net(a, b, loss=0.1, seed=seed)
    net.discover(a, b)
    net.post(PA, a.assert_liveliness(MANUAL, net.now))
    net.post(PB, b.assert_liveliness(AUTO, net.now))
    a.set_automatic_interval(1.0, net.now)
    net.run(10.0)
    assert MANUAL in kinds(net, PB) and AUTO in kinds(net, PB)
    assert net.events[PA] == [LivelinessAsserted(PB, AUTO)]
    # every periodic assertion got through but the newest few may still be in repair
    assert kinds(net, PB).count(AUTO) >= 8
    assert b.reader.history.min_seq() is None


def test_loss_was_real() -> None:
    a, b = ParticipantMessageService(PA), ParticipantMessageService(PB)
    net = Net(a, b, loss=0.1, seed=3)
    net.discover(a, b)
    a.set_automatic_interval(0.2, net.now)
    net.run(20.0)
    assert net.dropped > 0
    assert kinds(net, PB).count(AUTO) >= 95  # of 100 written
