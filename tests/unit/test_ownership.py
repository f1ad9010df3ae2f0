"""EXCLUSIVE ownership arbitration in the sans-IO reader cache (rtbus.rtps.ownership).

Driven through ``ReaderCache.accept`` with the writers' announced QoS, as the reader core
drives it; no sockets, no clock but the ``now`` passed in.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.qos import Qos
from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.instances import InstanceState
from rtbus.rtps.ownership import ExclusiveOwnership
from tests.support.stage_reader import KEY_A, KEY_B, StageReader, guid


class Reader(StageReader):
    """A reader cache with the ownership stage, and what it delivered, by writer."""

    def __init__(self) -> None:
        self.stage = ExclusiveOwnership()
        super().__init__(self.stage, step=0.01)

    def match(self, writer: bytes, strength: int = 0) -> list[Any]:  # type: ignore[override]
        return super().match(writer, Qos(ownership="exclusive", ownership_strength=strength))

    def restrength(self, writer: bytes, strength: int) -> None:
        self.update(writer, Qos(ownership="exclusive", ownership_strength=strength))

    def write(self, writer: bytes, key: bytes = KEY_A, status: int = 0) -> bool:
        """True when the change entered the history."""
        return self.offer(writer, key, status)

    def owner(self, key: bytes = KEY_A) -> Any:
        inst = self.instance(key)
        return None if inst is None else inst.owner


def test_the_stronger_writer_owns_and_the_weaker_is_not_delivered() -> None:
    r = Reader()
    primary, backup = guid(2), guid(1)
    r.match(primary, 10)
    r.match(backup, 5)
    assert r.write(backup)  # the first writer of an instance takes it
    assert r.write(primary)  # a stronger one takes it over at its first sample
    assert not r.write(backup)
    assert r.write(primary)
    assert r.owner() == primary
    assert r.cache.counters["filtered"] == 1


def test_equal_strength_the_lower_guid_wins_bytewise() -> None:
    r = Reader()
    low, high = bytes([0x01]) + bytes(15), bytes([0x02]) + bytes(14) + b"\x00"
    r.match(high, 7)
    r.match(low, 7)
    assert r.write(high)
    assert r.write(low)  # as strong, lower GUID: takes it
    assert not r.write(high)
    assert r.owner() == low


def test_ownership_is_per_instance() -> None:
    r = Reader()
    a, b = guid(1), guid(2)
    r.match(a, 10)
    r.match(b, 5)
    assert r.write(a, KEY_A)
    assert r.write(b, KEY_B)  # a never wrote B: b owns it
    assert not r.write(b, KEY_A)
    assert r.owner(KEY_A) == a and r.owner(KEY_B) == b


def test_the_backup_takes_over_when_the_owner_is_lost_and_the_instance_stays_alive() -> None:
    r = Reader()
    primary, backup = guid(1), guid(2)
    r.match(primary, 10)
    r.match(backup, 5)
    r.write(primary)
    assert not r.write(backup)
    r.lose(primary)  # unmatched, deleted, or its participant's lease ended
    assert r.state() is InstanceState.ALIVE  # the backup still writes it: no NO_WRITERS
    assert r.write(backup)
    assert r.owner() == backup
    # failback: a new primary (restarted: another GUID) takes it at its first sample
    restarted = guid(3)
    r.match(restarted, 10)
    assert r.write(restarted)
    assert not r.write(backup)


def test_when_the_owner_unregisters_the_backup_takes_over() -> None:
    r = Reader()
    primary, backup = guid(1), guid(2)
    r.match(primary, 10)
    r.match(backup, 5)
    r.write(primary)
    r.write(backup)
    r.write(primary, status=STATUS_UNREGISTERED)
    assert r.owner() is None and r.state() is InstanceState.ALIVE
    assert r.write(backup)


def test_without_owner_only_the_strongest_live_writer_of_the_instance_takes_it() -> None:
    r = Reader()
    strong, middle, weak = guid(1), guid(2), guid(3)
    for w, s in ((strong, 10), (middle, 7), (weak, 5)):
        r.match(w, s)
    r.write(strong)
    r.write(middle)
    r.write(weak)
    r.lose(strong)
    assert not r.write(weak)  # middle is alive and stronger
    assert r.write(middle)


def test_a_non_owner_can_neither_dispose_nor_unregister() -> None:
    r = Reader()
    owner, other = guid(1), guid(2)
    r.match(owner, 10)
    r.match(other, 5)
    r.write(owner)
    r.write(other)
    assert not r.write(other, status=STATUS_DISPOSED)
    assert r.state() is InstanceState.ALIVE
    assert not r.write(other, status=STATUS_UNREGISTERED)
    assert r.owner() == owner
    r.lose(owner)  # other unregistered: no live writer is left
    assert r.state() is InstanceState.NOT_ALIVE_NO_WRITERS


def test_a_strength_change_at_run_time_moves_ownership_at_the_next_sample() -> None:
    r = Reader()
    primary, standby = guid(1), guid(2)
    r.match(primary, 10)
    r.match(standby, 5)
    r.write(primary)
    assert not r.write(standby)
    r.restrength(standby, 20)  # its re-announcement
    assert r.write(standby)
    assert not r.write(primary)
    r.restrength(primary, 30)
    assert r.write(primary)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["write", "write", "write", "lose", "strength",
                                           "unregister"]),
                          st.integers(0, 3), st.integers(0, 20)), max_size=80))
def test_only_a_writer_no_live_writer_of_the_instance_outranks_is_delivered(
        ops: list[tuple[str, int, int]]) -> None:
    """For any interleaving of writes, losses (kills, deletes), unregisters and strength
    changes, a sample is delivered exactly when its writer outranks every other live writer
    that writes the instance: never a weaker writer's while a stronger one lives, and the
    strongest is never starved. Deliveries therefore come from one owner at a time."""
    r = Reader()
    strength: dict[bytes, int] = {}
    alive: set[bytes] = set()
    writes_it: set[bytes] = set()  # live writers of the instance (wrote, not unregistered)
    next_id = 1

    def rank(w: bytes) -> tuple[int, bytes]:
        return strength[w], bytes(255 - b for b in w)

    def writer(i: int) -> bytes:
        nonlocal next_id
        live = sorted(alive)
        if i < len(live):
            return live[i]
        w = guid(next_id)  # a new (or restarted) writer
        next_id += 1
        strength[w] = i * 3
        alive.add(w)
        r.match(w, strength[w])
        return w

    for op, i, value in ops:
        w = writer(i)
        if op == "lose":
            r.lose(w)
            alive.discard(w)
            writes_it.discard(w)
        elif op == "strength":
            strength[w] = value
            r.restrength(w, value)
        elif op == "unregister":
            r.write(w, status=STATUS_UNREGISTERED)
            writes_it.discard(w)
        else:
            want = all(rank(x) < rank(w) for x in writes_it if x != w)
            assert r.write(w) == want, (op, w, strength, writes_it)
            writes_it.add(w)
