"""Pure-Python codec behaviour that Cyclone's Python serializer cannot be the oracle for.

(wstring, inheritance, type evolution, encode errors, key hashes of appendable/mutable types,
backend dispatch.) Byte-level agreement with Cyclone is in tests/conformance.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import numpy as np
import pytest

from rtbus import cdr
from rtbus.errors import EncodeError
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize
from tests.support.corpus import BY_NAME


def _struct(name: str, members: list[M.Member], ext: str = "final",
            base: M.StructType | None = None) -> M.StructType:
    t = M.StructType(name, members, extensibility=ext, base=base)  # type: ignore[arg-type]
    M.finalize_member_ids(t)
    materialize([t])
    return t


def make(t: M.StructType, *vals: Any) -> Any:
    return t.pyclass._rtbus_unchecked(*vals)


# ---- header ------------------------------------------------------------------------------

@pytest.mark.parametrize("ext, ids", [("final", (0x0000, 0x0006)),
                                      ("appendable", (0x0000, 0x0008)),
                                      ("mutable", (0x0002, 0x000A))])
def test_encapsulation_identifier_by_extensibility(ext: str, ids: tuple[int, int]) -> None:
    t = _struct(f"hdr::{ext}", [M.Member("x", M.INT32)], ext)
    v = make(t, 5)
    for rep, ident in zip(("XCDR1", "XCDR2"), ids, strict=True):
        for end, bit in (("little", 1), ("big", 0)):
            data = cdr.encode(v, rep, end)  # type: ignore[arg-type]
            assert data[:4] == struct.pack(">HH", ident | bit, 0)
            assert cdr.decode(t.pyclass, memoryview(bytearray(data))) == v


def test_bad_representation_and_endianness_are_rejected() -> None:
    v = make(BY_NAME["Point"].model, 1.0, 2.0)
    with pytest.raises(EncodeError, match="XCDR3"):
        cdr.encode(v, "XCDR3")  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match="middle"):
        cdr.encode(v, "XCDR2", "middle")  # type: ignore[arg-type]


# ---- encode errors name the member path ----------------------------------------------------

def test_string_bound_exceeded_names_member() -> None:
    e = BY_NAME["Strings"]
    v = make(e.model, "ok", "far too long for eight", 1, "x")
    with pytest.raises(EncodeError, match=r"Strings\.bs: .*bound 8"):
        cdr.pure_codec(e.model).encode(v)


def test_int_out_of_range_names_run_member() -> None:
    e = BY_NAME["Point"]
    t = _struct("err::Ints", [M.Member("a", M.INT8), M.Member("b", M.UINT16)])
    with pytest.raises(EncodeError, match="a"):
        cdr.pure_codec(t).encode(make(t, 1000, 1))
    assert e  # corpus import is used


def test_nested_path_in_sequence_of_structs() -> None:
    e = BY_NAME["StringArrays"]
    v = make(e.model, ["a", "b", "c"], [["ok", "ok"], ["ok", "toolong"]])
    with pytest.raises(EncodeError, match=r"grid\[1\]\[1\]|grid: .*\[1\]"):
        cdr.pure_codec(e.model).encode(v)


def test_sequence_bound_and_invalid_enum() -> None:
    e = BY_NAME["PrimSequences"]
    v = make(e.model, 1, [], [], [], [], np.arange(6, dtype="i4"), [], [])
    with pytest.raises(EncodeError, match=r"s_i32b: .*bound 5"):
        cdr.pure_codec(e.model).encode(v)
    en = BY_NAME["EnumMembers"]
    enum_cls = M.resolve(en.model.members[1].type).pyclass
    v2 = make(en.model, 7, enum_cls(0), 0, 5, 1, 0)
    with pytest.raises(EncodeError, match="color: 7 is not a value"):
        cdr.pure_codec(en.model).encode(v2)


def test_numpy_input_is_converted_and_byteswapped() -> None:
    e = BY_NAME["PrimSequences"]
    c = cdr.pure_codec(e.model)
    v = make(e.model, 0, [1, 2], np.array([1.0], dtype="<f8"), b"", [True],
             np.array([3], dtype=np.int64), [], np.array([2.0], dtype=np.float64))
    be = c.encode(v, True, False)
    assert c.decode(be) == c.decode(c.encode(v, True, True))
    # sequence<int16> [1, 2] big endian after the uint8 and padding
    assert be[4:16] == b"\x00\x00\x00\x00" + b"\x00\x00\x00\x02" + b"\x00\x01\x00\x02"


# ---- constructs the cyclonedds Python oracle lacks ---------------------------------------------

def test_wstring_and_wchar_round_trip() -> None:
    t = _struct("w::W", [M.Member("c", M.WCHAR), M.Member("w", M.StringType(wide=True)),
                         M.Member("b", M.StringType(bound=3, wide=True))])
    v = make(t, "é", "héllo ✓", "abc")
    c = cdr.pure_codec(t)
    for v2 in (False, True):
        for le in (False, True):
            data = c.encode(v, v2, le)
            assert c.decode(data) == v
    data = c.encode(v, True, True)
    assert data[4:6] == "é".encode("utf-16-le")
    assert data[8:12] == struct.pack("<I", len("héllo ✓") * 2)
    with pytest.raises(EncodeError, match="b: wstring of length 4"):
        c.encode(make(t, "a", "", "abcd"))


def test_inheritance_serializes_base_members_first() -> None:
    base = _struct("inh::Base", [M.Member("id", M.INT32, key=True), M.Member("s", M.StringType())],
                   "appendable")
    derived = _struct("inh::Derived", [M.Member("extra", M.FLOAT64)], "appendable", base=base)
    flat = _struct("inh::Flat", [M.Member("id", M.INT32, key=True), M.Member("s", M.StringType()),
                                 M.Member("extra", M.FLOAT64)], "appendable")
    d = make(derived, 7, "x", 2.5)
    f = make(flat, 7, "x", 2.5)
    for v2 in (False, True):
        assert cdr.pure_codec(derived).encode(d, v2) == cdr.pure_codec(flat).encode(f, v2)
        assert cdr.pure_codec(derived).decode(cdr.pure_codec(derived).encode(d, v2)) == d
    assert cdr.key_hash(d) == cdr.key_hash(f) == struct.pack(">i", 7) + bytes(12)


def test_appendable_evolution_missing_and_extra_members() -> None:
    old = _struct("evo::V1", [M.Member("a", M.INT32)], "appendable")
    new = _struct("evo::V2", [M.Member("a", M.INT32), M.Member("b", M.StringType()),
                              M.Member("c", M.SequenceType(M.INT16))], "appendable")
    old_bytes = cdr.pure_codec(old).encode(make(old, 5))
    got = cdr.pure_codec(new).decode(old_bytes)
    assert got.a == 5 and got.b == "" and len(got.c) == 0
    new_bytes = cdr.pure_codec(new).encode(make(new, 6, "hi", [1, 2]))
    assert cdr.pure_codec(old).decode(new_bytes) == make(old, 6)


def test_mutable_xcdr1_short_parameter_headers_are_accepted() -> None:
    e = BY_NAME["MutablePrims"]
    # i32 (id 3) in the short form, i16 (id 2) in the extended form, then the sentinel
    body = (struct.pack("<HH", 3, 4) + struct.pack("<i", -9)
            + struct.pack("<HHII", 0x3F01, 8, 2, 4) + struct.pack("<h", 12) + b"\0\0"
            + struct.pack("<HH", 0x3F02, 0))
    v = cdr.pure_codec(e.model).decode(b"\x00\x03\x00\x00" + body)
    assert (v.i32, v.i16, v.f64) == (-9, 12, 0.0)


def test_enum_sizes_by_bit_bound_and_version() -> None:
    e = BY_NAME["EnumMembers"]
    m = e.model
    cls = [M.resolve(x.type).pyclass for x in m.members[:5]]
    v = make(m, cls[0](2), cls[1](7), cls[2](300), cls[3](5), cls[4](10), 9)
    c = cdr.pure_codec(m)
    x1 = c.encode(v, False, True)
    x2 = c.encode(v, True, True)
    assert len(x1) - 4 == 4 * 5 + 1
    # XCDR2: 4 + 1 + pad1 + 2 + 4 + 4 + 1
    assert x2[4:] == (struct.pack("<I", 2) + b"\x07\x00" + struct.pack("<H", 300)
                      + struct.pack("<I", 5) + struct.pack("<I", 10) + b"\x09")


# ---- key hash --------------------------------------------------------------------------------

def test_key_hash_keyless_is_zero() -> None:
    assert cdr.key_hash(make(BY_NAME["Point"].model, 1.0, 2.0)) == bytes(16)


def test_key_hash_unbounded_string_key_is_md5() -> None:
    v = make(BY_NAME["KeyString"].model, "abc", 1)
    key = struct.pack(">I", 4) + b"abc\x00"
    assert cdr.serialize_key(v) == key
    assert cdr.key_hash(v) == hashlib.md5(key).digest()  # of the key itself, not padded


def test_key_hash_appendable_and_mutable_use_plain_key_form() -> None:
    va = make(BY_NAME["KeyAppendable"].model, 1, "ab", 0.5)
    assert cdr.serialize_key(va) == struct.pack(">II", 1, 3) + b"ab\x00"
    assert cdr.key_hash(va) == (struct.pack(">II", 1, 3) + b"ab\x00").ljust(16, b"\0")
    vm = make(BY_NAME["KeyMutable"].model, 1.0, 7, 3)
    # keys in member-id order: code (@id 3) then id (@id 20)
    assert cdr.serialize_key(vm) == struct.pack(">hxxi", 3, 7)
    assert cdr.key_hash(vm) == struct.pack(">hxxi", 3, 7) + bytes(8)
    back = cdr.decode_key(BY_NAME["KeyMutable"].pyclass, cdr.serialize_key(vm))
    assert (back.id, back.code, back.value) == (7, 3, 0.0)


def test_key_hash_xcdr1_aligns_int64_to_8() -> None:
    t = _struct("kh::K", [M.Member("a", M.UINT8, key=True), M.Member("b", M.INT64, key=True)])
    v = make(t, 1, 2)
    assert cdr.serialize_key(v, "XCDR1") == b"\x01" + bytes(7) + struct.pack(">q", 2)
    assert cdr.serialize_key(v, "XCDR2") == b"\x01" + bytes(3) + struct.pack(">q", 2)


# ---- dispatch --------------------------------------------------------------------------------

def test_pure_python_env_forces_pure_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTBUS_PURE_PYTHON", "1")
    t = _struct("disp::P", [M.Member("x", M.INT32)])
    assert cdr.backend_for(t) == "pure"
    assert cdr.decode(t.pyclass, cdr.encode(make(t, 3))) == make(t, 3)


def test_backend_for_reports_compiled_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    from rtbus import _ext

    monkeypatch.delenv("RTBUS_PURE_PYTHON", raising=False)
    t = _struct("disp::C", [M.Member("x", M.INT32)])
    expected = "compiled" if _ext.available("cdr") is not None else "pure"
    assert cdr.backend_for(t) == expected


def test_public_encode_pads_to_four_and_records_pad_in_options() -> None:
    t = _struct("pad::P", [M.Member("a", M.INT32), M.Member("b", M.UINT8)])
    data = cdr.encode(make(t, 1, 2))
    assert data == b"\x00\x07\x00\x03" + struct.pack("<iB", 1, 2) + bytes(3)
    assert cdr.decode(t.pyclass, data) == make(t, 1, 2)
    assert cdr.pure_codec(t).encode(make(t, 1, 2))[2:4] == b"\x00\x00"  # raw codec: unpadded
