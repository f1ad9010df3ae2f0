"""HistoryCache: KEEP_LAST replacement per instance, KEEP_ALL resource limits, ordering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.errors import QosError
from rtbus.rtps.history import CacheChange, HistoryCache, HistoryFull, HistoryQos

K1 = b"\x01" * 16
K2 = b"\x02" * 16
K3 = b"\x03" * 16


def change(seq: int, key: bytes | None = K1) -> CacheChange:
    return CacheChange(seq, key, b"x%d" % seq)


def test_keep_last_replaces_oldest_of_same_instance_only() -> None:
    h = HistoryCache(HistoryQos("keep_last", depth=2))
    assert h.add(change(1, K1)) == []
    assert h.add(change(2, K2)) == []
    assert h.add(change(3, K1)) == []
    evicted = h.add(change(4, K1))
    assert isinstance(evicted, list) and [c.seq for c in evicted] == [1]
    assert [c.seq for c in h] == [2, 3, 4]
    assert h.instance_seqs(K1) == (3, 4)
    assert h.instance_seqs(K2) == (2,)
    assert h.min_seq() == 2 and h.max_seq() == 4


def test_keep_all_refuses_at_each_limit() -> None:
    h = HistoryCache(HistoryQos("keep_all", max_samples=3, max_instances=2,
                                max_samples_per_instance=2))
    assert h.add(change(1, K1)) == []
    assert h.add(change(2, K1)) == []
    assert h.add(change(3, K1)) == HistoryFull("max_samples_per_instance", 2)
    assert h.add(change(3, K2)) == []
    assert h.add(change(4, K3)) == HistoryFull("max_samples", 3)
    h.remove(1)
    assert h.add(change(4, K3)) == HistoryFull("max_instances", 2)
    assert h.add(change(4, K2)) == []
    assert len(h) == 3


def test_keep_last_max_instances() -> None:
    h = HistoryCache(HistoryQos("keep_last", depth=1, max_instances=1))
    assert h.add(change(1, K1)) == []
    assert h.add(change(2, K2)) == HistoryFull("max_instances", 1)
    assert [c.seq for c in h.add(change(3, K1))] == [1]  # replacing within the instance fits


def test_remove_up_to_and_instance_cleanup() -> None:
    h = HistoryCache(HistoryQos("keep_all"))
    for s in range(1, 11):
        h.add(change(s, K1 if s % 2 else K2))
    removed = h.remove_up_to(6)
    assert [c.seq for c in removed] == [1, 2, 3, 4, 5, 6]
    assert h.min_seq() == 7
    assert h.instance_seqs(K1) == (7, 9)
    h.remove_up_to(100)
    assert len(h) == 0 and h.instance_count == 0 and h.min_seq() is None and h.max_seq() == 0


def test_sequence_numbers_must_increase() -> None:
    h = HistoryCache()
    h.add(change(5))
    with pytest.raises(ValueError):
        h.add(change(5))


def test_keyless_topic_uses_single_instance() -> None:
    h = HistoryCache(HistoryQos("keep_last", depth=3))
    for s in range(1, 6):
        h.add(change(s, None))
    assert [c.seq for c in h] == [3, 4, 5]
    assert h.instance_count == 1


@pytest.mark.parametrize("kwargs", [
    {"kind": "keep_some"}, {"depth": 0}, {"max_samples": 0},
    {"depth": 5, "max_samples_per_instance": 2},
])
def test_invalid_qos_rejected(kwargs: dict) -> None:
    with pytest.raises(QosError):
        HistoryQos(**kwargs)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([K1, K2, K3]), st.booleans()), max_size=60),
       st.integers(1, 4))
def test_keep_last_matches_model(ops: list[tuple[bytes, bool]], depth: int) -> None:
    """Against a trivial model: the newest ``depth`` changes of every instance survive."""
    h = HistoryCache(HistoryQos("keep_last", depth=depth))
    model: dict[bytes, list[int]] = {}
    seq = 0
    for key, remove_oldest in ops:
        seq += 1
        h.add(change(seq, key))
        model.setdefault(key, []).append(seq)
        model[key] = model[key][-depth:]
        if remove_oldest and h.min_seq() is not None:
            low = h.min_seq()
            gone = h.remove(low)
            assert gone is not None
            model[gone.key_hash].remove(low)
    expect = sorted(s for seqs in model.values() for s in seqs)
    assert [c.seq for c in h] == expect
    assert h.min_seq() == (expect[0] if expect else None)
    for key, seqs in model.items():
        assert h.instance_seqs(key) == tuple(seqs)
