"""One side of a transport benchmark, in its own process (driven by benchmarks/transport.py).

    python transport_peer.py LIB ROLE SIZE ARG

LIB: rtbus | cyclone | zenoh, or rtbus-keyed | cyclone-keyed: the keyed OMG ShapeType
(@appendable, @key string color; four instances in turn) carrying the SIZE bytes in its
``additional_payload_size``, instead of the keyless Blob.  ROLE:
  pong  echo every "ping" sample on "pong" until stdin closes (ARG unused)
  ping  after "ready", "run N" on stdin: N round trips of SIZE-byte samples; prints JSON
        with the RTTs (ns), per line, until stdin closes (ARG unused)
  send  writes SIZE-byte samples for ARG seconds (capped), then an end marker; prints JSON
  recv  counts samples until the end marker, checks count and order; prints JSON
Every sample is a ``struct Blob { sequence<octet> data; }`` whose first 8 bytes are a
sequence number and byte 8 is 1 on the end marker. Own process per side so neither library
shares a GIL with its peer. Prints "ready" once its entities exist.
"""


import json
import struct
import sys
import threading
import time
from pathlib import Path

SEND_CAP = {64: 1_000_000, 4096: 400_000, 262144: 12_000}
COLORS = ("BLUE", "RED", "GREEN", "YELLOW")
_SHAPE_IDL_FALLBACK = """@appendable struct ShapeType { @key string<128> color; int32 x; int32 y;
  int32 shapesize; sequence<uint8> additional_payload_size; };"""

ZENOH_PORT = 7447


def payload(size: int, seq: int, end: bool = False) -> bytes:
    head = struct.pack("<QB", seq, 1 if end else 0)
    return head + bytes(size - len(head))


def header(data: bytes | memoryview) -> tuple[int, bool]:
    seq, end = struct.unpack_from("<QB", bytes(data[:9]))
    return seq, bool(end)


class Endpoint:
    """write(bytes), take(timeout) -> list[bytes], wait_matched() over one library."""

    def write(self, data: bytes) -> None: raise NotImplementedError
    def take(self, timeout: float) -> list: raise NotImplementedError
    def wait_matched(self) -> bool: raise NotImplementedError
    def flush(self) -> None: pass


class RtbusEndpoint(Endpoint):
    def __init__(self, out_topic: str, in_topic: str | None, keyed: bool = False) -> None:
        import rtbus
        import rtbus.idl
        self.keyed, self.n = keyed, 0
        if keyed:  # the shipped ShapeType (an older tree without rtbus.shape: its own copy)
            try:
                from rtbus.shape import shape_type
                self.Blob = shape_type()
            except ImportError:
                self.Blob = rtbus.idl.loads(_SHAPE_IDL_FALLBACK).ShapeType
        else:
            self.Blob = rtbus.idl.loads("struct Blob { sequence<octet> data; };").Blob
        qos = rtbus.Qos(reliability="reliable", history="keep_all")
        self.dp = rtbus.Participant(0)
        self.dp.__enter__()
        self.writer = self.dp.create_writer(self.dp.create_topic(out_topic, self.Blob), qos) \
            if out_topic else None
        self.reader = self.dp.create_reader(self.dp.create_topic(in_topic, self.Blob), qos) \
            if in_topic else None

    def write(self, data: bytes) -> None:
        if self.keyed:
            self.n += 1
            self.writer.write(self.Blob(color=COLORS[self.n & 3], x=self.n, y=0, shapesize=30,
                                        additional_payload_size=data))
        else:
            self.writer.write(self.Blob(data=data))

    def take(self, timeout: float) -> list:
        got = self.reader.take(timeout=timeout)
        if self.keyed:
            return [s.data.additional_payload_size for s in got if s.info.valid_data]
        return [s.data.data for s in got if s.info.valid_data]

    def wait_matched(self) -> bool:
        ok = True
        if self.writer is not None:
            ok = self.writer.wait_for_matched(1, 20) and ok
        if self.reader is not None:
            ok = self.reader.wait_for_matched(1, 20) and ok
        return ok

    def flush(self) -> None:
        self.writer.wait_for_acknowledgments(60)


class CycloneEndpoint(Endpoint):
    def __init__(self, out_topic: str, in_topic: str | None, keyed: bool = False) -> None:
        from dataclasses import dataclass

        from cyclonedds.core import (
            InstanceState,
            Policy,
            Qos,
            ReadCondition,
            SampleState,
            ViewState,
            WaitSet,
        )
        from cyclonedds.domain import DomainParticipant
        from cyclonedds.idl import IdlStruct
        from cyclonedds.idl import types as t
        from cyclonedds.pub import DataWriter
        from cyclonedds.sub import DataReader
        from cyclonedds.topic import Topic
        from cyclonedds.util import duration

        @dataclass
        class Blob(IdlStruct, typename="Blob"):
            data: t.sequence[t.uint8]

        # the Cyclone side of every interop test declares ShapeType once, beside its peers
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "interop"
                               / "peers"))
        from cyclone_shape import ShapeType

        self.keyed, self.n = keyed, 0
        self.Blob, self.duration = (ShapeType if keyed else Blob), duration
        qos = Qos(Policy.Reliability.Reliable(duration(seconds=60)), Policy.History.KeepAll)
        self.dp = DomainParticipant(0)
        self.writer = DataWriter(self.dp, Topic(self.dp, out_topic, self.Blob), qos=qos) \
            if out_topic else None
        self.reader = None
        if in_topic:
            self.reader = DataReader(self.dp, Topic(self.dp, in_topic, self.Blob), qos=qos)
            self.ws = WaitSet(self.dp)
            self.ws.attach(ReadCondition(self.reader, SampleState.Any | ViewState.Any
                                         | InstanceState.Any))

    def write(self, data: bytes) -> None:
        if self.keyed:
            self.n += 1
            self.writer.write(self.Blob(COLORS[self.n & 3], self.n, 0, 30, data))
        else:
            self.writer.write(self.Blob(data))

    def take(self, timeout: float) -> list:
        got = self.reader.take(N=1000)
        if not got:
            self.ws.wait(self.duration(seconds=timeout))
            got = self.reader.take(N=1000)
        if self.keyed:
            return [s.additional_payload_size for s in got if s.sample_info.valid_data]
        return [s.data for s in got if s.sample_info.valid_data]

    def wait_matched(self) -> bool:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if (self.writer is None or self.writer.get_publication_matched_status().current_count)\
                    and (self.reader is None
                         or self.reader.get_subscription_matched_status().current_count):
                return True
            time.sleep(0.01)
        return False

    def flush(self) -> None:
        self.writer.wait_for_acks(self.duration(seconds=60))


class ZenohEndpoint(Endpoint):
    """Peer mode over an explicit tcp/127.0.0.1 endpoint; no multicast scouting."""

    def __init__(self, out_topic: str, in_topic: str | None, listen: bool) -> None:
        import zenoh
        ep = f'"tcp/127.0.0.1:{ZENOH_PORT}"'
        conf = {"mode": '"peer"', "scouting/multicast/enabled": "false"}
        conf["listen/endpoints" if listen else "connect/endpoints"] = f"[{ep}]"
        if listen:
            conf["connect/endpoints"] = "[]"
        else:
            conf["listen/endpoints"] = "[]"
        config = zenoh.Config()
        for k, v in conf.items():
            config.insert_json5(k, v)
        self.session = zenoh.open(config)
        self.pub = self.session.declare_publisher(
            f"bench/{out_topic}", congestion_control=zenoh.CongestionControl.BLOCK,
            reliability=zenoh.Reliability.RELIABLE) if out_topic else None
        self.cond = threading.Condition()
        self.queue: list = []
        self.sub = None
        if in_topic:
            def on_sample(s: object) -> None:
                data = s.payload.to_bytes()  # type: ignore[attr-defined]
                with self.cond:
                    self.queue.append(data)
                    self.cond.notify()
            self.sub = self.session.declare_subscriber(f"bench/{in_topic}", on_sample)

    def write(self, data: bytes) -> None:
        self.pub.put(data)

    def take(self, timeout: float) -> list:
        with self.cond:
            if not self.queue:
                self.cond.wait(timeout)
            got, self.queue = self.queue, []
        return got

    def wait_matched(self) -> bool:
        if self.pub is None:
            return True
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.pub.matching_status.matching:
                return True
            time.sleep(0.01)
        return False


def endpoint(lib: str, out_topic: str, in_topic: str | None, role: str) -> Endpoint:
    name, _, kind = lib.partition("-")
    keyed = kind == "keyed"
    if name == "rtbus":
        return RtbusEndpoint(out_topic, in_topic, keyed)
    if name == "cyclone":
        return CycloneEndpoint(out_topic, in_topic, keyed)
    return ZenohEndpoint(out_topic, in_topic, listen=role in ("pong", "recv"))


def emit(obj: object) -> None:
    print(json.dumps(obj), flush=True)


def run_pong(ep: Endpoint) -> None:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    ep.wait_matched()
    while not stop.is_set():
        for data in ep.take(0.2):
            ep.write(bytes(data))


def run_ping(ep: Endpoint, size: int) -> None:
    """Prints "ready" once a first round trip went through, then serves the driver's
    "run N" lines (stdin) with N round trips each, answered as {"rtt_ns": [...]}: the driver
    interleaves the libraries block by block while every pair stays up."""
    if not ep.wait_matched():
        emit({"error": "no match"})
        return
    seq = 0
    # the first round trip retries until the pong side is really listening
    while True:
        ep.write(payload(size, seq))
        if ep.take(1.0):
            break
    print("ready", flush=True)
    for line in sys.stdin:
        rounds = int(line.split()[1])
        rtts: list[int] = []
        for i in range(rounds):
            seq += 1
            t0 = time.perf_counter_ns()
            ep.write(payload(size, seq))
            while True:
                got = ep.take(5.0)
                if not got:
                    emit({"error": f"no pong for round {i}"})
                    return
                if any(header(d)[0] == seq for d in got):
                    break
            rtts.append(time.perf_counter_ns() - t0)
        emit({"rtt_ns": rtts})


def run_send(ep: Endpoint, size: int, seconds: float) -> None:
    if not ep.wait_matched():
        emit({"error": "no match"})
        return
    time.sleep(0.5)  # let the reader side settle (zenoh: routes; DDS: acknack state)
    cap = SEND_CAP.get(size, 10_000)
    t0 = time.perf_counter()
    end = t0 + seconds
    n = 0
    while n < cap and (n % 64 or time.perf_counter() < end):
        ep.write(payload(size, n))
        n += 1
    ep.write(payload(size, n, end=True))
    t1 = time.perf_counter()
    ep.flush()
    emit({"sent": n + 1, "write_s": t1 - t0, "flushed_s": time.perf_counter() - t0})
    sys.stdin.read()


def run_recv(ep: Endpoint, timeout: float) -> None:
    """Count until the end marker and every sample before it have arrived. Keyless: in
    order. Keyed: each sample once (Cyclone's take groups samples by instance, so order
    across instances is not the writer's)."""
    print("ready", flush=True)
    keyed = getattr(ep, "keyed", False)
    seen: set[int] = set()
    expected = count = 0
    last: int | None = None
    t_first = 0.0
    out_of_order = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for data in ep.take(0.5):
            seq, end = header(data)
            count += 1
            if count == 1:
                t_first = time.perf_counter()
            if keyed:
                seen.add(seq)
            elif seq != expected:
                out_of_order += 1
            expected = seq + 1
            if end:
                last = seq
        if last is not None and count >= last + 1:
            t_last = time.perf_counter()
            ok = (len(seen) == count if keyed else out_of_order == 0) and count == last + 1
            emit({"received": count, "last_seq": last, "out_of_order": out_of_order,
                  "seconds": t_last - t_first, "count_ok": ok})
            sys.stdin.read()  # stay (and acknowledge) until the driver is done
            return
    emit({"error": "timeout", "received": count, "out_of_order": out_of_order})


def profile_threads(prefix: str) -> list:
    """cProfile every thread (BENCH_PROFILE=prefix): main and library threads, one file each."""
    import cProfile
    profiles: list = []
    original_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        profiles.append((self.name, prof))
        prof.runcall(original_run, self)
        prof.dump_stats(f"{prefix}.{self.name}")

    threading.Thread.run = run  # type: ignore[method-assign]
    main_prof = cProfile.Profile()
    main_prof.enable()
    profiles.append(("main", main_prof))
    return profiles


def dump_profiles(prefix: str, profiles: list) -> None:
    for name, prof in profiles:
        prof.disable()
        prof.dump_stats(f"{prefix}.{name}")


def main() -> None:
    import os
    prefix = os.environ.get("BENCH_PROFILE", "")
    profiles = profile_threads(f"{prefix}.{sys.argv[2]}") if prefix else []
    lib, role, size, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    # topics named per library: all three pairs run at once in one namespace, and rtbus and
    # Cyclone would otherwise match each other's pings (they interoperate)
    topics = {"pong": (f"pong_{lib}", f"ping_{lib}"), "ping": (f"ping_{lib}", f"pong_{lib}"),
              "send": ("tput", None), "recv": ("", "tput")}[role]
    ep = endpoint(lib, topics[0], topics[1], role)
    if role not in ("recv", "ping"):
        print("ready", flush=True)
    {"pong": lambda: run_pong(ep), "ping": lambda: run_ping(ep, size),
     "send": lambda: run_send(ep, size, arg), "recv": lambda: run_recv(ep, arg)}[role]()
    sys.stdout.flush()
    if os.environ.get("BENCH_COUNTERS") and hasattr(ep, "dp") and hasattr(ep.dp, "counters"):
        print(json.dumps({"counters": role, **{k: v for k, v in ep.dp.counters().items() if v}}),
              file=sys.stderr, flush=True)  # BENCH_COUNTERS=1: what the engine counted
    if prefix:
        dump_profiles(f"{prefix}.{sys.argv[2]}", profiles)
    os._exit(0)  # skip slow library teardown; results are already printed


if __name__ == "__main__":
    main()
