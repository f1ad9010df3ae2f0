"""Instance state transitions from status-info flags and lost writers."""

from __future__ import annotations

from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.instances import InstanceState, InstanceTable, ViewState

K = b"\x07" * 16
W1, W2 = "writer-1", "writer-2"


def test_sample_dispose_rebirth_counts_generation() -> None:
    t = InstanceTable()
    up = t.on_change(K, W1, 0)
    assert up.instance is not None and up.instance.state == InstanceState.ALIVE
    assert up.instance.view_state == ViewState.NEW and not up.state_changed
    t.mark_viewed(K)
    up = t.on_change(K, W1, STATUS_DISPOSED)
    assert up.state_changed and up.instance is not None
    assert up.instance.state == InstanceState.NOT_ALIVE_DISPOSED
    assert not t.on_change(K, W1, STATUS_DISPOSED).state_changed  # disposing twice: no news
    up = t.on_change(K, W2, 0)
    inst = up.instance
    assert inst is not None and inst.state == InstanceState.ALIVE
    assert inst.disposed_generation == 1 and inst.no_writers_generation == 0
    assert inst.view_state == ViewState.NEW


def test_unregister_goes_no_writers_only_when_last_writer_leaves() -> None:
    t = InstanceTable()
    t.on_change(K, W1, 0)
    t.on_change(K, W2, 0)
    up = t.on_change(K, W1, STATUS_UNREGISTERED)
    assert not up.state_changed and up.instance is not None
    assert up.instance.state == InstanceState.ALIVE
    up = t.on_change(K, W2, STATUS_UNREGISTERED)
    assert up.state_changed and up.instance is not None
    assert up.instance.state == InstanceState.NOT_ALIVE_NO_WRITERS
    up = t.on_change(K, W1, 0)
    assert up.instance is not None and up.instance.no_writers_generation == 1
    assert up.instance.state == InstanceState.ALIVE


def test_dispose_and_unregister_together_stays_disposed() -> None:
    t = InstanceTable()
    t.on_change(K, W1, 0)
    up = t.on_change(K, W1, STATUS_DISPOSED | STATUS_UNREGISTERED)
    assert up.state_changed and up.instance is not None
    assert up.instance.state == InstanceState.NOT_ALIVE_DISPOSED
    assert up.instance.writers == set()
    assert t.purge(K)
    assert t.get(K) is None


def test_key_only_dispose_of_unknown_instance_creates_disposed_unregister_ignored() -> None:
    t = InstanceTable()
    assert t.on_change(K, W1, STATUS_UNREGISTERED).instance is None
    assert len(t) == 0
    up = t.on_change(K, W1, STATUS_DISPOSED)
    assert up.state_changed and up.instance is not None
    assert up.instance.state == InstanceState.NOT_ALIVE_DISPOSED


def test_writer_lost_affects_only_instances_it_alone_kept_alive() -> None:
    t = InstanceTable()
    k2 = b"\x08" * 16
    t.on_change(K, W1, 0)
    t.on_change(k2, W1, 0)
    t.on_change(k2, W2, 0)
    changed = t.on_writer_lost(W1)
    assert [i.key_hash for i in changed] == [K]
    assert t.get(K).state == InstanceState.NOT_ALIVE_NO_WRITERS  # type: ignore[union-attr]
    assert t.get(k2).state == InstanceState.ALIVE  # type: ignore[union-attr]
    assert not t.purge(k2)
