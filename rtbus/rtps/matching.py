"""Does a writer match a reader?  Topic, type, partitions and requested-vs-offered QoS.

The rules are those of DDS 1.4 2.2.3 (the "RxO" column): a reader's request is satisfied when
the writer offers at least as much. Incompatible QoS is reported as the list of DDS
``QosPolicyId_t`` values (DDS 1.4 2.3.3), which is what the OFFERED/REQUESTED_INCOMPATIBLE_QOS
statuses carry. Partition mismatch is not an incompatibility: the endpoints simply do not see
each other, and no status changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Callable, Iterable, Literal

from ..qos import (
    ACCESS_SCOPES,
    DESTINATION_ORDER_KINDS,
    DURABILITY_KINDS,
    LIVELINESS_KINDS,
    RELIABILITY_KINDS,
    Qos,
)
from .builtin_data import EndpointData

# DDS QosPolicyId_t values (DDS 1.4 2.3.3 and DDS-XTypes 7.6.3.1).
USERDATA_QOS_POLICY_ID = 1
DURABILITY_QOS_POLICY_ID = 2
PRESENTATION_QOS_POLICY_ID = 3
DEADLINE_QOS_POLICY_ID = 4
LATENCYBUDGET_QOS_POLICY_ID = 5
OWNERSHIP_QOS_POLICY_ID = 6
OWNERSHIPSTRENGTH_QOS_POLICY_ID = 7
LIVELINESS_QOS_POLICY_ID = 8
TIMEBASEDFILTER_QOS_POLICY_ID = 9
PARTITION_QOS_POLICY_ID = 10
RELIABILITY_QOS_POLICY_ID = 11
DESTINATIONORDER_QOS_POLICY_ID = 12
HISTORY_QOS_POLICY_ID = 13
RESOURCELIMITS_QOS_POLICY_ID = 14
LIFESPAN_QOS_POLICY_ID = 21
DURABILITYSERVICE_QOS_POLICY_ID = 22
DATA_REPRESENTATION_QOS_POLICY_ID = 23
TYPE_CONSISTENCY_ENFORCEMENT_QOS_POLICY_ID = 24

_WILDCARD_CHARS = frozenset("*?[")

#: ``type_check(writer, reader)`` -> True if the reader may receive the writer's type, None if
#: that cannot be decided yet (the remote TypeObjects are being fetched: no match for now, no
#: status either; the caller re-runs matching once they arrive). Called only when both
#: endpoints carry TypeInformation; :class:`rtbus.rtps.type_lookup.TypeLookupService` provides
#: the real one.
TypeCheck = Callable[[EndpointData, EndpointData], bool | None]


def incompatible_policies(offered: Qos, requested: Qos) -> list[int]:
    """Policy ids where the writer's ``offered`` QoS falls short of the reader's ``requested``."""
    bad: list[int] = []
    if DURABILITY_KINDS[offered.durability] < DURABILITY_KINDS[requested.durability]:
        bad.append(DURABILITY_QOS_POLICY_ID)
    o_scope, o_coherent, o_ordered = offered.presentation
    r_scope, r_coherent, r_ordered = requested.presentation
    if (ACCESS_SCOPES[o_scope] < ACCESS_SCOPES[r_scope] or (r_coherent and not o_coherent)
            or (r_ordered and not o_ordered)):
        bad.append(PRESENTATION_QOS_POLICY_ID)
    if offered.deadline > requested.deadline:
        bad.append(DEADLINE_QOS_POLICY_ID)
    if offered.latency_budget > requested.latency_budget:
        bad.append(LATENCYBUDGET_QOS_POLICY_ID)
    if offered.ownership != requested.ownership:
        bad.append(OWNERSHIP_QOS_POLICY_ID)
    if (LIVELINESS_KINDS[offered.liveliness] < LIVELINESS_KINDS[requested.liveliness]
            or offered.liveliness_lease > requested.liveliness_lease):
        bad.append(LIVELINESS_QOS_POLICY_ID)
    if RELIABILITY_KINDS[offered.reliability] < RELIABILITY_KINDS[requested.reliability]:
        bad.append(RELIABILITY_QOS_POLICY_ID)
    if (DESTINATION_ORDER_KINDS[offered.destination_order]
            < DESTINATION_ORDER_KINDS[requested.destination_order]):
        bad.append(DESTINATIONORDER_QOS_POLICY_ID)
    # A writer uses the first representation it lists; the reader must accept that one.
    if offered.data_representation[0] not in requested.data_representation:
        bad.append(DATA_REPRESENTATION_QOS_POLICY_ID)
    return bad


def _is_pattern(name: str) -> bool:
    return any(c in _WILDCARD_CHARS for c in name)


def partition_names_match(a: str, b: str) -> bool:
    """One writer partition vs one reader partition (DDS 1.4 2.2.3.13).

    Names match if equal; a name with wildcards (fnmatch syntax) matches a plain name; two
    wildcard expressions never match each other unless they are the same string.
    """
    if a == b:
        return True
    a_pat, b_pat = _is_pattern(a), _is_pattern(b)
    if a_pat and b_pat:
        return False
    if a_pat:
        return fnmatchcase(b, a)
    if b_pat:
        return fnmatchcase(a, b)
    return False


def partitions_match(writer: Iterable[str], reader: Iterable[str]) -> bool:
    """True if the two partition lists share a partition; an empty list is the "" partition."""
    w = list(writer) or [""]
    r = list(reader) or [""]
    return any(partition_names_match(a, b) for a in w for b in r)


MismatchReason = Literal["topic", "type", "type_pending", "partition", "qos"]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Outcome of matching one writer with one reader.

    ``reason`` says why not (None when matched); ``incompatible`` lists policy ids when the
    reason is "qos" -- the caller raises the incompatible-QoS statuses from it. "type_pending":
    the type check is still waiting for the remote TypeObjects (ask again later).
    """

    matched: bool
    reason: MismatchReason | None = None
    incompatible: list[int] = field(default_factory=list)


def match(writer: EndpointData, reader: EndpointData,
          type_check: TypeCheck | None = None) -> MatchResult:
    """Match ``writer`` against ``reader``: topic, then type, then QoS, then partitions.

    Types: when both sides carry TypeInformation and a ``type_check`` is given, it decides
    (XTypes assignability, where type names need not be equal); otherwise the type names must
    be equal (a peer without TypeInformation, e.g. RTI Connext 6.1, matches by name).
    """
    if writer.topic_name != reader.topic_name:
        return MatchResult(False, "topic")
    if (type_check is not None and writer.type_information is not None
            and reader.type_information is not None):
        type_ok = type_check(writer, reader)
        if type_ok is None:
            return MatchResult(False, "type_pending")
    else:
        type_ok = writer.type_name == reader.type_name
    if not type_ok:
        return MatchResult(False, "type")
    bad = incompatible_policies(writer.qos, reader.qos)
    if bad:
        return MatchResult(False, "qos", bad)
    if not partitions_match(writer.qos.partition, reader.qos.partition):
        return MatchResult(False, "partition")
    return MatchResult(True)
