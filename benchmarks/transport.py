"""Transport benchmark: rtbus vs cyclonedds-python vs eclipse-zenoh (Python), in ONE run.

    python -m rtbus.netns python benchmarks/transport.py [--quick] [--libs rtbus,cyclone]
        [--baseline DIR]

(``--libs`` runs a subset for development; only full runs are committed.) ``--baseline DIR``
adds another rtbus tree (a git worktree of an older commit with its extensions built in place)
to the same run, for before/after ratios: its keyed 64 B throughput, and keyless 64 B and
4 KiB throughput with the two trees taking turns.

Each side runs in its own process (benchmarks/peers/transport_peer.py), all inside one private
network namespace (the script re-executes itself through rtbus.netns when not inside one, so no
DDS or zenoh socket ever opens on a real interface; zenoh uses tcp/127.0.0.1 with scouting off).

latency: reliable ping/pong, 64 B and 4 KiB, median and p99 RTT over N round trips after warm-up;
all libraries' pairs stay up and take turns in short blocks (the VM's speed drifts; see
latency()).
throughput: reliable KEEP_ALL (zenoh: reliable + CongestionControl.BLOCK), 64 B, 4 KiB, 256 KiB,
the writer sends for a fixed time (capped in samples), the reader counts every sample and checks
that none is missing or out of order; rate = samples / (last - first arrival). A keyed case
(``rtbus-keyed``, ``cyclone-keyed``: the OMG ShapeType over four instances, the 64 B in its
sequence) runs next to the keyless one, since keyed DATA take another path (key hash, inline
QoS) at both ends.
Prints a Markdown table and writes results/transport.json.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "peers" / "transport_peer.py"
LIBS = ["rtbus", "cyclone", "zenoh"]
LAT_SIZES = [64, 4096]
TPUT_SIZES = [64, 4096, 262144]
LAT_BLOCKS = 30  # latency runs interleave the libraries in this many blocks (see latency())
WARMUP = 200  # round trips per library before the measured blocks
KEYED_ROUNDS = 5  # the keyed 64 B throughput cases take turns this many times
AB_SIZES = (64, 4096)  # keyless sizes run against the --baseline tree, taking turns
AB_ROUNDS = 4


BASELINES: dict[str, str] = {}  # "rtbus-keyed@<commit>" -> that tree's directory


def spawn(lib: str, role: str, size: int, arg: float) -> subprocess.Popen:
    name, _, commit = lib.partition("@")
    env = dict(os.environ)
    if commit:  # another rtbus tree, imported first
        env["PYTHONPATH"] = BASELINES[lib]
    return subprocess.Popen([sys.executable, str(PEER), name, role, str(size), str(arg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=BASELINES.get(lib, HERE.parent), env=env)


def wait_line(proc: subprocess.Popen, want: str | None, timeout: float) -> str:
    """Next stdout line (skipping until one starting with want); '' on timeout/exit."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            return ""
        if want is None or line.startswith(want):
            return line.strip()
    return ""


def stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        try:
            p.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def latency(libs: list[str], size: int, rounds: int, blocks: int) -> list[dict]:
    """RTT statistics per library: every library's ping/pong pair is started first and kept
    up, then each runs ``rounds/blocks`` round trips in turn, ``blocks`` times.

    This VM's speed drifts by tens of percent within seconds; running one library's round
    trips in one go would let a slow spell land on one library only. Interleaving short
    blocks puts every library through the same spells.
    """
    pairs: dict[str, tuple[subprocess.Popen, subprocess.Popen]] = {}
    rtts: dict[str, list[int]] = {lib: [] for lib in libs}
    errors: dict[str, dict] = {}

    def run(lib: str, n: int) -> list[int] | None:
        ping = pairs[lib][1]
        try:
            ping.stdin.write(f"run {n}\n")  # type: ignore[union-attr]
            ping.stdin.flush()  # type: ignore[union-attr]
        except OSError:
            errors[lib] = {"lib": lib, "size": size, "error": "ping exited"}
            return None
        res = json.loads(wait_line(ping, "{", 120) or '{"error": "no result"}')
        if "rtt_ns" not in res:
            errors[lib] = {"lib": lib, "size": size, **res}
            return None
        return list(res["rtt_ns"])

    try:
        for lib in libs:
            pong = spawn(lib, "pong", size, 0)
            wait_line(pong, "ready", 30)
            ping = spawn(lib, "ping", size, 0)
            pairs[lib] = (pong, ping)
            if not wait_line(ping, "ready", 60):
                errors[lib] = {"lib": lib, "size": size, "error": "no first round trip"}
        for lib in libs:
            if lib not in errors:
                run(lib, WARMUP)
        for _ in range(blocks):
            for lib in libs:
                if lib not in errors:
                    got = run(lib, rounds // blocks)
                    if got is not None:
                        rtts[lib] += got
    finally:
        for pong, ping in pairs.values():
            stop(ping, pong)
    out = []
    for lib in libs:
        if lib in errors:
            out.append(errors[lib])
            continue
        rtt = sorted(rtts[lib])
        med = statistics.median(rtt) / 1000
        p99 = rtt[min(len(rtt) - 1, int(len(rtt) * 0.99))] / 1000
        out.append({"lib": lib, "size": size, "rounds": len(rtt), "blocks": blocks,
                    "rtt_median_us": round(med, 1), "rtt_p99_us": round(p99, 1),
                    "one_way_median_us": round(med / 2, 1), "rtt_min_us": round(rtt[0] / 1000, 1)})
    return out


def throughput(lib: str, size: int, seconds: float) -> dict:
    recv = spawn(lib, "recv", size, 90)
    wait_line(recv, "ready", 30)
    send = spawn(lib, "send", size, seconds)
    try:
        r = json.loads(wait_line(recv, "{", 120) or '{"error": "no result"}')
        s = json.loads(wait_line(send, "{", 60) or '{"error": "no sender result"}')
    finally:
        stop(send, recv)
    out = {"lib": lib, "size": size, "receiver": r, "sender": s}
    if "seconds" in r and r["seconds"] > 0:
        rate = r["received"] / r["seconds"]
        out.update(samples_per_s=round(rate), mb_per_s=round(rate * size / 1e6, 2),
                   lossless=bool(r["count_ok"] and r["received"] == s.get("sent")))
    return out


def machine() -> dict:
    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "absent"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE.parent).stdout.strip()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "rtbus": ver("rtbus"), "rtbus_commit": commit, "cyclonedds": ver("cyclonedds"),
            "eclipse-zenoh": ver("eclipse-zenoh"), "loadavg": os.getloadavg()}


def table(lat: list[dict], tput: list[dict], ab: list[dict] | None = None) -> str:
    lines = ["| case | payload | rtbus | cyclonedds | zenoh |", "|---|---:|---:|---:|---:|"]
    for size in LAT_SIZES:
        row = {r["lib"]: r for r in lat if r["size"] == size}
        cells = [f'{row[x]["rtt_median_us"]} / {row[x]["rtt_p99_us"]} µs' if "rtt_median_us"
                 in row.get(x, {}) else "failed" for x in LIBS]
        lines.append(f"| latency RTT median / p99 | {size} B | " + " | ".join(cells) + " |")
    for size in TPUT_SIZES:
        row = {r["lib"]: r for r in tput if r["size"] == size}
        cells = []
        for x in LIBS:
            r = row.get(x, {})
            if "samples_per_s" in r:
                lost = "" if r["lossless"] else " (COUNT MISMATCH)"
                cells.append(f'{r["samples_per_s"]:,} /s, {r["mb_per_s"]} MB/s{lost}')
            else:
                cells.append("failed")
        lines.append(f"| throughput reliable | {size} B | " + " | ".join(cells) + " |")
    row = {r["lib"]: r for r in tput if "-keyed" in r["lib"]}
    if row:
        cells = []
        for x in ("rtbus-keyed", "cyclone-keyed"):
            r = row.get(x, {})
            cells.append(f'{r["samples_per_s"]:,} /s' + ("" if r["lossless"] else
                         " (COUNT MISMATCH)") if "samples_per_s" in r else "failed")
        lines.append("| throughput reliable, keyed ShapeType | 64 B | " + " | ".join(cells)
                     + " | n/a |")
        mine = row.get("rtbus-keyed", {}).get("runs_samples_per_s") or []
        for lib, r in row.items():
            if "@" in lib and "samples_per_s" in r:
                theirs = r.get("runs_samples_per_s") or [r["samples_per_s"]]
                ratios = sorted(a / b for a, b in zip(mine, theirs, strict=False) if a and b)
                ratio = ratios[len(ratios) // 2] if ratios else 0.0
                lines.append(f"| keyed 64 B, rtbus at {lib.split('@')[1]} | 64 B | "
                             f'{r["samples_per_s"]:,} /s (this tree {ratio:.2f}x, median of '
                             f"{len(ratios)} rounds) | | |")
    for row in ab or []:
        lib = row["baseline"]
        theirs = sorted(v for v in row["runs_samples_per_s"][lib] if v)
        if row["ratio_median"] is not None:
            lines.append(f"| keyless {row['size']} B, rtbus at {lib.split('@')[1]} | "
                         f"{row['size']} B | {theirs[len(theirs) // 2]:,} /s (this tree "
                         f"{row['ratio_median']:.2f}x, median of {len(theirs)} rounds) | | |")
    return "\n".join(lines)


def main() -> int:
    import rtbus.netns
    if not rtbus.netns.inside():
        argv = rtbus.netns.wrap([sys.executable, *sys.argv])
        if argv is None:
            print("no network namespace available; refusing to open sockets", file=sys.stderr)
            return 1
        return subprocess.run(argv).returncode
    quick = "--quick" in sys.argv
    libs = LIBS
    if "--libs" in sys.argv:
        libs = sys.argv[sys.argv.index("--libs") + 1].split(",")
    rounds, seconds, blocks = (300, 1.0, 3) if quick else (3000, 3.0, LAT_BLOCKS)
    t0 = time.monotonic()
    lat = []
    for size in LAT_SIZES:
        for row in latency(libs, size, rounds, blocks):
            lat.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    keyed = [f"{lib}-keyed" for lib in libs if lib in ("rtbus", "cyclone")]
    if "--baseline" in sys.argv:
        tree = Path(sys.argv[sys.argv.index("--baseline") + 1]).resolve()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree,
                                capture_output=True, text=True).stdout.strip()
        BASELINES[f"rtbus-keyed@{commit}"] = BASELINES[f"rtbus@{commit}"] = str(tree)
        keyed.append(f"rtbus-keyed@{commit}")
    tput = []
    for size in TPUT_SIZES:
        for lib in libs:
            tput.append(throughput(lib, size, seconds))
            print(json.dumps(tput[-1]), file=sys.stderr, flush=True)
    # keyed 64 B: the cases take turns for KEYED_ROUNDS rounds; each reports its median run
    # (one 3 s run apiece swung 0.9x-1.3x between two trees of similar speed)
    runs: dict[str, list[dict]] = {lib: [] for lib in keyed}
    for _ in range(1 if quick else KEYED_ROUNDS):
        for lib in keyed:
            runs[lib].append(throughput(lib, 64, seconds))
            print(json.dumps(runs[lib][-1]), file=sys.stderr, flush=True)
    for rs in runs.values():
        ok = [r for r in rs if "samples_per_s" in r]
        if not ok:
            tput.append(rs[-1])
            continue
        median = sorted(ok, key=lambda r: r["samples_per_s"])[len(ok) // 2]
        tput.append({**median, "runs_samples_per_s": [r.get("samples_per_s") for r in rs],
                     "lossless": all(r.get("lossless") for r in rs)})
    # keyless against the baseline tree: the two take turns, the ratio is the median of the
    # rounds' ratios (a keyless case may not be slower than the baseline beyond noise)
    ab: list[dict] = []
    for lib in [k for k in BASELINES if k.startswith("rtbus@")]:
        for size in AB_SIZES:
            pair = {"rtbus": [], lib: []}
            for _ in range(1 if quick else AB_ROUNDS):
                for name in pair:
                    r = throughput(name, size, seconds)
                    pair[name].append(r.get("samples_per_s"))
                    print(json.dumps(r), file=sys.stderr, flush=True)
            ratios = sorted(a / b for a, b in zip(pair["rtbus"], pair[lib], strict=True)
                            if a and b)
            ab.append({"size": size, "baseline": lib, "runs_samples_per_s": pair,
                       "ratio_median": round(ratios[len(ratios) // 2], 3) if ratios else None})
    md = table(lat, tput, ab)
    print(md)
    result = {"command": "python -m rtbus.netns python benchmarks/transport.py"
                         + (" --quick" if quick else "")
                         + (" --baseline DIR" if "--baseline" in sys.argv else ""),
              "argv": shlex.join(sys.argv), "machine": machine(),
              "wall_s": round(time.monotonic() - t0, 1), "latency_rounds": rounds,
              "throughput_send_seconds": seconds, "latency": lat, "throughput": tput,
              "keyless_vs_baseline": ab,
              "table_markdown": md}
    name = "transport-quick.json" if quick else "transport.json"
    if libs != LIBS:
        name = "transport-partial.json"  # not committed (see .gitignore)
    out = HERE / "results" / name
    out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
