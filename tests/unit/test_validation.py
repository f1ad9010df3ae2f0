"""Construction-time validation: every bad sample names the exact field path and the rule."""

from __future__ import annotations

import enum
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtbus.idl
from rtbus.errors import ValidationError
from rtbus.types.model import (
    BOOLEAN,
    CHAR,
    FLOAT32,
    FLOAT64,
    INT8,
    INT32,
    INT64,
    OCTET,
    UINT16,
    UINT64,
    WCHAR,
    AliasType,
    ArrayType,
    BitFlag,
    BitmaskType,
    EnumLiteral,
    EnumType,
    Member,
    SequenceType,
    StringType,
    StructType,
    UnionCase,
    UnionType,
)
from rtbus.types.pyclasses import IdlUnion as IdlUnionBase
from rtbus.types.pyclasses import materialize

COLOR = EnumType("t::Color", [EnumLiteral("RED", 0), EnumLiteral("GREEN", 1),
                              EnumLiteral("BLUE", 5)])
FLAGS = BitmaskType("t::Flags", [BitFlag("A", 0), BitFlag("B", 3)])
POINT = StructType("t::Point", [Member("x", FLOAT64), Member("y", FLOAT64), Member("z", FLOAT64)])
ITEM = StructType("t::Item", [Member("name", StringType(8)), Member("qty", UINT16)])
POSE = StructType("t::Pose", [Member("position", ArrayType(FLOAT64, (3,))),
                              Member("origin", POINT)])
SHAPE = UnionType("t::Shape", INT32, [
    UnionCase([1], Member("radius", FLOAT64)),
    UnionCase([2, 3], Member("side", INT32)),
    UnionCase([], Member("label", StringType(4)), is_default=True),
])
NODEFAULT = UnionType("t::NoDefault", COLOR, [
    UnionCase([0], Member("red", INT32)),
    UnionCase([1], Member("green", StringType())),
])
CHARDISC = UnionType("t::CharDisc", CHAR, [UnionCase([ord("a")], Member("a", INT8))])
ALL = StructType("t::All", [
    Member("b", BOOLEAN), Member("c", CHAR), Member("w", WCHAR), Member("o", OCTET),
    Member("i8", INT8), Member("i32", INT32), Member("u64", UINT64), Member("f", FLOAT32),
    Member("d", FLOAT64), Member("s", StringType(5)), Member("ws", StringType(3, wide=True)),
    Member("color", COLOR), Member("flags", FLAGS),
    Member("pose", POSE), Member("items", SequenceType(ITEM, 3)),
    Member("ints", SequenceType(INT32, 4)), Member("blob", SequenceType(OCTET)),
    Member("matrix", ArrayType(FLOAT32, (2, 3))), Member("grid", ArrayType(StringType(), (2, 2))),
    Member("shape", SHAPE), Member("alias_i", AliasType("t::Small", INT8)),
    Member("chars", SequenceType(CHAR)), Member("opt", INT64, optional=True),
    Member("nested_seq", SequenceType(SequenceType(UINT16, 2))),
])
CLASSES = materialize([COLOR, FLAGS, POINT, ITEM, POSE, SHAPE, NODEFAULT, CHARDISC, ALL])
All, Point, Item, Pose, Shape = (CLASSES[n] for n in
                                 ("t::All", "t::Point", "t::Item", "t::Pose", "t::Shape"))
Color, Flags = CLASSES["t::Color"], CLASSES["t::Flags"]
NoDefault, CharDisc = CLASSES["t::NoDefault"], CLASSES["t::CharDisc"]


def good() -> dict:
    return dict(b=True, c="x", w="\u20ac", o=255, i8=-128, i32=7, u64=2**64 - 1, f=1.5, d=2,
                s="hello", ws="abc", color=Color.BLUE, flags=Flags.A | Flags.B,
                pose=Pose(position=[1, 2, 3], origin=Point(0, 0, 0)),
                items=[Item("a", 1), Item("b", 2)], ints=[1, 2, 3], blob=b"\x00\xff",
                matrix=[[1, 2, 3], [4, 5, 6]], grid=[["a", "b"], ["c", "d"]],
                shape=Shape(radius=1.0), alias_i=3, chars="ab", opt=None,
                nested_seq=[[1, 2], []])


def test_good_sample_is_converted() -> None:
    s = All(**good())
    assert s.d == 2.0 and type(s.d) is float
    assert s.pose.position.dtype == np.float64 and s.pose.position.tolist() == [1.0, 2.0, 3.0]
    assert s.ints.dtype == np.int32 and s.blob.dtype == np.uint8 and s.blob.tolist() == [0, 255]
    assert s.matrix.shape == (2, 3) and s.matrix.dtype == np.float32
    assert s.chars == ["a", "b"]  # char collections are lists of str, as the codec has them
    assert s.grid == [["a", "b"], ["c", "d"]]
    assert [a.tolist() for a in s.nested_seq] == [[1, 2], []]
    assert s.opt is None
    assert s == All(**good())
    big = dict(good(), pose={"position": [1, 2**70, 3], "origin": {"x": 0, "y": 0, "z": 0}},
               ints=[2**31 - 1, 2**31 - 1 + 0], u64=np.uint64(2**64 - 1))
    s = All(**big)
    assert s.pose.position[1] == 2.0**70 and s.pose.origin == Point(0, 0, 0)


BAD = [
    # (field, bad value, expected path, expected rule)
    ("i32", 2**31, "i32", "int32 out of range [-2147483648, 2147483647]: got 2147483648"),
    ("i32", True, "i32", "expected int for int32: got bool"),
    ("i32", 3.0, "i32", "expected int for int32: got float"),
    ("i32", "3", "i32", "expected int for int32: got str"),
    ("o", 256, "o", "octet out of range [0, 255]: got 256"),
    ("i8", -129, "i8", "int8 out of range [-128, 127]: got -129"),
    ("u64", -1, "u64", "uint64 out of range [0, 18446744073709551615]: got -1"),
    ("b", 1, "b", "expected bool for boolean: got int"),
    ("f", "1.0", "f", "expected float for float32: got str"),
    ("f", 1e39, "f", "float32 out of range: got 1e+39"),
    ("d", True, "d", "expected float for float64: got bool"),
    ("c", "xy", "c", "char must be a str of length 1: got length 2"),
    ("c", "\u20ac", "c", "char must be latin-1 (code point <= 255): got '\u20ac'"),
    ("c", 65, "c", "expected str of length 1 for char: got int"),
    ("w", "\U0001f600", "w", "wchar must be in the BMP (code point <= 65535): got '\U0001f600'"),
    ("s", "toolong", "s", "string bound exceeded (max 5 UTF-8 bytes): got 7"),
    ("s", "h\u00e9\u00e9o", "s", "string bound exceeded (max 5 UTF-8 bytes): got 6"),
    ("s", "a\x00b", "s", "string must not contain NUL: got 'a\\x00b'"),
    ("s", "a\ud800", "s", "string cannot be encoded: surrogates not allowed ('\\ud800' at "
                          "index 1)"),
    ("ws", "\udfff", "ws", "wstring cannot be encoded: surrogates not allowed ('\\udfff' at "
                           "index 0)"),
    ("s", b"bytes", "s", "expected str for string: got bytes"),
    ("ws", "abcd", "ws", "wstring bound exceeded (max 3 UTF-16 units): got 4"),
    ("color", 2, "color", "not a literal of enum t::Color: got 2"),
    ("color", "RED", "color", "expected t::Color or int for enum t::Color: got str"),
    ("flags", 2, "flags", "bits not in bitmask t::Flags (allowed mask 0x9): got 0x2"),
    ("pose", Point(1, 2, 3), "pose", "expected t::Pose: got Point"),
    ("pose", {"position": [1, 2, None], "origin": Point(0, 0, 0)}, "pose.position[2]",
     "expected float for float64: got NoneType"),
    ("pose", {"position": [1, 2, "x"], "origin": Point(0, 0, 0)}, "pose.position[2]",
     "expected float for float64: got str"),
    ("pose", {"position": [1, 2, 3], "origin": {"x": 1, "y": 2, "z": None}}, "pose.origin.z",
     "expected float for float64: got NoneType"),
    ("pose", {"position": [1, 2], "origin": Point(0, 0, 0)}, "pose.position",
     "expected array of length 3: got 2"),
    ("items", [Item("a", 1)] * 4, "items", "sequence bound exceeded (max 3 elements): got 4"),
    ("items", [Item("a", 1), Item("b", 2), {"name": "c", "qty": 70000}], "items[2].qty",
     "uint16 out of range [0, 65535]: got 70000"),
    ("items", [Item("a", 1), {"name": "123456789", "qty": 1}], "items[1].name",
     "string bound exceeded (max 8 UTF-8 bytes): got 9"),
    ("items", [Point(1, 2, 3)], "items[0]", "expected t::Item: got Point"),
    ("items", Item("a", 1), "items", "expected a list for sequence: got Item"),
    ("ints", [1, 2, 3, 4, 5], "ints", "sequence bound exceeded (max 4 elements): got 5"),
    ("ints", [1, 2**31, 3], "ints[1]", "int32 out of range [-2147483648, 2147483647]: "
                                       "got 2147483648"),
    ("ints", np.array([0, -(2**40)]), "ints[1]",
     "int32 out of range [-2147483648, 2147483647]: got -1099511627776"),
    ("ints", np.array([1.0, 2.5]), "ints[0]", "expected int for int32: got float"),
    ("ints", np.array([True, False]), "ints[0]", "expected int for int32: got bool"),
    ("ints", [[1, 2]], "ints", "expected a 1-dimensional sequence of int32: got shape (1, 2)"),
    ("ints", "123", "ints", "expected a sequence of int32: got str"),
    ("ints", 5, "ints", "expected a sequence of int32: got int"),
    ("blob", [0, 256], "blob[1]", "octet out of range [0, 255]: got 256"),
    ("matrix", [1, 2, 3, 4, 5, 6], "matrix", "expected array of shape (2, 3): got (6,)"),
    ("matrix", [[1, 2, 3], [4, 5, 1e40]], "matrix[1][2]", "float32 out of range: got 1e+40"),
    ("grid", [["a", "b"], ["c"]], "grid[1]", "expected array of length 2: got 1"),
    ("grid", [["a", "b"], ["c", 4]], "grid[1][1]", "expected str for string: got int"),
    ("shape", Point(1, 2, 3), "shape", "expected t::Shape: got Point"),
    ("shape", {"side": 2.5}, "shape.side", "expected int for int32: got float"),
    ("alias_i", 300, "alias_i", "int8 out of range [-128, 127]: got 300"),
    ("chars", ["a", "bc"], "chars[1]", "char must be a str of length 1: got length 2"),
    ("chars", "a\u20ac", "chars[1]", "char must be latin-1 (code point <= 255): got '\u20ac'"),
    ("opt", 2**63, "opt", "int64 out of range [-9223372036854775808, 9223372036854775807]: "
                          "got 9223372036854775808"),
    ("nested_seq", [[1, 2], [1, 2, 3]], "nested_seq[1]",
     "sequence bound exceeded (max 2 elements): got 3"),
    ("nested_seq", [[1], [-1]], "nested_seq[1][0]", "uint16 out of range [0, 65535]: got -1"),
]


@pytest.mark.parametrize(("field", "value", "path", "rule"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_sample_names_path_and_rule(field: str, value: object, path: str, rule: str) -> None:
    kwargs = good()
    kwargs[field] = value
    with pytest.raises(ValidationError) as info:
        All(**kwargs)
    assert (info.value.path, info.value.reason) == (path, rule)


def test_members_left_out_take_their_idl_defaults() -> None:
    kwargs = good()
    del kwargs["i32"]
    assert All(**kwargs).i32 == 0
    s = All()
    assert (s.b, s.c, s.w, s.o, s.i8, s.i32, s.u64, s.f, s.d, s.s, s.ws) == (
        False, "\x00", "\x00", 0, 0, 0, 0, 0.0, 0.0, "", "")
    assert s.color is Color.RED and type(s.flags) is Flags and s.flags == 0
    assert s.pose == Pose(position=[0, 0, 0], origin=Point(0, 0, 0))
    assert s.items == [] and s.chars == [] and s.nested_seq == [] and s.opt is None
    assert s.ints.dtype == np.int32 and s.ints.shape == (0,)
    assert s.blob.dtype == np.uint8 and s.blob.shape == (0,)
    assert s.matrix.dtype == np.float32 and s.matrix.shape == (2, 3) and not s.matrix.any()
    assert s.grid == [["", ""], ["", ""]] and s.alias_i == 0
    assert s.shape.discriminator not in (1, 2, 3) and s.shape.label == ""  # the default branch
    assert type(s.f) is float and type(s.d) is float and type(s.i32) is int


def test_default_values_are_never_shared() -> None:
    a, b = All(), All()
    a.ints.resize(3, refcheck=False)
    a.matrix[0, 0] = 1
    a.items.append(Item(name="x", qty=1))
    a.grid[0][0] = "changed"
    a.pose.origin.x = 5.0
    a.shape.value = "zz"
    assert b.ints.shape == (0,) and not b.matrix.any() and b.items == []
    assert b.grid == [["", ""], ["", ""]] and b.pose.origin.x == 0.0 and b.shape.value == ""
    assert a.pose is not b.pose and a.pose.position is not b.pose.position


def test_given_values_are_checked_as_strictly_as_ever() -> None:
    for field, value in [("i32", None), ("i32", True), ("d", "1"), ("s", None), ("pose", None),
                         ("ints", None), ("shape", None)]:
        with pytest.raises(ValidationError) as info:
            All(**{field: value})
        assert info.value.path == field


def test_signature_shows_the_defaults() -> None:
    import inspect

    params = inspect.signature(All).parameters
    assert params["i32"].default == 0 and params["s"].default == ""
    assert params["color"].default is Color.RED and params["opt"].default is None
    shown = {name: repr(p.default) for name, p in params.items()}
    assert shown["pose"] == "Pose()" and shown["items"] == "[]"
    assert shown["ints"] == "numpy.zeros(0, dtype=int32)"
    assert shown["matrix"] == "numpy.zeros((2, 3), dtype=float32)"
    assert shown["grid"] == "[['', ''], ['', '']]"
    assert "object at" not in str(inspect.signature(All))


def test_enum_int_becomes_member_and_foreign_enum_is_refused() -> None:
    kwargs = good()
    kwargs["color"] = 5
    assert All(**kwargs).color is Color.BLUE

    class Other(enum.IntEnum):
        BLUE = 5

    kwargs["color"] = Other.BLUE
    with pytest.raises(ValidationError, match=r"color: expected t::Color: got Other.BLUE"):
        All(**kwargs)
    kwargs["color"] = np.int16(1)
    assert All(**kwargs).color is Color.GREEN


def test_bitmask_int_becomes_flag() -> None:
    kwargs = good()
    kwargs["flags"] = 9
    flags = All(**kwargs).flags
    assert type(flags) is Flags and flags == Flags.A | Flags.B


def test_numpy_inputs_convert_without_loss() -> None:
    kwargs = good()
    kwargs.update(ints=np.array([1, 2], dtype=np.int8), i32=np.int64(5), d=np.float32(0.5),
                  blob=bytearray(b"ab"), matrix=np.ones((2, 3)))
    s = All(**kwargs)
    assert s.ints.dtype == np.int32 and s.ints.tolist() == [1, 2]
    assert type(s.i32) is int and s.i32 == 5 and s.d == 0.5
    assert s.blob.tolist() == [97, 98] and s.matrix.dtype == np.float32
    same = np.array([1, 2, 3], dtype=np.int32)
    kwargs["ints"] = same
    assert All(**kwargs).ints is same  # already right: no copy


def test_union_construction_rules() -> None:
    assert Shape(radius=2).discriminator == 1 and Shape(radius=2).value == 2.0
    assert Shape(3, 7).side == 7
    assert Shape(label="ab").discriminator not in (1, 2, 3)
    assert Shape(42, "x").label == "x"
    cases = [
        (lambda: Shape(1, "x"), "radius", "expected float for float64: got str"),
        (lambda: Shape(radius=None), "radius",
         "missing value for branch 'radius' of union t::Shape"),
        (lambda: Shape(2, radius=1.0), "discriminator",
         "discriminator 2 does not select branch 'radius' of union t::Shape"),
        (lambda: Shape(circle=1.0), "circle",
         "not a branch of union t::Shape; branches: ['label', 'radius', 'side']"),
        (lambda: Shape(2**40, 1), "discriminator",
         "int32 out of range [-2147483648, 2147483647]: got 1099511627776"),
        (lambda: Shape(value=1.0), "discriminator",
         "missing discriminator for union t::Shape: a value needs one"),
        (lambda: Shape(label="toolong"), "label",
         "string bound exceeded (max 4 UTF-8 bytes): got 7"),
        (lambda: NoDefault(5, 1), "value",
         "discriminator <Color.BLUE: 5> selects no branch of union t::NoDefault; value must be "
         "None: got int"),
        (lambda: NoDefault(7, 1), "discriminator", "not a literal of enum t::Color: got 7"),
        (lambda: CharDisc("ab", 1), "discriminator",
         "char must be a str of length 1: got length 2"),
    ]
    for make, path, rule in cases:
        with pytest.raises(ValidationError) as info:
            make()
        assert (info.value.path, info.value.reason) == (path, rule)
    assert NoDefault(5).value is None and NoDefault(1, "g").green == "g"
    assert Shape(1).radius == 0.0 and Shape(2).side == 0  # the branch's default value
    assert Shape().discriminator not in (1, 2, 3) and Shape().label == ""  # default branch
    assert NoDefault().discriminator is Color.BLUE and NoDefault().value is None  # no branch
    assert CharDisc(a=3).discriminator == "a" and CharDisc("a", 3).a == 3
    with pytest.raises(AttributeError, match="branch 'red' is not selected"):
        _ = NoDefault(1, "g").red


@settings(max_examples=200, deadline=None)
@given(st.integers())
def test_int32_accepts_exactly_its_range(value: int) -> None:
    kwargs = good()
    kwargs["ints"] = [value]
    inside = -(2**31) <= value < 2**31
    if inside:
        assert All(**kwargs).ints.tolist() == [value]
    else:
        with pytest.raises(ValidationError, match=r"^ints\[0\]: int32 out of range"):
            All(**kwargs)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 255), max_size=20))
def test_octet_sequences_from_list_bytes_and_array_agree(values: list[int]) -> None:
    outs = []
    for form in (values, bytes(values), np.array(values, dtype=np.int64), tuple(values)):
        kwargs = good()
        kwargs["blob"] = form
        outs.append(All(**kwargs).blob)
    assert all(o.dtype == np.uint8 and o.tolist() == values for o in outs)


FAST = StructType("t::Fast", [Member("i8", INT8), Member("f", FLOAT32), Member("s", StringType(4)),
                              Member("u", StringType()), Member("b", BOOLEAN)])
Fast = materialize([FAST])["t::Fast"]
_SCALARS = st.one_of(st.integers(-300, 300), st.floats(allow_nan=False, width=64), st.booleans(),
                     st.text(max_size=6), st.none())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(5)), _SCALARS)
def test_inlined_fast_path_agrees_with_validator(index: int, value: object) -> None:
    """The struct __init__ inlines the common valid case; it must accept exactly what the
    member validator accepts and store the same value."""
    from rtbus.types.validate import member_validator

    member = FAST.members[index]
    values = [0, 0.0, "", "", False]
    values[index] = value
    try:
        expected = member_validator(member)(value, member.name)
    except ValidationError as err:
        with pytest.raises(ValidationError) as info:
            Fast(*values)
        assert (info.value.path, info.value.reason) == (err.path, err.reason)
    else:
        stored = getattr(Fast(*values), member.name)
        assert stored == expected and type(stored) is type(expected)


def _corpus_params() -> list[object]:
    from tests.support.corpus import CORPUS

    return [pytest.param(e, id=e.name) for e in CORPUS]


@pytest.mark.parametrize("entry", _corpus_params())
def test_every_valid_value_of_the_corpus_is_accepted_unchanged(entry: object) -> None:
    """Values the codec produces (the shared strategies) pass validation and compare equal:
    construction never refuses or alters a valid sample."""
    from hypothesis import HealthCheck

    from tests.support.strategies import values_for

    cls = entry.pyclass  # type: ignore[attr-defined]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(values_for(entry.model))  # type: ignore[attr-defined]
    def check(sample: object) -> None:
        if isinstance(sample, IdlUnionBase):
            rebuilt = cls(sample.discriminator, sample.value)
        else:
            rebuilt = cls(**{f: getattr(sample, f) for f in cls._rtbus_fields})
        assert rebuilt == sample

    check()


def test_equality_of_a_deeply_nested_sample_does_not_recurse() -> None:
    """A recursive type nested far deeper than Python's recursion limit compares (equal, and
    unequal by a leaf at the bottom) instead of raising RecursionError."""
    mod = rtbus.idl.loads("module deep { struct Node; typedef sequence<Node> Kids; "
                          "struct Node { long v; Kids kids; }; };")
    Node = mod.deep.Node

    def chain(depth: int, leaf: int) -> object:
        node = Node(v=leaf, kids=[])
        for i in range(depth):
            node = Node(v=i, kids=[node])
        return node
    depth = 5 * sys.getrecursionlimit()
    assert chain(depth, 1) == chain(depth, 1)
    assert chain(depth, 1) != chain(depth, 2)
