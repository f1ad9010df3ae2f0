"""Python-level calls one ``Writer.write`` costs, keyed ShapeType vs a keyless blob.

Counted with ``sys.setprofile`` (every Python function entered, and every C function called
from Python), over the public API a user calls, on a reliable writer with one matched
reliable reader in another participant of this process (so the write really builds and
sends a DATA). Counts are deterministic for one tree: no timing, nothing to drift.

Command: ``python -m rtbus.netns python benchmarks/calls_per_write.py``; writes
``results/calls_per_write.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import rtbus
import rtbus.idl

HERE = Path(__file__).resolve().parent
SHAPE = rtbus.idl.load(HERE.parent / "idl" / "shape.idl").ShapeType
BLOB = rtbus.idl.loads("struct Blob { sequence<octet> data; };").Blob
QOS = rtbus.Qos(reliability="reliable", history=("keep_last", 1000))
WRITES = 200


def count(make: Any, type_: Any, domain: int) -> dict[str, Any]:
    with rtbus.Participant(domain) as a, rtbus.Participant(domain) as b:
        w = a.create_writer(a.create_topic("Calls", type_), QOS)
        r = b.create_reader(b.create_topic("Calls", type_), QOS)
        assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
        for i in range(50):  # warm caches (codec plans, extractor runs)
            w.write(make(i))
        assert w.wait_for_acknowledgments(10)
        samples = [make(i) for i in range(WRITES)]
        py: Counter[str] = Counter()
        c_calls = 0

        def profile(frame: Any, event: str, arg: Any) -> None:
            nonlocal c_calls
            if event == "call":
                co = frame.f_code
                py[f"{Path(co.co_filename).name}:{co.co_name}"] += 1
            elif event == "c_call":
                c_calls += 1

        sys.setprofile(profile)
        try:
            for s in samples:
                w.write(s)
        finally:
            sys.setprofile(None)
        assert w.wait_for_acknowledgments(10)
    total = sum(py.values())
    return {"python_calls_per_write": round(total / WRITES, 1),
            "c_calls_per_write": round(c_calls / WRITES, 1),
            "top": [(name, round(n / WRITES, 2)) for name, n in py.most_common(12)]}


def main() -> None:
    results = {
        "keyed ShapeType": count(lambda i: SHAPE(color=("BLUE", "RED")[i % 2], x=i, y=i,
                                                 shapesize=30), SHAPE, 150),
        "keyless Blob 64 B": count(lambda i: BLOB(data=bytes(64)), BLOB, 151),
    }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    out = {"command": "python -m rtbus.netns python benchmarks/calls_per_write.py",
           "rtbus_commit": commit, "writes": WRITES, "results": results}
    (HERE / "results" / "calls_per_write.json").write_text(json.dumps(out, indent=1) + "\n")
    for case, res in results.items():
        print(f"{case}: {res['python_calls_per_write']} Python calls, "
              f"{res['c_calls_per_write']} C calls per write")
        for name, n in res["top"][:6]:
            print(f"    {n:6.2f}  {name}")


if __name__ == "__main__":
    main()
