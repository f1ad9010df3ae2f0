import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.errors import MalformedError, QosError
from rtbus.qos import Qos
from rtbus.rtps.wire.constants import PID_DEADLINE, PID_RELIABILITY
from rtbus.rtps.wire.qos_params import (
    duration_from_wire,
    duration_to_wire,
    policies_to_wire,
    qos_from_wire,
)


def test_defaults_are_dds_writer_defaults():
    q = Qos()
    assert q.reliability == "reliable" and q.durability == "volatile"
    assert q.history == ("keep_last", 1) and q.deadline == math.inf
    assert q.partition == () and q.data_representation == (0,)


def test_keyword_arguments_normalized():
    q = Qos(reliability="reliable", durability="transient_local", history=("keep_last", 10),
            deadline=0.5, ownership="exclusive", ownership_strength=10, partition=["a*"])
    assert q.history_depth == 10 and q.history_kind == "keep_last"
    assert q.partition == ("a*",)
    assert Qos(partition="x").partition == ("x",)
    assert Qos(history="keep_all").history_kind == "keep_all"


@pytest.mark.parametrize("kwargs, fragment", [
    ({"reliability": "sometimes"}, "reliability: expected one of best_effort, reliable"),
    ({"durability": "forever"}, "durability"),
    ({"history": ("keep_last", 0)}, "keep_last depth must be an integer >= 1"),
    ({"history": "keep_some"}, "history: expected"),
    ({"deadline": -1}, "deadline: expected a duration"),
    ({"deadline": float("nan")}, "deadline"),
    ({"ownership_strength": 2**40}, "ownership_strength"),
    ({"partition": [1]}, "partition"),
    ({"resource_limits": (0, -1, -1)}, "max_samples"),
    ({"history": ("keep_last", 5), "resource_limits": (-1, -1, 2)}, "exceeds"),
    ({"data_representation": (7,)}, "data_representation"),
    ({"user_data": "text"}, "user_data: expected bytes"),
])
def test_invalid_settings_raise_qos_error(kwargs, fragment):
    with pytest.raises(QosError, match=fragment.replace("(", r"\(")):
        Qos(**kwargs)


def test_replace_validates_and_rejects_unknown():
    q = Qos().replace(reliability="best_effort")
    assert q.reliability == "best_effort"
    with pytest.raises(QosError, match="unknown QoS policy 'relyability'"):
        Qos().replace(relyability="reliable")
    with pytest.raises(QosError):
        Qos().replace(durability="x")


def test_duration_wire_encoding():
    assert duration_to_wire(math.inf) == bytes.fromhex("ffffff7fffffffff")
    assert duration_to_wire(10) == bytes.fromhex("0a00000000000000")
    assert duration_to_wire(0.5) == bytes.fromhex("0000000000000080")
    assert duration_from_wire(bytes.fromhex("ffffff7fffffffff")) == math.inf
    with pytest.raises(MalformedError):
        duration_from_wire(bytes.fromhex("ffffffff00000000"))


def test_cyclone_reliability_encoding():
    # Cyclone 11 announced a reliable writer with max_blocking_time 0 as this (capture)
    q = qos_from_wire({PID_RELIABILITY: bytes.fromhex("020000000000000000000000")}, "writer")
    assert q.reliability == "reliable" and q.max_blocking_time == 0.0
    assert dict(policies_to_wire(q, "writer"))[PID_RELIABILITY] == bytes.fromhex(
        "020000000000000000000000")


def test_absent_reliability_defaults_by_role():
    assert qos_from_wire({}, "reader").reliability == "best_effort"
    assert qos_from_wire({}, "writer").reliability == "reliable"


def test_bad_wire_values_are_malformed():
    with pytest.raises(MalformedError):
        qos_from_wire({PID_RELIABILITY: bytes.fromhex("09000000" + "00" * 8)}, "writer")
    with pytest.raises(MalformedError):
        qos_from_wire({PID_DEADLINE: b"\x01"}, "writer")


durations = st.one_of(st.just(math.inf), st.integers(0, 10**6).map(lambda n: n / 1000))
qos_strategy = st.builds(
    Qos,
    reliability=st.sampled_from(["best_effort", "reliable"]),
    durability=st.sampled_from(["volatile", "transient_local", "transient", "persistent"]),
    history=st.one_of(st.just("keep_all"), st.integers(1, 1000).map(lambda d: ("keep_last", d))),
    deadline=durations, latency_budget=durations, lifespan=durations,
    liveliness=st.sampled_from(["automatic", "manual_by_participant", "manual_by_topic"]),
    liveliness_lease=durations,
    ownership=st.sampled_from(["shared", "exclusive"]),
    ownership_strength=st.integers(-2**31, 2**31 - 1),
    destination_order=st.sampled_from(["by_reception_timestamp", "by_source_timestamp"]),
    partition=st.lists(st.text(st.characters(blacklist_characters="\0",
                                             blacklist_categories=("Cs",)), max_size=8),
                       max_size=4),
    user_data=st.binary(max_size=9), topic_data=st.binary(max_size=9),
    group_data=st.binary(max_size=9),
    data_representation=st.lists(st.sampled_from([0, 2]), min_size=1, max_size=2),
    presentation=st.tuples(st.sampled_from(["instance", "topic", "group"]), st.booleans(),
                           st.booleans()),
)


@settings(max_examples=150, deadline=None)
@given(qos_strategy)
def test_writer_qos_round_trips_through_wire(q):
    params = dict(policies_to_wire(q, "writer"))
    assert qos_from_wire(params, "writer") == q


@settings(max_examples=100, deadline=None)
@given(qos_strategy)
def test_reader_qos_round_trips_except_writer_only_policies(q):
    q = q.replace(ownership_strength=0, lifespan=math.inf)
    params = dict(policies_to_wire(q, "reader"))
    assert qos_from_wire(params, "reader") == q


def test_profile_dict_round_trip_through_json():
    import json

    q = Qos(reliability="reliable", durability="transient_local", history=("keep_last", 10),
            deadline=0.5, ownership="exclusive", ownership_strength=10, partition=["a*"],
            user_data=b"\x00\xff")
    text = json.dumps(q.to_dict())
    assert Qos.from_dict(json.loads(text)) == q
    assert json.loads(text)["lifespan"] == "infinite"


def test_profile_dict_errors_name_the_policy():
    assert Qos.from_dict({"deadline": "Infinite"}).deadline == math.inf
    assert Qos.from_dict({"history": ["keep_last", 3]}).history == ("keep_last", 3)
    with pytest.raises(QosError, match="unknown QoS policy 'relyability'"):
        Qos.from_dict({"relyability": "reliable"})
    with pytest.raises(QosError, match="deadline: expected a duration"):
        Qos.from_dict({"deadline": "soon"})
    with pytest.raises(QosError, match="user_data"):
        Qos.from_dict({"user_data": [300]})


@pytest.mark.parametrize("bad", ["a\0b", "\ud800"])
def test_partition_names_that_cannot_go_on_the_wire_are_refused(bad: str) -> None:
    with pytest.raises(QosError, match="partition"):
        Qos(partition=(bad,))
