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
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from ..cdr.encapsulation import PL_CDR_LE
from ..errors import MalformedError
from ..qos import Qos
from .wire import constants as C
from .wire.locator import Locator
from .wire.parameters import (
    CODECS,
    ContentFilterProperty,
    PropertyList,
    build_pl_cdr,
    decode_discovery_parameter,
    encode_parameter_list,
    encode_property_list,
    parse_pl_cdr,
)
from .wire.qos_params import QOS_PIDS, ns_to_seconds, qos_from_wire, qos_policies, seconds_to_ns

log = logging.getLogger("rtbus.rtps.builtin_data")

#: What an rtbus participant offers by default: SPDP + SEDP publications/subscriptions. The
#: engine ORs in the liveliness (participant message) and type lookup bits once it runs those
#: endpoints -- advertising an endpoint we do not serve would make peers talk to nobody.
DEFAULT_BUILTIN_ENDPOINTS = (C.BES_PARTICIPANT_ANNOUNCER | C.BES_PARTICIPANT_DETECTOR
                             | C.BES_PUBLICATIONS_ANNOUNCER | C.BES_PUBLICATIONS_DETECTOR
                             | C.BES_SUBSCRIPTIONS_ANNOUNCER | C.BES_SUBSCRIPTIONS_DETECTOR)

#: Our vendor id as the two octets ``ParticipantData.vendor_id`` holds (see wire.constants).
VENDOR_ID_RTBUS = C.VENDORID_RTBUS.to_bytes(2, "big")
#: Lease duration a remote participant gets when it sends none (DDSI-RTPS 9.6.2.2.2).
DEFAULT_LEASE_DURATION = 100.0


class MustUnderstandError(MalformedError):
    """The sample carries a must-understand parameter we do not know: ignore the whole sample."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        super().__init__("must_understand", f"unknown must-understand parameter id {pid:#06x}")


# --- parameter lists ------------------------------------------------------------------------

def iter_parameters(payload: bytes | memoryview) -> list[tuple[int, bytes]]:
    """(pid, value) of a PL_CDR_LE or PL_CDR_BE serialized payload, up to PID_SENTINEL.

    Values always come out little endian: those of a big-endian list are converted with the
    typed parameter codecs (values of PIDs without a codec pass unchanged; we interpret none
    of those). Raises :class:`MalformedError` if the encapsulation is neither, a parameter runs
    past the end, or a big-endian value does not decode.
    """
    items, little_endian = parse_pl_cdr(payload)
    if little_endian:
        return [(pid, bytes(value)) for pid, value in items]
    return [(pid, _to_little_endian(pid, bytes(value))) for pid, value in items]


def _to_little_endian(pid: int, value: bytes) -> bytes:
    """One parameter value of a big-endian list, re-encoded little endian."""
    if pid & C.PID_FLAG_VENDOR_SPECIFIC:
        return value  # skipped by every parser; its layout is the vendor's business
    if pid == C.PID_TYPE_INFORMATION:
        from ..xtypes.typeinfo import decode_type_information

        return decode_type_information(value, little_endian=False).encode()
    codec = CODECS.get(pid)
    if codec is None:
        return value
    try:
        return codec[1](decode_discovery_parameter(pid, value, False), True)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, MalformedError):
            raise
        raise MalformedError("bad_parameter", f"pid {pid:#06x}: {exc}") from None


def build_parameter_list(params: Iterable[tuple[int, bytes]]) -> bytes:
    """A PL_CDR_LE payload of raw (pid, value bytes): encapsulation header, 4-aligned
    parameters, PID_SENTINEL."""
    try:
        body = encode_parameter_list(params, True)
    except ValueError as exc:
        raise MalformedError("parameter_too_long", str(exc)) from None
    return PL_CDR_LE.to_bytes(2, "big") + b"\0\0" + body


def _build(params: Iterable[tuple[int, Any]]) -> bytes:
    """A PL_CDR_LE payload of (pid, typed value) items (see wire.parameters.CODECS)."""
    try:
        return build_pl_cdr(params, True)
    except ValueError as exc:
        raise MalformedError("parameter_too_long", str(exc)) from None


def _collect(params: Iterable[tuple[int, bytes]], known: frozenset[int],
             repeated: frozenset[int]) -> tuple[dict[int, bytes], dict[int, list[bytes]]]:
    """Split into single-valued and repeated (locator) parameters; enforce must-understand."""
    single: dict[int, bytes] = {}
    multi: dict[int, list[bytes]] = {}
    for pid, value in params:
        if pid & C.PID_FLAG_VENDOR_SPECIFIC:
            continue  # meaning depends on the sender's vendor id; we interpret none
        if pid in repeated:
            multi.setdefault(pid, []).append(value)
        elif pid in known:
            single.setdefault(pid, value)  # first occurrence wins, as Cyclone does
        elif pid & C.PID_FLAG_MUST_UNDERSTAND:
            raise MustUnderstandError(pid)
        else:
            log.debug("skipping unknown parameter %#06x", pid)
    return single, multi


def _value(single: dict[int, bytes], pid: int) -> Any:
    """The typed value of ``pid`` in a little-endian list, None when absent."""
    v = single.get(pid)
    return None if v is None else decode_discovery_parameter(pid, v, True)


def _locators(multi: dict[int, list[bytes]], pid: int) -> tuple[Locator, ...]:
    return tuple(decode_discovery_parameter(pid, v, True) for v in multi.get(pid, ()))


# --- participant ---------------------------------------------------------------------------

_PARTICIPANT_KNOWN = frozenset({
    C.PID_PARTICIPANT_GUID, C.PID_PARTICIPANT_LEASE_DURATION, C.PID_PROTOCOL_VERSION,
    C.PID_VENDORID, C.PID_BUILTIN_ENDPOINT_SET, C.PID_DOMAIN_ID, C.PID_DOMAIN_TAG,
    C.PID_ENTITY_NAME, C.PID_USER_DATA, C.PID_PROPERTY_LIST, C.PID_EXPECTS_INLINE_QOS,
    C.PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT, C.PID_BUILTIN_ENDPOINT_QOS, C.PID_KEY_HASH,
    C.PID_STATUS_INFO})
_PARTICIPANT_LOCATORS = frozenset({
    C.PID_METATRAFFIC_UNICAST_LOCATOR, C.PID_METATRAFFIC_MULTICAST_LOCATOR,
    C.PID_DEFAULT_UNICAST_LOCATOR, C.PID_DEFAULT_MULTICAST_LOCATOR})


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
    protocol_version: tuple[int, int] = C.PROTOCOL_VERSION
    vendor_id: bytes = VENDOR_ID_RTBUS
    domain_id: int | None = None
    domain_tag: str = ""
    entity_name: str | None = None
    user_data: bytes = b""
    manual_liveliness_count: int = 0
    properties: tuple[tuple[str, str], ...] = field(default=())

    @property
    def guid(self) -> bytes:
        return self.guid_prefix + C.EID_PARTICIPANT.to_bytes(4, "big")


def build_participant_payload(p: ParticipantData) -> bytes:
    """The SPDP DATA payload announcing ``p`` (same PID order as Cyclone's)."""
    params: list[tuple[int, Any]] = [
        (C.PID_PARTICIPANT_LEASE_DURATION, seconds_to_ns(p.lease_duration)),
        (C.PID_PROTOCOL_VERSION, p.protocol_version),
        (C.PID_VENDORID, int.from_bytes(p.vendor_id[:2], "big")),
        (C.PID_PARTICIPANT_GUID, p.guid),
        (C.PID_BUILTIN_ENDPOINT_SET, p.builtin_endpoints),
    ]
    if p.domain_id is not None:
        params.append((C.PID_DOMAIN_ID, p.domain_id))
    if p.domain_tag:
        params.append((C.PID_DOMAIN_TAG, p.domain_tag))
    for pid, locators in ((C.PID_DEFAULT_UNICAST_LOCATOR, p.default_unicast),
                          (C.PID_DEFAULT_MULTICAST_LOCATOR, p.default_multicast),
                          (C.PID_METATRAFFIC_UNICAST_LOCATOR, p.metatraffic_unicast),
                          (C.PID_METATRAFFIC_MULTICAST_LOCATOR, p.metatraffic_multicast)):
        params.extend((pid, loc) for loc in locators)
    if p.entity_name is not None:
        params.append((C.PID_ENTITY_NAME, p.entity_name))
    if p.user_data:
        params.append((C.PID_USER_DATA, p.user_data))
    if p.manual_liveliness_count:
        params.append((C.PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT, p.manual_liveliness_count))
    if p.properties:
        # (name, value) pairs only, no binary-property sequence: what rtbus has always sent
        params.append((C.PID_PROPERTY_LIST, encode_property_list(
            PropertyList(p.properties), True, binary=False)))
    return _build(params)


def parse_participant_payload(payload: bytes | memoryview) -> ParticipantData:
    """ParticipantData from an SPDP DATA payload; MalformedError/MustUnderstandError if unusable."""
    single, multi = _collect(iter_parameters(payload), _PARTICIPANT_KNOWN, _PARTICIPANT_LOCATORS)
    if C.PID_PARTICIPANT_GUID not in single:
        raise MalformedError("no_participant_guid", "SPDP data without PID_PARTICIPANT_GUID")
    guid = _value(single, C.PID_PARTICIPANT_GUID)
    kw: dict[str, object] = {"guid_prefix": bytes(guid)[:12]}
    for pid, name in ((C.PID_METATRAFFIC_UNICAST_LOCATOR, "metatraffic_unicast"),
                      (C.PID_METATRAFFIC_MULTICAST_LOCATOR, "metatraffic_multicast"),
                      (C.PID_DEFAULT_UNICAST_LOCATOR, "default_unicast"),
                      (C.PID_DEFAULT_MULTICAST_LOCATOR, "default_multicast")):
        kw[name] = _locators(multi, pid)
    if (v := _value(single, C.PID_PARTICIPANT_LEASE_DURATION)) is not None:
        kw["lease_duration"] = ns_to_seconds(v)
    if (v := _value(single, C.PID_BUILTIN_ENDPOINT_SET)) is not None:
        kw["builtin_endpoints"] = v
    if (v := _value(single, C.PID_PROTOCOL_VERSION)) is not None:
        kw["protocol_version"] = v
    if (v := _value(single, C.PID_VENDORID)) is not None:
        kw["vendor_id"] = v.to_bytes(2, "big")
    if (v := _value(single, C.PID_DOMAIN_ID)) is not None:
        kw["domain_id"] = v
    if (v := _value(single, C.PID_DOMAIN_TAG)) is not None:
        kw["domain_tag"] = v
    if (v := _value(single, C.PID_ENTITY_NAME)) is not None:
        kw["entity_name"] = v
    if (v := _value(single, C.PID_USER_DATA)) is not None:
        kw["user_data"] = v
    if (v := _value(single, C.PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT)) is not None:
        kw["manual_liveliness_count"] = v
    try:
        if (v := _value(single, C.PID_PROPERTY_LIST)) is not None:
            kw["properties"] = v.properties
    except MalformedError:
        log.debug("ignoring an unparsable property list")
    return ParticipantData(**kw)  # type: ignore[arg-type]


# --- endpoints ------------------------------------------------------------------------------

_ENDPOINT_KNOWN = frozenset({
    C.PID_ENDPOINT_GUID, C.PID_PARTICIPANT_GUID, C.PID_TOPIC_NAME, C.PID_TYPE_NAME,
    C.PID_TYPE_INFORMATION, C.PID_EXPECTS_INLINE_QOS, C.PID_ENTITY_NAME, C.PID_PROTOCOL_VERSION,
    C.PID_VENDORID, C.PID_GROUP_GUID, C.PID_KEY_HASH, C.PID_STATUS_INFO,
    C.PID_TYPE_MAX_SIZE_SERIALIZED, C.PID_TYPE_CONSISTENCY, C.PID_PROPERTY_LIST,
    C.PID_CONTENT_FILTER_PROPERTY}) | QOS_PIDS
_ENDPOINT_LOCATORS = frozenset({C.PID_UNICAST_LOCATOR, C.PID_MULTICAST_LOCATOR})

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
    content_filter: ContentFilterProperty | None = None  # a reader's, as announced

    @property
    def prefix(self) -> bytes:
        return self.endpoint_guid[:12]


#: What an absent QoS parameter means, per endpoint kind (DDSI-RTPS 9.6.2.2.3; readers are
#: best effort by default, writers reliable).
_DEFAULT_QOS: dict[str, Qos] = {"writer": Qos(), "reader": Qos(reliability="best_effort")}


def _qos_parameters(qos: Qos, role: EndpointRole) -> list[tuple[int, Any]]:
    """The QoS parameters that differ from the default for ``role`` (absent = default)."""
    defaults = dict(qos_policies(_DEFAULT_QOS[role], role))
    return [(pid, value) for pid, value in qos_policies(qos, role)
            if defaults.get(pid) != value]


def build_endpoint_payload(e: EndpointData) -> bytes:
    """The SEDP DATA payload announcing ``e``: only the QoS policies that differ from the
    defaults, as Cyclone does (``parse_endpoint_payload`` restores the absent ones)."""
    params: list[tuple[int, Any]] = [
        (C.PID_ENDPOINT_GUID, e.endpoint_guid),
        (C.PID_TOPIC_NAME, e.topic_name),
        (C.PID_TYPE_NAME, e.type_name),
    ]
    if e.participant_guid is not None:
        params.append((C.PID_PARTICIPANT_GUID, e.participant_guid))
    params.extend(_qos_parameters(e.qos, e.role))
    if e.type_information is not None:
        params.append((C.PID_TYPE_INFORMATION, e.type_information))
    params.extend((C.PID_UNICAST_LOCATOR, loc) for loc in e.unicast_locators)
    params.extend((C.PID_MULTICAST_LOCATOR, loc) for loc in e.multicast_locators)
    if e.role == "reader" and e.expects_inline_qos:
        params.append((C.PID_EXPECTS_INLINE_QOS, True))
    if e.entity_name is not None:
        params.append((C.PID_ENTITY_NAME, e.entity_name))
    if e.role == "reader" and e.content_filter is not None:
        params.append((C.PID_CONTENT_FILTER_PROPERTY, e.content_filter))
    params.append((C.PID_PROTOCOL_VERSION, C.PROTOCOL_VERSION))
    params.append((C.PID_VENDORID, int.from_bytes((e.vendor_id or VENDOR_ID_RTBUS)[:2], "big")))
    return _build(params)


def parse_endpoint_payload(payload: bytes | memoryview, role: EndpointRole) -> EndpointData:
    """EndpointData from an SEDP DATA payload; MalformedError/MustUnderstandError if unusable."""
    single, multi = _collect(iter_parameters(payload), _ENDPOINT_KNOWN, _ENDPOINT_LOCATORS)
    for pid, name in ((C.PID_ENDPOINT_GUID, "PID_ENDPOINT_GUID"),
                      (C.PID_TOPIC_NAME, "PID_TOPIC_NAME"), (C.PID_TYPE_NAME, "PID_TYPE_NAME")):
        if pid not in single:
            raise MalformedError("incomplete_endpoint", f"SEDP {role} data without {name}")
    kw: dict[str, object] = {
        "role": role,
        "endpoint_guid": bytes(_value(single, C.PID_ENDPOINT_GUID)),
        "topic_name": _value(single, C.PID_TOPIC_NAME),
        "type_name": _value(single, C.PID_TYPE_NAME),
        "qos": qos_from_wire(single, role),
        "unicast_locators": _locators(multi, C.PID_UNICAST_LOCATOR),
        "multicast_locators": _locators(multi, C.PID_MULTICAST_LOCATOR),
    }
    if (v := _value(single, C.PID_PARTICIPANT_GUID)) is not None:
        kw["participant_guid"] = bytes(v)
    if (v := single.get(C.PID_TYPE_INFORMATION)) is not None:
        kw["type_information"] = bytes(v)
    if single.get(C.PID_EXPECTS_INLINE_QOS):  # an empty value reads as False, as before
        kw["expects_inline_qos"] = _value(single, C.PID_EXPECTS_INLINE_QOS)
    if (v := _value(single, C.PID_ENTITY_NAME)) is not None:
        kw["entity_name"] = v
    if (v := _value(single, C.PID_VENDORID)) is not None:
        kw["vendor_id"] = v.to_bytes(2, "big")
    if role == "reader" and (v := _value(single, C.PID_CONTENT_FILTER_PROPERTY)) is not None:
        kw["content_filter"] = v
    return EndpointData(**kw)  # type: ignore[arg-type]


def build_key_payload(pid: int, guid: bytes) -> bytes:
    """The serialized key of a discovery instance (what a dispose/unregister DATA carries)."""
    return _build([(pid, guid)])


def parse_key_payload(payload: bytes | memoryview) -> bytes:
    """The GUID in a key-only discovery payload (PID_PARTICIPANT_GUID or PID_ENDPOINT_GUID)."""
    for pid, value in iter_parameters(payload):
        if pid in (C.PID_PARTICIPANT_GUID, C.PID_ENDPOINT_GUID, C.PID_KEY_HASH):
            return bytes(decode_discovery_parameter(pid, value, True))
    raise MalformedError("no_key", "key-only discovery payload without a GUID")


def parse_status_info(inline_qos: Iterable[tuple[int, bytes]]) -> int:
    """PID_STATUS_INFO flags from inline QoS (0 when absent); big-endian on the wire."""
    for pid, value in inline_qos:
        if pid == C.PID_STATUS_INFO and len(value) >= 4:
            return int(decode_discovery_parameter(pid, value))
    return 0


def key_hash_from_inline_qos(inline_qos: Iterable[tuple[int, bytes]]) -> bytes | None:
    for pid, value in inline_qos:
        if pid == C.PID_KEY_HASH and len(value) >= 16:
            return bytes(decode_discovery_parameter(pid, value))
    return None


def lease_is_infinite(p: ParticipantData) -> bool:
    return math.isinf(p.lease_duration)
