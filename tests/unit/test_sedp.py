"""SEDP: matching bookkeeping (SedpState) and the builtin endpoints over real wire bytes."""

import json
import random
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import Send
from rtbus.rtps.builtin_data import (
    DEFAULT_BUILTIN_ENDPOINTS,
    EndpointData,
    ParticipantData,
    build_endpoint_payload,
)
from rtbus.rtps.matching import DURABILITY_QOS_POLICY_ID, RELIABILITY_QOS_POLICY_ID, match
from rtbus.rtps.sedp import (
    Announce,
    EndpointMatched,
    EndpointUnmatched,
    IncompatibleQos,
    InconsistentTopic,
    RemoteEndpointDiscovered,
    RemoteEndpointRemoved,
    Sedp,
    SedpState,
)

CAPTURE = (Path(__file__).parents[1] / "data" / "captures"
           / "discovery_cyclone11_two_participants.json")
P1, P2 = bytes([1]) * 12, bytes([2]) * 12


def participant(prefix, port):
    return ParticipantData(guid_prefix=prefix, domain_id=0,
                           metatraffic_unicast=(wire.Locator.udpv4("127.0.0.1", port),),
                           default_unicast=(wire.Locator.udpv4("127.0.0.1", port + 1),))


def endpoint(prefix, n, role, topic="Square", **qos):
    kind = b"\x02" if role == "writer" else b"\x07"
    return EndpointData(role=role, endpoint_guid=prefix + bytes([0, 0, n]) + kind,
                        topic_name=topic, type_name="ShapeType", qos=Qos(**qos))


def of(kind, out):
    return [o for o in out if isinstance(o, kind)]


def test_local_writer_announced_and_matched_with_remote_reader():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    w = endpoint(P1, 1, "writer", partition=["a"])
    out = st.add_local(w)
    (ann,) = of(Announce, out)
    assert ann.role == "writer" and ann.key_hash == w.endpoint_guid and not ann.status_info
    r = endpoint(P2, 1, "reader", partition=["a*"])
    out = st.handle_sample("reader", build_endpoint_payload(r), src_prefix=P2)
    assert of(RemoteEndpointDiscovered, out)[0].data.endpoint_guid == r.endpoint_guid
    (m,) = of(EndpointMatched, out)
    assert m.local_guid == w.endpoint_guid and m.remote.endpoint_guid == r.endpoint_guid
    assert m.locators == (wire.Locator.udpv4("127.0.0.1", 7421),)  # participant default
    # the same announcement again changes nothing
    assert st.handle_sample("reader", build_endpoint_payload(r), src_prefix=P2) == []


def test_match_waits_for_the_participant_locators():
    st = SedpState()
    w = endpoint(P1, 1, "writer")
    st.add_local(w)
    out = st.handle_sample("reader", build_endpoint_payload(endpoint(P2, 1, "reader")))
    assert of(EndpointMatched, out) == []
    assert of(EndpointMatched, st.participant_discovered(participant(P2, 7420)))


def test_incompatible_qos_reported_once():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    st.add_local(endpoint(P1, 1, "writer", reliability="best_effort"))
    r = endpoint(P2, 1, "reader", reliability="reliable", durability="transient_local")
    out = st.handle_sample("reader", build_endpoint_payload(r))
    (inc,) = of(IncompatibleQos, out)
    assert inc.policies == (DURABILITY_QOS_POLICY_ID, RELIABILITY_QOS_POLICY_ID)
    assert of(EndpointMatched, out) == []


def test_type_mismatch_is_an_inconsistent_topic_reported_once():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    st.add_local(endpoint(P1, 1, "writer"))
    other = EndpointData("reader", P2 + b"\0\0\1\7", "Square", "OtherType")
    (ev,) = of(InconsistentTopic, st.handle_sample("reader", build_endpoint_payload(other)))
    assert ev.remote_type_name == "OtherType" and ev.remote_guid == other.endpoint_guid
    changed = replace(other, qos=Qos(partition=["x"]))
    assert of(InconsistentTopic, st.handle_sample("reader", build_endpoint_payload(changed))) \
        == []
    # a different topic is simply unrelated: no status at all
    unrelated = EndpointData("reader", P2 + b"\0\0\2\7", "Circle", "OtherType")
    assert st.handle_sample("reader", build_endpoint_payload(unrelated)) == [
        RemoteEndpointDiscovered(st.remote[unrelated.endpoint_guid])]


def test_remote_qos_change_unmatches_and_dispose_removes():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    w = endpoint(P1, 1, "writer")
    st.add_local(w)
    r = endpoint(P2, 1, "reader")
    assert of(EndpointMatched, st.handle_sample("reader", build_endpoint_payload(r)))
    r2 = EndpointData(**{**{f: getattr(r, f) for f in r.__dataclass_fields__},
                         "qos": Qos(ownership="exclusive")})
    out = st.handle_sample("reader", build_endpoint_payload(r2))
    assert of(EndpointUnmatched, out) == [EndpointUnmatched(w.endpoint_guid, r.endpoint_guid,
                                                            "qos_changed")]
    assert of(IncompatibleQos, out)
    assert of(EndpointMatched, st.handle_sample("reader", build_endpoint_payload(r)))
    out = st.handle_sample("reader", None, status_info=3, key_hash=r.endpoint_guid)
    assert of(RemoteEndpointRemoved, out) == [RemoteEndpointRemoved(r.endpoint_guid, "reader")]
    assert of(EndpointUnmatched, out)[0].reason == "remote_removed"
    assert st.matches == set()


def test_participant_lost_unmatches_its_endpoints():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    st.add_local(endpoint(P1, 1, "reader"))
    st.handle_sample("writer", build_endpoint_payload(endpoint(P2, 1, "writer")))
    st.handle_sample("writer", build_endpoint_payload(endpoint(P2, 2, "writer", topic="X")))
    out = st.participant_lost(P2)
    assert len(of(RemoteEndpointRemoved, out)) == 2
    assert [u.reason for u in of(EndpointUnmatched, out)] == ["participant_lost"]
    assert st.remote == {}


def test_local_removal_announces_dispose():
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    r = endpoint(P1, 1, "reader")
    st.add_local(r)
    st.handle_sample("writer", build_endpoint_payload(endpoint(P2, 1, "writer")))
    out = st.remove_local(r.endpoint_guid)
    (ann,) = of(Announce, out)
    assert ann.status_info == 3 and ann.key_hash == r.endpoint_guid
    assert of(EndpointUnmatched, out)[0].reason == "local_removed"


def test_relayed_and_malformed_samples_ignored():
    st = SedpState()
    payload = build_endpoint_payload(endpoint(P2, 1, "writer"))
    assert st.handle_sample("writer", payload, src_prefix=P1) == []
    assert st.handle_sample("writer", payload[:30]) == []
    assert st.handle_sample("writer", b"\x00\x03\x00\x00\x01\x40\x04\x00abcd\x01\x00\x00\x00") \
        == []


def test_type_check_plugged_in():
    seen = []
    st = SedpState(type_check=lambda w, r: seen.append(1) or False)
    st.participant_discovered(participant(P2, 7420))
    w = EndpointData("writer", P1 + b"\0\0\1\2", "T", "A", type_information=b"ti")
    st.add_local(w)
    r = EndpointData("reader", P2 + b"\0\0\1\7", "T", "A", type_information=b"ti")
    assert of(EndpointMatched, st.handle_sample("reader", build_endpoint_payload(r))) == []
    assert seen == [1]


def test_pending_type_check_waits_silently_then_rematch_decides():
    verdict: list = [None]
    st = SedpState(type_check=lambda w, r: verdict[0])
    st.participant_discovered(participant(P2, 7420))
    st.add_local(EndpointData("writer", P1 + b"\0\0\1\2", "T", "A", type_information=b"ti"))
    r = EndpointData("reader", P2 + b"\0\0\1\7", "T", "A", type_information=b"other")
    out = st.handle_sample("reader", build_endpoint_payload(r))
    assert of(EndpointMatched, out) == [] and of(InconsistentTopic, out) == []
    verdict[0] = False
    assert len(of(InconsistentTopic, st.rematch_all())) == 1
    assert st.rematch_all() == []  # reported once
    verdict[0] = True
    assert len(of(EndpointMatched, st.rematch_all())) == 1


def test_cyclone_capture_writer_matches_local_reader():
    """Cyclone's SEDP publication (partition partA) matches our reader on 'part*'."""
    st = SedpState()
    local = endpoint(P1, 1, "reader", partition=["part*"])
    st.add_local(local)
    matched = []
    for packet in json.loads(CAPTURE.read_text()):
        for rec in wire.parse_message(bytes.fromhex(packet["hex"])).received:
            sub = rec.submessage
            if isinstance(sub, wire.Data) and sub.writer_id == \
                    wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER and not sub.key_only:
                from rtbus.rtps.builtin_data import parse_participant_payload
                st.participant_discovered(parse_participant_payload(sub.serialized_payload))
            if isinstance(sub, wire.Data) and sub.writer_id == \
                    wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER:
                matched += of(EndpointMatched, st.handle_sample(
                    "writer", sub.serialized_payload,
                    status_info=sub.inline_qos.status_info or 0 if sub.inline_qos else 0,
                    src_prefix=rec.src_prefix))
    assert len(matched) == 1
    assert matched[0].remote.topic_name == "Square"
    assert matched[0].locators[0].host == "127.0.0.1"


# --- the builtin endpoints over wire bytes --------------------------------------------------

class Pump:
    """Two Sedp instances joined by an in-memory, loss-free, zero-delay network."""

    def __init__(self, loss=0.0):
        self.nodes = {P1: Sedp(P1), P2: Sedp(P2)}
        self.events = {P1: [], P2: []}
        self.queue = []
        self.now = 0.0
        self.loss = loss
        self.rng = random.Random(7)

    def feed(self, src, outputs):
        for o in outputs:
            if isinstance(o, Send):
                b = wire.MessageBuilder(src)
                if o.dest_prefix is not None:
                    b.add(wire.InfoDst(o.dest_prefix))
                b.add_all(o.submessages)
                for dg in b.datagrams():
                    if self.rng.random() < self.loss:
                        continue
                    self.queue.append((o.dest_prefix, dg))
            else:
                self.events[src].append(o)

    def run(self, until):
        while self.now < until:
            while self.queue:
                dest, dg = self.queue.pop(0)
                msg = wire.parse_message(dg)
                for target, node in self.nodes.items():
                    if target == msg.guid_prefix or (dest is not None and dest != target):
                        continue
                    for rec in msg.received:
                        self.feed(target, node.handle_submessage(rec.src_prefix,
                                                                 rec.submessage, self.now))
            timers = [t for n in self.nodes.values() if (t := n.next_timer()) is not None]
            self.now = max(self.now + 0.001, min(timers) if timers else until)
            for prefix, node in self.nodes.items():
                self.feed(prefix, node.handle_timer(self.now))


def _connect(pump):
    d1 = participant(P1, 7410)
    d1 = ParticipantData(**{**{f: getattr(d1, f) for f in d1.__dataclass_fields__},
                            "builtin_endpoints": DEFAULT_BUILTIN_ENDPOINTS})
    d2 = participant(P2, 7420)
    pump.feed(P1, pump.nodes[P1].participant_discovered(d2, 0.0))
    pump.feed(P2, pump.nodes[P2].participant_discovered(d1, 0.0))


def test_builtin_endpoints_exchange_and_match_reliably():
    for loss in (0.0, 0.3):
        pump = Pump(loss)
        w = endpoint(P1, 1, "writer", durability="transient_local")
        pump.feed(P1, pump.nodes[P1].add_local(w, 0.0))  # before the peer is known
        _connect(pump)
        r = endpoint(P2, 1, "reader")
        pump.feed(P2, pump.nodes[P2].add_local(r, 0.0))
        pump.run(5.0)
        m1 = of(EndpointMatched, pump.events[P1])
        m2 = of(EndpointMatched, pump.events[P2])
        assert [(m.local_guid, m.remote.endpoint_guid) for m in m1] == \
            [(w.endpoint_guid, r.endpoint_guid)], loss
        assert [(m.local_guid, m.remote.endpoint_guid) for m in m2] == \
            [(r.endpoint_guid, w.endpoint_guid)], loss
        assert m2[0].remote.qos.durability == "transient_local"
        # removing the writer reaches the peer as a dispose
        pump.feed(P1, pump.nodes[P1].remove_local(w.endpoint_guid, pump.now))
        pump.run(pump.now + 5.0)
        assert of(EndpointUnmatched, pump.events[P2]) == [
            EndpointUnmatched(r.endpoint_guid, w.endpoint_guid, "remote_removed")], loss


def test_participant_lost_disconnects_builtin_endpoints():
    pump = Pump()
    _connect(pump)
    pump.feed(P1, pump.nodes[P1].add_local(endpoint(P1, 1, "writer"), 0.0))
    pump.feed(P2, pump.nodes[P2].add_local(endpoint(P2, 1, "reader"), 0.0))
    pump.run(1.0)
    out = pump.nodes[P2].participant_lost(P1, 1.0)
    assert of(EndpointUnmatched, out)[0].reason == "participant_lost"
    assert not any(g.prefix == P1 for g in pump.nodes[P2].readers["writer"].writers)
    assert not any(g.prefix == P1 for g in pump.nodes[P2].writers["reader"].readers)


# --- invariants under random operation sequences ---------------------------------------------


_ops = st.lists(st.tuples(
    st.sampled_from(["add_local", "remove_local", "remote", "dispose", "participant",
                     "lost"]),
    st.sampled_from([P1, P2, bytes([3]) * 12]),
    st.integers(1, 3),
    st.sampled_from(["writer", "reader"]),
    st.sampled_from(["Square", "Circle"]),
    st.sampled_from(["reliable", "best_effort"]),
    st.sampled_from([[], ["a"], ["a*"], ["b"]]),
), max_size=40)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_matches_stay_consistent_with_the_rules(ops):
    state = SedpState()
    matched: set = set()
    for op, prefix, n, role, topic, rel, parts in ops:
        e = endpoint(prefix if op != "add_local" else P1, n, role, topic=topic,
                     reliability=rel, partition=parts)
        if op == "add_local":
            out = state.add_local(e)
        elif op == "remove_local":
            out = state.remove_local(endpoint(P1, n, role).endpoint_guid)
        elif op == "remote" and prefix != P1:
            out = state.handle_sample(role, build_endpoint_payload(e), src_prefix=prefix)
        elif op == "dispose" and prefix != P1:
            out = state.handle_sample(role, None, status_info=3, key_hash=e.endpoint_guid)
        elif op == "participant" and prefix != P1:
            out = state.participant_discovered(participant(prefix, 7400 + prefix[0] * 10))
        elif op == "lost" and prefix != P1:
            out = state.participant_lost(prefix)
        else:
            continue
        for ev in out:
            if isinstance(ev, EndpointMatched):
                pair = (ev.local_guid, ev.remote.endpoint_guid)
                assert pair not in matched
                matched.add(pair)
            elif isinstance(ev, EndpointUnmatched):
                matched.remove((ev.local_guid, ev.remote_guid))
        # the events replay to exactly the state's match set ...
        assert matched == state.matches
        # ... and that set is exactly the pairs the matching rules accept: with remote
        # endpoints whose participant is known, and with the other local endpoints (both ways)
        expected = set()
        for lg, loc in state.local.items():
            for og, other in state.local.items():
                if loc.role != other.role:
                    w, r = (loc, other) if loc.role == "writer" else (other, loc)
                    if match(w, r).matched:
                        expected.add((lg, og))
            for rg, rem in state.remote.items():
                if loc.role == rem.role or rem.prefix not in state.participants:
                    continue
                w, r = (loc, rem) if loc.role == "writer" else (rem, loc)
                if match(w, r).matched:
                    expected.add((lg, rg))
        assert state.matches == expected


def test_announcement_data_carries_key_hash_and_payload():
    sedp = Sedp(P1)
    sedp.participant_discovered(participant(P2, 7420), 0.0)
    w = endpoint(P1, 1, "writer")
    datas = [s for o in sedp.add_local(w, 0.0) if isinstance(o, Send)
             for s in o.submessages if isinstance(s, wire.Data)]
    (data,) = datas
    assert data.writer_id == wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER
    assert data.inline_qos.key_hash == w.endpoint_guid
    assert bytes(data.serialized_payload) == build_endpoint_payload(w)


def test_rediscovered_participant_with_new_locators_is_followed():
    sedp = Sedp(P1)
    sedp.participant_discovered(participant(P2, 7420), 0.0)
    moved = participant(P2, 9000)
    assert sends_of_(sedp.participant_discovered(moved, 1.0)) == []  # no reconnection
    out = sedp.add_local(endpoint(P1, 1, "writer"), 1.0)
    assert {loc for s in sends_of_(out) for loc in s.locators} == \
        {wire.Locator.udpv4("127.0.0.1", 9000)}


def sends_of_(outputs):
    return [o for o in outputs if isinstance(o, Send)]


def test_a_compatible_reannouncement_tells_the_reader_the_writers_new_qos():
    """A matched remote writer that re-announces itself with other QoS that still fit is
    matched again (no unmatch), carrying the new QoS; the same announcement again is quiet."""
    st = SedpState()
    st.participant_discovered(participant(P2, 7420))
    r = endpoint(P1, 1, "reader", reliability="reliable")
    st.add_local(r)
    w = endpoint(P2, 1, "writer", reliability="reliable")
    first = of(EndpointMatched, st.handle_sample("writer", build_endpoint_payload(w)))
    assert [m.remote.qos.ownership_strength for m in first] == [0]
    w2 = EndpointData(**{**{f: getattr(w, f) for f in w.__dataclass_fields__},
                         "qos": Qos(reliability="reliable", ownership_strength=7)})
    out = st.handle_sample("writer", build_endpoint_payload(w2))
    assert not of(EndpointUnmatched, out)
    assert [m.remote.qos.ownership_strength for m in of(EndpointMatched, out)] == [7]
    assert not of(EndpointMatched, st.handle_sample("writer", build_endpoint_payload(w2)))
