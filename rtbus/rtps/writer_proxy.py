"""The RTPS side of a reader: one stream of changes per matched writer (RTPS 8.4.10 WriterProxy).

It turns DATA, DATA_FRAG, GAP, HEARTBEAT and HEARTBEAT_FRAG into complete changes handed to a
sink (the reader cache, :mod:`rtbus.rtps.reader_cache`) and answers with ACKNACK/NACK_FRAG, so
the DDS side never sees sequence numbers, holes or fragments.

Reliable: changes are handed over in sequence order, each exactly once. Out-of-order arrivals
wait in a bounded buffer; GAPs and a HEARTBEAT whose ``first_sn`` moved past what we have close
holes. A HEARTBEAT is answered after ``heartbeat_response_delay`` with an ACKNACK (``final``
when nothing is missing) listing the missing sequence numbers, plus NACK_FRAGs for changes that
are partly reassembled (so only their missing fragments are resent). A HEARTBEAT whose count is
not above the last one seen is stale and ignored. A NACK is not repeated within
``nack_repeat_interval`` (the repairs are in flight; the answer is deferred, never replaced by a
bare acknowledgement, which would let the writer believe nothing is missing) and is retried
every ``nack_retry_period`` while something is still missing, so a lost NACK does not wait for
a writer whose heartbeats have backed off.

When the sink refuses a change (a full KEEP_ALL history) a reliable stream stops and holds it
(it is not requested again) until :meth:`WriterStreams.resume_held`, so a slow application
pushes back on the writer instead of losing data.

Best effort: a change is handed over if it is newer than the last one from that writer; older
ones and duplicates are dropped (counted in ``counters``), skipped ones reported as lost.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from . import wire
from .actions import Action, SamplesLost, Send
from .fragments import (
    DEFAULT_MAX_BYTES_IN_PROGRESS,
    DEFAULT_MAX_SAMPLE_SIZE,
    DEFAULT_MAX_SAMPLES_IN_PROGRESS,
    Reassembler,
)
from .history import HistoryQos
from .liveliness import WriterLease, WriterLiveliness
from .reader_stages import SampleMeta
from .writer import COUNT_RESYNC  # a HEARTBEAT count resynchronises as an ACKNACK's does

log = logging.getLogger("rtbus.rtps.writer_proxy")
Durability = Literal["volatile", "transient_local"]
_SET_SPAN = 256
_AFTER_ALL = 1 << 64  # sorts after any sequence number
_NO_COUNT = -(1 << 32)  # below any int32 count: a peer may start counting at 0

Sink = Callable[[SampleMeta, float, list[Action], bool], bool]
"""Takes a complete change: ``(meta, now, actions, reject_when_full) -> taken``. False (only
when ``reject_when_full`` is False): no room now, hold the change and offer it again later."""


class Timed(Protocol):
    """Something else of the same reader that owns timers (the cache's stages)."""

    def next_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> list[Action]: ...


@dataclass(frozen=True)
class ReaderConfig:
    """The whole reader's configuration (here because the streams use most of it; the cache
    takes ``history``)."""

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



class WriterProxy:
    """What the reader knows about one matched writer."""

    __slots__ = (
        "ack_deadline",
        "acknack_count",
        "entity_id",
        "guid",
        "highest_delivered",
        "irrelevant",
        "jumped_from",
        "last_hbfrag_count",
        "last_heartbeat_at",
        "last_heartbeat_count",
        "last_nack_at",
        "lease",
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
        self.pending: dict[int, SampleMeta] = {}
        self.irrelevant: list[list[int]] = []  # sorted disjoint [first, last] ranges, > next_seq
        self.max_seq_known = 0
        self.last_heartbeat_count = _NO_COUNT
        self.last_hbfrag_count = _NO_COUNT
        self.last_heartbeat_at = float("-inf")  # when the last HEARTBEAT was accepted
        self.acknack_count = 0
        self.nackfrag_count = 0
        self.ack_deadline: float | None = None
        self.must_ack = False
        self.last_nack_at = float("-inf")
        self.reassembler = reassembler
        self.lease: WriterLease | None = None  # a finite liveliness lease (.liveliness)
        #: where the stream stood before it last skipped a range (GAP, HEARTBEAT first) with no
        #: sample delivered since: a forged skip is undone from here (see handle_heartbeat)
        self.jumped_from: int | None = None

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


class WriterStreams:
    """The streams of every writer matched with one reader.

    ``deliver`` takes each complete change (see :data:`Sink`); ``timed`` are the reader's other
    timer owners, folded into :meth:`next_timer`/:meth:`handle_timer` so the reader has one timer.
    """

    def __init__(self, guid: wire.Guid, config: ReaderConfig, deliver: Sink,
                 counters: Counter[str] | None = None, timed: tuple[Timed, ...] = (),
                 liveliness: WriterLiveliness | None = None) -> None:
        self.guid = guid
        self.entity_id = guid.entity_id
        self.config = config
        self.writers: dict[wire.Guid, WriterProxy] = {}
        self.counters: Counter[str] = Counter() if counters is None else counters
        self._deliver = deliver
        self._timed = timed
        #: the writers' liveliness (one of ``timed``), told of what renews a lease
        self.liveliness = liveliness
        self._held: list[WriterProxy] = []  # streams stopped on a refused change

    # -- matching ---------------------------------------------------------------------------
    def open_stream(self, guid: wire.Guid, locators: tuple | list, reliable: bool,
                    qos: Any = None) -> list[Action]:
        """Start the stream of a matched writer; a reliable one sends a pre-emptive ACKNACK to
        get a HEARTBEAT."""
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

    def close_stream(self, guid: wire.Guid) -> WriterProxy | None:
        """Forget a writer's stream (and what it held back); its proxy, or None if unknown."""
        proxy = self.writers.pop(guid, None)
        if proxy is not None and proxy in self._held:
            self._held.remove(proxy)
        return proxy

    def resume_held(self, actions: list[Action], now: float) -> None:
        """The sink may have room again: offer what the held streams kept back."""
        if self._held:
            held, self._held = self._held, []
            for proxy in held:
                self._drain(proxy, actions, now)

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
        seq = msg.writer_sn
        item = SampleMeta(proxy.guid, seq, source_timestamp, now, msg.serialized_payload,
                          msg.inline_qos, msg.key_only)
        lease = proxy.lease
        if lease is not None and lease.data(now):  # it had lost its liveliness
            return self.liveliness.revived(lease, now) + self._received(  # type: ignore[union-attr]
                proxy, seq, item, now)
        return self._received(proxy, seq, item, now)

    def handle_data_frag(self, src_prefix: wire.GuidPrefix, msg: wire.DataFrag, now: float,
                         source_timestamp: int | None = None) -> list[Action]:
        proxy = self.writers.get(src_prefix + msg.writer_id)  # type: ignore[call-overload]
        if proxy is None:
            self.counters["data_unknown_writer"] += 1
            return []
        seq = msg.writer_sn
        lease = proxy.lease
        if lease is not None and lease.data(now):
            revived = self.liveliness.revived(lease, now)  # type: ignore[union-attr]
            return revived + self.handle_data_frag(src_prefix, msg, now, source_timestamp)
        if self._already_have(proxy, seq):
            self.counters["duplicate"] += 1
            return []
        if msg.sample_size > proxy.reassembler.max_sample_size:
            return self._too_large(proxy, seq, msg.sample_size, now)
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
        item = SampleMeta(proxy.guid, seq, ts if ts is not None else source_timestamp, now,
                          payload, inline_qos, key_only)
        return self._received(proxy, seq, item, now)

    def _too_large(self, proxy: WriterProxy, seq: int, size: int, now: float) -> list[Action]:
        """A fragment of a sample larger than this reader accepts: dropped, counted
        (``sample_too_large``) and said once in the log. The sample is not declared lost here:
        one forged fragment could then cost an honest sample; the writer gives such a sample
        up for this reader after a bounded number of whole resends (its GAP ends the wait)."""
        self.counters["sample_too_large"] += 1
        if self.counters["sample_too_large"] == 1:
            log.warning("reader %s: sample %d of writer %s has %d bytes, more than the %d this "
                        "reader accepts (its fragments are dropped)", bytes(self.guid).hex(),
                        seq, bytes(proxy.guid).hex(), size, proxy.reassembler.max_sample_size)
        return []

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
        if proxy is None:
            return []
        revived: list[Action] = []
        if msg.liveliness and proxy.lease is not None:  # the writer asserts its liveliness
            revived = self.liveliness.heartbeat_liveliness(  # type: ignore[union-attr]
                proxy.lease, now)
        if not proxy.reliable:
            return revived
        if msg.count <= proxy.last_heartbeat_count:
            # stale -- unless none was accepted for COUNT_RESYNC s: the writer restarted its
            # count, or a forged one poisoned it (Cyclone DDS resynchronises the same way)
            if now - proxy.last_heartbeat_at < COUNT_RESYNC:
                self.counters["heartbeat_stale"] += 1
                return revived
            self.counters["heartbeat_count_resync"] += 1
        proxy.last_heartbeat_count = msg.count
        proxy.last_heartbeat_at = now
        actions = revived
        if msg.last_sn < proxy.next_seq - 1 and proxy.jumped_from is not None \
                and msg.last_sn >= proxy.jumped_from - 1:
            # the writer has written less than the stream skipped to: that skip (a GAP or a
            # HEARTBEAT no writer of ours sent) was forged -- undo it, ask again from there
            self.counters["sequence_rollback"] += 1
            proxy.next_seq, proxy.jumped_from = proxy.jumped_from, None
            proxy.irrelevant.clear()
            for s in [s for s in proxy.pending if s > msg.last_sn]:
                del proxy.pending[s]
            proxy.max_seq_known = msg.last_sn
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
        """The earliest ACKNACK due, or a timer of ``timed``; None: no timer."""
        deadline: float | None = None
        for proxy in self.writers.values():
            d = proxy.ack_deadline
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        for timed in self._timed:
            d = timed.next_timer()
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        return deadline

    def handle_timer(self, now: float) -> list[Action]:
        """Send the ACKNACKs that are due, then run the due timers of ``timed``."""
        actions: list[Action] = []
        for proxy in self.writers.values():
            if proxy.ack_deadline is not None and proxy.ack_deadline <= now:
                actions.extend(self._acknack(proxy, now))
        for timed in self._timed:
            d = timed.next_timer()
            if d is not None and d <= now:
                actions.extend(timed.handle_timer(now))
        return actions

    # -- internals --------------------------------------------------------------------------
    def _already_have(self, proxy: WriterProxy, seq: int) -> bool:
        if proxy.reliable:
            return proxy.has(seq)
        return seq <= proxy.highest_delivered

    def _received(self, proxy: WriterProxy, seq: int, item: SampleMeta,
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
            self._deliver(item, now, actions, True)
            return actions
        if seq < proxy.next_seq or seq in proxy.pending or (proxy.irrelevant and proxy.has(seq)):
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
                if not self._deliver(item, now, actions, False):
                    if proxy not in self._held:
                        self._held.append(proxy)
                    break
                del pending[seq]
                proxy.next_seq = seq + 1
                proxy.jumped_from = None
                continue
            ranges = proxy.irrelevant
            if ranges and ranges[0][0] <= seq:
                last = ranges[0][1]
                # samples received inside a skipped range are still valid: deliver them first
                inside = sorted(s for s in pending if s <= last)
                for s in inside:
                    if not self._deliver(pending[s], now, actions, False):
                        proxy.next_seq = s
                        if proxy not in self._held:
                            self._held.append(proxy)
                        return
                    del pending[s]
                if inside:
                    proxy.jumped_from = inside[-1] + 1
                elif proxy.jumped_from is None:
                    proxy.jumped_from = seq
                proxy.next_seq = max(seq, last + 1)
                ranges.pop(0)
                continue
            break
        if proxy.reassembler.buffers:
            proxy.reassembler.discard_below(proxy.next_seq)

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

