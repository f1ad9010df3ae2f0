"""The one transform seam of the data path: where DDS Security (or any other protection)
changes bytes on their way in and out of a participant.

DDS Security 1.1 protects data at three levels, and so does this seam:
- **payload**: a writer's serialized payload is encoded before it enters the writer history
  (so resends and fragments carry the protected form) and decoded by a reader after
  reassembly, before the key is extracted;
- **submessage**: the submessages of one send are encoded as a group before they are put
  into a message (the secure form wraps each in SEC_PREFIX/SEC_BODY/SEC_POSTFIX), and
  each received submessage is decoded before it is routed;
- **message**: a whole datagram is encoded after the core has batched it (one
  SRTPS_PREFIX/SRTPS_POSTFIX per datagram) and decoded before it is parsed.

A participant without protection has no transforms at all (``None``): the core then calls
nothing, so the seam costs nothing on the hot path, and the one-struct-call DATA encoder
(:func:`rtbus.rtps.wire.encode_data_message`) is the identity case of the submessage and
message transforms. A transform that returns None drops what it was given; the core counts it
(``dropped_by_transform_<level>``) and carries on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from . import wire

Address = tuple[str, int]


class Transforms(Protocol):
    """What the core calls when a participant has protection configured."""

    def encode_payload(self, writer: wire.Guid, payload: bytes) -> bytes:
        """The form of ``payload`` that ``writer`` stores and sends."""
        ...

    def decode_payload(self, reader: wire.Guid, writer: wire.Guid,
                       payload: bytes | memoryview) -> bytes | memoryview | None:
        """The plain payload ``reader`` got from ``writer``, or None to drop the sample."""
        ...

    def encode_submessages(self, dest_prefix: bytes | None,
                           submessages: Sequence[Any]) -> Sequence[Any]:
        """What goes on the wire for ``submessages`` addressed to ``dest_prefix`` (None: every
        participant at the locators). The local endpoint that sends each one is named by its
        writer or reader id, as on the wire."""
        ...

    def decode_submessage(self, src_prefix: bytes, submessage: Any) -> Any | None:
        """The plain submessage a received one stands for, or None to drop it."""
        ...

    def encode_message(self, datagram: bytes, addr: Address) -> bytes:
        """The datagram that goes to ``addr`` for one message the core built."""
        ...

    def decode_message(self, datagram: bytes, addr: Address | None) -> bytes | None:
        """The plain message a datagram from ``addr`` (None: unknown) holds, or None to drop
        it."""
        ...


class IdentityTransforms:
    """Every level unchanged: a base for transforms that protect only some levels."""

    def encode_payload(self, writer: wire.Guid, payload: bytes) -> bytes:
        return payload

    def decode_payload(self, reader: wire.Guid, writer: wire.Guid,
                       payload: bytes | memoryview) -> bytes | memoryview | None:
        return payload

    def encode_submessages(self, dest_prefix: bytes | None,
                           submessages: Sequence[Any]) -> Sequence[Any]:
        return submessages

    def decode_submessage(self, src_prefix: bytes, submessage: Any) -> Any | None:
        return submessage

    def encode_message(self, datagram: bytes, addr: Address) -> bytes:
        return datagram

    def decode_message(self, datagram: bytes, addr: Address | None) -> bytes | None:
        return datagram
