# ruff: noqa: UP045, F821  (cyclonedds needs typing.Optional; char labels are not forward refs)
"""The conformance corpus: IDL types declared once as cyclonedds classes.

Each type is written the way a cyclonedds-python user would write it, so Cyclone's own
serializer is the oracle for the bytes; :mod:`tests.support.cyclone_bridge` turns every class
into an rtbus model and Python class. ``CORPUS`` is the list the conformance and parity tests
iterate over (stable API: ``name``, ``cyclone_cls``, ``model``, ``pyclass``).
"""

from dataclasses import dataclass
from typing import Any, Optional

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as t
from cyclonedds.idl import IdlBitmask, IdlEnum, IdlStruct, IdlUnion

from . import paired_types
from .cyclone_bridge import model_for

# ---- enums and bitmasks ---------------------------------------------------------------

Color = paired_types.color("corpus").cyclone


@annotate.bit_bound(8)
class Small8(IdlEnum, typename="corpus::Small8"):
    S_A = 0
    S_B = 1
    S_C = 7


@annotate.bit_bound(16)
class Mid16(IdlEnum, typename="corpus::Mid16"):
    M_A = 0
    M_B = 300
    M_C = 4000


@annotate.bit_bound(32)
class Wide32(IdlEnum, typename="corpus::Wide32"):
    W_A = 5
    W_B = 100000


class Sparse(IdlEnum, typename="corpus::Sparse", default="SP_TEN"):
    SP_ONE = 1
    SP_TEN = 10
    SP_BIG = 70000


@dataclass
@annotate.bit_bound(8)
class Perm8(IdlBitmask, typename="corpus::Perm8"):
    read: bool
    write: bool
    execute: bool


@dataclass
@annotate.bit_bound(16)
class Flags16(IdlBitmask, typename="corpus::Flags16"):
    f_low: bool
    f_high: bool
    annotate.position("f_high", 12)


@dataclass
class Flags32(IdlBitmask, typename="corpus::Flags32"):
    g_a: bool
    g_z: bool
    annotate.position("g_z", 31)


@dataclass
@annotate.bit_bound(64)
class Flags64(IdlBitmask, typename="corpus::Flags64"):
    h_a: bool
    h_z: bool
    annotate.position("h_z", 30)


# ---- final structs ----------------------------------------------------------------------

AllPrimitives = paired_types.all_primitives("corpus", "AllPrimitives").cyclone


@dataclass
@annotate.final
class ShapeType(IdlStruct, typename="corpus::ShapeType"):
    color: t.bounded_str[128]
    annotate.key("color")
    x: t.int32
    y: t.int32
    shapesize: t.int32


@dataclass
@annotate.final
class Alignment(IdlStruct, typename="corpus::Alignment"):
    a: t.uint8
    b: t.float64
    c: t.int16
    d: t.int64
    e: t.char
    f: t.int32


@dataclass
@annotate.final
class Strings(IdlStruct, typename="corpus::Strings"):
    s: str
    bs: t.bounded_str[8]
    after: t.uint8
    s2: str


@dataclass
@annotate.final
class PrimSequences(IdlStruct, typename="corpus::PrimSequences"):
    lead: t.uint8
    s_i16: t.sequence[t.int16]
    s_f64: t.sequence[t.float64]
    s_u8: t.sequence[t.uint8]
    s_bool: t.sequence[bool]
    s_i32b: t.sequence[t.int32, 5]
    s_u64: t.sequence[t.uint64]
    s_f32: t.sequence[t.float32]


@dataclass
@annotate.final
class StringSequences(IdlStruct, typename="corpus::StringSequences"):
    names: t.sequence[str]
    tags: t.sequence[t.bounded_str[6], 4]
    chars: t.sequence[t.char]


@dataclass
@annotate.final
class PrimArrays(IdlStruct, typename="corpus::PrimArrays"):
    a_i32: t.array[t.int32, 3]
    a_f64: t.array[t.float64, 2]
    a_u8: t.array[t.uint8, 5]
    a_i16: t.array[t.int16, 3]
    a_bool: t.array[bool, 2]


@dataclass
@annotate.final
class MultiDim(IdlStruct, typename="corpus::MultiDim"):
    m2: t.array[t.array[t.int32, 3], 2]
    m3: t.array[t.array[t.array[t.float32, 2], 2], 2]
    tail: t.int8


@dataclass
@annotate.final
class Point(IdlStruct, typename="corpus::Point"):
    x: t.float64
    y: t.float64


@dataclass
@annotate.final
class Nested(IdlStruct, typename="corpus::Nested"):
    id: t.int16
    p: Point
    pts: t.array[Point, 2]
    label: str


@dataclass
@annotate.final
class SeqOfStructs(IdlStruct, typename="corpus::SeqOfStructs"):
    path: t.sequence[Point]
    bounded: t.sequence[Point, 3]


@dataclass
@annotate.final
class SeqOfSeqs(IdlStruct, typename="corpus::SeqOfSeqs"):
    grid: t.sequence[t.sequence[t.int32]]
    words: t.sequence[t.sequence[str], 3]


@dataclass
@annotate.final
class StringArrays(IdlStruct, typename="corpus::StringArrays"):
    names: t.array[str, 3]
    grid: t.array[t.array[t.bounded_str[4], 2], 2]


@dataclass
@annotate.final
class EnumMembers(IdlStruct, typename="corpus::EnumMembers"):
    color: Color
    s8: Small8
    m16: Mid16
    w32: Wide32
    sp: Sparse
    tail: t.uint8


@dataclass
@annotate.final
class BitmaskMembers(IdlStruct, typename="corpus::BitmaskMembers"):
    p: Perm8
    f16: Flags16
    f32: Flags32
    f64: Flags64
    tail: t.uint8


Meters = t.typedef["corpus::Meters", t.float64]
Name = t.typedef["corpus::Name", t.bounded_str[16]]
Samples = t.typedef["corpus::Samples", t.sequence[t.int32]]
Triple = t.typedef["corpus::Triple", t.array[t.int16, 3]]
PointList = t.typedef["corpus::PointList", t.sequence[Point]]


@dataclass
@annotate.final
class Typedefs(IdlStruct, typename="corpus::Typedefs"):
    dist: Meters
    name: Name
    samples: Samples
    triple: Triple
    points: PointList


@dataclass
@annotate.final
class Empty(IdlStruct, typename="corpus::Empty"):
    pass


# ---- optionals and externals ------------------------------------------------------------

@dataclass
@annotate.final
class Optionals(IdlStruct, typename="corpus::Optionals"):
    a: Optional[t.int32]
    b: Optional[str]
    c: t.uint8
    d: Optional[t.float64]
    e: Optional[Point]


@dataclass
@annotate.appendable
class AppendableOptionals(IdlStruct, typename="corpus::AppendableOptionals"):
    first: t.int8
    maybe: Optional[t.int64]
    seq: Optional[t.sequence[t.int16]]
    color: Optional[Color]


@dataclass
@annotate.final
class ExternalMember(IdlStruct, typename="corpus::ExternalMember"):
    head: t.int32
    body: Point
    annotate.external("body")
    text: str
    annotate.external("text")


# ---- keys -------------------------------------------------------------------------------

@dataclass
@annotate.final
class KeyInt(IdlStruct, typename="corpus::KeyInt"):
    id: t.int32
    annotate.key("id")
    value: t.float64


@dataclass
@annotate.final
class KeyMulti(IdlStruct, typename="corpus::KeyMulti"):
    a: t.uint8
    annotate.key("a")
    payload: str
    b: t.int64
    annotate.key("b")
    c: t.int16
    annotate.key("c")


@dataclass
@annotate.final
class KeyString(IdlStruct, typename="corpus::KeyString"):
    name: str
    annotate.key("name")
    v: t.int32


@dataclass
@annotate.final
class KeyBoundedString(IdlStruct, typename="corpus::KeyBoundedString"):
    name: t.bounded_str[8]
    annotate.key("name")
    v: t.int32


@dataclass
@annotate.final
class KeyLong(IdlStruct, typename="corpus::KeyLong"):
    a: t.int64
    annotate.key("a")
    b: t.int64
    annotate.key("b")
    c: t.int32
    annotate.key("c")


@dataclass
@annotate.final
class KeyInner(IdlStruct, typename="corpus::KeyInner"):
    x: t.int16
    annotate.key("x")
    y: t.int16
    z: t.int32
    annotate.key("z")


@dataclass
@annotate.final
class KeyNested(IdlStruct, typename="corpus::KeyNested"):
    tag: t.uint8
    annotate.key("tag")
    inner: KeyInner
    annotate.key("inner")
    data: t.sequence[t.uint8]


@dataclass
@annotate.final
class KeyArray(IdlStruct, typename="corpus::KeyArray"):
    ids: t.array[t.int16, 4]
    annotate.key("ids")
    e: Color
    annotate.key("e")
    note: str


@dataclass
@annotate.final
class KeyUnkeyedInner(IdlStruct, typename="corpus::KeyUnkeyedInner"):
    p: Point
    annotate.key("p")
    q: t.int8


@dataclass
@annotate.appendable
class KeyAppendable(IdlStruct, typename="corpus::KeyAppendable"):
    id: t.uint32
    annotate.key("id")
    name: t.bounded_str[4]
    annotate.key("name")
    v: t.float32


@dataclass
@annotate.mutable
class KeyMutable(IdlStruct, typename="corpus::KeyMutable"):
    value: t.float64
    id: t.int32
    annotate.key("id")
    annotate.member_id("id", 20)
    code: t.int16
    annotate.key("code")
    annotate.member_id("code", 3)


# ---- appendable ------------------------------------------------------------------------

@dataclass
@annotate.appendable
class AppendablePlain(IdlStruct, typename="corpus::AppendablePlain"):
    a: t.int8
    b: t.float64
    s: str


@dataclass
@annotate.appendable
class AppendableInner(IdlStruct, typename="corpus::AppendableInner"):
    v: t.int16
    w: t.sequence[t.uint8]


@dataclass
@annotate.final
class FinalWithAppendable(IdlStruct, typename="corpus::FinalWithAppendable"):
    pre: t.uint8
    inner: AppendableInner
    many: t.sequence[AppendableInner, 2]
    post: t.int64


# ---- mutable ----------------------------------------------------------------------------

@dataclass
@annotate.mutable
class MutablePrims(IdlStruct, typename="corpus::MutablePrims"):
    b: bool
    c: t.char
    i16: t.int16
    i32: t.int32
    i64: t.int64
    f32: t.float32
    f64: t.float64
    u8: t.uint8


@dataclass
@annotate.mutable
class MutableCollections(IdlStruct, typename="corpus::MutableCollections"):
    s: str
    s_u8: t.sequence[t.uint8]
    s_i16: t.sequence[t.int16]
    s_i32: t.sequence[t.int32]
    s_f64: t.sequence[t.float64]
    names: t.sequence[str]
    a_i32: t.array[t.int32, 2]
    pts: t.array[Point, 2]
    p: Point
    color: Color
    s8: Small8
    perm: Perm8


@dataclass
@annotate.mutable
class MutableOptionals(IdlStruct, typename="corpus::MutableOptionals"):
    a: Optional[t.int32]
    b: Optional[str]
    c: t.int16
    d: Optional[Point]


@dataclass
@annotate.mutable
@annotate.autoid("hash")
class MutableHashIds(IdlStruct, typename="corpus::MutableHashIds"):
    alpha: t.int32
    beta: str
    gamma: t.float64


@dataclass
@annotate.mutable
class MutableMustUnderstand(IdlStruct, typename="corpus::MutableMustUnderstand"):
    plain: t.int32
    critical: t.int32
    annotate.must_understand("critical")
    annotate.member_id("critical", 100)
    big: t.int64
    annotate.member_id("big", 0x0FFFFFF0)


@dataclass
@annotate.mutable
class MutableNestedMutable(IdlStruct, typename="corpus::MutableNestedMutable"):
    head: t.uint8
    inner: MutablePrims
    app: AppendableInner


@dataclass
@annotate.final
class FinalWithMutable(IdlStruct, typename="corpus::FinalWithMutable"):
    pre: t.int8
    inner: MutableOptionals
    post: t.float32


# ---- unions -----------------------------------------------------------------------------

class ByEnum(IdlUnion, discriminator=Color, typename="corpus::ByEnum"):
    red: t.case[Color.RED, t.int32]
    green: t.case[Color.GREEN, str]
    blue: t.case[Color.BLUE, Point]


class ByInt(IdlUnion, discriminator=t.int32, typename="corpus::ByInt"):
    small: t.case[[1, 2], t.int8]
    big: t.case[3, t.float64]
    words: t.case[7, t.sequence[str]]
    other: t.default[t.int64]


class ByShort(IdlUnion, discriminator=t.int16, typename="corpus::ByShort"):
    a: t.case[1, t.int64]
    b: t.case[2, t.uint8]


class ByChar(IdlUnion, discriminator=t.char, typename="corpus::ByChar"):
    letter_a: t.case['a', t.int32]
    letter_b: t.case['b', t.bounded_str[5]]


class ByBool(IdlUnion, discriminator=bool, typename="corpus::ByBool"):
    yes: t.case[True, t.float32]


class ByOctet(IdlUnion, discriminator=t.uint8, typename="corpus::ByOctet"):
    one: t.case[1, t.uint16]
    arr: t.case[2, t.array[t.int32, 2]]
    other: t.default[t.sequence[t.int8]]


@annotate.appendable
class AppendableUnion(IdlUnion, discriminator=t.int32, typename="corpus::AppendableUnion"):
    x: t.case[1, t.int64]
    y: t.case[2, str]


@dataclass
@annotate.final
class UnionHolder(IdlStruct, typename="corpus::UnionHolder"):
    pre: t.uint8
    e: ByEnum
    i: ByInt
    s: ByShort
    c: ByChar
    b: ByBool
    o: ByOctet
    post: t.int16


@dataclass
@annotate.appendable
class AppendableUnionHolder(IdlStruct, typename="corpus::AppendableUnionHolder"):
    u: AppendableUnion
    many: t.sequence[ByEnum]


@dataclass
@annotate.mutable
class MutableUnionHolder(IdlStruct, typename="corpus::MutableUnionHolder"):
    u: ByInt
    v: ByBool


# ---- the registry -----------------------------------------------------------------------

@dataclass
class CorpusEntry:
    """One conformance type: the cyclonedds class and its rtbus twin."""

    name: str
    cyclone_cls: Any
    model: Any  # rtbus StructType | UnionType, pyclass materialized
    pyclass: type


_TOP_LEVEL: list[Any] = [
    AllPrimitives, ShapeType, Alignment, Strings, PrimSequences, StringSequences, PrimArrays,
    MultiDim, Point, Nested, SeqOfStructs, SeqOfSeqs, StringArrays, EnumMembers,
    BitmaskMembers, Typedefs, Empty, Optionals, AppendableOptionals, ExternalMember, KeyInt,
    KeyMulti, KeyString, KeyBoundedString, KeyLong, KeyNested, KeyArray, KeyUnkeyedInner,
    KeyAppendable, KeyMutable, AppendablePlain, AppendableInner, FinalWithAppendable,
    MutablePrims, MutableCollections, MutableOptionals, MutableHashIds, MutableMustUnderstand,
    MutableNestedMutable, FinalWithMutable, ByEnum, ByInt, ByShort, ByChar, ByBool, ByOctet,
    AppendableUnion, UnionHolder, AppendableUnionHolder, MutableUnionHolder,
]


def _entries() -> list[CorpusEntry]:
    out = []
    for cls in _TOP_LEVEL:
        model = model_for(cls)
        out.append(CorpusEntry(cls.__name__, cls, model, model.pyclass))
    return out


CORPUS: list[CorpusEntry] = _entries()
BY_NAME: dict[str, CorpusEntry] = {e.name: e for e in CORPUS}

__all__ = ["CORPUS", "BY_NAME", "CorpusEntry"]
