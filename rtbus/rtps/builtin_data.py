"""Discovery data (SPDP participant, SEDP publication/subscription) <-> PL_CDR_LE payloads.

What Cyclone DDS 11 actually sends was learned by capture
(``tests/data/captures/discovery_cyclone11_two_participants.json``): it sends only the QoS
policies that differ from the defaults, adds vendor PIDs (0x8007 version info, 0x800c, 0x8019)
and a PID_PROPERTY_LIST with process name/pid/host. We do the same for the QoS (DDSI-RTPS
9.6.2.2.3: an absent policy has its default value, which for reliability depends on the
endpoint kind: RELIABLE for writers, BEST_EFFORT for readers) and send no vendor PIDs.

Payloads are PL_CDR_LE or PL_CDR_BE. A big-endian list is turned into its little-endian twin
value by value on the way in (every PID we interpret has a typed codec in
:mod:`rtbus.rtps.wire.parameters`), so the parsers below read one byte order only.

Parsing is tolerant in the way DDSI-RTPS 9.6.2.2.1 asks: unknown PIDs are skipped, vendor PIDs
(bit 15) are skipped whoever sent them, but an unknown PID with the must-understand bit (bit 14)
means we cannot interpret the sample: :class:`MustUnderstandError` tells the caller to ignore
it. GUIDs are plain ``bytes`` (16, or 12 for a prefix) so this module stays independent of the
wire layer's classes.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass, field
from typing import Iterable, Literal

from ..errors import MalformedError
from ..qos import (
    Qos,
    duration_from_wire,
    duration_to_wire,
    policies_to_wire,
    qos_from_wire,
    read_string,
)
from .wire.locator import Locator
from .wire.parameters import CODECS

log = logging.getLogger("rtbus.rtps.builtin_data")

# Encapsulation identifiers of serialized payloads (DDSI-RTPS 10.2 / DDS-XTypes 7.6.3.1.2).
PL_CDR_BE = b"\x00\x02"
PL_CDR_LE = b"\x00\x03"

PID_PAD = 0x0000
PID_SENTINEL = 0x0001
PID_PARTICIPANT_LEASE_DURATION = 0x0002
PID_USER_DATA = 0x002C
PID_TOPIC_NAME = 0x0005
PID_TYPE_NAME = 0x0007
PID_DOMAIN_ID = 0x000F
PID_PROTOCOL_VERSION = 0x0015
PID_VENDORID = 0x0016
PID_UNICAST_LOCATOR = 0x002F
PID_MULTICAST_LOCATOR = 0x0030
PID_DEFAULT_UNICAST_LOCATOR = 0x0031
PID_METATRAFFIC_UNICAST_LOCATOR = 0x0032
PID_METATRAFFIC_MULTICAST_LOCATOR = 0x0033
PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT = 0x0034
PID_EXPECTS_INLINE_QOS = 0x0043
PID_DEFAULT_MULTICAST_LOCATOR = 0x0048
PID_PARTICIPANT_GUID = 0x0050
PID_GROUP_GUID = 0x0052
PID_BUILTIN_ENDPOINT_SET = 0x0058
PID_PROPERTY_LIST = 0x0059
PID_ENDPOINT_GUID = 0x005A
PID_TYPE_MAX_SIZE_SERIALIZED = 0x0060
PID_ENTITY_NAME = 0x0062
PID_KEY_HASH = 0x0070
PID_STATUS_INFO = 0x0071
PID_TYPE_CONSISTENCY_ENFORCEMENT = 0x0074
PID_TYPE_INFORMATION = 0x0075
PID_BUILTIN_ENDPOINT_QOS = 0x0077
PID_DOMAIN_TAG = 0x4014  # must-understand bit set by the spec itself
PID_EXTENDED = 0x3F01
PID_LIST_END = 0x3F02

MUST_UNDERSTAND = 0x4000
VENDOR_SPECIFIC = 0x8000

# Status info flags (DDSI-RTPS 9.6.3.9), carried inline with a dispose/unregister.
STATUS_INFO_DISPOSED = 0x1
STATUS_INFO_UNREGISTERED = 0x2

# Builtin endpoint set bits (DDSI-RTPS 2.5 9.3.2.10 / DDS-XTypes 7.6.3.3.5 for type lookup).
PARTICIPANT_ANNOUNCER = 1 << 0
PARTICIPANT_DETECTOR = 1 << 1
PUBLICATIONS_ANNOUNCER = 1 << 2
PUBLICATIONS_DETECTOR = 1 << 3
SUBSCRIPTIONS_ANNOUNCER = 1 << 4
SUBSCRIPTIONS_DETECTOR = 1 << 5
PARTICIPANT_MESSAGE_DATA_WRITER = 1 << 10
PARTICIPANT_MESSAGE_DATA_READER = 1 << 11
TYPE_LOOKUP_REQUEST_WRITER = 1 << 12
TYPE_LOOKUP_REQUEST_READER = 1 << 13
TYPE_LOOKUP_REPLY_WRITER = 1 << 14
TYPE_LOOKUP_REPLY_READER = 1 << 15
#: What an rtbus participant offers by default: SPDP + SEDP publications/subscriptions. The
#: engine ORs in the liveliness (participant message) and type lookup bits once it runs those
#: endpoints -- advertising an endpoint we do not serve would make peers talk to nobody.
DEFAULT_BUILTIN_ENDPOINTS = (PARTICIPANT_ANNOUNCER | PARTICIPANT_DETECTOR
                             | PUBLICATIONS_ANNOUNCER | PUBLICATIONS_DETECTOR
                             | SUBSCRIPTIONS_ANNOUNCER | SUBSCRIPTIONS_DETECTOR)

LOCATOR_KIND_UDPV4 = 1
LOCATOR_KIND_UDPV6 = 2
PROTOCOL_VERSION = (2, 5)
#: Not an OMG-assigned vendor id (none is registered for rtbus); chosen outside the assigned
#: range so no peer mistakes us for itself and interprets our (absent) vendor PIDs.
VENDOR_ID_RTBUS = b"\x01\xf7"  # = wire.VENDORID_RTBUS
VENDOR_ID_CYCLONE = b"\x01\x10"
#: Lease duration a remote participant gets when it sends none (DDSI-RTPS 9.6.2.2.2).
DEFAULT_LEASE_DURATION = 100.0


class MustUnderstandError(MalformedError):
    """The sample carries a must-understand parameter we do not know: ignore the whole sample."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        super().__init__("must_understand", f"unknown must-understand parameter id {pid:#06x}")


def _locator_to_wire(loc: Locator) -> bytes:
    return struct.pack("<iI", loc.kind, loc.port) + bytes(loc.address)


def _locator_from_wire(data: bytes) -> Locator:
    if len(data) < 24:
        raise MalformedError("bad_locator", f"locator of {len(data)} bytes, expected 24")
    kind, port = struct.unpack_from("<iI", data, 0)
    return Locator(kind, port, bytes(data[8:24]))


# --- parameter lists ------------------------------------------------------------------------

def iter_parameters(payload: bytes | memoryview) -> Iterable[tuple[int, bytes]]:
    """(pid, value) of a PL_CDR_LE or PL_CDR_BE serialized payload, up to PID_SENTINEL.

    Values always come out little endian: those of a big-endian list are converted with the
    typed parameter codecs (values of PIDs without a codec pass unchanged; we interpret none
    of those). Raises :class:`MalformedError` if the encapsulation is neither, a parameter runs
    past the end, or a big-endian value does not decode.
    """
    data = bytes(payload)
    if len(data) < 4:
        raise MalformedError("truncated_payload", "no encapsulation header")
    if data[:2] == PL_CDR_LE:
        return _iter_params(data, 4, "<")
    if data[:2] == PL_CDR_BE:
        return [(pid, _to_little_endian(pid, value))
                for pid, value in _iter_params(data, 4, ">")]
    raise MalformedError("unsupported_encapsulation",
                         f"expected PL_CDR_LE (0003) or PL_CDR_BE (0002), got {data[:2].hex()}")


def _to_little_endian(pid: int, value: bytes) -> bytes:
    """One parameter value of a big-endian list, re-encoded little endian."""
    if pid & VENDOR_SPECIFIC:
        return value  # skipped by every parser; its layout is the vendor's business
    if pid == PID_TYPE_INFORMATION:
        from ..xtypes.typeinfo import decode_type_information

        return decode_type_information(value, little_endian=False).encode()
    codec = CODECS.get(pid)
    if codec is None:
        return value
    try:
        return codec[1](codec[0](memoryview(value), False), True)
    except (struct.error, ValueError, OverflowError) as exc:
        if isinstance(exc, MalformedError):
            raise
        raise MalformedError("bad_parameter", f"pid {pid:#06x}: {exc}") from None


def _iter_params(data: bytes, offset: int, order: str) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    while True:
        if offset + 4 > len(data):
            raise MalformedError("truncated_parameter_list", "no PID_SENTINEL before the end")
        pid, length = struct.unpack_from(order + "HH", data, offset)
        offset += 4
        if pid == PID_SENTINEL:
            return out
        if offset + length > len(data):
            raise MalformedError("truncated_parameter",
                                 f"parameter {pid:#06x} of {length} bytes past the end")
        if pid != PID_PAD:
            out.append((pid, data[offset:offset + length]))
        offset += length


def build_parameter_list(params: Iterable[tuple[int, bytes]]) -> bytes:
    """A PL_CDR_LE payload: encapsulation header, 4-aligned parameters, PID_SENTINEL."""
    out = bytearray(PL_CDR_LE + b"\x00\x00")
    for pid, value in params:
        padded = value + b"\0" * (-len(value) % 4)
        if len(padded) > 0xFFFF:
            raise MalformedError("parameter_too_long",
                                 f"parameter {pid:#06x} of {len(padded)} bytes > 65535")
        out += struct.pack("<HH", pid, len(padded)) + padded
    out += struct.pack("<HH", PID_SENTINEL, 0)
    return bytes(out)


def _collect(params: Iterable[tuple[int, bytes]], known: frozenset[int],
             repeated: frozenset[int]) -> tuple[dict[int, bytes], dict[int, list[bytes]]]:
    """Split into single-valued and repeated (locator) parameters; enforce must-understand."""
    single: dict[int, bytes] = {}
    multi: dict[int, list[bytes]] = {}
    for pid, value in params:
        if pid & VENDOR_SPECIFIC:
            continue  # meaning depends on the sender's vendor id; we interpret none
        if pid in repeated:
            multi.setdefault(pid, []).append(value)
        elif pid in known:
            single.setdefault(pid, value)  # first occurrence wins, as Cyclone does
        elif pid & MUST_UNDERSTAND:
            raise MustUnderstandError(pid)
        else:
            log.debug("skipping unknown parameter %#06x", pid)
    return single, multi


def _string(value: str) -> bytes:
    raw = value.encode() + b"\0"
    return struct.pack("<I", len(raw)) + raw


def _property_list(props: tuple[tuple[str, str], ...]) -> bytes:
    """PID_PROPERTY_LIST: a count, then name and value as CDR strings, each 4-aligned."""
    out = bytearray(struct.pack("<I", len(props)))
    for name, value in props:
        for text in (name, value):
            out += _string(text)
            out += b"\0" * (-len(out) % 4)
    return bytes(out)


def _read_guid(value: bytes, name: str) -> bytes:
    if len(value) < 16:
        raise MalformedError("bad_guid", f"{name} of {len(value)} bytes, expected 16")
    return bytes(value[:16])


def _need(value: bytes, size: int, name: str) -> bytes:
    if len(value) < size:
        raise MalformedError(f"bad_{name}", f"{name} of {len(value)} bytes, expected {size}")
    return value


def _u32(value: bytes, name: str) -> int:
    return int(struct.unpack_from("<I", _need(value, 4, name), 0)[0])


def _text(value: bytes) -> str:
    return read_string(value, 0)[0]


def _properties(value: bytes) -> tuple[tuple[str, str], ...]:
    (count,) = struct.unpack_from("<I", value, 0)
    if count > len(value) // 8:
        raise MalformedError("bad_property_list", f"{count} properties in {len(value)} bytes")
    offset = 4
    out = []
    for _ in range(count):
        name, offset = read_string(value, offset)
        text, offset = read_string(value, offset)
        out.append((name, text))
    return tuple(out)


# --- participant ----------------------------------------------------------------------------

_PARTICIPANT_KNOWN = frozenset({
    PID_PARTICIPANT_GUID, PID_PARTICIPANT_LEASE_DURATION, PID_PROTOCOL_VERSION, PID_VENDORID,
    PID_BUILTIN_ENDPOINT_SET, PID_DOMAIN_ID, PID_DOMAIN_TAG, PID_ENTITY_NAME, PID_USER_DATA,
    PID_PROPERTY_LIST, PID_EXPECTS_INLINE_QOS, PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT,
    PID_BUILTIN_ENDPOINT_QOS, PID_KEY_HASH, PID_STATUS_INFO})
_PARTICIPANT_LOCATORS = frozenset({
    PID_METATRAFFIC_UNICAST_LOCATOR, PID_METATRAFFIC_MULTICAST_LOCATOR,
    PID_DEFAULT_UNICAST_LOCATOR, PID_DEFAULT_MULTICAST_LOCATOR})


@dataclass(frozen=True, slots=True)
class ParticipantData:
    """SPDPdiscoveredParticipantData: who a participant is and where to reach it."""

    guid_prefix: bytes
    metatraffic_unicast: tuple[Locator, ...] = ()
    metatraffic_multicast: tuple[Locator, ...] = ()
    default_unicast: tuple[Locator, ...] = ()
    default_multicast: tuple[Locator, ...] = ()
    lease_duration: float = DEFAULT_LEASE_DURATION
    builtin_endpoints: int = DEFAULT_BUILTIN_ENDPOINTS
    protocol_version: tuple[int, int] = PROTOCOL_VERSION
    vendor_id: bytes = VENDOR_ID_RTBUS
    domain_id: int | None = None
    domain_tag: str = ""
    entity_name: str | None = None
    user_data: bytes = b""
    manual_liveliness_count: int = 0
    properties: tuple[tuple[str, str], ...] = field(default=())

    @property
    def guid(self) -> bytes:
        return self.guid_prefix + b"\x00\x00\x01\xc1"


def build_participant_payload(p: ParticipantData) -> bytes:
    """The SPDP DATA payload announcing ``p`` (same PID order as Cyclone's)."""
    params: list[tuple[int, bytes]] = [
        (PID_PARTICIPANT_LEASE_DURATION, duration_to_wire(p.lease_duration)),
        (PID_PROTOCOL_VERSION, bytes(p.protocol_version) + b"\0\0"),
        (PID_VENDORID, p.vendor_id + b"\0\0"),
        (PID_PARTICIPANT_GUID, p.guid),
        (PID_BUILTIN_ENDPOINT_SET, struct.pack("<I", p.builtin_endpoints)),
    ]
    if p.domain_id is not None:
        params.append((PID_DOMAIN_ID, struct.pack("<I", p.domain_id)))
    if p.domain_tag:
        params.append((PID_DOMAIN_TAG, _string(p.domain_tag)))
    for pid, locators in ((PID_DEFAULT_UNICAST_LOCATOR, p.default_unicast),
                          (PID_DEFAULT_MULTICAST_LOCATOR, p.default_multicast),
                          (PID_METATRAFFIC_UNICAST_LOCATOR, p.metatraffic_unicast),
                          (PID_METATRAFFIC_MULTICAST_LOCATOR, p.metatraffic_multicast)):
        params.extend((pid, _locator_to_wire(loc)) for loc in locators)
    if p.entity_name is not None:
        params.append((PID_ENTITY_NAME, _string(p.entity_name)))
    if p.user_data:
        params.append((PID_USER_DATA, struct.pack("<I", len(p.user_data)) + p.user_data))
    if p.manual_liveliness_count:
        params.append((PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT,
                       struct.pack("<i", p.manual_liveliness_count)))
    if p.properties:
        params.append((PID_PROPERTY_LIST, _property_list(p.properties)))
    return build_parameter_list(params)


def parse_participant_payload(payload: bytes | memoryview) -> ParticipantData:
    """ParticipantData from an SPDP DATA payload; MalformedError/MustUnderstandError if unusable."""
    single, multi = _collect(iter_parameters(payload), _PARTICIPANT_KNOWN, _PARTICIPANT_LOCATORS)
    if PID_PARTICIPANT_GUID not in single:
        raise MalformedError("no_participant_guid", "SPDP data without PID_PARTICIPANT_GUID")
    try:
        guid = _read_guid(single[PID_PARTICIPANT_GUID], "participant guid")
        kw: dict[str, object] = {"guid_prefix": guid[:12]}
        for pid, name in ((PID_METATRAFFIC_UNICAST_LOCATOR, "metatraffic_unicast"),
                          (PID_METATRAFFIC_MULTICAST_LOCATOR, "metatraffic_multicast"),
                          (PID_DEFAULT_UNICAST_LOCATOR, "default_unicast"),
                          (PID_DEFAULT_MULTICAST_LOCATOR, "default_multicast")):
            kw[name] = tuple(_locator_from_wire(v) for v in multi.get(pid, ()))
        if (v := single.get(PID_PARTICIPANT_LEASE_DURATION)) is not None:
            kw["lease_duration"] = duration_from_wire(v)
        if (v := single.get(PID_BUILTIN_ENDPOINT_SET)) is not None:
            kw["builtin_endpoints"] = _u32(v, "builtin_endpoint_set")
        if (v := single.get(PID_PROTOCOL_VERSION)) is not None:
            v = _need(v, 2, "protocol_version")
            kw["protocol_version"] = (v[0], v[1])
        if (v := single.get(PID_VENDORID)) is not None:
            kw["vendor_id"] = bytes(_need(v, 2, "vendor_id")[:2])
        if (v := single.get(PID_DOMAIN_ID)) is not None:
            kw["domain_id"] = _u32(v, "domain_id")
        if (v := single.get(PID_DOMAIN_TAG)) is not None:
            kw["domain_tag"] = _text(v)
        if (v := single.get(PID_ENTITY_NAME)) is not None:
            kw["entity_name"] = _text(v)
        if (v := single.get(PID_USER_DATA)) is not None:
            (n,) = struct.unpack_from("<I", v, 0)
            kw["user_data"] = bytes(_need(v, 4 + n, "user_data")[4:4 + n])
        if (v := single.get(PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT)) is not None:
            (kw["manual_liveliness_count"],) = struct.unpack_from("<i", v, 0)
        if (v := single.get(PID_PROPERTY_LIST)) is not None:
            try:
                kw["properties"] = _properties(v)
            except (MalformedError, struct.error):
                log.debug("ignoring an unparsable property list")
    except struct.error as exc:
        raise MalformedError("truncated_parameter", str(exc)) from None
    return ParticipantData(**kw)  # type: ignore[arg-type]


# --- endpoints ------------------------------------------------------------------------------

_ENDPOINT_KNOWN = frozenset({
    PID_ENDPOINT_GUID, PID_PARTICIPANT_GUID, PID_TOPIC_NAME, PID_TYPE_NAME,
    PID_TYPE_INFORMATION, PID_EXPECTS_INLINE_QOS, PID_ENTITY_NAME, PID_PROTOCOL_VERSION,
    PID_VENDORID, PID_GROUP_GUID, PID_KEY_HASH, PID_STATUS_INFO, PID_TYPE_MAX_SIZE_SERIALIZED,
    PID_TYPE_CONSISTENCY_ENFORCEMENT, PID_PROPERTY_LIST,
    0x002C, 0x002E, 0x002D, 0x001D, 0x001E, 0x0023, 0x0027, 0x001B, 0x001A, 0x002B, 0x0025,
    0x0040, 0x0041, 0x001F, 0x0006, 0x0021, 0x0029, 0x0004, 0x0049, 0x0073})
_ENDPOINT_LOCATORS = frozenset({PID_UNICAST_LOCATOR, PID_MULTICAST_LOCATOR})

EndpointRole = Literal["writer", "reader"]


@dataclass(frozen=True, slots=True)
class EndpointData:
    """DiscoveredWriterData / DiscoveredReaderData: one announced writer or reader.

    ``type_information`` is the PID_TYPE_INFORMATION value as opaque bytes (the xtypes layer
    decodes it); ``unicast_locators``/``multicast_locators`` empty means "use the
    participant's default locators".
    """

    role: EndpointRole
    endpoint_guid: bytes
    topic_name: str
    type_name: str
    qos: Qos = field(default_factory=Qos)
    participant_guid: bytes | None = None
    type_information: bytes | None = None
    unicast_locators: tuple[Locator, ...] = ()
    multicast_locators: tuple[Locator, ...] = ()
    expects_inline_qos: bool = False
    entity_name: str | None = None
    vendor_id: bytes | None = None

    @property
    def prefix(self) -> bytes:
        return self.endpoint_guid[:12]


#: What an absent QoS parameter means, per endpoint kind (DDSI-RTPS 9.6.2.2.3; readers are
#: best effort by default, writers reliable).
_DEFAULT_QOS: dict[str, Qos] = {"writer": Qos(), "reader": Qos(reliability="best_effort")}


def _qos_parameters(qos: Qos, role: EndpointRole) -> list[tuple[int, bytes]]:
    """The QoS parameters that differ from the default for ``role`` (absent = default)."""
    defaults = dict(policies_to_wire(_DEFAULT_QOS[role], role))
    return [(pid, value) for pid, value in policies_to_wire(qos, role)
            if defaults.get(pid) != value]


def build_endpoint_payload(e: EndpointData) -> bytes:
    """The SEDP DATA payload announcing ``e``: only the QoS policies that differ from the
    defaults, as Cyclone does (``parse_endpoint_payload`` restores the absent ones)."""
    params: list[tuple[int, bytes]] = [
        (PID_ENDPOINT_GUID, e.endpoint_guid),
        (PID_TOPIC_NAME, _string(e.topic_name)),
        (PID_TYPE_NAME, _string(e.type_name)),
    ]
    if e.participant_guid is not None:
        params.append((PID_PARTICIPANT_GUID, e.participant_guid))
    params.extend(_qos_parameters(e.qos, e.role))
    if e.type_information is not None:
        params.append((PID_TYPE_INFORMATION, e.type_information))
    params.extend((PID_UNICAST_LOCATOR, _locator_to_wire(loc)) for loc in e.unicast_locators)
    params.extend((PID_MULTICAST_LOCATOR, _locator_to_wire(loc)) for loc in e.multicast_locators)
    if e.role == "reader" and e.expects_inline_qos:
        params.append((PID_EXPECTS_INLINE_QOS, b"\x01\0\0\0"))
    if e.entity_name is not None:
        params.append((PID_ENTITY_NAME, _string(e.entity_name)))
    params.append((PID_PROTOCOL_VERSION, bytes(PROTOCOL_VERSION) + b"\0\0"))
    params.append((PID_VENDORID, (e.vendor_id or VENDOR_ID_RTBUS) + b"\0\0"))
    return build_parameter_list(params)


def parse_endpoint_payload(payload: bytes | memoryview, role: EndpointRole) -> EndpointData:
    """EndpointData from an SEDP DATA payload; MalformedError/MustUnderstandError if unusable."""
    single, multi = _collect(iter_parameters(payload), _ENDPOINT_KNOWN, _ENDPOINT_LOCATORS)
    for pid, name in ((PID_ENDPOINT_GUID, "PID_ENDPOINT_GUID"), (PID_TOPIC_NAME, "PID_TOPIC_NAME"),
                      (PID_TYPE_NAME, "PID_TYPE_NAME")):
        if pid not in single:
            raise MalformedError("incomplete_endpoint", f"SEDP {role} data without {name}")
    try:
        kw: dict[str, object] = {
            "role": role,
            "endpoint_guid": _read_guid(single[PID_ENDPOINT_GUID], "endpoint guid"),
            "topic_name": _text(single[PID_TOPIC_NAME]),
            "type_name": _text(single[PID_TYPE_NAME]),
            "qos": qos_from_wire(single, role),
            "unicast_locators": tuple(_locator_from_wire(v)
                                      for v in multi.get(PID_UNICAST_LOCATOR, ())),
            "multicast_locators": tuple(_locator_from_wire(v)
                                        for v in multi.get(PID_MULTICAST_LOCATOR, ())),
        }
        if (v := single.get(PID_PARTICIPANT_GUID)) is not None:
            kw["participant_guid"] = _read_guid(v, "participant guid")
        if (v := single.get(PID_TYPE_INFORMATION)) is not None:
            kw["type_information"] = bytes(v)
        if (v := single.get(PID_EXPECTS_INLINE_QOS)) is not None:
            kw["expects_inline_qos"] = bool(v[0]) if v else False
        if (v := single.get(PID_ENTITY_NAME)) is not None:
            kw["entity_name"] = _text(v)
        if (v := single.get(PID_VENDORID)) is not None:
            kw["vendor_id"] = bytes(_need(v, 2, "vendor_id")[:2])
    except struct.error as exc:
        raise MalformedError("truncated_parameter", str(exc)) from None
    return EndpointData(**kw)  # type: ignore[arg-type]


def build_key_payload(pid: int, guid: bytes) -> bytes:
    """The serialized key of a discovery instance (what a dispose/unregister DATA carries)."""
    return build_parameter_list([(pid, guid)])


def parse_key_payload(payload: bytes | memoryview) -> bytes:
    """The GUID in a key-only discovery payload (PID_PARTICIPANT_GUID or PID_ENDPOINT_GUID)."""
    for pid, value in iter_parameters(payload):
        if pid in (PID_PARTICIPANT_GUID, PID_ENDPOINT_GUID, PID_KEY_HASH):
            return _read_guid(value, "key")
    raise MalformedError("no_key", "key-only discovery payload without a GUID")


def parse_status_info(inline_qos: Iterable[tuple[int, bytes]]) -> int:
    """PID_STATUS_INFO flags from inline QoS (0 when absent); big-endian on the wire."""
    for pid, value in inline_qos:
        if pid == PID_STATUS_INFO and len(value) >= 4:
            return int.from_bytes(bytes(value[:4]), "big")
    return 0


def key_hash_from_inline_qos(inline_qos: Iterable[tuple[int, bytes]]) -> bytes | None:
    for pid, value in inline_qos:
        if pid == PID_KEY_HASH and len(value) >= 16:
            return bytes(value[:16])
    return None


def lease_is_infinite(p: ParticipantData) -> bool:
    return math.isinf(p.lease_duration)
