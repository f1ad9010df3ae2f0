"""The QoS policies of a :class:`rtbus.qos.Qos` as RTPS parameters (DDSI-RTPS 2.5 Table 9.13).

``policies_to_wire(qos, role)`` gives the (PID, value bytes) pairs an SEDP announcement
carries for a writer, reader or topic; ``qos_from_wire(params, role)`` reads them back, with
the DDSI defaults for absent policies. Values are little endian, as in the ``PL_CDR_LE``
discovery payloads Cyclone DDS sends; a big-endian list is converted value by value before it
gets here (:func:`rtbus.rtps.builtin_data.iter_parameters`).

This module only maps between the public Qos model (float seconds, policy names) and the
typed parameter values of :mod:`rtbus.rtps.wire.parameters` (int nanoseconds, wire kinds);
every byte is written and read by that module's codecs, so there is one Duration_t, string
and sequence encoding in rtbus. Durations: float seconds -> nanoseconds (rounded to the
nearest ns) -> Duration_t with the fraction rounded up, as Cyclone DDS writes them; read
back to the nearest ns, as Cyclone reads them (``decode_discovery_parameter``), so any
fraction a peer derived from whole nanoseconds comes back as those nanoseconds.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping

from ...errors import MalformedError, QosError
from ...qos import (
    ACCESS_SCOPES,
    DESTINATION_ORDER_KINDS,
    DURABILITY_KINDS,
    HISTORY_KINDS,
    LIVELINESS_KINDS,
    OWNERSHIP_KINDS,
    RELIABILITY_KINDS,
    XCDR1,
    Qos,
)
from . import constants as C
from .parameters import (
    CODECS,
    History,
    Liveliness,
    Presentation,
    Reliability,
    ResourceLimits,
    decode_discovery_parameter,
)
from .time import DURATION_INFINITE_NS, NS_PER_S

Role = Literal["writer", "reader", "topic"]

_DURATION = CODECS[C.PID_DEADLINE]  # the Duration_t codec (every duration PID shares it)


def seconds_to_ns(seconds: float) -> int:
    """A Qos duration (float seconds, ``math.inf`` = infinite) as wire nanoseconds."""
    if math.isinf(seconds) or seconds >= 0x7FFFFFFF:
        return DURATION_INFINITE_NS
    return round(seconds * NS_PER_S)


def ns_to_seconds(ns: int) -> float:
    """Wire nanoseconds as a Qos duration; a negative one is malformed (DDS has none)."""
    if ns >= DURATION_INFINITE_NS:
        return math.inf
    if ns < 0:
        raise MalformedError("bad_duration", f"negative duration {ns} ns")
    return ns / NS_PER_S


def duration_to_wire(seconds: float) -> bytes:
    """DDSI Duration_t (int32 seconds + uint32 fraction of 2^-32 s), little endian."""
    return _DURATION[1](seconds_to_ns(seconds), True)


def duration_from_wire(data: bytes | memoryview, offset: int = 0) -> float:
    """The Duration_t at ``offset`` of a little-endian value, in float seconds."""
    return ns_to_seconds(decode_discovery_parameter(C.PID_DEADLINE, memoryview(data)[offset:]))


def qos_policies(qos: Qos, role: Role) -> list[tuple[int, Any]]:
    """The (PID, typed value) pairs announcing ``qos``, for :func:`build_pl_cdr` and friends.

    Every policy is listed, defaults included; :mod:`rtbus.rtps.builtin_data` leaves out the
    ones equal to the receiver's defaults.
    """
    out: list[tuple[int, Any]] = [
        (C.PID_DURABILITY, DURABILITY_KINDS[qos.durability]),
        (C.PID_DEADLINE, seconds_to_ns(qos.deadline)),
        (C.PID_LATENCY_BUDGET, seconds_to_ns(qos.latency_budget)),
        (C.PID_LIVELINESS, Liveliness(LIVELINESS_KINDS[qos.liveliness],
                                      seconds_to_ns(qos.liveliness_lease))),
        (C.PID_RELIABILITY, Reliability(RELIABILITY_KINDS[qos.reliability],
                                        seconds_to_ns(qos.max_blocking_time))),
        (C.PID_DESTINATION_ORDER, DESTINATION_ORDER_KINDS[qos.destination_order]),
        (C.PID_HISTORY, History(HISTORY_KINDS[qos.history_kind], qos.history_depth)),
        (C.PID_RESOURCE_LIMITS, ResourceLimits(*qos.resource_limits)),
        (C.PID_OWNERSHIP, OWNERSHIP_KINDS[qos.ownership]),
        (C.PID_PRESENTATION, Presentation(ACCESS_SCOPES[qos.presentation[0]],
                                          qos.presentation[1], qos.presentation[2])),
        (C.PID_PARTITION, qos.partition),
        (C.PID_TOPIC_DATA, qos.topic_data),
        (C.PID_GROUP_DATA, qos.group_data),
        (C.PID_USER_DATA, qos.user_data),
        (C.PID_DATA_REPRESENTATION, qos.data_representation),
    ]
    if role == "writer":
        out.append((C.PID_OWNERSHIP_STRENGTH, qos.ownership_strength))
        out.append((C.PID_LIFESPAN, seconds_to_ns(qos.lifespan)))
        out.append((C.PID_TRANSPORT_PRIORITY, qos.transport_priority))
    elif role == "reader":
        out.append((C.PID_TIME_BASED_FILTER, seconds_to_ns(qos.time_based_filter)))
    return out


#: The PIDs :func:`qos_from_wire` interprets.
QOS_PIDS = frozenset({
    C.PID_DURABILITY, C.PID_DURABILITY_SERVICE, C.PID_DEADLINE, C.PID_LATENCY_BUDGET,
    C.PID_LIVELINESS, C.PID_RELIABILITY, C.PID_DESTINATION_ORDER, C.PID_HISTORY,
    C.PID_RESOURCE_LIMITS, C.PID_OWNERSHIP, C.PID_OWNERSHIP_STRENGTH, C.PID_PRESENTATION,
    C.PID_PARTITION, C.PID_TOPIC_DATA, C.PID_GROUP_DATA, C.PID_USER_DATA, C.PID_LIFESPAN,
    C.PID_TIME_BASED_FILTER, C.PID_TRANSPORT_PRIORITY, C.PID_DATA_REPRESENTATION})


def policies_to_wire(qos: Qos, role: Role) -> list[tuple[int, bytes]]:
    """The (PID, little-endian value bytes) pairs announcing ``qos`` for a writer or reader.

    Every policy is sent explicitly, defaults included, so the receiver never has to guess
    which defaults we assumed (DDS and DDSI disagree on reliability's default for readers).
    """
    return [(pid, CODECS[pid][1](value, True)) for pid, value in qos_policies(qos, role)]


def qos_from_wire(params: Mapping[int, bytes | memoryview], role: Role) -> Qos:
    """The Qos a remote endpoint announced; absent policies take the DDSI defaults.

    ``params`` maps PIDs to little-endian values. The one role-dependent default: a reader
    that does not send PID_RELIABILITY is best-effort, a writer reliable (DDSI-RTPS 9.6.2.2.3
    Table 9.12 / 9.14). Malformed values raise :class:`MalformedError` (the caller drops the
    sample).
    """
    def get(pid: int) -> Any:
        v = params.get(pid)
        return None if v is None else decode_discovery_parameter(pid, v, True)

    kw: dict[str, Any] = {}
    if role == "reader":
        kw["reliability"] = "best_effort"
    if (v := get(C.PID_DURABILITY)) is not None:
        kw["durability"] = _kind(v, DURABILITY_KINDS, "durability")
    if (v := get(C.PID_DEADLINE)) is not None:
        kw["deadline"] = ns_to_seconds(v)
    if (v := get(C.PID_LATENCY_BUDGET)) is not None:
        kw["latency_budget"] = ns_to_seconds(v)
    if (v := get(C.PID_LIVELINESS)) is not None:
        kw["liveliness"] = _kind(v.kind, LIVELINESS_KINDS, "liveliness")
        kw["liveliness_lease"] = ns_to_seconds(v.lease_duration)
    if (v := get(C.PID_RELIABILITY)) is not None:
        # RTPS: 1 = best-effort, 2 = reliable; 0 is what some old stacks send for
        # best-effort (the DDS API enum), accepted as Cyclone does.
        if v.kind not in (0, 1, 2):
            raise MalformedError("bad_reliability", f"unknown reliability kind {v.kind}")
        kw["reliability"] = "reliable" if v.kind == 2 else "best_effort"
        kw["max_blocking_time"] = ns_to_seconds(v.max_blocking_time)
    if (v := get(C.PID_DESTINATION_ORDER)) is not None:
        kw["destination_order"] = _kind(v, DESTINATION_ORDER_KINDS, "destination_order")
    if (v := get(C.PID_HISTORY)) is not None:
        kw["history"] = "keep_all" if v.kind == 1 else ("keep_last", max(v.depth, 1))
    if (v := get(C.PID_RESOURCE_LIMITS)) is not None:
        kw["resource_limits"] = tuple(x if x > 0 else -1 for x in v)
    if (v := get(C.PID_OWNERSHIP)) is not None:
        kw["ownership"] = _kind(v, OWNERSHIP_KINDS, "ownership")
    if (v := get(C.PID_OWNERSHIP_STRENGTH)) is not None:
        kw["ownership_strength"] = v
    if (v := get(C.PID_PRESENTATION)) is not None:
        kw["presentation"] = (_kind(v.access_scope, ACCESS_SCOPES, "presentation"),
                              v.coherent_access, v.ordered_access)
    if (v := get(C.PID_PARTITION)) is not None:
        kw["partition"] = v
    if (v := get(C.PID_LIFESPAN)) is not None:
        kw["lifespan"] = ns_to_seconds(v)
    if (v := get(C.PID_TIME_BASED_FILTER)) is not None:
        kw["time_based_filter"] = ns_to_seconds(v)
    if (v := get(C.PID_TRANSPORT_PRIORITY)) is not None:
        kw["transport_priority"] = v
    for pid, name in ((C.PID_USER_DATA, "user_data"), (C.PID_TOPIC_DATA, "topic_data"),
                      (C.PID_GROUP_DATA, "group_data")):
        if (v := get(pid)) is not None:
            kw[name] = v
    if (v := get(C.PID_DATA_REPRESENTATION)) is not None:
        kw["data_representation"] = v or (XCDR1,)
    try:
        return Qos(**kw)
    except QosError as exc:
        raise MalformedError("bad_qos", str(exc)) from None


def _kind(code: int, kinds: dict[str, int], name: str) -> str:
    for key, value in kinds.items():
        if value == code:
            return key
    raise MalformedError(f"bad_{name}", f"unknown {name} kind {code}")


__all__ = ["QOS_PIDS", "duration_from_wire", "duration_to_wire", "ns_to_seconds",
           "policies_to_wire", "qos_from_wire", "qos_policies", "seconds_to_ns"]
