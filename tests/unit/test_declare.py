"""Types declared in Python with annotations produce the same model as hand-built ones."""

import enum
from typing import Annotated, Any

import numpy as np
import pytest

from rtbus.errors import IdlError, ValidationError
from rtbus.types import declare as t
from rtbus.types import model as m


def describe(x: Any, seen: set[int] | None = None) -> Any:
    """A model as plain nested data, so two models compare (and diff) structurally."""
    seen = set() if seen is None else seen
    if isinstance(x, (m.PrimitiveType, m.StringType)):
        return repr(x) if isinstance(x, m.PrimitiveType) else ("string", x.bound, x.wide)
    if isinstance(x, m.SequenceType):
        return ("sequence", describe(x.element, seen), x.bound)
    if isinstance(x, m.ArrayType):
        return ("array", describe(x.element, seen), x.dims)
    if isinstance(x, m.AliasType):
        return ("alias", x.name, describe(x.target, seen))
    if isinstance(x, m.EnumType):
        return ("enum", x.name, [(lit.name, lit.value, lit.default) for lit in x.literals],
                x.bit_bound, x.extensibility)
    if isinstance(x, m.BitmaskType):
        return ("bitmask", x.name, [(f.name, f.position) for f in x.flags], x.bit_bound,
                x.extensibility)
    if id(x) in seen:
        return ("ref", x.name)
    seen = seen | {id(x)}
    if isinstance(x, m.StructType):
        return ("struct", x.name, x.extensibility, x.autoid, x.nested, x.topic, x.annotations,
                describe(x.base, seen) if x.base else None,
                [describe_member(mem, seen) for mem in x.members])
    if isinstance(x, m.UnionType):
        return ("union", x.name, describe(x.discriminator, seen), x.extensibility,
                x.key_discriminator, x.annotations,
                [(c.labels, c.is_default, describe_member(c.member, seen)) for c in x.cases])
    raise TypeError(x)


def describe_member(mem: m.Member, seen: set[int]) -> Any:
    return (mem.name, describe(mem.type, seen), mem.id, mem.key, mem.optional, mem.external,
            mem.must_understand, mem.default, mem.hashid, mem.annotations)


def test_shape_type_matches_hand_built_model() -> None:
    @t.struct(typename="shapes::ShapeType", extensibility="appendable")
    class ShapeType:
        """A shape."""

        color: t.Key[t.String[128]]
        x: t.int32
        y: t.int32
        shapesize: t.int32

        def area(self) -> int:
            return self.shapesize ** 2

    hand = m.StructType("shapes::ShapeType", [
        m.Member("color", m.StringType(128), id=0, key=True), m.Member("x", m.INT32, id=1),
        m.Member("y", m.INT32, id=2), m.Member("shapesize", m.INT32, id=3)],
        extensibility="appendable")
    assert describe(ShapeType.__rtbus_type__) == describe(hand)
    s = ShapeType(color="BLUE", x=1, y=2, shapesize=3)
    assert (s.color, s.x, s.area(), ShapeType.__doc__) == ("BLUE", 1, 9, "A shape.")
    assert ShapeType.__name__ == "ShapeType" and ShapeType.__module__ == __name__
    assert ShapeType.__rtbus_type__.pyclass is ShapeType
    assert ShapeType._rtbus_unchecked("RED", 1, 2, 3) == ShapeType("RED", 1, 2, 3)
    with pytest.raises(ValidationError, match="x: int32 out of range"):
        ShapeType(color="BLUE", x=2**40, y=2, shapesize=3)
    with pytest.raises(AttributeError):
        s.z = 1  # slots: no stray attributes


def test_every_building_block() -> None:
    @t.enum(typename="m::Color", default="GREEN", bit_bound=16)
    class Color(enum.IntEnum):
        RED = 0
        GREEN = 1
        BLUE = 7

    @t.bitmask(typename="m::Perm", bit_bound=8)
    class Perm(enum.IntFlag):
        READ = 1
        WRITE = 4

    Small = t.alias("m::Small", t.int8)

    @t.struct(typename="m::Point", nested=True)
    class Point:
        x: t.float64
        y: float

    @t.union(Color, typename="m::Value", extensibility="mutable", key_discriminator=True)
    class Value:
        i: t.Case[Color.RED, t.int32]
        s: Annotated[t.Case[Color.GREEN, t.String[8]], t.id(50)]
        p: t.Default[Point]

    @t.struct(typename="m::Everything", extensibility="mutable", autoid="hash",
              annotations={"custom": 1})
    class Everything:
        name: Annotated[str, t.key, t.bound(16)]
        ws: t.WString[4]
        flag: bool
        count: int
        c: t.char
        wc: t.wchar
        o: t.octet
        u: t.uint64
        f: t.float32
        small: Small
        color: Color = Color.BLUE
        perm: Perm = Perm.READ
        samples: t.Sequence[t.float32, 100] = []
        names: t.Sequence[t.string]
        matrix: t.Array[t.float64, 3, 3]
        points: list[Point]
        grid: t.Array[Point, 2]
        maybe: t.Optional[t.int16]
        maybe2: t.uint16 | None
        ext: t.External[Point]
        must: t.MustUnderstand[t.int32]
        fixed: Annotated[t.int32, t.id(7)]
        hashed: Annotated[t.int32, t.hashid("other")]
        metres: Annotated[t.float64, t.annotate(unit="m", min=0)]
        value: Value
        blob: bytes
        class_: t.int32

    color = m.EnumType("m::Color", [m.EnumLiteral("RED", 0), m.EnumLiteral("GREEN", 1, True),
                                    m.EnumLiteral("BLUE", 7)], bit_bound=16)
    perm = m.BitmaskType("m::Perm", [m.BitFlag("READ", 0), m.BitFlag("WRITE", 2)], bit_bound=8)
    point = m.StructType("m::Point", [m.Member("x", m.FLOAT64, id=0),
                                      m.Member("y", m.FLOAT64, id=1)], nested=True, topic=False)
    value = m.UnionType("m::Value", color, [
        m.UnionCase([0], m.Member("i", m.INT32, id=0)),
        m.UnionCase([1], m.Member("s", m.StringType(8), id=50)),
        m.UnionCase([], m.Member("p", point, id=51), is_default=True)],
        extensibility="mutable", key_discriminator=True)
    members = [
        m.Member("name", m.StringType(16), key=True), m.Member("ws", m.StringType(4, True)),
        m.Member("flag", m.BOOLEAN), m.Member("count", m.INT64), m.Member("c", m.CHAR),
        m.Member("wc", m.WCHAR), m.Member("o", m.OCTET), m.Member("u", m.UINT64),
        m.Member("f", m.FLOAT32), m.Member("small", m.AliasType("m::Small", m.INT8)),
        m.Member("color", color, default=7), m.Member("perm", perm, default=1),
        m.Member("samples", m.SequenceType(m.FLOAT32, 100), default=[]),
        m.Member("names", m.SequenceType(m.StringType())),
        m.Member("matrix", m.ArrayType(m.FLOAT64, (3, 3))),
        m.Member("points", m.SequenceType(point)), m.Member("grid", m.ArrayType(point, (2,))),
        m.Member("maybe", m.INT16, optional=True), m.Member("maybe2", m.UINT16, optional=True),
        m.Member("ext", point, external=True), m.Member("must", m.INT32, must_understand=True),
        m.Member("fixed", m.INT32, id=7), m.Member("hashed", m.INT32, hashid="other"),
        m.Member("metres", m.FLOAT64, annotations={"unit": "m", "min": 0}),
        m.Member("value", value), m.Member("blob", m.SequenceType(m.OCTET)),
        m.Member("class", m.INT32),
    ]
    hand = m.StructType("m::Everything", members, extensibility="mutable", autoid="hash",
                        annotations={"custom": 1})
    m.finalize_member_ids(hand)
    assert describe(Everything.__rtbus_type__) == describe(hand)
    assert Color.__rtbus_type__.pyclass is Color and Perm.__rtbus_type__.pyclass is Perm

    e = Everything(name="n", ws="w", flag=True, count=1, c="c", wc="w", o=1, u=2, f=1.0,
                   small=3, names=["a"], matrix=np.eye(3), points=[Point(x=1, y=2)],
                   grid=[Point(1, 2), {"x": 3, "y": 4}], ext=Point(0, 0), must=1, fixed=2,
                   hashed=3, metres=1.5, value=Value(s="hi"), blob=b"\x01", class_=5)
    assert e.color is Color.BLUE and e.perm == Perm.READ and e.samples.dtype == np.float32
    assert e.maybe is None and e.grid[1] == Point(3, 4) and e.value.s == "hi"
    assert e.value.discriminator is Color.GREEN and e.class_ == 5
    with pytest.raises(ValidationError) as info:
        Everything(**{**_fields(e), "value": {"s": "123456789"}})
    assert (info.value.path, info.value.reason) == (
        "value.s", "string bound exceeded (max 8 UTF-8 bytes): got 9")


def _fields(obj: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in obj._rtbus_fields}


def test_mutable_defaults_are_not_shared() -> None:
    @t.struct(typename="m::Defaults")
    class Defaults:
        ints: t.Sequence[t.int32] = np.array([1, 2], dtype=np.int32)
        names: t.Sequence[t.string] = ["a"]
        n: t.int8 = 5

    a, b = Defaults(), Defaults()
    a.ints[0] = 9
    a.names.append("b")
    assert b.ints.tolist() == [1, 2] and b.names == ["a"] and b.n == 5
    assert Defaults(n=1).n == 1


def test_inheritance_keeps_base_members_first() -> None:
    @t.struct(typename="m::Base", extensibility="appendable")
    class Base:
        a: t.int32

        def twice(self) -> int:
            return 2 * self.a

    @t.struct(typename="m::Derived", extensibility="appendable")
    class Derived(Base):
        b: t.String[4]
        c: Annotated[t.int32, t.id(10)]
        d: t.int32

    model = Derived.__rtbus_type__
    assert model.base is Base.__rtbus_type__
    assert [(x.name, x.id) for x in model.all_members()] == [("a", 0), ("b", 1), ("c", 10),
                                                             ("d", 11)]
    d = Derived(a=2, b="x", c=1, d=0)
    assert isinstance(d, Base) and d.twice() == 4 and Derived._rtbus_fields == ("a", "b", "c",
                                                                                "d")
    assert Derived(a=1, b="x", c=1).d == 0  # left out: the IDL default


def test_union_with_char_discriminator_and_multi_labels() -> None:
    @t.union(t.char, typename="m::ByChar")
    class ByChar:
        num: t.Case[ord("a"), ord("b"), t.int32]  # code points: linters read "a" as a name
        text: Annotated[t.string, t.case("z", t.DEFAULT)]

    model = ByChar.__rtbus_type__
    assert [(c.labels, c.is_default, c.member.id) for c in model.cases] == [
        ([97, 98], False, 0), ([122], True, 1)]
    assert ByChar("b", 3).num == 3 and ByChar(text="q").discriminator == "z"
    assert ByChar("k", "other").text == "other"


@pytest.mark.parametrize(("declare", "message"), [
    (lambda: t.struct(type("Bad", (), {"__annotations__": {"x": complex}})),
     "member 'x': <class 'complex'> is not an IDL type"),
    (lambda: t.struct(type("Bad", (), {"__annotations__": {"x": Annotated[t.int32, t.key],
                                                           "y": Annotated[t.int32, t.id(0)]}})),
     "members 'x' and 'y' of 'Bad' have the same member id 0"),
    (lambda: t.struct(type("Bad", (), {"__annotations__": {"x": t.Key[t.Optional[t.int32]]}})),
     "key member 'x' cannot be optional"),
    (lambda: t.union(t.int32)(type("Bad", (), {"__annotations__": {"x": t.int32}})),
     "branch 'x' needs labels"),
    (lambda: t.union(t.int32)(type("Bad", (), {"__annotations__": {
        "x": t.Case[1, t.int32], "y": t.Case[1, t.int32]}})),
     "duplicate case label 1"),
    (lambda: t.bitmask(enum.IntFlag("Bad", {"A": 3})), "flag A = 0x3 is not a single bit"),
    (lambda: t.enum(enum.IntEnum("Bad", {"A": 1}), default="B"), "default literal 'B'"),
])
def test_declaration_errors(declare: Any, message: str) -> None:
    with pytest.raises(IdlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        declare()


def test_bad_type_arguments() -> None:
    with pytest.raises(TypeError, match="string bound must be a positive int"):
        t.String[0]
    with pytest.raises(TypeError, match=r"Array\[T, d0, ...\]"):
        t.Array[t.int32]
    with pytest.raises(TypeError, match="union discriminator"):
        t.union(t.float64)
    with pytest.raises(TypeError, match=r"t\.bound"):
        t.idl_type(Annotated[t.int32, t.bound(3)])


def test_public_spelling() -> None:
    from rtbus import idl_types

    assert idl_types is t and idl_types.struct is t.struct


def test_idl_default_marker_enum_defaults_and_checked_defaults() -> None:
    class Level(enum.IntEnum):
        LOW = 0
        HIGH = 1

    t.enum(Level, typename="m::Level")

    @t.struct(typename="m::Marked")
    class Marked:
        a: t.int32 = t.IDL_DEFAULT  # for type checkers: may be left out; for IDL: no @default
        level: Level = Level.HIGH
        b: t.String[3] = "abc"

    members = {mem.name: mem for mem in Marked.__rtbus_type__.members}
    assert members["a"].default is None
    assert members["level"].default == 1 and type(members["level"].default) is int
    s = Marked()
    assert (s.a, s.level, s.b) == (0, Level.HIGH, "abc") and s.level is Level.HIGH
    with pytest.raises(IdlError, match="default of member b: string bound exceeded"):
        @t.struct(typename="m::BadDefault")
        class BadDefault:
            b: t.String[2] = "abc"
