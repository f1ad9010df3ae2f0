"""The Writer Liveliness Protocol: the builtin participant-message endpoints of one participant.

RTPS 2.x 8.4.13 / 9.6.2.1: every participant runs a builtin writer (``0x000200c2``) and reader
(``0x000200c7``) of ``ParticipantMessageData`` samples. A participant asserts its liveliness by
writing one: AUTOMATIC periodically (for AUTOMATIC writers and the participant lease), MANUAL
when the application asserts it (MANUAL_BY_PARTICIPANT writers). This module puts both
endpoints on the reliability state machines and turns what arrives into
:class:`LivelinessAsserted` events; the leases those events renew are the participant's
business.

Wire facts (Cyclone's ``ddsi_participant.c`` / ``ddsi_pmd.c``):

* the sample is ``participantGuidPrefix`` (octet[12]) + ``kind`` (octet[4]; big-endian kinds
  below) + ``sequence<octet> data``; Cyclone sends data of one zero octet. Plain CDR, CDR_LE,
  padded to a multiple of 4 (the pad count in the options, as for every rtbus payload);
* the key is prefix + kind, 16 bytes: the key hash is exactly those bytes;
* both endpoints are reliable, TRANSIENT_LOCAL, KEEP_LAST 1 per instance, so a late joiner
  gets the latest message of each kind;
* a receiver drops a message whose prefix is not the RTPS source prefix (nobody may assert
  another participant's liveliness).

Some RTI Connext versions do not announce these endpoints in SPDP although they run them
(Cyclone's ``Compatibility/AssumeRtiHasPmdEndpoints``): with ``assume_rti_endpoints`` (the
default) an RTI Connext participant is matched as if it had announced both.
"""

from __future__ import annotations

import logging
import struct
from collections import Counter
from dataclasses import dataclass
from typing import Any, Union

from ..cdr import with_padding
from ..cdr.encapsulation import CDR_BE, CDR_LE
from ..errors import MalformedError
from . import wire
from .actions import Action, Deliver
from .builtin_data import ParticipantData
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED, HistoryQos
from .reader import ReaderConfig, StatefulReader
from .wire.constants import (
    BES_PARTICIPANT_MESSAGE_DATA_READER,
    BES_PARTICIPANT_MESSAGE_DATA_WRITER,
    PARTICIPANT_MESSAGE_DATA_KIND_AUTOMATIC_LIVELINESS_UPDATE,
    PARTICIPANT_MESSAGE_DATA_KIND_MANUAL_LIVELINESS_UPDATE,
    PARTICIPANT_MESSAGE_DATA_KIND_UNKNOWN,
    VENDORID_RTI_CONNEXT,
)
from .wire.guid import ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER as ENTITYID_PMD_READER
from .wire.guid import ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER as ENTITYID_PMD_WRITER
from .writer import StatefulWriter, WouldBlock, WriterConfig

log = logging.getLogger("rtbus.rtps.participant_message")

#: ParticipantMessageData kinds (RTPS 9.6.2.1; defined in wire.constants)
AUTOMATIC_LIVELINESS_UPDATE = PARTICIPANT_MESSAGE_DATA_KIND_AUTOMATIC_LIVELINESS_UPDATE
MANUAL_LIVELINESS_UPDATE = PARTICIPANT_MESSAGE_DATA_KIND_MANUAL_LIVELINESS_UPDATE

#: The two builtin endpoints, for the participant's builtin routing registry.
ENTITY_IDS: tuple[wire.EntityId, wire.EntityId] = (ENTITYID_PMD_WRITER, ENTITYID_PMD_READER)

#: SPDP builtin-endpoint bits of a participant that runs this service.
BUILTIN_ENDPOINTS = BES_PARTICIPANT_MESSAGE_DATA_WRITER | BES_PARTICIPANT_MESSAGE_DATA_READER

#: What Cyclone puts in ``data``: one zero octet.
DEFAULT_DATA = b"\x00"

_HISTORY = HistoryQos("keep_last", 1)  # per instance (prefix + kind)
_BODY_MIN = 12 + 4 + 4  # prefix, kind, the data length
_NULL_KEY = bytes(16)
_RTI_CONNEXT = VENDORID_RTI_CONNEXT.to_bytes(2, "big")


# --- the sample ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParticipantMessageData:
    """One decoded participant message."""

    guid_prefix: bytes
    kind: int
    data: bytes = DEFAULT_DATA

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.guid_prefix, self.kind)


def key_hash(guid_prefix: bytes, kind: int) -> bytes:
    """The instance's key hash: prefix + kind, 16 bytes, so no MD5 (RTPS 9.6.4.8)."""
    return bytes(guid_prefix) + kind.to_bytes(4, "big")


def encode_participant_message(guid_prefix: bytes, kind: int, data: bytes = DEFAULT_DATA, *,
                               little: bool = True) -> bytes:
    """The serialized payload (encapsulation header included) of one message."""
    if len(guid_prefix) != 12:
        raise ValueError(f"GUID prefix of {len(guid_prefix)} bytes: expected 12")
    if not 0 <= kind <= 0xFFFFFFFF:
        raise ValueError(f"kind {kind}: expected a 32-bit unsigned value")
    header = struct.pack(">HH", CDR_LE if little else CDR_BE, 0)
    length = struct.pack("<I" if little else ">I", len(data))
    return with_padding(b"".join((header, bytes(guid_prefix), kind.to_bytes(4, "big"), length,
                                  bytes(data))))


def decode_participant_message(payload: bytes | bytearray | memoryview
                               ) -> ParticipantMessageData:
    """Parse a payload from the network; MalformedError for anything that is not one."""
    raw = bytes(payload)
    if len(raw) < 4:
        raise MalformedError("pmd_short", f"{len(raw)} bytes, no encapsulation header")
    ident = (raw[0] << 8) | raw[1]
    if ident == CDR_LE:
        fmt = "<I"
    elif ident == CDR_BE:
        fmt = ">I"
    else:
        raise MalformedError("pmd_encapsulation", f"encapsulation 0x{ident:04x}: expected CDR")
    body = raw[4:]
    if len(body) < _BODY_MIN:
        raise MalformedError("pmd_short", f"body of {len(body)} bytes, at least {_BODY_MIN}")
    (length,) = struct.unpack_from(fmt, body, 16)
    if length > len(body) - _BODY_MIN:
        raise MalformedError("pmd_data_length",
                             f"data of {length} bytes, {len(body) - _BODY_MIN} present")
    # what follows the data is the encapsulation's padding (or an extension): ignored
    return ParticipantMessageData(body[:12], int.from_bytes(body[12:16], "big"),
                                  body[_BODY_MIN:_BODY_MIN + length])


def _key_hash_of(payload: bytes | memoryview) -> bytes:
    """The key of a message that came without PID_KEY_HASH (Cyclone sends none): the same
    16 octets in either byte order. A payload too short for one still gets an instance (the
    null key), so the service's decoder sees it and counts it."""
    if len(payload) < 20:
        return _NULL_KEY
    return bytes(payload[4:20])


# --- the service -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LivelinessAsserted:
    """Participant ``guid_prefix`` asserted its liveliness (``kind``: AUTOMATIC or MANUAL...)."""

    guid_prefix: bytes
    kind: int


ParticipantMessageOutput = Union[Action, LivelinessAsserted]


class ParticipantMessageService:
    """The participant-message writer and reader of one participant (sans-IO)."""

    def __init__(self, guid_prefix: bytes, *, heartbeat_period: float = 0.1,
                 assume_rti_endpoints: bool = True) -> None:
        self.prefix = wire.GuidPrefix(guid_prefix)
        self.assume_rti_endpoints = assume_rti_endpoints
        self.writer = StatefulWriter(
            wire.Guid(self.prefix, ENTITYID_PMD_WRITER),
            WriterConfig(reliable=True, durability="transient_local", history=_HISTORY,
                         heartbeat_period=heartbeat_period))
        self.reader = StatefulReader(
            wire.Guid(self.prefix, ENTITYID_PMD_READER),
            ReaderConfig(reliable=True, durability="transient_local", history=_HISTORY),
            key_hash_of=_key_hash_of)
        self.counters: Counter[str] = Counter()
        self._interval: float | None = None
        self._automatic_at: float | None = None

    # --- participants ----------------------------------------------------------------------

    def participant_discovered(self, data: ParticipantData, now: float) -> list[Action]:
        """Match the remote participant-message endpoints its SPDP data announces (again on
        every re-announcement: new locators, endpoints that appeared or went away)."""
        prefix = wire.GuidPrefix(data.guid_prefix)
        if prefix == self.prefix:
            return []
        bits = data.builtin_endpoints
        if self.assume_rti_endpoints and bytes(data.vendor_id[:2]) == _RTI_CONNEXT \
                and not bits & BUILTIN_ENDPOINTS:
            bits |= BUILTIN_ENDPOINTS
        locators = tuple(data.metatraffic_unicast or data.metatraffic_multicast)
        out: list[Action] = []
        reader_guid = wire.Guid(prefix, ENTITYID_PMD_READER)
        proxy = self.writer.readers.get(reader_guid)
        if not bits & BES_PARTICIPANT_MESSAGE_DATA_READER:
            out += self.writer.remove_reader(reader_guid)
        elif proxy is not None:
            proxy.locators = locators
        else:  # transient local: it gets our latest message of each kind at once
            out += self.writer.add_reader(reader_guid, locators, reliable=True,
                                          durability="transient_local", now=now)
        writer_guid = wire.Guid(prefix, ENTITYID_PMD_WRITER)
        wproxy = self.reader.writers.get(writer_guid)
        if not bits & BES_PARTICIPANT_MESSAGE_DATA_WRITER:
            out += self._remove_writer(writer_guid, now)
        elif wproxy is not None:
            wproxy.locators = locators
        else:
            out += self.reader.add_writer(writer_guid, locators, reliable=True, now=now)
        return out

    def participant_lost(self, guid_prefix: bytes, now: float) -> list[Action]:
        """Unmatch both endpoints of a participant that left (or whose lease expired)."""
        prefix = wire.GuidPrefix(guid_prefix)
        out = self.writer.remove_reader(wire.Guid(prefix, ENTITYID_PMD_READER))
        out += self._remove_writer(wire.Guid(prefix, ENTITYID_PMD_WRITER), now)
        return out

    def _remove_writer(self, guid: wire.Guid, now: float) -> list[Action]:
        """Unmatch a remote writer and drop the NOT_ALIVE_NO_WRITERS notifications that
        leaves in the history: nobody reads them, and they would keep its instances."""
        actions = self.reader.remove_writer(guid, now)
        out: list[Action] = [a for a in actions if not isinstance(a, Deliver)]
        _, more = self.reader.take(now=now)
        return out + more

    # --- writing ---------------------------------------------------------------------------

    def assert_liveliness(self, kind: int, now: float) -> list[Action]:
        """Write our message of ``kind`` (the previous one of that kind is replaced: a late
        joiner gets the latest)."""
        payload = encode_participant_message(bytes(self.prefix), kind)
        result = self.writer.write(payload, key_hash(bytes(self.prefix), kind), now=now)
        if isinstance(result, WouldBlock):  # KEEP_LAST never blocks; kept for the contract
            self.counters["pmd_write_dropped"] += 1
            return []
        self.counters["pmd_written"] += 1
        return list(result.actions)

    def set_automatic_interval(self, seconds: float | None, now: float) -> None:
        """Write an AUTOMATIC_LIVELINESS_UPDATE every ``seconds`` from ``now`` on (None: stop).

        The caller picks the interval (Cyclone: 80% of the smallest AUTOMATIC lease) and
        asserts once itself when it wants one at once.
        """
        if seconds is None:
            self._interval = self._automatic_at = None
            return
        if not seconds > 0:
            raise ValueError(f"automatic liveliness interval {seconds}: expected > 0 or None")
        self._interval = seconds
        self._automatic_at = now + seconds

    # --- wire input ------------------------------------------------------------------------

    def handle_submessage(self, src_prefix: bytes, sub: Any, now: float,
                          timestamp: int | None = None) -> list[ParticipantMessageOutput]:
        """A parsed submessage from ``src_prefix`` for one of the two endpoints."""
        prefix = wire.GuidPrefix(src_prefix)
        cls = type(sub)
        if cls is wire.AckNack or cls is wire.NackFrag:
            if sub.writer_id != ENTITYID_PMD_WRITER:
                return []
            if cls is wire.AckNack:
                return list(self.writer.handle_acknack(prefix, sub, now))
            return list(self.writer.handle_nackfrag(prefix, sub, now))
        if getattr(sub, "writer_id", None) != ENTITYID_PMD_WRITER:
            return []  # another writer's, or no endpoint submessage at all
        return self._consume(self.reader.handle_submessage(prefix, sub, now, timestamp), now)

    def _consume(self, actions: list[Action], now: float) -> list[ParticipantMessageOutput]:
        """Take what the reader delivered (its history stays empty) and report each valid
        message as an event. A message must name its RTPS source: the prefix of the writer
        it came from (the reader keys its writers by source prefix + writer id)."""
        out: list[ParticipantMessageOutput] = [a for a in actions if not isinstance(a, Deliver)]
        if len(out) == len(actions):
            return out
        samples, more = self.reader.take(now=now)
        out += more
        for sample in samples:
            if sample.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED) \
                    or not sample.info.valid_data or sample.payload is None:
                self.counters["pmd_dispose_ignored"] += 1
                continue
            try:
                msg = decode_participant_message(sample.payload)
            except MalformedError as exc:
                self.counters["pmd_malformed"] += 1
                log.debug("ignoring participant message: %s", exc)
                continue
            if msg.guid_prefix != bytes(sample.info.writer_guid)[:12]:
                self.counters["pmd_prefix_mismatch"] += 1
                continue
            self.counters["pmd_received"] += 1
            out.append(LivelinessAsserted(msg.guid_prefix, msg.kind))
        return out

    # --- timers ----------------------------------------------------------------------------

    def next_timer(self) -> float | None:
        times = [t for t in (self.writer.next_timer(), self.reader.next_timer(),
                             self._automatic_at) if t is not None]
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[ParticipantMessageOutput]:
        out: list[ParticipantMessageOutput] = []
        out += self.writer.handle_timer(now)
        out += self._consume(self.reader.handle_timer(now), now)
        if self._automatic_at is not None and self._interval is not None \
                and self._automatic_at <= now:
            # keep the phase; after a long stall resume from now rather than catch up
            nxt = self._automatic_at + self._interval
            self._automatic_at = nxt if nxt > now else now + self._interval
            out += self.assert_liveliness(AUTOMATIC_LIVELINESS_UPDATE, now)
        return out


__all__ = [
    "AUTOMATIC_LIVELINESS_UPDATE",
    "BUILTIN_ENDPOINTS",
    "ENTITY_IDS",
    "MANUAL_LIVELINESS_UPDATE",
    "PARTICIPANT_MESSAGE_DATA_KIND_UNKNOWN",
    "LivelinessAsserted",
    "ParticipantMessageData",
    "ParticipantMessageOutput",
    "ParticipantMessageService",
    "decode_participant_message",
    "encode_participant_message",
    "key_hash",
]
