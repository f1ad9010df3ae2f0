"""Fuzzing rtbus participants with mutations of real RTPS traffic (issue: robustness).

Two variants: the sans-IO ``ParticipantCore`` fed directly (deterministic, seeded), and a live
participant on real loopback sockets that must keep serving a reliable stream while a fuzzer
socket sprays its unicast ports. ``RTBUS_FUZZ_EXAMPLES`` sets the number of mutated datagrams.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import struct
import time
import traceback

import pytest

import rtbus
import rtbus.idl
from rtbus.rtps import wire
from rtbus.rtps.participant import ParticipantCore
from tests.support.paths import SHAPE_IDL

from .corpus import CAPTURES, Mutator, capture_seeds, submessages

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("RTBUS_FUZZ_EXAMPLES", "100000"))
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")
SHAPES = rtbus.idl.load(SHAPE_IDL)
Shape = SHAPES.ShapeType


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


# --- sans-IO ---------------------------------------------------------------------------------

def _matched_core() -> tuple[ParticipantCore, list[bytes]]:
    """A core whose reliable readers matched Cyclone's writers from the stored capture."""
    core = ParticipantCore(bytes(range(12)), 0,
                           metatraffic_unicast=(wire.Locator.udpv4("127.0.0.1", 7410),),
                           default_unicast=(wire.Locator.udpv4("127.0.0.1", 7411),))
    for topic, type_name in (("Square", "ShapeType"), ("WireCapture", "wirecap::Blob")):
        core.add_reader(topic, type_name, RELIABLE, True, 0.0)
    entries = json.loads((CAPTURES / "cyclone11_reliable_keyed_fragments.json").read_text())
    for e in entries:
        core.receive(bytes.fromhex(e["hex"]), ("127.0.0.1", 7400), float(e["t"]))
    return core, [bytes.fromhex(e["hex"]) for e in entries]


def test_sans_io_core_survives_mutated_captures() -> None:
    core, _ = _matched_core()
    events = core.events()
    assert any(type(e).__name__ == "EndpointMatched" for e in events)
    assert sum(type(e).__name__ == "Delivered" for e in events) > 10
    assert not core.counters, "the unmutated capture must parse cleanly"
    mutator = Mutator(capture_seeds(), seed=20261123)
    now = 5.0
    failures: list[tuple[bytes, str]] = []
    bad_ports = 0  # sends to ports > 65535 (once a fuzzer find, see test_locator_port_*)
    for i, dgram in enumerate(mutator.batch(EXAMPLES)):
        now += 0.0001
        try:
            core.receive(dgram, ("127.0.0.1", 7400), now)
            if i % 256 == 0:
                core.handle_timer(now)
            bad_ports += sum(not 0 <= a[1] <= 65535 for _, a in core.datagrams_to_send())
            core.events()
        except Exception:
            failures.append((dgram, traceback.format_exc()))
            if len(failures) >= 5:
                break
    assert bad_ports == 0
    assert not failures, "core raised on (hex, traceback):\n" + "\n".join(
        f"{d.hex()}\n{tb}" for d, tb in failures)
    assert sum(v for k, v in core.counters.items() if k.startswith("malformed_")) > 0
    assert sum(v for k, v in core.counters.items() if k.startswith("dropped_")) > 0
    print(f"\nsans-IO fuzz: {EXAMPLES} datagrams, sends to invalid ports: {bad_ports}, "
          f"counters={dict(core.counters.most_common(10))}")
    # still alive: timers run and a fresh, valid reader can be added and announced
    core.handle_timer(now + 1.0)
    core.add_reader("Circle", "ShapeType", RELIABLE, True, now + 1.0)
    assert core.datagrams_to_send()


def test_locator_port_out_of_range_is_rejected() -> None:
    """Found by the fuzzer: a peer announcing locator port 70000 (RTPS ports are uint32 on the
    wire, UDP ports 16-bit) must be dropped or ignored, never become a send destination."""
    core, entries = _matched_core()
    core.events()
    core.datagrams_to_send()
    spdp = bytearray(next(d for d in entries if b"\x31\x00\x18\x00\x01\x00\x00\x00" in d))
    for pid in (b"\x31\x00", b"\x32\x00"):  # default and metatraffic unicast locators
        i = spdp.find(pid + b"\x18\x00\x01\x00\x00\x00")
        while i >= 0:
            struct.pack_into("<I", spdp, i + 8, 70000)
            i = spdp.find(pid + b"\x18\x00\x01\x00\x00\x00", i + 1)
    core.receive(bytes(spdp), ("127.0.0.1", 7400), 10.0)
    core.add_reader("Circle", "ShapeType", RELIABLE, True, 10.0)
    core.handle_timer(20.0)
    ports = [addr[1] for _, addr in core.datagrams_to_send()]
    assert ports and all(0 <= p <= 65535 for p in ports), ports
    assert core.counters["bad_locator_port"] > 0


# --- live ------------------------------------------------------------------------------------

def shape(color: str, x: int, payload: int = 0) -> object:
    return Shape(color=color, x=x, y=2, shapesize=30, additional_payload_size=[7] * payload)


def _record(participant: rtbus.Participant, into: list[bytes]) -> object:
    core = participant.node.driver.core
    original = core.receive

    def recording(datagram: bytes, addr: tuple[str, int], now: float) -> None:
        into.append(bytes(datagram))
        original(datagram, addr, now)

    core.receive = recording  # type: ignore[method-assign]
    return original


def test_take_survives_sample_with_corrupt_payload(domain_id: int) -> None:
    """Found by the fuzzer: a DATA whose ShapeType color is not NUL-terminated reaches the
    reader cache; take() must drop (and count) it instead of raising."""
    with rtbus.Participant(domain_id) as victim, rtbus.Participant(domain_id) as peer:
        reader = victim.create_reader(victim.create_topic("Square", Shape), RELIABLE)
        recorded: list[bytes] = []
        _record(victim, recorded)
        writer = peer.create_writer(peer.create_topic("Square", Shape), RELIABLE)
        assert writer.wait_for_matched(1, 10)
        writer.write(shape("RED", 0))
        assert writer.wait_for_acknowledgments(10)
        assert [s.data.x for s in reader.take(timeout=2)] == [0]
        dgram = next(d for d in recorded if b"RED\x00" in d)
        header, subs = dgram[:20], submessages(dgram)
        k = next(i for i, sub in enumerate(subs) if sub[0] == 0x15)  # DATA
        data = bytearray(subs[k])
        struct.pack_into("<iI", data, 16, 0, 2)  # the writer's next sequence number
        i = data.find(b"RED\x00")
        data[i:i + 4] = b"REDD"  # string no longer NUL-terminated
        subs[k] = bytes(data)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(header + b"".join(subs),
                   (victim.node.choice.interface.address, victim.node.mapping.user_unicast))
        raw.close()
        writer.write(shape("RED", 1))  # seq 2 as well: dropped as a duplicate
        writer.write(shape("RED", 2))
        got: list = []
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(s.data.x == 2 for s in got):
            got += reader.take(timeout=0.5)
        assert [s.data.x for s in got] == [2]
        assert reader.decode_errors == 1


def test_live_participant_keeps_reliable_stream_under_fuzz(caplog: pytest.LogCaptureFixture,
                                                          domain_id: int) -> None:
    caplog.set_level(logging.ERROR)
    with rtbus.Participant(domain_id) as victim, rtbus.Participant(domain_id) as seeder, \
            rtbus.Participant(domain_id) as streamer:
        reader = victim.create_reader(victim.create_topic("Square", Shape), RELIABLE)
        # 1. record the real traffic the victim receives from a matched peer (the seeder)
        recorded: list[bytes] = []
        original = _record(victim, recorded)
        seed_writer = seeder.create_writer(seeder.create_topic("Square", Shape), RELIABLE)
        assert seed_writer.wait_for_matched(1, 10)
        for i in range(40):
            seed_writer.write(shape("RED", i, payload=20000 if i % 10 == 0 else 0))
        seed_writer.dispose(shape("RED", 39))
        assert seed_writer.wait_for_acknowledgments(10)
        victim.node.driver.core.receive = original  # type: ignore[method-assign]
        seeder_prefix = bytes(seeder.node.driver.core.prefix)
        streamer_prefix = bytes(streamer.node.driver.core.prefix)
        live_seeds = [d for d in recorded if d[8:20] == seeder_prefix]
        # every sample reached the victim, whether one per datagram or batched
        data_subs = sum(isinstance(r.submessage, (wire.Data, wire.DataFrag))
                        for d in live_seeds for r in wire.parse_message(d).received)
        assert data_subs > 40, data_subs
        # seeds: live traffic from a peer the victim knows (reaches its proxies) + Cyclone captures
        mutator = Mutator(live_seeds * 3 + capture_seeds(), seed=4242)
        mutants = mutator.batch(EXAMPLES + EXAMPLES // 4)  # slack: see "processed" below
        datagrams = [d for d in mutants  # the checked stream must not be spoofed
                     if d[8:20] != streamer_prefix]
        reader.take()

        # 2. the reliable stream we check, from a third participant
        writer = streamer.create_writer(streamer.create_topic("Square", Shape), RELIABLE)
        assert writer.wait_for_matched(1, 10)
        vt, st, wt = victim.node.transport, seeder.node.transport, streamer.node.transport
        m = victim.node.mapping
        host = victim.node.choice.interface.address
        ports = (m.metatraffic_unicast, m.user_unicast)
        legit_tx = lambda: st.counters["tx_datagrams"] + wt.counters["tx_datagrams"] + \
            vt.counters["tx_datagrams"]  # noqa: E731 - upper bound of non-fuzz traffic
        rx0, legit0 = vt.counters["rx_datagrams"], legit_tx()
        rss0 = _rss_mb()
        fuzz = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = written = 0
        got: list = []
        batch = 256
        deadline = time.monotonic() + 240
        try:
            while time.monotonic() < deadline:
                processed = vt.counters["rx_datagrams"] - rx0 - (legit_tx() - legit0)
                if processed >= EXAMPLES or sent >= len(datagrams):
                    break
                for d in datagrams[sent:sent + batch]:
                    fuzz.sendto(d, (host, ports[sent & 1]))
                    sent += 1
                for _ in range(4):  # ~1,600 samples per 100k datagrams, every 50th fragmented
                    writer.write(shape("BLUE", written,
                                       payload=20000 if written % 50 == 0 else 0))
                    written += 1
                got += reader.take()
                # pace: let the victim drain its socket so the kernel does not drop the fuzz
                while vt.counters["rx_datagrams"] - rx0 < sent - 2 * batch and \
                        time.monotonic() < deadline:
                    time.sleep(0.001)
        finally:
            fuzz.close()
        processed = vt.counters["rx_datagrams"] - rx0 - (legit_tx() - legit0)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            got += reader.take(timeout=0.5)
            xs = [s.data.x for s in got if s.info.writer_guid == writer.guid and s.info.valid_data]
            if len(xs) >= written:
                break
        rss_growth = _rss_mb() - rss0
        counters = victim.node.driver.core.counters
        print(f"\nfuzz: sent={sent} processed>={processed} written={written} "
              f"rss_growth={rss_growth:.1f}MB undecodable={reader.decode_errors} "
              f"counters={dict(counters.most_common(12))}")
        assert vt.counters["rx_handler_errors"] == 0
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [r.getMessage() + (r.exc_text or "") for r in errors]
        assert processed >= EXAMPLES
        assert xs == list(range(written)), "reliable stream incomplete, duplicated or reordered"
        assert writer.wait_for_acknowledgments(10)
        assert sum(v for k, v in counters.items() if k.startswith("malformed_")) > 0
        assert sum(v for k, v in counters.items() if k.startswith("dropped_")) > 0
        assert rss_growth < 300
