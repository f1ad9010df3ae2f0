"""What the sans-IO endpoints ask their caller to do, and what they report.

The contract (aioquic / h11 style):

* Writers and readers (``rtbus.rtps.writer``, ``rtbus.rtps.reader`` with its writer streams
  and cache) and the builtin services built on them (SPDP, SEDP, TypeLookup) never sleep,
  read a clock or touch a socket. Every method that can change state takes ``now`` -- **float
  seconds on a monotonic clock** of the caller's choosing (the engine's ``time.monotonic()``,
  a test's virtual clock) -- and returns the actions to carry out, in order: a ``list``, or,
  from ``StatefulWriter.write``, a ``Written`` holding one (``WouldBlock`` when a KEEP_ALL
  history is full). Their caller is :class:`~rtbus.rtps.participant.ParticipantCore`, which
  carries the actions out and reports what the API needs as events.
* Source timestamps (what ends up in INFO_TS and ``SampleInfo.source_timestamp``) are a
  different thing: **integer nanoseconds since the Unix epoch**, passed in by the caller.
* Timers are queries, not callbacks: after any call the caller asks ``next_timer()`` for the
  earliest moment the endpoint wants to be woken (``None``: no timer) and calls
  ``handle_timer(now)`` once that moment has passed. Calling it early is harmless.
* Incoming submessages are handed over already parsed by the wire layer, together with the
  source GUID prefix the wire receiver derived (``handle_*`` methods); endpoints never see
  datagrams. DATA payloads stay the wire layer's zero-copy ``memoryview`` slices and are kept
  (in out-of-order buffers and the reader history) without copying, so whoever feeds
  ``ParticipantCore.receive`` must pass immutable datagrams (``bytes``), never a receive
  buffer it reuses. Fragments are copied on arrival.
* ``ParticipantCore.receive`` and ``_route`` are the receive path: INFO_DST filtering,
  routing by entity id (ENTITYID_UNKNOWN: every local reader), and INFO_TS passed on as the
  ``timestamp``.

Actions:

* :class:`Send` -- submessages (wire-layer dataclasses) for one remote participant, or for
  every participant at the locators, kept in order: they belong together (an INFO_TS applies
  to the DATA after it; a piggy-backed HEARTBEAT follows the data it covers).
  ``ParticipantCore`` makes messages of them (INFO_DST for ``dest_prefix``, split at the
  maximum message size) for ``datagrams_to_send`` to batch; one for the participant's own
  prefix is routed back to the local endpoints without bytes.
* :class:`Deliver` -- a sample entered the reader history cache (``take``-able); the core
  reports it as a ``Delivered`` event (at most one per reader per datagram and per drain of
  ``events()``), which wakes takers, listeners and async iterators.
* :class:`Acknowledged` -- the writer's "acknowledged by every reliable reader" mark moved
  (``wait_for_acknowledgments``, and a KEEP_ALL writer blocked on a full history can retry).
* :class:`SamplesLost` / :class:`SampleRejected` / :class:`DeadlineMissed` -- inputs to the
  SAMPLE_LOST, SAMPLE_REJECTED and REQUESTED_DEADLINE_MISSED statuses (reported as
  ``ReaderStatusChange``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .instances import InstanceState, SampleState, ViewState


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``submessages`` to the remote participant ``dest_prefix`` at ``locators``.

    ``dest_prefix`` is the 12-byte GUID prefix of the destination participant (for INFO_DST), or
    None for a message meant for every participant listening on ``locators`` (multicast).
    """

    dest_prefix: Any
    locators: tuple[Any, ...]
    submessages: tuple[Any, ...]


@dataclass(slots=True)
class ReceivedInfo:
    """What the core knows of one received sample: the parts of the DDS SampleInfo it can fill
    (the user gets :class:`rtbus.SampleInfo`, made from this one)."""

    writer_guid: Any
    sequence_number: int
    source_timestamp: int | None  # ns since the Unix epoch, as the writer stamped it
    reception_timestamp: float  # the driver's ``now`` when the sample was accepted
    key_hash: bytes | None
    valid_data: bool
    instance_state: InstanceState = InstanceState.ALIVE
    view_state: ViewState = ViewState.NEW
    sample_state: SampleState = SampleState.NOT_READ
    disposed_generation_count: int = 0
    no_writers_generation_count: int = 0


@dataclass(slots=True)
class ReceivedSample:
    """A received sample as the reader history holds it: serialized payload (encapsulation
    header included) plus its info.

    For an invalid-data sample (``info.valid_data`` False: a dispose/unregister notification)
    ``payload`` is what came with it, if anything: the serialized key (``key_only``), or a
    whole sample some writers send with a dispose; None when only the key hash came.
    ``seq`` is the reader history's own ordinal, so samples of all writers share one order.
    """

    seq: int
    key_hash: bytes | None
    payload: bytes | memoryview | None
    info: ReceivedInfo
    status_info: int = 0
    inline_qos: Any = field(default=None, repr=False)
    key_only: bool = False


@dataclass(frozen=True, slots=True)
class Deliver:
    """``sample`` entered the reader history cache."""

    sample: ReceivedSample


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """Every reliable matched reader has acknowledged all changes up to ``seq``."""

    writer_guid: Any
    seq: int


@dataclass(frozen=True, slots=True)
class SamplesLost:
    """``count`` samples of ``writer_guid`` will never arrive (GAP'd away, or best effort)."""

    writer_guid: Any
    count: int


@dataclass(frozen=True, slots=True)
class SampleRejected:
    """A sample arrived but the reader history could not take it (``reason``: which limit)."""

    writer_guid: Any
    seq: int
    reason: str
    key_hash: bytes | None = None  # the instance it was for, when known


@dataclass(frozen=True, slots=True)
class DeadlineMissed:
    """No sample of instance ``key_hash`` came within the reader's deadline period."""

    key_hash: bytes | None


@dataclass(frozen=True, slots=True)
class OfferedDeadlineMissed:
    """Writer ``writer_guid`` did not write instance ``key_hash`` within the deadline it
    offers."""

    writer_guid: Any
    key_hash: bytes | None


@dataclass(frozen=True, slots=True)
class LivelinessChanged:
    """A reader's matched writer changed liveliness (LIVELINESS_CHANGED): the deltas of its
    alive and not-alive writer counts; ``writer_guid`` is the last publication handle."""

    writer_guid: Any
    alive_delta: int
    not_alive_delta: int


@dataclass(frozen=True, slots=True)
class LivelinessLost:
    """A local MANUAL writer let its liveliness lease pass without asserting
    (LIVELINESS_LOST)."""

    writer_guid: Any


Action = Union[Send, Deliver, Acknowledged, SamplesLost, SampleRejected, DeadlineMissed,
               OfferedDeadlineMissed, LivelinessChanged, LivelinessLost]
