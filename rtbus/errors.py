"""Typed errors: each names the thing that is wrong and says what was expected.

Split by origin, as h11 does: ``RtbusError`` subclasses raised to the user are about the
user's input (an IDL file, a sample, an API call). Bytes from the network that do not parse
raise ``MalformedError`` inside the wire layer; the engine catches it, counts the reason and
drops the datagram, so it never reaches user code.
"""

from __future__ import annotations


class RtbusError(Exception):
    """Base of every error rtbus raises on purpose."""


class IdlError(RtbusError):
    """A syntax or semantic error in IDL text, located as ``file:line:col``."""

    def __init__(self, message: str, file: str = "<string>", line: int = 0, col: int = 0) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.reason = message
        super().__init__(f"{file}:{line}:{col}: {message}")


class ValidationError(RtbusError, ValueError):
    """A sample value does not fit its type. ``path`` is the field path (``pose.position[2]``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path else message)


class EncodeError(RtbusError, ValueError):
    """A sample could not be encoded (e.g. a bound exceeded after construction)."""


class DecodeError(RtbusError, ValueError):
    """Bytes do not decode as the given type: truncated, a length past the end, bad value."""


class MalformedError(ValueError):
    """A datagram or submessage from the network is malformed. ``reason`` is a short counter key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class QosError(RtbusError, ValueError):
    """A QoS setting is invalid or inconsistent."""


class ConfigError(RtbusError, ValueError):
    """The network configuration (config file, environment variable or argument: initial
    peers, buffer sizes) cannot be used."""


class InterfaceError(RtbusError):
    """The requested network interface does not exist or has no IPv4 address."""


class NotEnabledError(RtbusError):
    """The entity was closed or is not usable yet."""


class TimeoutError_(RtbusError, TimeoutError):
    """A blocking call ran out of time (wait for match, take with timeout)."""
