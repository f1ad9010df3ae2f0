"""The RTPS wire layer: parse and build DDSI-RTPS messages. Stateless, sans-IO.

API (everything is re-exported here, use ``from rtbus.rtps import wire``):

* ids: :class:`GuidPrefix`, :class:`EntityId`, :class:`Guid` (bytes subclasses, hashable),
  ``ENTITYID_*`` builtin endpoint ids, ``GUIDPREFIX_UNKNOWN``; constants in ``wire.constants``
  (``SMID_*``, flags, ``PID_*``, ``VENDORID_*``; encapsulation ids are
  :mod:`rtbus.cdr.encapsulation`'s).
* numbers: sequence numbers are ints (:func:`seq_split`/:func:`seq_join` for the wire form);
  :class:`SequenceNumberSet`, :class:`FragmentNumberSet` (``base`` + ``numbers``, ``members()``).
* :class:`Locator` (``Locator.udpv4(host, port)``), :class:`Time` and duration helpers (ns ints).
* submessages (frozen dataclasses): :class:`Data`, :class:`DataFrag`, :class:`Heartbeat`,
  :class:`HeartbeatFrag`, :class:`AckNack`, :class:`NackFrag`, :class:`Gap`, :class:`InfoTs`,
  :class:`InfoDst`, :class:`InfoSrc`, :class:`InfoReply`, :class:`Pad`, :class:`RawSubmessage`;
  :class:`InlineQos` (key hash, status info, other parameters); :class:`Received` (a submessage
  with its receiver context).
* :func:`parse_message` -> :class:`Message` (``submessages``, ``received``, ``dropped``);
  :class:`MessageBuilder`, :func:`encode_submessage`, :func:`submessage_size`.
* parameter lists: :func:`parse_parameter_list`, :func:`encode_parameter_list`,
  :func:`parse_pl_cdr`, :func:`build_pl_cdr`, :func:`decode_parameter`,
  :func:`encode_parameter`, :func:`decode_parameters`.
* QoS policies as parameters: :mod:`rtbus.rtps.wire.qos_params` (``policies_to_wire``,
  ``qos_from_wire``); import it by name (it needs :mod:`rtbus.qos`, which needs these
  constants, so it is not re-exported here).

Malformed input raises only :class:`rtbus.errors.MalformedError` (bad header) or is reported
per submessage in ``Message.dropped``; see :mod:`rtbus.rtps.wire.message`.
"""

from . import constants
from .constants import PROTOCOL_VERSION, VENDORID_RTBUS
from .guid import (
    ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER,
    ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER,
    ENTITYID_PARTICIPANT,
    ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER,
    ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER,
    ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER,
    ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER,
    ENTITYID_SEDP_BUILTIN_TOPIC_READER,
    ENTITYID_SEDP_BUILTIN_TOPIC_WRITER,
    ENTITYID_SPDP_BUILTIN_PARTICIPANT_READER,
    ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER,
    ENTITYID_TL_SVC_REPLY_READER,
    ENTITYID_TL_SVC_REPLY_WRITER,
    ENTITYID_TL_SVC_REQUEST_READER,
    ENTITYID_TL_SVC_REQUEST_WRITER,
    ENTITYID_UNKNOWN,
    GUIDPREFIX_UNKNOWN,
    EntityId,
    Guid,
    GuidPrefix,
)
from .locator import LOCATOR_INVALID, Locator
from .message import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Message,
    MessageBuilder,
    encode_data_message,
    encode_header,
    encode_submessage,
    parse_message,
    submessage_size,
)
from .parameters import (
    build_pl_cdr,
    decode_parameter,
    decode_parameters,
    encode_parameter,
    encode_parameter_list,
    parse_parameter_list,
    parse_pl_cdr,
    unknown_must_understand,
)
from .sequence_numbers import (
    MAX_SET_BITS,
    SEQUENCE_NUMBER_UNKNOWN,
    FragmentNumberSet,
    SequenceNumberSet,
    seq_join,
    seq_split,
)
from .submessages import (
    AckNack,
    Data,
    DataFrag,
    Gap,
    Heartbeat,
    HeartbeatFrag,
    HeartbeatGroupInfo,
    InfoDst,
    InfoReply,
    InfoSrc,
    InfoTs,
    InlineQos,
    NackFrag,
    Pad,
    RawSubmessage,
    Received,
    Submessage,
)
from .time import (
    DURATION_INFINITE,
    DURATION_INFINITE_NS,
    TIME_INFINITE,
    TIME_INVALID,
    TIME_ZERO,
    Time,
    duration_from_ns,
    duration_to_ns,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE", "DURATION_INFINITE", "DURATION_INFINITE_NS",
    "ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER",
    "ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER", "ENTITYID_PARTICIPANT",
    "ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER", "ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER",
    "ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER", "ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER",
    "ENTITYID_SEDP_BUILTIN_TOPIC_READER", "ENTITYID_SEDP_BUILTIN_TOPIC_WRITER",
    "ENTITYID_SPDP_BUILTIN_PARTICIPANT_READER", "ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER",
    "ENTITYID_TL_SVC_REPLY_READER", "ENTITYID_TL_SVC_REPLY_WRITER",
    "ENTITYID_TL_SVC_REQUEST_READER", "ENTITYID_TL_SVC_REQUEST_WRITER", "ENTITYID_UNKNOWN",
    "GUIDPREFIX_UNKNOWN", "LOCATOR_INVALID", "MAX_SET_BITS", "PROTOCOL_VERSION",
    "SEQUENCE_NUMBER_UNKNOWN", "TIME_INFINITE", "TIME_INVALID", "TIME_ZERO", "VENDORID_RTBUS",
    "AckNack", "Data", "DataFrag", "EntityId", "FragmentNumberSet", "Gap", "Guid", "GuidPrefix",
    "Heartbeat", "HeartbeatFrag", "HeartbeatGroupInfo", "InfoDst", "InfoReply", "InfoSrc",
    "InfoTs", "InlineQos", "Locator", "Message", "MessageBuilder", "NackFrag", "Pad",
    "RawSubmessage", "Received", "SequenceNumberSet", "Submessage", "Time", "build_pl_cdr",
    "constants", "decode_parameter", "decode_parameters", "duration_from_ns", "duration_to_ns",
    "encode_data_message", "encode_header", "encode_parameter", "encode_parameter_list",
    "encode_submessage",
    "parse_message", "parse_parameter_list", "parse_pl_cdr", "seq_join", "seq_split",
    "submessage_size", "unknown_must_understand",
]
