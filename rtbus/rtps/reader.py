"""A DDS reader endpoint of the sans-IO core: the writer streams joined to the reader cache.

See :mod:`rtbus.rtps.actions` for the calling contract. A sample travels:

    writer stream (:mod:`.writer_proxy`: in-order for reliable, newest-wins for best effort)
      -> reader cache (:mod:`.reader_cache`): key -> instance -> stages -> history
      -> ``Deliver`` action, ``take``/``read``

The reader *is* its writer streams (it inherits them), so the per-datagram ``handle_*`` entry
points stay one frame deep, and *has* a cache the streams hand each complete change to. The
stages' timers are the reader's timers too. A reliable stream held on a full KEEP_ALL history
resumes when :meth:`StatefulReader.take` makes room.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import wire
from .actions import Action, ReceivedSample
from .liveliness import WriterLiveliness
from .reader_cache import ANY_INSTANCE, KeyHashOf, PayloadDecoder, ReaderCache, Selection
from .reader_stages import AcceptAll, DeliveryFilter, DeliveryFilterStage, SampleMeta, Stage
from .writer_proxy import ReaderConfig, Timed, WriterProxy, WriterStreams

__all__ = [
    "ANY_INSTANCE",
    "AcceptAll",
    "BestEffortReader",
    "DeliveryFilter",
    "ReaderConfig",
    "SampleMeta",
    "Selection",
    "Stage",
    "StatefulReader",
    "WriterProxy",
]



class StatefulReader(WriterStreams):
    """A reader with per-writer state; reliable or best effort per ``config.reliable``.

    ``stages`` run in order between instance and history (see :class:`.reader_stages.Stage`);
    a ``delivery_filter`` (the older seam) runs as the first of them.
    """

    def __init__(self, guid: wire.Guid, config: ReaderConfig | None = None,
                 key_hash_of: KeyHashOf | None = None,
                 delivery_filter: DeliveryFilter | None = None,
                 key_hash_of_key: KeyHashOf | None = None,
                 stages: tuple[Stage, ...] | list[Stage] = (),
                 decode_payload: PayloadDecoder | None = None,
                 liveliness: bool = False) -> None:
        """``liveliness``: track the matched writers' liveliness (LIVELINESS_CHANGED, and
        their instances when a lease ends; :mod:`.liveliness`). Application readers do;
        the builtin ones need not."""
        config = config or ReaderConfig()
        all_stages = tuple(stages)
        if delivery_filter is not None:
            all_stages = (DeliveryFilterStage(delivery_filter), *all_stages)
        self.cache = cache = ReaderCache(config.history, key_hash_of, key_hash_of_key,
                                         all_stages, name=guid.entity_id,
                                         decode_payload=decode_payload)
        tracker = WriterLiveliness(cache.writer_not_alive) if liveliness else None
        timed: tuple[Timed, ...] = (*all_stages, cache) if tracker is None \
            else (tracker, *all_stages, cache)  # the cache's own timer: lifespan expiry
        super().__init__(guid, config, cache.accept, cache.counters, timed, tracker)
        # the cache's parts as the reader's own (the same objects for the reader's life)
        self.instances = cache.instances
        self.history = cache.history

    # -- matching ---------------------------------------------------------------------------
    def add_writer(self, guid: wire.Guid, locators: tuple | list, reliable: bool = True,
                   now: float = 0.0, qos: Any = None) -> list[Action]:
        """Match a writer (``qos``: all of its announced QoS). A reliable reader sends a
        pre-emptive ACKNACK to get a HEARTBEAT; the stages learn of the writer."""
        actions = self.open_stream(guid, locators, reliable, qos)
        if self.liveliness is not None:
            lease, changed = self.liveliness.writer_added(guid, qos, now)
            self.writers[guid].lease = lease
            actions += changed
        return actions + self.cache.writer_added(guid, qos, now)

    def update_writer(self, guid: wire.Guid, qos: Any, now: float = 0.0) -> list[Action]:
        """A matched writer re-announced itself with other (still compatible) QoS."""
        proxy = self.writers.get(guid)
        if proxy is None:
            return []
        proxy.qos = qos
        return self.cache.writer_updated(guid, qos, now)

    def remove_writer(self, guid: wire.Guid, now: float = 0.0) -> list[Action]:
        """Unmatch a writer: instances only it kept alive become NOT_ALIVE_NO_WRITERS."""
        if self.close_stream(guid) is None:
            return []
        actions = self.cache.writer_removed(guid, now)
        if self.liveliness is not None:
            actions += self.liveliness.writer_removed(guid)
        return actions

    # -- liveliness ---------------------------------------------------------------------------
    def participant_asserted(self, prefix: bytes, kind: int, now: float) -> list[Action]:
        """Participant ``prefix`` asserted its liveliness (a participant message)."""
        if self.liveliness is None:
            return []
        return self.liveliness.participant_asserted(prefix, kind, now)

    # -- application side -------------------------------------------------------------------
    def take(self, max_samples: int | None = None, now: float = 0.0,
             select: Selection | None = None) -> tuple[list[ReceivedSample], list[Action]]:
        """Remove and return the oldest samples (those ``select`` admits, if given); resumes
        streams held on a full history.

        Each info shows the instance and view state as they are now (DDS semantics) and
        the sample state as it was before this call (NOT_READ unless an earlier ``read``).
        """
        out = self.cache.take(max_samples, select)
        actions: list[Action] = []
        if out and self._held:
            self.resume_held(actions, now)
        return out, actions

    def read(self, max_samples: int | None = None,
             select: Selection | None = None) -> list[ReceivedSample]:
        """Return copies of the oldest samples (those ``select`` admits), leaving them in the
        history marked READ."""
        return self.cache.read(max_samples, select)

    def has_samples(self, select: Selection | None = None) -> bool:
        """Would ``read``/``take`` with ``select`` return anything? (read conditions)"""
        return self.cache.has_samples(select)


class BestEffortReader(StatefulReader):
    """A reader that never acknowledges: newest sample per writer wins."""

    def __init__(self, guid: wire.Guid, config: ReaderConfig | None = None,
                 key_hash_of: KeyHashOf | None = None,
                 delivery_filter: DeliveryFilter | None = None,
                 key_hash_of_key: KeyHashOf | None = None,
                 stages: tuple[Stage, ...] | list[Stage] = ()) -> None:
        cfg = config or ReaderConfig(reliable=False)
        if cfg.reliable:
            cfg = replace(cfg, reliable=False)
        super().__init__(guid, cfg, key_hash_of, delivery_filter, key_hash_of_key, stages)
