"""The RTPS reader state machine: per-writer streams, acknowledgements, delivery pipeline.

See :mod:`rtbus.rtps.actions` for the calling contract. A sample travels:

    writer proxy (in-order stream, or newest-wins for best effort)
      -> instance state (:mod:`rtbus.rtps.instances`)
      -> delivery filter (ownership arbitration plugs in here, see :class:`DeliveryFilter`)
      -> reader history cache (KEEP_LAST / KEEP_ALL) -> ``Deliver`` action, ``take``/``read``

Reliable (per matched writer, RTPS 8.4.10 WriterProxy): samples are delivered in sequence order,
each exactly once. Out-of-order arrivals wait in a bounded buffer; GAPs and a HEARTBEAT whose
``first_sn`` moved past what we have close holes. A HEARTBEAT is answered after
``heartbeat_response_delay`` with an ACKNACK (``final`` when nothing is missing) listing the
missing sequence numbers, plus NACK_FRAGs for samples that are partly reassembled (so only
their missing fragments are resent). A HEARTBEAT whose count is not above the last one seen is
stale and ignored. A NACK is not repeated within ``nack_repeat_interval`` (the repairs are in
flight; the answer is deferred, never replaced by a bare acknowledgement, which would let the
writer believe nothing is missing) and is retried every ``nack_retry_period`` while something
is still missing, so a lost NACK does not wait for a writer whose heartbeats have backed off.

When a KEEP_ALL reader history is full, a reliable stream stops delivering and holds the
sample (it is not requested again); :meth:`StatefulReader.take` makes room and resumes, so a
slow application pushes back on the writer instead of losing data.

Best effort: a sample is delivered if it is newer than the last one delivered from that
writer; older ones and duplicates are dropped (counted in ``counters``).
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Literal, Protocol

from . import wire
from .actions import Action, Deliver, Sample, SampleInfo, SampleRejected, SamplesLost, Send
from .fragments import (
    DEFAULT_MAX_BYTES_IN_PROGRESS,
    DEFAULT_MAX_SAMPLE_SIZE,
    DEFAULT_MAX_SAMPLES_IN_PROGRESS,
    Reassembler,
)
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED, HistoryCache, HistoryFull, HistoryQos
from .instances import Instance, InstanceState, InstanceTable, SampleState, ViewState

log = logging.getLogger("rtbus.rtps.reader")

Durability = Literal["volatile", "transient_local"]
_SET_SPAN = 256
_AFTER_ALL = 1 << 64  # sorts after any sequence number
_NO_COUNT = -(1 << 32)  # below any int32 count: a peer may start counting at 0


class DeliveryFilter(Protocol):
    """Decides whether a sample that passed the writer stream reaches the reader history.

    The default accepts everything (SHARED ownership). Exclusive ownership (strength, deadline)
    and time-based filters implement this and update ``instance.owner``.
    """

    def accept(self, writer_guid: Any, instance: Instance, now: float) -> bool: ...

    def writer_removed(self, writer_guid: Any, now: float) -> None: ...


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


class AcceptAll:
    """SHARED ownership: every writer's samples are delivered."""

    def accept(self, writer_guid: Any, instance: Instance, now: float) -> bool:
        return True

    def writer_removed(self, writer_guid: Any, now: float) -> None:
        return None


@dataclass(frozen=True)
class ReaderConfig:
    reliable: bool = True
    durability: Durability = "volatile"
    history: HistoryQos = field(default_factory=HistoryQos)
    heartbeat_response_delay: float = 0.0
    max_sample_size: int = DEFAULT_MAX_SAMPLE_SIZE
    max_bytes_in_progress: int = DEFAULT_MAX_BYTES_IN_PROGRESS
    max_samples_in_progress: int = DEFAULT_MAX_SAMPLES_IN_PROGRESS
    max_out_of_order: int = 4096  # samples buffered per writer ahead of a hole
    max_nackfrag_windows: int = 32  # NACK_FRAG submessages per response (256 fragments each)
    # no second NACK within this time of the last one: repairs asked for are still in flight
    # when heartbeats arrive in quick succession (a piggy-backed one right after a periodic one)
    nack_repeat_interval: float = 0.005
    # NACK again after this long while something is still missing, heartbeat or not
    nack_retry_period: float = 0.2


class _Pending:
    """A received sample of a writer stream not delivered yet."""

    __slots__ = ("inline_qos", "key_only", "payload", "timestamp")

    def __init__(self, payload: bytes | memoryview | None, inline_qos: Any, key_only: bool,
                 timestamp: int | None) -> None:
        self.payload = payload
        self.inline_qos = inline_qos
        self.key_only = key_only
        self.timestamp = timestamp


class WriterProxy:
    """What the reader knows about one matched writer."""

    __slots__ = (
        "ack_deadline",
        "acknack_count",
        "entity_id",
        "guid",
        "highest_delivered",
        "irrelevant",
        "last_hbfrag_count",
        "last_heartbeat_count",
        "last_nack_at",
        "locators",
        "max_seq_known",
        "must_ack",
        "nackfrag_count",
        "next_seq",
        "pending",
        "prefix",
        "qos",
        "reassembler",
        "reliable",
    )

    def __init__(self, guid: wire.Guid, locators: tuple, reliable: bool,
                 reassembler: Reassembler, qos: Any = None) -> None:
        self.guid = guid
        # the writer's QoS as it announced it (None for builtin writers): ownership strength,
        # deadline, liveliness and lifespan are decided here, in the reader path
        self.qos = qos
        self.prefix = guid.prefix
        self.entity_id = guid.entity_id
        self.locators = locators
        self.reliable = reliable
        self.next_seq = 1  # reliable: everything below is delivered or irrelevant
        self.highest_delivered = 0  # best effort: newest delivered
        self.pending: dict[int, _Pending] = {}
        self.irrelevant: list[list[int]] = []  # sorted disjoint [first, last] ranges, > next_seq
        self.max_seq_known = 0
        self.last_heartbeat_count = _NO_COUNT
        self.last_hbfrag_count = _NO_COUNT
        self.acknack_count = 0
        self.nackfrag_count = 0
        self.ack_deadline: float | None = None
        self.must_ack = False
        self.last_nack_at = float("-inf")
        self.reassembler = reassembler

    def __repr__(self) -> str:
        return (f"WriterProxy({self.guid!r}, reliable={self.reliable}, next={self.next_seq}, "
                f"pending={len(self.pending)}, known={self.max_seq_known})")

    def has(self, seq: int) -> bool:
        """Received or declared irrelevant (so not to be asked for)."""
        if seq < self.next_seq or seq in self.pending:
            return True
        ranges = self.irrelevant
        if not ranges:
            return False
        i = bisect_right(ranges, [seq, _AFTER_ALL]) - 1  # the last range starting <= seq
        return i >= 0 and seq <= ranges[i][1]

    def add_irrelevant(self, first: int, last: int, window: int) -> None:
        """Record ``first..last`` as never to be delivered (GAP, or gone from the writer).

        Ranges starting more than ``window`` past the stream position are ignored (the writer
        repeats them when they matter), so a peer cannot make this list grow without bound.
        """
        first = max(first, self.next_seq)
        if first > last or first > self.next_seq + window:
            return
        ranges = self.irrelevant
        i = bisect_left(ranges, [first, last])
        ranges.insert(i, [first, last])
        if i > 0 and ranges[i - 1][1] + 1 >= first:  # merge into the previous range
            i -= 1
            ranges[i][1] = max(ranges[i][1], last)
            del ranges[i + 1]
        while i + 1 < len(ranges) and ranges[i + 1][0] <= ranges[i][1] + 1:
            ranges[i][1] = max(ranges[i][1], ranges[i + 1][1])
            del ranges[i + 1]


class StatefulReader:
    """A reader with per-writer state; reliable or best effort per ``config.reliable``."""

    def __init__(self, guid: wire.Guid, config: ReaderConfig | None = None,
                 key_hash_of: Callable[[bytes | memoryview], bytes | None] | None = None,
                 delivery_filter: DeliveryFilter | None = None,
                 key_hash_of_key: Callable[[bytes | memoryview], bytes | None] | None = None,
                 ) -> None:
        self.guid = guid
        self.entity_id = guid.entity_id
        self.config = config or ReaderConfig()
        self.writers: dict[wire.Guid, WriterProxy] = {}
        self.instances = InstanceTable()
        self.history: HistoryCache[Sample] = HistoryCache(self.config.history)
        # compute the key hash when no PID_KEY_HASH came (Cyclone sends none by default): from a
        # whole sample, and from a serialized key (DATA with the K flag: dispose/unregister)
        self.key_hash_of = key_hash_of
        self.key_hash_of_key = key_hash_of_key or key_hash_of
        self.delivery_filter: DeliveryFilter = delivery_filter or AcceptAll()
        self.counters: Counter[str] = Counter()
        self._ordinal = 0
        self._held: list[WriterProxy] = []  # streams stopped on a full history

    # -- matching ---------------------------------------------------------------------------
    def add_writer(self, guid: wire.Guid, locators: tuple | list, reliable: bool = True,
                   now: float = 0.0, qos: Any = None) -> list[Action]:
        """Match a writer (``qos``: all of its announced QoS). A reliable reader sends a
        pre-emptive ACKNACK to get a HEARTBEAT."""
        reliable = reliable and self.config.reliable
        cfg = self.config
        proxy = WriterProxy(guid, tuple(locators), reliable,
                            Reassembler(cfg.max_sample_size, cfg.max_bytes_in_progress,
                                        cfg.max_samples_in_progress, newest_wins=not reliable),
                            qos)
        self.writers[guid] = proxy
        if not reliable:
            return []
        proxy.acknack_count += 1
        ack = wire.AckNack(reader_id=self.entity_id, writer_id=guid.entity_id,
                           reader_sn_state=wire.SequenceNumberSet(1, ()),
                           count=proxy.acknack_count, final=False)
        return [Send(proxy.prefix, proxy.locators, (ack,))]

    def update_writer(self, guid: wire.Guid, qos: Any) -> None:
        """A matched writer re-announced itself with other (still compatible) QoS."""
        proxy = self.writers.get(guid)
        if proxy is not None:
            proxy.qos = qos

    def remove_writer(self, guid: wire.Guid, now: float = 0.0) -> list[Action]:
        """Unmatch a writer: instances only it kept alive become NOT_ALIVE_NO_WRITERS."""
        proxy = self.writers.pop(guid, None)
        if proxy is None:
            return []
        if proxy in self._held:
            self._held.remove(proxy)
        self.delivery_filter.writer_removed(guid, now)
        actions: list[Action] = []
        for inst in self.instances.on_writer_lost(guid):
            self._store(actions, guid, 0, None, inst, None, None, STATUS_UNREGISTERED, now)
        return actions

    # -- incoming submessages ---------------------------------------------------------------
    def handle_submessage(self, src_prefix: wire.GuidPrefix, msg: Any, now: float,
                          timestamp: int | None = None) -> list[Action]:
        """Any submessage a writer sends a reader (DATA, DATA_FRAG, HEARTBEAT, GAP,
        HEARTBEAT_FRAG); anything else is ignored. ``timestamp``: the INFO_TS in effect."""
        cls = type(msg)
        if cls is wire.Data:
            return self.handle_data(src_prefix, msg, now, timestamp)
        if cls is wire.DataFrag:
            return self.handle_data_frag(src_prefix, msg, now, timestamp)
        if cls is wire.Heartbeat:
            return self.handle_heartbeat(src_prefix, msg, now)
        if cls is wire.Gap:
            return self.handle_gap(src_prefix, msg, now)
        if cls is wire.HeartbeatFrag:
            return self.handle_heartbeat_frag(src_prefix, msg, now)
        return []

    def handle_data(self, src_prefix: wire.GuidPrefix, msg: wire.Data, now: float,
                    source_timestamp: int | None = None) -> list[Action]:
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None:
            self.counters["data_unknown_writer"] += 1
            return []
        item = _Pending(msg.serialized_payload, msg.inline_qos, msg.key_only, source_timestamp)
        return self._received(proxy, msg.writer_sn, item, now)

    def handle_data_frag(self, src_prefix: wire.GuidPrefix, msg: wire.DataFrag, now: float,
                         source_timestamp: int | None = None) -> list[Action]:
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None:
            self.counters["data_unknown_writer"] += 1
            return []
        seq = msg.writer_sn
        if self._already_have(proxy, seq):
            self.counters["duplicate"] += 1
            return []
        meta = (msg.inline_qos, msg.key_only, source_timestamp) \
            if msg.fragment_starting_num == 1 else None
        if proxy.reliable and seq - proxy.next_seq >= self.config.max_out_of_order:
            self.counters["out_of_order_overflow"] += 1
            return []
        done = proxy.reassembler.add(seq, msg.sample_size, msg.fragment_size,
                                     msg.fragment_starting_num, msg.fragments_in_submessage,
                                     msg.serialized_payload, meta)
        if proxy.max_seq_known < seq and proxy.reassembler.partial(seq) is not None:
            proxy.max_seq_known = seq
        if done is None:
            return []
        payload, meta = done
        inline_qos, key_only, ts = meta if meta is not None else (None, msg.key_only, None)
        return self._received(proxy, seq, _Pending(payload, inline_qos, key_only,
                                                   ts if ts is not None else source_timestamp),
                              now)

    def handle_gap(self, src_prefix: wire.GuidPrefix, msg: wire.Gap, now: float) -> list[Action]:
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None or not proxy.reliable:
            return []
        base = msg.gap_list.base
        window = self.config.max_out_of_order
        if msg.gap_start < base:
            proxy.add_irrelevant(msg.gap_start, base - 1, window)
        run: list[int] = []  # bitmap members as contiguous runs
        for seq in msg.gap_list.members():
            if run and seq == run[1] + 1:
                run[1] = seq
                continue
            if run:
                proxy.add_irrelevant(run[0], run[1], window)
            run = [seq, seq]
        if run:
            proxy.add_irrelevant(run[0], run[1], window)
        last = max(base - 1, max(msg.gap_list.members(), default=0))
        if proxy.max_seq_known < last:
            proxy.max_seq_known = last
        actions: list[Action] = []
        self._drain(proxy, actions, now)
        return actions

    def handle_heartbeat(self, src_prefix: wire.GuidPrefix, msg: wire.Heartbeat,
                         now: float) -> list[Action]:
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None or not proxy.reliable:
            return []
        if msg.count <= proxy.last_heartbeat_count:
            self.counters["heartbeat_stale"] += 1
            return []
        proxy.last_heartbeat_count = msg.count
        actions: list[Action] = []
        if msg.last_sn > proxy.max_seq_known:
            proxy.max_seq_known = msg.last_sn
        if msg.first_sn > proxy.next_seq:
            # the writer no longer has these: whatever we did not get is lost -- unless we
            # never got anything yet (a late joiner starts where the writer's history starts)
            synced = proxy.next_seq > 1 or bool(proxy.pending)
            first = msg.first_sn
            lost = 0
            if synced:
                # count by what we hold, not seq by seq: the span may be huge
                covered = sum(1 for s in proxy.pending if s < first)
                for a, b in proxy.irrelevant:
                    if a < first:
                        covered += min(b, first - 1) - a + 1
                lost = max(0, first - proxy.next_seq - covered)
            proxy.add_irrelevant(proxy.next_seq, msg.first_sn - 1, self.config.max_out_of_order)
            if lost:
                actions.append(SamplesLost(proxy.guid, lost))
                self.counters["lost"] += lost
            self._drain(proxy, actions, now)
        if not msg.final or self._missing(proxy, 1):
            proxy.must_ack = True
            due = now + self.config.heartbeat_response_delay
            if proxy.ack_deadline is None or due < proxy.ack_deadline:
                proxy.ack_deadline = due
        if proxy.ack_deadline is not None and proxy.ack_deadline <= now:
            actions.extend(self._acknack(proxy, now))
        return actions

    def handle_heartbeat_frag(self, src_prefix: wire.GuidPrefix, msg: wire.HeartbeatFrag,
                              now: float) -> list[Action]:
        """Fragments up to ``last_fragment_num`` of ``writer_sn`` exist: NACK what we lack."""
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None or not proxy.reliable:
            return []
        if msg.count <= proxy.last_hbfrag_count:
            self.counters["heartbeat_frag_stale"] += 1
            return []
        proxy.last_hbfrag_count = msg.count
        seq = msg.writer_sn
        if self._already_have(proxy, seq):
            return []
        buf = proxy.reassembler.partial(seq)
        if buf is None:
            return []  # nothing of it yet: the ACKNACK path will request the whole sample
        missing = [n for n in buf.missing(1, _SET_SPAN) if n <= msg.last_fragment_num]
        if not missing:
            return []
        proxy.nackfrag_count += 1
        nf = wire.NackFrag(reader_id=self.entity_id, writer_id=proxy.entity_id,
                           writer_sn=seq,
                           fragment_number_state=wire.FragmentNumberSet(missing[0],
                                                                        tuple(missing)),
                           count=proxy.nackfrag_count)
        return [Send(proxy.prefix, proxy.locators, (nf,))]

    # -- timers -----------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        deadline: float | None = None
        for proxy in self.writers.values():
            d = proxy.ack_deadline
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        return deadline

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for proxy in self.writers.values():
            if proxy.ack_deadline is not None and proxy.ack_deadline <= now:
                actions.extend(self._acknack(proxy, now))
        return actions

    # -- application side -------------------------------------------------------------------
    def take(self, max_samples: int | None = None, now: float = 0.0,
             select: Selection | None = None) -> tuple[list[Sample], list[Action]]:
        """Remove and return the oldest samples (those ``select`` admits, if given); resumes
        streams held on a full history.

        Each SampleInfo shows the instance and view state as they are now (DDS semantics) and
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
        actions: list[Action] = []
        if self._held and out:
            held, self._held = self._held, []
            for proxy in held:
                self._drain(proxy, actions, now)
        return out, actions

    def read(self, max_samples: int | None = None,
             select: Selection | None = None) -> list[Sample]:
        """Return copies of the oldest samples (those ``select`` admits), leaving them in the
        history marked READ."""
        stored = self._selected(max_samples, select)
        out = [Sample(s.seq, s.key_hash, s.payload, replace(s.info), s.status_info, s.inline_qos,
                      s.key_only) for s in stored]
        self._stamp_states(out)
        for sample in stored:
            sample.info.sample_state = SampleState.READ
            self.instances.mark_viewed(sample.key_hash)
        return out

    def has_samples(self, select: Selection | None = None) -> bool:
        """Would ``read``/``take`` with ``select`` return anything? (read conditions)"""
        return bool(self._selected(1, select))

    def _selected(self, max_samples: int | None, select: Selection | None) -> list[Sample]:
        if select is None:
            return list(islice(self.history, max_samples))
        if select.instance is not ANY_INSTANCE:
            candidates: Any = (self.history.get(seq) for seq
                               in self.history.instance_seqs(select.instance))
        else:
            candidates = iter(self.history)
        if select.all_states:
            return list(islice(candidates, max_samples))
        out: list[Sample] = []
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
    def _stamp_states(self, samples: list[Sample]) -> None:
        """Instance and view state as of now, before this access marks instances viewed."""
        for sample in samples:
            inst = self.instances.get(sample.key_hash)
            if inst is not None:
                sample.info.instance_state = inst.state
                sample.info.view_state = inst.view_state

    def _already_have(self, proxy: WriterProxy, seq: int) -> bool:
        if proxy.reliable:
            return proxy.has(seq)
        return seq <= proxy.highest_delivered

    def _received(self, proxy: WriterProxy, seq: int, item: _Pending,
                  now: float) -> list[Action]:
        actions: list[Action] = []
        if not proxy.reliable:
            if seq <= proxy.highest_delivered:
                self.counters["old_or_duplicate"] += 1
                return actions
            skipped = seq - proxy.highest_delivered - 1
            if skipped and proxy.highest_delivered:
                actions.append(SamplesLost(proxy.guid, skipped))
                self.counters["lost"] += skipped
            proxy.highest_delivered = seq
            proxy.reassembler.discard_below(seq)
            self._accept(actions, proxy, seq, item, now, reject_when_full=True)
            return actions
        if proxy.has(seq):
            self.counters["duplicate"] += 1
            return actions
        if seq - proxy.next_seq >= self.config.max_out_of_order:
            self.counters["out_of_order_overflow"] += 1
            return actions
        if seq > proxy.max_seq_known:
            proxy.max_seq_known = seq
        if proxy.reassembler.buffers:
            proxy.reassembler.discard(seq)
        proxy.pending[seq] = item
        self._drain(proxy, actions, now)
        return actions

    def _drain(self, proxy: WriterProxy, actions: list[Action], now: float) -> None:
        """Deliver the in-order prefix of a reliable stream."""
        pending = proxy.pending
        while True:
            seq = proxy.next_seq
            item = pending.get(seq)
            if item is not None:
                if not self._accept(actions, proxy, seq, item, now, reject_when_full=False):
                    if proxy not in self._held:
                        self._held.append(proxy)
                    break
                del pending[seq]
                proxy.next_seq = seq + 1
                continue
            ranges = proxy.irrelevant
            if ranges and ranges[0][0] <= seq:
                last = ranges[0][1]
                # samples received inside a skipped range are still valid: deliver them first
                inside = sorted(s for s in pending if s <= last)
                for s in inside:
                    if not self._accept(actions, proxy, s, pending[s], now,
                                        reject_when_full=False):
                        proxy.next_seq = s
                        if proxy not in self._held:
                            self._held.append(proxy)
                        return
                    del pending[s]
                proxy.next_seq = max(seq, last + 1)
                ranges.pop(0)
                continue
            break
        if proxy.reassembler.buffers:
            proxy.reassembler.discard_below(proxy.next_seq)

    def _accept(self, actions: list[Action], proxy: WriterProxy, seq: int, item: _Pending,
                now: float, reject_when_full: bool) -> bool:
        """Instance state -> delivery filter -> history. False: history full, hold it."""
        qos = item.inline_qos
        status = 0
        key_hash = None
        if qos is not None:
            status = qos.status_info or 0
            key_hash = qos.key_hash
        if key_hash is None and item.payload is not None:
            compute = self.key_hash_of_key if item.key_only else self.key_hash_of
            if compute is not None:
                key_hash = compute(item.payload)
                if key_hash is None:  # a keyed sample whose key cannot be read: no instance
                    if not self.counters["dropped_undecodable_key"]:
                        log.warning("reader %s: dropping samples from %s whose key cannot be "
                                    "read from the payload (counted as "
                                    "dropped_undecodable_key)", self.entity_id, proxy.guid)
                    self.counters["dropped_undecodable_key"] += 1
                    return True
        flags = status & (STATUS_DISPOSED | STATUS_UNREGISTERED)
        valid = item.payload is not None and not item.key_only and not flags
        if not valid and not flags:
            self.counters["no_payload"] += 1
            return True
        room = self.history.check_room(key_hash)
        if room is not None:
            if not reject_when_full:
                self.counters["held_history_full"] += 1
                return False
            actions.append(SampleRejected(proxy.guid, seq, room.limit, key_hash))
            self.counters["rejected"] += 1
            return True
        # the filter (ownership) rules on a known instance before the change touches it, so a
        # writer that does not own the instance cannot dispose or unregister it either
        known = self.instances.get(key_hash)
        if known is not None and not self.delivery_filter.accept(proxy.guid, known, now):
            self.counters["filtered"] += 1
            return True
        update = self.instances.on_change(key_hash, proxy.guid, status)
        inst = update.instance
        if inst is None:
            return True
        if known is None and not self.delivery_filter.accept(proxy.guid, inst, now):
            self.counters["filtered"] += 1
            return True
        if not valid and not update.state_changed:
            return True
        self._store(actions, proxy.guid, seq, item.payload, inst, item.timestamp,
                    item.inline_qos, status, now, valid, item.key_only)
        return True

    def _store(self, actions: list[Action], writer_guid: Any, seq: int,
               payload: bytes | memoryview | None, inst: Instance, timestamp: int | None,
               inline_qos: Any, status: int, now: float, valid: bool = False,
               key_only: bool = False) -> None:
        self._ordinal += 1
        info = SampleInfo(writer_guid, seq, timestamp, now, inst.key_hash, valid,
                          inst.state, inst.view_state, SampleState.NOT_READ,
                          inst.disposed_generation, inst.no_writers_generation)
        sample = Sample(self._ordinal, inst.key_hash, payload, info, status, inline_qos,
                        key_only)
        added = self.history.add(sample)
        if isinstance(added, HistoryFull):
            actions.append(SampleRejected(writer_guid, seq, added.limit, inst.key_hash))
            self.counters["rejected"] += 1
            return
        if added:
            self.counters["replaced"] += len(added)
        actions.append(Deliver(sample))

    def _missing(self, proxy: WriterProxy, limit: int) -> list[int]:
        """Sequence numbers to ask for: not received, not irrelevant, not partly reassembled."""
        out: list[int] = []
        hi = min(proxy.max_seq_known, proxy.next_seq + _SET_SPAN - 1)
        partial = proxy.reassembler.buffers
        for seq in range(proxy.next_seq, hi + 1):
            if seq in proxy.pending or seq in partial or proxy.has(seq):
                continue
            out.append(seq)
            if len(out) >= limit:
                break
        return out

    def _acknack(self, proxy: WriterProxy, now: float) -> list[Action]:
        proxy.ack_deadline = None
        if not proxy.must_ack:
            return []
        cfg = self.config
        missing = self._missing(proxy, _SET_SPAN)
        repeat_at = proxy.last_nack_at + cfg.nack_repeat_interval
        if now < repeat_at and (missing or proxy.reassembler.buffers):
            # what we asked for moments ago is still on its way: answer once that interval is
            # over (an acknowledgement without the NACK would tell the writer -- Cyclone backs
            # off its heartbeats then -- that nothing is missing)
            proxy.ack_deadline = repeat_at
            self.counters["nack_repeat_deferred"] += 1
            return []
        proxy.must_ack = False
        proxy.acknack_count += 1
        subs: list = [wire.AckNack(reader_id=self.entity_id, writer_id=proxy.entity_id,
                                   reader_sn_state=wire.SequenceNumberSet(proxy.next_seq,
                                                                          tuple(missing)),
                                   count=proxy.acknack_count, final=not missing)]
        if missing:
            proxy.last_nack_at = now
        windows = self.config.max_nackfrag_windows
        for seq in sorted(proxy.reassembler.buffers):
            if windows <= 0:
                break
            buf = proxy.reassembler.buffers[seq]
            base = 1
            while windows > 0:
                frags = buf.missing(base, _SET_SPAN)
                if not frags:
                    break
                # one NACK_FRAG covers 256 fragment numbers from its base
                in_window = [n for n in frags if n < frags[0] + _SET_SPAN]
                proxy.nackfrag_count += 1
                subs.append(wire.NackFrag(
                    reader_id=self.entity_id, writer_id=proxy.entity_id,
                    writer_sn=seq,
                    fragment_number_state=wire.FragmentNumberSet(frags[0], tuple(in_window)),
                    count=proxy.nackfrag_count))
                windows -= 1
                base = frags[0] + _SET_SPAN
                proxy.last_nack_at = now
        if proxy.last_nack_at == now and cfg.nack_retry_period > 0:
            # if this NACK or its repairs get lost and the writer's next heartbeat is far off
            # (writers back off heartbeats), ask again on our own
            proxy.must_ack = True
            proxy.ack_deadline = now + cfg.nack_retry_period
        return [Send(proxy.prefix, proxy.locators, tuple(subs))]


class BestEffortReader(StatefulReader):
    """A reader that never acknowledges: newest sample per writer wins."""

    def __init__(self, guid: wire.Guid, config: ReaderConfig | None = None,
                 key_hash_of: Callable[[bytes | memoryview], bytes | None] | None = None,
                 delivery_filter: DeliveryFilter | None = None,
                 key_hash_of_key: Callable[[bytes | memoryview], bytes | None] | None = None,
                 ) -> None:
        cfg = config or ReaderConfig(reliable=False)
        if cfg.reliable:
            cfg = replace(cfg, reliable=False)
        super().__init__(guid, cfg, key_hash_of, delivery_filter, key_hash_of_key)
