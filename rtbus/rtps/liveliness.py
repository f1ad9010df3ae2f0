"""LIVELINESS (DDS 1.4 2.2.3.11, RTPS 8.4.13): is each matched writer still alive?

A writer that offers a finite lease promises to show it is alive at least once per lease.
What shows it, at a reader (the rules Cyclone DDS applies, so a mixed bus agrees):

* any DATA or DATA_FRAG of the writer renews its own lease, and its participant's:
  every AUTOMATIC and MANUAL_BY_PARTICIPANT writer of that participant is alive too;
* a HEARTBEAT with the liveliness flag renews the writer (MANUAL_BY_TOPIC's assertion) and
  its participant's MANUAL_BY_PARTICIPANT writers;
* a participant message (:mod:`.participant_message`) renews that participant's AUTOMATIC
  writers (kind AUTOMATIC, which the participant sends by itself at 80% of its shortest
  AUTOMATIC lease) or its MANUAL_BY_PARTICIPANT writers (kind MANUAL, when the application
  asserts).

A writer whose lease runs out is *not alive*: the reader reports LIVELINESS_CHANGED, and the
instances only it kept alive become NOT_ALIVE_NO_WRITERS -- which also ends its EXCLUSIVE
ownership of them, so a backup takes over at its next sample. It is alive again, and counted
so, as soon as something above renews it.

:class:`WriterLiveliness` is the reader's tracker: it counts alive and not-alive writers
(every matched writer; one with an infinite lease is always alive) and owns one timer, kept
lazily: renewals only move leases later, so the timer stays at the earliest end it knew and,
when it fires, finds the real ends and re-arms. A renewal costs the DATA path one attribute
test for writers without a lease (``WriterProxy.lease``). :class:`OfferedLiveliness` is the
writer's side: LIVELINESS_LOST when a MANUAL writer lets its lease pass without asserting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .actions import Action, LivelinessChanged, LivelinessLost
from .wire.constants import (
    PARTICIPANT_MESSAGE_DATA_KIND_AUTOMATIC_LIVELINESS_UPDATE as AUTOMATIC_KIND,
)
from .wire.constants import PARTICIPANT_MESSAGE_DATA_KIND_MANUAL_LIVELINESS_UPDATE as MANUAL_KIND

AUTOMATIC = "automatic"
MANUAL_BY_PARTICIPANT = "manual_by_participant"
MANUAL_BY_TOPIC = "manual_by_topic"

#: a writer lost its liveliness: (writer GUID, now) -> what the reader cache did about it
NotAlive = Callable[[Any, float], list[Action]]


class _Participant:
    """When a remote participant last renewed its AUTOMATIC and its MANUAL_BY_PARTICIPANT
    writers, and its writers that have a lease."""

    __slots__ = ("automatic", "leases", "manual")

    def __init__(self) -> None:
        self.automatic = -math.inf
        self.manual = -math.inf
        self.leases: list[WriterLease] = []


class WriterLease:
    """One matched writer's finite lease (what ``WriterProxy.lease`` points at)."""

    __slots__ = ("alive", "duration", "kind", "participant", "renewed", "writer")

    def __init__(self, writer: Any, kind: str, duration: float, participant: _Participant,
                 now: float) -> None:
        self.writer = writer
        self.kind = kind
        self.duration = duration
        self.participant = participant
        self.renewed = now
        self.alive = True

    def ends(self) -> float:
        """When the lease ends unless renewed again."""
        last = self.renewed
        pp = self.participant
        if self.kind == AUTOMATIC:
            last = max(last, pp.automatic)
        elif self.kind == MANUAL_BY_PARTICIPANT:
            last = max(last, pp.manual)
        return last + self.duration

    def data(self, now: float) -> bool:
        """A sample of the writer arrived; True if that brought it back to life."""
        self.renewed = now
        pp = self.participant
        pp.automatic = pp.manual = now
        return not self.alive


class WriterLiveliness:
    """A reader's view of its matched writers' liveliness (see the module docstring).

    ``not_alive`` is the reader cache's reaction to a writer that lost its liveliness (its
    instances); the tracker reports the count changes as :class:`~.actions.LivelinessChanged`.
    """

    __slots__ = ("_leases", "_not_alive", "_participants", "_wake", "alive", "not_alive_count")

    def __init__(self, not_alive: NotAlive) -> None:
        self._not_alive = not_alive
        self._leases: dict[Any, WriterLease] = {}
        self._participants: dict[bytes, _Participant] = {}
        self._wake: float | None = None  # no lease ends before this (lazy, see above)
        self.alive: set[Any] = set()  # matched writers alive now (any lease)
        self.not_alive_count = 0

    # -- matching -----------------------------------------------------------------------------
    def writer_added(self, writer: Any, qos: Any, now: float) -> tuple[WriterLease | None,
                                                                     list[Action]]:
        """A writer matched: alive from now. Its lease (None: infinite) goes on its proxy."""
        lease = None
        duration = getattr(qos, "liveliness_lease", math.inf)
        if not math.isinf(duration):
            prefix = bytes(writer)[:12]
            pp = self._participants.get(prefix)
            if pp is None:
                pp = self._participants[prefix] = _Participant()
            lease = WriterLease(writer, qos.liveliness, duration, pp, now)
            pp.leases.append(lease)
            self._leases[writer] = lease
            self._arm(now + duration)
        self.alive.add(writer)
        return lease, [LivelinessChanged(writer, 1, 0)]

    def writer_removed(self, writer: Any) -> list[Action]:
        lease = self._leases.pop(writer, None)
        if lease is not None:
            pp = lease.participant
            pp.leases.remove(lease)
            if not pp.leases:
                del self._participants[bytes(writer)[:12]]
        if writer in self.alive:
            self.alive.discard(writer)
            return [LivelinessChanged(writer, -1, 0)]
        self.not_alive_count -= 1
        return [LivelinessChanged(writer, 0, -1)]

    # -- renewals -----------------------------------------------------------------------------
    def revived(self, lease: WriterLease, now: float) -> list[Action]:
        """After :meth:`WriterLease.data` said the writer came back: count it, and any other
        writer of its participant the same sample renewed."""
        return self._revive_renewed(lease.participant, now)

    def heartbeat_liveliness(self, lease: WriterLease, now: float) -> list[Action]:
        """A HEARTBEAT of the writer with the liveliness flag."""
        lease.renewed = now
        lease.participant.manual = now
        return self._revive_renewed(lease.participant, now)

    def participant_asserted(self, prefix: bytes, kind: int, now: float) -> list[Action]:
        """A participant message of ``kind`` from participant ``prefix``."""
        pp = self._participants.get(bytes(prefix))
        if pp is None:
            return []
        if kind == AUTOMATIC_KIND:
            pp.automatic = now
        elif kind == MANUAL_KIND:
            pp.manual = now
        else:
            return []
        return self._revive_renewed(pp, now)

    def _revive_renewed(self, pp: _Participant, now: float) -> list[Action]:
        out: list[Action] = []
        for lease in pp.leases:
            if not lease.alive and lease.ends() > now:
                lease.alive = True
                self.alive.add(lease.writer)
                self.not_alive_count -= 1
                self._arm(lease.ends())
                out.append(LivelinessChanged(lease.writer, 1, -1))
        return out

    # -- the timer ----------------------------------------------------------------------------
    def _arm(self, at: float) -> None:
        if self._wake is None or at < self._wake:
            self._wake = at

    def next_timer(self) -> float | None:
        return self._wake

    def handle_timer(self, now: float) -> list[Action]:
        out: list[Action] = []
        wake: float | None = None
        for lease in self._leases.values():
            if not lease.alive:
                continue
            ends = lease.ends()
            if ends <= now:
                lease.alive = False
                self.alive.discard(lease.writer)
                self.not_alive_count += 1
                out += self._not_alive(lease.writer, now)
                out.append(LivelinessChanged(lease.writer, -1, 1))
            elif wake is None or ends < wake:
                wake = ends
        self._wake = wake
        return out


class OfferedLiveliness:
    """A MANUAL writer's own lease: LIVELINESS_LOST each time it lets a whole lease pass
    without writing or asserting (counted once per lapse, as Cyclone DDS counts). AUTOMATIC
    writers have none: the participant asserts for them while the process runs."""

    __slots__ = ("_due", "_lost", "duration", "writer")

    def __init__(self, writer: Any, duration: float, now: float) -> None:
        self.writer = writer
        self.duration = duration
        self._due = now + duration
        self._lost = False

    def asserted(self, now: float) -> None:
        """A write or an explicit assertion (the timer stays early and re-arms lazily)."""
        self._due = now + self.duration
        self._lost = False

    def next_timer(self) -> float | None:
        return None if self._lost else self._due

    def handle_timer(self, now: float) -> list[Action]:
        if self._lost or self._due > now:
            return []
        self._lost = True
        return [LivelinessLost(self.writer)]
