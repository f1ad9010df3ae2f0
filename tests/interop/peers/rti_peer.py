"""An RTI Connext peer (rticonnextdds-connector) driven by JSON lines, run as a subprocess.

A subprocess because the native Connext library may block while holding the GIL, which would
starve rtbus's engine thread, and because Connext keeps process-wide state.

argv: domain topic role   (role "pub" or "sub"; configuration in rti_shapes.xml)
Commands, one JSON object per line on stdin, each answered by one JSON line on stdout:
  {"cmd": "wait_matched", "timeout": 10}       -> {"ok": true}  (subscriptions/publications)
  {"cmd": "write", "count": 1000, "size": 3}   writes x=i, y=-i, color GREEN/YELLOW, payload
                                               byte j = (i + j) % 251 (size bytes)
  {"cmd": "take", "count": 1000, "timeout": 30} -> {"ok": true, "samples": [...]}; each sample
      {color, x, y, shapesize, n, digest}: n payload bytes and their sha256, or "dispose"
  {"cmd": "wait_acks", "timeout": 10}
  {"cmd": "quit"}
"""

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import rticonnextdds_connector as rti

XML = Path(__file__).with_name("rti_shapes.xml")


def payload(i: int, size: int) -> list[int]:
    return [(i + j) % 251 for j in range(size)]


def _sample(s) -> dict:
    if not s.info["valid_data"]:
        return {"dispose": True, "color": s.get_string("color")}
    data = s.get_dictionary()
    raw = bytes(data.get("additional_payload_size") or [])
    return {"color": data["color"], "x": data["x"], "y": data["y"],
            "shapesize": data["shapesize"], "n": len(raw),
            "digest": hashlib.sha256(raw).hexdigest()}


def main() -> None:
    domain, topic, role = sys.argv[1], sys.argv[2], sys.argv[3]
    text = XML.read_text().replace("DOMAIN_ID", domain).replace("TOPIC_NAME", topic)
    cfg = Path(tempfile.mkdtemp()) / "rti_shapes.xml"
    cfg.write_text(text)
    name = "Participants::Pub" if role == "pub" else "Participants::Sub"
    with rti.open_connector(config_name=name, url=str(cfg)) as conn:
        output = conn.get_output("Publisher::Writer") if role == "pub" else None
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
                            "shapesize": 30, "additional_payload_size": payload(i, size)})
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
