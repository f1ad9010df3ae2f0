"""A deterministic simulated clock and network for the sans-IO core.

Tests of reliability under loss, reordering and duplication must give the same result every
run. Here time is a number that only moves when the run loop moves it (to the next datagram
arrival or the next endpoint timer), randomness comes from one seeded ``random.Random``, and
the bytes on the simulated wire are real RTPS messages built with the wire layer's
``MessageBuilder`` and parsed with its ``parse_message`` -- so the core is tested against what
it will see on a socket, including datagram boundaries at the maximum message size.

Nothing here opens a socket. It lives with the tests, not in the library: only tests
drive the core this way (``simcore.SimCore`` puts a whole ``ParticipantCore`` on it).
"""

from __future__ import annotations

import heapq
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rtbus.errors import MalformedError
from rtbus.rtps import wire
from rtbus.rtps.actions import (
    Acknowledged,
    Action,
    Deliver,
    Sample,
    SampleRejected,
    SamplesLost,
    Send,
)
from rtbus.rtps.fragments import DEFAULT_MAX_MESSAGE_SIZE
from rtbus.rtps.reader import StatefulReader
from rtbus.rtps.writer import StatefulWriter

log = logging.getLogger("tests.simnet")

_TO_READER = (wire.Data, wire.DataFrag, wire.Heartbeat, wire.Gap, wire.HeartbeatFrag)


@dataclass
class LinkConditions:
    """How the simulated network mistreats datagrams (probabilities per datagram)."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # share of datagrams held back by ``reorder_delay`` extra
    delay: float = 0.0005
    jitter: float = 0.0
    reorder_delay: float = 0.003


class EventQueue:
    """Callbacks ordered by time, ties broken by insertion order (so runs are repeatable)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = 0

    def push(self, when: float, fn: Callable[[], None]) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (when, self._counter, fn))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> tuple[float, Callable[[], None]]:
        when, _, fn = heapq.heappop(self._heap)
        return when, fn

    def __len__(self) -> int:
        return len(self._heap)


class SimParticipant:
    """A participant on the simulated network: hosts endpoints and routes submessages to them.

    It plays the part of the engine's receiver: it keeps INFO_TS / INFO_DST context while
    walking a message and hands each submessage to the endpoint its entity ids name.
    """

    def __init__(self, net: SimNetwork, prefix: wire.GuidPrefix, locator: Any) -> None:
        self.net = net
        self.prefix = prefix
        self.locator = locator
        self.writers: dict[Any, StatefulWriter] = {}
        self.readers: dict[Any, StatefulReader] = {}
        self.delivered: dict[Any, list[Sample]] = {}
        self.acknowledged: dict[Any, int] = {}
        self.lost: Counter[Any] = Counter()
        self.rejected: list[SampleRejected] = []
        self.sent_submessages: Counter[str] = Counter()
        self.received_submessages: Counter[str] = Counter()
        self.on_submessage: Callable[[SimParticipant, Any, Any], None] | None = None

    def add_writer(self, writer: StatefulWriter) -> StatefulWriter:
        self.writers[writer.guid.entity_id] = writer
        return writer

    def add_reader(self, reader: StatefulReader) -> StatefulReader:
        self.readers[reader.guid.entity_id] = reader
        self.delivered[reader.guid.entity_id] = []
        return reader

    # -- outgoing ---------------------------------------------------------------------------
    def perform(self, actions: list[Action], reader: StatefulReader | None = None) -> None:
        """Carry out what an endpoint asked for (``reader``: the endpoint that asked)."""
        for action in actions:
            if isinstance(action, Send):
                self._send(action)
            elif isinstance(action, Deliver):
                assert reader is not None, "Deliver from a writer"
                self.delivered[reader.guid.entity_id].append(action.sample)
            elif isinstance(action, Acknowledged):
                self.acknowledged[action.writer_guid] = action.seq
            elif isinstance(action, SamplesLost):
                self.lost[action.writer_guid] += action.count
            elif isinstance(action, SampleRejected):
                self.rejected.append(action)

    def _send(self, action: Send) -> None:
        builder = wire.MessageBuilder(self.prefix, max_size=self.net.max_message_size)
        if action.dest_prefix is not None:
            builder.add(wire.InfoDst(action.dest_prefix))
        for sub in action.submessages:
            self.sent_submessages[type(sub).__name__] += 1
            builder.add(sub)
        for datagram in builder.datagrams():
            self.net.transmit(self, datagram, action.locators)

    # -- incoming ---------------------------------------------------------------------------
    def receive(self, datagram: bytes) -> None:
        """Parse a datagram and hand each submessage to the endpoint it names."""
        now = self.net.now
        try:
            msg = wire.parse_message(datagram)
        except MalformedError as e:
            self.net.stats["malformed_" + e.reason] += 1
            return
        for reason in msg.dropped:
            self.net.stats["dropped_" + reason] += 1
        for rec in msg.received:
            if rec.dst_prefix != wire.GUIDPREFIX_UNKNOWN and rec.dst_prefix != self.prefix:
                continue  # addressed to another participant on the same locator
            sub = rec.submessage
            src = rec.src_prefix
            self.received_submessages[type(sub).__name__] += 1
            if self.on_submessage is not None:
                self.on_submessage(self, src, sub)
            cls = type(sub)
            if cls is wire.AckNack or cls is wire.NackFrag:
                writer = self.writers.get(sub.writer_id)  # type: ignore[union-attr]
                if writer is None:
                    continue
                if cls is wire.AckNack:
                    self.perform(writer.handle_acknack(src, sub, now))  # type: ignore[arg-type]
                else:
                    self.perform(writer.handle_nackfrag(src, sub, now))  # type: ignore[arg-type]
                continue
            if cls not in _TO_READER:
                continue
            for reader in self._readers_for(sub.reader_id):  # type: ignore[union-attr]
                if cls is wire.Data:
                    actions = reader.handle_data(src, sub, now, rec.timestamp)  # type: ignore
                elif cls is wire.DataFrag:
                    actions = reader.handle_data_frag(src, sub, now,  # type: ignore[arg-type]
                                                      rec.timestamp)
                elif cls is wire.Heartbeat:
                    actions = reader.handle_heartbeat(src, sub, now)  # type: ignore[arg-type]
                elif cls is wire.Gap:
                    actions = reader.handle_gap(src, sub, now)  # type: ignore[arg-type]
                else:
                    actions = reader.handle_heartbeat_frag(src, sub, now)  # type: ignore
                self.perform(actions, reader)

    def _readers_for(self, reader_id: Any) -> list[StatefulReader]:
        if reader_id == wire.ENTITYID_UNKNOWN:
            return list(self.readers.values())
        reader = self.readers.get(reader_id)
        return [reader] if reader is not None else []

    # -- timers -----------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        best: float | None = None
        endpoints: list[StatefulWriter | StatefulReader] = [*self.writers.values(),
                                                            *self.readers.values()]
        for ep in endpoints:
            t = ep.next_timer()
            if t is not None and (best is None or t < best):
                best = t
        return best

    def fire_timers(self, now: float) -> None:
        for writer in list(self.writers.values()):
            t = writer.next_timer()
            if t is not None and t <= now:
                self.perform(writer.handle_timer(now))
        for reader in list(self.readers.values()):
            t = reader.next_timer()
            if t is not None and t <= now:
                self.perform(reader.handle_timer(now), reader)


class SimNetwork:
    """Participants, a virtual clock, and a lossy, reordering, duplicating medium."""

    def __init__(self, seed: int = 0, conditions: LinkConditions | None = None,
                 max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.rng = random.Random(seed)
        self.conditions = conditions or LinkConditions()
        self.max_message_size = max_message_size
        self.now = 0.0
        self.events = EventQueue()
        self.participants: list[SimParticipant] = []
        self._by_locator: dict[Any, SimParticipant] = {}
        self.stats: Counter[str] = Counter()
        self.drop_filter: Callable[[SimParticipant, SimParticipant, bytes], bool] | None = None

    def add_participant(self, index: int | None = None) -> SimParticipant:
        n = len(self.participants) + 1 if index is None else index
        prefix = wire.GuidPrefix(bytes([0x01, 0x0F, 0, 0, 0, 0, 0, 0, 0, 0, n >> 8, n & 0xFF]))
        locator = ("sim", n)
        p = SimParticipant(self, prefix, locator)
        self.participants.append(p)
        self._by_locator[locator] = p
        return p

    def transmit(self, src: SimParticipant, datagram: bytes, locators: tuple) -> None:
        cond = self.conditions
        rng = self.rng
        for loc in locators:
            dst = self._by_locator.get(loc)
            if dst is None:
                self.stats["no_such_locator"] += 1
                continue
            self.stats["datagrams_sent"] += 1
            self.stats["bytes_sent"] += len(datagram)
            if self.drop_filter is not None and self.drop_filter(src, dst, datagram):
                self.stats["datagrams_dropped"] += 1
                continue
            copies = 2 if cond.duplicate and rng.random() < cond.duplicate else 1
            for _ in range(copies):
                if cond.loss and rng.random() < cond.loss:
                    self.stats["datagrams_lost"] += 1
                    continue
                delay = cond.delay + (rng.random() * cond.jitter if cond.jitter else 0.0)
                if cond.reorder and rng.random() < cond.reorder:
                    delay += cond.reorder_delay
                    self.stats["datagrams_reordered"] += 1
                self.events.push(self.now + delay, _delivery(dst, datagram))

    def step(self) -> bool:
        """Advance to the next event (datagram arrival or timer) and run it; False if none."""
        t_event = self.events.next_time()
        t_timer: float | None = None
        for p in self.participants:
            t = p.next_timer()
            if t is not None and (t_timer is None or t < t_timer):
                t_timer = t
        if t_event is None and t_timer is None:
            return False
        if t_timer is not None and (t_event is None or t_timer < t_event):
            self.now = max(self.now, t_timer)
            for p in self.participants:
                p.fire_timers(self.now)
            for p in self.participants:
                t = p.next_timer()
                if t is not None and t <= self.now:
                    # an endpoint that keeps asking to be woken now would spin forever
                    raise RuntimeError(f"timer of participant {p.prefix!r} still due at "
                                       f"{self.now} after handle_timer")
            return True
        assert t_event is not None
        when, fn = self.events.pop()
        self.now = max(self.now, when)
        fn()
        return True

    def run(self, until: float | None = None,
            stop: Callable[[], bool] | None = None, max_steps: int = 10_000_000) -> int:
        """Step until ``stop()`` holds, time passes ``until``, or nothing is left to do."""
        steps = 0
        while steps < max_steps:
            if stop is not None and stop():
                break
            nxt = self._next_time()
            if nxt is None or (until is not None and nxt > until):
                if until is not None:
                    self.now = max(self.now, until)
                break
            self.step()
            steps += 1
        return steps

    def _next_time(self) -> float | None:
        best = self.events.next_time()
        for p in self.participants:
            t = p.next_timer()
            if t is not None and (best is None or t < best):
                best = t
        return best


def _delivery(dst: SimParticipant, datagram: bytes) -> Callable[[], None]:
    def deliver() -> None:
        dst.receive(datagram)
    return deliver
