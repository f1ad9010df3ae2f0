"""Interface-selection scenarios, run by test_interfaces.py each in a fresh network namespace.

It creates veth interfaces, which is only safe where nothing but our own loopback exists: it
refuses to run unless it is inside an rtbus namespace (``RTBUS_NETNS=1``) that holds only
``lo``, so it can never touch the host's interfaces. Each scenario prints one JSON line of
facts (what was chosen, what was announced, what arrived); the test makes the assertions.

    select D1..D8  participants choose among lo, va (10.77.0.1) and vb (10.78.0.1 + 10.78.0.9)
                   by argument, environment and config file; a second participant on the same
                   interface reports the locators it received in the first one's SPDP
                   announcement; each case on its own domain, D1..D8 in the order of the cases
    errors D1 D2   wrong names and addresses, an interface without IPv4, broken config files
                   (domain D1); an interface that is down (used, with a warning; domain D2)
    pair MODE D    a writer here and a reader in a nested namespace, joined by a veth pair
                   (va 10.77.0.1 here, vb 10.77.0.2 there), both on domain D; MODE multicast:
                   automatic selection and SPDP multicast; MODE unicast: multicast off, initial
                   peers only (the reader side configured through RTBUS_PEERS and
                   RTBUS_MULTICAST=0); MODE unicast-one-side: the same, but only the writer
                   lists a peer

Domain ids come from the test (the suite's ``domain_id`` fixture), never from here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import rtbus
import rtbus.idl
from rtbus import netns

Shape = rtbus.idl.load(Path(__file__).resolve().parents[3] / "idl" / "shape.idl").ShapeType
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")
SAMPLES = 200


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def guard_fresh_namespace() -> None:
    """Refuse to create interfaces anywhere but in a fresh rtbus namespace."""
    links = sorted(name for _, name in socket.if_nameindex())  # this namespace's (not /sys's)
    if not netns.inside() or links != ["lo"]:
        sys.exit(f"refusing to create interfaces: RTBUS_NETNS={os.environ.get('RTBUS_NETNS')!r}, "
                 f"interfaces {links} (expected a fresh rtbus namespace with only lo)")


def link_up(name: str, *addresses: str) -> None:
    for address in addresses:
        sh("ip", "addr", "add", address, "dev", name)
    sh("ip", "link", "set", name, "up", "multicast", "on")


def joined_groups() -> dict[str, list[str]]:
    """Multicast groups joined per device in this namespace, from the kernel (/proc/net/igmp)."""
    groups: dict[str, list[str]] = {}
    device = ""
    for line in Path("/proc/net/igmp").read_text().splitlines()[1:]:
        if not line.startswith("\t"):
            device = line.split()[1]
            groups[device] = []
        else:
            raw = int(line.split()[0], 16).to_bytes(4, sys.byteorder)
            groups[device].append(socket.inet_ntoa(raw))
    return groups


def facts(dp: rtbus.Participant) -> dict[str, Any]:
    node = dp.node
    local = node.local_participant_data()
    assert local is not None
    return {
        "interface": node.choice.interface.name, "address": node.choice.interface.address,
        "reason": node.choice.reason, "multicast": node.multicast,
        "metatraffic_unicast": [str(loc) for loc in local.metatraffic_unicast],
        "metatraffic_multicast": [str(loc) for loc in local.metatraffic_multicast],
        "default_unicast": [str(loc) for loc in local.default_unicast],
        "sockets": [{"port": s.address[1], "group": s.group} for s in node.transport.sockets],
    }


def wait_until(predicate: Any, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def seen_by(observer: rtbus.Participant, subject: rtbus.Participant) -> dict[str, Any] | None:
    """The locators ``observer`` received in ``subject``'s SPDP announcement (None: not seen)."""
    core = observer.node.driver.core
    assert core is not None
    if not wait_until(lambda: subject.guid_prefix in core.spdp.participants):
        return None
    data = core.spdp.participants[subject.guid_prefix].data
    return {"metatraffic_unicast": [str(loc) for loc in data.metatraffic_unicast],
            "default_unicast": [str(loc) for loc in data.default_unicast]}


# --- select --------------------------------------------------------------------------------
def select_case(domain: int, interface: str | None, env: str | None, config: str | None,
                observe_on: str | None) -> dict[str, Any]:
    """``observe_on`` None: the observer uses the address the subject chose."""
    os.environ.pop("RTBUS_INTERFACE", None)
    os.environ.pop("RTBUS_CONFIG", None)
    if env is not None:
        os.environ["RTBUS_INTERFACE"] = env
    if config is not None:
        path = Path(f"/tmp/rtbus-netcfg-{os.getpid()}-{domain}.toml")
        path.write_text(f'[network]\ninterface = "{config}"\n')
        os.environ["RTBUS_CONFIG"] = str(path)
    with rtbus.Participant(domain, interface=interface) as subject:
        result = facts(subject)
        os.environ.pop("RTBUS_INTERFACE", None)
        os.environ.pop("RTBUS_CONFIG", None)
        observe_on = observe_on or subject.node.choice.interface.address
        with rtbus.Participant(domain, interface=observe_on) as observer:
            result["seen_by_peer"] = seen_by(observer, subject)
    return result


def select(*domains: str) -> dict[str, Any]:
    guard_fresh_namespace()
    sh("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
    link_up("va", "10.77.0.1/24")
    link_up("vb", "10.78.0.1/24", "10.78.0.9/24")
    cases: dict[str, tuple[str | None, ...]] = {
        # name: (argument, RTBUS_INTERFACE, config file, where the observer listens)
        "argument_name": ("va", None, None, "va"),
        "argument_address": ("10.77.0.1", None, None, "va"),
        "argument_secondary_address": ("10.78.0.9", None, None, "10.78.0.9"),
        "environment": (None, "vb", None, "vb"),
        "config_file": (None, None, "10.77.0.1", "va"),
        "argument_beats_environment_and_config": ("va", "vb", "lo", "va"),
        "environment_beats_config": (None, "vb", "va", "vb"),
        "automatic": (None, None, None, None),
    }
    if len(domains) != len(cases):
        sys.exit(f"select needs {len(cases)} domain ids (one per case), got {len(domains)}")
    return {name: select_case(int(domain), *case)
            for domain, (name, case) in zip(domains, cases.items(), strict=True)}


# --- errors --------------------------------------------------------------------------------
def error_of(fn: Any) -> dict[str, str] | None:
    try:
        fn()
    except Exception as exc:  # the test checks the type by name
        return {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc)}
    return None


def errors(domain: str, down_domain: str) -> dict[str, Any]:
    guard_fresh_namespace()
    d = int(domain)
    sh("ip", "link", "add", "va", "type", "veth", "peer", "name", "vc")
    link_up("va", "10.77.0.1/24")
    link_up("vc")  # up, but no IPv4 address
    os.environ.pop("RTBUS_INTERFACE", None)
    os.environ.pop("RTBUS_CONFIG", None)
    out: dict[str, Any] = {
        "wrong_name": error_of(lambda: rtbus.Participant(d, interface="eth7")),
        "wrong_address": error_of(lambda: rtbus.Participant(d, interface="10.99.0.1")),
        "no_ipv4": error_of(lambda: rtbus.Participant(d, interface="vc")),
    }
    os.environ["RTBUS_INTERFACE"] = "wlan9"
    out["wrong_environment"] = error_of(lambda: rtbus.Participant(d))
    del os.environ["RTBUS_INTERFACE"]
    os.environ["RTBUS_CONFIG"] = "/tmp/rtbus-no-such-config.toml"
    out["missing_config"] = error_of(lambda: rtbus.Participant(d))
    bad = Path(f"/tmp/rtbus-bad-{os.getpid()}.toml")
    bad.write_text("[network]\ninterface = va\n")  # unquoted string: not TOML
    os.environ["RTBUS_CONFIG"] = str(bad)
    out["bad_toml"] = error_of(lambda: rtbus.Participant(d))
    bad.write_text('[network]\ninterfase = "va"\n')
    out["unknown_key"] = error_of(lambda: rtbus.Participant(d))
    del os.environ["RTBUS_CONFIG"]
    out["down"] = down_interface_is_used_with_a_warning(int(down_domain))
    return out


def down_interface_is_used_with_a_warning(domain: int) -> dict[str, Any]:
    sh("ip", "link", "add", "vd", "type", "veth", "peer", "name", "ve")
    sh("ip", "addr", "add", "10.79.0.1/24", "dev", "vd")  # left down
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("rtbus.transport").addHandler(handler)
    try:
        with rtbus.Participant(domain, interface="vd") as dp:
            chosen = facts(dp)
    finally:
        logging.getLogger("rtbus.transport").removeHandler(handler)
    return {"chosen": chosen, "warnings": [r.getMessage() for r in records
                                           if r.levelno == logging.WARNING]}


# --- pair ----------------------------------------------------------------------------------
def has_link(name: str) -> bool:
    return name in {n for _, n in socket.if_nameindex()}


def veth_stats(name: str) -> dict[str, int]:
    """Packet counters of ``name`` in this namespace (/proc/net/dev; /sys shows the host's)."""
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        dev, _, counters = line.partition(":")
        if dev.strip() == name:
            fields = counters.split()
            return {"rx_bytes": int(fields[0]), "rx_packets": int(fields[1]),
                    "tx_bytes": int(fields[8]), "tx_packets": int(fields[9])}
    raise LookupError(name)


def pair(mode: str, domain: str) -> dict[str, Any]:
    guard_fresh_namespace()
    reader = subprocess.Popen(["unshare", "-n", "--", sys.executable, __file__, "pair-reader",
                               mode, domain], stdout=subprocess.PIPE, text=True)
    sh("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
    sh("ip", "link", "set", "vb", "netns", str(reader.pid))
    link_up("va", "10.77.0.1/24")
    os.environ.pop("RTBUS_INTERFACE", None)
    os.environ.pop("RTBUS_CONFIG", None)
    unicast = mode in ("unicast", "unicast-one-side")
    kwargs: dict[str, Any] = {"multicast": False, "peers": ["10.77.0.2"]} if unicast else {}
    result: dict[str, Any] = {}
    with rtbus.Participant(int(domain), **kwargs) as dp:
        writer = dp.create_writer(dp.create_topic("Square", Shape), RELIABLE)
        result["matched"] = writer.wait_for_matched(1, 20)
        for i in range(SAMPLES):
            writer.write(Shape(color="BLUE", x=i, y=0, shapesize=1, additional_payload_size=[]))
        result["acknowledged"] = writer.wait_for_acknowledgments(20)
        result["writer"] = facts(dp)
        result["writer_groups"] = joined_groups()
        result["va"] = veth_stats("va")  # now: va disappears with the reader's namespace
        out, _ = reader.communicate(timeout=60)
    result["reader_exit"] = reader.returncode
    result["reader"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    return result


def pair_reader(mode: str, domain: str) -> dict[str, Any]:
    """In the nested namespace: wait for vb to be moved here, then read SAMPLES samples."""
    if not wait_until(lambda: has_link("vb"), 20):
        sys.exit("vb never arrived in the reader's namespace")
    sh("ip", "link", "set", "lo", "up")
    link_up("vb", "10.77.0.2/24")
    if mode in ("unicast", "unicast-one-side"):
        os.environ["RTBUS_MULTICAST"] = "0"
    if mode == "unicast":
        os.environ["RTBUS_PEERS"] = "10.77.0.1"
    result: dict[str, Any] = {}
    with rtbus.Participant(int(domain)) as dp:
        reader = dp.create_reader(dp.create_topic("Square", Shape), RELIABLE)
        result["matched"] = reader.wait_for_matched(1, 20)
        got: list[int] = []
        end = time.monotonic() + 30
        while len(got) < SAMPLES and time.monotonic() < end:
            got += [s.data.x for s in reader.take(timeout=0.5)]
        result["got"] = got
        result["reader"] = facts(dp)
        result["groups"] = joined_groups()
        core = dp.node.driver.core
        assert core is not None
        result["writer_participant_locators"] = [
            [str(loc) for loc in p.data.metatraffic_unicast]
            for p in core.spdp.participants.values()]
        time.sleep(0.5)  # let the last ACKNACK reach the writer before leaving
    result["vb"] = veth_stats("vb")
    return result


if __name__ == "__main__":
    scenario, args = sys.argv[1], sys.argv[2:]
    handlers = {"select": select, "errors": errors, "pair": pair, "pair-reader": pair_reader}
    print(json.dumps(handlers[scenario](*args)), flush=True)
