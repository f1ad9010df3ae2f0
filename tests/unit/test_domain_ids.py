"""The session's domain-id allocator (tests/conftest.py) and the guard that keeps tests on it.

Tests that open sockets take their DDS domain from the ``domain_id`` fixture (a second one
from ``new_domain_id``): hand-picked ids collided when a test was copied, and a participant
lingering from one test then leaked into the next. The guard below fails on a new hard-coded
id in the suites that open sockets, naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from rtbus.rtps.ports import MAX_DOMAIN_ID, port_mapping
from tests.conftest import RESERVED_DOMAIN_IDS, DomainIdAllocator
from tests.support.doc_blocks import DOCS, blocks

ROOT = Path(__file__).resolve().parents[2]


# --- the allocator -----------------------------------------------------------------------------

def test_every_id_is_handed_out_once_before_any_repeats() -> None:
    ids = DomainIdAllocator()
    got = [ids() for _ in range(len(ids.ids))]
    assert len(set(got)) == len(got) == MAX_DOMAIN_ID + 1 - len(RESERVED_DOMAIN_IDS)
    assert got == sorted(got)  # in order: a run hands out the same ids to the same tests
    assert ids.exhausted


def test_ids_are_valid_domains_whose_ports_exist() -> None:
    ids = DomainIdAllocator()
    assert min(ids.ids) >= 0 and max(ids.ids) == MAX_DOMAIN_ID == 232
    for d in ids.ids:
        assert port_mapping(d, 0).user_unicast <= 65535  # raises if not


def test_reserved_ids_are_never_handed_out() -> None:
    ids = DomainIdAllocator()
    got = {ids() for _ in range(3 * len(ids.ids))}
    assert 0 in RESERVED_DOMAIN_IDS and not got & RESERVED_DOMAIN_IDS
    custom = DomainIdAllocator(reserved={0, 5, 7}, first=0, last=9)
    assert {custom() for _ in range(20)} == {1, 2, 3, 4, 6, 8, 9}


def test_once_exhausted_ids_cycle_but_never_repeat_back_to_back() -> None:
    ids = DomainIdAllocator(reserved=(), first=10, last=11)
    assert not ids.exhausted
    got = [ids() for _ in range(7)]
    assert got == [10, 11, 10, 11, 10, 11, 10] and ids.exhausted
    assert all(a != b for a, b in pairwise(got))


def test_xdist_workers_share_no_id() -> None:
    workers = [DomainIdAllocator(worker=k, workers=3) for k in range(3)]
    per_worker = [set(w.ids) for w in workers]
    assert not (per_worker[0] & per_worker[1] or per_worker[1] & per_worker[2]
                or per_worker[0] & per_worker[2])
    assert set.union(*per_worker) == set(DomainIdAllocator().ids)


@pytest.mark.parametrize("kwargs", [{"first": 0, "last": MAX_DOMAIN_ID + 1},
                                    {"first": -1, "last": 10},
                                    {"reserved": {1}, "first": 1, "last": 2}])
def test_a_range_that_cannot_serve_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="domain id"):
        DomainIdAllocator(**kwargs)


def test_the_fixtures_draw_from_the_one_session_allocator(
        domain_id: int, new_domain_id: Callable[[], int]) -> None:
    assert isinstance(new_domain_id, DomainIdAllocator)
    allocator = new_domain_id
    assert domain_id == allocator.ids[(allocator.handed_out - 1) % len(allocator.ids)]
    second = new_domain_id()
    assert second != domain_id and second not in RESERVED_DOMAIN_IDS


def test_the_ids_the_docs_use_are_reserved() -> None:
    """README and docs/*.md blocks run in tests/system/test_docs.py, `rtbus demo` with its
    default domain included: a test domain must never be one of theirs."""
    used = {0}  # the default of Participant(), `rtbus demo` and `rtbus-shape-main`
    literal = re.compile(r"domain_id\s*=\s*(\d+)|Participant\(\s*(\d+)|--domain[\s=]+(\d+)")
    for path in DOCS:
        for block in blocks(path):
            used |= {int(next(g for g in m.groups() if g)) for m in literal.finditer(block.code)}
    assert used <= RESERVED_DOMAIN_IDS, sorted(used - RESERVED_DOMAIN_IDS)


# --- the guard: no hard-coded domain ids in the suites that open sockets ------------------------

GUARDED = ("tests/interop", "tests/system", "tests/fuzz", "tests/conformance")
#: A line that must hold a literal domain id says so with this comment (and why).
ON_PURPOSE = "# literal domain id:"
HARD_CODED = [
    # rtbus.Participant(5, ...), cyclonedds DomainParticipant(5)
    (re.compile(r"\b(?:Domain)?Participant\(\s*\d"), "a participant on a literal domain"),
    # domain=5, domain_id=5, "domain": 5, DOMAIN = 5, XML domain_id="5"
    (re.compile(r"\bdomain(?:_id)?\b[\"']?\s*[=:]\s*[\"']?\d", re.IGNORECASE),
     "a literal domain id"),
    # `rtbus demo --domain 5`, `cyclonedds ps --id 5`, `rtbus-shape-main -d 5`, also as
    # separate argv items ("--domain", "5")
    (re.compile(r"(?<![\w-])(?:--domain|--id|-d)\b[\"']?[\s,=]+[\"']?\d"),
     "a literal domain id on a command line"),
    # @pytest.mark.parametrize("size,domain", [(1 << 20, 44), ...])
    (re.compile(r"parametrize\(\s*[\"'][^\"']*\bdomain", re.IGNORECASE),
     "domain ids as test parameters"),
]


def hard_coded_domain_ids(root: Path = ROOT) -> list[str]:
    """``file:line: what`` for every line of the guarded suites that hard-codes a domain id."""
    found = []
    for top in GUARDED:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".py", ".xml") or not path.is_file():
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if ON_PURPOSE in line:
                    continue
                for pattern, what in HARD_CODED:
                    if pattern.search(line):
                        found.append(f"{path.relative_to(root)}:{n}: {what}: {line.strip()}")
                        break
    return found


def test_no_test_hard_codes_a_domain_id() -> None:
    found = hard_coded_domain_ids()
    assert not found, ("take the domain from the domain_id fixture (a second one from "
                       "new_domain_id; see tests/conftest.py), not a number:\n"
                       + "\n".join(found))


@pytest.mark.parametrize("line", [
    "    with rtbus.Participant(41) as p:",
    "    dp = DomainParticipant(0)",
    "    with rtbus.Participant(domain_id=7, multicast=False) as p:",
    "DOMAIN = 23",
    "    domain = 46 + representation",
    '        peer.call(cmd="participant", domain=17)',
    '  {"cmd": "participant", "domain": 17}',
    '    <domain name="Shapes" domain_id="5">',
    '    run = subprocess.run([sys.executable, "-m", "rtbus", "demo", "--domain", "58"])',
    '    run = subprocess.run([cli, "ps", "--id", "131"])',
    '    _start("rtbus", "-P -t Square -d 95 -w")',
    "    rtbus demo --domain=3",
    '@pytest.mark.parametrize("size,domain", [(1 << 20, 44), (8 << 20, 45)])',
])
def test_the_guard_catches(line: str, tmp_path: Path) -> None:
    (tmp_path / "tests" / "system").mkdir(parents=True)
    (tmp_path / "tests" / "system" / "test_x.py").write_text(f"ok = 1\n{line}\n")
    assert [f.split(": ")[0] for f in hard_coded_domain_ids(tmp_path)] == \
        ["tests/system/test_x.py:2"]


@pytest.mark.parametrize("line", [
    "    with rtbus.Participant(domain_id) as p:",
    "    other = DomainParticipant(new_domain_id())",
    "    wrong_domain = DataReader(other, topic)",
    '    <domain name="Shapes" domain_id="DOMAIN_ID">',
    '    run = subprocess.run([cli, "ps", "--id", str(domain_id)])',
    '    _start("rtbus", f"-P -t Square -d {domain_id} -w")',
    "    assert p.domain_id == 0",
    "    rtbus.Participant(233)  # literal domain id: out of range, refused",
])
def test_the_guard_lets_pass(line: str, tmp_path: Path) -> None:
    (tmp_path / "tests" / "interop").mkdir(parents=True)
    (tmp_path / "tests" / "interop" / "test_x.py").write_text(f"{line}\n")
    assert hard_coded_domain_ids(tmp_path) == []
