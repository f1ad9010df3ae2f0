"""IDL packages (ROS-style trees): one Python module per IDL file, included types imported
from the module of the file declaring them, and one class per declaration at run time."""

from __future__ import annotations

import importlib
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import rtbus.cdr
from rtbus import idl
from rtbus.errors import IdlError, ValidationError
from rtbus.idl.codegen import Compilation, compile_file, compile_paths

from .test_declare import describe

REPO = Path(__file__).resolve().parents[2]
ROS = REPO / "tests" / "data" / "idl" / "ros"
IMU = ROS / "sensor_msgs" / "msg" / "Imu.idl"
HEADER = ROS / "std_msgs" / "msg" / "Header.idl"
PACKAGES = ("builtin_interfaces", "geometry_msgs", "sensor_msgs", "std_msgs")
MODULES = {"builtin_interfaces.msg.Time", "geometry_msgs.msg.Quaternion",
           "geometry_msgs.msg.Vector3", "std_msgs.msg.Header", "sensor_msgs.msg.Imu"}


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/gen`` on sys.path for the test; the generated packages are forgotten after."""
    out = tmp_path / "gen"
    out.mkdir()
    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    try:
        yield out
    finally:
        sys.path.remove(str(out))
        for name in list(sys.modules):
            if name.split(".")[0] in (*PACKAGES, "shape", "top"):
                del sys.modules[name]


def imported(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_tree_compiles_to_packages_mirroring_the_idl_paths(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    written = compile_paths([ROS], out)
    assert {w.module for w in written} == MODULES
    for w in written:
        assert w.path == out.joinpath(*w.module.split(".")).with_suffix(".py")
        assert w.path.is_file()
    for pkg in PACKAGES:
        assert (out / pkg / "__init__.py").is_file()
        assert (out / pkg / "msg" / "__init__.py").is_file()
    imu = (out / "sensor_msgs" / "msg" / "Imu.py").read_text()
    # included types are imported, not declared again
    assert "class Header" not in imu and "class Quaternion" not in imu and "class Time" not in imu
    assert "import std_msgs.msg.Header as _mod_std_msgs_msg_Header" in imu
    assert "import builtin_interfaces" not in imu  # only what Imu's own members use
    assert "from sensor_msgs/msg/Imu.idl" in imu.splitlines()[0]
    # the rosidl comments became docstrings
    assert '"""This represents a vector in free space."""' in (
        out / "geometry_msgs" / "msg" / "Vector3.py").read_text()


def test_one_file_with_include_path_writes_its_includes_too(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert compile_file(IMU, out, [ROS]) == out / "sensor_msgs" / "msg" / "Imu.py"
    assert {".".join(p.relative_to(out).with_suffix("").parts) for p in out.rglob("*.py")
            if p.name != "__init__.py"} == MODULES
    # compiling again changes nothing (mtimes kept for build tools)
    stamp = (out / "std_msgs" / "msg" / "Header.py").stat().st_mtime_ns
    compile_file(HEADER, out, [ROS])
    assert (out / "std_msgs" / "msg" / "Header.py").stat().st_mtime_ns == stamp


def test_header_from_one_module_is_accepted_by_imu_from_another(on_path: Path) -> None:
    compile_paths([ROS], on_path)
    Header = imported("std_msgs.msg.Header").Header
    Time = imported("builtin_interfaces.msg.Time").Time
    imu_mod = imported("sensor_msgs.msg.Imu")
    Quaternion = imported("geometry_msgs.msg.Quaternion").Quaternion
    header = Header(stamp=Time(sec=5, nanosec=7), frame_id="imu_link")
    imu = imu_mod.Imu(header=header, orientation=Quaternion(x=0.5, w=0.5),
                      orientation_covariance=np.arange(9.0))
    assert imu.header is header and imu.orientation.w == 0.5
    assert imu.angular_velocity.x == 0.0 and imu.linear_acceleration_covariance.shape == (9,)
    assert Quaternion().w == 1.0  # @default(value=1.0)
    for rep in ("XCDR1", "XCDR2"):
        data = rtbus.cdr.encode(imu, representation=rep)  # type: ignore[arg-type]
        back = rtbus.cdr.decode(imu_mod.Imu, data)
        assert back == imu and type(back.header) is Header
    # the generated modules build the very models the parser builds
    parsed = idl.parse_file(IMU, [ROS])
    assert set(imu_mod.IDL_NAMES) == set(parsed.types)
    for name, t in parsed.types.items():
        assert describe(imu_mod.IDL_NAMES[name].__rtbus_type__) == describe(t), name
    assert imu_mod.IDL_NAMES["std_msgs::msg::Header"] is Header


def test_another_class_for_the_same_type_is_refused_with_a_hint(on_path: Path) -> None:
    compile_paths([ROS], on_path)
    Imu = imported("sensor_msgs.msg.Imu").Imu
    loaded = idl.load(HEADER, [ROS])
    with pytest.raises(ValidationError) as info:
        Imu(header=loaded.std_msgs.msg.Header())
    assert info.value.path == "header"
    assert "another class for the same IDL type" in info.value.reason
    assert "from std_msgs.msg.Header" in info.value.reason


def test_cli_compiles_a_tree(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    run = subprocess.run([sys.executable, "-m", "rtbus", "idl", "compile", str(ROS), "-o",
                          str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"{IMU} -> {out / 'sensor_msgs' / 'msg' / 'Imu.py'}" in run.stdout
    probe = ("from std_msgs.msg.Header import Header\n"
             "from sensor_msgs.msg.Imu import Imu\n"
             "import rtbus.cdr\n"
             "imu = Imu(header=Header(frame_id='x'))\n"
             "print(rtbus.cdr.decode(Imu, rtbus.cdr.encode(imu)) == imu, imu.header.frame_id)\n")
    use = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=out, timeout=120)
    assert use.returncode == 0, use.stderr
    assert use.stdout.split() == ["True", "x"]


def test_cli_with_include_path_and_single_file(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    run = subprocess.run([sys.executable, "-m", "rtbus", "idl", "compile", "-q", "-I",
                          str(ROS), str(IMU), "-o", str(out)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout == "", run.stderr
    assert (out / "builtin_interfaces" / "msg" / "Time.py").is_file()


def test_runtime_loads_share_one_class_per_declaration() -> None:
    imu_ns = idl.load(IMU, [ROS])
    header_ns = idl.load(HEADER, [ROS])
    Header = header_ns.std_msgs.msg.Header
    assert imu_ns.std_msgs.msg.Header is Header
    assert imu_ns.builtin_interfaces.msg.Time is header_ns.builtin_interfaces.msg.Time
    imu = imu_ns.sensor_msgs.msg.Imu(header=Header(frame_id="a"))
    back = rtbus.cdr.decode(imu_ns.sensor_msgs.msg.Imu, rtbus.cdr.encode(imu))
    assert back == imu and type(back.header) is Header
    # loading again (any order, another spelling of the path) gives the same classes
    assert idl.load(IMU, [str(ROS) + "/."]).sensor_msgs.msg.Imu is imu_ns.sensor_msgs.msg.Imu
    assert idl.load(ROS / "builtin_interfaces" / "msg" / "Time.idl").Time is \
        header_ns.builtin_interfaces.msg.Time
    # text without a file gets new classes for its own types, shared ones for its includes
    text = '#include "std_msgs/msg/Header.idl"\nstruct Stamped { std_msgs::msg::Header h; };'
    stamped = idl.loads(text, include_dirs=[ROS])
    assert stamped.Stamped(h=Header()).h.frame_id == ""
    assert idl.loads(text, include_dirs=[ROS]).Stamped is not stamped.Stamped


def test_an_edited_file_gets_new_classes_and_its_users_follow(tmp_path: Path) -> None:
    tree = tmp_path / "ros"
    shutil.copytree(ROS, tree)
    first = idl.load(tree / "sensor_msgs" / "msg" / "Imu.idl", [tree])
    time_idl = tree / "builtin_interfaces" / "msg" / "Time.idl"
    time_idl.write_text(time_idl.read_text().replace("uint32 nanosec;", "uint32 nanosec; "
                                                     "int8 extra;"))
    second = idl.load(tree / "sensor_msgs" / "msg" / "Imu.idl", [tree])
    assert second.builtin_interfaces.msg.Time is not first.builtin_interfaces.msg.Time
    assert second.std_msgs.msg.Header is not first.std_msgs.msg.Header  # its Time changed
    assert second.geometry_msgs.msg.Vector3 is first.geometry_msgs.msg.Vector3  # untouched
    assert second.std_msgs.msg.Header().stamp.extra == 0
    assert idl.load(tree / "std_msgs" / "msg" / "Header.idl", [tree]).std_msgs.msg.Header is \
        second.std_msgs.msg.Header


def test_recursive_types_are_shared_too(tmp_path: Path) -> None:
    (tmp_path / "tree.idl").write_text("module t { struct Node; struct Node { "
                                       "sequence<Node> kids; long v; }; };\n")
    (tmp_path / "user.idl").write_text('#include "tree.idl"\nstruct Forest { t::Node root; };')
    node = idl.load(tmp_path / "tree.idl").t.Node
    forest = idl.load(tmp_path / "user.idl").Forest
    assert forest(root=node(kids=[node(v=1)])).root.kids[0].v == 1


def test_a_file_included_twice_without_guard_is_read_once(tmp_path: Path) -> None:
    """rosidl writes no include guards; Pose.idl and Point.idl both reach Point."""
    (tmp_path / "point.idl").write_text("module g { struct Point { double x; }; };\n")
    (tmp_path / "pose.idl").write_text('#include "point.idl"\n'
                                       "module g { struct Pose { Point p; }; };\n")
    (tmp_path / "marker.idl").write_text('#include "pose.idl"\n#include "point.idl"\n'
                                         "module v { struct Marker { g::Pose pose; "
                                         "g::Point at; }; };\n")
    parsed = idl.parse_file(tmp_path / "marker.idl")
    assert list(parsed.types) == ["g::Point", "g::Pose", "v::Marker"]
    out = compile_paths([tmp_path], tmp_path / "gen")
    assert sorted(w.module for w in out) == ["marker", "point", "pose"]


def test_verbatim_comments_parse_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="rtbus"):
        parsed = idl.parse_file(IMU, [ROS])
        idl.load(IMU, [ROS])
    assert not [r for r in caplog.records if r.levelno >= logging.INFO], caplog.text
    header = parsed.types["std_msgs::msg::Header"]
    assert header.annotations["verbatim"]["language"] == "comment"  # type: ignore[union-attr]
    assert idl.load(IMU, [ROS]).std_msgs.msg.Header.__doc__.startswith("Standard metadata")


def test_module_paths_outside_the_roots_and_shadowing_names(tmp_path: Path,
                                                           on_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "shared" / "time.idl").write_text("module tm { struct Stamp { long s; }; };\n")
    (tmp_path / "src" / "top.idl").write_text('#include "../shared/time.idl"\n'
                                              "struct Top { tm::Stamp at; };\n")
    written = compile_paths([tmp_path / "src" / "top.idl"], on_path)
    assert sorted(w.module for w in written) == ["time_", "top"]  # 'time' would shadow stdlib
    top = imported("top")
    assert top.Top(at=imported("time_").Stamp(s=3)).at.s == 3


def test_modules_that_would_import_each_other_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.idl").write_text("#ifndef A\n#define A\nstruct Node;\n#include \"b.idl\"\n"
                                    "struct Node { sequence<Leaf> leaves; };\n#endif\n")
    (tmp_path / "b.idl").write_text('#include "a.idl"\n'
                                    "struct Leaf { sequence<Node> back; };\n")
    comp = Compilation(tmp_path / "gen")
    comp.add(tmp_path / "a.idl")
    with pytest.raises(IdlError, match="refer to each other"):
        comp.write()


def test_two_files_for_one_module_are_an_error(tmp_path: Path) -> None:
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.idl").write_text(f"struct S{d} {{ long v; }};\n")
    with pytest.raises(IdlError, match="would both compile to module 'same'"):
        compile_paths([tmp_path / "x" / "same.idl", tmp_path / "y" / "same.idl"],
                      tmp_path / "gen")


def test_a_file_included_into_two_modules_declares_in_both(tmp_path: Path) -> None:
    (tmp_path / "x.idl").write_text("struct X { long v; };\n")
    (tmp_path / "top.idl").write_text('module a {\n#include "x.idl"\n};\n'
                                      'module b {\n#include "x.idl"\n#include "x.idl"\n};\n')
    assert list(idl.parse_file(tmp_path / "top.idl").types) == ["a::X", "b::X"]


def test_the_shipped_shape_type_is_idl_shape_idl() -> None:
    """rtbus.shape (used by the demo, rtbus-shape-main and the benchmarks) declares exactly
    the type of the repository's idl/shape.idl: same TypeObject hash."""
    import rtbus.idl
    from rtbus.shape import shape_type
    from rtbus.xtypes import type_information_of
    from tests.support.paths import SHAPE_IDL

    ours = shape_type().__rtbus_type__
    theirs = rtbus.idl.load(SHAPE_IDL).ShapeType.__rtbus_type__
    assert type_information_of(ours) == type_information_of(theirs)
