"""DESTINATION_ORDER BY_SOURCE_TIMESTAMP (DDS 1.4 2.2.3.17) at the reader, per instance.

With several writers of one instance, or a reliable stream that delivers late, changes can
reach the reader in another order than they were written. BY_RECEPTION_TIMESTAMP keeps the
arrival order; BY_SOURCE_TIMESTAMP asks that every reader ends up with the same final value,
the newest written. So a change whose source timestamp is earlier than the newest source
timestamp already accepted for its instance (from any writer) is dropped (counted as
``filtered`` by the cache): in a KEEP_LAST history it would otherwise replace newer data.

* equal timestamps pass (the cache keeps them in arrival order);
* a change without a source timestamp (no INFO_TS) passes and does not move the mark;
* disposes and unregisters are ordered too: an older dispose must not kill the instance a newer
  sample brought back, and a newer dispose moves the mark, so an older sample arriving after it
  does not bring the instance back. A dropped sample still counts its writer as one of the
  instance's writers; a dropped unregister is not applied (as in Cyclone DDS), so its writer
  stays registered until it writes a newer one or is removed.

Memory stays bounded by the instances that have a live writer: an instance's mark is dropped
when its last writer unregisters it and when the last writer that kept it registered is removed
(unmatched, deleted, lease lost). A dispose keeps the mark while writers remain (that is what
stops an older sample from resurrecting it). The price of the bound: once nobody writes an
instance, a stale change arriving later is taken like the first change of a new instance.
"""

from __future__ import annotations

from typing import Any

from .actions import Action
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance
from .reader_stages import PassStage, SampleMeta, forget_instances_left_by


class _Mark:
    """The newest source timestamp accepted for one instance."""

    __slots__ = ("instance", "newest")

    def __init__(self, instance: Instance, newest: int) -> None:
        self.instance = instance
        self.newest = newest  # ns since the Unix epoch


class SourceTimestampOrder(PassStage):
    """The reader side of DESTINATION_ORDER BY_SOURCE_TIMESTAMP (see the module docstring)."""

    __slots__ = ("_marks",)

    def __init__(self) -> None:
        #: per instance (by key hash): the newest source timestamp accepted
        self._marks: dict[bytes | None, _Mark] = {}

    def __len__(self) -> int:
        """How many instances the stage remembers."""
        return len(self._marks)

    def newest(self, key_hash: bytes | None) -> int | None:
        """The newest source timestamp accepted for an instance, if remembered."""
        mark = self._marks.get(key_hash)
        return None if mark is None else mark.newest

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        key = meta.key_hash
        stamp = meta.source_timestamp
        mark = self._marks.get(key)
        if mark is not None and mark.instance is not instance:
            mark = None  # the reader purged the instance and knows it anew: a stale mark
            del self._marks[key]
        if stamp is not None and mark is not None:
            if stamp < mark.newest:
                if not meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED):
                    # its writer is alive and writes the instance (Cyclone DDS registers the
                    # writer of a rejected sample too): it keeps the instance ALIVE
                    instance.writers.add(meta.writer_guid)
                return False
            mark.newest = stamp
        # what is left of the instance's writers once this change is applied
        flags = meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED)
        if flags & STATUS_UNREGISTERED:
            keeps = bool(instance.writers - {meta.writer_guid})
        elif flags:
            keeps = bool(instance.writers)  # a dispose leaves the writers registered
        else:
            keeps = True  # a valid sample registers its writer
        if not keeps:
            self._marks.pop(key, None)
        elif mark is None and stamp is not None:
            self._marks[key] = _Mark(instance, stamp)
        return True

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        """Forget the instances no other writer keeps registered (the cache then makes them
        NOT_ALIVE_NO_WRITERS)."""
        forget_instances_left_by(self._marks, writer)
        return []

    def forget(self, key_hash: bytes | None) -> None:
        """Drop the mark of one instance: its next change passes whatever its timestamp."""
        self._marks.pop(key_hash, None)
