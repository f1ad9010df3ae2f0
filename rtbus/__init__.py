"""rtbus: a brokerless DDS-style real-time data bus speaking DDSI-RTPS."""

from __future__ import annotations

__version__ = "0.1.0"

from . import cdr, errors, idl
from .participant import Participant
from .qos import Qos
from .reader import Reader
from .sample import Sample, SampleInfo
from .status import IncompatibleQosStatus, InconsistentTopicStatus, MatchedStatus
from .topic import Topic
from .types import declare as idl_types  # declaring IDL types in Python: rtbus.idl_types
from .writer import Writer

__all__ = ["IncompatibleQosStatus", "InconsistentTopicStatus", "MatchedStatus", "Participant",
           "Qos", "Reader", "Sample", "SampleInfo", "Topic", "Writer", "cdr", "errors", "idl",
           "idl_types"]
