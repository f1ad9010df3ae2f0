"""CDR codec speed: rtbus compiled vs rtbus pure Python vs cyclonedds.idl, in one run.

Each case encodes and decodes one sample (XCDR2, little endian) with the three serializers,
timeit-style: a loop count is calibrated so a loop takes ~0.2 s, then the loop is repeated
and the MEDIAN per-operation time is reported (min hides interference, mean is skewed by it).
Results go to ``benchmarks/results/codec.json`` (with machine, versions and the exact
command) and a Markdown table is printed for ``benchmarks/README.md``.

    python benchmarks/codec.py [--repeat 7] [--quick] [--out benchmarks/results/codec.json]

No sockets are opened: this is pure serialization.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass as _dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rtbus import _ext
from rtbus.cdr import pure
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize

ROOT = Path(__file__).resolve().parent.parent


@_dataclass
class Case:
    """One benchmark case: the same type and sample for rtbus and cyclonedds."""

    name: str
    model: M.StructType
    sample: Any          # rtbus object
    cyclone_cls: Any     # cyclonedds class
    cyclone_sample: Any  # cyclonedds object


def _struct(name: str, members: list[M.Member], **kw: Any) -> M.StructType:
    s = M.StructType(name, members, **kw)
    M.finalize_member_ids(s)
    materialize([s])
    return s


def build_cases() -> list[Case]:
    from dataclasses import dataclass

    import cyclonedds.idl.annotations as annotate
    import cyclonedds.idl.types as t
    from cyclonedds.idl import IdlStruct

    cases = []

    # the OMG shapes demo type
    @dataclass
    @annotate.appendable
    class ShapeType(IdlStruct, typename="ShapeType"):
        color: t.bounded_str[128]
        annotate.key("color")
        x: t.int32
        y: t.int32
        shapesize: t.int32

    shape = _struct("ShapeType", [M.Member("color", M.StringType(128), key=True),
                                  M.Member("x", M.INT32), M.Member("y", M.INT32),
                                  M.Member("shapesize", M.INT32)], extensibility="appendable")
    cases.append(Case("ShapeType", shape,
                      shape.pyclass(color="BLUE", x=120, y=45, shapesize=30),
                      ShapeType, ShapeType("BLUE", 120, 45, 30)))

    # a 1 MiB float32 sequence (a point cloud / audio frame)
    @dataclass
    class Samples(IdlStruct, typename="bench::Samples"):
        seq: t.uint32
        values: t.sequence[t.float32]

    n = (1 << 20) // 4
    values = np.arange(n, dtype=np.float32)
    samples = _struct("bench::Samples", [M.Member("seq", M.UINT32),
                                         M.Member("values", M.SequenceType(M.FLOAT32))])
    cases.append(Case("Float32Seq1MiB", samples, samples.pyclass(seq=1, values=values),
                      Samples, Samples(1, values.tolist())))

    # a mutable nested record with strings, enums-as-ints, sequences of structs
    @dataclass
    class Vec3(IdlStruct, typename="bench::Vec3"):
        x: t.float64
        y: t.float64
        z: t.float64

    @dataclass
    @annotate.mutable
    class Pose(IdlStruct, typename="bench::Pose"):
        frame: str
        stamp_ns: t.int64
        position: Vec3
        waypoints: t.sequence[Vec3]
        covariance: t.array[t.float64, 9]
        tags: t.sequence[str]

    vec3 = _struct("bench::Vec3", [M.Member("x", M.FLOAT64), M.Member("y", M.FLOAT64),
                                   M.Member("z", M.FLOAT64)])
    pose = _struct("bench::Pose", [
        M.Member("frame", M.StringType()), M.Member("stamp_ns", M.INT64),
        M.Member("position", vec3), M.Member("waypoints", M.SequenceType(vec3)),
        M.Member("covariance", M.ArrayType(M.FLOAT64, (9,))),
        M.Member("tags", M.SequenceType(M.StringType()))], extensibility="mutable")
    wps = [(float(i), float(i) * 2, 0.5) for i in range(8)]
    cov = [float(i) for i in range(9)]
    cases.append(Case(
        "MutablePose", pose,
        pose.pyclass(frame="map", stamp_ns=123456789, position=vec3.pyclass(x=1.0, y=2.0, z=3.0),
                     waypoints=[vec3.pyclass(x=a, y=b, z=c) for a, b, c in wps],
                     covariance=np.array(cov), tags=["lidar", "fused"]),
        Pose, Pose("map", 123456789, Vec3(1.0, 2.0, 3.0), [Vec3(a, b, c) for a, b, c in wps],
                   cov, ["lidar", "fused"])))
    return cases


def measure(fn: Callable[[], Any], repeat: int, target_s: float) -> float:
    """Median seconds per call over ``repeat`` loops of a calibrated length."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()  # the smallest 1-2-5 count taking >= 0.2 s
    number = max(1, round(number * target_s / elapsed))
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number


def _version(dist: str, module: Any) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # a missing version must not stop the benchmark
        return str(getattr(module, "__version__", "unknown"))


def machine_info() -> dict[str, Any]:
    import cyclonedds
    import Cython

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu, "cpus": os.cpu_count(), "platform": platform.platform(),
        "python": sys.version.split()[0], "numpy": np.__version__, "cython": Cython.__version__,
        "cyclonedds": _version("cyclonedds", cyclonedds), "rtbus_commit": commit,
        "compiled_codec": _ext.available("cdr") is not None,
        # other work on the machine inflates every column alike; ratios are the stable part
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def run(repeat: int, target_s: float) -> dict[str, Any]:
    ccdr = _ext.available("cdr")
    if ccdr is None:
        raise SystemExit("rtbus._ext.cdr is not built (or RTBUS_PURE_PYTHON=1): nothing to compare")
    results = []
    for case in build_cases():
        compiled = ccdr.compile_codec(case.model)
        pure_codec = pure.compile_codec(case.model)
        payload = compiled.encode(case.sample, True, True)
        cyc_payload = case.cyclone_sample.serialize(use_version_2=True)
        if payload != cyc_payload:
            raise SystemExit(f"{case.name}: rtbus and cyclonedds bytes differ; not benchmarking")
        if pure_codec.encode(case.sample, True, True) != payload:
            raise SystemExit(f"{case.name}: compiled and pure bytes differ; not benchmarking")
        ops: dict[str, dict[str, Callable[[], Any]]] = {
            "compiled": {"encode": partial(compiled.encode, case.sample, True, True),
                         "decode": partial(compiled.decode, payload)},
            "pure": {"encode": partial(pure_codec.encode, case.sample, True, True),
                     "decode": partial(pure_codec.decode, payload)},
            "cyclonedds": {"encode": partial(case.cyclone_sample.serialize, use_version_2=True),
                           "decode": partial(case.cyclone_cls.deserialize, payload)},
        }
        timings = {impl: {op: measure(fn, repeat, target_s) for op, fn in fns.items()}
                   for impl, fns in ops.items()}
        entry: dict[str, Any] = {"case": case.name, "payload_bytes": len(payload),
                                 "representation": "XCDR2 little-endian"}
        for impl, ops in timings.items():
            for op, sec in ops.items():
                entry[f"{impl}_{op}_ns"] = round(sec * 1e9, 1)
                entry[f"{impl}_{op}_MBps"] = round(len(payload) / sec / 1e6, 1)
        for op in ("encode", "decode"):
            c = timings["compiled"][op]
            entry[f"speedup_{op}_vs_cyclonedds"] = round(timings["cyclonedds"][op] / c, 1)
            entry[f"speedup_{op}_vs_pure"] = round(timings["pure"][op] / c, 1)
        results.append(entry)
        print(f"measured {case.name}", file=sys.stderr)
    return {"machine": machine_info(), "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "method": f"median of {repeat} repeats of a loop calibrated to ~{target_s}s; "
                      "ns per operation; MB/s = payload bytes / time",
            "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "results": results}


def _ns(v: float) -> str:
    return f"{v / 1000:.2f} µs" if v < 1e6 else f"{v / 1e6:.2f} ms"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| case | payload | op | rtbus compiled | rtbus pure | cyclonedds.idl "
        "| compiled vs cyclonedds | compiled vs pure |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        for op in ("encode", "decode"):
            lines.append(
                f"| {r['case']} | {r['payload_bytes']} B | {op} "
                f"| {_ns(r[f'compiled_{op}_ns'])} ({r[f'compiled_{op}_MBps']} MB/s) "
                f"| {_ns(r[f'pure_{op}_ns'])} | {_ns(r[f'cyclonedds_{op}_ns'])} "
                f"| {r[f'speedup_{op}_vs_cyclonedds']}x | {r[f'speedup_{op}_vs_pure']}x |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed loops per measurement")
    ap.add_argument("--target", type=float, default=0.2, help="seconds per timed loop")
    ap.add_argument("--quick", action="store_true", help="3 short repeats (smoke test)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "codec.json")
    args = ap.parse_args()
    repeat, target = (3, 0.02) if args.quick else (args.repeat, args.target)
    report = run(repeat, target)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
