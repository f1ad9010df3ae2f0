"""Reader-side instance state: what the DDS SampleInfo says about each key.

An instance is identified by its 16-byte key hash (``None`` for a keyless topic). Its state
moves with the status-info flags writers put in inline QoS (dispose 0x1, unregister 0x2) and
with writers going away:

    ALIVE --dispose--> NOT_ALIVE_DISPOSED
    ALIVE --last live writer unregisters or is lost--> NOT_ALIVE_NO_WRITERS
    NOT_ALIVE_* --new sample--> ALIVE (the matching generation count goes up, view state NEW)

A dispose or unregister may carry only the key hash (no payload); it is mapped to the instance
known under that hash. A transition to a not-alive state is reported so the reader can queue an
"invalid data" sample, as DDS requires for the application to see it.

The numeric values of the states are the DDS API's bit masks, so they can be OR-ed into masks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .history import STATUS_DISPOSED, STATUS_UNREGISTERED


class InstanceState(enum.IntFlag):
    ALIVE = 0x1
    NOT_ALIVE_DISPOSED = 0x2
    NOT_ALIVE_NO_WRITERS = 0x4


class ViewState(enum.IntFlag):
    NEW = 0x1
    NOT_NEW = 0x2


class SampleState(enum.IntFlag):
    READ = 0x1
    NOT_READ = 0x2


class Instance:
    """What a reader knows about one key."""

    __slots__ = (
        "disposed_generation",
        "key_hash",
        "no_writers_generation",
        "owner",
        "state",
        "view_state",
        "writers",
    )

    def __init__(self, key_hash: bytes | None) -> None:
        self.key_hash = key_hash
        self.state = InstanceState.ALIVE
        self.view_state = ViewState.NEW
        self.disposed_generation = 0
        self.no_writers_generation = 0
        self.writers: set[object] = set()  # guids of writers that keep it registered
        self.owner: object = None  # exclusive ownership: the guid of the current owner

    def __repr__(self) -> str:
        key = self.key_hash.hex() if self.key_hash else None
        return f"Instance({key}, {self.state.name}, {self.view_state.name})"


@dataclass(frozen=True)
class InstanceUpdate:
    """The outcome of one change for one instance.

    ``instance`` is None when the change refers to an instance this reader never knew and
    carries nothing worth reporting (an unregister of an unknown key). ``state_changed`` says a
    not-alive transition happened (worth an invalid-data sample when no payload came with it).
    """

    instance: Instance | None
    state_changed: bool


class InstanceTable:
    """Instances by key hash, updated by arriving changes and lost writers."""

    __slots__ = ("instances",)

    def __init__(self) -> None:
        self.instances: dict[bytes | None, Instance] = {}

    def __len__(self) -> int:
        return len(self.instances)

    def get(self, key_hash: bytes | None) -> Instance | None:
        return self.instances.get(key_hash)

    def on_change(self, key_hash: bytes | None, writer: object, status_info: int) -> InstanceUpdate:
        """Apply one change from ``writer``: a sample (status 0), a dispose and/or unregister."""
        inst = self.instances.get(key_hash)
        flags = status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED)
        if inst is None:
            if flags == STATUS_UNREGISTERED:
                return InstanceUpdate(None, False)
            inst = self.instances[key_hash] = Instance(key_hash)
            if flags:
                # first news of this instance is its disposal
                inst.state = InstanceState.NOT_ALIVE_DISPOSED
                return InstanceUpdate(inst, True)
            inst.writers.add(writer)
            return InstanceUpdate(inst, False)
        if not flags:
            if inst.state == InstanceState.NOT_ALIVE_DISPOSED:
                inst.disposed_generation += 1
                inst.view_state = ViewState.NEW
            elif inst.state == InstanceState.NOT_ALIVE_NO_WRITERS:
                inst.no_writers_generation += 1
                inst.view_state = ViewState.NEW
            inst.state = InstanceState.ALIVE
            inst.writers.add(writer)
            return InstanceUpdate(inst, False)
        changed = False
        if flags & STATUS_DISPOSED and inst.state != InstanceState.NOT_ALIVE_DISPOSED:
            inst.state = InstanceState.NOT_ALIVE_DISPOSED
            changed = True
        if flags & STATUS_UNREGISTERED:
            inst.writers.discard(writer)
            if inst.owner == writer:
                inst.owner = None
            if not inst.writers and inst.state == InstanceState.ALIVE:
                inst.state = InstanceState.NOT_ALIVE_NO_WRITERS
                changed = True
        return InstanceUpdate(inst, changed)

    def on_writer_lost(self, writer: object) -> list[Instance]:
        """A writer was unmatched or lost its liveliness: instances it alone kept go NO_WRITERS."""
        changed: list[Instance] = []
        for inst in self.instances.values():
            if writer in inst.writers:
                inst.writers.discard(writer)
                if inst.owner == writer:
                    inst.owner = None
                if not inst.writers and inst.state == InstanceState.ALIVE:
                    inst.state = InstanceState.NOT_ALIVE_NO_WRITERS
                    changed.append(inst)
        return changed

    def mark_viewed(self, key_hash: bytes | None) -> None:
        """The application read or took a sample of the instance: it is no longer NEW."""
        inst = self.instances.get(key_hash)
        if inst is not None:
            inst.view_state = ViewState.NOT_NEW

    def purge(self, key_hash: bytes | None) -> bool:
        """Forget a not-alive instance with no writers (nothing left to say about it)."""
        inst = self.instances.get(key_hash)
        if inst is None or inst.state == InstanceState.ALIVE or inst.writers:
            return False
        del self.instances[key_hash]
        return True
