"""The RTPS writer state machine: history, matched reader proxies, heartbeats, repairs.

One :class:`StatefulWriter` serves reliable and best-effort readers alike (a best-effort proxy
simply never waits for acknowledgements); :class:`StatelessWriter` is the best-effort-only
writer. See :mod:`rtbus.rtps.actions` for the calling contract (``now`` in float seconds,
actions returned, timers as queries).

Per matched reliable reader the writer keeps (RTPS 8.4.7 ReaderProxy):

* ``start_seq`` -- the first change relevant to it. A TRANSIENT_LOCAL reader of a
  TRANSIENT_LOCAL writer starts at the first change still in the history (it gets the history
  pushed right away); any other reader starts after the last change written so far, and is told
  at once with a GAP covering everything older, so it never waits for it.
* ``highest_sent`` -- changes up to here went out at least once; newer ones are pushed as they
  are written.
* ``acked`` -- the reader acknowledged everything up to here.
* ``requested`` / ``requested_frags`` -- what its ACKNACK / NACK_FRAG asked for, answered after
  ``nack_response_delay`` (0: at once). A change resent less than
  ``nack_suppression_duration`` ago is not resent again, nor one resent less than the
  reader's ``resend_backoff`` ago (:data:`RESEND_BACKOFF`: a reader that keeps asking and
  acknowledges nothing new).
* ``synced`` -- the reader has sent us an ACKNACK with the Final flag: it wanted no heartbeat,
  so it has processed one of ours.

Session start-up. RTPS does not define a handshake, and readers differ in how they read the
first HEARTBEAT they get from a writer: Cyclone DDS takes it as the start of a volatile reader's
session and drops whatever up to its lastSN it has not completely received, acknowledging it
(``handle_Heartbeat``, "gap_end_seq = lastseq + 1" on the first heartbeat). So the first
heartbeat a reader processes must not claim a change that may still be in flight to it. Until a
reader is synced, every heartbeat to it is the *pre-data* heartbeat ``[start_seq,
start_seq - 1]`` (nothing newer than what existed when it was matched), never Final, and sent
periodically (the one sent at matching is lost whenever the reader has not discovered us yet;
any later one may be lost to a receive-buffer overflow). A pre-emptive ACKNACK (Final clear)
proves nothing: the reader may not have seen any heartbeat yet, and the datagram answering it
may be lost. Its first Final ACKNACK does, as every heartbeat it can have seen was a pre-data
one; from then on heartbeats tell the truth, the first at once if there is something to
announce. Every ACKNACK without the Final flag gets a heartbeat in answer (RTPS 8.3.7.1: Final
clear means the reader wants one), unless the answer is a repair, which the next periodic
heartbeat follows.

ACKNACKs and NACK_FRAGs whose count is not above the last one seen from that reader are
duplicates or stale and are ignored -- unless :data:`COUNT_RESYNC` seconds passed since the
last accepted one, or the ACKNACK is a pre-emptive one (nothing received, nothing asked): a
reader that lost its state of us (it gave our participant up during a one-way outage and
rediscovered it) starts counting at 1 again, and a count poisoned by a forged 0xFFFFFFFF
must not silence a reader for good (Cyclone DDS does the same). A pre-emptive ACKNACK from a
reader that had acknowledged changes restarts its session, as if it had just matched.
Changes requested that are no longer in the history (or were never relevant to the reader)
are answered with GAP.

A VOLATILE writer drops changes once every reliable reader acknowledged them; a
TRANSIENT_LOCAL writer keeps its history (bounded by the HISTORY QoS) for late joiners. A
KEEP_ALL history that is full makes :meth:`StatefulWriter.write` return :class:`WouldBlock`;
the driver waits for an :class:`~rtbus.rtps.actions.Acknowledged` action and retries (a
TRANSIENT_LOCAL KEEP_ALL writer frees what every reader acknowledged in that case).

Payloads larger than ``fragment_size`` go out as DATA_FRAG, one fragment per submessage (the
driver packs submessages into datagrams up to the maximum message size). The writer never
sends HEARTBEAT_FRAG: it always makes every fragment available at once (a write or a repair
hands them all to the transport in one go), which is what a HEARTBEAT covering the sequence
number already says; there is never a sample "still being fragmented" to announce.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from . import wire
from .actions import Acknowledged, Action, Send
from .fragments import DEFAULT_FRAGMENT_SIZE, fragment_count, fragment_slice
from .history import (
    STATUS_DISPOSED,
    STATUS_UNREGISTERED,
    CacheChange,
    HistoryCache,
    HistoryFull,
    HistoryQos,
)

log = logging.getLogger("rtbus.rtps.writer")

Durability = Literal["volatile", "transient_local"]
_NS_PER_S = 1_000_000_000
_SET_SPAN = 256  # a SequenceNumberSet/FragmentNumberSet covers at most 256 numbers
_NO_COUNT = -(1 << 32)  # below any int32 count: a peer may start counting at 0
HEARTBEAT_AFTER_FRAGMENTS = 8  # a sample of more fragments is followed by a HEARTBEAT


@dataclass(frozen=True)
class WriterConfig:
    """The writer's protocol tuning plus the QoS the core enforces."""

    reliable: bool = True
    durability: Durability = "volatile"
    history: HistoryQos = field(default_factory=HistoryQos)
    heartbeat_period: float = 0.1  # Cyclone's default HeartbeatInterval
    nack_response_delay: float = 0.0
    nack_suppression_duration: float = 0.0
    fragment_size: int = DEFAULT_FRAGMENT_SIZE
    heartbeat_every: int = 16  # piggy-back a HEARTBEAT after this many DATA to a reader
    # (and after every fragmented sample)


@dataclass(frozen=True)
class Written:
    """``write`` accepted the change as ``seq``; carry out ``actions``. ``acked``: the
    acknowledged-by-all mark after it (``seq`` itself when no reliable reader waits)."""

    seq: int
    actions: list[Action]
    acked: int = 0


@dataclass(frozen=True)
class WouldBlock:
    """A KEEP_ALL history is full: wait for an Acknowledged action (or the timeout) and retry."""

    reason: HistoryFull


#: after this many seconds without an accepted ACKNACK (NACK_FRAG) from a reader, any count
#: is accepted again (Cyclone DDS: 2 s)
COUNT_RESYNC = 2.0
#: a fragmented change a reader asked for whole this many times, never for some of its
#: fragments (it takes none of them: larger than it accepts), is given up for that reader
MAX_WHOLE_RESENDS = 8
#: a reader that asks again for what was just resent and acknowledges nothing new waits
#: longer for each next resend of it (doubling from the first to the last, seconds); any
#: progress of its acknowledgements ends the backoff. A reader that never acknowledges
#: cannot turn a stream of small ACKNACKs into a flood of resends.
RESEND_BACKOFF = (0.01, 1.0)


class ReaderProxy:
    """What the writer knows about one matched reader."""

    __slots__ = (
        "acked",
        "durability",
        "entity_id",
        "expects_inline_qos",
        "guid",
        "highest_sent",
        "last_acknack_at",
        "last_acknack_count",
        "last_nackfrag_at",
        "last_nackfrag_count",
        "locators",
        "nack_deadline",
        "prefix",
        "reliable",
        "requested",
        "requested_frags",
        "resend_backoff",
        "resent_at",
        "sent_since_heartbeat",
        "start_seq",
        "synced",
        "whole_resends",
    )

    def __init__(self, guid: wire.Guid, locators: tuple, reliable: bool,
                 expects_inline_qos: bool, durability: Durability, start_seq: int) -> None:
        self.guid = guid
        self.prefix = guid.prefix
        self.entity_id = guid.entity_id
        self.locators = locators
        self.reliable = reliable
        self.expects_inline_qos = expects_inline_qos
        self.durability = durability
        self.start_seq = start_seq
        self.highest_sent = start_seq - 1
        self.acked = start_seq - 1
        self.requested: set[int] = set()
        self.requested_frags: dict[int, set[int]] = {}
        self.resent_at: dict[int, float] = {}
        self.last_acknack_count = _NO_COUNT
        self.last_nackfrag_count = _NO_COUNT
        self.last_acknack_at = self.last_nackfrag_at = float("-inf")
        self.nack_deadline: float | None = None
        self.sent_since_heartbeat = 0
        self.synced = False
        self.whole_resends: dict[int, int] = {}  # fragmented changes resent whole, and how often
        self.resend_backoff = 0.0  # see RESEND_BACKOFF

    def __repr__(self) -> str:
        return (f"ReaderProxy({self.guid!r}, reliable={self.reliable}, start={self.start_seq}, "
                f"sent={self.highest_sent}, acked={self.acked})")


class StatefulWriter:
    """A writer with per-reader state: reliable delivery, durability, repairs."""

    def __init__(self, guid: wire.Guid, config: WriterConfig | None = None,
                 deadline: Any = None, liveliness: Any = None, lifespan: Any = None) -> None:
        """``deadline``: the offered DEADLINE's tracker (:class:`.deadline.OfferedDeadline`),
        ``liveliness``: a MANUAL writer's lease (:class:`.liveliness.OfferedLiveliness`),
        ``lifespan``: a finite LIFESPAN's expiry of the history
        (:class:`.lifespan.WriterLifespan`); each is told of every write, and their timers
        are this writer's."""
        self.guid = guid
        self.entity_id = guid.entity_id
        self.config = config or WriterConfig()
        self.deadline = deadline
        self.liveliness = liveliness
        self.lifespan = lifespan
        if self.config.fragment_size < 1 or self.config.fragment_size > 0xFFFF:
            raise ValueError(f"fragment_size {self.config.fragment_size}: expected 1..65535")
        self.history: HistoryCache[CacheChange] = HistoryCache(self.config.history)
        self.readers: dict[wire.Guid, ReaderProxy] = {}
        self.last_seq = 0
        self.heartbeat_count = 0
        self.acked_all = 0
        self.heartbeat_deadline: float | None = None
        self.counters: Counter[str] = Counter()

    # -- matching ---------------------------------------------------------------------------
    def add_reader(self, guid: wire.Guid, locators: tuple | list, reliable: bool = True,
                   expects_inline_qos: bool = False, durability: Durability = "volatile",
                   now: float = 0.0) -> list[Action]:
        """Match a reader; returns the history push (TRANSIENT_LOCAL) or the initial GAP."""
        reliable = reliable and self.config.reliable
        if durability == "transient_local" and self.config.durability == "transient_local":
            start = self.history.min_seq() or self.last_seq + 1
        else:
            start = self.last_seq + 1
        proxy = ReaderProxy(guid, tuple(locators), reliable, expects_inline_qos, durability,
                            start)
        self.readers[guid] = proxy
        subs: list = []
        if reliable and start > 1:
            subs.append(self._gap_range(proxy, 1, start - 1))
        if start <= self.last_seq:
            # the history may have holes (KEEP_LAST replaced changes of some instances): GAP
            # each one as we go, so the late joiner need not ask for them first
            expected = start
            for change in self.history.changes_from(start):
                if reliable and change.seq > expected:
                    subs.append(self._gap_range(proxy, expected, change.seq - 1))
                self._append_change(subs, proxy, change)
                expected = change.seq + 1
            if reliable and expected <= self.last_seq:
                subs.append(self._gap_range(proxy, expected, self.last_seq))
            proxy.highest_sent = self.last_seq
        if reliable:
            subs.append(self._heartbeat(proxy, final=False))
            self._arm_heartbeat(now)
        self._recompute_acked_all()
        return [Send(proxy.prefix, proxy.locators, tuple(subs))] if subs else []

    def remove_reader(self, guid: wire.Guid) -> list[Action]:
        """Unmatch a reader; acknowledgements it held back may now be complete."""
        if self.readers.pop(guid, None) is None:
            return []
        return self._acked_all_moved()

    # -- writing ----------------------------------------------------------------------------
    def write(self, payload: bytes | memoryview | None, key_hash: bytes | None = None,
              status_info: int = 0, timestamp: int | None = None, now: float = 0.0,
              inline_qos: object = None) -> Written | WouldBlock:
        """Add a change and push it to every matched reader.

        ``payload`` is the serialized sample (or the serialized key, for a dispose/unregister;
        or None for a dispose/unregister carrying only the key hash). ``timestamp``: source
        timestamp, ns since the Unix epoch.
        """
        seq = self.last_seq + 1
        change = CacheChange(seq, key_hash, payload, status_info, timestamp, inline_qos)
        added = self.history.add(change)
        if isinstance(added, HistoryFull) and self.config.durability == "transient_local" \
                and self.acked_all >= (self.history.min_seq() or seq):
            self.history.remove_up_to(self.acked_all)
            added = self.history.add(change)
        if isinstance(added, HistoryFull):
            self.counters["write_would_block"] += 1
            return WouldBlock(added)
        self.last_seq = seq
        if self.deadline is not None:
            self.deadline.written(key_hash, status_info, now)
        if self.liveliness is not None:
            self.liveliness.asserted(now)
        if self.lifespan is not None:
            self.lifespan.written(seq, now)
        actions: list[Action] = []
        any_reliable = False
        qos = self._inline_qos(change)
        # after a large sample, ask at once what is missing: repairing it then starts one
        # round trip later instead of one heartbeat period later. A sample of a few fragments
        # (a 4 KiB one: 4) travels in one datagram and is lost or not like a small one; a
        # heartbeat after each would make every such sample cost an ACKNACK
        large = payload is not None and \
            len(payload) > self.config.fragment_size * HEARTBEAT_AFTER_FRAGMENTS
        for proxy in self.readers.values():
            subs: list = []
            self._append_change(subs, proxy, change, None, qos)
            proxy.highest_sent = seq
            if proxy.reliable:
                any_reliable = True
                proxy.sent_since_heartbeat += 1
                if large or proxy.sent_since_heartbeat >= self.config.heartbeat_every:
                    subs.append(self._heartbeat(proxy, final=False))
            actions.append(Send(proxy.prefix, proxy.locators, tuple(subs)))
        if any_reliable:
            self._arm_heartbeat(now)
        else:  # trims a volatile history; the mark reaches the caller in Written
            self._acked_all_moved()
        return Written(seq, actions, self.acked_all)

    def dispose(self, key_hash: bytes, key_payload: bytes | None = None,
                timestamp: int | None = None, now: float = 0.0) -> Written | WouldBlock:
        """Dispose an instance. Pass the serialized key as ``key_payload`` when the reader may
        be another implementation: not every one trusts a PID_KEY_HASH alone (Cyclone derives
        the instance from the serialized key)."""
        return self.write(key_payload, key_hash, STATUS_DISPOSED, timestamp, now)

    def unregister(self, key_hash: bytes, key_payload: bytes | None = None,
                   timestamp: int | None = None, now: float = 0.0) -> Written | WouldBlock:
        return self.write(key_payload, key_hash, STATUS_UNREGISTERED, timestamp, now)

    # -- acknowledgements -------------------------------------------------------------------
    def assert_liveliness(self, now: float, heartbeat: bool) -> list[Action]:
        """The application asserts this writer's liveliness. ``heartbeat`` (MANUAL_BY_TOPIC):
        tell every matched reader with a HEARTBEAT carrying the liveliness flag (RTPS 8.3.7.5),
        which a reader takes as the writer's assertion whatever else it says."""
        if self.liveliness is not None:
            self.liveliness.asserted(now)
        if not heartbeat:
            return []
        first = self.history.min_seq()
        actions: list[Action] = []
        for proxy in self.readers.values():
            self.heartbeat_count += 1
            if proxy.synced or not proxy.reliable:
                lo, hi = (self.last_seq + 1 if first is None else first), self.last_seq
            else:  # an unsynced reader hears only the pre-data range (see the module doc)
                lo, hi = proxy.start_seq, proxy.start_seq - 1
            hb = wire.Heartbeat(reader_id=proxy.entity_id, writer_id=self.entity_id,
                                first_sn=lo, last_sn=hi, count=self.heartbeat_count,
                                final=True, liveliness=True)
            actions.append(Send(proxy.prefix, proxy.locators, (hb,)))
        return actions

    def is_acked_by_all(self, seq: int) -> bool:
        """Has every reliable matched reader acknowledged ``seq``? (wait_for_acknowledgments)"""
        return self.acked_all >= seq

    def handle_acknack(self, src_prefix: wire.GuidPrefix, msg: wire.AckNack,
                       now: float) -> list[Action]:
        proxy = self.readers.get(src_prefix + msg.reader_id)  # type: ignore[call-overload]
        if proxy is None or not proxy.reliable:
            self.counters["acknack_unknown_reader"] += 1
            return []
        state = msg.reader_sn_state
        preemptive = state.base == 1 and not state.numbers
        if msg.count <= proxy.last_acknack_count:
            if not preemptive and now - proxy.last_acknack_at < COUNT_RESYNC:
                self.counters["acknack_stale"] += 1
                return []
            self.counters["acknack_count_resync"] += 1
        proxy.last_acknack_count = msg.count
        proxy.last_acknack_at = now
        if preemptive and proxy.acked >= proxy.start_seq:
            return self._restart_session(proxy, msg.count, now)
        was_synced = proxy.synced
        if msg.final:
            # the reader wants no heartbeat: it has processed one of ours, and until now every
            # heartbeat to it was the pre-data one, so it knows where its session starts
            proxy.synced = True
        if state.base > self.last_seq + 1:
            # it acknowledges changes never written: its state of us was skipped ahead by a
            # forged GAP or HEARTBEAT. Take nothing from it (what it never got stays here to
            # repair) and tell it where we really are, which makes it undo the skip
            self.counters["acknack_beyond_written"] += 1
            return [Send(proxy.prefix, proxy.locators, (self._heartbeat(proxy, final=False),))]
        base = state.base
        actions: list[Action] = []
        progressed = base - 1 > proxy.acked
        if progressed:
            proxy.acked = base - 1
            if proxy.highest_sent < proxy.acked:
                proxy.highest_sent = proxy.acked
            proxy.requested = {s for s in proxy.requested if s > base - 1}
            for s in [s for s in proxy.resent_at if s <= base - 1]:
                del proxy.resent_at[s]
            for s in [s for s in proxy.requested_frags if s <= base - 1]:
                del proxy.requested_frags[s]
            for s in [s for s in proxy.whole_resends if s <= base - 1]:
                del proxy.whole_resends[s]
            actions.extend(self._acked_all_moved())
        # what came before the reader joined is irrelevant to it: that is answered with GAP
        # even though it counts as acknowledged (the GAP sent at matching may have arrived
        # before the reader knew this writer, and was then dropped)
        wanted = [s for s in state.members()
                  if (proxy.acked < s or s < proxy.start_seq) and s <= self.last_seq]
        if wanted:
            if progressed:
                proxy.resend_backoff = 0.0
            elif any(s in proxy.resent_at for s in wanted):  # asks again, acknowledges nothing
                lo, hi = RESEND_BACKOFF
                proxy.resend_backoff = min(hi, max(lo, 2 * proxy.resend_backoff))
            proxy.requested.update(wanted)
            self._schedule_nack_response(proxy, now)
        elif proxy.nack_deadline is None and (
                not msg.final or (proxy.synced and not was_synced and proxy.acked < self.last_seq)):
            # the reader asked for a heartbeat (Final clear), or just became synced and has
            # changes to learn about: tell it now rather than one heartbeat period later
            hb = self._heartbeat(proxy, final=proxy.synced and proxy.acked >= self.last_seq)
            actions.append(Send(proxy.prefix, proxy.locators, (hb,)))
        if proxy.synced and not was_synced and \
                not any(self._needs_heartbeat(p) for p in self.readers.values()):
            self.heartbeat_deadline = None  # it was only waiting for this reader to answer
        if proxy.nack_deadline is not None and proxy.nack_deadline <= now:
            actions.extend(self._answer_requests(proxy, now))
        return actions

    def _restart_session(self, proxy: ReaderProxy, count: int, now: float) -> list[Action]:
        """A reader that had acknowledged changes sent a pre-emptive ACKNACK: it has lost its
        state of this writer (a new proxy of us after rediscovery). Match it afresh, so a
        TRANSIENT_LOCAL one gets the history again and every one the session start-up."""
        self.counters["reader_session_restarted"] += 1
        del self.readers[proxy.guid]
        actions = self.add_reader(proxy.guid, proxy.locators, True, proxy.expects_inline_qos,
                                  proxy.durability, now)
        fresh = self.readers[proxy.guid]
        fresh.last_acknack_count, fresh.last_acknack_at = count, now
        return actions

    def handle_nackfrag(self, src_prefix: wire.GuidPrefix, msg: wire.NackFrag,
                        now: float) -> list[Action]:
        proxy = self.readers.get(src_prefix + msg.reader_id)  # type: ignore[call-overload]
        if proxy is None or not proxy.reliable:
            self.counters["nackfrag_unknown_reader"] += 1
            return []
        if msg.count <= proxy.last_nackfrag_count and \
                now - proxy.last_nackfrag_at < COUNT_RESYNC:
            self.counters["nackfrag_stale"] += 1
            return []
        proxy.last_nackfrag_count = msg.count
        proxy.last_nackfrag_at = now
        seq = msg.writer_sn
        if seq <= proxy.acked or seq > self.last_seq:
            return []
        frags = list(msg.fragment_number_state.members())
        if frags:
            proxy.requested_frags.setdefault(seq, set()).update(frags)
            self._schedule_nack_response(proxy, now)
        if proxy.nack_deadline is not None and proxy.nack_deadline <= now:
            return self._answer_requests(proxy, now)
        return []

    # -- timers -----------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        deadline = self.heartbeat_deadline
        for proxy in self.readers.values():
            d = proxy.nack_deadline
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        for tracker in (self.deadline, self.liveliness, self.lifespan):
            if tracker is not None:
                d = tracker.next_timer()
                if d is not None and (deadline is None or d < deadline):
                    deadline = d
        return deadline

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.deadline is not None:
            actions += self.deadline.handle_timer(now)
        if self.liveliness is not None:
            actions += self.liveliness.handle_timer(now)
        if self.lifespan is not None:
            self.counters["lifespan_expired"] += self.lifespan.expire(now, self.history)
        for proxy in self.readers.values():
            if proxy.nack_deadline is not None and proxy.nack_deadline <= now:
                actions.extend(self._answer_requests(proxy, now))
        if self.heartbeat_deadline is not None and self.heartbeat_deadline <= now:
            self.heartbeat_deadline = None
            unacked = [p for p in self.readers.values() if self._needs_heartbeat(p)]
            for proxy in unacked:
                actions.append(Send(proxy.prefix, proxy.locators,
                                    (self._heartbeat(proxy, final=False),)))
            if unacked:
                self.heartbeat_deadline = now + self.config.heartbeat_period
        return actions

    # -- internals --------------------------------------------------------------------------
    def _arm_heartbeat(self, now: float) -> None:
        if self.heartbeat_deadline is None:
            self.heartbeat_deadline = now + self.config.heartbeat_period

    def _schedule_nack_response(self, proxy: ReaderProxy, now: float) -> None:
        if proxy.nack_deadline is None:
            proxy.nack_deadline = now + self.config.nack_response_delay

    def _needs_heartbeat(self, proxy: ReaderProxy) -> bool:
        return proxy.reliable and (proxy.acked < self.last_seq or not proxy.synced)

    def _pre_data_heartbeat(self, proxy: ReaderProxy) -> wire.Heartbeat:
        """``[start_seq, start_seq - 1]``: nothing newer than what existed at matching."""
        self.heartbeat_count += 1
        return wire.Heartbeat(reader_id=proxy.entity_id, writer_id=self.entity_id,
                              first_sn=proxy.start_seq, last_sn=proxy.start_seq - 1,
                              count=self.heartbeat_count, final=False)

    def _heartbeat(self, proxy: ReaderProxy, final: bool) -> wire.Heartbeat:
        if not proxy.synced:
            proxy.sent_since_heartbeat = 0
            return self._pre_data_heartbeat(proxy)
        self.heartbeat_count += 1
        proxy.sent_since_heartbeat = 0
        first = self.history.min_seq()
        if first is None:
            first = self.last_seq + 1
        return wire.Heartbeat(reader_id=proxy.entity_id, writer_id=self.entity_id,
                              first_sn=first, last_sn=self.last_seq,
                              count=self.heartbeat_count, final=final)

    def _gap_range(self, proxy: ReaderProxy, first: int, last: int) -> wire.Gap:
        """A GAP declaring ``first..last`` irrelevant to ``proxy``."""
        return wire.Gap(reader_id=proxy.entity_id, writer_id=self.entity_id,
                        gap_start=first, gap_list=wire.SequenceNumberSet(last + 1, ()))

    def _inline_qos(self, change: CacheChange) -> wire.InlineQos | None:
        if change.key_hash is None and not change.status_info:
            return None
        return wire.InlineQos(key_hash=change.key_hash,
                              status_info=change.status_info or None)

    def _append_change(self, subs: list, proxy: ReaderProxy, change: CacheChange,
                       fragments: set[int] | None = None, qos: Any = False) -> None:
        """Append the submessages carrying ``change`` (all of it, or some fragments) to subs.

        ``qos``: the change's inline QoS if the caller already built it (write() builds it
        once for all readers).
        """
        if change.timestamp is not None:
            subs.append(wire.InfoTs(change.timestamp))
        payload = change.payload
        if qos is False:
            qos = self._inline_qos(change)
        key_only = bool(change.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED))
        fsize = self.config.fragment_size
        if payload is None or len(payload) <= fsize:
            subs.append(wire.Data(reader_id=proxy.entity_id, writer_id=self.entity_id,
                                  writer_sn=change.seq, inline_qos=qos,
                                  serialized_payload=payload, key_only=key_only))
            return
        size = len(payload)
        total = fragment_count(size, fsize)
        numbers = range(1, total + 1) if fragments is None else sorted(
            n for n in fragments if 1 <= n <= total)
        for num in numbers:
            subs.append(wire.DataFrag(
                reader_id=proxy.entity_id, writer_id=self.entity_id,
                writer_sn=change.seq, fragment_starting_num=num, fragments_in_submessage=1,
                fragment_size=fsize, sample_size=size,
                inline_qos=qos if num == 1 else None,
                serialized_payload=fragment_slice(payload, num, 1, fsize), key_only=key_only))

    def _answer_requests(self, proxy: ReaderProxy, now: float) -> list[Action]:
        """Resend what ``proxy`` asked for; GAP what is gone or was never relevant to it."""
        proxy.nack_deadline = None
        subs: list = []
        gaps: list[int] = []
        suppress = max(self.config.nack_suppression_duration, proxy.resend_backoff)
        for seq in sorted(proxy.requested):
            if proxy.start_seq <= seq <= proxy.acked:
                continue
            change = self.history.get(seq) if seq >= proxy.start_seq else None
            if change is None:
                gaps.append(seq)
                continue
            last = proxy.resent_at.get(seq)
            if suppress and last is not None and now - last < suppress:
                self.counters["resend_suppressed"] += 1
                continue
            if change.payload is not None and len(change.payload) > self.config.fragment_size:
                times = proxy.whole_resends[seq] = proxy.whole_resends.get(seq, 0) + 1
                if times > MAX_WHOLE_RESENDS:
                    self._give_up(proxy, seq, len(change.payload))
                    gaps.append(seq)
                    continue
            proxy.resent_at[seq] = now
            self._append_change(subs, proxy, change)
            self.counters["resent"] += 1
        proxy.requested.clear()
        for seq, frags in sorted(proxy.requested_frags.items()):
            proxy.whole_resends.pop(seq, None)  # it takes fragments: it is making progress
            change = self.history.get(seq) if seq >= proxy.start_seq else None
            if change is None:
                gaps.append(seq)
                continue
            self._append_change(subs, proxy, change, frags)
            self.counters["resent_fragments"] += len(frags)
        proxy.requested_frags.clear()
        if gaps:
            subs[:0] = self._gaps(proxy, sorted(set(gaps)))
            self.counters["gapped"] += len(gaps)
        if not subs:
            return []
        # no piggy-backed HEARTBEAT: the reader would answer it at once and NACK again what is
        # still in flight; the periodic heartbeat asks for the next round instead
        self._arm_heartbeat(now)
        return [Send(proxy.prefix, proxy.locators, tuple(subs))]

    def _give_up(self, proxy: ReaderProxy, seq: int, size: int) -> None:
        """A reader asked for fragmented change ``seq`` whole again and again and never took
        a fragment: most likely larger than it accepts. A GAP ends its wait, rather than
        resending for ever; counted ``resends_given_up`` and said in the log."""
        self.counters["resends_given_up"] += 1
        proxy.whole_resends.pop(seq, None)
        log.warning("writer %s: reader %s asked for sample %d (%d bytes) %d times and took "
                    "none of its fragments (more than it accepts?): given up for it",
                    bytes(self.guid).hex(), bytes(proxy.guid).hex(), seq, size,
                    MAX_WHOLE_RESENDS)

    def _gaps(self, proxy: ReaderProxy, seqs: list[int]) -> list[wire.Gap]:
        """GAP submessages covering ``seqs`` (sorted): a run, then a bitmap of stragglers."""
        out: list[wire.Gap] = []
        i = 0
        while i < len(seqs):
            start = seqs[i]
            j = i
            while j + 1 < len(seqs) and seqs[j + 1] == seqs[j] + 1:
                j += 1
            base = seqs[j] + 1
            k = j + 1
            while k < len(seqs) and seqs[k] < base + _SET_SPAN:
                k += 1
            out.append(wire.Gap(reader_id=proxy.entity_id, writer_id=self.entity_id,
                                gap_start=start,
                                gap_list=wire.SequenceNumberSet(base, tuple(seqs[j + 1:k]))))
            i = k
        return out

    def _recompute_acked_all(self) -> int:
        reliable = [p.acked for p in self.readers.values() if p.reliable]
        self.acked_all = min(reliable) if reliable else self.last_seq
        return self.acked_all

    def _acked_all_moved(self) -> list[Action]:
        before = self.acked_all
        after = self._recompute_acked_all()
        if after <= before:
            return []
        if after >= self.last_seq and not any(not p.synced and p.reliable
                                               for p in self.readers.values()):
            self.heartbeat_deadline = None  # nothing left to ask acknowledgements for
        if self.config.durability == "volatile":
            self.history.remove_up_to(after)
        return [Acknowledged(self.guid, after)]


class StatelessWriter(StatefulWriter):
    """A best-effort writer: pushes each change once, never waits, never repairs."""

    def __init__(self, guid: wire.Guid, config: WriterConfig | None = None) -> None:
        cfg = config or WriterConfig(reliable=False)
        if cfg.reliable:
            cfg = WriterConfig(False, cfg.durability, cfg.history, cfg.heartbeat_period,
                               cfg.nack_response_delay, cfg.nack_suppression_duration,
                               cfg.fragment_size, cfg.heartbeat_every)
        super().__init__(guid, cfg)
