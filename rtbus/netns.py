"""Run a command inside a private network namespace whose loopback carries multicast.

DDS discovery multicasts; a test or benchmark must never let a datagram leave the machine.
``python -m rtbus.netns CMD...`` (and the test suite, by re-executing itself) runs CMD in a
fresh namespace with only ``lo``, set up for multicast (224.0.0.0/4 routed to ``lo``).
``--loss PCT`` drops that share of received UDP datagrams with iptables, for reliability tests
(always in a fresh namespace, nested if need be, so the loss stays local to CMD); ``--fresh``
asks for a fresh namespace even when already inside one.

Where namespaces are unavailable (no root and no user namespaces), ``RTBUS_NETNS=0`` is set
and callers fall back to loopback-only unicast discovery.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ENV_FLAG = "RTBUS_NETNS"

_SETUP = r"""
set -e
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
if [ -n "$RTBUS_NETNS_LOSS" ]; then
  p=$(awk -v l="$RTBUS_NETNS_LOSS" 'BEGIN{printf "%.4f", l/100}')
  iptables -A INPUT -p udp -m statistic --mode random --probability "$p" -j DROP
fi
exec "$@"
"""


def inside() -> bool:
    """True when this process already runs in an rtbus/netns-run namespace."""
    return os.environ.get(ENV_FLAG) == "1"


def unshare_command() -> list[str] | None:
    """The ``unshare`` prefix that works here (root: -n; otherwise user+net: -rn), or None."""
    exe = shutil.which("unshare")
    if exe is None or shutil.which("ip") is None:
        return None
    for flags in (["-n"], ["-rn"]) if os.geteuid() == 0 else (["-rn"],):
        probe = subprocess.run([exe, *flags, "--", "true"], capture_output=True)
        if probe.returncode == 0:
            return [exe, *flags, "--"]
    return None


def wrap(argv: list[str], loss: float | None = None) -> list[str] | None:
    """argv rewritten to run inside a fresh namespace, or None if namespaces are unavailable."""
    prefix = unshare_command()
    if prefix is None:
        return None
    os.environ[ENV_FLAG] = "1"
    os.environ["RTBUS_NETNS_LOSS"] = str(loss) if loss else ""
    return [*prefix, "bash", "-c", _SETUP, "rtbus-netns", *argv]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    loss = None
    fresh = False
    while args[:1] in (["--loss"], ["--fresh"]):
        if args[0] == "--fresh":  # a new namespace even when already inside one
            fresh = True
            args = args[1:]
        else:
            loss = float(args[1])
            args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m rtbus.netns [--fresh] [--loss PCT] [--] CMD [ARG...]",
              file=sys.stderr)
        return 2
    if inside() and not fresh and not loss:
        os.execvp(args[0], args)
    wrapped = wrap(args, loss)
    if wrapped is None:
        print("rtbus.netns: network namespaces unavailable (need root or user namespaces)",
              file=sys.stderr)
        return 3
    os.execvp(wrapped[0], wrapped)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
