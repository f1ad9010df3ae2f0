"""Real Cyclone DDS 11 traffic (tests/data/captures): everything parses, nothing is dropped, and
our encoder reproduces every submessage byte for byte."""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

import pytest

from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire.parameters import CODECS

CAPTURES = Path(__file__).parent.parent / "data" / "captures"
FILES = sorted(CAPTURES.glob("*.json"))


def datagrams(path: Path) -> list[bytes]:
    return [bytes.fromhex(e["hex"]) for e in json.loads(path.read_text())]


def raw_submessages(dgram: bytes) -> list[bytes]:
    """Split by the framing alone (the little-endian Cyclone sends), independent of the parser."""
    out = []
    pos = 20
    while pos < len(dgram):
        _, flags, length = struct.unpack_from("<BBH", dgram, pos)
        assert flags & 1
        end = pos + 4 + length if length else len(dgram)
        out.append(dgram[pos:end])
        pos = end
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_capture_parses_without_drops_and_reencodes_identically(path: Path) -> None:
    kinds: Counter[str] = Counter()
    for dgram in datagrams(path):
        msg = wire.parse_message(dgram)
        assert msg.dropped == []
        assert msg.protocol_version == (2, 5) and msg.vendor_id == C.VENDORID_CYCLONEDDS
        raws = raw_submessages(dgram)
        assert len(raws) == len(msg.submessages)
        for raw, sub in zip(raws, msg.submessages, strict=True):
            kinds[type(sub).__name__] += 1
            assert wire.encode_submessage(sub) == raw, type(sub).__name__
    assert kinds["Data"] > 0 and kinds["Heartbeat"] > 0 and kinds["AckNack"] > 0


def test_user_data_capture_content() -> None:
    """The keyed reliable exchange: 23 samples, one of 100412 bytes in 1344-byte fragments."""
    path = CAPTURES / "cyclone11_reliable_keyed_fragments.json"
    frags: dict[int, bytes] = {}
    user_data = []
    status = []
    for dgram in datagrams(path):
        for r in wire.parse_message(dgram).received:
            s = r.submessage
            if isinstance(s, wire.DataFrag):
                assert s.fragment_size == 1344 and s.sample_size == 100412
                for i in range(s.fragments_in_submessage):
                    n = s.fragment_starting_num + i
                    frags[n] = bytes(s.serialized_payload[i * 1344:(i + 1) * 1344])
            elif isinstance(s, wire.Data) and not s.writer_id.is_builtin:
                assert r.timestamp is not None and r.timestamp > 1_600_000_000 * 10**9
                user_data.append(s.writer_sn)
                if s.inline_qos is not None:
                    status.append((s.inline_qos.status_info, s.key_only))
    assert sorted(frags) == list(range(1, 76))
    sample = b"".join(frags[n] for n in range(1, 76))
    assert len(sample) == 100412
    assert sample[:4] == b"\x00\x01\x00\x00"  # CDR_LE, then id=8, then the sequence
    assert struct.unpack_from("<iI", sample, 4) == (8, 251 * 400)
    assert sample[12:12 + 251 * 400] == bytes(range(251)) * 400
    assert set(user_data) >= set(range(1, 22)) | {23, 24}
    # dispose (1) and unregister+dispose (3) carry the key only
    assert status == [(C.STATUS_INFO_DISPOSED, True),
                      (C.STATUS_INFO_DISPOSED | C.STATUS_INFO_UNREGISTERED, True)]


def test_discovery_payloads_decode_and_reencode_as_cyclones() -> None:
    """SPDP and SEDP payloads: typed values make sense and re-encode to Cyclone's bytes."""
    builtin = {wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER,
               wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER,
               wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER}
    found: Counter[bytes] = Counter()
    reencoded = 0
    for path in FILES:
        for dgram in datagrams(path):
            for r in wire.parse_message(dgram).received:
                s = r.submessage
                if not isinstance(s, wire.Data) or s.writer_id not in builtin \
                        or s.serialized_payload is None or s.key_only:
                    continue
                items, le = wire.parse_pl_cdr(s.serialized_payload)
                values = wire.decode_parameters(items, le)
                found[bytes(s.writer_id)] += 1
                if s.writer_id == wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER:
                    assert values[C.PID_PARTICIPANT_GUID].prefix == r.src_prefix
                    assert values[C.PID_VENDORID] == C.VENDORID_CYCLONEDDS
                    assert values[C.PID_PROTOCOL_VERSION] == (2, 5)
                    assert values[C.PID_DOMAIN_ID] in (0, 17)  # the two captures
                    assert all(loc.kind == C.LOCATOR_KIND_UDPv4
                               for loc in values[C.PID_METATRAFFIC_UNICAST_LOCATOR])
                    assert values[C.PID_PARTICIPANT_LEASE_DURATION] > 0
                else:
                    assert values[C.PID_ENDPOINT_GUID].prefix == r.src_prefix
                    assert isinstance(values[C.PID_TOPIC_NAME], str)
                    assert isinstance(values[C.PID_TYPE_NAME], str)
                for pid, raw in items:
                    if pid in CODECS:
                        again = wire.encode_parameter(pid, wire.decode_parameter(pid, raw, le), le)
                        assert again[4:] == bytes(raw), hex(pid)
                        reencoded += 1
    assert len(found) == 3 and reencoded > 100
