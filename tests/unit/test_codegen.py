"""Ahead-of-time codegen: the generated module rebuilds exactly the model the parser builds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from rtbus import idl
from rtbus.errors import ValidationError
from rtbus.idl.codegen import compile_file, dependency_order, generate, python_names
from rtbus.types import declare
from rtbus.types import model as m

from .test_declare import describe

REPO = Path(__file__).resolve().parents[2]


def import_generated(path: Path) -> ModuleType:
    name = f"rtbus_generated_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def generated_model(obj: Any) -> m.IdlType:
    model = getattr(obj, "__rtbus_type__", None)
    return model if model is not None else declare.idl_type(obj)


def assert_same_models(parsed: idl.IdlModule, generated: ModuleType) -> None:
    assert set(generated.IDL_NAMES) == set(parsed.types)
    for name, t in parsed.types.items():
        assert describe(generated_model(generated.IDL_NAMES[name])) == describe(t), name


@pytest.mark.parametrize("idl_file", ["robot.idl", "shape.idl"])
def test_shipped_idl_round_trips(idl_file: str, tmp_path: Path) -> None:
    source = REPO / "idl" / idl_file
    written = compile_file(source, tmp_path)
    assert written == tmp_path / f"{source.stem}.py"
    generated = import_generated(written)
    assert_same_models(idl.parse_file(source), generated)


def test_generated_robot_classes_work(tmp_path: Path) -> None:
    robot = import_generated(compile_file(REPO / "idl" / "robot.idl", tmp_path))
    assert robot.MAX_JOINTS == 12 and robot.VERSION == "1.2"
    pose = robot.Pose(robot.Vector3(1, 2, 3), robot.Quaternion(x=0, y=0, z=0))
    assert pose.orientation.w == 1.0  # @default(1.0)
    plan = robot.Plan(robot_id="r2", plan_id=7,
                      goal=robot.Goal(path=[robot.Waypoint(pose=pose, alternatives=[])]))
    assert plan.goal.path[0].pose == pose
    cmd = robot.Command(setpoint=[0.5] * 12)
    assert cmd.discriminator is robot.CommandKind.VELOCITY and cmd.value.dtype == np.float64
    with pytest.raises(ValidationError) as info:
        robot.Command(setpoint=[0.0] * 13)
    assert (info.value.path, info.value.reason) == (
        "setpoint", "sequence bound exceeded (max 12 elements): got 13")
    status = robot.DetailedStatus(robot_id="r", mode="auto", faults=robot.Faults.ESTOP,
                                  joints=[])
    assert [x.id for x in robot.DetailedStatus.__rtbus_type__.all_members()] == [0, 10, 20, 30,
                                                                                  31]
    assert status.message is None and isinstance(status, robot.Status)


def test_generated_members_all_have_defaults_and_show_them(tmp_path: Path) -> None:
    import inspect

    source = tmp_path / "defaults.idl"
    source.write_text("module d { enum Mode { IDLE, RUN }; struct P { double x; };\n"
                      "struct S { long n; @default(RUN) Mode mode; @optional long o; P p;\n"
                      "           sequence<float> f; string<4> s; }; };\n")
    written = compile_file(source, tmp_path / "out")
    text = written.read_text()
    assert "    n: _t.int32 = _t.IDL_DEFAULT" in text and "= Mode.RUN" in text
    assert "o: _t.Optional[_t.int32] = None" in text
    generated = import_generated(written)
    assert_same_models(idl.parse_file(source), generated)
    s = generated.S()
    assert (s.n, s.mode, s.o, s.p, s.s) == (0, generated.Mode.RUN, None, generated.P(), "")
    assert s.f.dtype == np.float32 and s.f.shape == (0,)
    assert str(inspect.signature(generated.S)) == (
        "(n=0, mode=<Mode.RUN: 1>, o=None, p=P(), f=numpy.zeros(0, dtype=float32), s='')")


IDL_EDGE_CASES = """
module a { struct Point { long x; }; };
module b {
  struct Point { @key short y; };
  @mutable @autoid(HASH) struct Hashed { long first; @hashid("alt") long second;
                                         @id(5) long third; };
  @mutable union U switch (char) { case 'a': case 'b': long x; default: a::Point p; };
  @autoid(HASH) union H switch (long) { case 1: long x; case 2: string s; };
  union Empty switch (boolean) { case TRUE: long x; };
  struct Node;
  struct Node { sequence<Node> children; @optional long value; };
  typedef long Grid[2][3];
  struct UsesGrid { Grid g; sequence<Grid, 2> gs; wstring<5> w; wchar c; float f;
                    @default(-1) long def; @default(1.5e300) double big; };
  union Tree switch (long) { case 0: sequence<Tree> kids; case 1: Node leaf; };
  const double PI = 3.14;
  const char LETTER = 'z';
  enum Keywords { @value(3) pass_, IF };
  enum PyWords { None, True, @value(7) class };
  struct str { long x; };
  struct UsesStr { str s; sequence<str> ss; string t; };
  @bit_bound(4) bitmask PyFlags { lambda, @position(3) def };
  struct class_ { long def_; long from; };
};
"""


def test_edge_cases_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "edge-cases.idl"
    source.write_text(IDL_EDGE_CASES)
    written = compile_file(source, tmp_path / "out")
    assert written.name == "edge_cases.py"
    generated = import_generated(written)
    assert_same_models(idl.parse_file(source), generated)
    assert generated.a_Point(x=1).x == 1 and generated.b_Point(y=2).y == 2
    node = generated.Node(children=[generated.Node(children=[], value=3)])
    assert node.children[0].value == 3 and node.value is None
    tree = generated.Tree(kids=[generated.Tree(leaf=node)])
    assert tree.kids[0].leaf == node
    assert generated.PI == 3.14 and generated.LETTER == "z"
    kw = generated.class_(def_=1, from_=2)
    assert [mem.name for mem in generated.class_.__rtbus_type__.members] == ["def_", "from"]
    assert (kw.def_, kw.from_) == (1, 2)
    assert generated.UsesStr(s=generated.str_(1), ss=[], t="x").s.x == 1
    py_words = generated.PyWords
    assert [(lit.name, lit.value) for lit in py_words] == [("None", 0), ("True", 1),
                                                           ("class", 7)]
    assert int(generated.PyFlags["def"]) == 8


def test_names_and_order_are_deterministic() -> None:
    assert python_names(["a::X", "b::X", "c::Y", "d::pass"]) == {
        "a::X": "a_X", "b::X": "b_X", "c::Y": "Y", "d::pass": "pass_"}
    parsed = idl.parse("struct B; typedef sequence<B> Bs; struct B { Bs more; long v; };")
    order, forward = dependency_order(list(parsed.types.values()))
    assert [t.name for t in order] == ["Bs", "B"] and forward == {id(parsed.types["B"])}
    text = generate(parsed, "x.idl")
    assert text == generate(idl.parse("struct B; typedef sequence<B> Bs; "
                                      "struct B { Bs more; long v; };"), "x.idl")
    compile(text, "x.py", "exec")


def _named_types_reachable(roots: list[m.IdlType]) -> dict[str, m.NamedType]:
    found: dict[str, m.NamedType] = {}

    def walk(t: m.IdlType) -> None:
        if isinstance(t, (m.SequenceType, m.ArrayType)):
            walk(t.element)
            return
        if not isinstance(t, (m.AliasType, m.EnumType, m.BitmaskType, m.StructType,
                              m.UnionType)) or t.name in found:
            return
        found[t.name] = t
        if isinstance(t, m.AliasType):
            walk(t.target)
        elif isinstance(t, m.StructType):
            if t.base is not None:
                walk(t.base)
            for mem in t.members:
                walk(mem.type)
        elif isinstance(t, m.UnionType):
            walk(t.discriminator)
            for c in t.cases:
                walk(c.member.type)

    for r in roots:
        walk(r)
    return found


def test_cyclone_corpus_round_trips(tmp_path: Path) -> None:
    """The 50 conformance types (declared as cyclonedds classes, bridged to our model) come
    back identical from generated code, whatever order they are listed in."""
    from tests.support.corpus import CORPUS

    types = _named_types_reachable([e.model for e in CORPUS])
    parsed = idl.IdlModule(types=dict(reversed(list(types.items()))))
    path = tmp_path / "corpus_types.py"
    path.write_text(generate(parsed, "corpus"))
    generated = import_generated(path)
    assert len(generated.IDL_NAMES) == len(types) >= 50
    assert_same_models(parsed, generated)


USE_ROBOT = """\
from robot import Encoding, Goal, Image, Plan, Pose, Quaternion, Vector3, Waypoint

plan = Plan(robot_id="r", plan_id=1, goal=Goal(path=[]))
reveal_type(plan.robot_id)
reveal_type(Waypoint(Pose(Vector3(1, 2, 3), Quaternion(0, 0, 0, 1)), []).alternatives)
reveal_type(Image(robot_id="r", camera="c", stamp=plan.goal.value, width=1, height=1,
                  encoding=Encoding.RGB8, data=plan.goal.value).data)
Plan(robot_id=3, plan_id=1, goal=Goal(path=[]))
"""


def test_generated_code_type_checks(tmp_path: Path) -> None:
    """mypy accepts the generated module and sees typed constructors and fields."""
    import subprocess

    compile_file(REPO / "idl" / "robot.idl", tmp_path)
    (tmp_path / "use_robot.py").write_text(USE_ROBOT)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "robot.py", "use_robot.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**__import__("os").environ, "MYPYPATH": str(REPO)})
    lines = run.stdout.strip().splitlines()
    assert not [ln for ln in lines if ln.startswith("robot.py")], run.stdout
    assert 'use_robot.py:4: note: Revealed type is "str"' in lines
    assert 'use_robot.py:5: note: Revealed type is "list[robot.Waypoint]"' in lines
    assert any(ln.startswith("use_robot.py:6: note: Revealed type is \"numpy.ndarray")
               for ln in lines), run.stdout
    errors = [ln for ln in lines if ": error:" in ln]
    assert errors == ['use_robot.py:8: error: Argument "robot_id" to "Plan" has incompatible '
                      'type "int"; expected "str"  [arg-type]'], run.stdout
