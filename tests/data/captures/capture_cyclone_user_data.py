"""Record the RTPS datagrams of a Cyclone DDS writer/reader pair (seed corpus for wire tests).

Run inside the private namespace only (it opens DDS sockets and a packet socket on lo):

    python -m rtbus.netns python tests/data/captures/capture_cyclone_user_data.py OUT.json

Two processes (writer, reader) on domain 0 exchange reliable keyed samples: small ones, one
large enough to be fragmented (DATA_FRAG), a dispose and an unregister.
Every UDP payload starting with ``RTPS`` seen on lo is written as {src, dst, t, hex}.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time

PEER = r'''
import sys, time
from dataclasses import dataclass
from cyclonedds.domain import DomainParticipant
from cyclonedds.topic import Topic
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.core import Qos, Policy
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import key
import cyclonedds.idl.types as t

@dataclass
class Blob(IdlStruct, typename="wirecap::Blob"):
    id: t.int32
    key("id")
    data: t.sequence[t.uint8]

qos = Qos(Policy.Reliability.Reliable(t.duration if False else 1_000_000_000),
          Policy.History.KeepAll, Policy.Durability.TransientLocal)
dp = DomainParticipant(0)
tp = Topic(dp, "WireCapture", Blob)
if sys.argv[1] == "w":
    w = DataWriter(dp, tp, qos=qos)
    time.sleep(1.5)
    for i in range(20):
        w.write(Blob(i % 3, bytes([i]) * (i + 1)))
        time.sleep(0.01)
    w.write(Blob(7, bytes(range(256)) * 20))
    w.write(Blob(8, bytes(range(251)) * 400))
    w.dispose(Blob(1, b""))
    w.unregister_instance(Blob(2, b""))
    time.sleep(4)
else:
    r = DataReader(dp, tp, qos=qos)
    end = time.time() + 6.5
    while time.time() < end:
        r.take(N=100)
        time.sleep(0.05)
'''


def udp_payloads(frame: bytes) -> tuple[str, str, bytes] | None:
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17:
        return None
    src = socket.inet_ntoa(ip[12:16])
    dst = socket.inet_ntoa(ip[16:20])
    sport, dport, ulen = struct.unpack_from(">HHH", ip, ihl)
    data = bytes(ip[ihl + 8:ihl + ulen])
    if not data.startswith(b"RTPS"):
        return None
    return f"{src}:{sport}", f"{dst}:{dport}", data


def main() -> None:
    out = sys.argv[1]
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.2)
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-c", PEER, role]) for role in ("r", "w")]
    seen = []
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() - t0 < 30:
            try:
                frame, addr = sniffer.recvfrom(65535)
            except TimeoutError:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                continue  # lo shows each packet twice
            got = udp_payloads(frame)
            if got:
                seen.append({"src": got[0], "dst": got[1], "t": round(time.monotonic() - t0, 4),
                             "hex": got[2].hex()})
    finally:
        for p in procs:
            p.kill()
            p.wait()
    with open(out, "w") as f:
        json.dump(seen, f, indent=0)
    print(f"{len(seen)} datagrams -> {out}")


if __name__ == "__main__":
    main()
