"""Run a command inside a private network namespace whose loopback carries multicast.

DDS discovery multicasts; a test or benchmark must never let a datagram leave the machine.
``python -m rtbus.netns CMD...`` (and the test suite, by re-executing itself) runs CMD in a
fresh namespace with only ``lo``, set up for multicast (224.0.0.0/4 routed to ``lo``).
``--loss PCT`` drops that share of received UDP datagrams (with iptables where it is
installed, else with nftables' ``nft``, which Debian ships by default), for reliability tests
(always in a fresh namespace, nested if need be, so the loss stays local to CMD); ``--fresh``
asks for a fresh namespace even when already inside one.

Where namespaces are unavailable (no root and no user namespaces), ``RTBUS_NETNS=0`` is set
and callers fall back to loopback-only unicast discovery.
"""

from __future__ import annotations

import argparse
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
  if command -v iptables >/dev/null; then
    iptables -A INPUT -p udp -m statistic --mode random --probability "$p" -j DROP
  elif command -v nft >/dev/null; then
    n=$(awk -v l="$RTBUS_NETNS_LOSS" 'BEGIN{printf "%d", l*100}')
    nft add table inet rtbus_loss
    nft add chain inet rtbus_loss input '{ type filter hook input priority 0; }'
    nft add rule inet rtbus_loss input meta l4proto udp numgen random mod 10000 '<' "$n" drop
  else
    echo "rtbus.netns: --loss needs iptables or nft (Debian: apt-get install iptables)" >&2
    exit 4
  fi
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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rtbus.netns",
        description="Run CMD in a private network namespace whose loopback carries multicast, "
                    "so no datagram of it can leave the machine.")
    p.add_argument("--fresh", action="store_true",
                   help="a new namespace even when already inside one")
    p.add_argument("--loss", type=float, metavar="PCT",
                   help="drop PCT percent of received UDP datagrams at random (0-100)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD [ARG...]",
                   help="the command to run (put -- before it if it starts with -)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.print_usage(sys.stderr)
        print("python -m rtbus.netns: error: no command given", file=sys.stderr)
        return 2
    loss = args.loss
    if loss is not None and not 0 <= loss <= 100:
        parser.error(f"--loss: expected a percentage from 0 to 100, got {loss:g}")
    if inside() and not args.fresh and not loss:
        os.execvp(command[0], command)
    wrapped = wrap(command, loss)
    if wrapped is None:
        print("rtbus.netns: network namespaces unavailable (need root or user namespaces)",
              file=sys.stderr)
        return 3
    os.execvp(wrapped[0], wrapped)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
