"""The compiled CDR codec (ext/cdr.pyx) against Cyclone DDS bytes, the pure twin, and hostile input.

Each case declares a type twice, as a cyclonedds Python class and as an rtbus model, with
sample values built as cyclonedds objects and converted to rtbus objects by walking the model.
The compiled codec must write exactly the bytes cyclonedds writes (XCDR1 and XCDR2, both
endiannesses) and decode them back to an equal value. When the pure-Python twin exists, both
codecs must agree byte for byte. Every truncation of every valid payload must raise
DecodeError (never crash, hang or allocate past the input).
"""


import enum
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus import _ext
from rtbus.errors import DecodeError, EncodeError
from rtbus.types import model as M
from rtbus.types.pyclasses import IdlStruct as RtStruct
from rtbus.types.pyclasses import IdlUnion as RtUnion
from rtbus.types.pyclasses import materialize

ccdr = _ext.available("cdr")
# Parity tests fail, never skip, when a twin is missing: only a deliberate pure-Python run
# (RTBUS_PURE_PYTHON=1) has no compiled twin to compare.
pytestmark = pytest.mark.skipif(
    ccdr is None and os.environ.get("RTBUS_PURE_PYTHON") == "1",
    reason="RTBUS_PURE_PYTHON=1: the compiled twin is switched off")
if ccdr is None and os.environ.get("RTBUS_PURE_PYTHON") != "1":
    raise RuntimeError("compiled rtbus._ext.cdr is missing: build it (pip install -e .) -- the "
                       "parity tests compare it with the pure-Python twin")

cyclonedds_idl = pytest.importorskip("cyclonedds.idl")

import cyclonedds.idl.annotations as annotate  # noqa: E402
import cyclonedds.idl.types as t  # noqa: E402
from cyclonedds.idl import IdlBitmask, IdlEnum, IdlStruct, IdlUnion  # noqa: E402
from cyclonedds.idl._support import Endianness  # noqa: E402

from tests.support import paired_types as paired  # noqa: E402
from tests.support.model_builders import enum_model, mem, struct, union  # noqa: E402


def _pure_compile() -> Callable[[Any], Any] | None:
    try:
        from rtbus.cdr import pure  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(pure, "compile_codec", None)


# --- value helpers ------------------------------------------------------------------------------
def to_rtbus(typ: M.IdlType, value: Any) -> Any:
    """A cyclonedds value as the rtbus Python object protocol expects it (walks the model)."""
    typ = M.resolve(typ)
    if isinstance(typ, M.StructType):
        vals = []
        for m in typ.all_members():
            v = getattr(value, m.name)
            vals.append(None if (m.optional and v is None) else to_rtbus(m.type, v))
        return typ.pyclass._rtbus_unchecked(*vals)
    if isinstance(typ, M.UnionType):
        disc = value.discriminator
        if disc is None:  # a default-branch union built by keyword: cyclonedds' default label
            disc = value.__idl_default_discriminator__
        case = typ.case_for(int(disc.value if isinstance(disc, enum.Enum) else disc))
        inner = None if case is None or value.value is None else to_rtbus(case.member.type,
                                                                          value.value)
        return typ.pyclass._rtbus_unchecked(to_rtbus(typ.discriminator, disc), inner)
    if isinstance(typ, M.EnumType):
        return typ.pyclass(value.value if isinstance(value, enum.Enum) else value)
    if isinstance(typ, M.BitmaskType):
        return typ.pyclass(value.as_mask())
    if isinstance(typ, (M.SequenceType, M.ArrayType)):
        el = typ.element
        while isinstance(M.resolve(el), M.ArrayType):
            el = M.resolve(el).element
        el = M.resolve(el)
        if isinstance(el, M.PrimitiveType) and el is not M.CHAR:
            return np.array(value, dtype=el.dtype)
        return _map_nested(lambda v: to_rtbus(el, v), value)
    return value


def _map_nested(fn: Callable[[Any], Any], value: Any) -> Any:
    if isinstance(value, list):
        return [_map_nested(fn, v) for v in value]
    return fn(value)


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, (RtStruct, RtUnion)):
        return type(a) is type(b) and all(equal(getattr(a, f), getattr(b, f)) for f in (
            a._rtbus_fields if isinstance(a, RtStruct) else ("discriminator", "value")))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a:
        return b != b
    return (bool(a == b) and type(a) is type(b)) or (isinstance(a, enum.Enum) and a == b)


# --- the cases ----------------------------------------------------------------------------------
Case = tuple[M.IdlType, list[Any]]
CASES: dict[str, Callable[[], Case]] = {}


def case(fn: Callable[[], Case]) -> Callable[[], Case]:
    CASES[fn.__name__] = fn
    return fn


@case
def shape_type() -> Case:
    ShapeType, model = paired.shape_type()
    return model, [ShapeType("BLUE", 1, -2, 30), ShapeType("", 0, 0, 0),
                   ShapeType("GRÜN ✓", 2**31 - 1, -2**31, 7)]


@case
def all_primitives() -> Case:
    AllPrims, model = paired.all_primitives("p")
    return model, [
        AllPrims(True, 255, "z", -128, 255, -32768, 65535, -2**31, 2**32 - 1, -2**63,
                 2**64 - 1, 1.5, -2.25),
        AllPrims(False, 0, "\x00", 127, 0, 32767, 0, 2**31 - 1, 0, 2**63 - 1, 0, 0.0, 1e300)]


@case
def alignment_mix() -> Case:
    @dataclass
    class Mix(IdlStruct, typename="p::Mix"):
        a: t.uint8
        b: t.float64
        c: t.int16
        s: str
        d: t.int64
        e: t.uint8
        q: t.sequence[t.float64]
        f: t.uint8
        r: t.sequence[t.float64]

    model = struct("p::Mix", [mem("a", M.UINT8), mem("b", M.FLOAT64), mem("c", M.INT16),
                              mem("s", M.StringType()), mem("d", M.INT64), mem("e", M.UINT8),
                              mem("q", M.SequenceType(M.FLOAT64)), mem("f", M.UINT8),
                              mem("r", M.SequenceType(M.FLOAT64))])
    return model, [Mix(1, 2.0, 3, "xyz", 4, 5, [], 6, [7.0, 8.0]),
                   Mix(0, 0.5, -1, "", -4, 0, [1.0], 9, [])]


@case
def appendable_nested() -> Case:
    @dataclass
    @annotate.appendable
    class Inner(IdlStruct, typename="p::Inner"):
        v: t.uint16
        name: str

    @dataclass
    @annotate.appendable
    class Outer(IdlStruct, typename="p::Outer"):
        head: t.uint8
        inner: Inner
        items: t.sequence[Inner]
        tail: t.int64

    inner = struct("p::Inner", [mem("v", M.UINT16), mem("name", M.StringType())],
                   extensibility="appendable")
    model = struct("p::Outer", [mem("head", M.UINT8), mem("inner", inner),
                                mem("items", M.SequenceType(inner)), mem("tail", M.INT64)],
                   extensibility="appendable")
    return model, [Outer(1, Inner(2, "a"), [Inner(3, "bb"), Inner(4, "")], -5),
                   Outer(0, Inner(0, ""), [], 0)]


@case
def mutable_members() -> Case:
    @dataclass
    @annotate.mutable
    class Mu(IdlStruct, typename="p::Mu"):
        a: t.uint8
        b: t.int64
        c: t.int16
        d: t.int32
        s: str
        q: t.sequence[t.int32]
        q8: t.sequence[t.float64]
        q1: t.sequence[t.uint8]
        q2: t.sequence[t.int16]
        ar: t.array[t.int16, 3]
        names: t.sequence[str]
        annotate.key("a")

    model = struct("p::Mu", [
        mem("a", M.UINT8, key=True), mem("b", M.INT64), mem("c", M.INT16), mem("d", M.INT32),
        mem("s", M.StringType()), mem("q", M.SequenceType(M.INT32)),
        mem("q8", M.SequenceType(M.FLOAT64)), mem("q1", M.SequenceType(M.UINT8)),
        mem("q2", M.SequenceType(M.INT16)), mem("ar", M.ArrayType(M.INT16, (3,))),
        mem("names", M.SequenceType(M.StringType()))], extensibility="mutable")
    return model, [Mu(1, 2, 3, 4, "xy", [5, 6], [1.5], [1, 2, 3], [7], [7, 8, 9], ["a", "bc"]),
                   Mu(0, 0, 0, 0, "", [], [], [], [], [0, 0, 0], [])]


@case
def mutable_nested_and_hashid() -> Case:
    @dataclass
    class Pt(IdlStruct, typename="p::Pt"):
        x: t.float32
        y: t.float32

    @dataclass
    @annotate.mutable
    @annotate.autoid("hash")
    class MH(IdlStruct, typename="p::MH"):
        p: Pt
        tag: t.bounded_str[8]
        opt: Optional[t.int32]  # noqa: UP045 - cyclonedds needs typing.Optional

    pt = struct("p::Pt", [mem("x", M.FLOAT32), mem("y", M.FLOAT32)])
    model = struct("p::MH", [mem("p", pt), mem("tag", M.StringType(8)),
                             mem("opt", M.INT32, optional=True)],
                   extensibility="mutable", autoid="hash")
    return model, [MH(Pt(1.0, 2.0), "t", None), MH(Pt(-1.0, 0.0), "12345678", 42)]


@case
def optionals_final() -> Case:
    @dataclass
    class Opt(IdlStruct, typename="p::Opt"):
        a: Optional[t.int32]  # noqa: UP045
        b: Optional[t.float64]  # noqa: UP045
        c: t.uint8
        s: Optional[str]  # noqa: UP045
        d: Optional[t.uint8]  # noqa: UP045
        e: t.uint8

    model = struct("p::Opt", [mem("a", M.INT32, optional=True),
                              mem("b", M.FLOAT64, optional=True), mem("c", M.UINT8),
                              mem("s", M.StringType(), optional=True),
                              mem("d", M.UINT8, optional=True), mem("e", M.UINT8)])
    return model, [Opt(1, None, 3, "x", 7, 8), Opt(None, 2.0, 3, None, None, 0),
                   Opt(None, None, 0, None, None, 1)]


@case
def optionals_appendable() -> Case:
    @dataclass
    class Pt(IdlStruct, typename="p::Pt2"):
        x: t.int16

    @dataclass
    @annotate.appendable
    class OA(IdlStruct, typename="p::OA"):
        p: Optional[Pt]  # noqa: UP045
        q: t.sequence[t.int64]
        r: Optional[t.sequence[t.int16]]  # noqa: UP045

    pt = struct("p::Pt2", [mem("x", M.INT16)])
    model = struct("p::OA", [mem("p", pt, optional=True), mem("q", M.SequenceType(M.INT64)),
                             mem("r", M.SequenceType(M.INT16), optional=True)],
                   extensibility="appendable")
    return model, [OA(Pt(3), [1, 2], [4, 5, 6]), OA(None, [], None)]


@case
def arrays() -> Case:
    @dataclass
    class Cell(IdlStruct, typename="p::Cell"):
        v: t.uint8
        w: str

    @dataclass
    class Arr(IdlStruct, typename="p::Arr"):
        m: t.array[t.array[t.float32, 4], 3]
        b: t.array[t.uint8, 5]
        c: t.array[t.char, 3]
        cells: t.array[t.array[Cell, 2], 2]
        strs: t.array[str, 2]
        seqs: t.array[t.sequence[t.int32], 2]
        d: t.array[t.float64, 2]

    cell = struct("p::Cell", [mem("v", M.UINT8), mem("w", M.StringType())])
    model = struct("p::Arr", [
        mem("m", M.ArrayType(M.FLOAT32, (3, 4))), mem("b", M.ArrayType(M.UINT8, (5,))),
        mem("c", M.ArrayType(M.CHAR, (3,))), mem("cells", M.ArrayType(cell, (2, 2))),
        mem("strs", M.ArrayType(M.StringType(), (2,))),
        mem("seqs", M.ArrayType(M.SequenceType(M.INT32), (2,))),
        mem("d", M.ArrayType(M.FLOAT64, (2,)))])
    cells = [[Cell(1, "a"), Cell(2, "")], [Cell(3, "cc"), Cell(4, "d")]]
    return model, [Arr([[float(i * 4 + j) for j in range(4)] for i in range(3)],
                       [1, 2, 3, 4, 5], ["a", "b", "c"], cells, ["x", "yz"], [[1], [2, 3]],
                       [0.5, -0.5])]


@case
def sequences() -> Case:
    @dataclass
    class Sq(IdlStruct, typename="p::Sq"):
        f: t.sequence[t.float32]
        bl: t.sequence[bool]
        ch: t.sequence[t.char]
        bounded: t.sequence[t.int16, 4]
        strs: t.sequence[t.bounded_str[4]]
        nested: t.sequence[t.sequence[t.uint32]]
        u64: t.sequence[t.uint64]

    model = struct("p::Sq", [
        mem("f", M.SequenceType(M.FLOAT32)), mem("bl", M.SequenceType(M.BOOLEAN)),
        mem("ch", M.SequenceType(M.CHAR)), mem("bounded", M.SequenceType(M.INT16, 4)),
        mem("strs", M.SequenceType(M.StringType(4))),
        mem("nested", M.SequenceType(M.SequenceType(M.UINT32))),
        mem("u64", M.SequenceType(M.UINT64))])
    return model, [Sq([1.0, 2.5], [True, False, True], ["h", "i"], [1, 2, 3, 4], ["ab", ""],
                      [[1], [], [2, 3]], [2**64 - 1]),
                   Sq([], [], [], [], [], [], [])]


@case
def enums_and_bitmasks() -> Case:
    Color, color = paired.color("p")
    Level, level = paired.level("p")
    Perm, perm = paired.perm("p")

    @annotate.bit_bound(16)
    class Wide(IdlEnum, typename="p::Wide"):
        A = 1
        B = 2

    @dataclass
    @annotate.bit_bound(8)
    class Big(IdlBitmask, typename="p::Big"):
        LO: bool = False
        HI: bool = False
        annotate.position("HI", 7)

    @dataclass
    class En(IdlStruct, typename="p::En"):
        c: Color
        level: Level
        w: Wide
        p: Perm
        many: t.sequence[Level]
        big: Big
        arr: t.array[Color, 2]

    wide = enum_model("p::Wide", [("A", 1), ("B", 2)], bit_bound=16)
    big = M.BitmaskType("p::Big", [M.BitFlag("LO", 0), M.BitFlag("HI", 7)], bit_bound=8)
    model = struct("p::En", [mem("c", color), mem("level", level), mem("w", wide),
                             mem("p", perm), mem("many", M.SequenceType(level)), mem("big", big),
                             mem("arr", M.ArrayType(color, (2,)))])
    return model, [En(Color.BLUE, Level.HIGH, Wide.B, Perm(READ=True, EXEC=True),
                      [Level.LOW, Level.MID], Big(HI=True, LO=True), [Color.RED, Color.GREEN]),
                   En(Color.RED, Level.MID, Wide.A, Perm(), [], Big(), [Color.BLUE, Color.BLUE])]


@case
def unions() -> Case:
    IU, iu = paired.int_union("p")
    DU, du = paired.default_union("p")
    Kind, kind = paired.kind("p")

    @dataclass
    class Sq(IdlStruct, typename="p::Sqr"):
        side: t.float32

    @annotate.appendable
    class Shape(IdlUnion, discriminator=Kind, typename="p::Shape"):
        radius: t.case[Kind.CIRCLE, t.float32]
        square: t.case[[Kind.SQUARE, Kind.TRIANGLE], Sq]

    @dataclass
    @annotate.appendable
    class HasU(IdlStruct, typename="p::HasU"):
        i: IU
        d: DU
        s: Shape
        many: t.sequence[IU]

    sq = struct("p::Sqr", [mem("side", M.FLOAT32)])
    shape = union("p::Shape", kind, [([0], "radius", M.FLOAT32), ([1, 2], "square", sq)],
                  extensibility="appendable")
    model = struct("p::HasU", [mem("i", iu), mem("d", du), mem("s", shape),
                               mem("many", M.SequenceType(iu))], extensibility="appendable")
    return model, [
        HasU(IU(a=5), DU(a="x"), Shape(radius=2.0), [IU(b="q"), IU(c=1.25)]),
        HasU(IU(c=-3.0), DU(b=9.5), Shape(square=Sq(4.0)), []),
    ]


@case
def union_topic() -> Case:
    class TU(IdlUnion, discriminator=t.uint8, typename="p::TU"):
        a: t.case[0, t.int64]
        b: t.case[1, t.sequence[t.int32]]

    model = union("p::TU", M.UINT8, [([0], "a", M.INT64), ([1], "b", M.SequenceType(M.INT32))])
    return model, [TU(a=-7), TU(b=[1, 2, 3])]


@case
def typedefs_and_inheritance_flat() -> Case:
    Meters = t.typedef["p::Meters", t.float64]
    V = t.typedef["p::V", t.sequence[t.int16]]

    @dataclass
    class TD(IdlStruct, typename="p::TD"):
        m: Meters
        v: V

    meters = M.AliasType("p::Meters", M.FLOAT64)
    vv = M.AliasType("p::V", M.SequenceType(M.INT16))
    model = struct("p::TD", [mem("m", meters), mem("v", vv)])
    return model, [TD(1.25, [1, -1])]


@case
def typedef_array_of_array() -> Case:
    """``typedef bool Row[2]; Row grid[3];`` is one 3x2 array: no DHEADER, as cyclonedds."""
    Row = t.typedef["p::Row", t.array[bool, 2]]
    Name = t.typedef["p::Name", t.array[t.bounded_str[4], 2]]

    @dataclass
    class Grid(IdlStruct, typename="p::Grid"):
        grid: t.array[Row, 3]
        names: t.array[Name, 2]

    row = M.AliasType("p::Row", M.ArrayType(M.BOOLEAN, (2,)))
    name = M.AliasType("p::Name", M.ArrayType(M.StringType(4), (2,)))
    model = struct("p::Grid", [mem("grid", M.ArrayType(row, (3,))),
                               mem("names", M.ArrayType(name, (2,)))])
    return model, [Grid([[True, False], [False, False], [True, True]], [["a", "b"], ["", "cd"]])]


def _built(name: str) -> tuple[M.IdlType, list[Any]]:
    model, samples = CASES[name]()
    materialize([model])
    return model, samples


VARIANTS = [(False, Endianness.Little), (False, Endianness.Big), (True, Endianness.Little),
            (True, Endianness.Big)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bytes_and_values_match_cyclonedds(name: str) -> None:
    model, samples = _built(name)
    codec = ccdr.compile_codec(model)
    for sample in samples:
        ours = to_rtbus(model, sample)
        for v2, endian in VARIANTS:
            expected = sample.serialize(use_version_2=v2, endianness=endian)
            got = codec.encode(ours, v2, endian == Endianness.Little)
            assert got.hex(" ") == expected.hex(" "), (name, v2, endian, sample)
            back = codec.decode(expected)
            assert equal(ours, back), (name, v2, endian, ours, back)


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_and_pure_agree(name: str) -> None:
    compile_pure = _pure_compile()
    if compile_pure is None:
        pytest.fail("pure twin rtbus.cdr.pure.compile_codec is missing")
    model, samples = _built(name)
    compiled = ccdr.compile_codec(model)
    try:
        pure = compile_pure(model)
    except NotImplementedError:
        pytest.fail(f"pure twin does not support {name}")
    for sample in samples:
        ours = to_rtbus(model, sample)
        for v2 in (False, True):
            for little in (False, True):
                payload = compiled.encode(ours, v2, little)
                assert pure.encode(ours, v2, little) == payload
                assert equal(compiled.decode(payload), pure.decode(payload))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_truncation_raises_decode_error(name: str) -> None:
    model, samples = _built(name)
    codec = ccdr.compile_codec(model)
    for sample in samples:
        for v2, endian in VARIANTS:
            payload = sample.serialize(use_version_2=v2, endianness=endian)
            for cut in range(len(payload)):
                with pytest.raises(DecodeError):
                    codec.decode(payload[:cut])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200), name=st.sampled_from(sorted(CASES)))
def test_random_bytes_never_crash(data: bytes, name: str) -> None:
    model, _ = _built(name)
    codec = ccdr.compile_codec(model)
    for ident in (b"\x00\x01", b"\x00\x03", b"\x00\x07", b"\x00\x09", b"\x00\x0b", b"\x00\x06"):
        try:
            codec.decode(ident + b"\x00\x00" + data)
        except DecodeError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flip=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255),
       name=st.sampled_from(sorted(CASES)))
def test_corrupted_valid_payloads_never_crash(flip: int, value: int, name: str) -> None:
    model, samples = _built(name)
    codec = ccdr.compile_codec(model)
    for sample in samples:
        for v2, endian in VARIANTS:
            payload = bytearray(sample.serialize(use_version_2=v2, endianness=endian))
            pos = 4 + flip % max(1, len(payload) - 4)
            if pos < len(payload):
                payload[pos] = value
            try:
                codec.decode(bytes(payload))
            except DecodeError:
                pass


def test_huge_sequence_length_rejected_before_allocating() -> None:
    model = struct("p::Big1", [mem("v", M.SequenceType(M.FLOAT32))])
    materialize([model])
    codec = ccdr.compile_codec(model)
    with pytest.raises(DecodeError, match="truncated: 8589934588 bytes needed at payload offset 4"):
        codec.decode(b"\x00\x01\x00\x00" + (0x7FFFFFFF).to_bytes(4, "little") + b"\x00" * 8)
    with pytest.raises(EncodeError, match="1-dimensional"):
        codec.encode(model.pyclass._rtbus_unchecked(np.zeros((2, 2), dtype=np.float32)), True, True)
    nested = struct("p::Big2", [mem("v", M.SequenceType(M.StringType()))])
    materialize([nested])
    with pytest.raises(DecodeError, match="remain"):
        ccdr.compile_codec(nested).decode(b"\x00\x01\x00\x00" + (10**9).to_bytes(4, "little"))


def test_recursive_type_depth_is_limited() -> None:
    node = M.StructType("p::Node", [])
    node.members = [mem("v", M.INT32), mem("kids", M.SequenceType(node))]
    M.finalize_member_ids(node)
    materialize([node])
    codec = ccdr.compile_codec(node)
    leaf = node.pyclass._rtbus_unchecked(1, [])
    tree = node.pyclass._rtbus_unchecked(0, [leaf, node.pyclass._rtbus_unchecked(2, [leaf])])
    assert equal(codec.decode(codec.encode(tree, True, True)), tree)
    deep = b"".join([(7).to_bytes(4, "little") + (1).to_bytes(4, "little")] * 1000)
    with pytest.raises(DecodeError, match="nesting"):
        codec.decode(b"\x00\x01\x00\x00" + deep)


def test_float32_sequence_decodes_as_a_view_of_the_input() -> None:
    model = struct("p::Samples", [mem("n", M.UINT32), mem("v", M.SequenceType(M.FLOAT32))])
    materialize([model])
    codec = ccdr.compile_codec(model)
    data = np.arange(1000, dtype=np.float32)
    for little in (True, False):
        buf = bytearray(codec.encode(model.pyclass(n=3, v=data), True, little))
        out = codec.decode(buf)
        assert out.v.dtype == np.dtype("<f4" if little else ">f4")
        assert np.array_equal(out.v, data)
        assert np.shares_memory(out.v, np.frombuffer(buf, dtype=np.uint8))
        buf[-4:] = np.array([-1.0], dtype=out.v.dtype).tobytes()
        assert out.v[-1] == -1.0  # really the same memory
    view = memoryview(codec.encode(model.pyclass(n=3, v=data), False, True))
    assert np.shares_memory(codec.decode(view).v, np.frombuffer(view, dtype=np.uint8))
    # a payload inside a larger receive buffer (a datagram): offsets are the slice's own
    payload = codec.encode(model.pyclass(n=9, v=data[:5]), False, False)
    datagram = bytearray(b"\xee" * 13) + payload + bytearray(b"\xee" * 7)
    sliced = codec.decode(memoryview(datagram)[13:13 + len(payload)])
    assert sliced.n == 9 and np.array_equal(sliced.v, data[:5])


def test_encode_accepts_array_likes_and_byteswaps() -> None:
    model = struct("p::AL", [mem("v", M.SequenceType(M.INT16, 3)),
                             mem("a", M.ArrayType(M.FLOAT64, (2, 2)))])
    materialize([model])
    codec = ccdr.compile_codec(model)
    s1 = model.pyclass(v=[1, 2, 3], a=[[1.0, 2.0], [3.0, 4.0]])
    s2 = model.pyclass(v=np.array([1, 2, 3], dtype=">i2"), a=np.arange(1.0, 5.0).reshape(2, 2))
    for v2 in (False, True):
        for little in (False, True):
            assert codec.encode(s1, v2, little) == codec.encode(s2, v2, little)
    out = codec.decode(codec.encode(s1, True, False))
    assert out.a.shape == (2, 2) and out.a[1, 0] == 3.0
    with pytest.raises(EncodeError, match="bound"):
        codec.encode(model.pyclass._rtbus_unchecked([1, 2, 3, 4], [[0.0] * 2] * 2), True, True)
    with pytest.raises(EncodeError, match="4 elements"):
        codec.encode(model.pyclass._rtbus_unchecked([], [1.0]), True, True)


def test_encode_rejects_out_of_range_and_wrong_types() -> None:
    model = struct("p::Rng", [mem("a", M.UINT8), mem("s", M.StringType(3))])
    materialize([model])
    codec = ccdr.compile_codec(model)
    unchecked = model.pyclass._rtbus_unchecked  # bypass construction-time validation
    with pytest.raises(EncodeError, match=r"p::Rng\.a: .*uint8"):
        codec.encode(unchecked(256, ""), True, True)
    with pytest.raises(EncodeError, match=r"p::Rng\.s: .*UTF-8"):
        codec.encode(unchecked(1, "\ud800"), True, True)
    with pytest.raises(EncodeError, match=r"p::Rng\.a: cannot encode"):
        codec.encode(object(), True, True)
    f32 = struct("p::F32", [mem("f", M.FLOAT32)])
    materialize([f32])
    fcodec = ccdr.compile_codec(f32)
    with pytest.raises(EncodeError, match="float32"):
        fcodec.encode(f32.pyclass._rtbus_unchecked(1e300), True, True)
    assert fcodec.encode(f32.pyclass._rtbus_unchecked(float("inf")), True, True)[4:] == \
        np.array([np.inf], dtype="<f4").tobytes()
    with pytest.raises(EncodeError, match="bound"):
        codec.encode(unchecked(1, "abcd"), True, True)
    with pytest.raises(EncodeError, match="str"):
        codec.encode(unchecked(1, 5), True, True)


def test_appendable_accepts_shorter_and_longer_versions() -> None:
    """XCDR2 appendable: missing trailing members take defaults, extra ones are skipped."""
    v1 = struct("p::Ver", [mem("a", M.INT32)], extensibility="appendable")
    v2 = struct("p::Ver", [mem("a", M.INT32), mem("b", M.StringType()), mem("c", M.INT16)],
                extensibility="appendable")
    materialize([v1])
    materialize([v2])
    c1, c2 = ccdr.compile_codec(v1), ccdr.compile_codec(v2)
    old = c2.decode(c1.encode(v1.pyclass(a=5), True, True))
    assert (old.a, old.b, old.c) == (5, "", 0)
    new = c1.decode(c2.encode(v2.pyclass(a=6, b="xyz", c=3), True, True))
    assert new.a == 6
    kind = enum_model("p::VK", [("ONE", 1), ("TWO", 2), ("THREE", 3)])
    u = union("p::VU", kind, [([1], "one", M.INT32), ([2], "two", M.StringType())],
              default=("other", M.ArrayType(M.INT16, (2,))))
    v3 = struct("p::Ver", [mem("a", M.INT32), mem("u", u), mem("t", M.SequenceType(M.INT8))],
                extensibility="appendable")
    materialize([v3])
    newer = ccdr.compile_codec(v3).decode(c1.encode(v1.pyclass(a=7), True, True))
    assert newer.a == 7 and list(newer.t) == []
    assert newer.u.discriminator is kind.pyclass.THREE  # the implicit default label
    assert np.array_equal(newer.u.value, np.zeros(2, dtype=np.int16))


@pytest.mark.parametrize("keep", [0, 1, 2, 3])
def test_pure_and_compiled_agree_on_an_older_appendable_version(keep: int) -> None:
    """An older version may end inside what the newer one lays out as a run of primitives
    (``a, b, c`` move as one block): both codecs decode member by member up to the DHEADER's
    end and give the rest their defaults."""
    pure_compile = _pure_compile()
    assert pure_compile is not None, "the pure-Python twin is missing"
    prims = [("a", M.UINT32), ("b", M.INT16), ("c", M.FLOAT64)]
    old = struct("p::Run", [mem(n, k) for n, k in prims[:keep]], extensibility="appendable")
    new = struct("p::Run", [mem(n, k) for n, k in prims] + [mem("s", M.StringType())],
                 extensibility="appendable")
    materialize([old])
    materialize([new])
    values = {"a": 7, "b": -3, "c": 2.5}
    data = ccdr.compile_codec(old).encode(old.pyclass(**dict(list(values.items())[:keep])),
                                          True, True)
    assert pure_compile(old).encode(old.pyclass(**dict(list(values.items())[:keep])),
                                    True, True) == data
    got = [codec.decode(data) for codec in (ccdr.compile_codec(new), pure_compile(new))]
    want = [values[n] if i < keep else 0 for i, (n, _) in enumerate(prims)]
    for g in got:
        assert [g.a, g.b, g.c, g.s] == [*want, ""]


def test_mutable_skips_unknown_members_and_rejects_unknown_must_understand() -> None:
    wide = struct("p::MV", [mem("a", M.INT32), mem("x", M.StringType()), mem("b", M.INT16)],
                  extensibility="mutable")
    narrow = struct("p::MV", [mem("a", M.INT32), mem("b", M.INT16, id=2)],
                    extensibility="mutable")
    materialize([wide])
    materialize([narrow])
    cw, cn = ccdr.compile_codec(wide), ccdr.compile_codec(narrow)
    for v2 in (False, True):
        got = cn.decode(cw.encode(wide.pyclass(a=1, x="skip me", b=2), v2, True))
        assert (got.a, got.b) == (1, 2)
    mu = struct("p::MV", [mem("a", M.INT32), mem("x", M.StringType(), must_understand=True),
                          mem("b", M.INT16)], extensibility="mutable")
    materialize([mu])
    payload = ccdr.compile_codec(mu).encode(mu.pyclass(a=1, x="must", b=2), True, True)
    with pytest.raises(DecodeError, match="must-understand"):
        cn.decode(payload)


# --- the shared corpus (tests/support): random values of every corpus type ---------------------
def _corpus() -> list[Any]:
    try:
        from tests.support.corpus import CORPUS
    except ImportError:
        return []
    return list(CORPUS)


CORPUS_ENTRIES = {e.name: e for e in _corpus()}


@pytest.mark.parametrize("name", sorted(CORPUS_ENTRIES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corpus_bytes_and_values_match_cyclonedds(name: str, data: st.DataObject) -> None:
    from tests.support.cyclone_bridge import has_unselected_union, to_cyclone
    from tests.support.strategies import values_for

    entry = CORPUS_ENTRIES[name]
    codec = ccdr.compile_codec(entry.model)
    value = data.draw(values_for(entry.model))
    cyc = to_cyclone(value, entry.model)
    for v2, endian in VARIANTS:
        expected = cyc.serialize(use_version_2=v2, endianness=endian)
        got = codec.encode(value, v2, endian == Endianness.Little)
        assert got.hex(" ") == expected.hex(" "), (name, v2, endian, value)
        back = codec.decode(expected)
        if not has_unselected_union(value, entry.model):
            assert equal(value, back), (name, v2, endian, value, back)
        assert codec.encode(back, v2, endian == Endianness.Little) == expected


@pytest.mark.parametrize("name", sorted(CORPUS_ENTRIES))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corpus_truncations_raise_decode_error(name: str, data: st.DataObject) -> None:
    from tests.support.strategies import values_for

    entry = CORPUS_ENTRIES[name]
    codec = ccdr.compile_codec(entry.model)
    value = data.draw(values_for(entry.model))
    for v2 in (False, True):
        for little in (False, True):
            payload = codec.encode(value, v2, little)
            for cut in range(len(payload)):
                with pytest.raises(DecodeError):
                    codec.decode(payload[:cut])


@pytest.mark.parametrize("name", sorted(CORPUS_ENTRIES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corpus_compiled_and_pure_agree(name: str, data: st.DataObject) -> None:
    compile_pure = _pure_compile()
    if compile_pure is None:
        pytest.fail("pure twin rtbus.cdr.pure.compile_codec is missing")
    from tests.support.strategies import values_for

    entry = CORPUS_ENTRIES[name]
    compiled = ccdr.compile_codec(entry.model)
    try:
        pure = compile_pure(entry.model)
    except NotImplementedError:
        pytest.fail(f"pure twin does not support {name}")
    value = data.draw(values_for(entry.model))
    for v2 in (False, True):
        for little in (False, True):
            payload = compiled.encode(value, v2, little)
            assert pure.encode(value, v2, little) == payload
            assert equal(compiled.decode(payload), pure.decode(payload))


def test_wide_text_layout() -> None:
    """wstring: byte length + UTF-16 units, no NUL; wchar: 2 bytes; wchar collections: lists.

    cyclonedds-python has no wide types, so the expected bytes are written out by hand
    (XCDR2 little-endian, final): the same layout the pure twin produces.
    """
    model = struct("p::Wide", [mem("a", M.UINT8), mem("w", M.StringType(wide=True)),
                               mem("c", M.WCHAR), mem("ws", M.SequenceType(M.WCHAR)),
                               mem("b", M.UINT8)])
    materialize([model])
    codec = ccdr.compile_codec(model)
    sample = model.pyclass._rtbus_unchecked(1, "hé€😀", "☺", ["\x01", "\x02"], 2)
    payload = codec.encode(sample, True, True)
    assert payload.hex(" ") == ("00 07 00 00 01 00 00 00 0a 00 00 00 68 00 e9 00 ac 20 3d d8 00 "
                                "de 3a 26 02 00 00 00 01 00 02 00 02")
    assert equal(codec.decode(payload), sample)
    for v2 in (False, True):
        assert equal(codec.decode(codec.encode(sample, v2, False)), sample)
    mutable = struct("p::WideM", [mem("ws", M.SequenceType(M.WCHAR))], extensibility="mutable")
    materialize([mutable])
    mpayload = ccdr.compile_codec(mutable).encode(
        mutable.pyclass._rtbus_unchecked(["a", "b"]), True, True)
    # EMHEADER LC 4 (NEXTINT = 8 bytes): LC 5 would claim 4 + 2 bytes for two 2-byte chars
    assert mpayload[8:16].hex(" ") == "00 00 00 40 08 00 00 00"
