"""rtbus: a brokerless DDS-style real-time data bus speaking DDSI-RTPS."""

from __future__ import annotations

__version__ = "0.1.0"

from . import cdr, errors, idl
from .builtin_topics import (
    DCPSParticipant,
    DCPSPublication,
    DCPSSubscription,
    EndpointBuiltinTopicData,
    ParticipantBuiltinTopicData,
)
from .participant import Participant
from .qos import Qos, QosPolicyId
from .reader import Reader
from .rtps.instances import InstanceState, SampleState, ViewState
from .sample import Sample, SampleInfo
from .status import (
    IncompatibleQosStatus,
    InconsistentTopicStatus,
    LivelinessChangedStatus,
    LivelinessLostStatus,
    MatchedStatus,
    OfferedDeadlineMissedStatus,
    RequestedDeadlineMissedStatus,
    SampleLostStatus,
    SampleRejectedReason,
    SampleRejectedStatus,
)
from .topic import ContentFilteredTopic, Topic
from .types import declare as idl_types  # declaring IDL types in Python: rtbus.idl_types
from .waitset import GuardCondition, ReadCondition, StatusCondition, WaitSet
from .writer import Writer

__all__ = ["ContentFilteredTopic", "DCPSParticipant", "DCPSPublication", "DCPSSubscription",
           "EndpointBuiltinTopicData", "GuardCondition", "IncompatibleQosStatus",
           "InconsistentTopicStatus", "InstanceState", "LivelinessChangedStatus",
           "LivelinessLostStatus", "MatchedStatus",
           "OfferedDeadlineMissedStatus", "Participant", "ParticipantBuiltinTopicData", "Qos",
           "QosPolicyId", "ReadCondition", "Reader", "RequestedDeadlineMissedStatus", "Sample",
           "SampleInfo", "SampleLostStatus", "SampleRejectedReason", "SampleRejectedStatus",
           "SampleState", "StatusCondition", "Topic", "ViewState", "WaitSet", "Writer", "cdr",
           "errors", "idl", "idl_types"]
