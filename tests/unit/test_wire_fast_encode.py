"""encode_data_message (the one-call encoder for a plain write) must give exactly the bytes
MessageBuilder gives for the same submessages, and decline every shape it does not cover."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire

PREFIX = bytes(range(12))
HEADER = wire.encode_header(PREFIX)
READER = wire.EntityId(b"\x00\x00\x01\x07")
WRITER = wire.EntityId(b"\x00\x00\x02\x02")


def built(dst: bytes, subs: list, max_size: int = wire.DEFAULT_MAX_MESSAGE_SIZE) -> list[bytes]:
    b = wire.MessageBuilder(PREFIX, max_size=max_size)
    b.add(wire.InfoDst(wire.GuidPrefix(dst)))
    b.add_all(subs)
    return b.datagrams()


@settings(max_examples=400, deadline=None)
@given(dst=st.binary(min_size=12, max_size=12).filter(lambda b: any(b)),
       ts=st.integers(min_value=-(1 << 31) * 10**9, max_value=((1 << 31) - 1) * 10**9),
       sn=st.integers(min_value=1, max_value=(1 << 63) - 1),
       payload=st.binary(max_size=300), key_only=st.booleans(),
       key_hash=st.none() | st.binary(min_size=16, max_size=16),
       heartbeat=st.none() | st.tuples(st.integers(1, 1000), st.integers(0, 1000),
                                       st.integers(1, 2**31 - 1), st.booleans()))
def test_same_bytes_as_the_builder(dst: bytes, ts: int, sn: int, payload: bytes,
                                   key_only: bool, key_hash: bytes | None,
                                   heartbeat: tuple | None) -> None:
    qos = None if key_hash is None else wire.InlineQos(key_hash=key_hash)  # a keyed write
    subs: list = [wire.InfoTs(ts), wire.Data(reader_id=READER, writer_id=WRITER, writer_sn=sn,
                                             serialized_payload=payload, key_only=key_only,
                                             inline_qos=qos)]
    if heartbeat is not None:
        first, extra, count, final = heartbeat
        subs.append(wire.Heartbeat(reader_id=READER, writer_id=WRITER, first_sn=first,
                                   last_sn=first + extra - 1, count=count, final=final))
    fast = wire.encode_data_message(HEADER, dst, subs)
    assert fast is not None
    assert [fast] == built(dst, subs)
    if len(payload) < 4:  # not a serialized payload (no encapsulation header): bytes only
        return
    parsed = wire.parse_message(fast)
    data = [r.submessage for r in parsed.received if isinstance(r.submessage, wire.Data)]
    got = bytes(data[0].serialized_payload)  # the padding to 4 bytes stays with it
    assert got[:len(payload)] == payload and not got[len(payload):].strip(b"\0")
    assert parsed.received[0].timestamp == wire.Time.from_ns(ts).to_ns()
    if key_hash is not None:
        assert data[0].inline_qos.key_hash == key_hash


def data(**kw: object) -> wire.Data:
    args: dict = {"reader_id": READER, "writer_id": WRITER, "writer_sn": 5,
                  "serialized_payload": b"\x00\x01\x00\x00abcd"}
    args.update(kw)
    return wire.Data(**args)


def test_declines_what_the_builder_must_do() -> None:
    ts = wire.InfoTs(1_700_000_000_000_000_000)
    declined = [
        [data()],  # no INFO_TS
        [wire.InfoTs(None), data()],  # invalidated time
        [ts, data(inline_qos=wire.InlineQos(status_info=1))],  # inline QoS beyond a key hash
        [ts, data(inline_qos=wire.InlineQos(key_hash=bytes(16), status_info=1))],
        [ts, data(inline_qos=wire.InlineQos(key_hash=bytes(16), parameters=((0x8001, b"ab"),)))],
        [ts, data(inline_qos=wire.InlineQos(key_hash=bytes(15)))],
        [ts, data(serialized_payload=None)],  # no payload
        [ts, data(non_standard_payload=True)],
        [ts, data(), wire.Gap(reader_id=READER, writer_id=WRITER, gap_start=1,
                              gap_list=wire.SequenceNumberSet(2, (), 0))],
        [ts, data(), data(writer_sn=6)],  # more than one DATA
        [ts, data(serialized_payload=bytes(70_000))],  # does not fit one datagram
    ]
    for subs in declined:
        assert wire.encode_data_message(HEADER, PREFIX, subs) is None, subs
    # the builder writes no INFO_DST for the unknown prefix (it is the initial context)
    assert wire.encode_data_message(HEADER, bytes(12), [ts, data()]) is None


def test_declines_a_message_over_the_size_limit_the_builder_would_split() -> None:
    subs = [wire.InfoTs(10**18), data(serialized_payload=bytes(900)),
            wire.Heartbeat(reader_id=READER, writer_id=WRITER, first_sn=1, last_sn=5, count=1)]
    assert wire.encode_data_message(HEADER, PREFIX, subs, max_size=1000) is None
    assert len(built(PREFIX, subs, max_size=1000)) == 2
