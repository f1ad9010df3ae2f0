"""ParticipantCore.next_timer keeps the builtin services' part between datagrams; it must never
say "later" than the truth, or a heartbeat, a lease or a type request would be late.

Two whole participants (SPDP, SEDP, TypeLookup, user endpoints) run on the simulated network
with loss while hypothesis picks what the application does; at every step of the network the
cached answer is compared with one computed from scratch.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import rtbus.idl
from rtbus.qos import Qos
from rtbus.rtps.participant import ParticipantCore
from tests.support.simcore import SimCore
from tests.support.simnet import LinkConditions, SimNetwork

MODEL = rtbus.idl.parse("struct Blob { @key long id; string text; };").types["Blob"]
TOPICS = ("A", "B")


def from_scratch(core: ParticipantCore) -> float | None:
    times = [core.spdp.next_timer(), core.sedp.next_timer()]
    if core.type_lookup is not None:
        times.append(core.type_lookup.next_timer())
    times += [ep.core.next_timer() for ep in (*core.writers.values(), *core.readers.values())]
    present = [t for t in times if t is not None]
    return min(present) if present else None


class CheckedCore(SimCore):
    """Asks the cached next_timer each network step and checks it against the truth."""

    checks = 0

    def next_timer(self) -> float | None:
        cached = self.core.next_timer()
        truth = from_scratch(self.core)
        # earlier is harmless (the timer fires, finds nothing due, recomputes); later is a bug
        assert truth is None or (cached is not None and cached <= truth), (cached, truth)
        CheckedCore.checks += 1
        return cached


ops = st.lists(st.one_of(
    st.tuples(st.just("writer"), st.integers(0, 1), st.sampled_from(TOPICS)),
    st.tuples(st.just("reader"), st.integers(0, 1), st.sampled_from(TOPICS)),
    st.tuples(st.just("write"), st.integers(0, 1), st.integers(1, 20)),
    st.tuples(st.just("remove"), st.integers(0, 1), st.integers(0, 3)),
    st.tuples(st.just("run"), st.integers(0, 1), st.floats(0.001, 3.0)),
), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(ops=ops, seed=st.integers(0, 1000), loss=st.sampled_from([0.0, 0.2]))
def test_the_cached_next_timer_is_never_later_than_the_truth(ops: list[tuple], seed: int,
                                                             loss: float) -> None:
    net = SimNetwork(seed=seed, conditions=LinkConditions(loss=loss, delay=0.001))
    parts = [CheckedCore(net, 1, 2), CheckedCore(net, 2, 1)]
    writers: list[list[Any]] = [[], []]
    readers: list[list[Any]] = [[], []]
    reliable = Qos(reliability="reliable", history="keep_all")
    seqs = [0, 0]
    for op, who, arg in ops:
        p = parts[who]
        now = net.now
        if op == "writer":
            writers[who].append(p.core.add_writer(arg, "Blob", reliable, True, now,
                                                  type_model=MODEL))
        elif op == "reader":
            readers[who].append(p.core.add_reader(arg, "Blob", reliable, True, now,
                                                  type_model=MODEL))
        elif op == "write" and writers[who]:
            for _ in range(arg):
                seqs[who] += 1
                key = seqs[who].to_bytes(16, "big")
                p.core.write(writers[who][0], b"\x00\x01\x00\x00" + key[:8], key, 0,
                             1_700_000_000_000_000_000, now)
        elif op == "remove":
            pool = writers[who] + readers[who]
            if pool:
                guid = pool[arg % len(pool)]
                p.core.remove_endpoint(guid, now)
                for lst in (writers[who], readers[who]):
                    if guid in lst:
                        lst.remove(guid)
        elif op == "run":
            net.run(until=net.now + arg)
        p.drain()
        p.next_timer()  # checked after every application call too
    net.run(until=net.now + 5.0)
    assert CheckedCore.checks > 0


def test_the_reader_core_knows_each_matched_writers_qos() -> None:
    """At match time the whole QoS a remote writer announced reaches the reader core's
    proxy of it (ownership strength, deadline, liveliness are decided there)."""
    net = SimNetwork(seed=1, conditions=LinkConditions(delay=0.001))
    a, b = SimCore(net, 1, 2), SimCore(net, 2, 1)
    offered = Qos(reliability="reliable", ownership="exclusive", ownership_strength=9,
                  deadline=0.5)
    wguid = a.core.add_writer("Owned", "Blob", offered, True, net.now, type_model=MODEL)
    requested = Qos(reliability="reliable", ownership="exclusive")
    rguid = b.core.add_reader("Owned", "Blob", requested, True, net.now, type_model=MODEL)
    net.run(until=net.now + 5.0)
    proxy = b.core.readers[rguid.entity_id].core.writers[wguid]
    assert proxy.qos.ownership_strength == 9 and proxy.qos.deadline == 0.5
    assert proxy.qos.ownership == "exclusive"


def test_a_best_effort_reader_reports_the_samples_loss_took() -> None:
    """SAMPLE_LOST reaches the participant's events for the local reader it concerns: the
    gaps in a best-effort stream over a lossy link add up to what did not arrive."""
    from rtbus.rtps.actions import SamplesLost
    from rtbus.rtps.participant import Delivered, ReaderStatusChange

    net = SimNetwork(seed=3, conditions=LinkConditions(loss=0.3, delay=0.001))
    a, b = SimCore(net, 1, 2), SimCore(net, 2, 1)
    best = Qos(reliability="best_effort", history="keep_all")
    wguid = a.core.add_writer("Lossy", "Blob", best, False, net.now, type_model=MODEL)
    rguid = b.core.add_reader("Lossy", "Blob", best, False, net.now, type_model=MODEL)
    net.run(until=net.now + 5.0)  # discovery is reliable: it gets through the loss
    assert b.core.readers[rguid.entity_id].core.writers.get(wguid) is not None
    for i in range(200):
        a.core.write(wguid, b"\x00\x01\x00\x00" + i.to_bytes(4, "little") + b"\x00" * 4,
                     None, 0, None, net.now)
        a.drain()
        net.run(until=net.now + 0.01)
    net.run(until=net.now + 1.0)
    samples = b.core.take(rguid, None, net.now)
    delivered = len(samples)
    last = max(s.info.sequence_number for s in samples)
    lost = sum(e.change.count for e in b.of(ReaderStatusChange)
               if e.reader_guid == rguid and isinstance(e.change, SamplesLost))
    assert b.of(Delivered) and 0 < lost < 200
    # every sample up to the last delivered one was delivered or counted lost, exactly once
    # (a lost tail after it cannot be known yet)
    assert delivered + lost == last, (delivered, lost, last)


def test_builtin_services_plug_in_through_the_registry() -> None:
    """Builtin traffic is routed by the entity ids each service registered: SPDP, SEDP,
    TypeLookup and the participant messages are found there, a new service plugs in the same
    way, and an id cannot be taken twice."""
    import pytest

    from rtbus.rtps import wire
    from rtbus.rtps.participant import _SEDP_ENTITIES

    net = SimNetwork(seed=1)
    core = SimCore(net, 1, 2).core
    assert bytes(wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER) in core._builtin
    assert _SEDP_ENTITIES <= core._builtin.keys()
    pm_writer = wire.EntityId(b"\x00\x02\x00\xc2")  # the participant-message writer
    assert bytes(pm_writer) in core._builtin
    seen: list = []
    secure_writer = wire.EntityId(b"\xff\x02\x00\xc2")  # its secure twin: not taken yet
    core.register_builtin((secure_writer,), lambda src, sub, now, ts: seen.append(sub))
    hb = wire.Heartbeat(reader_id=wire.EntityId(b"\xff\x02\x00\xc7"),
                        writer_id=secure_writer, first_sn=1, last_sn=1, count=1)
    core._route(wire.GuidPrefix(bytes(12)), hb, 0.0, None)
    assert seen == [hb]
    with pytest.raises(ValueError, match="routed already"):
        core.register_builtin((pm_writer,), lambda *a: None)
