"""Hostile payloads: every malformed input raises DecodeError naming what and where.

Decoding must never allocate more than the input can hold, never loop forever, and never
leak another exception type (struct.error, IndexError, UnicodeDecodeError, ...).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus import cdr
from rtbus.errors import DecodeError
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize
from tests.support.corpus import BY_NAME
from tests.support.strategies import values_for


def codec(name: str) -> Any:
    return cdr.pure_codec(BY_NAME[name].model)


def _struct(name: str, members: list[M.Member], ext: str = "final") -> M.StructType:
    t = M.StructType(name, members, extensibility=ext)  # type: ignore[arg-type]
    M.finalize_member_ids(t)
    materialize([t])
    return t


LE2 = b"\x00\x07\x00\x00"   # CDR2 little endian, final
LE1 = b"\x00\x01\x00\x00"   # CDR little endian
D2 = b"\x00\x09\x00\x00"    # D_CDR2 little endian
PL2 = b"\x00\x0b\x00\x00"   # PL_CDR2 little endian
PL1 = b"\x00\x03\x00\x00"   # PL_CDR little endian


def u32(x: int) -> bytes:
    return struct.pack("<I", x)


def expect(c: Any, data: bytes, *words: str) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        c.decode(data)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    return info.value


def test_empty_payload() -> None:
    expect(codec("Point"), b"", "shorter than the 4-byte")


def test_header_only_three_bytes() -> None:
    expect(codec("Point"), b"\x00\x07\x00", "shorter")


def test_unknown_encapsulation_identifier() -> None:
    expect(codec("Point"), b"\x00\x04\x00\x00" + bytes(16), "0x0004")


def test_encapsulation_first_byte_nonzero() -> None:
    expect(codec("Point"), b"\x01\x07\x00\x00" + bytes(16), "encapsulation")


def test_truncated_primitive_run() -> None:
    expect(codec("Point"), LE2 + bytes(12), "truncated", "offset 0")


def test_string_length_past_end() -> None:
    expect(codec("KeyString"), LE2 + u32(1000) + b"abc\x00", "runs past the end", "offset 0")


def test_string_length_zero() -> None:
    expect(codec("KeyString"), LE2 + u32(0) + u32(5), "length 0")


def test_string_missing_nul() -> None:
    expect(codec("KeyString"), LE2 + u32(4) + b"abcd" + u32(5), "NUL")


def test_string_bad_utf8() -> None:
    expect(codec("KeyString"), LE2 + u32(3) + b"\xff\xfe\x00" + b"\x00" + u32(5), "UTF-8")


def test_bounded_string_over_bound() -> None:
    # KeyBoundedString.name is string<8>
    expect(codec("KeyBoundedString"), LE2 + u32(11) + b"0123456789\x00" + b"\x00" + u32(1),
           "bound")


def test_huge_primitive_sequence_count_is_refused_before_allocating() -> None:
    # PrimSequences: uint8 lead, then sequence<int16>: claims 4 billion elements
    expect(codec("PrimSequences"), LE2 + b"\x01\x00\x00\x00" + u32(0xFFFFFFFF) + bytes(8),
           "runs past the end")


def test_huge_string_sequence_count_is_refused_before_allocating() -> None:
    # StringSequences.names: sequence<string> has a DHEADER in XCDR2
    data = LE2 + u32(8) + u32(0x7FFFFFFF) + u32(0)
    expect(codec("StringSequences"), data, "cannot fit")


def test_sequence_over_bound() -> None:
    # SeqOfStructs.bounded is sequence<Point, 3>: path empty, then 4 points claimed
    data = LE2 + u32(4) + u32(0) + u32(4 + 64) + u32(4) + bytes(64)
    expect(codec("SeqOfStructs"), data, "exceeds its bound 3")


def test_bad_boolean_in_primitive_run() -> None:
    c = codec("AllPrimitives")
    good = c.encode(BY_NAME["AllPrimitives"].pyclass._rtbus_unchecked(
        True, 1, "a", 1, 1, 1, 1, 1, 1, 1, 1, 1.0, 1.0), True, True)
    bad = good[:4] + b"\x02" + good[5:]
    expect(c, bad, "boolean", "expected 0 or 1")


def test_bad_boolean_in_numeric_sequence() -> None:
    t = _struct("hostile::Bools", [M.Member("flags", M.SequenceType(M.BOOLEAN))])
    expect(cdr.pure_codec(t), LE2 + u32(3) + b"\x01\x00\x07", "boolean element")


def test_unknown_enum_value() -> None:
    # EnumMembers.color is a 4-byte enum with values 0..2
    expect(codec("EnumMembers"), LE2 + u32(9) + bytes(16), "9 is not a value of enum")


def test_dheader_size_past_end() -> None:
    expect(codec("AppendablePlain"), D2 + u32(500) + bytes(20), "DHEADER size 500")


def test_emheader_member_length_past_end() -> None:
    # MutablePrims: DHEADER 8, EMHEADER LC=4 (NEXTINT) member 3 claiming 100 bytes
    data = PL2 + u32(12) + u32((4 << 28) | 3) + u32(100) + bytes(4)
    expect(codec("MutablePrims"), data, "runs past")


def test_nextint_past_end_of_struct() -> None:
    data = PL2 + u32(4) + u32((5 << 28) | 1) + u32(0)
    expect(codec("MutableCollections"), data, "NEXTINT")


def test_unknown_must_understand_member_rejected() -> None:
    data = PL2 + u32(8) + u32((1 << 31) | (2 << 28) | 999) + u32(7)
    expect(codec("MutablePrims"), data, "must-understand member id 999")


def test_unknown_member_without_must_understand_is_skipped() -> None:
    data = PL2 + u32(16) + u32((2 << 28) | 999) + u32(7) + u32((2 << 28) | 3) + u32(42)
    v = codec("MutablePrims").decode(data)
    assert v.i32 == 42 and v.i16 == 0 and v.b is False


def test_xcdr1_parameter_list_without_sentinel() -> None:
    data = PL1 + struct.pack("<HHII", 0x7F01, 8, 3, 4) + u32(42)
    expect(codec("MutablePrims"), data, "no sentinel")


def test_xcdr1_parameter_length_past_end() -> None:
    data = PL1 + struct.pack("<HHII", 0x7F01, 8, 3, 400) + u32(42)
    expect(codec("MutablePrims"), data, "runs past")


def test_optional_presence_flag_not_boolean() -> None:
    expect(codec("Optionals"), LE2 + b"\x05" + bytes(40), "presence flag", "expected 0 or 1")


def test_xcdr1_optional_length_past_end() -> None:
    data = LE1 + struct.pack("<HHII", 0x7F01, 8, 0, 64) + u32(1)
    expect(codec("Optionals"), data, "runs past")


def test_wstring_odd_length() -> None:
    t = _struct("hostile::W", [M.Member("w", M.StringType(wide=True))])
    expect(cdr.pure_codec(t), LE2 + u32(3) + b"a\x00b", "odd")


def test_union_branch_truncated() -> None:
    # ByEnum: discriminator GREEN selects a string that is missing
    expect(codec("ByEnum"), LE2 + u32(1), "truncated")


def test_appendable_union_dheader_past_end() -> None:
    expect(codec("AppendableUnion"), D2 + u32(64) + u32(1), "DHEADER size 64")


def test_nested_sequence_dheader_past_end() -> None:
    expect(codec("SeqOfSeqs"), LE2 + u32(1000) + u32(1), "DHEADER size 1000")


@pytest.mark.parametrize("name", ["UnionHolder", "MutableCollections", "AppendableOptionals",
                                  "FinalWithMutable", "StringArrays", "Typedefs"])
def test_every_truncation_raises_decode_error(name: str) -> None:
    entry = BY_NAME[name]
    c = cdr.pure_codec(entry.model)

    @settings(max_examples=15, deadline=None, database=None)
    @given(values_for(entry.model))
    def check(value: Any) -> None:
        for v2 in (False, True):
            data = c.encode(value, v2, True)
            for cut in range(len(data)):
                try:
                    c.decode(data[:cut])
                except DecodeError:
                    pass

    check()


@pytest.mark.parametrize("name", ["UnionHolder", "MutableCollections", "PrimSequences",
                                  "MutableOptionals", "SeqOfSeqs"])
def test_random_corruption_only_raises_decode_error(name: str) -> None:
    entry = BY_NAME[name]
    c = cdr.pure_codec(entry.model)

    @settings(max_examples=60, deadline=None, database=None)
    @given(values_for(entry.model), st.booleans(),
           st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1,
                    max_size=4))
    def check(value: Any, v2: bool, flips: list[tuple[int, int]]) -> None:
        data = bytearray(c.encode(value, v2, True))
        for pos, byte in flips:
            if len(data) > 4:
                data[4 + pos % (len(data) - 4)] = byte
        try:
            c.decode(bytes(data))
        except DecodeError:
            pass

    check()


def test_decoded_numeric_sequences_are_views_of_the_input() -> None:
    c = codec("PrimSequences")
    v = BY_NAME["PrimSequences"].pyclass._rtbus_unchecked(
        1, np.arange(3, dtype="i2"), np.array([1.5, 2.5]), np.zeros(0, "u1"),
        np.array([True, False]), np.arange(5, dtype="i4"), np.array([7], "u8"),
        np.array([0.5], "f4"))
    data = c.encode(v, True, False)  # big endian: the views keep the payload's byte order
    out = c.decode(data)
    assert out == v
    assert out.s_f64.dtype == np.dtype(">f8")
    assert not out.s_f64.flags.owndata and not out.s_f64.flags.writeable
    assert out.s_f64.base is not None
