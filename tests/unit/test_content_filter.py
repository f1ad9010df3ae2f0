"""DDSSQL content filters (rtbus.content_filter): grammar, semantics, errors, type models."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus import idl
from rtbus.content_filter import ContentFilter, FilterError, compile_filter
from rtbus.errors import BadParameterError, RtbusError
from rtbus.shape import shape_type


class Color(enum.IntEnum):
    RED = 0
    GREEN = 1
    BLUE = 2


@dataclass
class Pos:
    x: float = 0.0
    y: float = 0.0


@dataclass
class Sample:
    x: int = 0
    name: str = ""
    flag: bool = False
    color: Color = Color.RED
    pos: Pos = field(default_factory=Pos)
    arr: list[int] = field(default_factory=lambda: [10, 20, 30])
    grid: list[list[int]] = field(default_factory=lambda: [[1, 2], [3, 4]])


def passes(expression: str, sample: Any, *params: str) -> bool:
    return compile_filter(expression, params)(sample)


# --- operators -------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, expected", [
    ("x = 5", True), ("x = 6", False),
    ("x <> 5", False), ("x <> 6", True), ("x != 6", True), ("x != 5", False),
    ("x < 6", True), ("x < 5", False), ("x <= 5", True), ("x <= 4", False),
    ("x > 4", True), ("x > 5", False), ("x >= 5", True), ("x >= 6", False),
    ("5 = x", True), ("6 > x", True), ("x = 5.0", True), ("x < 5.5", True),
    ("x = 0x5", True), ("x > -1", True), ("x>-1", True), ("x > -1e3", True),
    ("name = 'bob'", True), ("name < 'carl'", True), ("name > 'carl'", False),
    ("name = 'it''s'", False), ("flag = TRUE", True), ("flag = false", False),
    ("flag <> FALSE", True),
])
def test_relational_operators(expression: str, expected: bool) -> None:
    assert passes(expression, Sample(x=5, name="bob", flag=True)) is expected


def test_quote_escape_in_string_literal() -> None:
    assert passes("name = 'it''s'", Sample(name="it's"))


def test_type_mismatch_is_false_not_an_error() -> None:
    s = Sample(x=5, name="5", flag=True)
    for expression in ("x = '5'", "name = 5", "name > 1", "x <> 'a'", "flag = 1",
                       "x = TRUE", "name LIKE 5", "x LIKE '5'", "x BETWEEN 'a' AND 'z'"):
        assert not passes(expression, s), expression
    # UNKNOWN stays UNKNOWN under NOT: the sample still does not pass
    assert not passes("NOT (x = '5')", s)
    assert not passes("x NOT BETWEEN 'a' AND 'z'", s)
    assert passes("x = '5' OR x = 5", s)


def test_precedence_not_and_or() -> None:
    s = Sample(x=1, name="a")
    # AND binds tighter than OR: x = 1 OR (x = 2 AND name = 'b')
    assert passes("x = 1 OR x = 2 AND name = 'b'", s)
    assert not passes("(x = 1 OR x = 2) AND name = 'b'", s)
    # NOT binds tighter than AND: (NOT x = 2) AND name = 'a'
    assert passes("NOT x = 2 AND name = 'a'", s)
    assert not passes("NOT (x = 1 AND name = 'a')", s)
    assert passes("NOT x = 1 OR name = 'a'", s)
    assert not passes("NOT (x = 1 OR name = 'z')", s)
    assert passes("not not x = 1", s)
    assert passes("((x = 1)) and (((name = 'a')))", s)
    assert passes("x = 1 Or x = 2 aNd x = 3", s)


def test_between() -> None:
    for x, inside in ((0, False), (1, True), (5, True), (10, True), (11, False)):
        assert passes("x BETWEEN 1 AND 10", Sample(x=x)) is inside
        assert passes("x NOT BETWEEN 1 AND 10", Sample(x=x)) is not inside
    assert passes("x between 1 and 10 and x = 5", Sample(x=5))
    assert passes("name BETWEEN 'a' AND 'c'", Sample(name="bob"))
    assert passes("pos.x BETWEEN %0 AND %1", Sample(pos=Pos(x=0.5)), "0", "1.0")


@pytest.mark.parametrize("pattern, text, expected", [
    ("b%", "bob", True), ("b%", "abc", False), ("%o%", "bob", True), ("%", "", True),
    ("b_b", "bob", True), ("b_b", "boob", False), ("b__b", "boob", True),
    ("a.b%", "axb", False), ("a.b%", "a.bc", True), ("a+b", "aab", False),
    ("a+b", "a+b", True), ("(x)|[y]*", "(x)|[y]*", True), ("(x)|[y]*", "x", False),
    ("^a$", "^a$", True), ("^a$", "a", False), ("a\\d", "a\\d", True), ("a\\d", "a1", False),
    ("BOB", "bob", False), ("line_", "line\n", True), ("it''s%", "it's here", True),
])
def test_like(pattern: str, text: str, expected: bool) -> None:
    assert passes(f"name LIKE '{pattern}'", Sample(name=text)) is expected
    assert passes(f"name NOT LIKE '{pattern}'", Sample(name=text)) is not expected
    assert passes("name LIKE %0", Sample(name=text), f"'{pattern}'") is expected


def test_like_on_enum_label() -> None:
    assert passes("color LIKE 'B%'", Sample(color=Color.BLUE))
    assert not passes("color like 'R%'", Sample(color=Color.BLUE))


# --- parameters ------------------------------------------------------------------------------

def test_parameters_are_parsed_as_literals() -> None:
    s = Sample(x=16, name="bob", flag=True, pos=Pos(x=1.5))
    assert passes("x = %0", s, "16")
    assert passes("x = %0", s, "0x10")
    assert passes("x > %0", s, "-3")
    assert passes("pos.x = %0", s, "1.5")
    assert passes("pos.x < %0", s, "1e3")
    assert passes("name = %0", s, "'bob'")
    assert passes("name = %0", s, "bob")  # a bare word is text for a string field
    assert passes("flag = %0", s, "TRUE")
    assert not passes("flag = %0", s, "false")
    assert not passes("x = %0", s, "'16'")  # a quoted number is a string


def test_many_parameters_and_set_parameters() -> None:
    f = compile_filter("x >= %0 AND x <= %1 AND name = %2", ["1", "10", "'a'"])
    assert f.parameters == ("1", "10", "'a'")
    assert f(Sample(x=5, name="a"))
    f.set_parameters(["6", "10", "'a'"])
    assert f.parameters == ("6", "10", "'a'")
    assert not f(Sample(x=5, name="a"))
    f.set_parameters(["0", "10", "b"])
    assert f(Sample(x=5, name="b"))
    assert not f(Sample(x=5, name="a"))
    f.set_parameters(["0", "10", "'a'", "unused"])  # more than used is fine
    assert f(Sample(x=5, name="a"))


def test_parameter_like_pattern_changes_at_run_time() -> None:
    f = compile_filter("name LIKE %0", ["'a%'"])
    assert f(Sample(name="abc"))
    f.set_parameters(["'%c'"])
    assert f(Sample(name="abc"))
    f.set_parameters(["'b%'"])
    assert not f(Sample(name="abc"))


def test_too_few_parameters() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("x > %0 AND x < %3", ["1", "2"])
    assert info.value.column == 16
    assert "%3" in str(info.value)
    f = compile_filter("x > %0 AND x < %1", ["1", "9"])
    with pytest.raises(FilterError):
        f.set_parameters(["1"])
    assert f.parameters == ("1", "9")  # unchanged by the refused call
    assert f(Sample(x=5))
    with pytest.raises(FilterError):
        compile_filter("x = %0")


def test_malformed_parameter() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("x = 1 OR x = %0", ["'open"])
    assert info.value.column == 14
    assert "%0" in str(info.value)
    with pytest.raises(FilterError):
        compile_filter("x = %0", ["1 2"])
    with pytest.raises(BadParameterError):
        compile_filter("x = %0", "1")  # a str is not a sequence of parameters


# --- enums, nested fields, indexing, missing fields -------------------------------------------

def test_enums_by_label() -> None:
    s = Sample(color=Color.GREEN)
    assert passes("color = GREEN", s)
    assert not passes("color = BLUE", s)
    assert passes("color <> BLUE", s)
    assert passes("color > RED", s)
    assert passes("color < BLUE", s)
    assert passes("color BETWEEN RED AND GREEN", s)
    assert passes("color = 'GREEN'", s)
    assert passes("color = 1", s)  # an integer compares with the enum's value
    assert passes("color = %0", s, "GREEN")
    assert passes("color = %0", s, "'GREEN'")
    assert passes("color = %0", s, "1")
    assert not passes("color = PURPLE", s)  # not a label: does not match anything
    assert not passes("color <> PURPLE", s)


def test_nested_fields_and_indexing() -> None:
    s = Sample(pos=Pos(x=1.0, y=-2.5), arr=[10, 20, 30])
    assert passes("pos.x = 1", s)
    assert passes("pos.y < 0 AND pos.x > 0", s)
    assert passes("arr[0] = 10 AND arr[2] = 30", s)
    assert passes("grid[1][0] = 3", s)
    assert passes("arr[1] > pos.x", s)  # field against field
    f = compile_filter("pos.x > 0 AND arr[2] = 30 OR grid[0][1] = x OR name LIKE 'a%'")
    assert f.fields == {"pos.x", "arr[2]", "grid[0][1]", "x", "name"}
    # without a type model a bare word may be a field: it is read, and listed
    assert compile_filter("color = BLUE").fields == {"color", "BLUE"}


def test_missing_field_is_false() -> None:
    class Other:
        y = 3

    for expression in ("x = 1", "NOT x = 1", "x <> 1", "pos.z = 1", "arr[7] = 1",
                       "name[0] = 'a'", "x.y = 1", "x BETWEEN 1 AND 2", "x NOT LIKE 'a'",
                       "y = 3 AND x = 1", "NOT (y = 3 AND x = 1)"):
        assert not passes(expression, Other()), expression
    assert not passes("pos.z = 1", Sample())
    assert not passes("arr[3] = 1", Sample())
    assert not passes("x = 1", None)
    assert passes("y = 3 OR x = 1", Other())  # TRUE OR UNKNOWN is TRUE


def test_numpy_values_compare_as_numbers() -> None:
    np = pytest.importorskip("numpy")
    s = Sample(x=np.int32(4), arr=np.array([1, 2, 3], dtype=np.uint8), flag=np.bool_(True))
    assert passes("x = 4 AND arr[2] = 3 AND arr[1] < 2.5 AND flag = TRUE", s)


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, column, words", [
    ("x > %0 AND", 11, "after AND"),
    ("x > 1 OR", 9, "after OR"),
    ("x == 3", 3, "operator"),
    ("x ~ 3", 3, "operator"),
    ("x 3", 3, "comparison operator"),
    ("(x = 1", 7, "')'"),
    ("((x = 1) AND y = 2", 19, "')'"),
    ("x = 1)", 6, "end of the filter"),
    ("name = 'abc", 8, "unterminated string"),
    ("x = %100", 5, "%100"),
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("x BETWEEN 1 2", 13, "AND"),
    ("x BETWEEN 1", 12, "AND"),
    ("x NOT 3", 7, "BETWEEN or LIKE"),
    ("NOT", 4, "after NOT"),
    ("x = ", 5, "after ="),
    ("AND x = 1", 1, "condition"),
    ("pos. = 1", 6, "field name after '.'"),
    ("arr[x] = 1", 5, "integer index"),
    ("arr[1 = 1", 7, "']'"),
    ("x = 1 $ 2", 7, "unexpected character"),
    ("x = 12abc", 5, "malformed number"),
])
def test_malformed_expressions(expression: str, column: int, words: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expression, ["1"])
    err = info.value
    assert err.column == column, str(err)
    assert err.expression == expression
    assert words in str(err)
    assert str(err).startswith(f'filter "{expression}" at column {column}: ')
    assert isinstance(err, BadParameterError)
    assert isinstance(err, RtbusError)


# --- type models and generated IDL classes ---------------------------------------------------

IDL = """
enum Hue { RED, GREEN, BLUE };
struct P { double y; };
typedef P PAlias;
struct S {
  long x;
  string color;
  Hue hue;
  long arr[3];
  sequence<long, 4> seq;
  PAlias p;
};
"""


@pytest.fixture(scope="module")
def ns() -> Any:
    return idl.loads(IDL, "content_filter_test.idl")


@pytest.fixture(scope="module")
def model() -> Any:
    return idl.parse(IDL).types["S"]


def test_evaluates_generated_samples(ns: Any, model: Any) -> None:
    s = ns.S(x=3, color="BLUE", hue=ns.Hue.GREEN, arr=[1, 2, 3], seq=[7], p=ns.P(y=1.5))
    for type_model in (None, model, ns.S):
        def ok(expression: str, *params: str, tm: Any = type_model) -> bool:
            return compile_filter(expression, params, tm)(s)

        assert ok("x = 3 AND color = 'BLUE'")
        assert ok("color = BLUE")
        assert ok("hue = GREEN AND hue > RED")
        assert ok("hue = %0", "GREEN")
        assert ok("arr[2] = 3 AND seq[0] = 7 AND p.y > 1")
        assert not ok("seq[3] = 0")  # within the bound, past the length: missing
        assert ok("color LIKE 'B_U%' AND NOT color LIKE 'b%'")


def test_type_model_rejects_unknown_fields(model: Any) -> None:
    cases = [
        ("x = 1 AND colour = 'BLUE'", 11, "unknown field 'colour'"),
        ("p.z > 1", 3, "unknown field 'z'"),
        ("x = BLUE", 5, "unknown field 'BLUE'"),
        ("hue = PURPLE", 7, "label of enum Hue"),
        ("arr[3] = 1", 5, "out of range"),
        ("seq[4] = 1", 5, "out of range"),
        ("x[0] = 1", 3, "not an array"),
        ("x.y = 1", 3, "not a struct"),
        ("p = 1", 1, "not a single value"),
    ]
    for expression, column, words in cases:
        with pytest.raises(FilterError) as info:
            compile_filter(expression, type_model=model)
        assert info.value.column == column, (expression, str(info.value))
        assert words in str(info.value), str(info.value)
    f = compile_filter("x = 1 AND p.y < 2 AND hue = RED AND color = BLUE", type_model=model)
    assert f.fields == {"x", "p.y", "hue", "color"}


def test_type_model_must_be_a_struct() -> None:
    with pytest.raises(BadParameterError):
        compile_filter("x = 1", type_model=idl.parse("enum E { A };").types["E"])


def test_shape_suite_filters() -> None:
    shape = shape_type()
    blue = shape(color="BLUE", x=10, y=20, shapesize=20)
    red = shape(color="RED", x=10, y=20, shapesize=30)
    for params in (["'BLUE'"], ["BLUE"]):
        f = compile_filter("color = %0", params)
        assert f(blue) and not f(red)
        assert compile_filter("color = %0", params, shape)(blue)
    size = compile_filter("shapesize <= 20")
    assert size(blue) and not size(red)
    area = compile_filter("x BETWEEN %0 AND %1 AND y BETWEEN %2 AND %3",
                          ["0", "100", "0", "100"], shape)
    assert area(blue)
    area.set_parameters(["50", "100", "0", "100"])
    assert not area(blue)


def test_api_shape() -> None:
    f = compile_filter("x > %0", ["1"])
    assert isinstance(f, ContentFilter)
    assert f.expression == "x > %0"
    assert f.parameters == ("1",)
    assert isinstance(f(Sample(x=2)), bool)
    assert "x > %0" in repr(f)


# --- properties ------------------------------------------------------------------------------

ints = st.integers(min_value=-(2**40), max_value=2**40)


@settings(max_examples=200, deadline=None)
@given(a=ints, b=ints, x=ints)
def test_between_agrees_with_comparisons(a: int, b: int, x: int) -> None:
    s = Sample(x=x)
    params = [str(a), str(b)]
    between = compile_filter("x BETWEEN %0 AND %1", params)(s)
    assert between == compile_filter("x >= %0 AND x <= %1", params)(s) == (a <= x <= b)
    assert compile_filter("x NOT BETWEEN %0 AND %1", params)(s) is not between
    assert compile_filter("NOT (x < %0)", params)(s) == compile_filter("x >= %0", params)(s)
