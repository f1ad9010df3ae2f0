"""Test-suite wide setup: every test runs inside a private network namespace.

The first thing pytest does here is re-execute itself under ``unshare`` (see ``rtbus.netns``)
unless it already runs in such a namespace, so no DDS datagram a test sends (rtbus, Cyclone,
RTI) can leave the machine. Where namespaces are unavailable the suite runs with
``RTBUS_NETNS=0`` and network tests use loopback-only unicast discovery. Hypothesis runs
derandomized unless ``RTBUS_HYPOTHESIS=explore``.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import settings

from rtbus import netns

# Property tests: the same examples on every run by default, so the README's test command
# (and CI) is reproducible and a red run can be repeated; RTBUS_HYPOTHESIS=explore draws new
# random examples and more of them, for hunting (what it finds becomes an explicit test).
settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("RTBUS_HYPOTHESIS", "repeatable"))


def pytest_configure(config: pytest.Config) -> None:
    if netns.inside() or os.environ.get(netns.ENV_FLAG) == "0":
        return
    wrapped = netns.wrap([sys.executable, "-m", "pytest", *config.invocation_params.args])
    if wrapped is None:
        os.environ[netns.ENV_FLAG] = "0"
        return
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.suspend_global_capture(in_=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(str(config.invocation_params.dir))
    os.execvp(wrapped[0], wrapped)
