"""The IDL preprocessor: includes (search order, guards, #pragma once), object-like macros,
conditionals, #pragma keylist, and exact source locations through all of it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rtbus import idl
from rtbus.errors import IdlError
from rtbus.idl.lexer import EOF, IDENT, INT, PRAGMA_KEYLIST
from rtbus.idl.preprocessor import preprocess
from rtbus.types import model as M

DATA = Path(__file__).resolve().parents[1] / "data" / "idl"
INCLUDE = DATA / "include"


def idents(text: str, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(t.value) for t in preprocess(text, **kw).tokens if t.kind != EOF]


def test_project_with_includes_guards_and_pragma_once() -> None:
    mod = idl.parse_file(DATA / "project" / "main.idl", include_dirs=[INCLUDE])
    assert list(mod.types) == ["common::Name", "common::Stamp", "place::Thing", "app::Report"]
    assert mod.constants == {"units::METER": 1.0, "units::KILOMETER": 1000.0}
    thing = mod.types["place::Thing"]
    assert isinstance(thing, M.StructType)
    assert [(mb.name, mb.key) for mb in thing.members] == [("name", True), ("distance", False)]
    report = mod.types["app::Report"]
    assert report.members[2].type == M.StringType(32)  # type: ignore[union-attr]
    files = [Path(f).resolve() for f in mod.files]
    assert files[0] == (DATA / "project" / "main.idl").resolve()
    assert files.count((INCLUDE / "units.idl").resolve()) == 1  # #pragma once
    assert (DATA / "project" / "sub" / "local.idl").resolve() in files


def test_include_not_found_without_include_dirs() -> None:
    with pytest.raises(IdlError) as info:
        idl.parse_file(DATA / "project" / "main.idl")
    err = info.value
    assert Path(err.file).name == "local.idl" and (err.line, err.col) == (2, 2)
    assert "cannot find include file 'common_types.idl'" in err.reason


def test_quoted_include_prefers_the_including_directory(tmp_path: Path) -> None:
    (tmp_path / "dirs").mkdir()
    (tmp_path / "x.idl").write_text("struct Near { long a; };")
    (tmp_path / "dirs" / "x.idl").write_text("struct Far { long a; };")
    top = tmp_path / "top.idl"
    top.write_text('#include "x.idl"\n')
    assert list(idl.parse_file(top, include_dirs=[tmp_path / "dirs"]).types) == ["Near"]
    top.write_text("#include <x.idl>\n")  # angle brackets: include dirs first
    assert list(idl.parse_file(top, include_dirs=[tmp_path / "dirs"]).types) == ["Far"]


def test_include_cycle_without_guard_is_reported() -> None:
    with pytest.raises(IdlError) as info:
        idl.parse_file(INCLUDE / "cycle_a.idl")
    assert "include nesting deeper than" in info.value.reason
    assert Path(info.value.file).name in ("cycle_a.idl", "cycle_b.idl")


def test_tokens_keep_file_line_col_through_includes(tmp_path: Path) -> None:
    (tmp_path / "inc.idl").write_text("\n  struct Inner { long a; };\n")
    top = tmp_path / "top.idl"
    top.write_text('/* multi\n line */ #include "inc.idl"\nstruct Outer { Inner i; };\n')
    tokens = preprocess(top.read_text(), str(top)).tokens
    inner = next(t for t in tokens if t.value == "Inner")
    outer = next(t for t in tokens if t.value == "Outer")
    assert (Path(inner.file).name, inner.line, inner.col) == ("inc.idl", 2, 10)
    assert (Path(outer.file).name, outer.line, outer.col) == ("top.idl", 3, 8)


def test_object_like_defines_nested_and_undef() -> None:
    text = """#define A 3
#define B (A + 1)
#define NAME Thing
const long x = B;
#undef A
#define A 10
const long y = A;
struct NAME { long v[B]; };
"""
    mod = idl.parse(text)
    assert mod.constants == {"x": 4, "y": 10}
    assert mod.types["Thing"].members[0].type == M.ArrayType(M.INT32, (11,))  # type: ignore


def test_self_referencing_macro_does_not_loop() -> None:
    assert idents("#define X X\nX") == ["X"]


def test_define_with_line_continuation_and_predefined() -> None:
    assert idents("#define LONG_ONE 1 + \\\n 2\nLONG_ONE") == ["1", "+", "2"]
    assert idents("V", defines={"V": "42"}) == ["42"]


def test_ifdef_ifndef_else_elif_and_nesting() -> None:
    text = """#define FEATURE
#ifdef FEATURE
a1
#  ifndef FEATURE
never
#  else
a2
#  endif
#else
never
#endif
#ifndef MISSING
b1
#endif
#if defined(FEATURE) && !defined(MISSING)
c1
#elif 1
never
#else
never
#endif
#if defined MISSING
never
#elif FEATURE_LEVEL >= 2
never
#elif (3 * 4) % 5 == 2 || 0
d1
#endif
#if 0
  this is not IDL at all: 'unterminated
#  include "does_not_exist.idl"
#  error not reached
#endif
"""
    assert idents(text) == ["a1", "a2", "b1", "c1", "d1"]


def test_if_uses_macro_values() -> None:
    assert idents("#define LEVEL 3\n#if LEVEL > 2\nyes\n#else\nno\n#endif") == ["yes"]
    assert idents("#if UNDEFINED_NAME\nno\n#else\nyes\n#endif") == ["yes"]


def test_pragma_keylist_becomes_a_token_and_others_are_ignored(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rtbus.idl"):
        tokens = preprocess("#pragma keylist a::T x, y.z\n#pragma prefix \"omg.org\"\n"
                            "#pragma once\n").tokens
    kinds = [t.kind for t in tokens]
    assert kinds == [PRAGMA_KEYLIST, EOF]
    name, fields = tokens[0].value
    assert name == "a::T" and [f.value for f in fields] == ["x", "y.z"]
    assert not caplog.records  # unknown pragmas are silent


def test_nested_keylist_field_is_reported_unsupported() -> None:
    with pytest.raises(IdlError) as info:
        idl.parse("struct In { long a; }; struct S { In i; };\n#pragma keylist S i.a\n")
    assert "nested key 'i.a'" in info.value.reason and (info.value.line, info.value.col) == (2, 19)


def test_error_directive_and_unknown_directive() -> None:
    with pytest.raises(IdlError) as info:
        idl.parse("struct S { long a; };\n#error stop here, it's broken\n", filename="e.idl")
    assert (info.value.line, info.value.col) == (2, 2)
    assert "stop here, it's broken" in info.value.reason
    with pytest.raises(IdlError) as info:
        idl.parse("#frobnicate\n")
    assert "unknown preprocessor directive '#frobnicate'" in info.value.reason


@pytest.mark.parametrize(("text", "line", "col", "fragment"), [
    ("#if 1\nx\n", 1, 2, "unterminated '#if'"),
    ("#else\n", 1, 2, "'#else' without a matching"),
    ("#ifdef A\n#else\n#else\n#endif\n", 3, 2, "second '#else'"),
    ("#ifdef\n", 1, 2, "expected a macro name after '#ifdef'"),
    ("#if 1 / 0\n#endif\n", 1, 7, "division by zero"),
    ("#if (1\n#endif\n", 1, 5, "expected ')'"),
    ("#define F(a) a\n", 1, 9, "function-like macro 'F' is not supported"),
    ("#include\n", 1, 2, "expected \"file\" or <file>"),
])
def test_preprocessor_errors(text: str, line: int, col: int, fragment: str) -> None:
    with pytest.raises(IdlError) as info:
        preprocess(text, "p.idl")
    assert (info.value.file, info.value.line, info.value.col) == ("p.idl", line, col)
    assert fragment in info.value.reason


def test_literals_lexed_with_values() -> None:
    tokens = preprocess("0x1F 017 42 'a' '\\n' '\\x41' \"s\\t\" L\"w\" 1.5e3 .25").tokens
    values = [t.value for t in tokens if t.kind != EOF]
    assert values == [31, 15, 42, "a", "\n", "A", "s\t", "w", 1500.0, 0.25]
    assert [t.kind for t in tokens[:3]] == [INT, INT, INT]
    assert tokens[7].wide and tokens[0].kind != IDENT


def test_crlf_files_keep_lines_and_continuations() -> None:
    text = "#define N \\\r\n 3\r\nstruct S {\r\n  long a[N];\r\n  long b\r\n};\r\n"
    with pytest.raises(IdlError) as info:
        idl.parse(text, filename="crlf.idl")
    assert (info.value.line, info.value.col) == (6, 1)
    assert "expected ';' after member declaration, found '}'" in info.value.reason
    mod = idl.parse(text.replace("long b", "long b;"))
    assert mod.types["S"].members[0].type == M.ArrayType(M.INT32, (3,))  # type: ignore


def test_loads_and_load_with_include_dirs() -> None:
    ns = idl.load(DATA / "project" / "main.idl", include_dirs=[INCLUDE])
    report = ns.app.Report(stamp=ns.common.Stamp(sec=1, nsec=2),
                           thing=ns.place.Thing(name="n", distance=1.5), owner="me")
    assert report.thing.distance == 1.5 and ns.units.KILOMETER == 1000.0
    assert idl.loads("module q { const long Z = 4; };").q.Z == 4
