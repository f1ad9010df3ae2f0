"""`cyclonedds ps` (Cyclone's own CLI) shows an rtbus participant's host, process name and
pid: rtbus announces them in SPDP as Cyclone does (PID_PROPERTY_LIST: __Hostname,
__ProcessName, __Pid), and reads Cyclone's back through the DCPSParticipant builtin topic."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

import rtbus
import rtbus.idl
from rtbus import netns
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.interop


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def test_cyclonedds_ps_shows_rtbus_host_process_and_pid(domain_id: int) -> None:
    cli = shutil.which("cyclonedds")
    assert cli, "the cyclonedds CLI comes with cyclonedds-python"
    with open("/proc/self/comm") as f:
        process = f.read().strip()
    shape = rtbus.idl.load(SHAPE_IDL).ShapeType
    with rtbus.Participant(domain_id) as dp:
        dp.create_writer(dp.create_topic("Square", shape))  # ps lists applications by topic
        run = subprocess.run([cli, "ps", "--id", str(domain_id), "--runtime", "3s",
                              "--suppress-progress-bar", "--color", "none"],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in run.stdout.splitlines() if line.startswith("│")]
    assert [socket.gethostname(), process, str(os.getpid())] in [r[:3] for r in rows], \
        run.stdout


def test_rtbus_reads_cyclones_process_properties(domain_id: int) -> None:
    from cyclonedds.domain import DomainParticipant

    cdp = DomainParticipant(domain_id)
    with rtbus.Participant(domain_id) as dp:
        reader = dp.create_reader(rtbus.DCPSParticipant)
        seen: list = []
        remote = bytes(cdp.guid.bytes)[:12]

        def found() -> bool:
            seen.extend(reader.take())
            return any(s.data.key[:12] == remote for s in seen)

        assert wait_until(found, 20), [s.data for s in seen]
        theirs = next(s.data for s in seen if s.data.key[:12] == remote)
        assert theirs.property("__Pid") == str(os.getpid())
        assert theirs.property("__Hostname") == socket.gethostname()
    del cdp
