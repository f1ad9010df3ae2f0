"""``rtbus demo``: redundant publishers hot-swap under EXCLUSIVE ownership, measured.

Two processes publish the same IMU stream (a primary of strength 10 and a backup of strength
5); this process subscribes with EXCLUSIVE ownership and a deadline, so it delivers only the
primary's samples. The demo then kills the primary with SIGKILL, measures how long the
subscriber goes without samples before the backup's take over (the deadline plus one write
period, by DDS 1.4's rules), restarts the primary, measures the failback, and ends with a
summary. Only the public API is used.

The demo re-executes itself in a fresh network namespace (loopback with multicast) so that
nothing it sends can leave the machine; where namespaces are unavailable it runs on loopback
with unicast discovery only. Each publisher is this module again, run with ``--publish``.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import netns

IMU_IDL = """
module demo {
  @appendable struct ImuReading {
    @key string<16> sensor;  // one instance: the vehicle's IMU reading, from either unit
    uint64 index;            // the tick both units sample on (time * rate)
    string<16> unit;         // which redundant unit published it
    double accel[3];
    double gyro[3];
  };
};
"""
STRENGTH = {"primary": 10, "backup": 5}


def _types() -> Any:
    import rtbus.idl
    return rtbus.idl.loads(IMU_IDL).demo.ImuReading


def _qos(deadline: float, strength: int | None = None) -> Any:
    import rtbus
    qos = rtbus.Qos(reliability="reliable", history=("keep_last", 64), ownership="exclusive",
                    deadline=deadline)
    return qos if strength is None else qos.replace(ownership_strength=strength)


def _options() -> dict[str, Any]:
    if os.environ.get(netns.ENV_FLAG) == "0":
        return {"interface": "127.0.0.1", "multicast": False, "peers": ["127.0.0.1"]}
    return {}


# --- a publisher (its own process) --------------------------------------------------------------
def _publish(args: argparse.Namespace) -> int:
    import rtbus

    Imu = _types()
    name = args.publish
    period = 1.0 / args.rate
    with rtbus.Participant(args.domain, name=f"demo-{name}", **_options()) as dp:
        writer = dp.create_writer(dp.create_topic("VehicleImu", Imu),
                                  _qos(args.deadline, STRENGTH[name]))
        if not writer.wait_for_matched(1, 30):
            print("no subscriber matched within 30 s", file=sys.stderr)
            return 1
        print("ready", flush=True)
        while True:  # until killed, or the demo closes our stdin (see _stop)
            now = time.time()
            index = int((now - args.epoch) * args.rate)
            phase = index * period
            writer.write(Imu(sensor="imu", index=index, unit=name,
                             accel=[0.01 * math.sin(phase), 0.0, 9.81],
                             gyro=[0.0, 0.0, 0.1 * math.cos(phase)]))
            time.sleep(max(0.0, args.epoch + (index + 1) * period - time.time()))


# --- the subscriber and the script ------------------------------------------------------------
@dataclass
class _Seen:
    """What the subscriber delivered: (arrival, unit, index) per sample."""

    samples: list[tuple[float, str, int]] = field(default_factory=list)
    missed: int = 0

    def count(self, unit: str, since: float = 0.0) -> int:
        return sum(1 for t, u, _ in self.samples if u == unit and t >= since)

    def first(self, unit: str, since: float) -> tuple[float, str, int] | None:
        return next((s for s in self.samples if s[1] == unit and s[0] >= since), None)


class _Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.epoch = time.time()
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.seen = _Seen()
        self.t0 = time.monotonic()

    def spawn(self, name: str) -> subprocess.Popen[str]:
        a = self.args
        argv = [sys.executable, "-m", "rtbus", "demo", "--publish", name, "--domain",
                str(a.domain), "--rate", str(a.rate), "--deadline", str(a.deadline),
                "--epoch", repr(self.epoch)]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs[name] = proc
        return proc

    def take(self, reader: Any, seconds: float, live: bool = True) -> None:
        """Deliver for ``seconds``, printing one progress line a second."""
        end = time.monotonic() + seconds
        next_line = time.monotonic() + 1.0
        while time.monotonic() < end:
            for s in reader.take(timeout=0.02):
                if s.info.valid_data:
                    self.seen.samples.append((time.monotonic(), s.data.unit, s.data.index))
            if live and time.monotonic() >= next_line:
                next_line += 1.0
                last = self.seen.samples[-1] if self.seen.samples else None
                owner = f"{last[1]:<7} index {last[2]}" if last else "-"
                print(f"  [{time.monotonic() - self.t0:5.1f} s] owner {owner}   delivered: "
                      f"primary {self.seen.count('primary'):5d}  backup "
                      f"{self.seen.count('backup'):5d}", flush=True)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    proc.stdin.close()  # type: ignore[union-attr]
                except OSError:
                    pass
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(proc: subprocess.Popen[str], name: str) -> None:
    line = proc.stdout.readline() if proc.stdout is not None else ""
    if line.strip() != "ready":
        raise RuntimeError(f"the {name} publisher did not start: {line.strip() or 'exited'}")


def _run(args: argparse.Namespace) -> int:
    import rtbus

    Imu = _types()
    a = args
    if os.environ.get(netns.ENV_FLAG) == "0":
        print("network namespaces unavailable: loopback-only unicast discovery")
    print(f"rtbus demo: two redundant IMU publishers, one subscriber; EXCLUSIVE ownership, "
          f"deadline {1000 * a.deadline:.0f} ms, {a.rate:g} Hz")
    demo = _Demo(a)
    missed: list[Any] = []
    try:
        with rtbus.Participant(a.domain, name="demo-sub", **_options()) as dp:
            reader = dp.create_reader(dp.create_topic("VehicleImu", Imu), _qos(a.deadline))
            reader.on_requested_deadline_missed = lambda r, status: missed.append(status)
            t = time.monotonic()
            for name in ("primary", "backup"):
                demo.spawn(name)
            for name in ("primary", "backup"):
                _wait_ready(demo.procs[name], name)
            if not reader.wait_for_matched(2, 30):
                print("demo: the publishers did not match within 30 s", file=sys.stderr)
                return 1
            print(f"  primary (strength 10) and backup (strength 5) matched in "
                  f"{1000 * (time.monotonic() - t):.0f} ms; both publish")
            demo.take(reader, a.seconds)

            victim = demo.procs["primary"]
            print(f"  SIGKILL primary (pid {victim.pid})", flush=True)
            last_primary = demo.seen.samples[-1] if demo.seen.samples else None
            killed_at = time.monotonic()
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            demo.take(reader, a.seconds)
            took = demo.seen.first("backup", killed_at)
            after_kill = [s for s in demo.seen.samples if s[0] >= killed_at]
            stale = sum(1 for s in after_kill[after_kill.index(took):] if s[1] == "primary") \
                if took else 0
            failover = None if took is None else took[0] - killed_at
            gap = None if took is None or last_primary is None else took[2] - last_primary[2] - 1
            if failover is None:
                print("  failover: the backup never took over", flush=True)
            else:
                print(f"  failover: the backup owns the instance {1000 * failover:.0f} ms after "
                      f"the kill (deadline {1000 * a.deadline:.0f} ms); {gap} ticks were not "
                      f"published by a live owner in between", flush=True)

            print("  restarting primary", flush=True)
            restarted_at = time.monotonic()
            demo.spawn("primary")
            _wait_ready(demo.procs["primary"], "primary")
            demo.take(reader, a.seconds)
            back = demo.seen.first("primary", restarted_at)
            failback = None if back is None else back[0] - restarted_at
            backup_after = 0 if back is None else sum(
                1 for s in demo.seen.samples if s[0] > back[0] and s[1] == "backup")
            if failback is None:
                print("  failback: the primary never took the instance back", flush=True)
            else:
                print(f"  failback: the primary owns it again {1000 * failback:.0f} ms after "
                      f"its restart (start-up and discovery included)", flush=True)
    finally:
        demo.stop()

    indices = [s[2] for s in demo.seen.samples]
    repeated = len(indices) - len(set(indices))
    print()
    print("  writer    strength  delivered")
    for name in ("primary", "backup"):
        print(f"  {name:<9} {STRENGTH[name]:>8}  {demo.seen.count(name):>9}")
    print(f"  failover {_ms(failover)} | failback {_ms(failback)} | deadline "
          f"{1000 * a.deadline:.0f} ms | deadline misses reported {len(missed)} | "
          f"non-owner samples after a switch {stale + backup_after} | repeated ticks {repeated}")
    ok = failover is not None and failback is not None and stale + backup_after == 0
    return 0 if ok else 1


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{1000 * seconds:.0f} ms"


def demo(args: argparse.Namespace) -> int:
    """``rtbus demo``'s handler: into a private namespace first, then run."""
    if getattr(args, "publish", None):
        try:
            return _publish(args)
        except KeyboardInterrupt:
            return 0
    if not netns.inside() and os.environ.get(netns.ENV_FLAG) != "0":
        wrapped = netns.wrap([sys.executable, "-m", "rtbus", *sys.argv[1:]])
        if wrapped is not None:
            sys.stdout.flush()
            os.execvp(wrapped[0], wrapped)
        os.environ[netns.ENV_FLAG] = "0"
    return _run(args)
