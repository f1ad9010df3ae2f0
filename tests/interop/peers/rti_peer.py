"""An RTI Connext peer (rticonnextdds-connector) driven by JSON lines, run as a subprocess.

A subprocess because the native Connext library may block while holding the GIL, which would
starve rtbus's engine thread, and because Connext keeps process-wide state.

argv: domain topic role   (role "pub", "owner" -- a writer that is EXCLUSIVE with strength 10
                          and a 1 s AUTOMATIC liveliness lease -- or "sub"; configuration in
                          rti_shapes.xml)
Commands, one JSON object per line on stdin, each answered by one JSON line on stdout:
  {"cmd": "wait_matched", "timeout": 10}       -> {"ok": true}  (subscriptions/publications)
  {"cmd": "write", "count": 1000, "size": 3}   writes x=i, y=-i, color GREEN/YELLOW, payload
                                               byte j = (i + j) % 251 (size bytes)
  {"cmd": "take", "count": 1000, "timeout": 30} -> {"ok": true, "samples": [...]}; each sample
      {color, x, y, shapesize, n, digest}: n payload bytes and their sha256, or "dispose"
  {"cmd": "wait_acks", "timeout": 10}
  {"cmd": "quit"}
"""

import ctypes
import functools
import hashlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import rticonnextdds_connector as rti

XML = Path(__file__).with_name("rti_shapes.xml")


def payload(i: int, size: int) -> bytes:
    base = bytes(range(251))
    start = i % 251
    reps = (start + size) // 251 + 1
    return (base * reps)[start:start + size]


def _set_octets(output, member: str, data: bytes) -> None:
    """Set an octet sequence through Connext's C API on the output's DynamicData.

    The connector's JSON path (set_dictionary) takes ~18 s for a 1 MiB list of numbers; the
    connector exposes the native DynamicData (Instance.native) for exactly this purpose, and
    the Connext C library it loads exports DDS_DynamicData_set_octet_array.
    """
    fn = _nddsc().DDS_DynamicData_set_octet_array
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
                   ctypes.c_char_p]
    rc = fn(output.instance.native, member.encode(), 0, len(data), data)
    if rc != 0:
        raise RuntimeError(f"DDS_DynamicData_set_octet_array({member}) returned {rc}")


@functools.cache
def _nddsc() -> ctypes.CDLL:
    lib = Path(rti.__file__).resolve().parent.parent / "rticonnextdds-connector" / "lib"
    arch = {"x86_64": "linux-x64", "aarch64": "linux-arm64"}.get(platform.machine(),
                                                                  "linux-x64")
    return ctypes.CDLL(str(lib / arch / "libnddsc.so"), ctypes.RTLD_GLOBAL)


def _sample(s) -> dict:
    if not s.info["valid_data"]:
        return {"dispose": True, "color": s.get_string("color")}
    raw = _get_octets(s, "additional_payload_size")
    return {"color": s.get_string("color"), "x": int(s.get_number("x")),
            "y": int(s.get_number("y")), "shapesize": int(s.get_number("shapesize")),
            "n": len(raw), "digest": hashlib.sha256(raw).hexdigest()}


_MAX_OCTETS = 64 << 20


def _get_octets(sample, member: str) -> bytes:
    """Read an octet sequence through Connext's C API (get_dictionary goes through JSON: far
    too slow for 8 MiB)."""
    fn = _nddsc().DDS_DynamicData_get_octet_array
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32),
                   ctypes.c_char_p, ctypes.c_uint32]
    buf = _octet_buffer()
    length = ctypes.c_uint32(_MAX_OCTETS)
    rc = fn(sample.native, buf, ctypes.byref(length), member.encode(), 0)
    if rc != 0:
        raise RuntimeError(f"DDS_DynamicData_get_octet_array({member}) returned {rc}")
    return ctypes.string_at(buf, length.value)


@functools.cache
def _octet_buffer() -> ctypes.Array:
    return ctypes.create_string_buffer(_MAX_OCTETS)


def main() -> None:
    domain, topic, role = sys.argv[1], sys.argv[2], sys.argv[3]
    text = XML.read_text().replace("DOMAIN_ID", domain).replace("TOPIC_NAME", topic)
    cfg = Path(tempfile.mkdtemp()) / "rti_shapes.xml"
    cfg.write_text(text)
    name = {"pub": "Participants::Pub", "owner": "Participants::Owner"}.get(
        role, "Participants::Sub")
    with rti.open_connector(config_name=name, url=str(cfg)) as conn:
        output = conn.get_output("Publisher::Writer") if role in ("pub", "owner") else None
        inp = conn.get_input("Subscriber::Reader") if role == "sub" else None
        print(json.dumps({"ok": True, "ready": True}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                cmd = req["cmd"]
                if cmd == "wait_matched":
                    ms = int(req.get("timeout", 10) * 1000)
                    if output is not None:
                        n = output.wait_for_subscriptions(ms)
                    else:
                        n = inp.wait_for_publications(ms)
                    reply = {"ok": True, "change": n}
                elif cmd == "write":
                    size = req.get("size", 3)
                    for i in range(req["count"]):
                        output.instance.set_dictionary({
                            "color": ("GREEN", "YELLOW")[i % 2], "x": i, "y": -i,
                            "shapesize": 30})
                        _set_octets(output, "additional_payload_size", payload(i, size))
                        output.write()
                    reply = {"ok": True}
                elif cmd == "wait_acks":
                    output.wait(int(req.get("timeout", 10) * 1000))
                    reply = {"ok": True}
                elif cmd == "take":
                    got: list[dict] = []
                    end = time.monotonic() + req.get("timeout", 30)
                    while len(got) < req["count"] and time.monotonic() < end:
                        try:
                            inp.wait(500)
                        except rti.TimeoutError:
                            continue
                        inp.take()
                        got += [_sample(s) for s in inp.samples]
                        # hand the loan back at once: loaned samples still count against the
                        # reader's resource limits, and a full reader stops asking for more
                        inp.return_samples()
                    reply = {"ok": True, "samples": got}
                elif cmd == "quit":
                    print(json.dumps({"ok": True}), flush=True)
                    return
                else:
                    reply = {"ok": False, "error": f"unknown command {cmd!r}"}
            except Exception as exc:  # report to the test instead of dying silently
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
