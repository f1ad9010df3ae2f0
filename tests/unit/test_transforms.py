"""The core's transform seam (rtbus/rtps/transforms.py), driven through whole participants
on the simulated network: what a transform does to bytes on the way out is what the peer's
transform undoes on the way in, at each of the three levels, and whatever a transform refuses
is dropped and counted without disturbing the rest.

The transform here is a toy (a message marker, a payload XOR): it stands in for DDS Security's
crypto, whose interoperable form is tested against Cyclone in tests/security/.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import rtbus.idl
from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.transforms import Address, IdentityTransforms
from tests.support.simcore import SimCore
from tests.support.simnet import LinkConditions, SimNetwork

MODEL = rtbus.idl.parse("struct Blob { @key long id; string text; };").types["Blob"]
RELIABLE = Qos(reliability="reliable", history="keep_all")
MARK = b"TOY!"  # a protected datagram starts with this instead of "RTPS"
ENCAP = b"\x00\x01\x00\x00"  # CDR_LE


def xor(data: bytes | memoryview) -> bytes:
    return bytes(b ^ 0x5A for b in data)


class ToyProtection(IdentityTransforms):
    """Marks whole messages and scrambles payloads; counts the calls of each level."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.refuse_payloads_from: set[wire.Guid] = set()
        self.refuse_submessages: type | None = None

    def encode_payload(self, writer: wire.Guid, payload: bytes) -> bytes:
        self.calls["encode_payload"] += 1
        return xor(payload)

    def decode_payload(self, reader: wire.Guid, writer: wire.Guid,
                       payload: bytes | memoryview) -> bytes | memoryview | None:
        self.calls["decode_payload"] += 1
        return None if writer in self.refuse_payloads_from else xor(payload)

    def encode_submessages(self, dest_prefix: bytes | None,
                           submessages: Sequence[Any]) -> Sequence[Any]:
        self.calls["encode_submessages"] += 1
        return submessages

    def decode_submessage(self, src_prefix: bytes, submessage: Any) -> Any | None:
        self.calls["decode_submessage"] += 1
        if self.refuse_submessages is not None and isinstance(submessage,
                                                              self.refuse_submessages):
            return None
        return submessage

    def encode_message(self, datagram: bytes, addr: Address) -> bytes:
        self.calls["encode_message"] += 1
        assert datagram[:4] == b"RTPS"
        return MARK + datagram[4:]

    def decode_message(self, datagram: bytes, addr: Address | None) -> bytes | None:
        self.calls["decode_message"] += 1
        return b"RTPS" + datagram[4:] if datagram[:4] == MARK else None


def sample(i: int) -> bytes:
    text = f"secret-{i:04d}".encode() + b"\x00"
    return (ENCAP + i.to_bytes(4, "little") + len(text).to_bytes(4, "little") + text
            + b"\x00" * (-len(text) % 4))


def key_hash_of(payload: bytes | memoryview) -> bytes:
    """The key hash of a Blob (id is a 4-byte big-endian long, padded to 16): it can only be
    read from a plain payload, so it proves the reader decodes before extracting the key."""
    data = bytes(payload)
    assert data[:4] == ENCAP, "the key was read from a payload still protected"
    return data[7:3:-1] + b"\x00" * 12


def protected_pair(loss: float = 0.0, seed: int = 1) -> tuple[SimNetwork, SimCore, SimCore,
                                                              ToyProtection, ToyProtection]:
    net = SimNetwork(seed=seed, conditions=LinkConditions(loss=loss, delay=0.001))
    ta, tb = ToyProtection(), ToyProtection()
    a = SimCore(net, 1, 2, transforms=ta)
    b = SimCore(net, 2, 1, transforms=tb)
    return net, a, b, ta, tb


def pair_endpoints(net: SimNetwork, a: SimCore, b: SimCore) -> tuple[wire.Guid, wire.Guid]:
    w = a.core.add_writer("Toy", "Blob", RELIABLE, True, net.now, type_model=MODEL)
    r = b.core.add_reader("Toy", "Blob", RELIABLE, True, net.now, type_model=MODEL,
                          key_hash_of=key_hash_of)
    a.drain()
    b.drain()
    # both ways: a volatile writer sends nothing written before it knows the reader
    def matched() -> bool:
        return w in b.core.readers[r.entity_id].core.writers \
            and r in a.core.writers[w.entity_id].core.readers
    net.run(until=net.now + 5.0, stop=matched)
    assert matched(), "the protected pair never matched"
    return w, r


def write_all(net: SimNetwork, a: SimCore, w: wire.Guid, n: int) -> None:
    for i in range(n):
        a.core.write(w, sample(i), None, 0, 1_700_000_000_000_000_000 + i, net.now)
        a.drain()
        net.run(until=net.now + 0.002)


def test_protected_participants_discover_each_other_and_exchange_data_through_loss() -> None:
    net, a, b, ta, tb = protected_pair(loss=0.2, seed=7)
    on_wire: list[bytes] = []
    net.drop_filter = lambda src, dst, datagram: on_wire.append(datagram) or False
    w, r = pair_endpoints(net, a, b)
    write_all(net, a, w, 50)
    got: list[Any] = []
    net.run(until=net.now + 20.0, stop=lambda: len(got) == 50 or bool(
        got.extend(b.core.take(r, None, net.now))))
    assert [bytes(s.payload) for s in got] == [sample(i) for i in range(50)]
    assert {s.key_hash for s in got} == {i.to_bytes(4, "big") + b"\x00" * 12 for i in range(50)}
    # every datagram either side sent was protected, and no plain payload crossed the network
    assert on_wire and all(d[:4] == MARK for d in on_wire)
    assert not any(sample(i)[8:] in d for d in on_wire for i in range(50))
    assert any(xor(sample(0)) in d for d in on_wire)
    # resends (20% loss) reuse the stored protected payload: one encode per write
    assert ta.calls["encode_payload"] == 50
    assert tb.calls["decode_payload"] >= 50
    assert ta.calls["encode_submessages"] > 0 and tb.calls["decode_submessage"] > 0
    assert a.core.counters["dropped_by_transform_message"] == 0


def test_a_plain_participant_and_a_protected_one_each_drop_and_count_the_others_traffic() -> None:
    net, a, b, _ta, _tb = protected_pair()
    plain = SimCore(net, 3, 1)  # announces itself to a, which cannot read it
    captured: list[bytes] = []
    net.drop_filter = lambda src, dst, datagram: (src is a and captured.append(datagram)) or False
    pair_endpoints(net, a, b)
    net.run(until=net.now + 3.0)
    assert a.core.counters["dropped_by_transform_message"] > 0  # plain SPDP from 3
    assert wire.GuidPrefix(bytes(plain.core.prefix)) not in a.core.spdp.participants
    assert captured
    for datagram in captured[:20]:
        plain.core.receive(datagram, ("10.0.0.1", 7410), net.now)
    assert plain.core.counters["malformed_bad_protocol"] == min(20, len(captured))
    assert bytes(a.core.prefix) not in {bytes(p) for p in plain.core.spdp.participants}


def test_a_refused_payload_is_dropped_and_counted_and_the_stream_goes_on() -> None:
    net, a, b, _ta, tb = protected_pair()
    w, r = pair_endpoints(net, a, b)
    tb.refuse_payloads_from.add(w)
    write_all(net, a, w, 5)
    reader = b.core.readers[r.entity_id].core
    net.run(until=net.now + 2.0,
            stop=lambda: reader.counters["dropped_by_transform_payload"] >= 5)
    assert reader.counters["dropped_by_transform_payload"] == 5
    assert b.core.take(r, None, net.now) == []
    # the refused changes still advanced the stream: the writer sees them acknowledged, and
    # once the transform accepts again the next samples arrive in order
    net.run(until=net.now + 5.0, stop=lambda: a.core.acked_by_all(w))
    assert a.core.acked_by_all(w)
    tb.refuse_payloads_from.clear()
    a.core.write(w, sample(5), None, 0, None, net.now)
    a.drain()
    got: list[Any] = []
    net.run(until=net.now + 5.0, stop=lambda: bool(got) or bool(
        got.extend(b.core.take(r, None, net.now))))
    assert [bytes(s.payload) for s in got] == [sample(5)]


def test_a_refused_submessage_is_dropped_and_counted_before_routing() -> None:
    net, a, b, _ta, tb = protected_pair()
    w, r = pair_endpoints(net, a, b)
    tb.refuse_submessages = wire.Data
    write_all(net, a, w, 3)
    net.run(until=net.now + 1.0,
            stop=lambda: b.core.counters["dropped_by_transform_submessage"] >= 3)
    assert b.core.counters["dropped_by_transform_submessage"] >= 3
    assert b.core.take(r, None, net.now) == []
    assert not a.core.acked_by_all(w)  # the reader never saw them: it keeps asking
    tb.refuse_submessages = None
    got: list[Any] = []
    net.run(until=net.now + 10.0, stop=lambda: len(got) == 3 or bool(
        got.extend(b.core.take(r, None, net.now))))
    assert [bytes(s.payload) for s in got] == [sample(i) for i in range(3)]


def test_without_transforms_nothing_is_called_and_bytes_are_plain() -> None:
    net = SimNetwork(seed=2, conditions=LinkConditions(delay=0.001))
    a, b = SimCore(net, 1, 2), SimCore(net, 2, 1)
    on_wire: list[bytes] = []
    net.drop_filter = lambda src, dst, datagram: on_wire.append(datagram) or False
    w, r = pair_endpoints(net, a, b)
    write_all(net, a, w, 3)
    net.run(until=net.now + 2.0)
    assert a.core.transforms is None
    assert all(d[:4] == b"RTPS" for d in on_wire)
    assert any(sample(1) in d for d in on_wire)
    assert [bytes(s.payload) for s in b.core.take(r, None, net.now)] == [sample(i)
                                                                         for i in range(3)]
