"""Serialized keys (the payload of a dispose/unregister) and key extraction from payloads.

- ``encode_key`` writes what cyclonedds-python's ``serialize_key`` writes (the key-only
  SAMPLE form, header included; we add the pad count as for data) for final, appendable and
  mutable types, XCDR1 and XCDR2, both endiannesses;
- ``decode_key_payload`` reads payloads captured from Cyclone DDS 11 on the wire and
  round-trips ``encode_key`` for random types; hostile bytes raise DecodeError only;
- ``key_extractor`` gives ``key_hash(decode(...))`` for every payload those decode, over the
  random-type machinery of test_cdr_random_models, unmodified and mutated.
"""

from __future__ import annotations

from typing import Any

import pytest
from cyclonedds.idl._support import Endianness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus import cdr
from rtbus.cdr.pure import default_value
from rtbus.errors import DecodeError, EncodeError
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize
from tests.support.corpus import CORPUS
from tests.support.cyclone_bridge import model_for, to_cyclone
from tests.support.key_types import (
    BY_NAME,
    KEYED_TYPES,
    CapAppendable,
    CapFinal,
    CapMulti,
    CapNested,
)
from tests.support.strategies import values_for
from tests.unit.test_cdr_random_models import _materialize, top_level

MODES = [("XCDR1", "little"), ("XCDR1", "big"), ("XCDR2", "little"), ("XCDR2", "big")]
_CYC_END = {"little": Endianness.Little, "big": Endianness.Big}


def _theirs(cyclone_value: Any, representation: str, endianness: str) -> bytes:
    """cyclonedds-python's key payload: header (options 0) + key, as its writer sends it."""
    return bytes(cyclone_value.serialize_key(endianness=_CYC_END[endianness],
                                             use_version_2=representation == "XCDR2"))


# ---- bytes, against cyclonedds-python ------------------------------------------------------

@pytest.mark.parametrize("mode", MODES, ids=["-".join(m) for m in MODES])
@pytest.mark.parametrize("kt", KEYED_TYPES, ids=[kt.name for kt in KEYED_TYPES])
def test_key_payload_is_cyclones(kt: Any, mode: tuple[str, str]) -> None:
    rep, end = mode
    for k in (0, 7, -3):
        theirs = _theirs(kt.cyclone_sample(k), rep, end)
        ours = cdr.encode_key(kt.sample(k), rep, end)
        assert ours == cdr.with_padding(theirs)
        assert ours[:2] == theirs[:2]  # the identifier goes by extensibility
        assert cdr.decode_key_payload(kt.pyclass, theirs) == kt.key_only(k)
        assert cdr.decode_key_payload(kt.pyclass, ours) == kt.key_only(k)
        hashed = cdr.key_hash(kt.sample(k))
        assert cdr.key_extractor(kt.pyclass).from_key(theirs) == hashed
        assert cdr.key_extractor(kt.pyclass)(cdr.encode(kt.sample(k), rep, end)) == hashed


def test_identifiers_follow_extensibility_and_representation() -> None:
    heads = {(kt.extensibility, rep, end): cdr.encode_key(kt.sample(1), rep, end)[:2].hex()
             for kt in KEYED_TYPES for rep, end in MODES}
    assert heads[("final", "XCDR1", "little")] == "0001"
    assert heads[("appendable", "XCDR1", "big")] == "0000"
    assert heads[("mutable", "XCDR1", "little")] == "0003"  # PL_CDR_LE
    assert heads[("final", "XCDR2", "little")] == "0007"  # CDR2_LE
    assert heads[("appendable", "XCDR2", "little")] == "0009"  # D_CDR2_LE
    assert heads[("mutable", "XCDR2", "big")] == "000a"  # PL_CDR2_BE


_keyed_corpus = [e for e in CORPUS if isinstance(e.model, M.StructType) and e.model.keyed]


@pytest.mark.parametrize("entry", _keyed_corpus, ids=[e.name for e in _keyed_corpus])
def test_corpus_key_payloads_are_cyclones(entry: Any) -> None:
    @settings(max_examples=8, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(values_for(entry.model))
    def check(value: Any) -> None:
        cv = to_cyclone(value, entry.model)
        hashed = cdr.key_hash(value)
        ex = cdr.key_extractor(entry.pyclass)
        for rep, end in MODES:
            theirs = _theirs(cv, rep, end)
            assert cdr.encode_key(value, rep, end) == cdr.with_padding(theirs)
            assert cdr.key_hash(cdr.decode_key_payload(entry.pyclass, theirs)) == hashed
            assert ex.from_key(theirs) == hashed
            assert ex(cdr.encode(value, rep, end)) == hashed
    check()


# ---- payloads captured from Cyclone DDS 11 (cyclonedds-python writers, in a netns) ---------

# the DATA(K) of writer.dispose(instance 11); DHEADERs, EMHEADERs (no M flag) and XCDR1
# parameter headers with their sentinel, key members in definition order (b before a)
CAPTURED = [
    (CapFinal, "00010000 0b000000", {"k": 11}),
    (CapFinal, "00070000 0b000000", {"k": 11}),
    (CapAppendable, "00010000 0b000000", {"k": 11}),
    (CapAppendable, "00090000 02000000 0b000000", {"k": 11}),
    (CapMulti, "00030000 017f0800 14000000 08000000 04000000 73313100 017f0800 03000000 "
               "08000000 0b000000 00000000 027f0000", {"b": "s11", "a": 11}),
    (CapMulti, "000b0000 18000000 14000050 04000000 73313100 03000030 0b000000 00000000",
     {"b": "s11", "a": 11}),
    (CapNested, "00030000 017f0800 01000000 0c000000 0b000000 04000000 79313100 027f0000",
     {"i": (11, "y11")}),
    (CapNested, "000b0000 18000000 01000040 10000000 0c000000 0b000000 04000000 79313100",
     {"i": (11, "y11")}),
]


@pytest.mark.parametrize("cls,wire,keys", CAPTURED,
                         ids=[f"{c.__name__}-{w[:4]}" for c, w, _ in CAPTURED])
def test_captured_cyclone_key_payloads(cls: Any, wire: str, keys: dict[str, Any]) -> None:
    model = model_for(cls)
    payload = bytes.fromhex(wire.replace(" ", ""))
    sample = cdr.decode_key_payload(model.pyclass, payload)
    for name, want in keys.items():
        got = getattr(sample, name)
        assert (got == want if not isinstance(want, tuple)
                else (got.x, got.y) == want)
    others = [m for m in model.all_members() if m.name not in keys]
    assert all(getattr(sample, m.pyname) in (0, "") for m in others)
    # we write the same bytes; only the options differ: cyclonedds-python pads with zeros
    # and leaves them 0, we also record the pad count there, as for data
    rep = "XCDR2" if payload[1] >= 6 else "XCDR1"
    ours = cdr.encode_key(sample, rep, "little")
    assert ours[:2] + ours[4:] == payload[:2] + payload[4:]
    assert cdr.key_extractor(model.pyclass).from_key(payload) == cdr.key_hash(sample)


def test_keyhash_form_is_not_the_wire_form_for_appendable_xcdr2() -> None:
    """Why the old path failed: the KEYHASH form has no DHEADER; read as a DATA(K) it took
    the DHEADER for the key."""
    kt = BY_NAME["AppendableInt"]
    sample = kt.sample(11)
    assert cdr.serialize_key(sample, "XCDR2", "little") == b"\x0b\x00"
    assert cdr.encode_key(sample, "XCDR2", "little") == bytes.fromhex("00090002 02000000 0b000000"
                                                                      .replace(" ", ""))


# ---- round trips and hostile bytes over random types ---------------------------------------

def _ready(model: M.StructType) -> None:
    named: list[Any] = []
    _materialize(model, named, set())
    materialize(named)


_FUZZ = settings(max_examples=40, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_FUZZ
@given(top_level, st.data())
def test_random_types_key_payload_round_trip(model: M.StructType, data: st.DataObject) -> None:
    _ready(model)
    value = data.draw(values_for(model))
    hashed = cdr.key_hash(value)
    for rep, end in MODES:
        payload = cdr.encode_key(value, rep, end)
        assert len(payload) % 4 == 0 and payload[3] & 3 == -(len(payload) - (payload[3] & 3)) % 4
        back = cdr.decode_key_payload(model.pyclass, payload)
        assert cdr.encode_key(back, rep, end) == payload
        assert cdr.key_hash(back) == hashed
        assert back == _key_fields_only(model, back)
        assert cdr.key_fields_only(value) == back


def _key_fields_only(model: M.StructType, back: Any) -> Any:
    """A sample with ``back``'s key fields and every other field at its default (what the
    key fields hold is proven by the key hash and the re-encoding)."""
    expected = default_value(model)
    for m in model.key_members():
        setattr(expected, m.pyname, getattr(back, m.pyname))
    return expected


def _mutations(payload: bytes, rnd: Any, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(payload)
        op = rnd.random()
        if op < 0.4 and len(b) > 4:
            b[rnd.randrange(4, len(b))] = rnd.randrange(256)
        elif op < 0.7:
            b = b[:rnd.randrange(0, len(b) + 1)]
        else:
            i = rnd.randrange(4, max(5, len(b)))
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 5)))
        out.append(bytes(b))
    return out


def _ref(fn: Any) -> bytes | None:
    """key_hash of what a decoder makes of the bytes; None if it does not decode (or the
    decoded sample has no key hash: the compiled decoder keeps enum values it does not
    know, which then do not encode)."""
    try:
        return cdr.key_hash(fn())  # type: ignore[no-any-return]
    except (DecodeError, EncodeError):
        return None


@_FUZZ
@given(top_level, st.data(), st.randoms(use_true_random=False))
def test_key_extractor_equals_key_hash_of_decode(model: M.StructType, data: st.DataObject,
                                                 rnd: Any) -> None:
    _ready(model)
    value = data.draw(values_for(model))
    hashed = cdr.key_hash(value)
    ex = cdr.key_extractor(model.pyclass)
    pure = cdr.pure_codec(model)
    for rep, end in MODES:
        v2, little = rep == "XCDR2", end == "little"
        data_payloads = [cdr.encode(value, rep, end)]
        scans = not ex.decodes_instead(rep)
        if scans:  # where the scanner reads the bytes, the pure twin's layout is the same
            data_payloads.append(pure.encode(value, v2, little))
        key_payload = cdr.encode_key(value, rep, end)
        for payload in data_payloads:
            assert ex(payload) == hashed
            assert ex(memoryview(payload)) == hashed
        assert ex.from_key(key_payload) == hashed
        for payload in data_payloads[:1]:
            for bad in _mutations(payload, rnd, 4):
                got = _extract(ex, bad)
                want = _ref(lambda bad=bad: cdr.decode(model.pyclass, bad))
                if want is not None:
                    assert got == want, bad.hex()
                if scans:
                    want = _ref(lambda bad=bad: pure.decode(bad))
                    assert want is None or got == want, bad.hex()
        for bad in _mutations(key_payload, rnd, 4):
            got = _extract(ex.from_key, bad)
            want = _ref(lambda bad=bad: cdr.decode_key_payload(model.pyclass, bad))
            assert want is None or got == want, bad.hex()


def _extract(fn: Any, payload: bytes) -> bytes | None:
    try:
        return fn(payload)  # type: ignore[no-any-return]
    except DecodeError:
        return None


@settings(max_examples=150, deadline=None, database=None)
@given(st.sampled_from(KEYED_TYPES),
       st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x00\x03", b"\x00\x06",
                        b"\x00\x07", b"\x00\x08", b"\x00\x09", b"\x00\x0a", b"\x00\x0b",
                        b"\x00\x04", b"\x01\x00", b""]),
       st.binary(max_size=48))
def test_hostile_key_payloads_raise_decode_error_only(kt: Any, head: bytes, body: bytes) -> None:
    payload = head + body
    for fn in (lambda p: cdr.decode_key_payload(kt.pyclass, p),
               cdr.key_extractor(kt.pyclass).from_key, cdr.key_extractor(kt.pyclass)):
        try:
            fn(payload)
        except DecodeError:
            pass


@pytest.mark.parametrize("kt", KEYED_TYPES, ids=[kt.name for kt in KEYED_TYPES])
def test_every_truncation_of_a_key_payload_is_refused_cleanly(kt: Any) -> None:
    for rep, end in MODES:
        payload = cdr.encode_key(kt.sample(3), rep, end)
        for cut in range(len(payload)):
            try:
                back = cdr.decode_key_payload(kt.pyclass, payload[:cut])
            except DecodeError:
                continue
            # an appendable/mutable tail may be missing: then its members are defaults
            assert cdr.encode_key(back, rep, end) != payload or cut >= len(payload) - 3


# ---- edges -----------------------------------------------------------------------------------

def test_keyless_type_has_an_empty_key() -> None:
    model = M.StructType("keys::Keyless", [M.Member("a", M.INT32)], extensibility="mutable")
    M.finalize_member_ids(model)
    materialize([model])
    sample = model.pyclass(a=5)
    assert cdr.encode_key(sample, "XCDR2", "little") == bytes.fromhex("000b0000" "00000000")
    assert cdr.encode_key(sample, "XCDR1", "big") == bytes.fromhex("00020000" "7f020000")
    assert cdr.decode_key_payload(model.pyclass, bytes.fromhex("000b000000000000")).a == 0
    assert cdr.key_extractor(model.pyclass)(cdr.encode(sample)) == bytes(16)


def test_bad_arguments_are_typed_errors() -> None:
    sample = BY_NAME["FinalInt"].sample(1)
    with pytest.raises(EncodeError, match="representation"):
        cdr.encode_key(sample, "XCDR3")
    with pytest.raises(EncodeError, match="endianness"):
        cdr.encode_key(sample, "XCDR2", "middle")
    with pytest.raises(DecodeError, match="identifier"):
        cdr.decode_key_payload(type(sample), b"\x00\x05\x00\x00\x01\x00")
    with pytest.raises(DecodeError, match="shorter"):
        cdr.key_extractor(type(sample))(b"\x00")


def test_extractor_is_compiled_once_per_type() -> None:
    cls = BY_NAME["MutableMulti"].pyclass
    assert cdr.key_extractor(cls) is cdr.key_extractor(cls.__rtbus_type__)  # type: ignore[attr-defined]
    assert not cdr.key_extractor(cls).decodes_instead("XCDR2")
    assert not cdr.key_extractor(cls).decodes_instead("XCDR1", key_payload=True)


def test_a_key_sequence_of_elements_that_take_no_bytes() -> None:
    """A nested struct with no @key members is all key, but its optional members are not:
    with only optionals its key form is empty, so the bytes cannot bound a sequence of it
    (found by the random round trip); the sequence's bound, or a fixed cap, does."""
    inner = M.StructType("keys::AllOptional", [M.Member("m0", M.BOOLEAN, optional=True)],
                         extensibility="final")
    outer = M.StructType("keys::SeqOfAllOptional",
                         [M.Member("m0", M.SequenceType(inner, None), key=True)],
                         extensibility="final")
    for t in (inner, outer):
        M.finalize_member_ids(t)
    materialize([inner, outer])
    sample = outer.pyclass(m0=[inner.pyclass(m0=None)] * 3)
    for rep, end in MODES:
        payload = cdr.encode_key(sample, rep, end)
        back = cdr.decode_key_payload(outer.pyclass, payload)
        assert len(back.m0) == 3
        assert cdr.key_extractor(outer.pyclass).from_key(payload) == cdr.key_hash(sample)
    hostile = bytes.fromhex("00010000") + (1 << 30).to_bytes(4, "little")  # XCDR1: no DHEADER
    with pytest.raises(DecodeError, match="exceeds the cap"):
        cdr.decode_key_payload(outer.pyclass, hostile)
    with pytest.raises(DecodeError):
        cdr.key_extractor(outer.pyclass).from_key(hostile)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(top_level, st.data())
def test_key_hasher_fast_paths_equal_the_generic_key_encoder(model: Any, data: Any) -> None:
    """The one-call hashers (a single string key, flat numeric keys) give what the generic
    KEYHASH encoder gives, for random types and values, in both representations."""
    from rtbus.cdr.keyhash import _flat_key_hasher, _generic_key_hasher, max_key_size

    _ready(model)
    cls = model.pyclass
    value = data.draw(values_for(model))
    for xcdr2 in (True, False):
        hashed = max_key_size(model, xcdr2) > 16
        fast = _flat_key_hasher(model, xcdr2, hashed)
        if fast is not None:
            assert fast(value) == _generic_key_hasher(model, xcdr2, hashed)(value)
    assert cdr.key_hasher(cls)(value) == cdr.key_hash(value)


@pytest.mark.parametrize("kt", KEYED_TYPES, ids=[kt.name for kt in KEYED_TYPES])
def test_key_hasher_on_the_interop_key_types(kt: Any) -> None:
    from rtbus.cdr.keyhash import _generic_key_hasher, max_key_size

    model = kt.pyclass.__rtbus_type__
    generic = _generic_key_hasher(model, True, max_key_size(model, True) > 16)
    for k in (0, 7, -3, 99):
        assert cdr.key_hasher(kt.pyclass)(kt.sample(k)) == generic(kt.sample(k))
