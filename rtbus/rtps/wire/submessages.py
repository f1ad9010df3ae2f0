"""One frozen dataclass per RTPS submessage, plus ``Received`` (a submessage in its context).

Field names follow the spec in snake_case. Sequence numbers are ints, entity ids
:class:`EntityId`, payloads ``bytes`` or zero-copy ``memoryview`` slices of the datagram.
Timestamps are int nanoseconds since the Unix epoch (``None``: invalid / absent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, NamedTuple

from .guid import EntityId, GuidPrefix
from .locator import Locator
from .sequence_numbers import FragmentNumberSet, SequenceNumberSet

Payload = bytes | memoryview


def _fast_init(cls: type) -> type:
    """Give a frozen slotted dataclass a faster ``__init__`` (same signature and behaviour).

    Python 3.11's generated frozen ``__init__`` calls ``object.__setattr__`` per field, which
    costs ~1 us a field; the writer builds several submessages per sample. This ``__init__``
    sets the slots through their descriptors (~3x faster); instances stay frozen.
    """
    ns: dict[str, Any] = {}
    params = []
    for f in fields(cls):
        ns["set_" + f.name] = cls.__dict__[f.name].__set__
        if f.default is not MISSING:
            ns["default_" + f.name] = f.default
            params.append(f"{f.name}=default_{f.name}")
        else:
            params.append(f.name)
    body = "".join(f"    set_{f.name}(self, {f.name})\n" for f in fields(cls))
    src = f"def __init__(self, {', '.join(params)}):\n{body}"
    exec(src, ns)  # generated from the dataclass's own field names only
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    return cls


@_fast_init
@dataclass(frozen=True, slots=True)
class InlineQos:
    """A DATA/DATA_FRAG inline QoS list: the two PIDs the core reads, and the rest raw.

    ``parameters`` holds every other (pid, value) in wire order, values in the submessage's
    endianness (little endian for what we build).
    """

    key_hash: bytes | None = None
    status_info: int | None = None
    parameters: tuple[tuple[int, bytes], ...] = ()


@_fast_init
@dataclass(frozen=True, slots=True)
class Data:
    reader_id: EntityId
    writer_id: EntityId
    writer_sn: int
    inline_qos: InlineQos | None = None
    serialized_payload: Payload | None = None
    key_only: bool = False  # K flag: the payload is the serialized key
    non_standard_payload: bool = False  # N flag
    extra_flags: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Data):
            return NotImplemented
        return (self.reader_id == other.reader_id and self.writer_id == other.writer_id
                and self.writer_sn == other.writer_sn and self.inline_qos == other.inline_qos
                and _payload_eq(self.serialized_payload, other.serialized_payload)
                and self.key_only == other.key_only
                and self.non_standard_payload == other.non_standard_payload
                and self.extra_flags == other.extra_flags)

    __hash__ = None  # type: ignore[assignment]


@_fast_init
@dataclass(frozen=True, slots=True)
class DataFrag:
    reader_id: EntityId
    writer_id: EntityId
    writer_sn: int
    fragment_starting_num: int
    fragments_in_submessage: int
    fragment_size: int
    sample_size: int
    inline_qos: InlineQos | None = None
    serialized_payload: Payload = b""
    key_only: bool = False
    non_standard_payload: bool = False
    extra_flags: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataFrag):
            return NotImplemented
        return (self.reader_id == other.reader_id and self.writer_id == other.writer_id
                and self.writer_sn == other.writer_sn
                and self.fragment_starting_num == other.fragment_starting_num
                and self.fragments_in_submessage == other.fragments_in_submessage
                and self.fragment_size == other.fragment_size
                and self.sample_size == other.sample_size
                and self.inline_qos == other.inline_qos
                and _payload_eq(self.serialized_payload, other.serialized_payload)
                and self.key_only == other.key_only
                and self.non_standard_payload == other.non_standard_payload
                and self.extra_flags == other.extra_flags)

    __hash__ = None  # type: ignore[assignment]


class HeartbeatGroupInfo(NamedTuple):
    current_gsn: int
    first_gsn: int
    last_gsn: int
    writer_set: bytes  # GroupDigest, 4 bytes
    secure_writer_set: bytes  # GroupDigest, 4 bytes


@_fast_init
@dataclass(frozen=True, slots=True)
class Heartbeat:
    reader_id: EntityId
    writer_id: EntityId
    first_sn: int
    last_sn: int
    count: int
    final: bool = False
    liveliness: bool = False
    group_info: HeartbeatGroupInfo | None = None


@_fast_init
@dataclass(frozen=True, slots=True)
class HeartbeatFrag:
    reader_id: EntityId
    writer_id: EntityId
    writer_sn: int
    last_fragment_num: int
    count: int


@_fast_init
@dataclass(frozen=True, slots=True)
class AckNack:
    reader_id: EntityId
    writer_id: EntityId
    reader_sn_state: SequenceNumberSet
    count: int
    final: bool = False


@_fast_init
@dataclass(frozen=True, slots=True)
class NackFrag:
    reader_id: EntityId
    writer_id: EntityId
    writer_sn: int
    fragment_number_state: FragmentNumberSet
    count: int


@_fast_init
@dataclass(frozen=True, slots=True)
class Gap:
    reader_id: EntityId
    writer_id: EntityId
    gap_start: int
    gap_list: SequenceNumberSet
    group_info: tuple[int, int] | None = None  # (gapStartGSN, gapEndGSN), G flag
    filtered_count: int | None = None  # F flag


@_fast_init
@dataclass(frozen=True, slots=True)
class InfoTs:
    timestamp: int | None  # ns since the Unix epoch; None: I flag (invalidate)


@_fast_init
@dataclass(frozen=True, slots=True)
class InfoDst:
    guid_prefix: GuidPrefix


@_fast_init
@dataclass(frozen=True, slots=True)
class InfoSrc:
    protocol_version: tuple[int, int]
    vendor_id: int
    guid_prefix: GuidPrefix


@_fast_init
@dataclass(frozen=True, slots=True)
class InfoReply:
    unicast_locators: tuple[Locator, ...]
    multicast_locators: tuple[Locator, ...] | None = None  # M flag


@_fast_init
@dataclass(frozen=True, slots=True)
class Pad:
    length: int = 0  # body octets


@_fast_init
@dataclass(frozen=True, slots=True)
class RawSubmessage:
    """A submessage we do not interpret (security, vendor-specific, future ids), kept whole."""

    submessage_id: int
    flags: int
    body: Payload = field(default=b"")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawSubmessage):
            return NotImplemented
        return (self.submessage_id == other.submessage_id and self.flags == other.flags
                and bytes(self.body) == bytes(other.body))

    __hash__ = None  # type: ignore[assignment]


Submessage = (Data | DataFrag | Heartbeat | HeartbeatFrag | AckNack | NackFrag | Gap | InfoTs
              | InfoDst | InfoSrc | InfoReply | Pad | RawSubmessage)
INFO_SUBMESSAGES = (InfoTs, InfoDst, InfoSrc, InfoReply, Pad)


class Received(NamedTuple):
    """A submessage with the receiver context of RTPS 8.3.4 resolved.

    ``dst_prefix`` is GUIDPREFIX_UNKNOWN when the message names no destination (for everyone
    who gets it). ``timestamp`` comes from the latest INFO_TS (None if none or invalidated).
    """

    submessage: Submessage
    src_prefix: GuidPrefix
    dst_prefix: GuidPrefix
    timestamp: int | None
    src_vendor_id: int
    src_version: tuple[int, int]
    reply_unicast: tuple[Locator, ...] = ()
    reply_multicast: tuple[Locator, ...] = ()


def _payload_eq(a: Payload | None, b: Payload | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b  # bytes == memoryview compares contents


def fast_constructor(cls: type) -> Callable[..., Any]:
    """A positional constructor for a frozen slotted dataclass that skips its ``__init__``.

    Python 3.11's generated frozen ``__init__`` goes through ``object.__setattr__`` per field
    and costs ~1 us a field; the parser builds several objects per datagram. This sets the
    slots through their descriptors instead (about 3x faster), values taken as given: callers
    pass exactly the fields, in order, already validated.
    """
    names = [f.name for f in fields(cls)]
    ns: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for n in names:
        ns["set_" + n] = cls.__dict__[n].__set__
    src = f"def make({', '.join(names)}):\n    o = new(cls)\n" + "".join(
        f"    set_{n}(o, {n})\n" for n in names) + "    return o\n"
    exec(src, ns)  # generated from the dataclass's own field names only
    return ns["make"]  # type: ignore[no-any-return]
