"""Network settings that come from outside the program: environment variables and a config file.

A deployment (a robot's systemd unit, a container) must be able to move rtbus onto another
network without code changes, and a developer must be able to find out why it picked what it
picked. So every setting is resolved in one order and reported with its source: an explicit
argument, else the environment variable, else the ``[network]`` table of the TOML config file
(``RTBUS_CONFIG``, else ``~/.config/rtbus/config.toml``), else the built-in default.

A config file named by ``RTBUS_CONFIG`` that does not exist, or a file that is not valid TOML,
is an error rather than silently ignored: a typo there would otherwise put a robot on the wrong
network without a word.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError

CONFIG_ENV = "RTBUS_CONFIG"

#: The keys the ``[network]`` table may hold, with the environment variable that overrides each.
NETWORK_KEYS = {
    "interface": "RTBUS_INTERFACE",
    "socket_receive_buffer": "RTBUS_SOCKET_RCVBUF",
    "socket_send_buffer": "RTBUS_SOCKET_SNDBUF",
}

_SIZE = re.compile(r"^\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
          "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def config_path() -> tuple[Path, bool]:
    """The config file to read, and whether it was named explicitly (``RTBUS_CONFIG``)."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named), True
    return Path.home() / ".config" / "rtbus" / "config.toml", False


def network_table() -> dict[str, Any]:
    """The ``[network]`` table of the config file ({} when there is no file)."""
    path, explicit = config_path()
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{CONFIG_ENV}={str(path)!r}: no such file")
        return {}
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML file: {exc}") from exc
    table = data.get("network", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'network' must be a table ([network]), got {table!r}")
    unknown = sorted(set(table) - set(NETWORK_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [network]: {', '.join(unknown)}; "
                          f"expected: {', '.join(NETWORK_KEYS)}")
    return table


def setting(key: str, argument: object = None) -> tuple[str | None, str]:
    """``key``'s value and where it came from: argument, environment, config file or default."""
    if argument is not None and argument != "":
        return str(argument), "argument"
    env = os.environ.get(NETWORK_KEYS[key])
    if env:
        return env, "environment"
    value = network_table().get(key)
    if value is not None and value != "":
        return str(value), "config file"
    return None, "default"


def parse_size(text: str, what: str) -> int:
    """A byte count such as ``4194304``, ``512KiB`` or ``8MiB``."""
    match = _SIZE.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(f"{what}: {text!r} is not a size; expected a positive byte count "
                          "such as 4194304, 512KiB or 8MiB")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def buffer_size(key: str, default: int, argument: int | None = None) -> int:
    """The socket buffer size for ``key`` (``socket_receive_buffer``/``socket_send_buffer``)."""
    value, source = setting(key, argument)
    if value is None:
        return default
    name = NETWORK_KEYS[key] if source == "environment" else f"[network] {key}"
    return parse_size(value, name if source != "argument" else key)
