"""The suite itself must run inside a private network namespace (the network rule)."""

import os
import socket
import subprocess

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
