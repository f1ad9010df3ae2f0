"""TIME_BASED_FILTER (DDS 1.4 2.2.3.12) at the reader: per instance, at most one sample per
``minimum_separation``.

A reader that asked for a minimum separation does not want every sample of a fast writer; as
Cyclone DDS does it, the decision is made per instance on the samples' source timestamps:

* the first sample of an instance passes;
* a valid data sample is dropped (counted as ``filtered`` by the cache) when its timestamp minus
  the minimum separation is earlier than the timestamp of the last sample of that instance this
  stage let through -- so a sample exactly ``minimum_separation`` later passes;
* a dispose or unregister always passes: DDS filters data, never instance state changes;
* the writer of a dropped sample is still one of the instance's writers (it keeps it ALIVE).

A sample without a source timestamp (no INFO_TS) is judged on its reception timestamp instead.
The two clocks are kept apart: the stage remembers both stamps of the last sample it let through
and compares source with source (ns) when both samples have one, reception with reception
(float seconds, within 1 ns so that a boundary hit is not lost to float rounding) otherwise.

Memory stays bounded by the instances that have a live writer: an instance's entry is dropped
when it is disposed (its next sample starts a new generation and passes), when its last writer
unregisters it, and when the last writer that kept it registered is removed (unmatched, deleted,
lease lost). A remaining writer keeps the entry, so one writer's unregister does not reset the
filter for the others.
"""

from __future__ import annotations

from typing import Any

from .actions import Action
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance
from .reader_stages import PassStage, SampleMeta, forget_instances_left_by

_RECEPTION_TOLERANCE = 1e-9  # s: float reception times are compared to within 1 ns


class _Last:
    """The last sample of one instance the filter let through."""

    __slots__ = ("instance", "reception", "source")

    def __init__(self, instance: Instance, source: int | None, reception: float) -> None:
        self.instance = instance
        self.source = source  # ns since the Unix epoch, or None
        self.reception = reception  # s, the driver's clock


def _filtered(meta: SampleMeta, instance: Instance) -> bool:
    """A dropped sample still shows its writer is alive and writes the instance (as Cyclone
    DDS registers the writer of a rejected sample): otherwise the instance would go
    NOT_ALIVE_NO_WRITERS when another writer unregisters while this one writes on."""
    instance.writers.add(meta.writer_guid)
    return False


class TimeBasedFilter(PassStage):
    """The reader side of TIME_BASED_FILTER (see the module docstring).

    ``minimum_separation`` is in seconds, as in :class:`rtbus.qos.Qos`; a reader without a
    filter (0) gets no stage at all, so anything not positive is refused.
    """

    __slots__ = ("_last", "minimum_separation", "separation_ns")

    def __init__(self, minimum_separation: float) -> None:
        if not minimum_separation > 0:  # also refuses NaN
            raise ValueError(f"minimum_separation must be positive, not {minimum_separation!r} "
                             "(a reader without a time-based filter needs no stage)")
        self.minimum_separation = float(minimum_separation)
        self.separation_ns = round(self.minimum_separation * 1e9)
        #: per instance (by key hash): the last sample let through
        self._last: dict[bytes | None, _Last] = {}

    def __len__(self) -> int:
        """How many instances the filter remembers."""
        return len(self._last)

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        key = meta.key_hash
        flags = meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED)
        if flags:
            if flags & STATUS_DISPOSED or not instance.writers - {meta.writer_guid}:
                self._last.pop(key, None)
            return True  # instance state changes are never filtered
        source = meta.source_timestamp
        reception = meta.reception_timestamp
        last = self._last.get(key)
        if last is not None and last.instance is instance:
            if source is not None and last.source is not None:
                if source - self.separation_ns < last.source:
                    return _filtered(meta, instance)
            elif reception - self.minimum_separation < last.reception - _RECEPTION_TOLERANCE:
                return _filtered(meta, instance)
            last.source = source
            last.reception = reception
            return True
        # the first sample of the instance (or of a new incarnation after the reader purged it)
        self._last[key] = _Last(instance, source, reception)
        return True

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        """Forget the instances no other writer keeps registered (the cache then makes them
        NOT_ALIVE_NO_WRITERS)."""
        forget_instances_left_by(self._last, writer)
        return []

    def forget(self, key_hash: bytes | None) -> None:
        """Drop what the filter knows of one instance: its next sample passes."""
        self._last.pop(key_hash, None)
