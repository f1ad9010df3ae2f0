"""Typed errors: a closed or misused participant, writer or reader raises an error from
rtbus.errors that names what is wrong; nothing is chained onto a spurious exception."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import rtbus
import rtbus.idl
from rtbus.errors import (
    BadParameterError,
    ClosedError,
    IllegalOperationError,
    InterfaceError,
    PreconditionNotMetError,
    RtbusError,
)
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
ROOT = Path(__file__).resolve().parents[2]
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType


def shape() -> object:
    return Shape(color="BLUE", x=1, y=2, shapesize=30, additional_payload_size=b"")


@pytest.mark.parametrize("bad", ["0", -1, 233, 1.5, True, None])
def test_participant_refuses_a_bad_domain_id_by_name(bad: object) -> None:
    with pytest.raises(BadParameterError, match="domain_id") as info:
        rtbus.Participant(bad)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert info.value.__context__ is None


def test_errors_from_participant_are_not_chained_onto_a_missing_event_loop(domain_id: int) -> None:
    with pytest.raises(InterfaceError) as info:
        rtbus.Participant(domain_id, interface="no-such-interface0")
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_everything_on_a_closed_participant_raises_closed_error(domain_id: int) -> None:
    dp = rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1")
    topic = dp.create_topic("Square", Shape)
    w = dp.create_writer(topic)
    r = dp.create_reader(topic)
    dp.close()
    dp.close()  # twice is harmless
    assert dp.closed and w.closed and r.closed
    calls = {
        "create_topic": lambda: dp.create_topic("Circle", Shape),
        "create_writer": lambda: dp.create_writer(topic),
        "create_reader": lambda: dp.create_reader(topic),
        "with": lambda: dp.__enter__(),
        "write": lambda: w.write(shape()),
        "dispose": lambda: w.dispose(shape()),
        "take": lambda: r.take(),
        "take(timeout)": lambda: r.take(timeout=1),
        "read": lambda: r.read(),
        "lookup_instance": lambda: r.lookup_instance(shape()),
        "wait_for_matched": lambda: r.wait_for_matched(1, 1),
        "wait_for_acknowledgments": lambda: w.wait_for_acknowledgments(1),
        "iter": lambda: next(iter(r)),
    }
    for name, call in calls.items():
        with pytest.raises(ClosedError, match="closed"):
            call()
            pytest.fail(f"{name} did not raise")
    assert dp.counters()["tx_errors"] == 0  # counters stay readable


def test_closed_writer_and_reader_raise_but_the_participant_lives_on(domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic)
        r = dp.create_reader(topic)
        w.close()
        r.close()
        with pytest.raises(ClosedError, match="writer is closed"):
            w.write(shape())
        with pytest.raises(ClosedError, match="reader is closed"):
            r.take()
        dp.create_writer(topic).write(shape())


def test_misuse_is_named(domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        topic = dp.create_topic("Square", Shape)
        with pytest.raises(BadParameterError, match="IDL struct class"):
            dp.create_topic("Circle", dict)
        other = rtbus.idl.load(SHAPE_IDL).ShapeType  # a different class, same name
        if other is not Shape:
            with pytest.raises(PreconditionNotMetError, match="already exists"):
                dp.create_topic("Square", other)
        with pytest.raises(BadParameterError, match="expected a Topic"):
            dp.create_writer("Square")  # type: ignore[arg-type]
        with pytest.raises(BadParameterError, match=r"fields of rtbus\.Qos"):
            dp.create_writer(topic, reliabilty="reliable")
        w = dp.create_writer(topic)
        with pytest.raises(BadParameterError, match="expected a ShapeType"):
            w.write({"color": "BLUE"})  # type: ignore[arg-type]
        r = dp.create_reader(topic)
        with pytest.raises(BadParameterError, match="max_samples"):
            r.take(0)
        with pytest.raises(BadParameterError, match="instance handle"):
            r.take(instance=b"short")


def test_a_take_blocked_when_the_participant_closes_returns_empty(domain_id: int) -> None:
    dp = rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1")
    r = dp.create_reader(dp.create_topic("Square", Shape))
    out: list = []
    errors: list = []

    def blocked() -> None:
        try:
            out.append(r.take(timeout=30))
            out.extend(iter(r))  # iterating a closed reader ends at once ... or raises
        except ClosedError as exc:
            errors.append(exc)

    t = threading.Thread(target=blocked)
    t.start()
    assert wait_until(lambda: r._direct_waiting)  # it waits in the take
    dp.close()
    t.join(10)
    assert not t.is_alive()
    assert out[0] == []
    assert errors and isinstance(errors[0], ClosedError)


def test_iterating_a_reader_in_a_thread_ends_when_the_participant_closes(domain_id: int) -> None:
    dp = rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1")
    topic = dp.create_topic("Square", Shape)
    w = dp.create_writer(topic, reliability="reliable")
    r = dp.create_reader(topic, reliability="reliable")
    seen: list = []
    got_one = threading.Event()

    def consume() -> None:
        for s in r:
            seen.append(s.data.x)
            got_one.set()

    t = threading.Thread(target=consume)
    t.start()
    w.write(shape())
    assert got_one.wait(10)
    dp.close()
    t.join(10)
    assert not t.is_alive() and seen == [1]


def test_blocking_calls_on_the_event_loop_are_refused(domain_id: int) -> None:
    import asyncio

    async def main() -> None:
        async with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
            topic = dp.create_topic("Square", Shape)
            w = dp.create_writer(topic, reliability="reliable")
            with pytest.raises(IllegalOperationError, match="await"):
                w.wait_for_acknowledgments(1)
            with pytest.raises(IllegalOperationError, match="async"):
                w.wait_for_matched(1, 1)
            assert await w.acknowledged(1)

    asyncio.run(main())


def test_errors_are_rtbus_errors() -> None:
    for cls in (BadParameterError, ClosedError, IllegalOperationError, PreconditionNotMetError):
        assert issubclass(cls, RtbusError)


def test_demo_refuses_a_bad_deadline() -> None:
    proc = subprocess.run([sys.executable, "-m", "rtbus", "demo", "--deadline", "-5"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--deadline: expected a number > 0, got -5" in proc.stderr


_CTRL_C_SCRIPT = r'''
import sys, threading
import rtbus, rtbus.idl
from rtbus.errors import ClosedError

Shape = rtbus.idl.load("idl/shape.idl").ShapeType
with rtbus.Participant(int(sys.argv[1]), multicast=False, interface="127.0.0.1") as dp:
    reader = dp.create_reader(dp.create_topic("Square", Shape))
    done = threading.Event()

    def worker() -> None:
        print("take returned", reader.take(timeout=60), flush=True)
        try:
            reader.take()
        except ClosedError as exc:
            print("then", type(exc).__name__, flush=True)
        done.set()

    threading.Thread(target=worker).start()
    print("ready", flush=True)
    try:
        threading.Event().wait(60)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
# leaving the with closed the participant: the worker's take ends, the next one raises
done.wait(10)
sys.exit(0 if done.is_set() else 3)
'''


def test_ctrl_c_ends_a_take_blocked_in_a_worker_thread(tmp_path, domain_id: int) -> None:  # type: ignore[no-untyped-def]
    import signal

    script = tmp_path / "ctrl_c.py"
    script.write_text(_CTRL_C_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(domain_id)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    assert wait_until(lambda: _blocked_in_take(proc.pid))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    assert out.splitlines() == ["interrupted", "take returned []", "then ClosedError"], out + err


def _blocked_in_take(pid: int) -> bool:
    """The worker thread sleeps in the kernel (it waits in take), not starting up."""
    tasks = Path(f"/proc/{pid}/task")
    states = [(t / "stat").read_text().split(") ", 1)[1][0] for t in tasks.iterdir()]
    return len(states) >= 3 and all(s == "S" for s in states)


@pytest.mark.parametrize(("name", "says"), [
    ("bad\0name", "must not contain NUL"),
    ("x" * 300, "300 bytes long: at most 256"),
    ("lone\ud800", "cannot be encoded as UTF-8"),
    ("", "non-empty str"),
])
def test_a_topic_name_that_cannot_go_on_the_wire_is_refused_before_anything_exists(
        name: str, says: str, domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        with pytest.raises(BadParameterError, match=says):
            dp.create_topic(name, Shape)
        assert dp._topics == {} and dp._writers == {}
        # the participant is unharmed
        w = dp.create_writer(dp.create_topic("Square", Shape))
        assert w.topic.name == "Square"
