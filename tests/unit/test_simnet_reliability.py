"""End-to-end reliability over the simulated network (real RTPS bytes, virtual time)."""

from __future__ import annotations

import itertools
import random
import tracemalloc
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire
from rtbus.rtps.actions import Sample
from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED, HistoryQos
from rtbus.rtps.instances import InstanceState
from rtbus.rtps.reader import BestEffortReader, ReaderConfig, StatefulReader
from rtbus.rtps.writer import StatefulWriter, WouldBlock, WriterConfig, Written
from tests.support.simnet import LinkConditions, SimNetwork, SimParticipant

KEYS = [bytes([k]) * 16 for k in range(1, 4)]


def writer_eid(n: int = 1) -> wire.EntityId:
    return wire.EntityId(bytes([0, 0, n]), 0x02)  # user-defined writer with key


def reader_eid(n: int = 1) -> wire.EntityId:
    return wire.EntityId(bytes([0, 0, n]), 0x07)  # user-defined reader with key


def cdr(body: bytes) -> bytes:
    """A serialized payload as a real writer makes it: CDR_LE header, padded to 4 bytes, the
    padding recorded in the options (the receiver sees the DATA's alignment padding)."""
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


def uncdr(payload: bytes | memoryview) -> bytes:
    raw = bytes(payload)
    return raw[4:len(raw) - (raw[3] & 3)]


class Pair:
    """One writer on participant ``a``, readers on participants ``b``, ``c``..."""

    def __init__(self, net: SimNetwork, wcfg: WriterConfig) -> None:
        self.net = net
        self.a = net.add_participant()
        self.w = self.a.add_writer(StatefulWriter(wire.Guid(self.a.prefix, writer_eid()), wcfg))
        self.readers: list[tuple[SimParticipant, StatefulReader]] = []

    def add_reader(self, rcfg: ReaderConfig, best_effort_class: bool = False,
                   ) -> tuple[SimParticipant, StatefulReader]:
        p = self.net.add_participant()
        cls = BestEffortReader if best_effort_class else StatefulReader
        r = p.add_reader(cls(wire.Guid(p.prefix, reader_eid(len(self.readers) + 1)), rcfg))
        now = self.net.now
        self.a.perform(self.w.add_reader(r.guid, [p.locator], reliable=rcfg.reliable,
                                         durability=rcfg.durability, now=now))
        p.perform(r.add_writer(self.w.guid, [self.a.locator], reliable=self.w.config.reliable,
                               now=now), r)
        self.readers.append((p, r))
        return p, r

    def write(self, payload: bytes | None, key: bytes | None = None, status: int = 0,
              ) -> Written:
        res = self.w.write(None if payload is None else cdr(payload), key, status,
                           timestamp=int(self.net.now * 1e9), now=self.net.now)
        assert isinstance(res, Written), res
        self.a.perform(res.actions)
        return res

    def delivered(self, i: int = 0) -> list[Sample]:
        p, r = self.readers[i]
        return p.delivered[r.guid.entity_id]

    def payloads(self, i: int = 0) -> list[bytes]:
        return [uncdr(s.payload) for s in self.delivered(i) if s.payload is not None]

    def settle(self, limit: float = 120.0) -> None:
        """Run until every reliable reader acknowledged everything written (or time runs out)."""
        w = self.w
        self.net.run(stop=lambda: w.is_acked_by_all(w.last_seq), until=self.net.now + limit)
        assert w.is_acked_by_all(w.last_seq), (w.readers, dict(self.net.stats))


def transfer(seed: int, n: int, cond: LinkConditions, interval: float = 0.0005) -> Pair:
    net = SimNetwork(seed=seed, conditions=cond)
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    pair.add_reader(ReaderConfig(history=HistoryQos("keep_all")))
    for i in range(n):
        pair.write(b"sample %d" % i)
        net.run(until=net.now + interval)
    pair.settle()
    return pair


@pytest.mark.parametrize("loss", [0.0, 0.1, 0.3])
def test_reliable_1000_samples_exactly_once_in_order(loss: float) -> None:
    pair = transfer(seed=7, n=1000, cond=LinkConditions(loss=loss, duplicate=0.05, reorder=0.1))
    assert pair.payloads() == [b"sample %d" % i for i in range(1000)]
    seqs = [s.info.sequence_number for s in pair.delivered()]
    assert seqs == list(range(1, 1001))
    if loss:
        assert pair.net.stats["datagrams_lost"] > 0
        assert pair.w.counters["resent"] > 0
    assert len(pair.w.history) == 0  # volatile writer: acknowledged changes are dropped


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), loss=st.floats(0.0, 0.5), dup=st.floats(0.0, 0.3),
       reorder=st.floats(0.0, 0.5), jitter=st.floats(0.0, 0.01), n=st.integers(1, 150))
def test_random_network_faults_never_lose_duplicate_or_reorder(
        seed: int, loss: float, dup: float, reorder: float, jitter: float, n: int) -> None:
    pair = transfer(seed, n, LinkConditions(loss=loss, duplicate=dup, reorder=reorder,
                                            jitter=jitter))
    assert pair.payloads() == [b"sample %d" % i for i in range(n)]


def test_counts_on_the_wire_strictly_increase_per_sender() -> None:
    net = SimNetwork(seed=3, conditions=LinkConditions(loss=0.2))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    pair.add_reader(ReaderConfig())
    seen: dict[tuple[str, Any], list[int]] = defaultdict(list)

    def record(p: SimParticipant, src: Any, sub: Any) -> None:
        if isinstance(sub, (wire.Heartbeat, wire.AckNack, wire.NackFrag)):
            seen[(type(sub).__name__, src)].append(sub.count)

    for p in net.participants:
        p.on_submessage = record
    for i in range(300):
        pair.write(bytes(3000) if i % 50 == 0 else b"x%d" % i)
        net.run(until=net.now + 0.001)
    pair.settle()
    # loss but no reordering or duplication: arrival order is send order
    assert {name for name, _ in seen} >= {"Heartbeat", "AckNack"}
    for counts in seen.values():
        assert all(a < b for a, b in itertools.pairwise(counts)), counts
    assert seen[("Heartbeat", pair.a.prefix)][-1] <= pair.w.heartbeat_count
    reader_proxy = pair.readers[0][1].writers[pair.w.guid]
    assert seen[("AckNack", pair.readers[0][0].prefix)][-1] <= reader_proxy.acknack_count
    assert pair.payloads() == [(bytes(3000) if i % 50 == 0 else b"x%d" % i) for i in range(300)]


@pytest.mark.parametrize("size", [1 << 20, 8 << 20])
def test_large_samples_reassembled_exactly_under_loss(size: int) -> None:
    net = SimNetwork(seed=11, conditions=LinkConditions(loss=0.1))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    p, _ = pair.add_reader(ReaderConfig())
    payload = random.Random(size).randbytes(size)
    pair.write(payload)
    pair.write(b"small after big")
    pair.settle()
    assert pair.payloads() == [payload, b"small after big"]
    assert p.received_submessages["NackFrag"] == 0  # reader sends them, writer receives them
    assert pair.a.received_submessages["NackFrag"] > 0  # repaired fragment by fragment
    assert pair.w.counters["resent"] == 0  # never the whole sample again
    # repair overhead stays modest: well under twice the payload on the wire
    assert net.stats["bytes_sent"] < 1.5 * size


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), loss=st.floats(0.0, 0.4), reorder=st.floats(0.0, 0.3),
       fragment_size=st.integers(64, 4000),
       sizes=st.lists(st.integers(1, 60_000), min_size=1, max_size=6))
def test_random_fragmented_samples_survive_faults(seed: int, loss: float, reorder: float,
                                                  fragment_size: int,
                                                  sizes: list[int]) -> None:
    net = SimNetwork(seed=seed, conditions=LinkConditions(loss=loss, reorder=reorder,
                                                          duplicate=0.05))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all"), fragment_size=fragment_size))
    pair.add_reader(ReaderConfig())
    rng = random.Random(seed)
    bodies = [rng.randbytes(n) for n in sizes]
    for body in bodies:
        pair.write(body)
    pair.settle()
    assert pair.payloads() == bodies


def test_hostile_4gib_data_frag_allocates_nothing_big() -> None:
    net = SimNetwork(seed=1)
    pair = Pair(net, WriterConfig())
    p, r = pair.add_reader(ReaderConfig())
    hostile = wire.DataFrag(reader_id=r.guid.entity_id, writer_id=pair.w.guid.entity_id,
                            writer_sn=1, fragment_starting_num=1, fragments_in_submessage=1,
                            fragment_size=1344, sample_size=0xFFFF_FFFF,
                            serialized_payload=bytes(1344))
    builder = wire.MessageBuilder(pair.a.prefix)
    builder.add(hostile)
    datagram = builder.build()
    tracemalloc.start()
    try:
        for _ in range(50):
            p.receive(datagram)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert r.writers[pair.w.guid].reassembler.dropped["sample_too_large"] == 50
    # and the stream still works for honest data afterwards
    pair.write(b"honest")
    pair.settle()
    assert pair.payloads() == [b"honest"]


def test_transient_local_late_joiner_gets_last_n_per_instance() -> None:
    net = SimNetwork(seed=5, conditions=LinkConditions(loss=0.2))
    pair = Pair(net, WriterConfig(durability="transient_local",
                                  history=HistoryQos("keep_last", depth=2)))
    for i in range(5):
        for k in KEYS:
            pair.write(b"%d-%d" % (k[0], i), k)
    net.run(until=net.now + 0.5)
    pair.add_reader(ReaderConfig(durability="transient_local",
                                 history=HistoryQos("keep_all")))
    pair.settle()
    got = pair.payloads()
    assert sorted(got) == sorted(b"%d-%d" % (k[0], i) for k in KEYS for i in (3, 4))
    seqs = [s.info.sequence_number for s in pair.delivered()]
    assert seqs == sorted(seqs)
    # new data still flows after the history
    pair.write(b"fresh", KEYS[0])
    pair.settle()
    assert pair.payloads()[-1] == b"fresh"


def test_volatile_late_joiner_gets_nothing_old_and_does_not_wait() -> None:
    net = SimNetwork(seed=6)
    pair = Pair(net, WriterConfig(durability="transient_local",
                                  history=HistoryQos("keep_last", depth=10)))
    for i in range(10):
        pair.write(b"old %d" % i)
    net.run(until=net.now + 0.2)
    _p, r = pair.add_reader(ReaderConfig(durability="volatile"))
    pair.write(b"new")
    pair.settle()
    assert pair.payloads() == [b"new"]
    proxy = r.writers[pair.w.guid]
    assert proxy.next_seq == 12 and not proxy.pending


def test_best_effort_with_loss_delivers_subset_in_order_without_duplicates() -> None:
    net = SimNetwork(seed=9, conditions=LinkConditions(loss=0.3, duplicate=0.2, reorder=0.2))
    pair = Pair(net, WriterConfig(reliable=False))
    p, r = pair.add_reader(ReaderConfig(reliable=False, history=HistoryQos("keep_all")),
                           best_effort_class=True)
    for i in range(500):
        pair.write(b"%d" % i)
        net.run(until=net.now + 0.001)
    net.run(until=net.now + 1.0)
    got = [int(x) for x in pair.payloads()]
    assert 0 < len(got) < 500
    assert got == sorted(set(got))
    assert r.counters["old_or_duplicate"] > 0
    assert p.lost[pair.w.guid] + len(got) == got[-1] + 1
    assert p.sent_submessages["AckNack"] == 0


def test_keep_last_writer_gaps_replaced_changes() -> None:
    """A reader that lost samples the writer no longer has is told, not left waiting."""
    net = SimNetwork(seed=4)
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_last", depth=1),
                                  heartbeat_period=0.05))
    p, r = pair.add_reader(ReaderConfig(history=HistoryQos("keep_all")))
    pair.write(b"first")
    pair.settle()
    net.drop_filter = lambda src, dst, dg: src is pair.a  # writer -> reader blackout
    for i in range(1, 20):
        pair.write(b"%d" % i)
    net.run(until=net.now + 0.01)
    net.drop_filter = None
    pair.settle()
    assert pair.payloads() == [b"first", b"19"]
    assert p.lost[pair.w.guid] == 18  # 2..19 replaced in the writer's history before repair
    assert r.writers[pair.w.guid].next_seq == 21


def test_keep_all_writer_blocks_when_full_until_acknowledged() -> None:
    net = SimNetwork(seed=2)
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all", max_samples=5)))
    pair.add_reader(ReaderConfig(history=HistoryQos("keep_all")))
    for i in range(5):
        pair.write(b"%d" % i)
    blocked = pair.w.write(b"5", now=net.now)
    assert isinstance(blocked, WouldBlock) and blocked.reason.limit == "max_samples"
    pair.settle()
    assert pair.a.acknowledged[pair.w.guid] == 5
    pair.write(b"5")
    pair.settle()
    assert pair.payloads() == [b"%d" % i for i in range(6)]


def test_keep_all_reader_full_pushes_back_and_resumes_on_take() -> None:
    net = SimNetwork(seed=2, conditions=LinkConditions(loss=0.1))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    p, r = pair.add_reader(ReaderConfig(history=HistoryQos("keep_all", max_samples=10)))
    for i in range(40):
        pair.write(b"%d" % i)
    net.run(until=net.now + 2.0)
    assert len(r.history) == 10
    assert not pair.w.is_acked_by_all(40) or r.writers[pair.w.guid].pending
    taken: list[bytes] = []
    while len(taken) < 40:
        samples, actions = r.take(now=net.now)
        p.perform(actions, r)
        taken.extend(uncdr(s.payload) for s in samples if s.payload is not None)
        net.run(until=net.now + 0.5)
    assert taken == [b"%d" % i for i in range(40)]
    assert not p.rejected


def test_dispose_unregister_and_writer_loss_reach_the_reader() -> None:
    net = SimNetwork(seed=8, conditions=LinkConditions(loss=0.2))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    p, r = pair.add_reader(ReaderConfig(history=HistoryQos("keep_all")))
    k1, k2 = KEYS[0], KEYS[1]
    pair.write(b"a", k1)
    pair.write(b"b", k2)
    pair.write(None, k1, STATUS_DISPOSED)  # key-hash-only dispose
    pair.write(None, k2, STATUS_UNREGISTERED)
    pair.write(b"a2", k1)
    pair.settle()
    states = [(s.key_hash, s.info.valid_data, s.info.instance_state) for s in pair.delivered()]
    assert states == [
        (k1, True, InstanceState.ALIVE),
        (k2, True, InstanceState.ALIVE),
        (k1, False, InstanceState.NOT_ALIVE_DISPOSED),
        (k2, False, InstanceState.NOT_ALIVE_NO_WRITERS),
        (k1, True, InstanceState.ALIVE),
    ]
    assert pair.delivered()[-1].info.disposed_generation_count == 1
    p.perform(r.remove_writer(pair.w.guid, now=net.now), r)
    last = pair.delivered()[-1]
    assert (last.key_hash, last.info.valid_data, last.info.instance_state) == \
        (k1, False, InstanceState.NOT_ALIVE_NO_WRITERS)


def test_two_readers_one_slow_one_lossy_both_complete() -> None:
    net = SimNetwork(seed=12, conditions=LinkConditions(loss=0.15, reorder=0.1))
    pair = Pair(net, WriterConfig(history=HistoryQos("keep_all")))
    pair.add_reader(ReaderConfig())
    pair.add_reader(ReaderConfig(heartbeat_response_delay=0.02))
    for i in range(200):
        pair.write(b"%d" % i)
    pair.settle()
    want = [b"%d" % i for i in range(200)]
    assert pair.payloads(0) == want and pair.payloads(1) == want


def test_simnet_runs_are_repeatable() -> None:
    cond = LinkConditions(loss=0.2, duplicate=0.1, reorder=0.2, jitter=0.002)

    def trace(seed: int) -> tuple[dict, list[float]]:
        pair = transfer(seed, 200, cond)
        return dict(pair.net.stats), [s.info.reception_timestamp for s in pair.delivered()]

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_late_joiner_gets_fragmented_history_under_loss_next_to_best_effort_reader() -> None:
    net = SimNetwork(seed=21, conditions=LinkConditions(loss=0.15, reorder=0.1))
    pair = Pair(net, WriterConfig(durability="transient_local", fragment_size=500,
                                  history=HistoryQos("keep_last", depth=1)))
    rng = random.Random(3)
    bodies = {k: rng.randbytes(5000 + 700 * i) for i, k in enumerate(KEYS)}
    for k, body in bodies.items():
        pair.write(b"old", k)
        pair.write(body, k)
    pair.add_reader(ReaderConfig(reliable=False, history=HistoryQos("keep_all")),
                    best_effort_class=True)
    pair.add_reader(ReaderConfig(durability="transient_local", history=HistoryQos("keep_all")))
    pair.write(b"live", KEYS[0])
    pair.settle()
    assert sorted(pair.payloads(1)) == sorted([*bodies.values(), b"live"])
    assert pair.payloads(1)[-1] == b"live"
    assert set(pair.payloads(0)) <= {b"live"}  # best effort + volatile: nothing old


def test_volatile_reader_that_matches_after_the_writer_gets_old_changes_gapped() -> None:
    # The writer matches first and sends its initial GAP before the reader knows the writer,
    # so the reader drops it; the writer's heartbeats then announce its TRANSIENT_LOCAL history
    # from sequence number 1 and the reader NACKs what it never got. Those changes predate
    # the reader: the writer must GAP them (they count as acknowledged), or the reader waits
    # for them forever and delivers nothing (seen with two shape_main processes).
    net = SimNetwork(seed=7)
    pair = Pair(net, WriterConfig(durability="transient_local",
                                  history=HistoryQos("keep_last", depth=20)))
    for i in range(10):
        pair.write(b"old %d" % i)
    p = net.add_participant()
    r = p.add_reader(StatefulReader(wire.Guid(p.prefix, reader_eid(1)),
                                    ReaderConfig(durability="volatile")))
    pair.readers.append((p, r))
    pair.a.perform(pair.w.add_reader(r.guid, [p.locator], reliable=True,
                                     durability="volatile", now=net.now))
    net.run(until=net.now + 0.05)  # the GAP arrives and is dropped: writer unknown
    pair.write(b"new 1")
    net.run(until=net.now + 0.05)
    p.perform(r.add_writer(pair.w.guid, [pair.a.locator], reliable=True, now=net.now), r)
    pair.write(b"new 2")
    pair.settle()
    net.run(until=net.now + 1.0)
    assert pair.payloads() == [b"new 2"] or pair.payloads() == [b"new 1", b"new 2"]
    proxy = r.writers[pair.w.guid]
    assert proxy.next_seq == 13 and not proxy.pending
