"""The XCDR2 schema codec behind the XTypes structures: layout rules and hostile input."""

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus.errors import MalformedError
from rtbus.types import model as M
from rtbus.xtypes import type_information, type_objects
from rtbus.xtypes import wire_types as wt
from rtbus.xtypes.serialize import (
    INT32,
    OCTET,
    UINT16,
    UINT32,
    UINT64,
    Opt,
    Seq,
    Str,
    StructDef,
    UnionDef,
    decode,
    encode,
    length_code,
)


def test_final_struct_aligns_relative_to_start_and_caps_at_4() -> None:
    s = StructDef("S").set_fields(("a", OCTET), ("b", UINT64), ("c", UINT16))
    # uint64 aligned to 4 in XCDR2, not 8
    assert encode(s, {"a": 1, "b": 2, "c": 3}) == bytes([1, 0, 0, 0]) + struct.pack("<QH", 2, 3)


def test_appendable_struct_has_dheader() -> None:
    s = StructDef("S", "appendable").set_fields(("a", UINT32), ("b", OCTET))
    assert encode(s, {"a": 7, "b": 9}) == struct.pack("<IIB", 5, 7, 9)


def test_optional_member_presence_byte() -> None:
    s = StructDef("S").set_fields(("a", Opt(UINT32)), ("b", OCTET))
    assert encode(s, {"a": None, "b": 5}) == bytes([0, 5])
    assert encode(s, {"a": 1, "b": 5}) == bytes([1, 0, 0, 0, 1, 0, 0, 0, 5])
    assert decode(s, bytes([0, 5])) == {"a": None, "b": 5}


def test_sequence_of_non_primitive_has_dheader_primitive_not() -> None:
    assert encode(Seq(UINT16), [1, 2]) == struct.pack("<IHH", 2, 1, 2)
    assert encode(Seq(Str()), ["ab"]) == struct.pack("<III", 11, 1, 3) + b"ab\0"


def test_mutable_struct_length_codes_follow_cyclone() -> None:
    assert length_code(OCTET) == 0
    assert length_code(UINT16) == 1
    assert length_code(UINT32) == 2
    assert length_code(UINT64) == 3
    assert length_code(Str()) == 5
    assert length_code(Seq(OCTET)) == 5
    assert length_code(Seq(UINT16)) == 4
    assert length_code(Seq(UINT32)) == 6
    assert length_code(Seq(UINT64)) == 7
    assert length_code(Seq(wt.TypeIdentifier)) == 5
    assert length_code(wt.TypeIdentifierWithDependencies) == 4
    s = StructDef("M", "mutable").set_fields(("a", UINT32, 5), ("s", Seq(OCTET), 9))
    data = encode(s, {"a": 1, "s": b"xy"})
    assert data == struct.pack("<IIIII", 18, (2 << 28) | 5, 1, (5 << 28) | 9, 2) + b"xy"
    assert decode(s, data) == {"a": 1, "s": b"xy"}


def test_mutable_decoder_skips_unknown_members_and_rejects_unknown_must_understand() -> None:
    old = StructDef("M", "mutable").set_fields(("a", UINT32, 1))
    new = StructDef("M", "mutable").set_fields(("a", UINT32, 1), ("z", Seq(UINT32), 2))
    data = encode(new, {"a": 4, "z": [1, 2, 3]})
    assert decode(old, data) == {"a": 4}
    mu = StructDef("M", "mutable", must_understand=frozenset({2})).set_fields(
        ("a", UINT32, 1), ("z", Seq(UINT32), 2))
    with pytest.raises(MalformedError):
        decode(old, encode(mu, {"a": 4, "z": [1]}))


def test_appendable_decoder_accepts_longer_and_shorter_versions() -> None:
    v1 = StructDef("A", "appendable").set_fields(("a", UINT32))
    v2 = StructDef("A", "appendable").set_fields(("a", UINT32), ("b", UINT32))
    assert decode(v1, encode(v2, {"a": 1, "b": 2})) == {"a": 1}
    assert decode(v2, encode(v1, {"a": 1})) == {"a": 1, "b": None}


def test_union_without_branch_and_appendable_union() -> None:
    u = UnionDef("U", INT32, "appendable").set_cases(((1,), "x", UINT16))
    assert encode(u, (1, 3)) == struct.pack("<IiH", 6, 1, 3)
    assert encode(u, (2, None)) == struct.pack("<Ii", 4, 2)
    assert decode(u, struct.pack("<Ii", 4, 2)) == (2, None)


def test_string_bound_and_termination_checked() -> None:
    with pytest.raises(ValueError):
        encode(Str(3), "abcd")
    with pytest.raises(MalformedError):
        decode(Str(), struct.pack("<I", 2) + b"ab")  # no NUL
    with pytest.raises(MalformedError):
        decode(Str(), struct.pack("<I", 0))


def test_big_endian_decode() -> None:
    s = StructDef("S", "appendable").set_fields(("a", UINT32), ("b", UINT16))
    assert decode(s, struct.pack(">IIH", 6, 0x01020304, 7), little_endian=False) == {
        "a": 0x01020304, "b": 7}


def _sample_models() -> list[M.IdlType]:
    color = M.EnumType("u::Color", [M.EnumLiteral("R", 0), M.EnumLiteral("G", 1)])
    inner = M.StructType("u::Inner", [M.Member("c", color), M.Member("s", M.StringType(300))],
                         extensibility="mutable")
    M.finalize_member_ids(inner)
    un = M.UnionType("u::Un", M.INT32, [
        M.UnionCase([1], M.Member("i", inner, id=0)),
        M.UnionCase([], M.Member("d", M.FLOAT64, id=1), is_default=True)])
    top = M.StructType("u::Top", [
        M.Member("k", M.UINT64, key=True), M.Member("u", un, optional=True),
        M.Member("arr", M.ArrayType(inner, (3, 300))),
        M.Member("al", M.AliasType("u::Al", M.SequenceType(inner, 400)))],
        extensibility="appendable")
    M.finalize_member_ids(top)
    return [top, inner, un, color]


def _valid_encodings() -> list[tuple[object, bytes]]:
    out: list[tuple[object, bytes]] = []
    for t in _sample_models():
        pair = type_objects(t)
        out.append((wt.TypeObject, pair.minimal_bytes))
        out.append((wt.TypeObject, pair.complete_bytes))
    out.append((wt.TypeInformation, type_information(_sample_models()[0])))
    return out


def test_round_trip_of_real_type_objects() -> None:
    for schema, data in _valid_encodings():
        assert encode(schema, decode(schema, data)) == data  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_decoder_never_raises_anything_but_malformed(data: st.DataObject) -> None:
    """Hostile bytes (random, or a valid encoding mutated) only ever raise MalformedError."""
    encodings = _valid_encodings()
    schema, good = encodings[data.draw(st.integers(0, len(encodings) - 1))]
    mode = data.draw(st.sampled_from(["random", "flip", "truncate"]))
    if mode == "random":
        blob = data.draw(st.binary(max_size=200))
    elif mode == "flip":
        blob = bytearray(good)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] = data.draw(st.integers(0, 255))
        blob = bytes(blob)
    else:
        blob = good[:data.draw(st.integers(0, len(good) - 1))]
    try:
        decode(schema, blob)  # type: ignore[arg-type]
    except MalformedError:
        pass
