import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.qos import Qos
from rtbus.rtps.builtin_data import EndpointData
from rtbus.rtps.matching import (
    DATA_REPRESENTATION_QOS_POLICY_ID,
    DEADLINE_QOS_POLICY_ID,
    DESTINATIONORDER_QOS_POLICY_ID,
    DURABILITY_QOS_POLICY_ID,
    LATENCYBUDGET_QOS_POLICY_ID,
    LIVELINESS_QOS_POLICY_ID,
    OWNERSHIP_QOS_POLICY_ID,
    PRESENTATION_QOS_POLICY_ID,
    RELIABILITY_QOS_POLICY_ID,
    incompatible_policies,
    match,
    partition_names_match,
    partitions_match,
)


def ep(role, topic="Square", type_name="ShapeType", typeinfo=None, **qos):
    return EndpointData(role=role, endpoint_guid=bytes(16), topic_name=topic,
                        type_name=type_name, qos=Qos(**qos), type_information=typeinfo)


@pytest.mark.parametrize("offered, requested, policy", [
    ({"reliability": "best_effort"}, {"reliability": "reliable"}, RELIABILITY_QOS_POLICY_ID),
    ({"durability": "volatile"}, {"durability": "transient_local"}, DURABILITY_QOS_POLICY_ID),
    ({"durability": "transient_local"}, {"durability": "persistent"}, DURABILITY_QOS_POLICY_ID),
    ({"deadline": 1.0}, {"deadline": 0.5}, DEADLINE_QOS_POLICY_ID),
    ({}, {"deadline": 0.5}, DEADLINE_QOS_POLICY_ID),  # infinite offered
    ({"latency_budget": 0.2}, {"latency_budget": 0.1}, LATENCYBUDGET_QOS_POLICY_ID),
    ({"liveliness": "automatic"}, {"liveliness": "manual_by_topic"}, LIVELINESS_QOS_POLICY_ID),
    ({"liveliness_lease": 2.0}, {"liveliness_lease": 1.0}, LIVELINESS_QOS_POLICY_ID),
    ({"ownership": "exclusive"}, {}, OWNERSHIP_QOS_POLICY_ID),
    ({}, {"ownership": "exclusive"}, OWNERSHIP_QOS_POLICY_ID),
    ({}, {"destination_order": "by_source_timestamp"}, DESTINATIONORDER_QOS_POLICY_ID),
    ({"presentation": ("instance", False, False)}, {"presentation": ("topic", False, False)},
     PRESENTATION_QOS_POLICY_ID),
    ({"presentation": ("group", False, False)}, {"presentation": ("group", True, False)},
     PRESENTATION_QOS_POLICY_ID),
    ({"data_representation": (2,)}, {"data_representation": (0,)},
     DATA_REPRESENTATION_QOS_POLICY_ID),
])
def test_each_incompatibility_reported(offered, requested, policy):
    assert incompatible_policies(Qos(**offered), Qos(**requested)) == [policy]


def test_offering_more_is_compatible():
    offered = Qos(reliability="reliable", durability="persistent", deadline=0.1,
                  latency_budget=0.0, liveliness="manual_by_topic", liveliness_lease=0.5,
                  destination_order="by_source_timestamp", presentation=("group", True, True),
                  data_representation=(2, 0))
    requested = Qos(reliability="best_effort", durability="volatile", deadline=1.0,
                    latency_budget=0.5, liveliness="automatic", liveliness_lease=math.inf,
                    presentation=("instance", False, False), data_representation=(0, 2))
    assert incompatible_policies(offered, requested) == []


def test_several_incompatibilities_listed_in_id_order():
    bad = incompatible_policies(Qos(reliability="best_effort", deadline=2.0),
                                Qos(reliability="reliable", deadline=1.0,
                                    durability="transient_local"))
    assert bad == [DURABILITY_QOS_POLICY_ID, DEADLINE_QOS_POLICY_ID, RELIABILITY_QOS_POLICY_ID]


@pytest.mark.parametrize("a, b, expected", [
    ("x", "x", True), ("x", "y", False), ("a*", "abc", True), ("abc", "a*", True),
    ("a?c", "abc", True), ("a*", "b*", False), ("a*", "a*", True), ("[ab]x", "bx", True),
    ("", "", True), ("*", "", True), ("A*", "abc", False),
])
def test_partition_name_rules(a, b, expected):
    assert partition_names_match(a, b) is expected


def test_partition_lists():
    assert partitions_match([], [])
    assert partitions_match([], [""])
    assert not partitions_match(["a"], [])
    assert partitions_match(["x", "partA"], ["part*"])
    assert not partitions_match(["p1"], ["p2", "q*"])


def test_match_checks_topic_type_qos_partition():
    w = ep("writer", partition=["partA"], durability="transient_local")
    assert match(w, ep("reader", partition=["part*"])).matched
    assert match(w, ep("reader", topic="Circle")).reason == "topic"
    assert match(w, ep("reader", type_name="Other")).reason == "type"
    r = match(w, ep("reader", partition=["part*"], durability="persistent"))
    assert r.reason == "qos" and r.incompatible == [DURABILITY_QOS_POLICY_ID]
    assert match(w, ep("reader", partition=["other"])).reason == "partition"


def test_type_check_used_only_when_both_have_type_information():
    calls = []

    def check(w, r):
        calls.append((w.type_name, r.type_name))
        return True

    w = ep("writer", type_name="A", typeinfo=b"ti")
    assert match(w, ep("reader", type_name="B", typeinfo=b"ti"), check).matched
    assert calls == [("A", "B")]
    assert match(w, ep("reader", type_name="B"), check).reason == "type"
    assert not match(w, ep("reader", type_name="A", typeinfo=b"x"),
                     lambda w, r: False).matched


def test_undecided_type_check_is_pending_not_a_mismatch():
    w = ep("writer", type_name="A", typeinfo=b"ti")
    r = match(w, ep("reader", type_name="A", typeinfo=b"other"), lambda w, r: None)
    assert not r.matched and r.reason == "type_pending"


durations = st.sampled_from([0.0, 0.5, 1.0, math.inf])


@settings(max_examples=150, deadline=None)
@given(st.builds(Qos, reliability=st.sampled_from(["best_effort", "reliable"]),
                 durability=st.sampled_from(["volatile", "transient_local", "persistent"]),
                 deadline=durations, latency_budget=durations, liveliness_lease=durations),
       st.builds(Qos, reliability=st.sampled_from(["best_effort", "reliable"]),
                 durability=st.sampled_from(["volatile", "transient_local", "persistent"]),
                 deadline=durations, latency_budget=durations, liveliness_lease=durations))
def test_self_compatible_and_stricter_offer_never_adds_incompatibilities(a, b):
    assert incompatible_policies(a, a) == []
    stricter = a.replace(reliability="reliable", durability="persistent", deadline=0.0,
                         latency_budget=0.0, liveliness_lease=0.0)
    assert set(incompatible_policies(stricter, b)) <= set(incompatible_policies(a, b))
