"""The seam of the reader cache pipeline: what a stage sees of a sample and what it may do.

Ownership, deadline, liveliness, lifespan, time-based and content filters all decide between
"this change has an instance" and "this change enters the history", and several of them need
the remote writers' QoS and timers of their own. A :class:`Stage` gets exactly that: every
change's metadata, the writers as they are matched, re-announced and lost, and a timer, all
with the driver's ``now`` (sans-IO: a stage never reads a clock). What it reports goes out as
actions, like everything else the core does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .actions import Action
from .instances import Instance


@dataclass(slots=True)
class SampleMeta:
    """One complete change from a writer stream, as the reader cache pipeline sees it.

    The writer stream fills the first seven fields; key extraction fills ``status_info``,
    ``key_hash`` and ``instance`` before the stages see it. ``payload`` is the serialized
    payload (encapsulation header included) as received -- a view, not a copy -- or None when
    only a key hash came. ``source_timestamp``: ns since the Unix epoch (INFO_TS), or None;
    ``reception_timestamp``: the driver's ``now`` when the change was complete (its last
    fragment, for a fragmented one), which is earlier than its delivery when a reliable stream
    waited for a hole to close.
    """

    writer_guid: Any
    sequence_number: int
    source_timestamp: int | None
    reception_timestamp: float
    payload: bytes | memoryview | None
    inline_qos: Any
    key_only: bool
    status_info: int = 0
    key_hash: bytes | None = None
    instance: Instance | None = None


class Stage(Protocol):
    """A step of the reader cache pipeline between the instance and the history.

    ``accept`` rules on a change for a known instance before the change touches it (so a writer
    that does not own an instance can neither dispose nor unregister it); for a new instance,
    right after the instance was created. False drops the change (counted as ``filtered``) and
    no later stage sees it. The writer callbacks carry the writer's whole announced QoS
    (``rtbus.qos.Qos``; None for builtin writers). Timers follow the core's contract
    (:mod:`rtbus.rtps.actions`): ``next_timer`` is asked after every call into the reader, and
    ``handle_timer`` is called once that moment has passed.
    """

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool: ...

    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]: ...

    def writer_updated(self, writer: Any, qos: Any, now: float) -> list[Action]: ...

    def writer_removed(self, writer: Any, now: float) -> list[Action]: ...

    def next_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> list[Action]: ...


def forget_instances_left_by(entries: dict[Any, Any], writer: Any) -> None:
    """Drop the per-instance ``entries`` (objects with an ``instance``) that no writer but
    ``writer`` keeps registered: a stage's ``writer_removed``, so that what it keeps per
    instance stays bounded by the instances with a live writer."""
    for key in [k for k, e in entries.items() if not e.instance.writers - {writer}]:
        del entries[key]


class PassStage:
    """A stage that accepts everything and owns no timer: subclass it and override what a
    stage needs."""

    __slots__ = ()

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        return True

    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]:
        return []

    def writer_updated(self, writer: Any, qos: Any, now: float) -> list[Action]:
        return []

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        return []

    def next_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> list[Action]:
        return []


class DeliveryFilter(Protocol):
    """The older, narrower seam (writer guid and instance only): still accepted by the readers'
    ``delivery_filter`` argument, run as a stage through :class:`DeliveryFilterStage`."""

    def accept(self, writer_guid: Any, instance: Instance, now: float) -> bool: ...

    def writer_removed(self, writer_guid: Any, now: float) -> None: ...


class AcceptAll:
    """SHARED ownership: every writer's samples are delivered."""

    def accept(self, writer_guid: Any, instance: Instance, now: float) -> bool:
        return True

    def writer_removed(self, writer_guid: Any, now: float) -> None:
        return None


class DeliveryFilterStage(PassStage):
    """A :class:`DeliveryFilter` as a stage."""

    __slots__ = ("filter",)

    def __init__(self, delivery_filter: DeliveryFilter) -> None:
        self.filter = delivery_filter

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        return self.filter.accept(meta.writer_guid, instance, now)

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        self.filter.writer_removed(writer, now)
        return []
