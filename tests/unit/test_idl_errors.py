"""Malformed IDL: each error names the file, the 1-based line and column of the offending
token, and says what was found and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus import idl
from rtbus.errors import IdlError

# (IDL text, line, col, fragment of the message)
CASES: dict[str, tuple[str, int, int, str]] = {
    "missing_semicolon_after_member": (
        "struct S {\n  long a\n  long b;\n};", 3, 3,
        "expected ';' after member declaration, found 'long'"),
    "missing_semicolon_after_struct": (
        "struct S { long a; }\nstruct T { long b; };", 2, 1,
        "expected ';' after struct definition, found 'struct'"),
    "unknown_type_in_scope": (
        "module a {\n module b {\n  struct S { Foo f; };\n };\n};", 3, 14,
        "unknown type 'Foo' in scope 'a::b'"),
    "unknown_type_global": (
        "struct S { string s; }; struct T { S::s x; };", 1, 36,
        "unknown type 'S::s' in the global scope"),
    "duplicate_member": (
        "struct S {\n long a;\n long a;\n};", 3, 7,
        "duplicate member 'a' in struct 'S' (already declared at line 2)"),
    "duplicate_member_from_base": (
        "struct A { long a; }; struct B : A { long a; };", 1, 43,
        "duplicate member 'a' in struct 'B' (already declared in the base struct)"),
    "duplicate_definition": (
        "struct S { long a; };\nstruct S { long b; };", 2, 8,
        "'S' is already defined at t.idl:1:8"),
    "names_differing_only_in_case": (
        "struct Foo { long a; }; struct foo { long b; };", 1, 32,
        "'foo' collides with 'Foo'"),
    "name_of_enclosing_module": (
        "module k {\n  struct K { long a; };\n};", 2, 10,
        "'K' has the name of its enclosing module 'k'"),
    "duplicate_case_label": (
        "union U switch (long) {\n  case 1: long a;\n  case 1: long b;\n};", 3, 8,
        "duplicate case label 1 in union 'U' (already used by branch 'a')"),
    "two_default_branches": (
        "union U switch (long) { default: long a; default: long b; };", 1, 42,
        "more than one 'default' branch"),
    "bad_discriminator_type": (
        "union U switch (float) { case 1: long a; };", 1, 17,
        "union discriminator must be an integer, char, boolean, octet or enum type, found "
        "float32"),
    "case_label_not_enum_literal": (
        "enum E { A };\nunion U switch (E) { case 1: long a; };", 2, 27,
        "expected a literal of enum 'E', found integer literal '1'"),
    "case_label_out_of_range": (
        "union U switch (octet) { case 256: long a; };", 1, 31,
        "value 256 is out of range for octet (expected 0..255)"),
    "key_on_union_branch": (
        "union U switch (long) { case 1: @key long a; };", 1, 33,
        "@key is not allowed on union branch 'a'"),
    "zero_string_bound": (
        "struct S { string<0> s; };", 1, 19, "string bound must be positive, found 0"),
    "negative_sequence_bound": (
        "struct S { sequence<long, -1> s; };", 1, 27,
        "sequence bound must be positive, found -1"),
    "zero_array_dimension": (
        "struct S {\n  long a[2][0];\n};", 2, 13, "array dimension must be positive, found 0"),
    "unclosed_sequence": (
        "struct S { sequence<long s; };", 1, 26, "expected '>' to close 'sequence<', found 's'"),
    "long_double_unsupported": (
        "struct S { long double d; };", 1, 12, "'long double' is not supported by rtbus"),
    "any_unsupported": (
        "struct S {\n  any a;\n};", 2, 3, "'any' is not supported by rtbus"),
    "fixed_unsupported": (
        "struct S { fixed<5,2> f; };", 1, 12, "'fixed' is not supported by rtbus"),
    "interface_unsupported": (
        "module m {\n  interface I { };\n};", 2, 3, "'interface' is not supported by rtbus"),
    "native_unsupported": (
        "native Handle;", 1, 1, "'native' is not supported by rtbus"),
    "const_out_of_range": (
        "const octet O = 256;", 1, 17, "value 256 is out of range for octet (expected 0..255)"),
    "const_division_by_zero": (
        "const long X = 10 / (5 - 5);", 1, 19, "division by zero in constant expression"),
    "const_float_for_integer": (
        "const long X = 1.5;", 1, 16,
        "expected an integer constant, found floating-point literal '1.5'"),
    "const_string_over_bound": (
        'const string<2> s = "abc";', 1, 21, "string of length 3 exceeds the bound 2"),
    "unknown_constant": (
        "module m { const long A = 1; };\nstruct S { long x[m::B]; };", 2, 19,
        "unknown constant 'm::B' in the global scope"),
    "duplicate_enumerator": (
        "enum E { A, B, A };", 1, 16, "'A' is already defined at t.idl:1:10"),
    "duplicate_enum_value": (
        "enum E { A, @value(0) B };", 1, 23,
        "enumerator 'B' has value 0, already used by 'A'"),
    "bitmask_position_past_bound": (
        "@bit_bound(8) bitmask B { @position(8) X };", 1, 40,
        "position 8 is outside the bit bound of 'B' (expected 0..7)"),
    "member_of_incomplete_type": (
        "struct S;\nstruct T { S s; };\nstruct S { long a; };", 2, 12,
        "'S' is an incomplete type here"),
    "forward_never_defined": (
        "module m {\n  struct S;\n};", 2, 10, "struct 'm::S' is forward-declared but never"),
    "unclosed_module": (
        "module m {\n  struct S { long a; };", 2, 24,
        "expected '}' to close module 'm' opened at line 1, found end of input"),
    "stray_semicolon": (
        "struct S { long a; };;", 1, 22,
        "expected a definition (module, struct, union, enum, bitmask, typedef or const), "
        "found ';'"),
    "unsigned_char": (
        "struct S { unsigned char c; };", 1, 21,
        "expected 'short' or 'long' after 'unsigned', found 'char'"),
    "keyword_as_member_name": (
        "struct S { long struct; };", 1, 17,
        "expected an identifier for the member name, found keyword 'struct'"),
    "duplicate_member_id": (
        "struct S { @id(1) long a; @id(1) long b; };", 1, 39,
        "members 'a' and 'b' of 'S' have the same member id 1"),
    "initializer_on_member": (
        "struct S { long a = 3; };", 1, 19, "expected ';' after member declaration, found '='"),
    "base_not_struct": (
        "typedef long T; struct S : T { long b; };", 1, 28,
        "base of struct 'S' must be a struct, found 'T'"),
    "conflicting_extensibility": (
        "@appendable @final struct S { long a; };", 1, 13,
        "conflicting extensibility: already appendable, found @final"),
    "bad_extensibility_value": (
        "@extensibility(WIDE) struct S { long a; };", 1, 1,
        "@extensibility expects one of FINAL, APPENDABLE, MUTABLE, found 'WIDE'"),
    "optional_key": (
        "struct S { @optional @key long x; };", 1, 32, "key member 'x' cannot be @optional"),
    "default_of_wrong_type": (
        'struct S { @default("x") long a; };', 1, 21,
        "expected an integer constant, found string literal 'x'"),
    "keylist_unknown_member": (
        "struct S { long a; };\n#pragma keylist S b\n", 2, 19,
        "'#pragma keylist S' names 'b', which is not a member of 'S'"),
    "unterminated_comment": (
        "struct S { long x; };\n /* never closed\n", 2, 2, "unterminated comment"),
    "multi_char_literal": (
        "const char C = 'ab';", 1, 16, "character literal must hold exactly one character"),
    "unterminated_string": (
        'const string s = "abc;', 1, 18, "unterminated string literal"),
    "bad_character": (
        "struct S { long $a; };", 1, 17, "unexpected character '$'"),
    "annotation_on_wrong_place": (
        "struct S { @value(3) long a; };", 1, 12, "@value is not allowed on member 'a'"),
    "empty_union": (
        "union U switch (long) { };", 1, 25, "expected at least one 'case' in union 'U'"),
    "stray_closing_brace_at_top_level": (
        "struct S { long a; };\n};", 2, 1,
        "expected a definition (module, struct, union, enum, bitmask, typedef or const), "
        "found '}'"),
    "missing_switch": (
        "union U { case 1: long a; };", 1, 9, "expected 'switch' after 'union U', found '{'"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_idl_reports_location_and_expectation(name: str) -> None:
    text, line, col, fragment = CASES[name]
    with pytest.raises(IdlError) as info:
        idl.parse(text, filename="t.idl")
    err = info.value
    assert (err.file, err.line, err.col) == ("t.idl", line, col), str(err)
    assert fragment in err.reason
    assert str(err).startswith(f"t.idl:{line}:{col}: ")


def test_enough_malformed_cases() -> None:
    assert len(CASES) >= 20


def test_error_in_included_file_points_at_that_file(tmp_path: Path) -> None:
    (tmp_path / "inc").mkdir()
    bad = tmp_path / "inc" / "types.idl"
    bad.write_text("module inc {\n  struct P {\n    long x\n  };\n};\n")
    top = tmp_path / "top.idl"
    top.write_text('// header\n#include "types.idl"\nstruct T { inc::P p; };\n')
    with pytest.raises(IdlError) as info:
        idl.parse_file(top, include_dirs=[tmp_path / "inc"])
    err = info.value
    assert (Path(err.file), err.line, err.col) == (bad, 4, 3)
    assert "expected ';' after member declaration, found '}'" in err.reason


def test_error_after_include_keeps_including_file_lines(tmp_path: Path) -> None:
    (tmp_path / "a.idl").write_text("struct A {\n  long a;\n};\n\n\n")
    top = tmp_path / "top.idl"
    top.write_text('#include "a.idl"\n\nstruct B { A a; Missing m; };\n')
    with pytest.raises(IdlError) as info:
        idl.parse_file(top)
    assert (Path(info.value.file), info.value.line, info.value.col) == (top, 3, 17)
    assert "unknown type 'Missing'" in info.value.reason


def test_error_through_macro_points_at_the_use() -> None:
    text = "#define BOUND 0\nstruct S {\n  string<BOUND> s;\n};"
    with pytest.raises(IdlError) as info:
        idl.parse(text, filename="m.idl")
    assert (info.value.line, info.value.col) == (3, 10)
    assert "string bound must be positive, found 0" in info.value.reason


def test_missing_file() -> None:
    with pytest.raises(IdlError, match="cannot read IDL file"):
        idl.parse_file("/nonexistent/x.idl")


_ROBOT = (Path(__file__).resolve().parents[2] / "idl" / "robot.idl").read_text()
_FRAGMENTS = ["{", "}", ";", "<", ">", ">>", "::", "@key", "@id(", "(", ")", "case", "default:",
              "struct", "union", "switch", "0", "-1", "'", '"', "/*", "#if", "#endif", "[", "]",
              ",", "=", "long", "sequence<", "string<", "enum", "module", "@",
              "\n#pragma keylist ", "\n#define ", "x"]


@st.composite
def mutated_idl(draw: st.DrawFn) -> str:
    text = _ROBOT
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text) - 1))
        if draw(st.booleans()):
            text = text[:pos] + text[pos + draw(st.integers(1, 8)):]
        else:
            text = text[:pos] + draw(st.sampled_from(_FRAGMENTS)) + text[pos:]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=mutated_idl())
def test_mutated_idl_fails_only_with_located_idl_errors(text: str) -> None:
    """Whatever the damage, the parser ends with a model or an IdlError that has a location
    (it once looped forever on a stray '}' at top level)."""
    import logging

    logger = logging.getLogger("rtbus.idl")
    level = logger.level
    logger.setLevel(logging.ERROR)  # mutations make many unknown-annotation warnings
    try:
        idl.parse(text, filename="f.idl")
    except IdlError as err:
        assert err.file == "f.idl" and err.line >= 1 and err.col >= 1
    finally:
        logger.setLevel(level)


def test_member_named_like_its_struct_is_a_portability_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.WARNING, logger="rtbus.idl"):
        mod = idl.parse("struct Point {\n  long point;\n};", filename="w.idl")
    assert [mb.name for mb in mod.types["Point"].members] == ["point"]  # type: ignore
    assert any("w.idl:2:8: member 'point' has the name of its enclosing struct 'Point'"
               in r.getMessage() for r in caplog.records)
