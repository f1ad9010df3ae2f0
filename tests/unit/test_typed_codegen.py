"""Generated modules pass ``mypy --strict`` and give users precise field types."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from rtbus.idl.codegen import compile_paths

REPO = Path(__file__).resolve().parents[2]
ROS = REPO / "tests" / "data" / "idl" / "ros"

KINDS_IDL = """
module kinds {
  enum Mode { IDLE, @value(3) RUN };
  @bit_bound(8) bitmask Bits { A, B };
  typedef sequence<int32, 4> Ints;
  struct Item { string name; };
  union Choice switch (int16) { case 1: double num; case 2: string text; };
  struct All {
    @key int32 id;
    boolean flag;
    char letter;
    uint64 big;
    float ratio;
    string<8> label;
    Mode mode;
    @default(RUN) Mode running;
    Bits bits;
    sequence<float> floats;
    Ints ints;
    octet blob[4];
    double grid[2][3];
    sequence<string> names;
    sequence<Item> items;
    string words[2];
    Choice choice;
    @optional Item maybe;
    @optional int32 count;
  };
};
"""

SCRIPT = """\
from shape import ShapeType
from kinds import All, Choice, Item, Mode
from sensor_msgs.msg.Imu import Imu
from std_msgs.msg.Header import Header
from builtin_interfaces.msg.Time import Time

s = ShapeType(color="BLUE", x=1, y=2, shapesize=30)
reveal_type(s.x)
reveal_type(s.color)
reveal_type(s.additional_payload_size)
imu = Imu(header=Header(stamp=Time(sec=1, nanosec=2), frame_id="imu"))
reveal_type(imu.header)
reveal_type(imu.header.stamp.nanosec)
reveal_type(imu.orientation.w)
reveal_type(imu.orientation_covariance)
a = All(id=1, mode=Mode.RUN, items=[Item(name="x")], choice=Choice(num=1.0))
reveal_type(a.flag)
reveal_type(a.letter)
reveal_type(a.ratio)
reveal_type(a.mode)
reveal_type(a.bits)
reveal_type(a.floats)
reveal_type(a.ints)
reveal_type(a.blob)
reveal_type(a.grid)
reveal_type(a.names)
reveal_type(a.items)
reveal_type(a.words)
reveal_type(a.choice)
reveal_type(a.maybe)
reveal_type(a.count)
ShapeType(x="1")
import rtbus
def use(dp: rtbus.Participant) -> None:
    reader = dp.create_reader(dp.create_topic("Square", ShapeType))
    for sample in reader.take():
        reveal_type(sample.data)
    reveal_type(dp.create_writer(dp.create_topic("Square", ShapeType)))
"""


def array_of(scalar: str) -> str:
    """What mypy reveals for ``NDArray[numpy.<scalar>]``: numpy's stubs spell some scalars by
    their generic (``floating[_32Bit]``), some by name (``float64``)."""
    generic = {"float": "floating", "int": "signedinteger", "uint": "unsignedinteger"}[
        re.sub(r"\d+", "", scalar)]
    bits = re.sub(r"\D+", "", scalar)
    return (rf"numpy\.ndarray\[.*numpy\.dtype\[numpy\.({scalar}|{generic}\[.*_{bits}Bit\])"
            rf"\]\]")


# line of SCRIPT -> what mypy must reveal there (a regular expression)
EXPECTED = {
    8: r"(builtins\.)?int", 9: r"(builtins\.)?str",
    10: array_of("uint8"), 12: r"std_msgs\.msg\.Header\.Header", 13: r"(builtins\.)?int",
    14: r"(builtins\.)?float", 15: array_of("float64"), 17: r"(builtins\.)?bool",
    18: r"(builtins\.)?str", 19: r"(builtins\.)?float",
    20: r"kinds\.Mode", 21: r"kinds\.Bits",
    22: array_of("float32"), 23: array_of("int32"), 24: array_of("uint8"),
    25: array_of("float64"),
    26: r"(builtins\.)?list\[(builtins\.)?str\]", 27: r"(builtins\.)?list\[kinds\.Item\]",
    28: r"(builtins\.)?list\[(builtins\.)?str\]", 29: r"kinds\.Choice",
    30: r"(kinds\.Item \| None|Union\[kinds\.Item, None\])",
    31: r"((builtins\.)?int \| None|Union\[(builtins\.)?int, None\])",
    # the API is generic in the topic's type: samples come out typed
    37: r"shape\.ShapeType", 38: r"rtbus\.writer\.Writer\[shape\.ShapeType\]",
}


def test_generated_modules_pass_mypy_strict_with_precise_types(tmp_path: Path) -> None:
    (tmp_path / "kinds.idl").write_text(KINDS_IDL)
    out = tmp_path / "gen"
    written = compile_paths([REPO / "idl" / "shape.idl", tmp_path / "kinds.idl", ROS], out)
    (tmp_path / "use.py").write_text(SCRIPT)
    # strict for the script and every generated module; rtbus itself is checked by its own
    # (non-strict) configuration in the repository
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-rtbus.*]\n"
                                       "ignore_errors = True\n")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental",
         "--no-error-summary", "--show-error-codes", "use.py",
         *(str(w.path.relative_to(tmp_path)) for w in written)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "MYPYPATH": os.pathsep.join([str(REPO), str(out)])})
    lines = run.stdout.strip().splitlines()
    revealed = {}
    for line in lines:
        found = re.match(r'use\.py:(\d+): note: Revealed type is "(.*)"$', line)
        if found:
            revealed[int(found.group(1))] = found.group(2)
    for line_no, pattern in EXPECTED.items():
        assert line_no in revealed, (line_no, run.stdout, run.stderr)
        assert re.fullmatch(pattern, revealed[line_no]), (line_no, revealed[line_no])
    errors = [ln for ln in lines if ": error:" in ln]
    # the one deliberate mistake, and nothing in the generated modules
    assert len(errors) == 1 and errors[0].startswith("use.py:32: error: Argument \"x\" to "
                                                     "\"ShapeType\" has incompatible type"), \
        run.stdout


def test_mypy_finds_the_editable_install_without_help(tmp_path: Path) -> None:
    """``pip install -e .`` puts the tree on sys.path with a plain .pth (pyproject's
    package-dir), so mypy run anywhere finds rtbus and its types, no MYPYPATH needed."""
    (tmp_path / "use.py").write_text(
        "import rtbus\n\n\ndef f(dp: rtbus.Participant) -> None:\n"
        "    reveal_type(dp.create_topic)\n")
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-rtbus.*]\n"
                                       "ignore_errors = True\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini",
                          "--no-incremental", "use.py"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "rtbus.topic.Topic[T]" in run.stdout, run.stdout
