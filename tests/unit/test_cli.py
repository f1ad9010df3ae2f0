"""The rtbus command line, run as a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def rtbus(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rtbus", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_check_reports_ok_and_counts() -> None:
    run = rtbus("idl", "check", REPO / "idl" / "robot.idl", REPO / "idl" / "shape.idl")
    assert run.returncode == 0, run.stderr
    assert "robot.idl: ok (23 types, 2 constants)" in run.stdout
    assert "shape.idl: ok (1 types, 0 constants)" in run.stdout


def test_check_prints_file_line_col_and_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "good.idl"
    good.write_text("struct Fine { long x; };\n")
    bad = tmp_path / "bad.idl"
    bad.write_text("module m {\n  struct S {\n    long x;\n    strin y;\n  };\n};\n")
    run = rtbus("idl", "check", good, bad)
    assert run.returncode == 1
    assert "good.idl: ok" in run.stdout
    first = run.stderr.strip().splitlines()[0]
    assert first.startswith(f"{bad}:4:5: "), run.stderr
    assert "strin" in first


def test_check_follows_include_dirs(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "base.idl").write_text("module base { struct P { long x; }; };\n")
    top = tmp_path / "top.idl"
    top.write_text('#include "base.idl"\nstruct Q { base::P p; };\n')
    assert rtbus("idl", "check", top).returncode == 1
    run = rtbus("idl", "check", "-I", inc, top)
    assert run.returncode == 0, run.stderr


def test_compile_writes_importable_module(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    run = rtbus("idl", "compile", REPO / "idl" / "shape.idl", "-o", out)
    assert run.returncode == 0, run.stderr
    assert (out / "shape.py").is_file()
    probe = ("import shape; "
             "s = shape.ShapeType(color='BLUE', x=1, y=2, shapesize=30, "
             "additional_payload_size=b''); "
             "print(type(s).__rtbus_type__.name, s.color, s.shapesize)")
    use = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=out,
                         timeout=120)
    assert use.returncode == 0, use.stderr
    assert use.stdout.split() == ["ShapeType", "BLUE", "30"]


def test_compile_error_and_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.idl"
    bad.write_text("struct S { long x }; \n")
    run = rtbus("idl", "compile", bad, "-o", tmp_path / "out")
    assert run.returncode == 1 and run.stderr.startswith(f"{bad}:1:")
    assert not (tmp_path / "out" / "bad.py").exists()
    assert rtbus().returncode == 2
    assert rtbus("idl", "compile", bad).returncode == 2  # -o is required
    assert rtbus("idl", "frobnicate").returncode == 2


def test_subcommands_are_pluggable() -> None:
    from rtbus import cli

    @cli.subcommand
    def _hello(subparsers) -> None:  # type: ignore[no-untyped-def]
        p = subparsers.add_parser("hello")
        p.set_defaults(handler=lambda args: 42)

    try:
        assert cli.main(["hello"]) == 42
    finally:
        cli._REGISTRARS.remove(_hello)


def test_version_and_the_command_list() -> None:
    from rtbus import __version__, cli

    run = rtbus("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"rtbus {__version__}"
    help_text = rtbus("--help").stdout
    assert [r.__module__ for r in cli.COMMANDS] == ["rtbus.cli.demo", "rtbus.cli.idl"]
    assert "demo" in help_text and "idl" in help_text
