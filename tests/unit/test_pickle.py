"""Samples pickle and copy: classes loaded at run time, declared in a function, or compiled.

(No ``from __future__ import annotations``: classes declared inside a test function need
their annotations evaluated where the local names are visible.)"""

import copy
import enum
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtbus import idl
from rtbus.idl.codegen import compile_paths
from rtbus.types import declare as t

REPO = Path(__file__).resolve().parents[2]
ROS = REPO / "tests" / "data" / "idl" / "ros"
IMU = ROS / "sensor_msgs" / "msg" / "Imu.idl"

ROBOT = idl.load(REPO / "idl" / "robot.idl")


def round_trip(obj: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> Any:
    return pickle.loads(pickle.dumps(obj, protocol=protocol))


def robot_samples() -> list[Any]:
    r = ROBOT
    pose = r.Pose(r.Vector3(1, 2, 3), r.Quaternion(x=0.5, y=0, z=0))
    return [
        pose,
        r.Plan(robot_id="r2", plan_id=7,
               goal=r.Goal(path=[r.Waypoint(pose=pose, alternatives=[r.Waypoint(pose=pose)])])),
        r.Command(setpoint=[0.5] * 3),
        r.DetailedStatus(robot_id="r", mode="auto", faults=r.Faults.ESTOP, joints=[]),
        r.Image(encoding=r.Encoding.RGB8, data=b"\x01\x02"),
    ]


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_runtime_loaded_samples_pickle_in_process(protocol: int) -> None:
    for sample in robot_samples():
        back = round_trip(sample, protocol)
        assert type(back) is type(sample) and back == sample
    status = round_trip(robot_samples()[3], protocol)
    assert status.faults is ROBOT.Faults.ESTOP or status.faults == ROBOT.Faults.ESTOP
    assert type(status.faults) is ROBOT.Faults
    assert round_trip(ROBOT.Encoding.RGB8, protocol) is ROBOT.Encoding.RGB8
    assert round_trip(ROBOT.Faults.ESTOP | ROBOT.Faults(0), protocol) == ROBOT.Faults.ESTOP
    image = round_trip(robot_samples()[4], protocol)
    assert image.data.dtype == np.uint8 and image.data.tolist() == [1, 2]


def test_copy_and_deepcopy() -> None:
    plan = robot_samples()[1]
    shallow = copy.copy(plan)
    assert shallow == plan and shallow is not plan and shallow.goal is plan.goal
    deep = copy.deepcopy(plan)
    assert deep == plan and deep.goal is not plan.goal
    deep.goal.value[0].pose.position.x = 99.0
    assert plan.goal.value[0].pose.position.x == 1.0
    image = robot_samples()[4]
    clone = copy.deepcopy(image)
    clone.data[0] = 7
    assert image.data[0] == 1
    # a sample reachable from itself copies to a copy reachable from itself
    node_ns = idl.loads("struct Node { sequence<Node> kids; long v; };")
    node = node_ns.Node(v=1)
    node.kids.append(node)
    twin = copy.deepcopy(node)
    assert twin.kids[0] is twin and twin is not node


def test_declared_in_a_function_and_loaded_from_text() -> None:
    @t.enum(typename="p::Level")
    class Level(enum.IntEnum):
        LOW = 0
        HIGH = 1

    @t.struct(typename="p::Reading")
    class Reading:
        level: Level
        values: t.Sequence[t.float32]
        note: t.Optional[t.string] = None

    @t.union(t.int32, typename="p::Either")
    class Either(t.IdlUnion):
        reading: t.Case[1, Reading]
        text: t.Case[2, t.string]

    r = Reading(level=Level.HIGH, values=[1.5])
    assert round_trip(r) == r and type(round_trip(r)) is Reading
    assert round_trip(Level.HIGH) is Level.HIGH
    assert round_trip(Either(reading=r)).reading == r
    text = idl.loads("union U switch (char) { case 'a': long x; default: string s; };")
    u = text.U(s="hi")
    assert round_trip(u) == u and type(round_trip(u)) is text.U


def _python(code: str, cwd: Path | None = None,
            stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True,
                          cwd=cwd, timeout=120)


def test_runtime_loaded_samples_unpickle_in_a_fresh_process() -> None:
    """A process that never loaded the IDL (multiprocessing's ``spawn``) loads it itself
    from the file the class came from."""
    ns = idl.load(IMU, [ROS])
    imu = ns.sensor_msgs.msg.Imu(header=ns.std_msgs.msg.Header(frame_id="base"),
                                 orientation_covariance=np.arange(9.0))
    run = _python("import pickle, sys\n"
                  "imu = pickle.loads(sys.stdin.buffer.read())\n"
                  "print(type(imu).__rtbus_type__.name, imu.header.frame_id, "
                  "imu.orientation.w, imu.orientation_covariance[8])\n"
                  "sys.stdout.flush()\n"
                  "sys.stdout.buffer.write(pickle.dumps(imu))\n",
                  stdin=pickle.dumps(imu))
    assert run.returncode == 0, run.stderr.decode()
    first, rest = run.stdout.split(b"\n", 1)
    assert first.decode().split() == ["sensor_msgs::msg::Imu", "base", "1.0", "8.0"]
    back = pickle.loads(rest)
    assert back == imu and type(back) is type(imu)


def test_text_types_cannot_travel_and_say_why() -> None:
    u = idl.loads("struct OnlyHere { long v; };").OnlyHere(v=1)
    run = _python("import pickle, sys\npickle.loads(sys.stdin.buffer.read())\n",
                  stdin=pickle.dumps(u))
    assert run.returncode != 0
    assert b"UnpicklingError" in run.stderr and b"built at run time in another process" in \
        run.stderr


def test_compiled_samples_pickle_across_processes(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    compile_paths([REPO / "idl" / "shape.idl", REPO / "idl" / "robot.idl", ROS], out)
    make = ("import pickle, sys\n"
            "import shape, robot\n"
            "from sensor_msgs.msg.Imu import Imu\n"
            "from std_msgs.msg.Header import Header\n"
            "samples = [shape.ShapeType(color='RED', x=3), Imu(header=Header(frame_id='f')),\n"
            "           robot.DetailedStatus(robot_id='r', faults=robot.Faults.ESTOP),\n"
            "           robot.Command(setpoint=[1.0]), robot.Encoding.RGB8]\n"
            "sys.stdout.buffer.write(pickle.dumps(samples))\n")
    made = _python(make, cwd=out)
    assert made.returncode == 0, made.stderr.decode()
    check = ("import pickle, sys\n"
             "shape_, imu, status, cmd, enc = pickle.loads(sys.stdin.buffer.read())\n"
             "import shape, robot\n"
             "from sensor_msgs.msg.Imu import Imu\n"
             "assert type(shape_) is shape.ShapeType and shape_.x == 3 and shape_.y == 0\n"
             "assert type(imu) is Imu and imu.header.frame_id == 'f'\n"
             "assert status.faults is robot.Faults.ESTOP and enc is robot.Encoding.RGB8\n"
             "assert type(cmd) is robot.Command and cmd.setpoint.tolist() == [1.0]\n"
             "print('ok')\n")
    checked = _python(check, cwd=out, stdin=made.stdout)
    assert checked.returncode == 0, checked.stderr.decode()
    assert checked.stdout.strip() == b"ok"
