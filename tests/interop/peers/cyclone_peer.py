"""A Cyclone DDS peer driven by JSON lines, run as a subprocess by the interop tests.

Runs in its own process because Cyclone keeps process-wide state (its domain threads) that
must not leak into pytest. Commands arrive one JSON object per line on stdin; every command is
answered with exactly one JSON line on stdout (``{"ok": true, ...}`` or ``{"ok": false,
"error": ...}``).

Commands:
  {"cmd": "participant", "domain": DOMAIN_ID}
  {"cmd": "writer"|"reader", "topic": "Square", "reliable": true, "transient_local": false,
   "partition": ["a"], "deadline_ns": 250000000, "exclusive_strength": 7}
  {"cmd": "participants"}        -> {"ok": true, "keys": [guid hex, ...]} (DCPSParticipant)
  {"cmd": "subscriptions"}       -> endpoints seen on DCPSSubscription (key, participant,
                                    topic, type, qos as a list of Policy reprs)
  {"cmd": "publications"}        -> endpoints seen on DCPSPublication
  {"cmd": "write", "color": "BLUE", "x": 1, "y": 2, "shapesize": 30}
  {"cmd": "quit"}
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
import json
import sys
from dataclasses import dataclass

from cyclonedds.builtin import (
    BuiltinDataReader,
    BuiltinTopicDcpsParticipant,
    BuiltinTopicDcpsPublication,
    BuiltinTopicDcpsSubscription,
)
from cyclonedds.core import InstanceState, Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import key
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic


@dataclass
class ShapeType(IdlStruct, typename="ShapeType"):
    color: str
    key("color")
    x: int
    y: int
    shapesize: int


def _guid(u) -> str:
    return u.bytes.hex()


def _endpoints(reader) -> list[dict]:
    out = []
    for s in reader.read(N=256):
        alive = s.sample_info.instance_state == InstanceState.Alive
        out.append({"alive": alive, "key": _guid(s.key), "participant": _guid(s.participant_key),
                    "topic": s.topic_name, "type": s.type_name,
                    "qos": [repr(p) for p in s.qos] if s.qos is not None else []})
    return out


def main() -> None:
    dp = None
    writer = None
    keep = []
    readers: dict[str, object] = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            cmd = req["cmd"]
            if cmd == "participant":
                dp = DomainParticipant(req["domain"])
                readers["participants"] = BuiltinDataReader(dp, BuiltinTopicDcpsParticipant)
                readers["subscriptions"] = BuiltinDataReader(dp, BuiltinTopicDcpsSubscription)
                readers["publications"] = BuiltinDataReader(dp, BuiltinTopicDcpsPublication)
                reply = {"ok": True, "guid": _guid(dp.guid)}
            elif cmd in ("writer", "reader"):
                policies = [Policy.Reliability.Reliable(0) if req.get("reliable", True)
                            else Policy.Reliability.BestEffort,
                            Policy.Durability.TransientLocal if req.get("transient_local")
                            else Policy.Durability.Volatile]
                if req.get("deadline_ns"):
                    policies.append(Policy.Deadline(req["deadline_ns"]))
                if req.get("exclusive_strength") is not None:
                    policies.append(Policy.Ownership.Exclusive)
                    if cmd == "writer":
                        policies.append(Policy.OwnershipStrength(req["exclusive_strength"]))
                if req.get("partition"):
                    policies.append(Policy.Partition(req["partition"]))
                qos = Qos(*policies)
                topic = Topic(dp, req.get("topic", "Square"), ShapeType)
                if cmd == "writer":
                    ent = DataWriter(Publisher(dp, qos=qos), topic, qos=qos)
                    writer = ent
                else:
                    ent = DataReader(Subscriber(dp, qos=qos), topic, qos=qos)
                keep.append(ent)
                reply = {"ok": True, "guid": _guid(ent.guid)}
            elif cmd == "participants":
                seen = readers["participants"].read(N=256)
                reply = {"ok": True, "keys": [_guid(s.key) for s in seen]}
            elif cmd in ("subscriptions", "publications"):
                reply = {"ok": True, "endpoints": _endpoints(readers[cmd])}
            elif cmd == "write":
                writer.write(ShapeType(req["color"], req["x"], req["y"], req["shapesize"]))
                reply = {"ok": True}
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
