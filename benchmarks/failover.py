"""Failover benchmark: how long an EXCLUSIVE reader goes without an owner, rtbus vs cyclonedds.

    python -m rtbus.netns python benchmarks/failover.py [--reps N] [--quick]
        [--settings kill-1s,kill-200ms,kill-100ms,close,unregister,deadline] [--impls rtbus,cyclone]

Redundant publishers of one ShapeType instance (color "BLUE"): a primary of strength 10 and a
backup of strength 5, each its own OS process (peers/failover_writer_{rtbus,cyclone}.py), both
writing every 10 ms, reliable, KEEP_LAST 64, EXCLUSIVE ownership; the reader runs in this
process. A sample carries its writer (x = strength) and a counter (y; the primary of
repetition k counts from k * 100000, so every sample of a setting is unique).

One repetition: the backup keeps running; a fresh primary process (started in standby, its
participant already up, while the previous repetition's tail ran) is told ``go``, creates its
writer and writes; once the reader has delivered >= 10 of its samples (having delivered backup
samples before: the backup was writing), after a random 0-20 ms (so the event falls at any
phase of the 10 ms write period) the primary goes away:

  kill-1s, kill-200ms, kill-100ms  AUTOMATIC liveliness lease 1 s / 200 ms / 100 ms; SIGKILL
  close                            the primary deletes its writer (lease 1 s)
  unregister                       the primary unregisters the instance, then writes no more
  deadline                         deadline 100 ms at the reader and the writers (infinite
                                   lease); the primary stays alive and stops writing

failover = arrival of the first backup sample after the event - the event, both
time.monotonic() (CLOCK_MONOTONIC, system-wide on Linux): for SIGKILL this process's clock
just before os.kill; for the commands the primary's, just before the operation. An arrival is
when reader.take() (rtbus) or the waitset + take (Cyclone) handed the sample over. The reader
then keeps delivering for TAIL seconds (and on, through the next repetitions) and counts, per
repetition: samples of the primary delivered after the first backup sample (``stale``), backup
samples delivered while the primary owned the instance (``weaker``), and samples delivered
twice (same (x, y), ``dup``). All must be 0.

Both implementations run every setting in the same run, taking turns setting by setting (rtbus
domain 100+i, Cyclone 120+i, each setting a fresh reader and backup). Prints a Markdown table;
a full default run writes results/failover.json (other runs write to the temp directory).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
PRIMARY, BACKUP = 10, 5
BASE = 100_000  # the primary of repetition k writes y = k * BASE + n
TAIL = 0.3  # seconds of delivery after the switch before the repetition ends
OWNED = 10  # primary samples the reader must have delivered before the event
INF = math.inf
POLL = 0.010  # longest wait of one take


@dataclass(frozen=True)
class Setting:
    name: str
    action: str  # "kill", "close", "unregister", "stop"
    lease: float
    deadline: float
    target_ms: float | None  # the p99 target
    target_note: str


SETTINGS: list[Setting] = [
    Setting("kill-1s", "kill", 1.0, INF, 1050.0, "lease + 50 ms"),
    Setting("kill-200ms", "kill", 0.2, INF, 250.0, "lease + 50 ms"),
    Setting("kill-100ms", "kill", 0.1, INF, 150.0, "lease + 50 ms"),
    Setting("close", "close", 1.0, INF, 20.0, "20 ms"),
    Setting("unregister", "unregister", 1.0, INF, 20.0, "20 ms"),
    # no target in the issue for the deadline case; deadline + 50 ms is shown for reference
    Setting("deadline", "stop", INF, 0.1, None, "none (deadline + 50 ms = 150 ms for reference)"),
]
IMPLS = ["rtbus", "cyclone"]
DOMAIN_BASE = {"rtbus": 100, "cyclone": 120}


# --- readers ----------------------------------------------------------------------------------
class Reader(Protocol):
    def poll(self, timeout: float) -> list[tuple[int, int]]:
        """(x, y) of the valid samples delivered, waiting up to ``timeout`` s for one."""

    def statuses(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class RtbusReader:
    def __init__(self, domain: int, s: Setting) -> None:
        import rtbus
        from rtbus.shape import shape_type

        self.dp = rtbus.Participant(domain, name="failover-reader", lease_duration=60.0)
        qos = rtbus.Qos(reliability="reliable", history=("keep_last", 64), ownership="exclusive",
                        liveliness="automatic", liveliness_lease=s.lease, deadline=s.deadline)
        self.reader = self.dp.create_reader(self.dp.create_topic("Square", shape_type()), qos)

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        return [(smp.data.x, smp.data.y) for smp in self.reader.take(timeout=timeout)
                if smp.info.valid_data]

    def statuses(self) -> dict[str, Any]:
        lc = self.reader.liveliness_changed_status()
        dm = self.reader.requested_deadline_missed_status()
        return {"liveliness_alive_count": lc.alive_count,
                "liveliness_not_alive_count": lc.not_alive_count,
                "deadline_missed_total": dm.total_count}

    def close(self) -> None:
        self.dp.close()


class CycloneReader:
    def __init__(self, domain: int, s: Setting) -> None:
        sys.path.insert(0, str(PEERS))
        from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState, WaitSet
        from cyclonedds.domain import DomainParticipant
        from cyclonedds.sub import DataReader
        from cyclonedds.topic import Topic
        from cyclonedds.util import duration
        from failover_writer_cyclone import ShapeType, qos

        self.dp = DomainParticipant(domain)
        self.reader = DataReader(self.dp, Topic(self.dp, "Square", ShapeType),
                                 qos=qos(None, s.lease, s.deadline))
        self.cond = ReadCondition(self.reader, SampleState.NotRead | ViewState.Any
                                  | InstanceState.Any)
        self.ws = WaitSet(self.dp)
        self.ws.attach(self.cond)
        self.duration = duration

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        self.ws.wait(self.duration(seconds=timeout))
        # an InvalidSample (an unregister or dispose) has no sample_info
        return [(smp.x, smp.y) for smp in self.reader.take(N=256)
                if getattr(getattr(smp, "sample_info", None), "valid_data", False)]

    def statuses(self) -> dict[str, Any]:
        lc = self.reader.get_liveliness_changed_status()
        dm = self.reader.get_requested_deadline_missed_status()
        return {"liveliness_alive_count": lc.alive_count,
                "liveliness_not_alive_count": lc.not_alive_count,
                "deadline_missed_total": dm.total_count}

    def close(self) -> None:
        self.ws.__del__()
        self.dp.__del__()  # dds_delete of the participant deletes its reader too


# --- writer processes -------------------------------------------------------------------------
class Peer:
    """A writer process; a thread queues its stdout lines so the reader never stops taking."""

    def __init__(self, impl: str, domain: int, strength: int, s: Setting, base: int) -> None:
        script = PEERS / f"failover_writer_{impl}.py"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(domain), str(strength), repr(s.lease),
             repr(s.deadline), str(base)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=HERE.parent)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # EOF

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def line(self) -> str | None:
        try:
            return self.lines.get_nowait()
        except queue.Empty:
            return None

    def end(self) -> None:
        """Close stdin (the peer closes its participant and exits)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass

    def reap(self, timeout: float = 5.0) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- one setting of one implementation --------------------------------------------------------
@dataclass
class Rep:
    rep: int
    failover_ms: float | None = None
    gap_ms: float | None = None  # first backup arrival - last primary arrival before it
    since_last_write_ms: float | None = None  # first backup arrival - primary's last write
    owned_after_ms: float | None = None  # go -> OWNED primary samples delivered
    phase_ms: float | None = None  # event - last primary arrival before it (should spread 0-10)
    stale: int = 0
    weaker: int = 0
    dup: int = 0
    error: str | None = None
    t_go: float = 0.0
    t_event: float = 0.0
    t_switch: float | None = None


@dataclass
class Run:
    impl: str
    setting: Setting
    reps: list[Rep] = field(default_factory=list)
    log: list[tuple[float, int, int]] = field(default_factory=list)  # (arrival, x, y)
    statuses: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, impl: str, s: Setting, index: int, reps: int, t0: float) -> None:
        self.impl, self.s, self.nreps, self.t0 = impl, s, reps, t0
        self.domain = DOMAIN_BASE[impl] + index
        self.run = Run(impl, s)
        self.reader: Reader = (RtbusReader if impl == "rtbus" else CycloneReader)(self.domain, s)

    def pump(self, until: Callable[[], bool], timeout: float) -> bool:
        """Deliver samples into the log until ``until()`` or ``timeout`` seconds (ending on
        time, not at the next sample: a take returns when a sample arrives, so an event
        timed by sample arrivals would always fall just after the primary's write)."""
        end = time.monotonic() + timeout
        while True:
            if until():
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            got = self.reader.poll(min(POLL, left))
            if got:
                now = time.monotonic()
                self.run.log.extend((now, x, y) for x, y in got)

    def expect(self, peer: Peer, prefix: str, timeout: float) -> str:
        """Pump until ``peer`` prints a line starting with ``prefix`` (error lines end it)."""
        found: list[str] = []

        def seen() -> bool:
            while (line := peer.line()) is not None:
                if line.startswith(prefix):
                    found.append(line)
                    return True
                if line == "" or line.startswith("error"):
                    raise RuntimeError(f"{self.impl} peer: {line or 'exited'} (waiting for "
                                       f"{prefix!r})")
            return False

        if not self.pump(seen, timeout):
            raise RuntimeError(f"{self.impl} peer: no {prefix!r} within {timeout} s")
        return found[0]

    def count_since(self, start: int, x: int) -> int:
        return sum(1 for _, sx, _ in self.run.log[start:] if sx == x)

    def execute(self) -> Run:
        s = self.s
        backup = Peer(self.impl, self.domain, BACKUP, s, 0)
        primary: Peer | None = None
        try:
            self.expect(backup, "standby", 60)
            backup.send("go")
            self.expect(backup, "ready", 60)
            if not self.pump(lambda: self.count_since(0, BACKUP) >= 5, 30):
                raise RuntimeError(f"{self.impl}: no backup sample delivered within 30 s")
            primary = Peer(self.impl, self.domain, PRIMARY, s, BASE)
            for k in range(self.nreps):
                assert primary is not None  # only the last repetition returns None
                primary = self.repetition(k, primary)
        finally:
            if primary is not None:
                primary.end()
                primary.reap()
            backup.end()
            backup.reap()
            self.run.statuses = self.reader.statuses()
            self.reader.close()
        self.analyse()
        return self.run

    def repetition(self, k: int, primary: Peer) -> Peer | None:
        """One failover; returns the next repetition's primary (already in standby)."""
        s, rep = self.s, Rep(k)
        self.run.reps.append(rep)
        nxt: Peer | None = None
        try:
            self.expect(primary, "standby", 60)
            start = len(self.run.log)
            rep.t_go = time.monotonic()
            primary.send("go")
            if not self.pump(lambda: self.count_since(start, PRIMARY) >= OWNED, 30):
                raise RuntimeError("the primary did not take the instance within 30 s")
            rep.owned_after_ms = 1000 * (time.monotonic() - rep.t_go)
            self.pump(lambda: False, random.uniform(0.0, 0.02))
            mark = len(self.run.log)
            t_mark = time.monotonic()
            if s.action == "kill":
                rep.t_event = time.monotonic()
                os.kill(primary.proc.pid, signal.SIGKILL)
            else:
                primary.send(s.action)
            wait = (s.lease if s.lease < INF else s.deadline) + 2.0

            def switched() -> bool:
                return any(x == BACKUP and t > t_mark for t, x, _ in self.run.log[mark:])

            ok = self.pump(switched, wait)
            last_write = None
            if s.action != "kill":
                _, t_op, t_last, _ = self.expect(primary, "done", 10).split()
                rep.t_event, last_write = float(t_op), float(t_last)
            before_ev = [t for t, x, _ in self.run.log[start:mark] if x == PRIMARY]
            if before_ev:
                rep.phase_ms = 1000 * (rep.t_event - before_ev[-1])
            if ok:
                t_sw = next(t for t, x, _ in self.run.log[mark:] if x == BACKUP and t > t_mark)
                rep.t_switch = t_sw
                rep.failover_ms = 1000 * (t_sw - rep.t_event)
                before = [t for t, x, _ in self.run.log[start:] if x == PRIMARY and t < t_sw]
                rep.gap_ms = 1000 * (t_sw - before[-1]) if before else None
                if last_write is not None:
                    rep.since_last_write_ms = 1000 * (t_sw - last_write)
            else:
                rep.error = f"no backup sample within {wait:.1f} s of the event"
            if k + 1 < self.nreps:  # the next primary starts up during the tail
                nxt = Peer(self.impl, self.domain, PRIMARY, s, (k + 2) * BASE)
            self.pump(lambda: False, TAIL)
        except RuntimeError as exc:
            rep.error = str(exc)
            if nxt is None and k + 1 < self.nreps:
                nxt = Peer(self.impl, self.domain, PRIMARY, s, (k + 2) * BASE)
        finally:
            primary.end()
            if s.action != "kill":
                self.pump(lambda: primary.proc.poll() is not None, 5.0)
            primary.reap()
        fo = "-" if rep.failover_ms is None else f"{rep.failover_ms:7.1f} ms"
        gap = "-" if rep.gap_ms is None else f"{rep.gap_ms:.1f} ms"
        print(f"  [{time.monotonic() - self.t0:6.1f} s] {self.impl:<7} {s.name:<10} rep "
              f"{k + 1:2d}/{self.nreps}: failover {fo} (gap since last primary sample {gap})"
              + (f" ERROR {rep.error}" if rep.error else ""), flush=True)
        return nxt

    def analyse(self) -> None:
        """stale / weaker / dup per repetition, from the whole log (a late sample of an earlier
        primary counts against its own repetition)."""
        log, reps = self.run.log, self.run.reps
        seen: set[tuple[int, int]] = set()
        for t, x, y in log:
            if (x, y) in seen:
                owner = next((r for r in reversed(reps) if r.t_go <= t), None)
                if owner is not None:
                    owner.dup += 1
            seen.add((x, y))
        for r in reps:
            if r.t_switch is not None:
                lo, hi = (r.rep + 1) * BASE, (r.rep + 2) * BASE
                r.stale = sum(1 for t, x, y in log
                              if x == PRIMARY and lo <= y < hi and t > r.t_switch)
            firsts = [t for t, x, y in log
                      if x == PRIMARY and (r.rep + 1) * BASE <= y < (r.rep + 2) * BASE]
            if firsts and r.t_event:
                r.weaker = sum(1 for t, x, _ in log if x == BACKUP and firsts[0] < t < r.t_event)


# --- summary ------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (with 20 values, p99 is the maximum)."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def summarize(run: Run) -> dict[str, Any]:
    fo = [r.failover_ms for r in run.reps if r.failover_ms is not None]
    gaps = [r.gap_ms for r in run.reps if r.gap_ms is not None]
    out: dict[str, Any] = {
        "impl": run.impl, "setting": run.setting.name, "action": run.setting.action,
        "lease_s": None if run.setting.lease == INF else run.setting.lease,
        "deadline_s": None if run.setting.deadline == INF else run.setting.deadline,
        "reps": len(run.reps), "failovers": len(fo),
        "errors": [r.error for r in run.reps if r.error],
        "stale_total": sum(r.stale for r in run.reps),
        "weaker_total": sum(r.weaker for r in run.reps),
        "dup_total": sum(r.dup for r in run.reps),
        "target_p99_ms": run.setting.target_ms, "target": run.setting.target_note,
        "reader_statuses": run.statuses,
    }
    if fo:
        out.update({f"failover_{k}_ms": round(percentile(fo, p), 1)
                    for k, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))})
        out["failover_min_ms"] = round(min(fo), 1)
    if gaps:
        out["gap_p50_ms"] = round(percentile(gaps, 50), 1)
        out["gap_max_ms"] = round(max(gaps), 1)
    if run.setting.target_ms is not None:
        out["target_met"] = bool(fo) and len(fo) == len(run.reps) and \
            out["failover_p99_ms"] <= run.setting.target_ms
    out["zero_checks_met"] = out["stale_total"] == out["weaker_total"] == out["dup_total"] == 0
    out["runs"] = [{k: (round(v, 2) if isinstance(v, float) else v)
                    for k, v in asdict(r).items() if not k.startswith("t_")} for r in run.reps]
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| setting | impl | reps | p50 | p90 | p99 | max | target p99 | met | "
             "stale / weaker / dup |", "|---|---|---:|---:|---:|---:|---:|---|---|---|"]
    for r in rows:
        if "failover_p50_ms" in r:
            cells = [f'{r[f"failover_{k}_ms"]:.1f}' for k in ("p50", "p90", "p99", "max")]
        else:
            cells = ["-"] * 4
        met = "-" if "target_met" not in r else ("yes" if r["target_met"] else "**no**")
        n = f'{r["failovers"]}/{r["reps"]}'
        tgt = f'<= {r["target_p99_ms"]:.0f} ms' if r["target_p99_ms"] is not None else "none"
        zero = f'{r["stale_total"]} / {r["weaker_total"]} / {r["dup_total"]}'
        lines.append(f'| {r["setting"]} | {r["impl"]} | {n} | ' + " | ".join(cells)
                     + f" | {tgt} | {met} | {zero} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "absent"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE.parent).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "rtbus"], capture_output=True,
                           text=True, cwd=HERE.parent).stdout.strip()  # uncommitted rtbus/ edits
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                   platform.processor())
    import rtbus
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "rtbus": ver("rtbus"), "rtbus_commit": commit,
            "rtbus_imported_from": str(Path(rtbus.__file__).parent.parent),
            "rtbus_tree_modified": bool(dirty), "cyclonedds": ver("cyclonedds"),
            "loadavg_start": os.getloadavg()}


def main() -> int:
    import rtbus.netns
    if not rtbus.netns.inside():
        print("run me inside the private network namespace: python -m rtbus.netns python "
              "benchmarks/failover.py ...", file=sys.stderr)
        return 1
    names = [s.name for s in SETTINGS]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=20, help="repetitions per setting (20)")
    ap.add_argument("--quick", action="store_true", help="3 repetitions (smoke run)")
    ap.add_argument("--settings", default=",".join(names), help=",".join(names))
    ap.add_argument("--impls", default=",".join(IMPLS), help="rtbus,cyclone")
    args = ap.parse_args()
    chosen = args.settings.split(",")
    impls = args.impls.split(",")
    if unknown := [n for n in chosen if n not in names] + [i for i in impls if i not in IMPLS]:
        ap.error(f"unknown: {', '.join(unknown)}")
    reps = 3 if args.quick else args.reps
    t0 = time.monotonic()
    mach = machine()
    print(f"failover: {reps} repetitions x {len(chosen)} settings x {impls}; rtbus at "
          f"{mach['rtbus_commit']}, cyclonedds {mach['cyclonedds']}", flush=True)
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(SETTINGS):
        if s.name not in chosen:
            continue
        for impl in impls:
            run = Bench(impl, s, i, reps, t0).execute()
            rows.append(summarize(run))
            r = rows[-1]
            print(f"{impl} {s.name}: p50 {r.get('failover_p50_ms')} p99 "
                  f"{r.get('failover_p99_ms')} max {r.get('failover_max_ms')} ms; stale "
                  f"{r['stale_total']} weaker {r['weaker_total']} dup {r['dup_total']}; "
                  f"errors {len(r['errors'])}", flush=True)
    md = table(rows)
    print(md)
    full = not args.quick and reps == 20 and chosen == names and impls == IMPLS
    cmd = "python -m rtbus.netns python benchmarks/failover.py" + (
        "" if full else " " + shlex.join(sys.argv[1:]))
    result = {"command": cmd, "argv": shlex.join(sys.argv),
              "timestamp_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": {**mach, "loadavg_end": os.getloadavg()},
              "wall_s": round(time.monotonic() - t0, 1),
              "method": {"write_period_s": 0.010, "strengths": [PRIMARY, BACKUP],
                         "owned_before_event": OWNED, "tail_s": TAIL,
                         "percentile": "nearest rank", "clock": "time.monotonic()"},
              "results": rows, "table_markdown": md}
    out = HERE / "results" / "failover.json" if full else \
        Path(tempfile.gettempdir()) / ("failover-quick.json" if args.quick else
                                       "failover-partial.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out} ({result['wall_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
