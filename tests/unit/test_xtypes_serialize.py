"""The XTypes builtin types on the main CDR codec: plain data in and out, the layout rules
their hashes depend on, and hostile input."""

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus.cdr import plan
from rtbus.errors import MalformedError
from rtbus.types import model as M
from rtbus.xtypes import type_information, type_objects
from rtbus.xtypes import wire_types as wt
from rtbus.xtypes.serialize import decode, encode
from tests.support.model_builders import mem, union
from tests.support.model_builders import struct as struct_of


def test_final_struct_aligns_relative_to_start_caps_at_4_and_has_no_padding() -> None:
    s = struct_of("x::S", [mem("a", M.OCTET), mem("b", M.UINT64), mem("c", M.UINT16)])
    # uint64 aligned to 4 in XCDR2, not 8; the payload's padding to 4 bytes is not ours
    data = encode(s, {"a": 1, "b": 2, "c": 3})
    assert data == bytes([1, 0, 0, 0]) + struct.pack("<QH", 2, 3)
    assert decode(s, data) == {"a": 1, "b": 2, "c": 3}


def test_appendable_struct_has_dheader() -> None:
    s = struct_of("x::S", [mem("a", M.UINT32), mem("b", M.OCTET)], extensibility="appendable")
    assert encode(s, {"a": 7, "b": 9}) == struct.pack("<IIB", 5, 7, 9)


def test_optional_member_presence_byte() -> None:
    s = struct_of("x::S", [mem("a", M.UINT32, optional=True), mem("b", M.OCTET)])
    assert encode(s, {"a": None, "b": 5}) == bytes([0, 5])
    assert encode(s, {"a": 1, "b": 5}) == bytes([1, 0, 0, 0, 1, 0, 0, 0, 5])
    assert decode(s, bytes([0, 5])) == {"a": None, "b": 5}


def test_plain_data_shapes() -> None:
    """Octet sequences and arrays are bytes, other primitive ones lists, structs dicts,
    unions (discriminator, value) tuples, with value None for no branch."""
    u = union("x::U", M.OCTET, [([1], "n", M.UINT16)])
    s = struct_of("x::S", [mem("h", M.ArrayType(M.OCTET, (3,))),
                           mem("o", M.SequenceType(M.OCTET)), mem("w", M.SequenceType(M.UINT32)),
                           mem("t", M.SequenceType(M.StringType())), mem("u", u),
                           mem("v", u)])
    value = {"h": b"abc", "o": b"\x01\x02", "w": [1, 2], "t": ["ab"], "u": (1, 5),
             "v": (9, None)}
    back = decode(s, encode(s, value))
    assert back == value
    assert type(back["h"]) is bytes and type(back["o"]) is bytes and type(back["w"]) is list


def test_sequence_of_non_primitive_has_dheader_primitive_not() -> None:
    s = struct_of("x::S", [mem("p", M.SequenceType(M.UINT16)),
                           mem("q", M.SequenceType(M.StringType()))])
    assert encode(s, {"p": [1, 2], "q": ["ab"]}) == (
        struct.pack("<IHH", 2, 1, 2) + struct.pack("<III", 11, 1, 3) + b"ab\0")


def _lc(t: M.StructType, name: str) -> int:
    p = plan.plan_for(t, True)
    assert isinstance(p, plan.StructPlan)
    return next(m.lc for m in p.members if m.name == name)


def test_mutable_length_codes_of_the_builtin_types_follow_cyclone() -> None:
    assert _lc(wt.TypeLookup_getTypes_In, "type_ids") == 5  # its DHEADER doubles as NEXTINT
    assert _lc(wt.TypeLookup_getTypeDependencies_In, "continuation_point") == 5
    assert _lc(wt.TypeInformation, "minimal") == 4  # an appendable struct: explicit NEXTINT
    s = struct_of("x::M", [mem("a", M.UINT32, id=5), mem("s", M.SequenceType(M.OCTET), id=9)],
                  extensibility="mutable")
    data = encode(s, {"a": 1, "s": b"xy"})
    assert data == struct.pack("<IIIII", 18, (2 << 28) | 5, 1, (5 << 28) | 9, 2) + b"xy"
    assert decode(s, data) == {"a": 1, "s": b"xy"}


def test_hashid_members_get_the_xtypes_ids() -> None:
    ids = {m.name: m.id for m in wt.TypeLookup_getTypeDependencies_Out.members}
    assert ids == {"dependent_typeids": wt.hashid("dependent_typeids"),
                   "continuation_point": wt.hashid("continuation_point")}
    assert [m.id for m in wt.TypeInformation.members] == [0x1001, 0x1002]
    assert wt.hashid("getTypes") == wt.TYPELOOKUP_GETTYPES_HASHID


def test_mutable_decoder_skips_unknown_members_and_rejects_unknown_must_understand() -> None:
    old = struct_of("x::M", [mem("a", M.UINT32, id=1)], extensibility="mutable")
    new = struct_of("x::M", [mem("a", M.UINT32, id=1),
                             mem("z", M.SequenceType(M.UINT32), id=2)], extensibility="mutable")
    assert decode(old, encode(new, {"a": 4, "z": [1, 2, 3]})) == {"a": 4}
    mu = struct_of("x::M", [mem("a", M.UINT32, id=1),
                            mem("z", M.SequenceType(M.UINT32), id=2, must_understand=True)],
                   extensibility="mutable")
    with pytest.raises(MalformedError):
        decode(old, encode(mu, {"a": 4, "z": [1]}))


def test_appendable_decoder_accepts_longer_and_shorter_versions() -> None:
    v1 = struct_of("x::A", [mem("a", M.UINT32)], extensibility="appendable")
    v2 = struct_of("x::A", [mem("a", M.UINT32), mem("b", M.UINT32)], extensibility="appendable")
    assert decode(v1, encode(v2, {"a": 1, "b": 2})) == {"a": 1}
    assert decode(v2, encode(v1, {"a": 1})) == {"a": 1, "b": 0}  # the default


def test_union_without_branch_and_appendable_union() -> None:
    u = union("x::U", M.INT32, [([1], "x", M.UINT16)], extensibility="appendable")
    assert encode(u, (1, 3)) == struct.pack("<IiH", 6, 1, 3)
    assert encode(u, (2, None)) == struct.pack("<Ii", 4, 2)
    assert decode(u, struct.pack("<Ii", 4, 2)) == (2, None)


def test_string_bound_and_termination_checked() -> None:
    s = struct_of("x::S", [mem("s", M.StringType(3))])
    with pytest.raises(ValueError):
        encode(s, {"s": "abcd"})
    t = struct_of("x::T", [mem("s", M.StringType())])
    with pytest.raises(MalformedError):
        decode(t, struct.pack("<I", 2) + b"ab")  # no NUL
    with pytest.raises(MalformedError):
        decode(t, struct.pack("<I", 0))


def test_big_endian_decode() -> None:
    s = struct_of("x::S", [mem("a", M.UINT32), mem("b", M.UINT16)], extensibility="appendable")
    assert decode(s, struct.pack(">IIH", 6, 0x01020304, 7), little_endian=False) == {
        "a": 0x01020304, "b": 7}


def test_only_structs_and_unions_are_top_level() -> None:
    with pytest.raises(TypeError):
        encode(M.SequenceType(M.UINT16), [1])


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


def _valid_encodings() -> list[tuple[M.IdlType, bytes]]:
    out: list[tuple[M.IdlType, bytes]] = []
    for t in _sample_models():
        pair = type_objects(t)
        out.append((wt.TypeObject, pair.minimal_bytes))
        out.append((wt.TypeObject, pair.complete_bytes))
    out.append((wt.TypeInformation, type_information(_sample_models()[0])))
    return out


def test_round_trip_of_real_type_objects() -> None:
    for schema, data in _valid_encodings():
        assert encode(schema, decode(schema, data)) == data


def _nested_sequences(depth: int) -> bytes:
    """A TypeIdentifier: ``depth`` plain sequences around a boolean."""
    data = bytearray()
    for _ in range(depth):  # seq_sdefn: PlainCollectionHeader, bound, element_identifier
        data += b"\x80\xf1" + b"\0" * (len(data) % 2) + struct.pack("<H", 1) + b"\0"
    return bytes(data + bytes([wt.TK_BOOLEAN]))


def test_deep_nesting_is_malformed() -> None:
    """TypeIdentifiers nest (plain sequence of plain sequence of ...): a peer can go deep."""
    inner = decode(wt.TypeIdentifier, _nested_sequences(2))[1]["element_identifier"]
    assert inner[1]["element_identifier"] == (wt.TK_BOOLEAN, None)
    with pytest.raises(MalformedError):
        decode(wt.TypeIdentifier, _nested_sequences(5000))


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
        decode(schema, blob)
    except MalformedError:
        pass
