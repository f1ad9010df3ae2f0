"""Writer and reader statuses and their listeners, between two rtbus participants."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import rtbus
import rtbus.idl
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
RELIABILITY_QOS_POLICY_ID = 11


def test_matched_status_counts_and_listener_both_sides(domain_id: int) -> None:
    seen: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def record(side: str) -> Any:
        def fn(ep: Any, st: rtbus.MatchedStatus) -> None:
            with lock:
                seen.append((side, st.current_count, st.current_count_change))
        return fn

    with rtbus.Participant(domain_id) as a:
        w = a.create_writer(a.create_topic("Square", Shape), reliability="reliable",
                            listeners={"on_publication_matched": record("writer")})
        b = rtbus.Participant(domain_id)
        r = b.create_reader(b.create_topic("Square", Shape), reliability="reliable")
        assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
        st = w.publication_matched_status()  # the listener consumed the change
        assert (st.total_count, st.total_count_change, st.current_count) == (1, 0, 1)
        assert st.last_handle == r.guid
        rs = r.subscription_matched_status()  # no listener: the change waits to be read
        assert (rs.current_count, rs.current_count_change, rs.last_handle) == (1, 1, w.guid)
        again = r.subscription_matched_status()  # reading resets the changes
        assert (again.total_count_change, again.current_count_change) == (0, 0)
        b.close()  # announces its departure: the writer unmatches at once
        assert wait_until(lambda: w.publication_matched_status().current_count == 0)
        with lock:
            assert seen == [("writer", 1, 1), ("writer", 0, -1)], seen


def test_incompatible_reliability_is_counted_with_its_policy_id(domain_id: int) -> None:
    offered: list[rtbus.IncompatibleQosStatus] = []
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape), reliability="best_effort")
        w.on_offered_incompatible_qos = lambda ep, st: offered.append(st)
        r = b.create_reader(b.create_topic("Square", Shape), reliability="reliable")
        assert wait_until(lambda: r._statuses.incompatible_qos.total_count >= 1)
        st = r.requested_incompatible_qos_status()
        assert st.last_policy_id == RELIABILITY_QOS_POLICY_ID and st.total_count_change >= 1
        assert st.policies[RELIABILITY_QOS_POLICY_ID] >= 1
        assert r.requested_incompatible_qos_status().total_count_change == 0
        assert wait_until(lambda: bool(offered))
        assert offered[0].last_policy_id == RELIABILITY_QOS_POLICY_ID
        assert w.matched_count == 0 and r.matched_count == 0


def test_same_type_name_different_type_is_an_inconsistent_topic(domain_id: int) -> None:
    mine = rtbus.idl.loads("struct Foo { long a; };").Foo
    theirs = rtbus.idl.loads("struct Foo { string b; double c; };").Foo
    hits: list[rtbus.InconsistentTopicStatus] = []
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Thing", mine), reliability="reliable")
        w.on_inconsistent_topic = lambda ep, st: hits.append(st)
        r = b.create_reader(b.create_topic("Thing", theirs), reliability="reliable")
        assert wait_until(lambda: r.inconsistent_topic_status().total_count >= 1)
        assert wait_until(lambda: bool(hits))
        assert w.matched_count == 0 and r.matched_count == 0


def test_listeners_given_at_creation_see_peers_that_are_already_there(domain_id: int) -> None:
    calls: list[tuple[int, int]] = []
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        readers = [b.create_reader(b.create_topic("Square", Shape), reliability="reliable")
                   for _ in range(3)]
        w = a.create_writer(a.create_topic("Square", Shape), reliability="reliable",
                            listeners={"on_publication_matched": lambda ep, st: calls.append(
                                (st.current_count, st.current_count_change))})
        assert w.wait_for_matched(3, 10) and all(r.wait_for_matched(1, 10) for r in readers)
        assert wait_until(lambda: len(calls) == 3)
        # each call reports its own change: the listener consumed the previous one
        assert calls == [(1, 1), (2, 1), (3, 1)]
    with pytest.raises(TypeError, match=r"unknown listener 'on_publication_matched'.*"
                       r"on_subscription_matched"):
        with rtbus.Participant(domain_id) as c:
            c.create_reader(c.create_topic("Square", Shape),
                            listeners={"on_publication_matched": print})
