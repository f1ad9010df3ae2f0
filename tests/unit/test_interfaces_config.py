"""Where network settings come from: argument > environment > config file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtbus.transport import netconfig
from rtbus.transport.interfaces import InterfaceError, choose_interface, list_interfaces
from rtbus.transport.netconfig import ConfigError, buffer_size, parse_size, setting


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in (netconfig.CONFIG_ENV, *netconfig.NETWORK_KEYS.values()):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "config.toml"
    monkeypatch.setenv(netconfig.CONFIG_ENV, str(path))
    path.write_text('[network]\ninterface = "lo"\nsocket_receive_buffer = "2MiB"\n')
    return path


def test_precedence_argument_environment_config_default(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert setting("interface") == ("lo", "config file")
    monkeypatch.setenv("RTBUS_INTERFACE", "127.0.0.1")
    assert setting("interface") == ("127.0.0.1", "environment")
    assert setting("interface", "eth0") == ("eth0", "argument")
    assert setting("socket_send_buffer") == (None, "default")


def test_buffer_sizes_from_config_environment_and_argument(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert buffer_size("socket_receive_buffer", 99) == 2 << 20
    assert buffer_size("socket_send_buffer", 99) == 99
    monkeypatch.setenv("RTBUS_SOCKET_RCVBUF", "512k")
    assert buffer_size("socket_receive_buffer", 99) == 512 << 10
    assert buffer_size("socket_receive_buffer", 99, 4096) == 4096


@pytest.mark.parametrize("text,size", [("4194304", 4194304), ("512KiB", 524288), ("8 MiB", 8 << 20),
                                       ("1g", 1 << 30), ("64kb", 65536)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text, "x") == size


@pytest.mark.parametrize("text", ["", "0", "-5", "4 MB/s", "lots", "1.5MiB"])
def test_parse_size_rejects_non_sizes_naming_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match="RTBUS_SOCKET_RCVBUF"):
        parse_size(text, "RTBUS_SOCKET_RCVBUF")


def test_bad_size_in_config_names_the_key(config: Path) -> None:
    config.write_text('[network]\nsocket_send_buffer = "huge"\n')
    with pytest.raises(ConfigError, match=r"\[network\] socket_send_buffer"):
        buffer_size("socket_send_buffer", 1)


def test_config_network_must_be_a_table(config: Path) -> None:
    config.write_text('network = "eth0"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        setting("interface")


def test_default_config_path_may_be_absent(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.delenv(netconfig.CONFIG_ENV, raising=False)
    monkeypatch.delenv("RTBUS_INTERFACE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert netconfig.config_path() == (tmp_path / ".config" / "rtbus" / "config.toml", False)
    assert setting("interface") == (None, "default")


def test_loopback_selected_by_name_and_address_from_config(config: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert any(i.name == "lo" and i.address == "127.0.0.1" for i in list_interfaces())
    choice = choose_interface()
    assert (choice.interface.name, choice.interface.address, choice.reason) == \
        ("lo", "127.0.0.1", "config file")
    monkeypatch.setenv("RTBUS_INTERFACE", "127.0.0.1")
    assert choose_interface().reason == "environment"
    with pytest.raises(InterfaceError, match=r"'nonesuch0' \(from argument\).*available: lo"):
        choose_interface("nonesuch0")


def test_initial_peers_resolve_or_raise_a_config_error_naming_the_entry() -> None:
    from rtbus.engine.config import initial_peer_locators
    from rtbus.rtps.ports import port_mapping

    locs = initial_peer_locators(["127.0.0.1", "localhost:7411"], 0)
    assert [(loc.host, loc.port) for loc in locs[:2]] == [
        ("127.0.0.1", port_mapping(0, 0).metatraffic_unicast),
        ("127.0.0.1", port_mapping(0, 1).metatraffic_unicast)]
    assert len(locs) == 11 and (locs[-1].host, locs[-1].port) == ("127.0.0.1", 7411)
    for bad, why in (("127.0.0.1:http", "not a UDP port"), ("127.0.0.1:70000", "not a UDP port"),
                     ("x" * 64 + ".example", "cannot resolve host")):  # label too long: no lookup
        with pytest.raises(netconfig.ConfigError, match=why) as info:
            initial_peer_locators([bad], 0)
        assert repr(bad) in str(info.value)
