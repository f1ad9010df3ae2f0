"""``rtbus demo``: a publisher and a subscriber of the OMG ShapeType on a private network.

The demo re-executes itself in a fresh network namespace (loopback with multicast) so that
nothing it sends can leave the machine; where namespaces are unavailable it runs on
loopback with unicast discovery only. It discovers, matches, moves shapes for a few seconds
with reliable delivery, disposes one instance, and prints what it saw and how fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from . import netns


def _run(args: argparse.Namespace) -> int:
    import rtbus
    import rtbus.idl
    from rtbus.rtps.instances import InstanceState
    from rtbus.shape import shape_type

    Shape: Any = shape_type()
    loopback_only = os.environ.get(netns.ENV_FLAG) == "0"
    opts: dict[str, Any] = {}
    if loopback_only:
        opts = {"interface": "127.0.0.1", "multicast": False, "peers": ["127.0.0.1"]}
        print("network namespaces unavailable: loopback-only unicast discovery")
    qos = rtbus.Qos(reliability="reliable", history="keep_all")  # every sample, paced
    t0 = time.monotonic()
    with rtbus.Participant(args.domain, name="demo-pub", **opts) as pub, \
            rtbus.Participant(args.domain, name="demo-sub", **opts) as sub:
        writer = pub.create_writer(pub.create_topic("Square", Shape), qos)
        reader = sub.create_reader(sub.create_topic("Square", Shape), qos)
        if not (writer.wait_for_matched(1, 10) and reader.wait_for_matched(1, 10)):
            print("demo: writer and reader did not match within 10 s", file=sys.stderr)
            return 1
        print(f"matched after {1000 * (time.monotonic() - t0):.1f} ms "
              f"(participants {pub.guid_prefix.hex()} and {sub.guid_prefix.hex()})")
        colors = ("BLUE", "RED", "GREEN")
        received = 0
        for i in range(args.samples):
            c = colors[i % 3]
            writer.write(Shape(color=c, x=(i * 7) % 240, y=(i * 11) % 270, shapesize=30,
                               additional_payload_size=b""))
            for s in reader.take():
                received += 1
                if received <= args.show:
                    d: Any = s.data
                    print(f"{'Square':<10} {d.color:<10} {d.x:03d} {d.y:03d} [{d.shapesize}]")
        writer.wait_for_acknowledgments(10)
        writer.dispose(Shape(color="BLUE", x=0, y=0, shapesize=30, additional_payload_size=b""))
        disposed = False
        end = time.monotonic() + 5
        while (received < args.samples or not disposed) and time.monotonic() < end:
            for s in reader.take(timeout=0.2):
                if s.info.valid_data:
                    received += 1
                elif s.info.instance_state == InstanceState.NOT_ALIVE_DISPOSED:
                    disposed = True
        elapsed = time.monotonic() - t0
        print(f"received {received}/{args.samples} samples reliably; BLUE instance disposed: "
              f"{disposed}; {elapsed:.2f} s in all")
        return 0 if received == args.samples and disposed else 1


def demo(args: argparse.Namespace) -> int:
    """``rtbus demo``'s handler: into a private namespace first, then run."""
    if not netns.inside() and os.environ.get(netns.ENV_FLAG) != "0":
        wrapped = netns.wrap([sys.executable, "-m", "rtbus", *sys.argv[1:]])
        if wrapped is not None:
            sys.stdout.flush()
            os.execvp(wrapped[0], wrapped)
        os.environ[netns.ENV_FLAG] = "0"
    return _run(args)
