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
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from rtbus import netns

# Property tests: the same examples on every run by default, so the README's test command
# (and CI) is reproducible and a red run can be repeated; RTBUS_HYPOTHESIS=explore draws new
# random examples and more of them, for hunting (what it finds becomes an explicit test).
settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("RTBUS_HYPOTHESIS", "repeatable"))

# Tests whose oracle is cyclonedds-python (or that run it as a peer) need it installed; on an
# install without it they are left out and listed in the summary, so `pytest tests/unit`
# still runs everything else. CI installs it (the test extra), so there they all run.
try:
    import cyclonedds  # noqa: F401
    _CYCLONE_MISSING = False
except ImportError:
    _CYCLONE_MISSING = True
_NEEDS_CYCLONE = ("cyclonedds", "tests.support.corpus", "tests.support.key_types",
                  "tests.support.paired_types", "tests.support.cyclone_bridge")
_left_out: list[str] = []


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not _CYCLONE_MISSING or collection_path.suffix != ".py" \
            or not collection_path.name.startswith("test_"):
        return None
    text = collection_path.read_text(errors="replace")
    if any(f"import {m}" in text or f"from {m}" in text for m in _NEEDS_CYCLONE):
        _left_out.append(str(collection_path.relative_to(config.rootpath)))
        return True
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _left_out:
        terminalreporter.write_line(
            f"cyclonedds is not installed: {len(_left_out)} test modules that use it as "
            f"oracle or peer were not run: {', '.join(sorted(_left_out))}", yellow=True)


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
