"""The CDR layout plan (rtbus.cdr.plan): the decisions both codecs execute.

These state the wire decisions directly (what the plan says for a type), so a change in a
rule shows up here as one failing decision rather than as two codecs disagreeing on bytes.
The last tests run both executors over plans where the twins used to differ and compare
with Cyclone's bytes.
"""

import os

import numpy as np
import pytest

from rtbus import _ext
from rtbus.cdr import plan as P
from rtbus.cdr import pure
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize
from tests.support.model_builders import enum_model, mem, struct

ccdr = _ext.available("cdr")
if ccdr is None and os.environ.get("RTBUS_PURE_PYTHON") != "1":
    raise RuntimeError("compiled rtbus._ext.cdr is missing: build it (pip install -e .)")
TWINS = [pure.compile_codec] + ([ccdr.compile_codec] if ccdr is not None else [])


def _member(plan: P.Node, name: str) -> P.MemberPlan:
    assert isinstance(plan, P.StructPlan)
    return next(m for m in plan.members if m.name == name)


def test_typedef_array_of_arrays_is_one_flat_array() -> None:
    row = M.AliasType("p::Row", M.ArrayType(M.BOOLEAN, (2,)))
    name = M.AliasType("p::Name", M.ArrayType(M.StringType(4), (2,)))
    s = struct("p::Grid", [mem("grid", M.ArrayType(row, (3,))),
                           mem("names", M.ArrayType(name, (2,))),
                           mem("rows", M.SequenceType(row))])
    for v2 in (False, True):
        p = P.plan_for(s, v2)
        grid = _member(p, "grid").node
        assert isinstance(grid, P.PrimArrayPlan)
        assert (grid.dims, grid.length, grid.elem.kind) == ((3, 2), 6, "boolean")
        names = _member(p, "names").node
        assert isinstance(names, P.ListArrayPlan)
        assert names.dims == (2, 2) and isinstance(names.elem, P.StringPlan)
        assert names.dheader is v2  # one DHEADER (XCDR2) around all four strings
        # a sequence of a typedef'd array is a sequence of arrays: delimited in XCDR2
        rows = _member(p, "rows").node
        assert isinstance(rows, P.ListSeqPlan) and isinstance(rows.elem, P.PrimArrayPlan)
        assert rows.dheader is v2
    p2 = P.plan_for(s, True)
    assert [_member(p2, n).lc for n in ("grid", "names", "rows")] == [P.LC_NEXTINT, P.LC_DUAL,
                                                                       P.LC_DUAL]


@pytest.mark.parametrize(("bit_bound", "v1", "v2"), [(8, 4, 1), (16, 4, 2), (32, 4, 4)])
def test_enum_width_by_version(bit_bound: int, v1: int, v2: int) -> None:
    e = enum_model(f"p::E{bit_bound}", [("A", 0), ("B", 1)], bit_bound=bit_bound)
    p1, p2 = P.plan_for(e, False), P.plan_for(e, True)
    assert isinstance(p1, P.EnumPlan) and isinstance(p2, P.EnumPlan)
    assert (p1.size, p1.align, p2.size, p2.align) == (v1, v1, v2, v2)
    assert p2.lc == {1: P.LC_1, 2: P.LC_2, 4: P.LC_4}[v2]


@pytest.mark.parametrize(("bit_bound", "size"), [(8, 1), (16, 2), (32, 4), (64, 8)])
def test_bitmask_width_is_the_same_in_both_versions(bit_bound: int, size: int) -> None:
    b = M.BitmaskType(f"p::B{bit_bound}", [M.BitFlag("f", 0)], bit_bound=bit_bound)
    p1, p2 = P.plan_for(b, False), P.plan_for(b, True)
    assert isinstance(p1, P.BitmaskPlan) and isinstance(p2, P.BitmaskPlan)
    assert (p1.size, p2.size) == (size, size)
    assert (p1.align, p2.align) == (min(size, 8), min(size, 4))


def test_mutable_emheader_length_codes() -> None:
    inner = struct("p::In", [mem("x", M.INT32)])
    e16 = enum_model("p::E16", [("A", 0)], bit_bound=16)
    cases = [
        ("i8", M.INT8, P.LC_1),
        ("i16", M.INT16, P.LC_2),
        ("i32", M.INT32, P.LC_4),
        ("f64", M.FLOAT64, P.LC_8),
        ("e16", e16, P.LC_2),
        ("s", M.StringType(), P.LC_DUAL),
        ("so", M.SequenceType(M.OCTET), P.LC_DUAL),
        ("s16", M.SequenceType(M.INT16), P.LC_NEXTINT),
        ("s32", M.SequenceType(M.INT32), P.LC_DUAL4),
        ("s64", M.SequenceType(M.FLOAT64), P.LC_DUAL8),
        ("sc", M.SequenceType(M.CHAR), P.LC_DUAL),
        ("sw", M.SequenceType(M.WCHAR), P.LC_NEXTINT),  # as Cyclone (the pure twin said 5)
        ("ss", M.SequenceType(M.StringType()), P.LC_DUAL),
        ("a32", M.ArrayType(M.INT32, (3,)), P.LC_NEXTINT),
        ("ac", M.ArrayType(M.CHAR, (3,)), P.LC_NEXTINT),
        ("as", M.ArrayType(M.StringType(), (2,)), P.LC_DUAL),
        ("st", inner, P.LC_NEXTINT),
    ]
    s = struct("p::Mut", [mem(n, t, must_understand=(n == "s")) for n, t, _ in cases],
               extensibility="mutable")
    p = P.plan_for(s, True)
    assert isinstance(p, P.StructPlan) and p.ext == "mutable" and p.steps == ()
    for i, (n, _, lc) in enumerate(cases):
        m = _member(p, n)
        assert m.lc == lc, n
        assert m.nextint is (lc == P.LC_NEXTINT)
        assert m.emheader == ((1 << 31) if n == "s" else 0) | (lc << 28) | i, n
        assert m.pl_id == ((1 << 30) if n == "s" else 0) | i, n  # XCDR1: M in bit 30


def test_runs_of_primitives_carry_their_padding_per_phase() -> None:
    s = struct("p::Run", [mem("a", M.UINT8), mem("b", M.FLOAT64), mem("c", M.INT16),
                          mem("t", M.StringType()), mem("d", M.INT32),
                          mem("o", M.INT32, optional=True), mem("e", M.INT8), mem("f", M.INT8)])
    p1, p2 = P.plan_for(s, False), P.plan_for(s, True)
    for p in (p1, p2):
        assert isinstance(p, P.StructPlan)
        kinds = [type(x).__name__ for x in p.steps]
        assert kinds == ["RunPlan", "MemberPlan", "MemberPlan", "MemberPlan", "RunPlan"]
        assert p.single_run is None
    run1, run2 = p1.steps[0], p2.steps[0]
    assert isinstance(run1, P.RunPlan) and isinstance(run2, P.RunPlan)
    assert len(run1.pads) == 8 and len(run2.pads) == 4
    assert run1.pads[0] == (0, 7, 0) and run1.sizes[0] == 1 + 7 + 8 + 2
    assert run2.pads[0] == (0, 3, 0) and run2.sizes[0] == 1 + 3 + 8 + 2
    assert run2.pads[1] == (0, 2, 0)
    flat = struct("p::Flat", [mem("x", M.INT32), mem("y", M.FLOAT64)])
    assert P.plan_for(flat, True).single_run is not None  # type: ignore[union-attr]
    app = struct("p::App", [mem("x", M.INT32), mem("y", M.FLOAT64)], extensibility="appendable")
    assert P.plan_for(app, True).single_run is None  # type: ignore[union-attr]  # DHEADER
    assert P.plan_for(app, False).single_run is not None  # type: ignore[union-attr]


def test_dheaders_and_encapsulation_by_extensibility() -> None:
    el = struct("p::El", [mem("x", M.INT32)])
    for ext, ids in (("final", (0x00, 0x06)), ("appendable", (0x00, 0x08)),
                     ("mutable", (0x02, 0x0A))):
        s = struct(f"p::X{ext}", [mem("v", M.SequenceType(el)), mem("n", M.SequenceType(M.CHAR)),
                                  mem("e", M.SequenceType(enum_model(f"p::E{ext}", [("A", 0)])))],
                   extensibility=ext)
        p1, p2 = P.plan_for(s, False), P.plan_for(s, True)
        assert isinstance(p1, P.StructPlan) and isinstance(p2, P.StructPlan)
        assert (p1.encap_id, p2.encap_id) == ids
        assert not p1.dheader and p2.dheader is (ext != "final")
        assert [_member(p2, n).node.dheader for n in "vne"] == [True, False, True]  # type: ignore[union-attr]
        assert [_member(p1, n).node.dheader for n in "vne"] == [False, False, False]  # type: ignore[union-attr]


def test_key_forms() -> None:
    inner = struct("p::KIn", [mem("a", M.INT32), mem("b", M.StringType())],
                   extensibility="appendable")
    s = M.StructType("p::K", [mem("z", M.INT32, id=9, key=True), mem("other", M.FLOAT64, id=1),
                              mem("a", inner, id=2, key=True),
                              mem("v", M.SequenceType(inner), id=3, key=True)],
                     extensibility="mutable")
    kh = P.plan_for(s, True, "keyhash")
    assert isinstance(kh, P.StructPlan)
    assert kh.ext == "final" and not kh.dheader and kh.partial
    assert [m.name for m in kh.members] == ["a", "v", "z"]  # mutable keys by member id
    assert [m.field for m in kh.members] == [2, 3, 0]
    a = _member(kh, "a").node
    assert isinstance(a, P.StructPlan) and a.ext == "final" and [m.name for m in a.members] == \
        ["a", "b"]
    v = _member(kh, "v").node
    assert isinstance(v, P.ListSeqPlan) and not v.dheader
    ks = P.plan_for(s, True, "key_sample")
    assert isinstance(ks, P.StructPlan)
    assert ks.ext == "mutable" and ks.dheader and [m.name for m in ks.members] == ["z", "a", "v"]
    assert _member(ks, "v").node.dheader  # type: ignore[union-attr]
    assert _member(ks, "a").node.dheader  # type: ignore[union-attr]
    data = P.plan_for(s, True)
    assert isinstance(data, P.StructPlan) and not data.partial and len(data.members) == 4


def test_plans_are_cached_and_may_be_recursive() -> None:
    node = M.StructType("p::Tree", [])
    node.members = [mem("v", M.INT32), mem("kids", M.SequenceType(node))]
    M.finalize_member_ids(node)
    p = P.plan_for(node, True)
    assert P.plan_for(node, True) is p
    assert P.plan_for(node, False) is not p
    kids = _member(p, "kids").node
    assert isinstance(kids, P.ListSeqPlan) and kids.elem is p
    assert set(P.cached_plans(node)) == {(True, "data"), (False, "data")}


def test_unsupported_types_fail_when_planned_and_leave_no_cache() -> None:
    mu = M.UnionType("p::MU", M.INT32, [M.UnionCase([0], M.Member("a", M.INT32, id=0))],
                     extensibility="mutable")
    s = struct("p::HasMU", [mem("u", mu)])
    with pytest.raises(NotImplementedError, match="mutable union"):
        P.plan_for(s, True)
    assert P.cached_plans(s) == {}
    assert isinstance(P.plan_for(mu, True, "keyhash"), P.UnionPlan)  # laid out as final


# ---- both executors over decisions where the twins used to differ ---------------------------
@pytest.mark.parametrize("compile_codec", TWINS)
def test_wchar_sequence_in_mutable_struct_has_length_code_4(compile_codec) -> None:
    s = struct("p::W", [mem("s", M.SequenceType(M.WCHAR))], extensibility="mutable")
    materialize([s])
    sample = s.pyclass._rtbus_unchecked(["a", "b"])
    # cyclonedds: @mutable struct W { sequence<wchar> s; } with s = [97, 98], XCDR2 LE
    expected = bytes.fromhex("000b0000 10000000 00000040 08000000 02000000 61006200")
    assert compile_codec(s).encode(sample, True, True) == expected


@pytest.mark.parametrize("compile_codec", TWINS)
def test_optional_must_understand_xcdr1_header_puts_m_in_bit_30(compile_codec) -> None:
    s = struct("p::O", [mem("o", M.INT32, optional=True, must_understand=True)])
    materialize([s])
    codec = compile_codec(s)
    data = codec.encode(s.pyclass._rtbus_unchecked(7), False, True)
    # PID_EXTENDED|M, 8, M<<30 | id 0, length 4, value
    assert data[4:] == bytes.fromhex("017f0800 00000040 04000000 07000000")
    assert codec.decode(data).o == 7


@pytest.mark.parametrize("compile_codec", TWINS)
def test_typedef_array_of_arrays_decodes_as_one_array(compile_codec) -> None:
    row = M.AliasType("p::Row2", M.ArrayType(M.INT16, (2,)))
    s = struct("p::G2", [mem("g", M.ArrayType(row, (3,)))], extensibility="appendable")
    materialize([s])
    value = np.arange(6, dtype=np.int16).reshape(3, 2)
    codec = compile_codec(s)
    data = codec.encode(s.pyclass._rtbus_unchecked(value), True, True)
    assert data[4:] == bytes.fromhex("0c000000") + value.astype("<i2").tobytes()
    back = codec.decode(data).g
    assert back.shape == (3, 2) and np.array_equal(back, value)


def test_key_extractor_walks_the_plan_past_a_typedef_array_of_arrays() -> None:
    from rtbus import cdr

    row = M.AliasType("p::KRow", M.ArrayType(M.INT16, (2,)))
    s = struct("p::KG", [mem("g", M.ArrayType(row, (3,))), mem("names", M.ArrayType(
        M.AliasType("p::KName", M.ArrayType(M.StringType(), (2,))), (2,))),
        mem("k", M.StringType(), key=True)], extensibility="appendable")
    materialize([s])
    sample = s.pyclass._rtbus_unchecked(np.arange(6, dtype=np.int16).reshape(3, 2),
                                        [["a", "b"], ["c", "d"]], "key")
    ex = cdr.key_extractor(s)
    for rep in ("XCDR1", "XCDR2"):
        assert not ex.decodes_instead(rep)  # scanned, not decoded
        payload = cdr.encode(sample, rep)
        assert ex(payload) == cdr.key_hash(cdr.decode(s, payload)) == cdr.key_hash(sample)
