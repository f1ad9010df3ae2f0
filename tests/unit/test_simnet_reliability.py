"""End-to-end reliability between whole participants over the simulated network.

Every participant is a real ParticipantCore on tests.support.simnet (tests.support.simcore):
the writer and its readers are created through the core's API and find each other through its
own SPDP and SEDP in virtual time, and every byte between them is a real RTPS datagram the
network may lose, duplicate or reorder. Readers keep all they get, so taking at the end sees
every sample delivered, in delivery order (their history's order).
"""

from __future__ import annotations

import itertools
import random
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import Acknowledged, ReceivedSample, SampleRejected, SamplesLost
from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.instances import InstanceState, SampleState
from rtbus.rtps.participant import ParticipantCore, ReaderStatusChange
from rtbus.rtps.reader import Selection, StatefulReader, WriterProxy
from rtbus.rtps.sedp import EndpointUnmatched
from rtbus.rtps.writer import MAX_WHOLE_RESENDS, StatefulWriter, WouldBlock, Written
from tests.support.simcore import SimCore, submessages
from tests.support.simnet import LinkConditions, Node, SimNetwork

KEYS = [bytes([k]) * 16 for k in range(1, 4)]
TOPIC, TYPE = "Reliability", "Blob"
MATCH_WITHIN = 60.0  # s of virtual time discovery may take (it is reliable: loss delays it)


def cdr(body: bytes) -> bytes:
    """A serialized payload as a real writer makes it: CDR_LE header, padded to 4 bytes, the
    padding recorded in the options (the receiver sees the DATA's alignment padding)."""
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


def uncdr(payload: bytes | memoryview) -> bytes:
    raw = bytes(payload)
    return raw[4:len(raw) - (raw[3] & 3)]


def qos(reliability: str = "reliable", durability: str = "volatile",
        history: tuple[str, int] | str = "keep_all", max_samples: int = -1) -> Qos:
    return Qos(reliability=reliability, durability=durability,  # type: ignore[arg-type]
               history=history, resource_limits=(max_samples, -1, -1))


def tune(core: ParticipantCore, guid: wire.Guid, **changes: Any) -> None:
    """Protocol tuning the core does not expose (it creates endpoints with the defaults):
    replaces fields of the endpoint's WriterConfig / ReaderConfig, read as it runs."""
    ep = core.writers.get(guid.entity_id) or core.readers[guid.entity_id]
    ep.core.config = replace(ep.core.config, **changes)


class Pair:
    """One writer on participant ``a`` (10.0.0.1), one reader on each of ``b``, ``c``..."""

    def __init__(self, net: SimNetwork, wqos: Qos, fragment_size: int | None = None,
                 **tuning: Any) -> None:
        self.net = net
        self.a = SimCore(net, 1, type_lookup=False)
        self.w = self.a.core.add_writer(TOPIC, TYPE, wqos, True, net.now,
                                        fragment_size=fragment_size)
        if tuning:
            tune(self.a.core, self.w, **tuning)
        self.a.drain()
        self.readers: list[tuple[SimCore, wire.Guid]] = []
        self._taken: list[list[ReceivedSample]] = []

    @property
    def writer(self) -> StatefulWriter:
        return self.a.core.writers[self.w.entity_id].core  # type: ignore[no-any-return]

    def reader(self, i: int = 0) -> StatefulReader:
        p, r = self.readers[i]
        return p.core.readers[r.entity_id].core  # type: ignore[no-any-return]

    def proxy(self, i: int = 0) -> WriterProxy:
        """Reader ``i``'s state of the writer."""
        return self.reader(i).writers[self.w]

    def join(self, rqos: Qos, **tuning: Any) -> tuple[SimCore, wire.Guid]:
        """A new participant with a reader; discovery starts but is not waited for."""
        p = SimCore(self.net, len(self.readers) + 2, type_lookup=False)
        r = p.core.add_reader(TOPIC, TYPE, rqos, True, self.net.now)
        if tuning:
            tune(p.core, r, **tuning)
        p.drain()
        self.readers.append((p, r))
        self._taken.append([])
        return p, r

    def matched(self, i: int) -> bool:
        r = self.readers[i][1]
        return r in self.writer.readers and self.w in self.reader(i).writers

    def add_reader(self, rqos: Qos, **tuning: Any) -> tuple[SimCore, wire.Guid]:
        """A new participant with a reader, once it and the writer have matched each other."""
        p, r = self.join(rqos, **tuning)
        i = len(self.readers) - 1
        self.net.run(stop=lambda: self.matched(i), until=self.net.now + MATCH_WITHIN)
        assert self.matched(i), dict(self.net.stats)
        return p, r

    def write(self, payload: bytes | None, key: bytes | None = None, status: int = 0,
              ) -> Written:
        now = self.net.now
        res = self.a.core.write(self.w, None if payload is None else cdr(payload), key, status,
                                int(now * 1e9), now)
        assert isinstance(res, Written), res
        self.a.drain()
        return res

    def delivered(self, i: int = 0) -> list[ReceivedSample]:
        """Every sample reader ``i`` delivered so far, in order (taken as they come)."""
        p, r = self.readers[i]
        self._taken[i] += p.core.take(r, None, self.net.now)
        p.drain()
        return self._taken[i]

    def payloads(self, i: int = 0) -> list[bytes]:
        return [uncdr(s.payload) for s in self.delivered(i) if s.payload is not None]

    def statuses(self, i: int, kind: type) -> list[Any]:
        """Reader ``i``'s SAMPLE_LOST (SamplesLost) or SAMPLE_REJECTED inputs so far."""
        p, r = self.readers[i]
        return [e.change for e in p.of(ReaderStatusChange)
                if e.reader_guid == r and isinstance(e.change, kind)]

    def lost(self, i: int = 0) -> int:
        return sum(c.count for c in self.statuses(i, SamplesLost) if c.writer_guid == self.w)

    def settle(self, limit: float = 120.0) -> None:
        """Run until every reliable reader acknowledged everything written (or time runs out)."""
        core, w = self.a.core, self.w
        self.net.run(stop=lambda: core.acked_by_all(w), until=self.net.now + limit)
        assert core.acked_by_all(w), (self.writer.readers, dict(self.net.stats))


def transfer(seed: int, n: int, cond: LinkConditions, interval: float = 0.0005) -> Pair:
    net = SimNetwork(seed=seed, conditions=cond)
    pair = Pair(net, qos())
    pair.add_reader(qos())
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
        assert pair.writer.counters["resent"] > 0
    assert len(pair.writer.history) == 0  # volatile writer: acknowledged changes are dropped


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
    seen: dict[tuple[Any, ...], list[int]] = defaultdict(list)

    def record(src: Node, dst: Node, datagram: bytes) -> None:
        for prefix, sub in submessages(datagram):
            if isinstance(sub, wire.Heartbeat):  # one count per writer
                seen[("Heartbeat", prefix, sub.writer_id)].append(sub.count)
            elif isinstance(sub, (wire.AckNack, wire.NackFrag)):  # one per reader and writer
                seen[(type(sub).__name__, prefix, sub.reader_id, sub.writer_id)].append(sub.count)

    net.tap = record  # every datagram as it arrives, discovery's included
    pair = Pair(net, qos())
    b, r = pair.add_reader(qos())
    for i in range(300):
        pair.write(bytes(3000) if i % 50 == 0 else b"x%d" % i)
        net.run(until=net.now + 0.001)
    pair.settle()
    # loss but no reordering or duplication: arrival order is send order
    w = pair.w
    hb_key = ("Heartbeat", pair.a.prefix, w.entity_id)
    ack_key = ("AckNack", b.prefix, r.entity_id, w.entity_id)
    assert seen[hb_key] and seen[ack_key]
    for counts in seen.values():
        assert all(a < b for a, b in itertools.pairwise(counts)), counts
    assert seen[hb_key][-1] <= pair.writer.heartbeat_count
    assert seen[ack_key][-1] <= pair.proxy().acknack_count
    assert pair.payloads() == [(bytes(3000) if i % 50 == 0 else b"x%d" % i) for i in range(300)]


@pytest.mark.parametrize("size", [1 << 20, 8 << 20])
def test_large_samples_reassembled_exactly_under_loss(size: int) -> None:
    net = SimNetwork(seed=11, conditions=LinkConditions(loss=0.1))
    received: Counter[tuple[Node, str]] = Counter()
    net.tap = lambda src, dst, datagram: received.update(
        (dst, type(sub).__name__) for _, sub in submessages(datagram))
    pair = Pair(net, qos())
    p, _ = pair.add_reader(qos())
    payload = random.Random(size).randbytes(size)
    pair.write(payload)
    pair.write(b"small after big")
    pair.settle()
    assert pair.payloads() == [payload, b"small after big"]
    assert received[(p, "NackFrag")] == 0  # reader sends them, writer receives them
    assert received[(pair.a, "NackFrag")] > 0  # repaired fragment by fragment
    # never the whole large sample again (the small one may be lost and resent whole)
    assert all(1 not in proxy.resent_at for proxy in pair.writer.readers.values())
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
    pair = Pair(net, qos(), fragment_size=fragment_size)
    pair.add_reader(qos())
    rng = random.Random(seed)
    bodies = [rng.randbytes(n) for n in sizes]
    for body in bodies:
        pair.write(body)
    pair.settle()
    assert pair.payloads() == bodies


def test_hostile_4gib_data_frag_allocates_nothing_big() -> None:
    net = SimNetwork(seed=1)
    pair = Pair(net, qos(history=("keep_last", 1)))
    p, r = pair.add_reader(qos())
    hostile = wire.DataFrag(reader_id=r.entity_id, writer_id=pair.w.entity_id,
                            writer_sn=1, fragment_starting_num=1, fragments_in_submessage=1,
                            fragment_size=1344, sample_size=0xFFFF_FFFF,
                            serialized_payload=bytes(1344))
    builder = wire.MessageBuilder(pair.a.prefix)
    builder.add(hostile)
    datagram = builder.build()
    tracemalloc.start()
    try:
        for _ in range(50):
            p.receive(datagram, (pair.a.host, 7411))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert pair.reader().counters["sample_too_large"] == 50  # refused before the reassembler
    # and the stream still works for honest data afterwards
    pair.write(b"honest")
    pair.settle()
    assert pair.payloads() == [b"honest"]


def test_transient_local_late_joiner_gets_last_n_per_instance() -> None:
    net = SimNetwork(seed=5, conditions=LinkConditions(loss=0.2))
    pair = Pair(net, qos(durability="transient_local", history=("keep_last", 2)))
    for i in range(5):
        for k in KEYS:
            pair.write(b"%d-%d" % (k[0], i), k)
    net.run(until=net.now + 0.5)
    pair.add_reader(qos(durability="transient_local"))
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
    pair = Pair(net, qos(durability="transient_local", history=("keep_last", 10)))
    for i in range(10):
        pair.write(b"old %d" % i)
    net.run(until=net.now + 0.2)
    pair.add_reader(qos(durability="volatile"))
    pair.write(b"new")
    pair.settle()
    assert pair.payloads() == [b"new"]
    proxy = pair.proxy()
    assert proxy.next_seq == 12 and not proxy.pending


def test_best_effort_with_loss_delivers_subset_in_order_without_duplicates() -> None:
    net = SimNetwork(seed=9, conditions=LinkConditions(loss=0.3, duplicate=0.2, reorder=0.2))
    acknacks: list[tuple[Node, Any]] = []  # every ACKNACK sent, whoever sent it

    def record(src: Node, dst: Node, datagram: bytes) -> bool:
        acknacks.extend((src, sub) for _, sub in submessages(datagram)
                        if isinstance(sub, wire.AckNack))
        return False  # drops nothing
    net.drop_filter = record
    pair = Pair(net, qos(reliability="best_effort", history=("keep_last", 1)))
    p, r = pair.add_reader(qos(reliability="best_effort"))
    for i in range(500):
        pair.write(b"%d" % i)
        net.run(until=net.now + 0.001)
    net.run(until=net.now + 1.0)
    got = [int(x) for x in pair.payloads()]
    assert 0 < len(got) < 500
    assert got == sorted(set(got))
    assert pair.reader().counters["old_or_duplicate"] > 0
    # a gap counts from the first sample it received (what came before may predate the match)
    assert pair.lost() + len(got) == got[-1] - got[0] + 1
    assert any(src is p for src, _ in acknacks)  # discovery's own, which is reliable
    assert [sub for src, sub in acknacks if src is p and sub.reader_id == r.entity_id] == []


def test_keep_last_writer_gaps_replaced_changes() -> None:
    """A reader that lost samples the writer no longer has is told, not left waiting."""
    net = SimNetwork(seed=4)
    pair = Pair(net, qos(history=("keep_last", 1)), heartbeat_period=0.05)
    pair.add_reader(qos())
    pair.write(b"first")
    pair.settle()
    net.drop_filter = lambda src, dst, dg: src is pair.a  # writer -> reader blackout
    for i in range(1, 20):
        pair.write(b"%d" % i)
    net.run(until=net.now + 0.01)
    net.drop_filter = None
    pair.settle()
    assert pair.payloads() == [b"first", b"19"]
    assert pair.lost() == 18  # 2..19 replaced in the writer's history before repair
    assert pair.proxy().next_seq == 21


def test_keep_all_writer_blocks_when_full_until_acknowledged() -> None:
    net = SimNetwork(seed=2)
    pair = Pair(net, qos(max_samples=5))
    pair.add_reader(qos())
    for i in range(5):
        pair.write(b"%d" % i)
    blocked = pair.a.core.write(pair.w, cdr(b"5"), None, 0, None, net.now)
    assert isinstance(blocked, WouldBlock) and blocked.reason.limit == "max_samples"
    pair.settle()
    assert [e.seq for e in pair.a.of(Acknowledged) if e.writer_guid == pair.w][-1] == 5
    pair.write(b"5")
    pair.settle()
    assert pair.payloads() == [b"%d" % i for i in range(6)]


def test_keep_all_reader_full_pushes_back_and_resumes_on_take() -> None:
    net = SimNetwork(seed=2, conditions=LinkConditions(loss=0.1))
    pair = Pair(net, qos())
    p, r = pair.add_reader(qos(max_samples=10))
    for i in range(40):
        pair.write(b"%d" % i)
    net.run(until=net.now + 2.0)
    assert len(pair.reader().history) == 10
    assert not pair.writer.is_acked_by_all(40) or pair.proxy().pending
    taken: list[bytes] = []
    for _ in range(100):  # each take makes room for at most ten
        if len(taken) >= 40:
            break
        samples = p.core.take(r, None, net.now)
        p.drain()
        taken.extend(uncdr(s.payload) for s in samples if s.payload is not None)
        net.run(until=net.now + 0.5)
    assert taken == [b"%d" % i for i in range(40)]
    assert not pair.statuses(0, SampleRejected)


def test_dispose_unregister_and_writer_loss_reach_the_reader() -> None:
    """Each change is acknowledged before the next is written, so what the reader shows of
    the instance when read (DDS: its state now) is its state after that change."""
    net = SimNetwork(seed=8, conditions=LinkConditions(loss=0.2))
    pair = Pair(net, qos())
    p, r = pair.add_reader(qos())
    k1, k2 = KEYS[0], KEYS[1]
    unread = Selection(sample_states=SampleState.NOT_READ)
    seen: list[ReceivedSample] = []

    def arrives(payload: bytes | None, key: bytes, status: int = 0) -> None:
        pair.write(payload, key, status)
        pair.settle()
        new = p.core.read(r, None, unread)  # read, not take: a taken instance may go
        assert len(new) == 1, new
        seen.extend(new)

    arrives(b"a", k1)
    arrives(b"b", k2)
    arrives(None, k1, STATUS_DISPOSED)  # key-hash-only dispose
    arrives(None, k2, STATUS_UNREGISTERED)
    arrives(b"a2", k1)
    states = [(s.key_hash, s.info.valid_data, s.info.instance_state) for s in seen]
    assert states == [
        (k1, True, InstanceState.ALIVE),
        (k2, True, InstanceState.ALIVE),
        (k1, False, InstanceState.NOT_ALIVE_DISPOSED),
        (k2, False, InstanceState.NOT_ALIVE_NO_WRITERS),
        (k1, True, InstanceState.ALIVE),
    ]
    assert seen[-1].info.disposed_generation_count == 1
    # the writer goes (SEDP tells the reader): the instance it kept alive has no writers
    pair.a.core.remove_endpoint(pair.w, net.now)
    pair.a.drain()
    net.run(stop=lambda: bool(p.of(EndpointUnmatched)), until=net.now + MATCH_WITHIN)
    last = p.core.read(r, None, unread)
    assert [(s.key_hash, s.info.valid_data, s.info.instance_state) for s in last] == \
        [(k1, False, InstanceState.NOT_ALIVE_NO_WRITERS)]


def test_two_readers_one_slow_one_lossy_both_complete() -> None:
    net = SimNetwork(seed=12, conditions=LinkConditions(loss=0.15, reorder=0.1))
    pair = Pair(net, qos())
    pair.add_reader(qos())
    pair.add_reader(qos(), heartbeat_response_delay=0.02)
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
    pair = Pair(net, qos(durability="transient_local", history=("keep_last", 1)),
                fragment_size=500)
    rng = random.Random(3)
    bodies = {k: rng.randbytes(5000 + 700 * i) for i, k in enumerate(KEYS)}
    for k, body in bodies.items():
        pair.write(b"old", k)
        pair.write(body, k)
    pair.add_reader(qos(reliability="best_effort"))
    pair.add_reader(qos(durability="transient_local"))
    # the history reaches the late joiner before "live" replaces KEYS[0]'s body in the
    # writer's KEEP_LAST 1 history: matching takes a SEDP round trip each way here, so a body
    # still being repaired then would be GAP'd, rightly (only the newest per instance is kept)
    pair.settle()
    pair.write(b"live", KEYS[0])
    pair.settle()
    assert sorted(pair.payloads(1)) == sorted([*bodies.values(), b"live"])
    assert pair.payloads(1)[-1] == b"live"
    assert set(pair.payloads(0)) <= {b"live"}  # best effort + volatile: nothing old


def drops_writer_announcements(until: Callable[[], bool]) -> Callable[[Node, Node, bytes], bool]:
    """A drop filter: SEDP publication DATA (what makes a reader know a writer) is lost until
    ``until()`` holds; everything else goes through."""
    pubs = wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER

    def drop(src: Node, dst: Node, datagram: bytes) -> bool:
        return not until() and any(isinstance(sub, wire.Data) and sub.writer_id == pubs
                                   for _, sub in submessages(datagram))
    return drop


def test_volatile_reader_that_matches_after_the_writer_gets_old_changes_gapped() -> None:
    # The writer matches first and sends its initial GAP before the reader knows the writer,
    # so the reader drops it; the writer's heartbeats then announce its TRANSIENT_LOCAL history
    # from sequence number 1 and the reader NACKs what it never got. Those changes predate
    # the reader: the writer must GAP them (they count as acknowledged), or the reader waits
    # for them forever and delivers nothing (seen with two shape_main processes).
    net = SimNetwork(seed=7)
    pair = Pair(net, qos(durability="transient_local", history=("keep_last", 20)))
    for i in range(10):
        pair.write(b"old %d" % i)
    announced = False
    net.drop_filter = drops_writer_announcements(lambda: announced)
    _p, r = pair.join(qos(durability="volatile"))
    net.run(stop=lambda: r in pair.writer.readers, until=net.now + MATCH_WITHIN)
    assert r in pair.writer.readers  # the writer matched the reader ...
    net.run(until=net.now + 0.05)  # the GAP arrives and is dropped: writer unknown
    pair.write(b"new 1")
    net.run(until=net.now + 0.05)
    assert pair.w not in pair.reader().writers  # ... and the reader still knows no writer
    announced = True
    net.run(stop=lambda: pair.matched(0), until=net.now + MATCH_WITHIN)
    assert pair.matched(0)
    pair.write(b"new 2")
    pair.settle()
    net.run(until=net.now + 1.0)
    assert pair.payloads() == [b"new 2"] or pair.payloads() == [b"new 1", b"new 2"]
    proxy = pair.proxy()
    assert proxy.next_seq == 13 and not proxy.pending


def test_a_sample_larger_than_the_reader_accepts_is_given_up_not_resent_for_ever() -> None:
    """The reader drops every fragment of a sample over its max_sample_size and keeps asking
    for it whole; the writer gives it up for that reader after MAX_WHOLE_RESENDS (a GAP), so
    the stream goes on -- before, the writer resent it for ever and nothing said why."""
    net = SimNetwork(seed=21)
    pair = Pair(net, qos(), fragment_size=1000)
    pair.add_reader(qos(), max_sample_size=4000)
    pair.write(bytes(5000))  # 6 fragments (with the encapsulation), over the reader's cap
    pair.write(b"small")
    net.run(until=net.now + 10, stop=lambda: pair.a.core.acked_by_all(pair.w))
    assert pair.a.core.acked_by_all(pair.w)
    assert pair.payloads() == [b"small"]
    assert pair.writer.counters["resends_given_up"] == 1
    assert pair.writer.counters["resent"] <= MAX_WHOLE_RESENDS
    assert pair.reader().counters["sample_too_large"] >= MAX_WHOLE_RESENDS
