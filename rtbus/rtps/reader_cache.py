"""The DDS side of a reader: instances, the history cache and the pipeline that fills them.

Every complete change from the writer streams (:mod:`rtbus.rtps.writer_proxy`) goes through

    key extraction (inline key hash, else from the payload) -> instance
      -> stages (:mod:`rtbus.rtps.reader_stages`: ownership, deadline, filters plug in here)
      -> history (KEEP_LAST / KEEP_ALL, resource limits) -> actions (``Deliver``,
         ``SampleRejected``)

and waits there for ``take``/``read``. A stage rules on a known instance before the change
touches it, so a writer it refuses can neither dispose nor unregister that instance.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from .actions import Action, Deliver, ReceivedInfo, ReceivedSample, SampleRejected
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED, HistoryCache, HistoryFull, HistoryQos
from .instances import Instance, InstanceState, InstanceTable, SampleState, ViewState
from .lifespan import expires_at
from .reader_stages import SampleMeta, Stage

log = logging.getLogger("rtbus.rtps.reader_cache")

KeyHashOf = Callable[[bytes | memoryview], bytes | None]
#: (writer GUID, payload as received) -> the plain payload, or None to drop the sample
PayloadDecoder = Callable[[Any, bytes | memoryview], bytes | memoryview | None]

ANY_INSTANCE: Any = object()  # Selection.instance: samples of every instance
_ANY_SAMPLE = int(SampleState.READ | SampleState.NOT_READ)
_ANY_VIEW = int(ViewState.NEW | ViewState.NOT_NEW)
_ANY_INSTANCE_STATE = int(InstanceState.ALIVE | InstanceState.NOT_ALIVE_DISPOSED
                          | InstanceState.NOT_ALIVE_NO_WRITERS)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which samples a read or take wants (DDS read/take masks and read_instance): sample,
    view and instance state masks (OR-ed flags of the enums in :mod:`.instances`) and one
    instance by key hash (``ANY_INSTANCE``: all of them)."""

    sample_states: int = _ANY_SAMPLE
    view_states: int = _ANY_VIEW
    instance_states: int = _ANY_INSTANCE_STATE
    instance: Any = ANY_INSTANCE

    @property
    def all_states(self) -> bool:
        return (self.sample_states & _ANY_SAMPLE == _ANY_SAMPLE
                and self.view_states & _ANY_VIEW == _ANY_VIEW
                and self.instance_states & _ANY_INSTANCE_STATE == _ANY_INSTANCE_STATE)

    def admits(self, sample_state: int, view_state: int, instance_state: int) -> bool:
        return bool(sample_state & self.sample_states and view_state & self.view_states
                    and instance_state & self.instance_states)


class ReaderCache:
    """Instances and history of one reader, filled through :meth:`accept`.

    ``key_hash_of`` computes the key hash when no PID_KEY_HASH came (Cyclone sends none by
    default) from a whole sample; ``key_hash_of_key`` from a serialized key (DATA with the K
    flag: dispose/unregister). ``decode_payload`` (the payload transform, see
    :mod:`.transforms`) turns a reassembled payload from a writer back into plain bytes before
    anything reads it; None from it drops the sample. ``name`` only labels log messages.
    """

    def __init__(self, history: HistoryQos, key_hash_of: KeyHashOf | None = None,
                 key_hash_of_key: KeyHashOf | None = None, stages: tuple[Stage, ...] = (),
                 counters: Counter[str] | None = None, name: Any = None,
                 decode_payload: PayloadDecoder | None = None) -> None:
        self.instances = InstanceTable()
        self.decode_payload = decode_payload
        self.history: HistoryCache[ReceivedSample] = HistoryCache(history)
        self.key_hash_of = key_hash_of
        self.key_hash_of_key = key_hash_of_key or key_hash_of
        self.stages = tuple(stages)
        self.counters: Counter[str] = Counter() if counters is None else counters
        self.name = name
        self._ordinal = 0
        #: LIFESPAN: matched writers' finite lifespans, the history's expiries (a heap of
        #: (when, ordinal)) and the driver's wall time minus its ``now`` (see .lifespan)
        self.lifespans: dict[Any, float] = {}
        self._expiry: list[tuple[float, int]] = []
        self.wall_offset = 0.0
        #: READER_DATA_LIFECYCLE: how long NOT_ALIVE_NO_WRITERS and NOT_ALIVE_DISPOSED
        #: instances keep their samples (then they are purged), and the purges due
        self.autopurge_nowriter = math.inf
        self.autopurge_disposed = math.inf
        self._purges: list[tuple[float, int, Instance, Any]] = []
        self._purge_seq = 0

    # -- the remote writers, for the stages ---------------------------------------------------
    def _note_lifespan(self, writer: Any, qos: Any) -> None:
        lifespan = getattr(qos, "lifespan", math.inf)
        if math.isinf(lifespan):
            self.lifespans.pop(writer, None)
        else:
            self.lifespans[writer] = lifespan

    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self._note_lifespan(writer, qos)
        actions: list[Action] = []
        for stage in self.stages:
            actions += stage.writer_added(writer, qos, now)
        return actions

    def writer_updated(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self._note_lifespan(writer, qos)
        actions: list[Action] = []
        for stage in self.stages:
            actions += stage.writer_updated(writer, qos, now)
        return actions

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        """The stages hear first; then instances only ``writer`` kept alive become
        NOT_ALIVE_NO_WRITERS (an invalid-data sample each)."""
        self.lifespans.pop(writer, None)
        actions: list[Action] = []
        for stage in self.stages:
            actions += stage.writer_removed(writer, now)
        for inst in self.instances.on_writer_lost(writer):
            self._store(actions, writer, 0, None, inst, None, None, STATUS_UNREGISTERED, now)
            self._schedule_purge(inst, now)
        return actions

    def writer_not_alive(self, writer: Any, now: float) -> list[Action]:
        """``writer`` lost its liveliness (still matched): instances only it kept alive
        become NOT_ALIVE_NO_WRITERS, and it owns none any more."""
        actions: list[Action] = []
        for inst in self.instances.on_writer_lost(writer):
            self._store(actions, writer, 0, None, inst, None, None, STATUS_UNREGISTERED, now)
            self._schedule_purge(inst, now)
        return actions

    # -- the pipeline -------------------------------------------------------------------------
    def accept(self, meta: SampleMeta, now: float, actions: list[Action],
               reject_when_full: bool) -> bool:
        """Key -> instance -> stages -> history. False: the history is full and
        ``reject_when_full`` is not set, so the stream holds the change."""
        qos = meta.inline_qos
        payload = meta.payload
        if payload is not None and self.decode_payload is not None:
            payload = self.decode_payload(meta.writer_guid, payload)
            if payload is None:
                self.counters["dropped_by_transform_payload"] += 1
                return True
            meta.payload = payload
        status = 0
        key_hash = None
        if qos is not None:
            status = qos.status_info or 0
            key_hash = qos.key_hash
        if key_hash is None and payload is not None:
            compute = self.key_hash_of_key if meta.key_only else self.key_hash_of
            if compute is not None:
                key_hash = compute(payload)
                if key_hash is None:  # a keyed sample whose key cannot be read: no instance
                    if not self.counters["dropped_undecodable_key"]:
                        log.warning("reader %s: dropping samples from %s whose key cannot be "
                                    "read from the payload (counted as "
                                    "dropped_undecodable_key)", self.name, meta.writer_guid)
                    self.counters["dropped_undecodable_key"] += 1
                    return True
        meta.status_info = status
        meta.key_hash = key_hash
        flags = status & (STATUS_DISPOSED | STATUS_UNREGISTERED)
        valid = payload is not None and not meta.key_only and not flags
        if not valid and not flags:
            self.counters["no_payload"] += 1
            return True
        room = self.history.check_room(key_hash)
        if room is not None:
            if not reject_when_full:
                self.counters["held_history_full"] += 1
                return False
            actions.append(SampleRejected(meta.writer_guid, meta.sequence_number, room.limit,
                                          key_hash))
            self.counters["rejected"] += 1
            return True
        stages = self.stages
        known = self.instances.get(key_hash)
        if known is not None and stages:
            meta.instance = known
            for stage in stages:
                if not stage.accept(meta, known, now):
                    self.counters["filtered"] += 1
                    return True
        writer = meta.writer_guid
        update = self.instances.on_change(key_hash, writer, status)
        inst = update.instance
        if inst is None:
            return True
        if known is None and stages:
            meta.instance = inst
            for stage in stages:
                if not stage.accept(meta, inst, now):
                    self.counters["filtered"] += 1
                    return True
        if not valid and not update.state_changed:
            return True
        if update.state_changed:
            self._schedule_purge(inst, now)
        lifespan = self.lifespans.get(writer) if self.lifespans else None
        if lifespan is not None and valid:
            expires = expires_at(meta.source_timestamp, lifespan, now, self.wall_offset)
            if expires <= now:  # too old already: in transit, or repaired, too long
                self.counters["expired_lifespan"] += 1
                return True
            if self._store(actions, writer, meta.sequence_number, payload, inst,
                           meta.source_timestamp, qos, status, now, valid, meta.key_only):
                heapq.heappush(self._expiry, (expires, self._ordinal))
            return True
        self._store(actions, writer, meta.sequence_number, payload, inst,
                    meta.source_timestamp, qos, status, now, valid, meta.key_only)
        return True

    # -- lifespan and autopurge: the cache's own timer ----------------------------------------
    def next_timer(self) -> float | None:
        e = self._expiry[0][0] if self._expiry else None
        p = self._purges[0][0] if self._purges else None
        if e is None or (p is not None and p < e):
            return p
        return e

    def handle_timer(self, now: float) -> list[Action]:
        """Remove the samples whose lifespan ended (those taken already are gone), and purge
        the NOT_ALIVE instances whose autopurge delay passed in that state."""
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, ordinal = heapq.heappop(expiry)
            if self.history.remove(ordinal) is not None:
                self.counters["expired_lifespan"] += 1
        purges = self._purges
        while purges and purges[0][0] <= now:
            _, _, inst, stamp = heapq.heappop(purges)
            if self.instances.get(inst.key_hash) is inst and _purge_stamp(inst) == stamp:
                self.counters["autopurged"] += len(self.history.clear_instance(inst.key_hash))
                self.instances.purge(inst.key_hash)
        return []

    def _schedule_purge(self, inst: Instance, now: float) -> None:
        """``inst`` just became NOT_ALIVE: purge it after the reader's delay for that state,
        unless it changes before (the stamp tells)."""
        if inst.state == InstanceState.NOT_ALIVE_NO_WRITERS:
            delay = self.autopurge_nowriter
        elif inst.state == InstanceState.NOT_ALIVE_DISPOSED:
            delay = self.autopurge_disposed
        else:
            return
        if math.isinf(delay):
            return
        self._purge_seq += 1
        heapq.heappush(self._purges, (now + delay, self._purge_seq, inst, _purge_stamp(inst)))

    # -- application side -------------------------------------------------------------------
    def take(self, max_samples: int | None = None,
             select: Selection | None = None) -> list[ReceivedSample]:
        """Remove and return the oldest samples (those ``select`` admits, if given).

        Each info shows the instance and view state as they are now (DDS semantics) and
        the sample state as it was before this call (NOT_READ unless an earlier ``read``).
        """
        out = self._selected(max_samples, select)
        for sample in out:
            self.history.remove(sample.seq)
        self._stamp_states(out)
        for sample in out:
            self.instances.mark_viewed(sample.key_hash)
        for sample in out:
            inst = self.instances.get(sample.key_hash)
            if inst is not None and inst.state != InstanceState.ALIVE \
                    and not self.history.instance_seqs(sample.key_hash):
                self.instances.purge(sample.key_hash)
        return out

    def read(self, max_samples: int | None = None,
             select: Selection | None = None) -> list[ReceivedSample]:
        """Return copies of the oldest samples (those ``select`` admits), leaving them in the
        history marked READ."""
        stored = self._selected(max_samples, select)
        out = [ReceivedSample(s.seq, s.key_hash, s.payload, replace(s.info), s.status_info,
                              s.inline_qos, s.key_only) for s in stored]
        self._stamp_states(out)
        for sample in stored:
            sample.info.sample_state = SampleState.READ
            self.instances.mark_viewed(sample.key_hash)
        return out

    def has_samples(self, select: Selection | None = None) -> bool:
        """Would ``read``/``take`` with ``select`` return anything? (read conditions)"""
        return bool(self._selected(1, select))

    def _selected(self, max_samples: int | None,
                  select: Selection | None) -> list[ReceivedSample]:
        if select is None:
            return list(islice(self.history, max_samples))
        if select.instance is not ANY_INSTANCE:
            candidates: Any = (self.history.get(seq) for seq
                               in self.history.instance_seqs(select.instance))
        else:
            candidates = iter(self.history)
        if select.all_states:
            return list(islice(candidates, max_samples))
        out: list[ReceivedSample] = []
        for sample in candidates:
            inst = self.instances.get(sample.key_hash)
            if inst is None or not select.admits(sample.info.sample_state, inst.view_state,
                                                 inst.state):
                continue
            out.append(sample)
            if max_samples is not None and len(out) >= max_samples:
                break
        return out

    # -- internals --------------------------------------------------------------------------
    def _stamp_states(self, samples: list[ReceivedSample]) -> None:
        """Instance and view state as of now, before this access marks instances viewed."""
        for sample in samples:
            inst = self.instances.get(sample.key_hash)
            if inst is not None:
                sample.info.instance_state = inst.state
                sample.info.view_state = inst.view_state

    def _store(self, actions: list[Action], writer_guid: Any, seq: int,
               payload: bytes | memoryview | None, inst: Instance, timestamp: int | None,
               inline_qos: Any, status: int, now: float, valid: bool = False,
               key_only: bool = False) -> bool:
        """Add a sample to the history (True), or report it rejected (False)."""
        self._ordinal += 1
        info = ReceivedInfo(writer_guid, seq, timestamp, now, inst.key_hash, valid,
                            inst.state, inst.view_state, SampleState.NOT_READ,
                            inst.disposed_generation, inst.no_writers_generation)
        sample = ReceivedSample(self._ordinal, inst.key_hash, payload, info, status, inline_qos,
                                key_only)
        added = self.history.add(sample)
        if isinstance(added, HistoryFull):
            actions.append(SampleRejected(writer_guid, seq, added.limit, inst.key_hash))
            self.counters["rejected"] += 1
            return False
        if added:
            self.counters["replaced"] += len(added)
        actions.append(Deliver(sample))
        return True


def _purge_stamp(inst: Instance) -> tuple[Any, int, int]:
    """What must not have changed for a scheduled purge to apply: the state and generations."""
    return inst.state, inst.disposed_generation, inst.no_writers_generation
