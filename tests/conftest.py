"""Test-suite wide setup: every test runs inside a private network namespace.

The first thing pytest does here is re-execute itself under ``unshare`` (see ``rtbus.netns``)
unless it already runs in such a namespace, so no DDS datagram a test sends (rtbus, Cyclone,
RTI) can leave the machine. Where namespaces are unavailable the suite runs with
``RTBUS_NETNS=0`` and network tests use loopback-only unicast discovery. Hypothesis runs
derandomized unless ``RTBUS_HYPOTHESIS=explore``. Tests that open sockets take their DDS domain
from the ``domain_id`` fixture (more from ``new_domain_id``), never a number of their own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from rtbus import netns
from rtbus.rtps.ports import MAX_DOMAIN_ID

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
    if _DOMAIN_IDS.handed_out > len(_DOMAIN_IDS.ids):
        terminalreporter.write_line(
            f"{_DOMAIN_IDS.handed_out} domain ids were handed out but only "
            f"{len(_DOMAIN_IDS.ids)} exist: some tests shared a domain with an earlier one",
            yellow=True)
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


# --- domain ids ----------------------------------------------------------------------------
# A test that opens sockets gets its DDS domain here instead of picking a number: hand-picked
# ids collided when a test was copied, and a participant lingering from one test (a Cyclone
# participant its process keeps, a peer process not yet gone) then leaked into the next.
# tests/unit/test_domain_ids.py checks the allocator and that no hard-coded id comes back.

#: Ids the allocator never hands out: 0 is the domain the docs' examples and README blocks use
#: (tests/system/test_docs.py runs them, `rtbus demo` included) and the default of `rtbus demo`
#: and `rtbus-shape-main`, so a test left on the default cannot meet a test's participants.
RESERVED_DOMAIN_IDS = frozenset({0})


class DomainIdAllocator:
    """Hands out the domain ids ``first..last`` except ``reserved``, each once, in order; only
    when all are used does it start over (and two calls in a row still get different ids).

    Under pytest-xdist every worker shares the suite's network namespace, so worker ``k`` of
    ``n`` takes only the ids ``d % n == k``: workers never share a domain either.
    """

    def __init__(self, reserved: Collection[int] = RESERVED_DOMAIN_IDS, *, first: int = 0,
                 last: int = MAX_DOMAIN_ID, worker: int = 0, workers: int = 1) -> None:
        if not 0 <= first <= last <= MAX_DOMAIN_ID:
            raise ValueError(f"domain ids must lie within 0..{MAX_DOMAIN_ID} (the largest whose "
                             f"RTPS ports stay below 65536), got {first}..{last}")
        self.ids = tuple(d for d in range(first, last + 1)
                         if d not in reserved and d % workers == worker)
        if len(self.ids) < 2:
            raise ValueError(f"{len(self.ids)} domain id(s) left in {first}..{last} after "
                             f"excluding {sorted(reserved)} (worker {worker} of {workers}): "
                             "at least 2 are needed so consecutive tests never share one")
        self.handed_out = 0

    def __call__(self) -> int:
        domain = self.ids[self.handed_out % len(self.ids)]
        self.handed_out += 1
        return domain

    @property
    def exhausted(self) -> bool:
        """Every id has been handed out: the next one repeats an earlier test's."""
        return self.handed_out >= len(self.ids)


def _xdist_worker() -> tuple[int, int]:
    """(this worker's index, the number of workers); (0, 1) without pytest-xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not name.startswith("gw"):
        return 0, 1
    return int(name[2:]), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


_WORKER, _WORKERS = _xdist_worker()
_DOMAIN_IDS = DomainIdAllocator(worker=_WORKER, workers=_WORKERS)


@pytest.fixture(scope="session")
def new_domain_id() -> Callable[[], int]:
    """A fresh domain id on each call, from the one session-wide allocator: for a test that
    needs a second domain, or a module-scoped fixture (which cannot use ``domain_id``)."""
    return _DOMAIN_IDS


@pytest.fixture
def domain_id(new_domain_id: Callable[[], int]) -> int:
    """This test's own DDS domain id: no other test of the run gets it (see DomainIdAllocator)."""
    return new_domain_id()
