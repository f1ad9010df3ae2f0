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


class ImmutablePolicyError(QosError):
    """A QoS policy was changed on an entity that exists already, and that policy cannot
    change while it runs (DDS's IMMUTABLE_POLICY)."""


class ConfigError(RtbusError, ValueError):
    """The network configuration (config file, environment variable or argument: initial
    peers, buffer sizes) cannot be used."""


class InterfaceError(RtbusError):
    """The requested network interface does not exist or has no IPv4 address."""


class BadParameterError(RtbusError, ValueError, TypeError):
    """An argument of an API call has the wrong type or value (DDS's BAD_PARAMETER); the
    message names the argument and says what was expected. Also a ``TypeError`` and a
    ``ValueError``, so code that catches either keeps working."""


class PreconditionNotMetError(RtbusError):
    """The call is valid in general but not in the entity's present state (DDS's
    PRECONDITION_NOT_MET), e.g. a topic name already bound to another type."""


class IllegalOperationError(RtbusError):
    """The call cannot be made from here, e.g. a blocking call from the engine's own thread
    (a listener) or loop, where waiting would stall every participant on it."""


class NotEnabledError(RtbusError):
    """The entity is not usable (yet, or any more)."""


class ClosedError(NotEnabledError):
    """The participant, writer or reader was closed (DDS's ALREADY_DELETED): nothing can be
    created, written or taken through it any more."""


class TimeoutError_(RtbusError, TimeoutError):
    """A blocking call ran out of time (a write on a full KEEP_ALL history after
    ``max_blocking_time``). Also a builtin ``TimeoutError``."""
