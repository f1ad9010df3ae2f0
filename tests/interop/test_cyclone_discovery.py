"""rtbus discovery against a real Cyclone DDS 11 participant, both directions.

Cyclone runs in a subprocess (tests/interop/peers/cyclone_peer.py). The test itself plays
an rtbus participant with plain UDP sockets driven by the sans-IO SPDP and SEDP machines and
the wire layer -- the same path the engine will take -- inside the suite's private network
namespace (so nothing leaves the machine).
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rtbus import netns
from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import Send
from rtbus.rtps.builtin_data import EndpointData, ParticipantData
from rtbus.rtps.matching import RELIABILITY_QOS_POLICY_ID
from rtbus.rtps.ports import SPDP_MULTICAST_GROUP, spdp_multicast_port
from rtbus.rtps.sedp import (
    EndpointMatched,
    IncompatibleQos,
    RemoteEndpointDiscovered,
    RemoteEndpointRemoved,
    Sedp,
)
from rtbus.rtps.spdp import (
    ParticipantDiscovered,
    ParticipantLost,
    ParticipantUpdated,
    Spdp,
    SpdpConfig,
)

pytestmark = [pytest.mark.interop, pytest.mark.netns]

PEER = Path(__file__).parent / "peers" / "cyclone_peer.py"
PREFIX = bytes.fromhex("01f7aabbccdd000000000001")


class CyclonePeer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(PEER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def call(self, **req: object) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        assert reply["ok"], reply
        return reply

    def close(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            self.call(cmd="quit")
        finally:
            self.proc.wait(timeout=10)


class RtbusNode:
    """Sockets + wire + SPDP/SEDP machines: a minimal discovery-only rtbus participant."""

    def __init__(self, domain: int) -> None:
        self.mc_port = spdp_multicast_port(domain)
        self.mc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.mc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.mc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.mc.bind(("", self.mc_port))
        mreq = socket.inet_aton(SPDP_MULTICAST_GROUP) + socket.inet_aton("127.0.0.1")
        self.mc.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.uc.bind(("127.0.0.1", 0))
        self.uc.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                           socket.inet_aton("127.0.0.1"))
        self.uc.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        uport = self.uc.getsockname()[1]
        me = wire.Locator.udpv4("127.0.0.1", uport)
        self.local = ParticipantData(
            guid_prefix=PREFIX, domain_id=domain, lease_duration=10.0,
            metatraffic_unicast=(me,), default_unicast=(me,),
            metatraffic_multicast=(wire.Locator.udpv4(SPDP_MULTICAST_GROUP, self.mc_port),),
            entity_name="rtbus-interop")
        self.t0 = time.monotonic()
        self.spdp = Spdp(self.local, now=0.0, config=SpdpConfig(initial_period=0.1))
        self.sedp = Sedp(PREFIX)
        self.events: list[object] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def perform(self, outputs: list) -> None:
        for o in outputs:
            if not isinstance(o, Send):
                self.events.append(o)
                continue
            builder = wire.MessageBuilder(PREFIX)
            if o.dest_prefix is not None:
                builder.add(wire.InfoDst(o.dest_prefix))
            builder.add_all(o.submessages)
            for datagram in builder.datagrams():
                for loc in o.locators:
                    self.uc.sendto(datagram, (loc.host, loc.port))

    def handle_datagram(self, datagram: bytes) -> None:
        now = self.now()
        msg = wire.parse_message(datagram)
        for rec in msg.received:
            sub = rec.submessage
            self.spdp.refresh(rec.src_prefix, now)
            writer_id = getattr(sub, "writer_id", None)
            if writer_id == wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER:
                self.spdp_outputs(self.spdp.handle_data(rec.src_prefix, sub, now), now)
            else:
                self.perform(self.sedp.handle_submessage(rec.src_prefix, sub, now,
                                                         rec.timestamp))

    def spdp_outputs(self, outputs: list, now: float) -> None:
        for out in outputs:
            self.perform([out])
            if isinstance(out, (ParticipantDiscovered, ParticipantUpdated)):
                self.perform(self.sedp.participant_discovered(out.data, now))
            elif isinstance(out, ParticipantLost):
                self.perform(self.sedp.participant_lost(out.guid_prefix, now))

    def run(self, seconds: float, until=None) -> None:
        end = self.now() + seconds
        while self.now() < end:
            now = self.now()
            if now >= self.spdp.next_timer():
                self.spdp_outputs(self.spdp.handle_timer(now), now)
            t = self.sedp.next_timer()
            if t is not None and now >= t:
                self.perform(self.sedp.handle_timer(now))
            readable, _, _ = select.select([self.mc, self.uc], [], [], 0.02)
            for sock in readable:
                self.handle_datagram(sock.recv(65536))
            if until is not None and until():
                return

    def close(self) -> None:
        self.perform(self.spdp.shutdown())
        self.mc.close()
        self.uc.close()


@pytest.fixture
def peer():
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")
    p = CyclonePeer()
    yield p
    p.close()


def test_rtbus_and_cyclone_discover_each_other(peer, domain_id):
    node = RtbusNode(domain_id)
    try:
        peer.call(cmd="participant", domain=domain_id)
        cyclone_writer = peer.call(cmd="writer", topic="Square", reliable=True,
                                   transient_local=True, partition=["shapes"],
                                   deadline_ns=250_000_000, exclusive_strength=7)["guid"]
        reader_guid = PREFIX + b"\x00\x00\x01\x07"
        node.perform(node.sedp.add_local(EndpointData(
            role="reader", endpoint_guid=reader_guid, topic_name="Square",
            type_name="ShapeType",
            qos=Qos(reliability="reliable", partition=["sha*"], deadline=0.5,
                    ownership="exclusive", data_representation=(0, 2)),
            participant_guid=node.local.guid), node.now()))

        def cyclone_matched() -> bool:
            return any(isinstance(e, EndpointMatched) for e in node.events)

        node.run(10.0, until=cyclone_matched)
        # rtbus saw Cyclone's participant and writer
        assert any(p[:12] == bytes.fromhex(cyclone_writer)[:12] for p in node.spdp.participants)
        discovered = [e.data for e in node.events if isinstance(e, RemoteEndpointDiscovered)]
        (w,) = [d for d in discovered if d.endpoint_guid.hex() == cyclone_writer]
        assert (w.topic_name, w.type_name) == ("Square", "ShapeType")
        assert w.qos.reliability == "reliable" and w.qos.durability == "transient_local"
        assert w.qos.partition == ("shapes",)
        # Duration_t is seconds + 1/2^32 fractions on Cyclone's wire, as we encode it
        assert w.qos.deadline == 0.25
        assert w.qos.ownership == "exclusive" and w.qos.ownership_strength == 7
        assert w.type_information is not None
        (m,) = [e for e in node.events if isinstance(e, EndpointMatched)]
        assert m.local_guid == reader_guid and m.remote.endpoint_guid == w.endpoint_guid

        # and Cyclone saw rtbus's participant and reader (via its builtin topic readers)
        deadline = time.monotonic() + 10.0
        subs: list = []
        while time.monotonic() < deadline:
            node.run(0.3)
            parts = peer.call(cmd="participants")["keys"]
            subs = peer.call(cmd="subscriptions")["endpoints"]
            if node.local.guid.hex() in parts and any(
                    s["key"] == reader_guid.hex() for s in subs):
                break
        assert node.local.guid.hex() in peer.call(cmd="participants")["keys"]
        (s,) = [s for s in subs if s["key"] == reader_guid.hex()]
        assert (s["topic"], s["type"]) == ("Square", "ShapeType")
        assert s["participant"] == node.local.guid.hex()
        assert "Policy.Deadline(deadline=500000000)" in s["qos"]
        assert "Policy.Ownership.Exclusive" in s["qos"]
        assert "Policy.Reliability.Reliable(max_blocking_time=100000000)" in s["qos"]
        assert any(q.startswith("Policy.Partition(partitions=('sha*',)") for q in s["qos"])

        # a writer of ours, with the writer-only policies, as Cyclone's DCPSPublication shows it
        writer_guid = PREFIX + b"\x00\x00\x02\x02"
        node.perform(node.sedp.add_local(EndpointData(
            role="writer", endpoint_guid=writer_guid, topic_name="Circle",
            type_name="ShapeType", participant_guid=node.local.guid,
            qos=Qos(durability="transient_local", history=("keep_last", 10),
                    ownership="exclusive", ownership_strength=10, lifespan=2.5,
                    liveliness="manual_by_participant", liveliness_lease=4.0)), node.now()))

        def ours(reply):
            return [p for p in reply["endpoints"] if p["key"] == writer_guid.hex()]

        (pub,) = ours(wait_for(node, peer, "publications", ours))
        assert (pub["topic"], pub["type"]) == ("Circle", "ShapeType")
        for expected in ("Policy.Durability.TransientLocal", "Policy.History.KeepLast(depth=10)",
                         "Policy.Ownership.Exclusive", "Policy.OwnershipStrength(strength=10)",
                         "Policy.Lifespan(lifespan=2500000000)",
                         "Policy.Liveliness.ManualByParticipant(lease_duration=4000000000)"):
            assert expected in pub["qos"], (expected, pub["qos"])
    finally:
        node.close()




def wait_for(node: RtbusNode, peer: CyclonePeer, cmd: str, predicate, seconds: float = 10.0):
    """Run our node until the peer's answer to ``cmd`` satisfies ``predicate``."""
    deadline = time.monotonic() + seconds
    reply: dict = {}
    while time.monotonic() < deadline:
        node.run(0.2)
        reply = peer.call(cmd=cmd)
        if predicate(reply):
            break
    return reply


def test_incompatible_qos_removal_and_participant_loss(peer, domain_id):
    node = RtbusNode(domain_id)
    try:
        peer.call(cmd="participant", domain=domain_id)
        best_effort = peer.call(cmd="writer", topic="Square", reliable=False)["guid"]
        reader_guid = PREFIX + b"\x00\x00\x02\x07"
        node.perform(node.sedp.add_local(EndpointData(
            role="reader", endpoint_guid=reader_guid, topic_name="Square",
            type_name="ShapeType", qos=Qos(reliability="reliable"),
            participant_guid=node.local.guid), node.now()))
        node.run(10.0, until=lambda: any(isinstance(e, IncompatibleQos) for e in node.events))
        (inc,) = [e for e in node.events if isinstance(e, IncompatibleQos)]
        assert inc.remote_guid.hex() == best_effort
        assert inc.policies == (RELIABILITY_QOS_POLICY_ID,)
        assert not any(isinstance(e, EndpointMatched) for e in node.events)

        def ours_alive(reply):
            return any(s["key"] == reader_guid.hex() and s["alive"] for s in reply["endpoints"])

        assert ours_alive(wait_for(node, peer, "subscriptions", ours_alive))
        # removing our reader disposes it in Cyclone's DCPSSubscription
        node.perform(node.sedp.remove_local(reader_guid, node.now()))
        assert not ours_alive(wait_for(node, peer, "subscriptions",
                                       lambda r: not ours_alive(r)))

        # Cyclone leaving is seen at once (its SPDP dispose), not after the lease
        peer.close()
        node.run(5.0, until=lambda: any(isinstance(e, ParticipantLost) for e in node.events))
        (lost,) = [e for e in node.events if isinstance(e, ParticipantLost)]
        assert lost.guid_prefix.hex() == best_effort[:24] and lost.reason == "disposed"
        removed = [e.guid.hex() for e in node.events if isinstance(e, RemoteEndpointRemoved)]
        assert best_effort in removed
    finally:
        node.close()
