"""SPDP state machine, driven with a virtual clock and real wire bytes (no sockets)."""

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire
from rtbus.rtps.actions import Send
from rtbus.rtps.builtin_data import ParticipantData
from rtbus.rtps.spdp import (
    ParticipantDiscovered,
    ParticipantLost,
    ParticipantUpdated,
    Spdp,
    SpdpConfig,
)

CAPTURE = (Path(__file__).parents[1] / "data" / "captures"
           / "discovery_cyclone11_two_participants.json")


def pdata(n, domain=17, tag="", lease=10.0, port=7410):
    return ParticipantData(
        guid_prefix=bytes([n]) * 12, domain_id=domain, domain_tag=tag, lease_duration=lease,
        metatraffic_unicast=(wire.Locator.udpv4("127.0.0.1", port + n),),
        default_unicast=(wire.Locator.udpv4("127.0.0.1", port + n + 1),))


def sends(out):
    return [a for a in out if isinstance(a, Send)]


def events(out):
    return [a for a in out if not isinstance(a, Send)]


def deliver(src: Spdp, dst: Spdp, send: Send, now: float):
    """Carry one Send through the real wire builder and parser into ``dst``."""
    builder = wire.MessageBuilder(src.local.guid_prefix)
    if send.dest_prefix is not None:
        builder.add(wire.InfoDst(send.dest_prefix))
    builder.add_all(send.submessages)
    out = []
    for datagram in builder.datagrams():
        msg = wire.parse_message(datagram)
        assert not msg.dropped
        for rec in msg.received:
            dst.refresh(rec.src_prefix, now)
            if rec.submessage.writer_id == wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER:
                out += dst.handle_data(rec.src_prefix, rec.submessage, now)
    return out


def test_announcement_schedule_burst_then_period():
    spdp = Spdp(pdata(1), now=0.0, config=SpdpConfig(initial_period=0.2, initial_count=3))
    times = []
    now = 0.0
    while now < 10.0:
        now = spdp.next_timer()
        if sends(spdp.handle_timer(now)):
            times.append(round(now, 3))
    assert times[:4] == [0.0, 0.2, 0.4, 2.4]  # burst of 3, then lease/5 = 2 s
    assert spdp.period == 2.0


def test_announcement_goes_to_the_domain_multicast_port():
    out = Spdp(pdata(1, domain=17), now=0.0).handle_timer(0.0)
    (send,) = sends(out)
    assert send.dest_prefix is None
    assert send.locators == (wire.Locator.udpv4("239.255.0.1", 11650),)
    (data,) = send.submessages
    assert data.writer_id == wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER


def test_two_participants_discover_each_other_over_wire_bytes():
    a, b = Spdp(pdata(1), now=0.0), Spdp(pdata(2), now=0.0)
    (ann,) = sends(a.handle_timer(0.0))
    out = deliver(a, b, ann, 0.01)
    (ev,) = events(out)
    assert isinstance(ev, ParticipantDiscovered) and ev.data.guid_prefix == bytes([1]) * 12
    # b answers a directly (unicast to a's metatraffic locator) so a need not wait a period
    (reply,) = sends(out)
    assert reply.dest_prefix == bytes([1]) * 12
    assert reply.locators == pdata(1).metatraffic_unicast
    (ev,) = events(deliver(b, a, reply, 0.02))
    assert isinstance(ev, ParticipantDiscovered) and ev.data.guid_prefix == bytes([2]) * 12
    # a repeat announcement is not a new discovery
    assert events(deliver(a, b, ann, 0.5)) == []


def test_own_announcement_ignored():
    a = Spdp(pdata(1), now=0.0)
    (ann,) = sends(a.handle_timer(0.0))
    assert deliver(a, a, ann, 0.0) == []
    assert a.participants == {}


def test_domain_id_and_tag_filtering():
    b = Spdp(pdata(2, domain=17, tag="lab"), now=0.0)
    for other in (pdata(1, domain=18, tag="lab"), pdata(1, domain=17, tag=""),
                  pdata(1, domain=17, tag="lab2")):
        src = Spdp(other, now=0.0)
        assert deliver(src, b, sends(src.handle_timer(0.0))[0], 0.0) == []
    src = Spdp(pdata(1, domain=17, tag="lab"), now=0.0)
    assert events(deliver(src, b, sends(src.handle_timer(0.0))[0], 0.0))


def test_lease_expiry_and_refresh_by_any_traffic():
    a, b = Spdp(pdata(1, lease=3.0), now=0.0), Spdp(pdata(2), now=0.0)
    deliver(a, b, sends(a.handle_timer(0.0))[0], 0.0)
    assert b.next_timer() <= 3.0
    b.refresh(bytes([1]) * 12, 2.0)  # e.g. a heartbeat from that participant
    assert events(b.handle_timer(4.0)) == []
    lost = events(b.handle_timer(5.0))
    assert lost == [ParticipantLost(bytes([1]) * 12, "lease_expired")]
    assert b.participants == {}


def test_dispose_on_shutdown():
    a, b = Spdp(pdata(1), now=0.0), Spdp(pdata(2), now=0.0)
    deliver(a, b, sends(a.handle_timer(0.0))[0], 0.0)
    (bye,) = sends(a.shutdown())
    assert bye.submessages[0].key_only
    assert events(deliver(a, b, bye, 1.0)) == [ParticipantLost(bytes([1]) * 12, "disposed")]


def test_changed_announcement_is_an_update():
    a, b = Spdp(pdata(1), now=0.0), Spdp(pdata(2), now=0.0)
    deliver(a, b, sends(a.handle_timer(0.0))[0], 0.0)
    new = pdata(1, port=9000)
    (ev,) = events(deliver(a, b, sends(a.update_local(new, 1.0))[0], 1.0))
    assert isinstance(ev, ParticipantUpdated) and ev.data == new


def test_cyclone_capture_discovered_and_disposed():
    """Feed Cyclone 11's real datagrams: both participants found, then lost on their dispose."""
    me = Spdp(pdata(9), now=0.0)
    found, lost = set(), set()
    for packet in json.loads(CAPTURE.read_text()):
        msg = wire.parse_message(bytes.fromhex(packet["hex"]))
        for rec in msg.received:
            me.refresh(rec.src_prefix, packet["t"])
            if getattr(rec.submessage, "writer_id", None) == \
                    wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER:
                for ev in me.handle_data(rec.src_prefix, rec.submessage, packet["t"]):
                    if isinstance(ev, ParticipantDiscovered):
                        found.add(ev.data.guid_prefix)
                        assert ev.data.vendor_id == b"\x01\x10"
                    elif isinstance(ev, ParticipantLost):
                        assert ev.reason == "disposed"
                        lost.add(ev.guid_prefix)
    assert len(found) == 2 and lost == found


_steps = st.lists(st.tuples(st.sampled_from(["announce", "dispose", "traffic", "wait"]),
                            st.integers(1, 4), st.sampled_from([1.0, 2.5, 10.0]),
                            st.floats(0.0, 4.0)), max_size=40)


@settings(max_examples=100, deadline=None)
@given(_steps)
def test_participant_table_follows_a_simple_model(steps):
    """Announcements add, disposes remove, leases (renewed by any traffic) expire."""
    me = Spdp(pdata(9), now=0.0)
    model: dict[bytes, float] = {}  # prefix -> lease expiry
    leases: dict[bytes, float] = {}
    now = 0.0
    for op, n, lease, dt in steps:
        prefix = bytes([n]) * 12
        if op == "announce":
            other = Spdp(pdata(n, lease=lease), now=now)
            out = deliver(other, me, sends(other.handle_timer(now))[0], now)
            if prefix not in model:
                assert [type(e) for e in events(out)] == [ParticipantDiscovered]
                model[prefix] = now + lease
            else:
                # the message itself is traffic: it renews the lease the participant had
                # (refresh runs before the new data is read), then the announced lease applies
                model[prefix] = max(model[prefix], now + leases[prefix], now + lease)
            leases[prefix] = lease
        elif op == "dispose":
            other = Spdp(pdata(n), now=now)
            out = deliver(other, me, sends(other.shutdown())[0], now)
            assert events(out) == ([ParticipantLost(prefix, "disposed")] if prefix in model
                                   else [])
            model.pop(prefix, None)
        elif op == "traffic":
            me.refresh(prefix, now)
            if prefix in model:
                model[prefix] = max(model[prefix], now + leases[prefix])
        else:
            now += dt
            lost = {e.guid_prefix for e in events(me.handle_timer(now))}
            expired = {p for p, t in model.items() if t <= now}
            assert lost == expired
            for p in expired:
                del model[p]
        assert set(me.participants) == set(model)


def test_local_participant_from_port_mapping():
    from rtbus.rtps.ports import port_mapping
    from rtbus.rtps.spdp import local_participant, new_guid_prefix

    prefix = new_guid_prefix(bytes(range(10)))
    assert prefix[:2] == b"\x01\xf7" and len(prefix) == 12
    assert new_guid_prefix() != new_guid_prefix()
    p = local_participant(prefix, port_mapping(17, 2), "127.0.0.1", entity_name="dp")
    assert p.domain_id == 17
    assert p.metatraffic_unicast == (wire.Locator.udpv4("127.0.0.1", 11650 + 4 + 10),)
    assert p.default_unicast == (wire.Locator.udpv4("127.0.0.1", 11650 + 4 + 11),)
    assert p.metatraffic_multicast == (wire.Locator.udpv4("239.255.0.1", 11650),)
    assert p.default_multicast == (wire.Locator.udpv4("239.255.0.1", 11651),)
    unicast_only = local_participant(prefix, port_mapping(17, 2), "10.0.0.1",
                                     multicast_group=None)
    assert unicast_only.metatraffic_multicast == () == unicast_only.default_multicast
