"""The suite runs inside a private network namespace (the network rule); ``python -m
rtbus.netns`` has its own help, and ``--loss`` works with iptables or, where iptables is not
installed (a fresh Debian has only nftables), with nft."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rtbus import netns


def test_suite_runs_in_private_namespace() -> None:
    if os.environ.get(netns.ENV_FLAG) == "0":
        pytest.fail("network namespaces unavailable: interop tests would run on loopback only")
    assert netns.inside()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    assert names == ["lo"], f"expected only loopback in the test namespace, got {names}"


def test_multicast_loops_back_on_lo() -> None:
    group, port = "239.255.0.1", 17401
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rx.bind(("", port))
    mreq = socket.inet_aton(group) + socket.inet_aton("127.0.0.1")
    rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    rx.settimeout(2.0)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    tx.sendto(b"ping", (group, port))
    data, _ = rx.recvfrom(100)
    assert data == b"ping"
    rx.close()
    tx.close()


COUNT_UDP = r"""
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
got = 0
for i in range(300):
    s.sendto(b"x", r.getsockname())
    r.settimeout(0.02)
    try:
        r.recv(16); got += 1
    except OSError:
        pass
print(got)
"""


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rtbus.netns", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_help_is_rtbus_netns_own() -> None:
    run = _run(["--help"])
    assert run.returncode == 0
    assert run.stdout.startswith("usage: python -m rtbus.netns")
    assert "--loss PCT" in run.stdout
    assert _run([]).returncode == 2
    bad = _run(["--loss", "150", "true"])
    assert bad.returncode == 2 and "0 to 100" in bad.stderr


def _path_without_iptables(tmp_path: Path) -> str:
    """A PATH holding just what the namespace setup and the script need: nft, no iptables."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "ip", "awk", "nft", "unshare", "true", "env"):
        found = shutil.which(tool)
        if found is None:
            pytest.fail(f"{tool} is needed for this test (Debian's base system has it)")
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python").symlink_to(sys.executable)
    return str(bin_dir)


@pytest.mark.parametrize("firewall", ["iptables", "nft"])
def test_loss_drops_about_that_share(firewall: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    if firewall == "nft":
        env["PATH"] = _path_without_iptables(tmp_path)
    elif shutil.which("iptables") is None:
        pytest.skip("iptables is not installed here (the nft case covers --loss)")
    run = _run(["--loss", "50", "python", "-c", COUNT_UDP], env)
    assert run.returncode == 0, run.stderr
    got = int(run.stdout.strip())
    assert 90 <= got <= 210, f"{got}/300 datagrams arrived with 50% loss ({firewall})"
    assert int(_run(["--fresh", "python", "-c", COUNT_UDP], env).stdout.strip()) == 300
