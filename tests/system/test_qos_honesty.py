"""QoS rtbus accepts it honours; what it cannot honour it refuses or warns about, and a pair
that does not match says why, once, with both sides' values."""

from __future__ import annotations

import logging

import pytest

import rtbus
import rtbus.idl
from rtbus.errors import QosError
from tests.support.paths import SHAPE_IDL
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
LOCAL = {"multicast": False, "interface": "127.0.0.1"}


@pytest.mark.parametrize("durability", ["transient", "persistent"])
def test_transient_and_persistent_are_refused_not_downgraded(durability: str,
                                                             domain_id: int) -> None:
    with rtbus.Participant(domain_id, **LOCAL) as dp:
        topic = dp.create_topic("Square", Shape)
        for create in (dp.create_writer, dp.create_reader):
            with pytest.raises(QosError, match=f"durability={durability} is not supported"):
                create(topic, durability=durability)  # type: ignore[operator]
        dp.create_writer(topic, durability="transient_local")  # what it suggests works


def test_accepted_but_unenforced_policies_are_logged(caplog: pytest.LogCaptureFixture,
                                                     domain_id: int) -> None:
    with caplog.at_level(logging.WARNING, logger="rtbus"), \
            rtbus.Participant(domain_id, **LOCAL) as dp:
        topic = dp.create_topic("Square", Shape)
        # enforced now (tests/system/test_ownership.py, test_deadline.py, test_liveliness.py,
        # tests/unit/test_lifespan.py, tests/interop/test_cyclone_lifespan.py)
        dp.create_reader(topic, ownership="exclusive", deadline=0.5)
        dp.create_writer(topic, deadline=0.5)
        dp.create_writer(topic, liveliness="manual_by_topic", liveliness_lease=1.0)
        dp.create_reader(topic, liveliness="manual_by_participant", liveliness_lease=2.0)
        dp.create_writer(topic, lifespan=2.0)
        dp.create_writer(topic, presentation=("topic", True, False))  # coherent: not yet
        dp.create_writer(topic)  # defaults: nothing to say
    said = [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "incompatible QoS" not in r.getMessage()]
    assert not any("ownership" in m or "deadline" in m or "liveliness" in m for m in said), said
    assert not any("lifespan" in m for m in said), said
    assert any("writer of topic 'Square'" in m and "coherent_access" in m for m in said), said
    assert len(said) == 1, said


def test_an_incompatible_pair_is_logged_once_with_both_values(
        caplog: pytest.LogCaptureFixture, domain_id: int) -> None:
    with caplog.at_level(logging.WARNING, logger="rtbus.participant"), \
            rtbus.Participant(domain_id, **LOCAL) as dp:
        topic = dp.create_topic("Square", Shape)
        w = dp.create_writer(topic, reliability="best_effort")
        r = dp.create_reader(topic, reliability="reliable")
        assert wait_until(lambda: r.requested_incompatible_qos_status().total_count == 1)
        status = w.offered_incompatible_qos_status()
        assert status.last_policy_id is rtbus.QosPolicyId.RELIABILITY
        assert status.last_policy_id == 11 and status.last_policy_id.name == "RELIABILITY"
        dp.create_reader(topic, reliability="best_effort")  # a later, unrelated match
        assert w.wait_for_matched(1, 5)
    said = [r.getMessage() for r in caplog.records if "incompatible QoS" in r.getMessage()]
    text = "RELIABILITY: writer offers best_effort, reader requests reliable"
    # once for the writer's side and once for the reader's, not again on later matches
    assert len(said) == 2 and all(text in m for m in said), said


def test_an_inconsistent_topic_is_logged_with_both_type_names(
        caplog: pytest.LogCaptureFixture, tmp_path, domain_id: int) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "other.idl").write_text("module other { struct Square { long side; }; };\n")
    Other = rtbus.idl.load(tmp_path / "other.idl").Square
    with caplog.at_level(logging.WARNING, logger="rtbus.participant"), \
            rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        w = a.create_writer(a.create_topic("Square", Shape))
        r = b.create_reader(b.create_topic("Square", Other))
        assert wait_until(lambda: r.inconsistent_topic_status().total_count == 1
                          and w.inconsistent_topic_status().total_count == 1, 10)
    said = [r.getMessage() for r in caplog.records if "inconsistent topic" in r.getMessage()]
    assert said and all("'ShapeType'" in m and "'other::Square'" in m for m in said), said
    assert len(said) == 2, said
