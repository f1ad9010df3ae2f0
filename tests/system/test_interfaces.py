"""Interface selection, unicast-only discovery and socket buffers, proven on real interfaces.

Scenarios that create interfaces (veth pairs) run in peers/interfaces_peer.py inside a fresh
network namespace nested in the suite's, so each sees only its own interfaces and the host's
are never touched; the peer prints what happened and the assertions are made here. Without
namespaces (``RTBUS_NETNS=0``) every test here is skipped: it would touch the host's network.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rtbus
from rtbus import netns

pytestmark = pytest.mark.system
PEER = Path(__file__).parent / "peers" / "interfaces_peer.py"
SELECT_CASES = 8  # scenarios of the peer's "select", each on a domain of its own
ROOT = Path(__file__).parents[2]


def _skip_outside_the_test_namespace() -> None:
    if os.environ.get(netns.ENV_FLAG) == "0" or not netns.inside():
        pytest.skip("network namespaces unavailable (RTBUS_NETNS=0): these tests create "
                    "interfaces and open multicast sockets, which would touch the host's network")


@pytest.fixture(autouse=True)
def _inside_the_test_namespace() -> None:
    """Every test here opens sockets or creates interfaces: never on the host's network."""
    _skip_outside_the_test_namespace()


def run_in_fresh_namespace(*args: str) -> dict[str, Any]:
    _skip_outside_the_test_namespace()  # module-scoped fixtures run before the autouse one
    proc = subprocess.run([sys.executable, "-m", "rtbus.netns", "--fresh", sys.executable,
                           str(PEER), *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def host(locator: str) -> str:
    """``udp/10.77.0.1:7410`` -> ``10.77.0.1``."""
    return locator.split("/", 1)[1].rsplit(":", 1)[0]


def domains(new_domain_id: Callable[[], int], n: int) -> list[str]:
    """``n`` fresh domain ids, as arguments for the peer."""
    return [str(new_domain_id()) for _ in range(n)]


@pytest.fixture(scope="module")
def selections(new_domain_id: Callable[[], int]) -> dict[str, Any]:
    return run_in_fresh_namespace("select", *domains(new_domain_id, SELECT_CASES))


@pytest.fixture(scope="module")
def errors(new_domain_id: Callable[[], int]) -> dict[str, Any]:
    return run_in_fresh_namespace("errors", *domains(new_domain_id, 2))


# interfaces in the "select" scenario: lo, va 10.77.0.1, vb 10.78.0.1 + 10.78.0.9 (secondary)
@pytest.mark.parametrize("case,interface,address,reason", [
    ("argument_name", "va", "10.77.0.1", "argument"),
    ("argument_address", "va", "10.77.0.1", "argument"),
    ("argument_secondary_address", "vb", "10.78.0.9", "argument"),
    ("environment", "vb", "10.78.0.1", "environment"),
    ("config_file", "va", "10.77.0.1", "config file"),
    ("argument_beats_environment_and_config", "va", "10.77.0.1", "argument"),
    ("environment_beats_config", "vb", "10.78.0.1", "environment"),
])
def test_selected_interface_is_the_one_announced_in_spdp(
        selections: dict[str, Any], case: str, interface: str, address: str,
        reason: str) -> None:
    got = selections[case]
    assert (got["interface"], got["address"], got["reason"]) == (interface, address, reason)
    assert [host(loc) for loc in got["metatraffic_unicast"] + got["default_unicast"]] == \
        [address, address]
    seen = got["seen_by_peer"]
    assert seen is not None, f"{case}: a participant listening on {address} never discovered it"
    assert [host(loc) for loc in seen["metatraffic_unicast"] + seen["default_unicast"]] == \
        [address, address]


def test_automatic_choice_prefers_a_multicast_interface_over_loopback(
        selections: dict[str, Any]) -> None:
    got = selections["automatic"]
    assert got["reason"] == "automatic"
    assert got["interface"] in ("va", "vb") and got["multicast"]
    assert got["seen_by_peer"] is not None


@pytest.mark.parametrize("case,value,source,why", [
    ("wrong_name", "eth7", "argument", "is not an interface name or IPv4 address"),
    ("wrong_address", "10.99.0.1", "argument", "is not an interface name or IPv4 address"),
    ("no_ipv4", "vc", "argument", "has no IPv4 address"),
    ("wrong_environment", "wlan9", "environment", "is not an interface name or IPv4 address"),
])
def test_wrong_interface_is_a_typed_error_listing_the_available_ones(
        errors: dict[str, Any], case: str, value: str, source: str, why: str) -> None:
    err = errors[case]
    assert err is not None and err["type"] == "InterfaceError" and "RtbusError" in err["mro"]
    message = err["message"]
    assert f"{value!r} (from {source}) {why}" in message
    for available in ("lo (127.0.0.1, up", "va (10.77.0.1, up, multicast)", "vc (no IPv4)"):
        assert available in message


@pytest.mark.parametrize("case,expected", [
    ("missing_config", "no such file"),
    ("bad_toml", "not a readable TOML file"),
    ("unknown_key", "unknown key(s) in [network]: interfase"),
])
def test_broken_config_file_is_a_typed_error(errors: dict[str, Any], case: str,
                                             expected: str) -> None:
    err = errors[case]
    assert err is not None and err["type"] == "ConfigError" and "RtbusError" in err["mro"]
    assert expected in err["message"]


def test_interface_that_is_down_is_used_with_a_warning(errors: dict[str, Any]) -> None:
    down = errors["down"]
    assert (down["chosen"]["interface"], down["chosen"]["address"]) == ("vd", "10.79.0.1")
    assert [host(loc) for loc in down["chosen"]["metatraffic_unicast"]] == ["10.79.0.1"]
    assert any("interface vd (10.79.0.1, from argument) is down" in w
               for w in down["warnings"]), down["warnings"]


def test_veth_pair_multicast_discovery_and_reliable_data(domain_id: int) -> None:
    result = run_in_fresh_namespace("pair", "multicast", str(domain_id))
    writer, reader = result["writer"], result["reader"]
    assert result["reader_exit"] == 0 and reader is not None
    assert (writer["interface"], writer["address"]) == ("va", "10.77.0.1")
    assert (reader["reader"]["interface"], reader["reader"]["address"]) == ("vb", "10.77.0.2")
    assert result["matched"] and reader["matched"] and result["acknowledged"]
    assert reader["got"] == list(range(200))
    assert reader["writer_participant_locators"] == [[f"udp/10.77.0.1:{writer_port(writer)}"]]
    assert "239.255.0.1" in result["writer_groups"]["va"]
    assert "239.255.0.1" in reader["groups"]["vb"]
    # the two namespaces share nothing but the veth pair, so the data crossed it
    # (bytes, not packets: a burst of writes shares datagrams; a sample's DATA is > 40 bytes)
    assert result["va"]["tx_bytes"] >= 200 * 40 and reader["vb"]["rx_bytes"] >= 200 * 40


@pytest.mark.parametrize("mode", ["unicast", "unicast-one-side"])
def test_unicast_only_discovery_with_initial_peers_opens_no_multicast_socket(
        mode: str, domain_id: int) -> None:
    """Both sides list each other, or only the writer does (the reader answers its SPDP)."""
    result = run_in_fresh_namespace("pair", mode, str(domain_id))
    writer, reader = result["writer"], result["reader"]
    assert result["reader_exit"] == 0 and reader is not None
    assert result["matched"] and reader["matched"] and result["acknowledged"]
    assert reader["got"] == list(range(200))
    for side, groups in ((writer, result["writer_groups"]), (reader["reader"], reader["groups"])):
        assert side["multicast"] is False
        assert side["metatraffic_multicast"] == []
        assert [s["group"] for s in side["sockets"]] == [None, None]
        assert all("239.255.0.1" not in joined for joined in groups.values())
    assert reader["writer_participant_locators"] == [[f"udp/10.77.0.1:{writer_port(writer)}"]]


def writer_port(facts: dict[str, Any]) -> str:
    return facts["metatraffic_unicast"][0].rsplit(":", 1)[1]


# --- socket buffers: no interfaces created, so these run in the suite's namespace ------------
def test_socket_buffers_are_what_was_asked(monkeypatch: pytest.MonkeyPatch, domain_id: int) -> None:
    monkeypatch.delenv("RTBUS_CONFIG", raising=False)
    monkeypatch.setenv("RTBUS_SOCKET_RCVBUF", "256KiB")
    monkeypatch.setenv("RTBUS_SOCKET_SNDBUF", "131072")
    with rtbus.Participant(domain_id, multicast=True) as dp:
        sockets = dp.node.transport.sockets
    assert len(sockets) == 4
    for s in sockets:
        assert (s.rcvbuf_requested, s.rcvbuf) == (256 * 1024, 256 * 1024)
        assert (s.sndbuf_requested, s.sndbuf) == (131072, 131072)


def test_socket_buffer_beyond_the_kernel_cap_is_reported(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, domain_id: int) -> None:
    cap = int(Path("/proc/sys/net/core/rmem_max").read_text())
    monkeypatch.delenv("RTBUS_CONFIG", raising=False)
    monkeypatch.setenv("RTBUS_SOCKET_RCVBUF", "1GiB")
    with caplog.at_level(logging.WARNING, logger="rtbus.transport"):
        with rtbus.Participant(domain_id) as dp:
            sockets = dp.node.transport.sockets
    for s in sockets:
        assert s.rcvbuf_requested == 1 << 30
        assert s.rcvbuf == cap
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"asked for {1 << 30} bytes, the kernel granted {cap}" in w
               and "net.core.rmem_max" in w for w in warnings), warnings
