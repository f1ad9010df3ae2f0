"""EXCLUSIVE ownership (DDS 1.4 2.2.3.9.2): per instance, only the owner's changes pass.

The owner of an instance is the strongest of the live writers that write it; between equal
strengths the writer with the lower GUID (compared byte-wise over its 16 bytes, as Cyclone DDS
and Fast DDS do) wins. This stage decides that in the reader, for every change, before the
change touches the instance:

* a change of the owner passes;
* a change of a writer that beats the owner (stronger, or as strong with a lower GUID)
  takes the instance over and passes -- a stronger writer that appears, or a writer whose
  strength was raised at run time (its re-announcement reaches :meth:`writer_updated`), wins
  with its next change;
* any other change is dropped (counted as ``filtered`` by the cache): its data never reaches
  the application, and it can neither dispose nor unregister the instance. Its writer still
  counts as one of the instance's writers, so the instance stays ALIVE while a backup lives.

When the owner goes -- it unregisters the instance, is unmatched or deleted, or its
participant's lease ends -- the instance has no owner until one of its live writers writes
again; among those, only the strongest is let in (a weaker backup's change is not taken while
a stronger writer of the instance is alive). So the failover time is the time to notice the
owner is gone plus the backup's write period.

A missed deadline hands an instance over too (:mod:`.deadline` calls
:meth:`ExclusiveOwnership.deadline_missed`): the owner that fell silent stops counting as a
rival for that instance until it writes it again.
"""

from __future__ import annotations

from typing import Any

from .actions import Action
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance
from .reader_stages import PassStage, SampleMeta


def _rank(strength: int, writer: Any) -> tuple[int, bytes]:
    """Sort key: higher is better (strength first, then the lower GUID)."""
    return strength, bytes(255 - b for b in bytes(writer))


class ExclusiveOwnership(PassStage):
    """The reader-side arbitration of EXCLUSIVE ownership (see the module docstring)."""

    __slots__ = ("_lowered", "_rank", "_stale")

    def __init__(self) -> None:
        #: the live matched writers' ranks (ownership strength from their announced QoS)
        self._rank: dict[Any, tuple[int, bytes]] = {}
        #: writers whose strength went down while they ran: an instance they own may have a
        #: stronger writer now, so their own changes are checked too
        self._lowered: set[Any] = set()
        #: per instance (key hash), writers that missed its deadline: they do not count as
        #: rivals until they write it again
        self._stale: dict[Any, set[Any]] = {}

    # -- writers ------------------------------------------------------------------------------
    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self._set(writer, qos)
        return []

    def writer_updated(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self._set(writer, qos)
        return []

    def _set(self, writer: Any, qos: Any) -> None:
        strength = int(getattr(qos, "ownership_strength", 0) or 0)
        known = self._rank.get(writer)
        if known is not None and strength < known[0]:
            self._lowered.add(writer)
        self._rank[writer] = _rank(strength, writer)

    def rank(self, writer: Any) -> tuple[int, bytes]:
        """``writer``'s place in the arbitration (a writer not matched yet: strength 0)."""
        r = self._rank.get(writer)
        return r if r is not None else _rank(0, writer)

    # -- changes ------------------------------------------------------------------------------
    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        """A change passes when its writer outranks every other live writer of the instance
        (ranks are strict: two writers never tie)."""
        writer = meta.writer_guid
        owner = instance.owner
        if owner == writer and writer not in self._lowered:
            return True  # the common case: the owner writes on
        mine = self.rank(writer)
        ranks = self._rank
        if owner is not None and owner != writer and ranks.get(owner, mine) > mine:
            return self._refused(meta, instance, writer)
        stale = self._stale.get(instance.key_hash)
        if stale is not None:
            stale.discard(writer)  # it writes again: it counts again
            if not stale:
                del self._stale[instance.key_hash]
        for other in instance.writers:
            if other != writer and ranks.get(other, mine) > mine \
                    and (stale is None or other not in stale):
                if owner == writer:
                    instance.owner = None  # it was weakened below a live rival: open it
                return self._refused(meta, instance, writer)
        instance.owner = writer
        return True

    @staticmethod
    def _refused(meta: SampleMeta, instance: Instance, writer: Any) -> bool:
        """A non-owner's change: dropped, but its writer is (or is no longer, after its
        unregister) one of the instance's live writers."""
        if meta.status_info & STATUS_UNREGISTERED:
            instance.writers.discard(writer)
        elif not meta.status_info & STATUS_DISPOSED:
            instance.writers.add(writer)
        return False

    def deadline_missed(self, instance: Instance) -> None:
        """No change of ``instance`` passed within the reader's deadline: its owner loses
        it, and does not count as a rival until it writes the instance again."""
        owner = instance.owner
        if owner is not None:
            self._stale.setdefault(instance.key_hash, set()).add(owner)
            instance.owner = None

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        # the instance table clears the instances it owned (InstanceTable.on_writer_lost)
        self._rank.pop(writer, None)
        self._lowered.discard(writer)
        for key in [k for k, s in self._stale.items() if writer in s]:
            self._stale[key].discard(writer)
            if not self._stale[key]:
                del self._stale[key]
        return []
