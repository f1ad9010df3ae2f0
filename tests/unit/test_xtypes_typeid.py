"""TypeIdentifiers: inline forms for primitives/strings/plain collections, hashes otherwise."""

import hashlib

import pytest

from rtbus.types import model as M
from rtbus.xtypes import type_identifier, type_object
from rtbus.xtypes import wire_types as wt
from rtbus.xtypes.typeid import TypeIdentifier
from rtbus.xtypes.typeobject import UnsupportedTypeError, name_hash


def test_primitive_kinds() -> None:
    expected = {
        M.BOOLEAN: wt.TK_BOOLEAN, M.OCTET: wt.TK_BYTE, M.CHAR: wt.TK_CHAR8,
        M.WCHAR: wt.TK_CHAR16, M.INT8: wt.TK_INT8, M.UINT8: wt.TK_UINT8, M.INT16: wt.TK_INT16,
        M.UINT16: wt.TK_UINT16, M.INT32: wt.TK_INT32, M.UINT32: wt.TK_UINT32,
        M.INT64: wt.TK_INT64, M.UINT64: wt.TK_UINT64, M.FLOAT32: wt.TK_FLOAT32,
        M.FLOAT64: wt.TK_FLOAT64,
    }
    for prim, tk in expected.items():
        tid = type_identifier(prim)
        assert tid.kind == tk and tid.is_primitive and not tid.is_hashed
        assert tid.encode() == bytes([tk])


def test_string_small_and_large_forms() -> None:
    assert type_identifier(M.StringType()).encode() == bytes([wt.TI_STRING8_SMALL, 0])
    assert type_identifier(M.StringType(255)).encode() == bytes([wt.TI_STRING8_SMALL, 255])
    assert type_identifier(M.StringType(256)).encode() == bytes(
        [wt.TI_STRING8_LARGE, 0, 0, 0, 0, 1, 0, 0])
    assert type_identifier(M.StringType(9, wide=True)).kind == wt.TI_STRING16_SMALL
    assert type_identifier(M.StringType(999, wide=True)).kind == wt.TI_STRING16_LARGE


def test_plain_sequence_s_vs_l_by_bound() -> None:
    small = type_identifier(M.SequenceType(M.INT32, 255))
    large = type_identifier(M.SequenceType(M.INT32, 256))
    unbounded = type_identifier(M.SequenceType(M.INT32))
    assert small.kind == wt.TI_PLAIN_SEQUENCE_SMALL
    assert unbounded.kind == wt.TI_PLAIN_SEQUENCE_SMALL and unbounded.value[1]["bound"] == 0
    assert large.kind == wt.TI_PLAIN_SEQUENCE_LARGE and large.value[1]["bound"] == 256
    # header: EK_BOTH (fully descriptive element), element flags TRY_CONSTRUCT1
    assert small.encode() == bytes([wt.TI_PLAIN_SEQUENCE_SMALL, wt.EK_BOTH, 1, 0, 255,
                                    wt.TK_INT32])
    assert small.element() == type_identifier(M.INT32)


def test_plain_array_s_vs_l_by_dims() -> None:
    arr = type_identifier(M.ArrayType(M.FLOAT32, (3, 255)))
    assert arr.kind == wt.TI_PLAIN_ARRAY_SMALL
    assert arr.encode() == bytes([wt.TI_PLAIN_ARRAY_SMALL, wt.EK_BOTH, 1, 0, 2, 0, 0, 0, 3, 255,
                                  wt.TK_FLOAT32])
    big = type_identifier(M.ArrayType(M.FLOAT32, (3, 256)))
    assert big.kind == wt.TI_PLAIN_ARRAY_LARGE
    # nested array models flatten into one dims list, outermost first
    nested = type_identifier(M.ArrayType(M.ArrayType(M.FLOAT32, (255,)), (3,)))
    assert nested == arr


def test_collection_of_named_type_carries_kind_specific_hash() -> None:
    point = M.StructType("p::Point", [M.Member("x", M.INT32)])
    M.finalize_member_ids(point)
    seq_min = type_identifier(M.SequenceType(point), "minimal")
    seq_com = type_identifier(M.SequenceType(point), "complete")
    assert seq_min.value[1]["header"]["equiv_kind"] == wt.EK_MINIMAL
    assert seq_com.value[1]["header"]["equiv_kind"] == wt.EK_COMPLETE
    assert seq_min.element() == type_identifier(point, "minimal")
    assert seq_com.element() == type_identifier(point, "complete")


def test_hash_is_md5_of_type_object() -> None:
    point = M.StructType("p::Point", [M.Member("x", M.INT32)])
    M.finalize_member_ids(point)
    for kind, ek in (("minimal", wt.EK_MINIMAL), ("complete", wt.EK_COMPLETE)):
        tid = type_identifier(point, kind)  # type: ignore[arg-type]
        assert tid.kind == ek
        assert tid.equivalence_hash == hashlib.md5(type_object(point, kind)).digest()[:14]  # type: ignore[arg-type]


def test_minimal_ignores_names_complete_does_not() -> None:
    a = M.StructType("a::T", [M.Member("x", M.INT32)])
    b = M.StructType("b::T", [M.Member("x", M.INT32)])
    c = M.StructType("a::T", [M.Member("y", M.INT32)])
    for s in (a, b, c):
        M.finalize_member_ids(s)
    assert type_identifier(a, "minimal") == type_identifier(b, "minimal")
    assert type_identifier(a, "complete") != type_identifier(b, "complete")
    # member names reach the minimal object through their NameHash
    assert type_identifier(a, "minimal") != type_identifier(c, "minimal")
    assert name_hash("x") == hashlib.md5(b"x").digest()[:4]


def test_identifier_equality_hash_and_decode() -> None:
    a = TypeIdentifier.hashed(wt.EK_MINIMAL, b"\x01" * 14)
    b = TypeIdentifier.decode(a.encode())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert "EK_MINIMAL" in repr(a)
    assert TypeIdentifier.none().encode() == b"\0"
    with pytest.raises(ValueError):
        TypeIdentifier.hashed(wt.EK_BOTH, b"\0" * 14)
    with pytest.raises(ValueError):
        _ = TypeIdentifier.primitive(M.INT8).equivalence_hash


def test_recursive_type_is_reported() -> None:
    node = M.StructType("r::Node", [])
    node.members = [M.Member("next", M.SequenceType(node))]
    M.finalize_member_ids(node)
    with pytest.raises(UnsupportedTypeError):
        type_identifier(node)
