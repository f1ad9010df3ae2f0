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
    XCDR1,
    XCDR2,
    XML,
    Qos,
    QosPolicyId,
    format_seconds,
)
from .builtin_data import EndpointData

# The DDS names of QosPolicyId_t, kept for code written before the enum (rtbus.qos.QosPolicyId
# is the one definition).
USERDATA_QOS_POLICY_ID = QosPolicyId.USERDATA
DURABILITY_QOS_POLICY_ID = QosPolicyId.DURABILITY
PRESENTATION_QOS_POLICY_ID = QosPolicyId.PRESENTATION
DEADLINE_QOS_POLICY_ID = QosPolicyId.DEADLINE
LATENCYBUDGET_QOS_POLICY_ID = QosPolicyId.LATENCYBUDGET
OWNERSHIP_QOS_POLICY_ID = QosPolicyId.OWNERSHIP
OWNERSHIPSTRENGTH_QOS_POLICY_ID = QosPolicyId.OWNERSHIPSTRENGTH
LIVELINESS_QOS_POLICY_ID = QosPolicyId.LIVELINESS
TIMEBASEDFILTER_QOS_POLICY_ID = QosPolicyId.TIMEBASEDFILTER
PARTITION_QOS_POLICY_ID = QosPolicyId.PARTITION
RELIABILITY_QOS_POLICY_ID = QosPolicyId.RELIABILITY
DESTINATIONORDER_QOS_POLICY_ID = QosPolicyId.DESTINATIONORDER
HISTORY_QOS_POLICY_ID = QosPolicyId.HISTORY
RESOURCELIMITS_QOS_POLICY_ID = QosPolicyId.RESOURCELIMITS
LIFESPAN_QOS_POLICY_ID = QosPolicyId.LIFESPAN
DURABILITYSERVICE_QOS_POLICY_ID = QosPolicyId.DURABILITYSERVICE
DATA_REPRESENTATION_QOS_POLICY_ID = QosPolicyId.DATA_REPRESENTATION
TYPE_CONSISTENCY_ENFORCEMENT_QOS_POLICY_ID = QosPolicyId.TYPE_CONSISTENCY_ENFORCEMENT

_WILDCARD_CHARS = frozenset("*?[")

#: ``type_check(writer, reader)`` -> True if the reader may receive the writer's type, None if
#: that cannot be decided yet (the remote TypeObjects are being fetched: no match for now, no
#: status either; the caller re-runs matching once they arrive). Called only when both
#: endpoints carry TypeInformation; :class:`rtbus.rtps.type_lookup.TypeLookupService` provides
#: the real one.
TypeCheck = Callable[[EndpointData, EndpointData], bool | None]


def incompatible_policies(offered: Qos, requested: Qos) -> list[QosPolicyId]:
    """Policies where the writer's ``offered`` QoS falls short of the reader's ``requested``."""
    bad: list[QosPolicyId] = []
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


_REPRESENTATIONS = {XCDR1: "XCDR1", XML: "XML", XCDR2: "XCDR2"}


def _policy_value(qos: Qos, policy: QosPolicyId, side: Literal["writer", "reader"]) -> str | None:
    """How ``qos`` sets ``policy``, in the words of Qos's keyword values (None: Qos does not
    model that policy, so there is nothing to show)."""
    if policy is QosPolicyId.DURABILITY:
        return qos.durability
    if policy is QosPolicyId.PRESENTATION:
        scope, coherent, ordered = qos.presentation
        return (f"access_scope {scope}" + (", coherent_access" if coherent else "")
                + (", ordered_access" if ordered else ""))
    if policy is QosPolicyId.DEADLINE:
        return format_seconds(qos.deadline)
    if policy is QosPolicyId.LATENCYBUDGET:
        return format_seconds(qos.latency_budget)
    if policy is QosPolicyId.OWNERSHIP:
        return qos.ownership
    if policy is QosPolicyId.LIVELINESS:
        return f"{qos.liveliness} with a lease of {format_seconds(qos.liveliness_lease)}"
    if policy is QosPolicyId.RELIABILITY:
        return qos.reliability
    if policy is QosPolicyId.DESTINATIONORDER:
        return qos.destination_order
    if policy is QosPolicyId.DATA_REPRESENTATION:
        names = [_REPRESENTATIONS.get(r, str(r)) for r in qos.data_representation]
        # a writer uses the first it lists (see incompatible_policies); a reader takes any
        return names[0] if side == "writer" else " or ".join(names)
    return None


def describe_incompatibility(offered: Qos, requested: Qos, policies: Iterable[int]) -> str:
    """What does not fit between a writer's ``offered`` and a reader's ``requested`` QoS.

    For the warning logged once per incompatible pair, and for error texts: an
    incompatibility is the most common reason two DDS applications do not talk, and the bare
    status (policy 11) sends the user to the spec and then to both programs' QoS settings.
    One clause per failed policy, in the order given, e.g. ``RELIABILITY: writer offers
    best_effort, reader requests reliable``; clauses are joined by ``"; "``.
    """
    parts: list[str] = []
    for number in policies:
        try:
            policy = QosPolicyId(number)
        except ValueError:
            parts.append(f"policy id {int(number)}: not compatible")
            continue
        w = _policy_value(offered, policy, "writer")
        r = _policy_value(requested, policy, "reader")
        if w is None or r is None:
            parts.append(f"{policy.name}: not compatible")
        else:
            parts.append(f"{policy.name}: writer offers {w}, reader requests {r}")
    return "; ".join(parts) if parts else "no incompatible policy"


def describe_inconsistent_topic(writer: EndpointData, reader: EndpointData,
                                type_check_used: bool = True) -> str:
    """Why a writer's and a reader's types on one topic name do not fit, naming both types.

    ``type_check_used``: whether :func:`match` was given a ``type_check``; with it, endpoints
    that both announce TypeInformation were judged by XTypes assignability, otherwise by
    type name -- and the text says which, since the remedies differ (fix the IDL, or make
    both sides announce their types).
    """
    topic = writer.topic_name
    w, r = writer.type_name, reader.type_name
    typed = writer.type_information is not None and reader.type_information is not None
    if type_check_used and typed:
        same = " (same name, different definitions)" if w == r else ""
        return (f"topic {topic!r}: the writer's type {w!r} is not assignable to the reader's "
                f"type {r!r}{same}")
    if not typed:
        lacking = [side for side, e in (("writer", writer), ("reader", reader))
                   if e.type_information is None]
        why = f"the {' and the '.join(lacking)} announce{'s' if len(lacking) == 1 else ''} " \
              "no TypeInformation"
    else:
        why = "type assignability is not checked"
    return (f"topic {topic!r}: the writer's type {w!r} and the reader's type {r!r} have "
            f"different names, and types are matched by name ({why})")


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
    incompatible: list[QosPolicyId] = field(default_factory=list)


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
