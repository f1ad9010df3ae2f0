"""Reader cache stages driven through the real reader, submessage by submessage, with a
simulated ``now`` (no sockets): what a stage sees, what it can refuse, and its timers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import Action, Deliver, Send
from rtbus.rtps.history import STATUS_DISPOSED, HistoryQos
from rtbus.rtps.instances import Instance, InstanceState
from rtbus.rtps.reader import BestEffortReader, ReaderConfig, StatefulReader
from rtbus.rtps.reader_stages import PassStage, SampleMeta

WP = wire.GuidPrefix(bytes(range(1, 13)))
WP2 = wire.GuidPrefix(bytes(range(41, 53)))
RP = wire.GuidPrefix(bytes(range(21, 33)))
WG = wire.Guid(WP, wire.EntityId(b"\0\0\x01", 0x02))
WG2 = wire.Guid(WP2, wire.EntityId(b"\0\0\x01", 0x02))
RG = wire.Guid(RP, wire.EntityId(b"\0\0\x01", 0x07))
LOC = ("loc", 1)
K = b"\x05" * 16
TS = 1_700_000_000_123_456_789


def data(seq: int, payload: bytes | None = b"x", qos: wire.InlineQos | None = None,
         ) -> wire.Data:
    return wire.Data(RG.entity_id, WG.entity_id, seq, qos, payload)


def payloads(actions: list[Action]) -> list[bytes]:
    return [bytes(a.sample.payload) for a in actions
            if isinstance(a, Deliver) and a.sample.payload is not None]


class Recorder(PassStage):
    """Accepts everything and writes down what it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, int, int | None, float, bytes | None, int, Any]] = []
        self.instances: list[Instance] = []
        self.writers: list[tuple[str, Any, Any, float]] = []

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        payload = None if meta.payload is None else bytes(meta.payload)
        self.seen.append((meta.writer_guid, meta.sequence_number, meta.source_timestamp,
                          meta.reception_timestamp, payload, meta.status_info, meta.key_hash))
        assert meta.instance is instance
        self.instances.append(instance)
        return True

    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self.writers.append(("added", writer, qos, now))
        return []

    def writer_updated(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self.writers.append(("updated", writer, qos, now))
        return [Notice("updated", writer)]  # type: ignore[list-item]

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        self.writers.append(("removed", writer, None, now))
        return []


class RefuseWriter(PassStage):
    """Drops every change of one writer."""

    def __init__(self, refused: Any) -> None:
        self.refused = refused

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        return meta.writer_guid != self.refused


@dataclass(frozen=True)
class Notice:
    """A status change a test stage reports (stands in for deadline-missed and the like)."""

    what: str
    writer: Any


class Silence(PassStage):
    """Reports a writer that sent nothing for ``period`` (a deadline stage in miniature)."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.due: dict[Any, float] = {}
        self.timer_calls = 0

    def writer_added(self, writer: Any, qos: Any, now: float) -> list[Action]:
        self.due[writer] = now + self.period
        return []

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        self.due[meta.writer_guid] = now + self.period
        return True

    def writer_removed(self, writer: Any, now: float) -> list[Action]:
        self.due.pop(writer, None)
        return []

    def next_timer(self) -> float | None:
        return min(self.due.values(), default=None)

    def handle_timer(self, now: float) -> list[Action]:
        self.timer_calls += 1
        out: list[Action] = []
        for writer, at in list(self.due.items()):
            if at <= now:
                out.append(Notice("silent", writer))  # type: ignore[arg-type]
                self.due[writer] = now + self.period
        return out


def test_a_stage_sees_each_samples_metadata_and_the_writers_qos() -> None:
    rec = Recorder()
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")), stages=[rec])
    offered = Qos(reliability="reliable", ownership="exclusive", ownership_strength=7)
    r.add_writer(WG, [LOC], now=1.0, qos=offered)
    assert rec.writers == [("added", WG, offered, 1.0)]
    sub = data(1, b"\0\1\0\0abcd", wire.InlineQos(key_hash=K))
    assert payloads(r.handle_submessage(WP, sub, 2.0, TS)) == [b"\0\1\0\0abcd"]
    dispose = data(2, None, wire.InlineQos(key_hash=K, status_info=STATUS_DISPOSED))
    r.handle_submessage(WP, dispose, 3.0, TS + 5)
    assert rec.seen == [(WG, 1, TS, 2.0, b"\0\1\0\0abcd", 0, K),
                        (WG, 2, TS + 5, 3.0, None, STATUS_DISPOSED, K)]
    # a dispose is ruled on before it touches the instance
    assert rec.instances[0] is rec.instances[1] is r.instances.get(K)
    assert r.instances.get(K).state == InstanceState.NOT_ALIVE_DISPOSED  # type: ignore[union-attr]

    stronger = Qos(reliability="reliable", ownership="exclusive", ownership_strength=9)
    out = r.update_writer(WG, stronger, now=4.0)
    assert rec.writers[-1] == ("updated", WG, stronger, 4.0)
    assert out == [Notice("updated", WG)]  # what the stage reports comes back as actions
    assert r.writers[WG].qos is stronger
    assert r.update_writer(WG2, stronger, now=4.0) == []  # not matched: nobody hears of it
    assert rec.writers[-1][1] == WG

    r.remove_writer(WG, now=5.0)
    assert rec.writers[-1] == ("removed", WG, None, 5.0)


def test_a_stage_sees_reliable_changes_in_order_stamped_when_they_arrived() -> None:
    rec = Recorder()
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")), stages=(rec,))
    r.add_writer(WG, [LOC], now=0.0)
    assert r.handle_data(WP, data(2, b"two"), 1.0, TS + 2) == []  # a hole before it
    assert rec.seen == []
    assert payloads(r.handle_data(WP, data(1, b"one"), 2.0, TS + 1)) == [b"one", b"two"]
    assert [(s[1], s[2], s[3]) for s in rec.seen] == [(1, TS + 1, 2.0), (2, TS + 2, 1.0)]
    delivered = r.take()[0]
    assert [s.info.reception_timestamp for s in delivered] == [2.0, 2.0]  # as before stages


def test_a_fragmented_sample_reaches_the_stage_once_with_its_first_fragments_timestamp() -> None:
    rec = Recorder()
    r = StatefulReader(RG, stages=[rec])
    r.add_writer(WG, [LOC], now=0.0)
    body = bytes(range(200)) + bytes(100)
    for num, now, ts in ((2, 1.0, TS + 9), (1, 2.0, TS), (3, 3.0, TS + 9)):
        frag = wire.DataFrag(RG.entity_id, WG.entity_id, 1, num, 1, 100, 300,
                             wire.InlineQos(key_hash=K) if num == 1 else None,
                             body[(num - 1) * 100:num * 100])
        r.handle_data_frag(WP, frag, now, ts)
    assert rec.seen == [(WG, 1, TS, 3.0, body, 0, K)]


def test_a_stage_that_refuses_one_writer_keeps_its_changes_out_but_its_stream_going() -> None:
    rec = Recorder()
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")),
                       stages=[RefuseWriter(WG2), rec])
    r.add_writer(WG, [LOC])
    r.add_writer(WG2, [LOC])
    qos = wire.InlineQos(key_hash=K)
    assert payloads(r.handle_data(WP, data(1, b"a", qos), 0.0)) == [b"a"]
    other = wire.Data(RG.entity_id, WG2.entity_id, 1, qos, b"b")
    assert r.handle_data(WP2, other, 0.0) == []
    assert r.counters["filtered"] == 1
    assert [s[0] for s in rec.seen] == [WG]  # later stages never see a refused change
    # the refused writer cannot dispose the instance either
    dispose = wire.Data(RG.entity_id, WG2.entity_id, 2,
                        wire.InlineQos(key_hash=K, status_info=STATUS_DISPOSED), None)
    assert r.handle_data(WP2, dispose, 0.0) == []
    assert r.instances.get(K).state == InstanceState.ALIVE  # type: ignore[union-attr]
    # refused changes are consumed: the stream moved on and asks for nothing again
    assert r.writers[WG2].next_seq == 3
    hb = wire.Heartbeat(RG.entity_id, WG2.entity_id, 1, 2, 1, False)
    acks = [s for a in r.handle_heartbeat(WP2, hb, 1.0) if isinstance(a, Send)
            for s in a.submessages]
    assert [(a.reader_sn_state.base, a.reader_sn_state.members()) for a in acks] == [(3, ())]


def test_a_change_held_on_a_full_history_reaches_the_stages_once_when_taken_in() -> None:
    rec = Recorder()
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all", max_samples=1)),
                       stages=[rec])
    r.add_writer(WG, [LOC])
    assert payloads(r.handle_data(WP, data(1, b"one"), 0.0)) == [b"one"]
    assert r.handle_data(WP, data(2, b"two"), 0.0) == []  # held by the stream, not rejected
    assert [s[1] for s in rec.seen] == [1]
    samples, actions = r.take(now=1.0)
    assert [bytes(s.payload) for s in samples] == [b"one"]  # type: ignore[arg-type]
    assert payloads(actions) == [b"two"]
    assert [s[1] for s in rec.seen] == [1, 2]


def test_a_stage_timer_is_the_readers_timer_and_reports_through_handle_timer() -> None:
    silence = Silence(period=1.0)
    r = BestEffortReader(RG, stages=[silence])
    assert r.next_timer() is None
    r.add_writer(WG, [LOC], now=10.0)
    assert r.next_timer() == 11.0
    r.handle_data(WP, data(1), 10.5)
    assert r.next_timer() == 11.5
    assert r.handle_timer(11.0) == []  # not due yet: the stage is not even asked
    assert silence.timer_calls == 0
    assert r.handle_timer(11.5) == [Notice("silent", WG)]
    assert r.next_timer() == 12.5
    r.remove_writer(WG, now=12.0)
    assert r.next_timer() is None


def test_a_stage_timer_and_the_acknack_timer_share_the_reliable_readers_timer() -> None:
    silence = Silence(period=5.0)
    r = StatefulReader(RG, ReaderConfig(heartbeat_response_delay=0.5, nack_retry_period=0.0),
                       stages=[silence])
    r.add_writer(WG, [LOC], now=0.0)
    hb = wire.Heartbeat(RG.entity_id, WG.entity_id, 1, 3, 1, False)
    assert r.handle_heartbeat(WP, hb, 1.0) == []
    assert r.next_timer() == 1.5  # the ACKNACK first
    out = r.handle_timer(1.5)
    assert [type(a) for a in out] == [Send]
    assert r.next_timer() == 5.0  # then the stage's
    out = r.handle_timer(5.0)
    assert Notice("silent", WG) in out


def test_a_delivery_filter_runs_before_the_stages() -> None:
    class RefuseAll:
        def accept(self, writer_guid: Any, instance: Instance, now: float) -> bool:
            return False

        def writer_removed(self, writer_guid: Any, now: float) -> None:
            return None

    rec = Recorder()
    r = StatefulReader(RG, delivery_filter=RefuseAll(), stages=[rec])
    r.add_writer(WG, [LOC])
    assert r.handle_data(WP, data(1), 0.0) == []
    assert rec.seen == [] and r.counters["filtered"] == 1
