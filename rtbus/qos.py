"""The QoS value object: plain keyword arguments, validated once.

Users write ``Qos(reliability="reliable", history=("keep_last", 10), deadline=0.5)``; the rest
of rtbus reads attributes and never re-validates. Durations are float seconds
(``math.inf`` = infinite, the DDS default for deadline, lifespan and liveliness lease). How a
Qos is announced on the wire (``policies_to_wire`` / ``qos_from_wire``, the DDSI-RTPS parameter
values of Table 9.13) is the wire layer's business: :mod:`rtbus.rtps.wire.qos_params`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, Mapping

from .errors import QosError
from .rtps.wire import constants as C

Reliability = Literal["best_effort", "reliable"]
Durability = Literal["volatile", "transient_local", "transient", "persistent"]
Liveliness = Literal["automatic", "manual_by_participant", "manual_by_topic"]
Ownership = Literal["shared", "exclusive"]
DestinationOrder = Literal["by_reception_timestamp", "by_source_timestamp"]
AccessScope = Literal["instance", "topic", "group"]

# Policy names -> their wire codes (which also rank them for request/offer matching).
RELIABILITY_KINDS: dict[str, int] = {"best_effort": C.RELIABILITY_BEST_EFFORT,
                                     "reliable": C.RELIABILITY_RELIABLE}
DURABILITY_KINDS: dict[str, int] = {"volatile": C.DURABILITY_VOLATILE,
                                    "transient_local": C.DURABILITY_TRANSIENT_LOCAL,
                                    "transient": C.DURABILITY_TRANSIENT,
                                    "persistent": C.DURABILITY_PERSISTENT}
LIVELINESS_KINDS: dict[str, int] = {"automatic": C.LIVELINESS_AUTOMATIC,
                                    "manual_by_participant": C.LIVELINESS_MANUAL_BY_PARTICIPANT,
                                    "manual_by_topic": C.LIVELINESS_MANUAL_BY_TOPIC}
OWNERSHIP_KINDS: dict[str, int] = {"shared": C.OWNERSHIP_SHARED,
                                   "exclusive": C.OWNERSHIP_EXCLUSIVE}
DESTINATION_ORDER_KINDS: dict[str, int] = {
    "by_reception_timestamp": C.DESTINATION_ORDER_BY_RECEPTION_TIMESTAMP,
    "by_source_timestamp": C.DESTINATION_ORDER_BY_SOURCE_TIMESTAMP}
ACCESS_SCOPES: dict[str, int] = {"instance": C.PRESENTATION_INSTANCE,
                                 "topic": C.PRESENTATION_TOPIC, "group": C.PRESENTATION_GROUP}
HISTORY_KINDS: dict[str, int] = {"keep_last": C.HISTORY_KEEP_LAST, "keep_all": C.HISTORY_KEEP_ALL}

#: XCDR data representation ids (DDS-XTypes 7.6.3.1.1).
XCDR1 = C.DATA_REPRESENTATION_XCDR1
XML = C.DATA_REPRESENTATION_XML
XCDR2 = C.DATA_REPRESENTATION_XCDR2


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
    # WRITER_DATA_LIFECYCLE / READER_DATA_LIFECYCLE (local: not announced). DDS defaults: an
    # unregister also disposes; a reader keeps NOT_ALIVE instances' samples until taken
    autodispose_unregistered_instances: bool = True
    autopurge_nowriter_samples_delay: float = math.inf
    autopurge_disposed_samples_delay: float = math.inf
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
                     "lifespan", "time_based_filter", "autopurge_nowriter_samples_delay",
                     "autopurge_disposed_samples_delay"):
            _check_duration(name, getattr(self, name))
        if not isinstance(self.autodispose_unregistered_instances, bool):
            raise QosError("autodispose_unregistered_instances: expected True or False, got "
                           f"{self.autodispose_unregistered_instances!r}")
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
    scope, coherent, ordered = qos.presentation
    features = (["coherent_access"] if coherent else []) + (
        ["ordered_access"] if ordered and scope == "group" else [])
    if features:
        # ordered access within a topic holds already: samples are kept in arrival order,
        # each writer's in its write order
        out.append(f"presentation access_scope={scope} with {' and '.join(features)} is not "
                   "honoured yet: samples are sent and delivered one by one (no coherent "
                   "sets, no order across the topics of a group)")
    return out


def check_supported(qos: Qos, role: EndpointRole) -> None:
    """Raise :class:`QosError` for a policy rtbus cannot offer at all, rather than degrade it,
    and for a reader whose time-based filter is longer than its deadline (inconsistent).

    TRANSIENT and PERSISTENT durability promise samples that outlive their writer (a
    durability service, a disk); rtbus has neither, and quietly treating them as
    TRANSIENT_LOCAL would lose exactly the samples the application chose them for.
    """
    if role == "reader" and qos.time_based_filter > qos.deadline:
        raise QosError(f"time_based_filter={format_seconds(qos.time_based_filter)} is longer "
                       f"than deadline={format_seconds(qos.deadline)}: the filter would make "
                       "the reader miss every deadline (DDS: inconsistent policies)")
    if qos.durability in ("transient", "persistent"):
        raise QosError(f"durability={qos.durability} is not supported yet for a {role} (rtbus "
                       "has no durability service to keep samples after their writer is "
                       "gone); use durability='transient_local', which keeps them for late "
                       "joiners while the writer lives")


_DURATION_FIELDS = frozenset({"max_blocking_time", "deadline", "latency_budget",
                              "liveliness_lease", "lifespan", "time_based_filter",
                              "autopurge_nowriter_samples_delay",
                              "autopurge_disposed_samples_delay"})


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


def _utf8_encodable(s: str) -> bool:
    try:
        s.encode()
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True
