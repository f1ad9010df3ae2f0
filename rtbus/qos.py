"""The QoS value object: plain keyword arguments, validated once, convertible to wire policies.

Users write ``Qos(reliability="reliable", history=("keep_last", 10), deadline=0.5)``; the rest
of rtbus reads attributes and never re-validates. Durations are float seconds
(``math.inf`` = infinite, the DDS default for deadline, lifespan and liveliness lease). The wire
encodings (``policies_to_wire`` / ``qos_from_wire``) are the DDSI-RTPS parameter values of
Table 9.13, little-endian as in the ``PL_CDR_LE`` discovery payloads Cyclone DDS sends.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass, fields, replace
from typing import Any, Iterable, Literal, Mapping

from .errors import MalformedError, QosError

Reliability = Literal["best_effort", "reliable"]
Durability = Literal["volatile", "transient_local", "transient", "persistent"]
Liveliness = Literal["automatic", "manual_by_participant", "manual_by_topic"]
Ownership = Literal["shared", "exclusive"]
DestinationOrder = Literal["by_reception_timestamp", "by_source_timestamp"]
AccessScope = Literal["instance", "topic", "group"]

RELIABILITY_KINDS: dict[str, int] = {"best_effort": 1, "reliable": 2}
DURABILITY_KINDS: dict[str, int] = {"volatile": 0, "transient_local": 1, "transient": 2,
                                    "persistent": 3}
LIVELINESS_KINDS: dict[str, int] = {"automatic": 0, "manual_by_participant": 1,
                                    "manual_by_topic": 2}
OWNERSHIP_KINDS: dict[str, int] = {"shared": 0, "exclusive": 1}
DESTINATION_ORDER_KINDS: dict[str, int] = {"by_reception_timestamp": 0, "by_source_timestamp": 1}
ACCESS_SCOPES: dict[str, int] = {"instance": 0, "topic": 1, "group": 2}
HISTORY_KINDS: dict[str, int] = {"keep_last": 0, "keep_all": 1}

#: XCDR data representation ids (DDS-XTypes 7.6.3.1.1).
XCDR1, XML, XCDR2 = 0, 1, 2


class QosPolicyId(enum.IntEnum):
    """DDS ``QosPolicyId_t`` (DDS 1.4 2.3.3, DDS-XTypes 7.6.3.1): which policy a status names.

    The incompatible-QoS statuses carry these, so a listener can print
    ``status.last_policy_id.name`` instead of looking 11 up in the spec. Members are named as
    the DDS IDL constants without their ``_QOS_POLICY_ID`` suffix; being ints, they compare
    equal to the numbers other DDS implementations report.
    """

    INVALID = 0
    USERDATA = 1
    DURABILITY = 2
    PRESENTATION = 3
    DEADLINE = 4
    LATENCYBUDGET = 5
    OWNERSHIP = 6
    OWNERSHIPSTRENGTH = 7
    LIVELINESS = 8
    TIMEBASEDFILTER = 9
    PARTITION = 10
    RELIABILITY = 11
    DESTINATIONORDER = 12
    HISTORY = 13
    RESOURCELIMITS = 14
    ENTITYFACTORY = 15
    WRITERDATALIFECYCLE = 16
    READERDATALIFECYCLE = 17
    TOPICDATA = 18
    GROUPDATA = 19
    TRANSPORTPRIORITY = 20
    LIFESPAN = 21
    DURABILITYSERVICE = 22
    DATA_REPRESENTATION = 23
    TYPE_CONSISTENCY_ENFORCEMENT = 24

# Parameter ids of the QoS policies (DDSI-RTPS 2.5 Table 9.13).
PID_USER_DATA = 0x002C
PID_TOPIC_DATA = 0x002E
PID_GROUP_DATA = 0x002D
PID_DURABILITY = 0x001D
PID_DURABILITY_SERVICE = 0x001E
PID_DEADLINE = 0x0023
PID_LATENCY_BUDGET = 0x0027
PID_LIVELINESS = 0x001B
PID_RELIABILITY = 0x001A
PID_LIFESPAN = 0x002B
PID_DESTINATION_ORDER = 0x0025
PID_HISTORY = 0x0040
PID_RESOURCE_LIMITS = 0x0041
PID_OWNERSHIP = 0x001F
PID_OWNERSHIP_STRENGTH = 0x0006
PID_PRESENTATION = 0x0021
PID_PARTITION = 0x0029
PID_TIME_BASED_FILTER = 0x0004
PID_TRANSPORT_PRIORITY = 0x0049
PID_DATA_REPRESENTATION = 0x0073

#: Duration_t "infinite" on the wire (seconds 0x7fffffff, fraction 0xffffffff).
_INFINITE_WIRE = (0x7FFFFFFF, 0xFFFFFFFF)
_UNLIMITED = -1


#: What a writer uses unless told otherwise. Only this very object means "not chosen".
DEFAULT_DATA_REPRESENTATION: tuple[int, ...] = (XCDR1,)

@dataclass(frozen=True, slots=True, kw_only=True)
class Qos:
    """One bundle of DDS QoS policies; every field has the DDS default for a data writer.

    ``history`` is ``("keep_last", depth)`` or ``"keep_all"``; ``resource_limits`` is
    ``(max_samples, max_instances, max_samples_per_instance)`` with -1 = unlimited. A reader
    created with the default Qos is best-effort as DDS says; the API layer applies that default.
    """

    reliability: Reliability = "reliable"
    max_blocking_time: float = 0.1
    durability: Durability = "volatile"
    history: tuple[str, int] | str = ("keep_last", 1)
    deadline: float = math.inf
    latency_budget: float = 0.0
    liveliness: Liveliness = "automatic"
    liveliness_lease: float = math.inf
    ownership: Ownership = "shared"
    ownership_strength: int = 0
    destination_order: DestinationOrder = "by_reception_timestamp"
    partition: tuple[str, ...] = ()
    lifespan: float = math.inf
    resource_limits: tuple[int, int, int] = (_UNLIMITED, _UNLIMITED, _UNLIMITED)
    presentation: tuple[str, bool, bool] = ("instance", False, False)
    time_based_filter: float = 0.0
    transport_priority: int = 0
    user_data: bytes = b""
    topic_data: bytes = b""
    group_data: bytes = b""
    # the default object itself (not just an equal tuple): a reader whose Qos still holds it
    # was never told a representation and accepts XCDR1 and XCDR2 (see create_reader)
    data_representation: tuple[int, ...] = DEFAULT_DATA_REPRESENTATION

    def __post_init__(self) -> None:
        _check_choice("reliability", self.reliability, RELIABILITY_KINDS)
        _check_choice("durability", self.durability, DURABILITY_KINDS)
        _check_choice("liveliness", self.liveliness, LIVELINESS_KINDS)
        _check_choice("ownership", self.ownership, OWNERSHIP_KINDS)
        _check_choice("destination_order", self.destination_order, DESTINATION_ORDER_KINDS)
        for name in ("max_blocking_time", "deadline", "latency_budget", "liveliness_lease",
                     "lifespan", "time_based_filter"):
            _check_duration(name, getattr(self, name))
        object.__setattr__(self, "history", _normalize_history(self.history))
        if isinstance(self.partition, str):
            object.__setattr__(self, "partition", (self.partition,))
        else:
            object.__setattr__(self, "partition", tuple(self.partition))
        for p in self.partition:
            if not isinstance(p, str):
                raise QosError(f"partition: expected a list of str, got an item {p!r}")
            if "\0" in p or not _utf8_encodable(p):
                raise QosError(f"partition: {p!r} cannot be sent (NUL or not UTF-8 encodable)")
        _check_int("ownership_strength", self.ownership_strength, -2**31, 2**31 - 1)
        _check_int("transport_priority", self.transport_priority, -2**31, 2**31 - 1)
        limits = tuple(self.resource_limits)
        if len(limits) != 3:
            raise QosError("resource_limits: expected (max_samples, max_instances, "
                           f"max_samples_per_instance), got {self.resource_limits!r}")
        for name, value in zip(("max_samples", "max_instances", "max_samples_per_instance"),
                               limits, strict=True):
            _check_int(f"resource_limits.{name}", value, -1, 2**31 - 1)
            if value == 0:
                raise QosError(f"resource_limits.{name}: expected a positive count or -1 "
                               "(unlimited), got 0")
        object.__setattr__(self, "resource_limits", limits)
        pres = tuple(self.presentation)
        if len(pres) != 3 or pres[0] not in ACCESS_SCOPES:
            raise QosError("presentation: expected (access_scope in "
                           f"{sorted(ACCESS_SCOPES)}, coherent, ordered), got "
                           f"{self.presentation!r}")
        object.__setattr__(self, "presentation", (pres[0], bool(pres[1]), bool(pres[2])))
        for name in ("user_data", "topic_data", "group_data"):
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise QosError(f"{name}: expected bytes, got {type(value).__name__}")
            object.__setattr__(self, name, bytes(value))
        reps = tuple(self.data_representation)  # a tuple stays the same object
        if not reps or any(r not in (XCDR1, XML, XCDR2) for r in reps):
            raise QosError("data_representation: expected a non-empty list of XCDR1 (0), "
                           f"XML (1), XCDR2 (2), got {self.data_representation!r}")
        object.__setattr__(self, "data_representation", reps)
        depth = self.history_depth
        if (self.history_kind == "keep_last" and self.resource_limits[2] != _UNLIMITED
                and depth > self.resource_limits[2]):
            raise QosError(f"history depth {depth} exceeds resource_limits."
                           f"max_samples_per_instance {self.resource_limits[2]}")

    @property
    def history_kind(self) -> str:
        return self.history if isinstance(self.history, str) else self.history[0]

    @property
    def history_depth(self) -> int:
        """The keep_last depth (1 for keep_all, as DDS puts on the wire)."""
        return 1 if isinstance(self.history, str) else self.history[1]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Qos:
        """A Qos from a plain mapping, e.g. a named profile loaded from JSON or TOML.

        Lists stand for tuples, and durations may be written "inf" / "infinite".
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise QosError(f"unknown QoS policy {unknown[0]!r}; expected one of "
                           f"{', '.join(f.name for f in fields(cls))}")
        kw: dict[str, Any] = {}
        for name, value in values.items():
            if name in _DURATION_FIELDS and isinstance(value, str):
                if value.strip().lower() not in ("inf", "infinite", "infinity"):
                    raise QosError(f"{name}: expected a duration in seconds or 'infinite', "
                                   f"got {value!r}")
                value = math.inf
            elif name in ("user_data", "topic_data", "group_data") and isinstance(value, list):
                try:
                    value = bytes(value)
                except (TypeError, ValueError):
                    raise QosError(f"{name}: expected bytes (a list of 0..255), got "
                                   f"{value!r}") from None
            elif isinstance(value, list):
                value = tuple(value)
            kw[name] = value
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        """Every policy as plain JSON-able values (``from_dict`` reads it back)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and math.isinf(value):
                value = "infinite"
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, bytes):
                value = list(value)
            out[f.name] = value
        return out

    def replace(self, **changes: Any) -> Qos:
        """A copy with some policies changed (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise QosError(f"unknown QoS policy {sorted(unknown)[0]!r}; expected one of "
                           f"{', '.join(f.name for f in fields(self))}")
        return replace(self, **changes)


# --- what rtbus honours ---------------------------------------------------------------------
# A Qos also describes remote endpoints parsed from the wire, so nothing here runs in
# __post_init__: the API calls these when the application creates a writer or reader.

EndpointRole = Literal["writer", "reader"]


def format_seconds(value: float) -> str:
    """A duration as log lines and error texts show it: ``0.5 s``, ``infinite``."""
    return "infinite" if math.isinf(value) else f"{value:g} s"


def unsupported(qos: Qos, role: EndpointRole) -> list[str]:
    """One sentence per policy ``qos`` sets that rtbus accepts but does not honour yet.

    DDS applications rely on these policies (an exclusive owner, a deadline that raises a
    status), so accepting one silently would let an application believe it is protected when
    it is not; the caller logs each sentence as a warning. Only non-default values are
    reported, and only those that matter for ``role`` (a reader's lifespan means nothing).
    What rtbus refuses outright (durability transient/persistent) is
    :func:`check_supported`'s business, not listed here.
    """
    out: list[str] = []
    writer = role == "writer"
    if qos.ownership == "exclusive" and not writer:
        # a writer's exclusive ownership is the remote readers' to enforce; it is announced
        out.append("ownership=exclusive is not enforced yet: every writer's samples are "
                   "delivered, not only the strongest writer's")
    if not math.isinf(qos.deadline):
        status = "OFFERED_DEADLINE_MISSED" if writer else "REQUESTED_DEADLINE_MISSED"
        out.append(f"deadline={format_seconds(qos.deadline)} is not enforced yet: missing "
                   f"it raises no {status} status")
    if qos.liveliness != "automatic" or not math.isinf(qos.liveliness_lease):
        setting = (f"liveliness={qos.liveliness} with a lease of "
                   f"{format_seconds(qos.liveliness_lease)}")
        if writer:
            out.append(f"{setting} is not honoured yet: the writer never asserts its "
                       "liveliness itself (no participant-message endpoint), so readers can "
                       "judge it only by its participant's announcements")
        else:
            out.append(f"{setting} is not enforced yet: a matched writer that falls silent "
                       "is not reported (no LIVELINESS_CHANGED status); it goes when its "
                       "participant's lease ends")
    if qos.destination_order == "by_source_timestamp" and not writer:
        out.append("destination_order=by_source_timestamp is not enforced yet: samples are "
                   "kept in the order they arrive, so a late older sample can replace a "
                   "newer one of the same instance")
    scope, coherent, ordered = qos.presentation
    features = (["coherent_access"] if coherent else []) + (
        ["ordered_access"] if ordered and scope == "group" else [])
    if features:
        # ordered access within a topic holds already: samples are kept in arrival order,
        # each writer's in its write order
        out.append(f"presentation access_scope={scope} with {' and '.join(features)} is not "
                   "honoured yet: samples are sent and delivered one by one (no coherent "
                   "sets, no order across the topics of a group)")
    if writer and not math.isinf(qos.lifespan):
        out.append(f"lifespan={format_seconds(qos.lifespan)} is not enforced yet: older "
                   "samples stay in the writer's history and are still sent to late joiners "
                   "and on repair")
    if not writer and qos.time_based_filter > 0:
        out.append(f"time_based_filter={format_seconds(qos.time_based_filter)} is not enforced "
                   "yet: every sample is delivered, however close together they come")
    return out


def check_supported(qos: Qos, role: EndpointRole) -> None:
    """Raise :class:`QosError` for a policy rtbus cannot offer at all, rather than degrade it.

    TRANSIENT and PERSISTENT durability promise samples that outlive their writer (a
    durability service, a disk); rtbus has neither, and quietly treating them as
    TRANSIENT_LOCAL would lose exactly the samples the application chose them for.
    """
    if qos.durability in ("transient", "persistent"):
        raise QosError(f"durability={qos.durability} is not supported yet for a {role} (rtbus "
                       "has no durability service to keep samples after their writer is "
                       "gone); use durability='transient_local', which keeps them for late "
                       "joiners while the writer lives")


_DURATION_FIELDS = frozenset({"max_blocking_time", "deadline", "latency_budget",
                              "liveliness_lease", "lifespan", "time_based_filter"})


def _check_choice(name: str, value: object, choices: dict[str, int]) -> None:
    if value not in choices:
        raise QosError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")


def _check_duration(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or value < 0:
        raise QosError(f"{name}: expected a duration in seconds >= 0 (math.inf = infinite), "
                       f"got {value!r}")


def _check_int(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise QosError(f"{name}: expected an integer in [{lo}, {hi}], got {value!r}")


def _normalize_history(value: object) -> tuple[str, int] | str:
    if value == "keep_all" or value == ("keep_all",):
        return "keep_all"
    if value == "keep_last":
        return ("keep_last", 1)
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == "keep_last":
        depth = value[1]
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth < 2**31:
            raise QosError(f"history: keep_last depth must be an integer >= 1, got {depth!r}")
        return ("keep_last", depth)
    raise QosError(f"history: expected ('keep_last', depth) or 'keep_all', got {value!r}")


# --- wire encodings -------------------------------------------------------------------------

def duration_to_wire(seconds: float) -> bytes:
    """DDSI Duration_t: int32 seconds + uint32 fraction (1/2^32 s), as Cyclone encodes it."""
    if math.isinf(seconds):
        return struct.pack("<iI", *_INFINITE_WIRE)
    whole = int(seconds)
    if whole >= 0x7FFFFFFF:
        return struct.pack("<iI", *_INFINITE_WIRE)
    frac = min(round((seconds - whole) * 2**32), 0xFFFFFFFF)
    return struct.pack("<iI", whole, frac)


def duration_from_wire(data: bytes | memoryview, offset: int = 0) -> float:
    sec, frac = struct.unpack_from("<iI", data, offset)
    if (sec, frac) == _INFINITE_WIRE:
        return math.inf
    if sec < 0:
        raise MalformedError("bad_duration", f"negative duration {sec}s")
    # Rounded to whole nanoseconds: DDS durations are nanosecond-precise, and this makes
    # 0.1 s come back as 0.1 rather than 0.10000000009.
    return (sec * 1_000_000_000 + round(frac * 1_000_000_000 / 2**32)) / 1_000_000_000


def _octets(value: bytes) -> bytes:
    return struct.pack("<I", len(value)) + value


def _utf8_encodable(s: str) -> bool:
    try:
        s.encode()
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _strings(values: Iterable[str]) -> bytes:
    items = list(values)
    out = bytearray(struct.pack("<I", len(items)))
    for s in items:
        raw = s.encode() + b"\0"
        out += struct.pack("<I", len(raw)) + raw
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def read_string(data: bytes | memoryview, offset: int) -> tuple[str, int]:
    """A CDR string (uint32 length incl. NUL) at ``offset``; returns (text, next offset)."""
    if offset + 4 > len(data):
        raise MalformedError("truncated_string", "string length past the end")
    (n,) = struct.unpack_from("<I", data, offset)
    start = offset + 4
    if n == 0 or start + n > len(data):
        raise MalformedError("truncated_string", f"string of {n} bytes past the end")
    raw = bytes(data[start:start + n])
    if raw[-1] != 0:
        raise MalformedError("bad_string", "string not NUL-terminated")
    try:
        text = raw[:-1].decode()
    except UnicodeDecodeError as exc:
        raise MalformedError("bad_string", str(exc)) from None
    end = start + n
    return text, end + (-end % 4)


def _read_strings(data: bytes) -> tuple[str, ...]:
    (count,) = struct.unpack_from("<I", data, 0)
    if count > len(data) // 4:
        raise MalformedError("bad_partition", f"{count} strings cannot fit in {len(data)} bytes")
    out = []
    offset = 4
    for _ in range(count):
        text, offset = read_string(data, offset)
        out.append(text)
    return tuple(out)


def _read_octets(data: bytes) -> bytes:
    (n,) = struct.unpack_from("<I", data, 0)
    if 4 + n > len(data):
        raise MalformedError("truncated_octets", f"{n} octets past the end")
    return bytes(data[4:4 + n])


def policies_to_wire(qos: Qos, role: Literal["writer", "reader", "topic"]) -> list[tuple[int,
                                                                                           bytes]]:
    """The (PID, value) pairs announcing ``qos`` for a writer or reader in SEDP.

    Every policy is sent explicitly, defaults included, so the receiver never has to guess
    which defaults we assumed (DDS and DDSI disagree on reliability's default for readers).
    """
    out: list[tuple[int, bytes]] = [
        (PID_DURABILITY, struct.pack("<I", DURABILITY_KINDS[qos.durability])),
        (PID_DEADLINE, duration_to_wire(qos.deadline)),
        (PID_LATENCY_BUDGET, duration_to_wire(qos.latency_budget)),
        (PID_LIVELINESS, struct.pack("<I", LIVELINESS_KINDS[qos.liveliness])
         + duration_to_wire(qos.liveliness_lease)),
        (PID_RELIABILITY, struct.pack("<I", RELIABILITY_KINDS[qos.reliability])
         + duration_to_wire(qos.max_blocking_time)),
        (PID_DESTINATION_ORDER,
         struct.pack("<I", DESTINATION_ORDER_KINDS[qos.destination_order])),
        (PID_HISTORY, struct.pack("<Ii", HISTORY_KINDS[qos.history_kind], qos.history_depth)),
        (PID_RESOURCE_LIMITS, struct.pack("<iii", *qos.resource_limits)),
        (PID_OWNERSHIP, struct.pack("<I", OWNERSHIP_KINDS[qos.ownership])),
        (PID_PRESENTATION, struct.pack("<I??xx", ACCESS_SCOPES[qos.presentation[0]],
                                       qos.presentation[1], qos.presentation[2])),
        (PID_PARTITION, _strings(qos.partition)),
        (PID_TOPIC_DATA, _octets(qos.topic_data)),
        (PID_GROUP_DATA, _octets(qos.group_data)),
        (PID_USER_DATA, _octets(qos.user_data)),
        (PID_DATA_REPRESENTATION, _int16_seq(qos.data_representation)),
    ]
    if role == "writer":
        out.append((PID_OWNERSHIP_STRENGTH, struct.pack("<i", qos.ownership_strength)))
        out.append((PID_LIFESPAN, duration_to_wire(qos.lifespan)))
        out.append((PID_TRANSPORT_PRIORITY, struct.pack("<i", qos.transport_priority)))
    elif role == "reader":
        out.append((PID_TIME_BASED_FILTER, duration_to_wire(qos.time_based_filter)))
    return out


def _int16_seq(values: tuple[int, ...]) -> bytes:
    body = struct.pack(f"<I{len(values)}h", len(values), *values)
    return body + b"\0" * (-len(body) % 4)


def _read_int16_seq(data: bytes) -> tuple[int, ...]:
    (n,) = struct.unpack_from("<I", data, 0)
    if 4 + 2 * n > len(data):
        raise MalformedError("bad_data_representation", f"{n} ids past the end")
    return tuple(struct.unpack_from(f"<{n}h", data, 4))


def qos_from_wire(params: dict[int, bytes], role: Literal["writer", "reader", "topic"]) -> Qos:
    """The Qos a remote endpoint announced; absent policies take the DDSI defaults.

    The one role-dependent default: a reader that does not send PID_RELIABILITY is best-effort,
    a writer reliable (DDSI-RTPS 9.6.2.2.3 Table 9.12 / 9.14). Malformed values raise
    :class:`MalformedError` (the caller drops the sample).
    """
    kw: dict[str, Any] = {}
    if role == "reader":
        kw["reliability"] = "best_effort"
    try:
        if (v := params.get(PID_DURABILITY)) is not None:
            kw["durability"] = _kind(v, DURABILITY_KINDS, "durability")
        if (v := params.get(PID_DEADLINE)) is not None:
            kw["deadline"] = duration_from_wire(v)
        if (v := params.get(PID_LATENCY_BUDGET)) is not None:
            kw["latency_budget"] = duration_from_wire(v)
        if (v := params.get(PID_LIVELINESS)) is not None:
            kw["liveliness"] = _kind(v, LIVELINESS_KINDS, "liveliness")
            kw["liveliness_lease"] = duration_from_wire(v, 4)
        if (v := params.get(PID_RELIABILITY)) is not None:
            (kind,) = struct.unpack_from("<I", v, 0)
            # RTPS: 1 = best-effort, 2 = reliable; 0 is what some old stacks send for
            # best-effort (the DDS API enum), accepted as Cyclone does.
            if kind not in (0, 1, 2):
                raise MalformedError("bad_reliability", f"unknown reliability kind {kind}")
            kw["reliability"] = "reliable" if kind == 2 else "best_effort"
            kw["max_blocking_time"] = duration_from_wire(v, 4)
        if (v := params.get(PID_DESTINATION_ORDER)) is not None:
            kw["destination_order"] = _kind(v, DESTINATION_ORDER_KINDS, "destination_order")
        if (v := params.get(PID_HISTORY)) is not None:
            kind, depth = struct.unpack_from("<Ii", v, 0)
            kw["history"] = "keep_all" if kind == 1 else ("keep_last", max(depth, 1))
        if (v := params.get(PID_RESOURCE_LIMITS)) is not None:
            kw["resource_limits"] = tuple(x if x > 0 else -1
                                          for x in struct.unpack_from("<iii", v, 0))
        if (v := params.get(PID_OWNERSHIP)) is not None:
            kw["ownership"] = _kind(v, OWNERSHIP_KINDS, "ownership")
        if (v := params.get(PID_OWNERSHIP_STRENGTH)) is not None:
            (kw["ownership_strength"],) = struct.unpack_from("<i", v, 0)
        if (v := params.get(PID_PRESENTATION)) is not None:
            scope, coherent, ordered = struct.unpack_from("<IBB", v, 0)
            names = {n: k for k, n in ACCESS_SCOPES.items()}
            if scope not in names:
                raise MalformedError("bad_presentation", f"access scope {scope}")
            kw["presentation"] = (names[scope], bool(coherent), bool(ordered))
        if (v := params.get(PID_PARTITION)) is not None:
            kw["partition"] = _read_strings(v)
        if (v := params.get(PID_LIFESPAN)) is not None:
            kw["lifespan"] = duration_from_wire(v)
        if (v := params.get(PID_TIME_BASED_FILTER)) is not None:
            kw["time_based_filter"] = duration_from_wire(v)
        if (v := params.get(PID_TRANSPORT_PRIORITY)) is not None:
            (kw["transport_priority"],) = struct.unpack_from("<i", v, 0)
        for pid, name in ((PID_USER_DATA, "user_data"), (PID_TOPIC_DATA, "topic_data"),
                          (PID_GROUP_DATA, "group_data")):
            if (v := params.get(pid)) is not None:
                kw[name] = _read_octets(v)
        if (v := params.get(PID_DATA_REPRESENTATION)) is not None:
            reps = _read_int16_seq(v)
            kw["data_representation"] = reps or (XCDR1,)
    except struct.error as exc:
        raise MalformedError("truncated_qos", str(exc)) from None
    try:
        return Qos(**kw)
    except QosError as exc:
        raise MalformedError("bad_qos", str(exc)) from None


def _kind(value: bytes, kinds: dict[str, int], name: str) -> str:
    (kind,) = struct.unpack_from("<I", value, 0)
    for key, code in kinds.items():
        if code == kind:
            return key
    raise MalformedError(f"bad_{name}", f"unknown {name} kind {kind}")
