"""Parameter lists (RTPS 9.4.2.11): inline QoS and discovery data (PL_CDR_LE/BE payloads).

``parse_parameter_list(buf, offset, little_endian)`` returns the (pid, value) pairs up to
PID_SENTINEL and the offset after it; PID_PAD is skipped. A list without a sentinel or with
a length past the end raises ``MalformedError("bad_parameter_list")``. Values are
``memoryview`` slices (zero copy). ``pid`` keeps its vendor-specific (0x8000) and
must-understand (0x4000) bits; :func:`unknown_must_understand` finds a PID we would have to
reject a list for (vendor-specific PIDs are other vendors' business and never count).

Typed values: ``decode_parameter(pid, value, little_endian)`` / ``encode_parameter(pid, value,
little_endian)`` for the standard PIDs in :data:`CODECS` (locators, GUIDs, durations as int ns,
strings, QoS structs as small NamedTuples). ``parse_pl_cdr(payload)`` and
``build_pl_cdr(items, little_endian)`` handle the 4-byte encapsulation header of discovery
payloads; ``decode_parameters`` turns a list into ``{pid: value}`` (first occurrence wins,
except the locator PIDs, which accumulate into lists).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ...cdr.encapsulation import PL_CDR_BE, PL_CDR_LE
from ...errors import MalformedError
from . import constants as C
from .guid import Guid
from .locator import Locator
from .time import DURATION_INFINITE_NS, NS_PER_S, duration_from_ns, duration_to_ns

_PHDR = {True: struct.Struct("<HH"), False: struct.Struct(">HH")}

ParameterItem = tuple[int, memoryview]


def parse_parameter_list(buf: memoryview, offset: int, little_endian: bool,
                         end: int | None = None) -> tuple[list[ParameterItem], int]:
    """Parameters from ``offset`` up to and including PID_SENTINEL; returns (items, after)."""
    hdr = _PHDR[little_endian].unpack_from
    limit = len(buf) if end is None else end
    items: list[ParameterItem] = []
    pos = offset
    while pos + 4 <= limit:
        pid, length = hdr(buf, pos)
        pos += 4
        if pid == C.PID_SENTINEL:
            return items, pos
        if pos + length > limit:
            raise MalformedError("bad_parameter_list", f"pid 0x{pid:04x} length {length} "
                                 f"past the end ({limit - pos} left)")
        if pid != C.PID_PAD:
            items.append((pid, buf[pos:pos + length]))
        pos += length
    raise MalformedError("bad_parameter_list", "no PID_SENTINEL")


def unknown_must_understand(items: Iterable[tuple[int, Any]],
                            known: frozenset[int] = C.STANDARD_PIDS) -> int | None:
    """The first PID with the must-understand bit that we do not know, else None."""
    for pid, _ in items:
        if pid & C.PID_FLAG_MUST_UNDERSTAND and not pid & C.PID_FLAG_VENDOR_SPECIFIC \
                and pid not in known:
            return pid
    return None


def encode_parameter_raw(pid: int, value: bytes | bytearray | memoryview,
                         little_endian: bool = True) -> bytes:
    """One parameter: header, value, zero padding to a multiple of 4."""
    pad = (-len(value)) & 3
    if len(value) + pad > 0xFFFF:
        raise ValueError(f"parameter 0x{pid:04x}: value of {len(value)} bytes does not fit")
    return _PHDR[little_endian].pack(pid, len(value) + pad) + bytes(value) + bytes(pad)


def encode_parameter_list(items: Iterable[tuple[int, bytes | memoryview]],
                          little_endian: bool = True) -> bytes:
    """Raw (pid, value bytes) items plus PID_SENTINEL."""
    parts = [encode_parameter_raw(pid, value, little_endian) for pid, value in items]
    parts.append(_PHDR[little_endian].pack(C.PID_SENTINEL, 0))
    return b"".join(parts)


# -- PL_CDR payloads ---------------------------------------------------------------------------

def parse_pl_cdr(payload: bytes | memoryview) -> tuple[list[ParameterItem], bool]:
    """(items, little_endian) of a PL_CDR_LE/BE serialized payload (discovery data)."""
    buf = memoryview(payload)
    if len(buf) < 4:
        raise MalformedError("bad_parameter_list", "payload shorter than its encapsulation")
    kind = (buf[0] << 8) | buf[1]
    if kind == PL_CDR_LE:
        le = True
    elif kind == PL_CDR_BE:
        le = False
    else:
        raise MalformedError("bad_encapsulation", f"0x{kind:04x}: expected PL_CDR_LE/BE")
    items, _ = parse_parameter_list(buf, 4, le)
    return items, le


def build_pl_cdr(items: Iterable[tuple[int, Any]], little_endian: bool = True) -> bytes:
    """A PL_CDR payload from (pid, typed value) items (raw bytes for PIDs without a codec)."""
    kind = PL_CDR_LE if little_endian else PL_CDR_BE
    body = [encode_parameter(pid, v, little_endian) for pid, v in items]
    body.append(_PHDR[little_endian].pack(C.PID_SENTINEL, 0))
    return kind.to_bytes(2, "big") + b"\0\0" + b"".join(body)


# -- typed values ------------------------------------------------------------------------------

class Reliability(NamedTuple):
    kind: int  # RELIABILITY_BEST_EFFORT / RELIABILITY_RELIABLE
    max_blocking_time: int  # ns


class Liveliness(NamedTuple):
    kind: int
    lease_duration: int  # ns


class History(NamedTuple):
    kind: int
    depth: int


class ResourceLimits(NamedTuple):
    max_samples: int
    max_instances: int
    max_samples_per_instance: int


class Presentation(NamedTuple):
    access_scope: int
    coherent_access: bool
    ordered_access: bool


class DurabilityService(NamedTuple):
    service_cleanup_delay: int  # ns
    history_kind: int
    history_depth: int
    max_samples: int
    max_instances: int
    max_samples_per_instance: int


class TypeConsistency(NamedTuple):
    kind: int
    flags: bytes  # the booleans that follow (ignore_sequence_bounds, ...), as sent


class PropertyList(NamedTuple):
    properties: tuple[tuple[str, str], ...]
    binary_properties: tuple[tuple[str, bytes], ...] = ()


class ContentFilterProperty(NamedTuple):
    content_filtered_topic_name: str
    related_topic_name: str
    filter_class_name: str
    filter_expression: str
    expression_parameters: tuple[str, ...]


class SecurityInfo(NamedTuple):
    """PID_ENDPOINT_SECURITY_INFO / PID_PARTICIPANT_SECURITY_INFO (DDS-Security 7.4.1.5/6)."""

    attributes: int
    plugin_attributes: int


class DataHolder(NamedTuple):
    """A DDS-Security token (PID_IDENTITY_TOKEN, PID_PERMISSIONS_TOKEN, ...), 7.2.3."""

    class_id: str
    properties: tuple[tuple[str, str], ...] = ()
    binary_properties: tuple[tuple[str, bytes], ...] = ()


def duration_ns(seconds: int, fraction: int) -> int:
    """A Duration_t in nanoseconds with the fraction rounded to the nearest ns.

    This is how Cyclone DDS reads durations (``from_ddsi_time``) and how rtbus reads the QoS
    and lease durations of discovery data (:func:`decode_discovery_parameter`). For the
    rounded-up fractions :func:`duration_from_ns` writes (and Cyclone sends) it agrees with
    :func:`rtbus.rtps.wire.time.duration_to_ns` (which rounds down); for a fraction that
    another stack truncated or rounded to nearest, it gives the ns that was meant rather than
    one below, so a deadline of 0.1 s still matches a requested 0.1 s.
    """
    if seconds == 0x7FFFFFFF and fraction == 0xFFFFFFFF:
        return DURATION_INFINITE_NS
    return seconds * NS_PER_S + ((fraction * NS_PER_S + (1 << 31)) >> 32)


class _Reader:
    """A tiny CDR reader over one parameter value (alignment relative to its start)."""

    __slots__ = ("buf", "e", "pos")

    def __init__(self, buf: memoryview | bytes, le: bool) -> None:
        self.buf = buf
        self.e = "<" if le else ">"
        self.pos = 0

    def align(self, n: int) -> None:
        self.pos += (-self.pos) & (n - 1)

    def take(self, fmt: str, size: int, align: int) -> tuple:
        self.align(align)
        if self.pos + size > len(self.buf):
            raise MalformedError("bad_parameter", "value too short")
        out = struct.unpack_from(self.e + fmt, self.buf, self.pos)
        self.pos += size
        return out

    def u32(self) -> int:
        return self.take("I", 4, 4)[0]

    def i32(self) -> int:
        return self.take("i", 4, 4)[0]

    def octets(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise MalformedError("bad_parameter", "value too short")
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def string(self) -> str:
        n = self.u32()
        raw = self.octets(n)
        if n == 0 or raw[-1] != 0:
            raise MalformedError("bad_parameter", "string without its NUL")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError("bad_parameter", "string not UTF-8") from None

    def duration(self, nearest: bool = False) -> int:
        sec, frac = self.take("iI", 8, 4)
        return duration_ns(sec, frac) if nearest else duration_to_ns(sec, frac)

    def count(self, unit: int) -> int:
        n = self.u32()
        if n * unit > len(self.buf) - self.pos:
            raise MalformedError("bad_parameter", f"sequence of {n} does not fit")
        return n


class _Writer:
    __slots__ = ("e", "out")

    def __init__(self, le: bool) -> None:
        self.e = "<" if le else ">"
        self.out = bytearray()

    def align(self, n: int) -> None:
        self.out += bytes((-len(self.out)) & (n - 1))

    def put(self, fmt: str, align: int, *vals: Any) -> _Writer:
        self.align(align)
        self.out += struct.pack(self.e + fmt, *vals)
        return self

    def string(self, s: str) -> _Writer:
        raw = s.encode("utf-8") + b"\0"
        self.put("I", 4, len(raw))
        self.out += raw
        return self

    def duration(self, ns: int) -> _Writer:
        d = duration_from_ns(ns)
        return self.put("iI", 4, d.seconds, d.fraction)

    def bytes_(self) -> bytes:
        return bytes(self.out)


def _u32(v: memoryview, le: bool) -> int:
    return _Reader(v, le).u32()


def _i32(v: memoryview, le: bool) -> int:
    return _Reader(v, le).i32()


def _locator(v: memoryview, le: bool) -> Locator:
    r = _Reader(v, le)
    kind, port = r.take("iI", 8, 4)
    return Locator(kind, port, r.octets(16))


def _enc_locator(loc: Locator, le: bool) -> bytes:
    return _Writer(le).put("iI", 4, loc.kind, loc.port).bytes_() + bytes(loc.address)


def _guid(v: memoryview, le: bool) -> Guid:
    if len(v) < 16:
        raise MalformedError("bad_parameter", "GUID too short")
    return Guid(bytes(v[:16]))


def _octet_seq(v: memoryview, le: bool) -> bytes:
    r = _Reader(v, le)
    return r.octets(r.count(1))


def _enc_octet_seq(b: bytes, le: bool) -> bytes:
    return _Writer(le).put("I", 4, len(b)).bytes_() + bytes(b)


def _string_seq(v: memoryview, le: bool) -> tuple[str, ...]:
    r = _Reader(v, le)
    return tuple(r.string() for _ in range(r.count(4)))


def _enc_string_seq(names: Iterable[str], le: bool) -> bytes:
    names = list(names)
    w = _Writer(le).put("I", 4, len(names))
    for s in names:
        w.string(s)
    return w.bytes_()


def _short_seq(v: memoryview, le: bool) -> tuple[int, ...]:
    r = _Reader(v, le)
    return tuple(r.take("h", 2, 2)[0] for _ in range(r.count(2)))


def _enc_short_seq(vals: Iterable[int], le: bool) -> bytes:
    vals = list(vals)
    return _Writer(le).put("I" + "h" * len(vals), 4, len(vals), *vals).bytes_()


def _bool(v: memoryview, le: bool) -> bool:
    if len(v) < 1:
        raise MalformedError("bad_parameter", "boolean missing")
    return v[0] != 0


def _property_list(v: memoryview, le: bool) -> PropertyList:
    r = _Reader(v, le)
    props = tuple((r.string(), r.string()) for _ in range(r.count(8)))
    binary: tuple[tuple[str, bytes], ...] = ()
    if r.pos + 4 <= len(v):
        binary = tuple((r.string(), r.octets(r.count(1))) for _ in range(r.count(8)))
    return PropertyList(props, binary)


def _enc_property_list(p: PropertyList, le: bool, start: int = 0) -> bytes:
    return encode_property_list(p, le, start)


def encode_property_list(p: PropertyList, little_endian: bool = True, start: int = 0, *,
                         binary: bool = True) -> bytes:
    """A PropertyQosPolicy value; ``binary=False`` leaves out the binary-property sequence
    (what rtbus's SPDP sends: ``(name, value)`` pairs only, a list every reader accepts)."""
    w = _Writer(little_endian)
    w.out += bytes(start)  # alignment is relative to the parameter value's start
    w.put("I", 4, len(p.properties))
    for name, value in p.properties:
        w.string(name).string(value)
    if binary:
        w.put("I", 4, len(p.binary_properties))
        for name, raw in p.binary_properties:
            w.string(name).put("I", 4, len(raw))
            w.out += raw
    return bytes(w.out[start:])


def _data_holder(v: memoryview, le: bool) -> DataHolder:
    r = _Reader(v, le)
    class_id = r.string()
    props = tuple((r.string(), r.string()) for _ in range(r.count(8)))
    binary = tuple((r.string(), r.octets(r.count(1))) for _ in range(r.count(8)))
    return DataHolder(class_id, props, binary)


def _enc_data_holder(d: DataHolder, le: bool) -> bytes:
    w = _Writer(le).string(d.class_id)
    return w.bytes_() + _enc_property_list(PropertyList(d.properties, d.binary_properties),
                                           le, len(w.out))


def _content_filter(v: memoryview, le: bool) -> ContentFilterProperty:
    r = _Reader(v, le)
    a, b, c, d = r.string(), r.string(), r.string(), r.string()
    return ContentFilterProperty(a, b, c, d, tuple(r.string() for _ in range(r.count(4))))


def _enc_content_filter(p: ContentFilterProperty, le: bool) -> bytes:
    w = _Writer(le)
    for s in p[:4]:
        w.string(s)
    w.put("I", 4, len(p.expression_parameters))
    for s in p.expression_parameters:
        w.string(s)
    return w.bytes_()


def _struct_codec(fmt: str, cls: Callable[..., Any]) -> tuple[Callable, Callable]:
    size = struct.calcsize("<" + fmt)

    def dec(v: memoryview, le: bool) -> Any:
        return cls(*_Reader(v, le).take(fmt, size, 4))

    def enc(val: Any, le: bool) -> bytes:
        return _Writer(le).put(fmt, 4, *val).bytes_()
    return dec, enc


def _duration_codec(nearest: bool = False) -> tuple[Callable, Callable]:
    return (lambda v, le: _Reader(v, le).duration(nearest),
            lambda ns, le: _Writer(le).duration(ns).bytes_())


def _kind_duration_codec(cls: Callable[..., Any],
                         nearest: bool = False) -> tuple[Callable, Callable]:
    def dec(v: memoryview, le: bool) -> Any:
        r = _Reader(v, le)
        return cls(r.u32(), r.duration(nearest))

    def enc(val: Any, le: bool) -> bytes:
        return _Writer(le).put("I", 4, val[0]).duration(val[1]).bytes_()
    return dec, enc


def _dec_presentation(v: memoryview, le: bool) -> Presentation:
    r = _Reader(v, le)
    scope = r.u32()
    flags = r.octets(2)
    return Presentation(scope, bool(flags[0]), bool(flags[1]))


def _enc_presentation(p: Presentation, le: bool) -> bytes:
    return _Writer(le).put("IBB", 4, p.access_scope, p.coherent_access,
                           p.ordered_access).bytes_()


def _dec_durability_service(v: memoryview, le: bool) -> DurabilityService:
    r = _Reader(v, le)
    delay = r.duration()
    return DurabilityService(delay, *r.take("Iiiii", 20, 4))


def _enc_durability_service(d: DurabilityService, le: bool) -> bytes:
    return _Writer(le).duration(d.service_cleanup_delay).put("Iiiii", 4, *d[1:]).bytes_()


def _dec_type_consistency(v: memoryview, le: bool) -> TypeConsistency:
    r = _Reader(v, le)
    kind = r.take("H", 2, 2)[0]
    return TypeConsistency(kind, bytes(v[2:]))


def _enc_type_consistency(t: TypeConsistency, le: bool) -> bytes:
    return _Writer(le).put("H", 2, t.kind).bytes_() + bytes(t.flags)


def _dec_version(v: memoryview, le: bool) -> tuple[int, int]:
    if len(v) < 2:
        raise MalformedError("bad_parameter", "protocol version too short")
    return (v[0], v[1])


def _dec_vendor(v: memoryview, le: bool) -> int:
    if len(v) < 2:
        raise MalformedError("bad_parameter", "vendor id too short")
    return (v[0] << 8) | v[1]


def _dec_string(v: memoryview, le: bool) -> str:
    return _Reader(v, le).string()


def _dec_key_hash(v: memoryview, le: bool) -> bytes:
    if len(v) < 16:
        raise MalformedError("bad_parameter", "key hash too short")
    return bytes(v[:16])


def _dec_status_info(v: memoryview, le: bool) -> int:
    if len(v) < 4:
        raise MalformedError("bad_parameter", "status info too short")
    return int.from_bytes(v[:4], "big")  # octet[4], flags in the last octet


_U32 = (_u32, lambda x, le: _Writer(le).put("I", 4, x).bytes_())
_I32 = (_i32, lambda x, le: _Writer(le).put("i", 4, x).bytes_())
_STR = (_dec_string, lambda s, le: _Writer(le).string(s).bytes_())
_LOC = (_locator, _enc_locator)
_GUID = (_guid, lambda g, le: bytes(g))
_DUR = _duration_codec()
_OCTETS = (_octet_seq, _enc_octet_seq)

#: pid -> (decode(value, little_endian), encode(value, little_endian) -> bytes)
CODECS: dict[int, tuple[Callable[[memoryview, bool], Any], Callable[[Any, bool], bytes]]] = {
    C.PID_PARTICIPANT_GUID: _GUID,
    C.PID_ENDPOINT_GUID: _GUID,
    C.PID_GROUP_GUID: _GUID,
    C.PID_PROTOCOL_VERSION: (_dec_version, lambda v, le: bytes(v[:2])),
    C.PID_VENDORID: (_dec_vendor, lambda v, le: v.to_bytes(2, "big")),
    C.PID_DEFAULT_UNICAST_LOCATOR: _LOC,
    C.PID_METATRAFFIC_UNICAST_LOCATOR: _LOC,
    C.PID_METATRAFFIC_MULTICAST_LOCATOR: _LOC,
    C.PID_DEFAULT_MULTICAST_LOCATOR: _LOC,
    C.PID_UNICAST_LOCATOR: _LOC,
    C.PID_MULTICAST_LOCATOR: _LOC,
    C.PID_PARTICIPANT_LEASE_DURATION: _DUR,
    C.PID_DEADLINE: _DUR,
    C.PID_LATENCY_BUDGET: _DUR,
    C.PID_LIFESPAN: _DUR,
    C.PID_TIME_BASED_FILTER: _DUR,
    C.PID_BUILTIN_ENDPOINT_SET: _U32,
    C.PID_BUILTIN_ENDPOINT_QOS: _U32,
    C.PID_DOMAIN_ID: _U32,
    C.PID_OWNERSHIP_STRENGTH: _I32,
    C.PID_TRANSPORT_PRIORITY: _I32,
    C.PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT: _I32,
    C.PID_TYPE_MAX_SIZE_SERIALIZED: _U32,
    C.PID_DOMAIN_TAG: _STR,
    C.PID_ENTITY_NAME: _STR,
    C.PID_TOPIC_NAME: _STR,
    C.PID_TYPE_NAME: _STR,
    C.PID_KEY_HASH: (_dec_key_hash, lambda k, le: bytes(k)),
    C.PID_STATUS_INFO: (_dec_status_info, lambda s, le: s.to_bytes(4, "big")),
    C.PID_RELIABILITY: _kind_duration_codec(Reliability),
    C.PID_LIVELINESS: _kind_duration_codec(Liveliness),
    C.PID_DURABILITY: _U32,
    C.PID_OWNERSHIP: _U32,
    C.PID_DESTINATION_ORDER: _U32,
    C.PID_HISTORY: _struct_codec("Ii", History),
    C.PID_RESOURCE_LIMITS: _struct_codec("iii", ResourceLimits),
    C.PID_PRESENTATION: (_dec_presentation, _enc_presentation),
    C.PID_PARTITION: (_string_seq, _enc_string_seq),
    C.PID_USER_DATA: _OCTETS,
    C.PID_TOPIC_DATA: _OCTETS,
    C.PID_GROUP_DATA: _OCTETS,
    C.PID_DATA_REPRESENTATION: (_short_seq, _enc_short_seq),
    C.PID_TYPE_CONSISTENCY: (_dec_type_consistency, _enc_type_consistency),
    C.PID_TYPE_INFORMATION: (lambda v, le: bytes(v), lambda b, le: bytes(b)),
    C.PID_DURABILITY_SERVICE: (_dec_durability_service, _enc_durability_service),
    C.PID_EXPECTS_INLINE_QOS: (_bool, lambda b, le: bytes((1 if b else 0,))),
    C.PID_PROPERTY_LIST: (_property_list, _enc_property_list),
    C.PID_CONTENT_FILTER_PROPERTY: (_content_filter, _enc_content_filter),
    C.PID_ENDPOINT_SECURITY_INFO: _struct_codec("II", SecurityInfo),
    C.PID_PARTICIPANT_SECURITY_INFO: _struct_codec("II", SecurityInfo),
    C.PID_IDENTITY_TOKEN: (_data_holder, _enc_data_holder),
    C.PID_PERMISSIONS_TOKEN: (_data_holder, _enc_data_holder),
    C.PID_IDENTITY_STATUS_TOKEN: (_data_holder, _enc_data_holder),
}

LOCATOR_PIDS = frozenset({C.PID_DEFAULT_UNICAST_LOCATOR, C.PID_METATRAFFIC_UNICAST_LOCATOR,
                          C.PID_METATRAFFIC_MULTICAST_LOCATOR, C.PID_DEFAULT_MULTICAST_LOCATOR,
                          C.PID_UNICAST_LOCATOR, C.PID_MULTICAST_LOCATOR})


def decode_parameter(pid: int, value: bytes | memoryview, little_endian: bool = True,
                     decoders: dict[int, Callable[[memoryview, bool], Any]] | None = None) -> Any:
    """The typed value of one parameter; raw bytes for PIDs without a codec. ``decoders``
    overrides CODECS' decoder for some PIDs."""
    dec = decoders.get(pid) if decoders else None
    if dec is None:
        codec = CODECS.get(pid)
        if codec is None:
            return bytes(value)
        dec = codec[0]
    try:
        return dec(memoryview(value), little_endian)
    except (struct.error, ValueError) as exc:
        if isinstance(exc, MalformedError):
            raise
        raise MalformedError("bad_parameter", f"pid 0x{pid:04x}: {exc}") from None


#: The decoders :func:`decode_discovery_parameter` uses instead of CODECS' (durations to the
#: nearest ns, see :func:`duration_ns`).
_DISCOVERY_DECODERS: dict[int, Callable[[memoryview, bool], Any]] = {
    **{pid: _duration_codec(nearest=True)[0] for pid in (
        C.PID_PARTICIPANT_LEASE_DURATION, C.PID_DEADLINE, C.PID_LATENCY_BUDGET,
        C.PID_LIFESPAN, C.PID_TIME_BASED_FILTER)},
    C.PID_RELIABILITY: _kind_duration_codec(Reliability, nearest=True)[0],
    C.PID_LIVELINESS: _kind_duration_codec(Liveliness, nearest=True)[0],
}


def decode_discovery_parameter(pid: int, value: bytes | memoryview,
                               little_endian: bool = True) -> Any:
    """:func:`decode_parameter` for SPDP/SEDP data: the same typed values, except that
    durations are read to the nearest ns (:func:`duration_ns`), as rtbus has always read the
    QoS and lease durations of discovery data and as Cyclone DDS does."""
    return decode_parameter(pid, value, little_endian, _DISCOVERY_DECODERS)


def encode_parameter(pid: int, value: Any, little_endian: bool = True) -> bytes:
    """One encoded parameter (header + padded value); raw bytes pass through unchanged."""
    codec = CODECS.get(pid)
    if codec is None or (isinstance(value, bytes | bytearray | memoryview) and pid not in (
            C.PID_USER_DATA, C.PID_TOPIC_DATA, C.PID_GROUP_DATA, C.PID_KEY_HASH,
            C.PID_TYPE_INFORMATION, C.PID_PARTICIPANT_GUID, C.PID_ENDPOINT_GUID,
            C.PID_GROUP_GUID)):
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"parameter 0x{pid:04x} has no codec: pass the value as bytes")
        return encode_parameter_raw(pid, value, little_endian)
    return encode_parameter_raw(pid, codec[1](value, little_endian), little_endian)


def decode_parameters(items: Iterable[tuple[int, bytes | memoryview]],
                      little_endian: bool = True) -> dict[int, Any]:
    """``{pid: typed value}``; locator PIDs collect into lists, others keep the first seen."""
    out: dict[int, Any] = {}
    for pid, value in items:
        if pid in LOCATOR_PIDS:
            out.setdefault(pid, []).append(decode_parameter(pid, value, little_endian))
        elif pid not in out:
            out[pid] = decode_parameter(pid, value, little_endian)
    return out
