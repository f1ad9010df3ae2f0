"""Request-versus-offered QoS and DEADLINE with Cyclone DDS, both directions: an incompatible
pair does not match and both sides name the policy (rtbus's status and Cyclone's), and a
missed deadline is reported by the writer and the reader whichever vendor each is."""

from __future__ import annotations

import pytest
from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

import rtbus
from rtbus import QosPolicyId, netns
from rtbus.shape import shape_type
from tests.support.polling import wait_until

from .peers.cyclone_shape import ShapeType as CShape

pytestmark = pytest.mark.interop
Shape = shape_type()
RELIABLE_C = Policy.Reliability.Reliable(duration(seconds=1))


def ms(seconds: float) -> int:
    return duration(seconds=seconds)  # type: ignore[no-any-return]


# policy -> (writer offers, reader requests): rtbus keyword arguments and Cyclone policies
CASES: dict[QosPolicyId, tuple[dict, list, dict, list]] = {
    QosPolicyId.RELIABILITY: ({"reliability": "best_effort"}, [Policy.Reliability.BestEffort],
                              {"reliability": "reliable"}, [RELIABLE_C]),
    QosPolicyId.DURABILITY: ({}, [Policy.Durability.Volatile],
                             {"durability": "transient_local"},
                             [Policy.Durability.TransientLocal]),
    QosPolicyId.DEADLINE: ({"deadline": 1.0}, [Policy.Deadline(ms(1.0))],
                           {"deadline": 0.5}, [Policy.Deadline(ms(0.5))]),
    QosPolicyId.LIVELINESS: ({"liveliness_lease": 2.0},
                             [Policy.Liveliness.Automatic(ms(2.0))],
                             {"liveliness": "manual_by_participant", "liveliness_lease": 2.0},
                             [Policy.Liveliness.ManualByParticipant(ms(2.0))]),
    QosPolicyId.OWNERSHIP: ({"ownership": "exclusive"}, [Policy.Ownership.Exclusive],
                            {}, [Policy.Ownership.Shared]),
    QosPolicyId.DESTINATIONORDER: ({}, [Policy.DestinationOrder.ByReceptionTimestamp],
                                    {"destination_order": "by_source_timestamp"},
                                    [Policy.DestinationOrder.BySourceTimestamp]),
    QosPolicyId.PRESENTATION: ({"presentation": ("instance", False, False)},
                               [Policy.PresentationAccessScope.Instance(False, False)],
                               {"presentation": ("topic", False, False)},
                               [Policy.PresentationAccessScope.Topic(False, False)]),
}


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def rt_qos(policies: dict) -> rtbus.Qos:
    base = {"reliability": "reliable"}
    return rtbus.Qos(**{**base, **policies})


def c_qos(policies: list) -> CQos:
    """Reliable unless the case sets the reliability itself."""
    scopes = {getattr(p, "__scope__", None) for p in policies}
    return CQos(*([] if "Reliability" in scopes else [RELIABLE_C]), *policies)


@pytest.mark.parametrize("rtbus_side", ["writer", "reader"])
@pytest.mark.parametrize("policy", list(CASES), ids=[p.name for p in CASES])
def test_both_vendors_name_the_incompatible_policy(policy: QosPolicyId, rtbus_side: str,
                                                   domain_id: int) -> None:
    """rtbus offers and Cyclone requests, or the reverse: no match, and each side's status
    names the policy."""
    rt_writer, c_writer, rt_reader, c_reader = CASES[policy]
    dp = DomainParticipant(domain_id)
    topic = Topic(dp, "Square", CShape)
    with rtbus.Participant(domain_id) as p:
        square = p.create_topic("Square", Shape)
        if rtbus_side == "writer":
            cyclone = DataReader(dp, topic, qos=c_qos(c_reader))
            ours = p.create_writer(square, rt_qos(rt_writer))
            ours_status, theirs_status = (ours.offered_incompatible_qos_status,
                                          cyclone.get_requested_incompatible_qos_status)
            matched = ours.publication_matched_status
        else:
            cyclone = DataWriter(dp, topic, qos=c_qos(c_writer))
            ours = p.create_reader(square, rt_qos(rt_reader))
            ours_status, theirs_status = (ours.requested_incompatible_qos_status,
                                          cyclone.get_offered_incompatible_qos_status)
            matched = ours.subscription_matched_status
        assert wait_until(lambda: ours_status().total_count >= 1
                          and theirs_status().total_count >= 1, 10)
        assert ours_status().last_policy_id is policy
        assert theirs_status().last_policy_id == policy
        assert matched().current_count == 0


DEADLINE = 0.2


def test_deadline_missed_at_the_cyclone_reader_and_the_rtbus_writer(domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    reader = DataReader(dp, Topic(dp, "Square", CShape),
                        qos=c_qos([Policy.Deadline(ms(DEADLINE))]))
    with rtbus.Participant(domain_id) as p:
        writer = p.create_writer(p.create_topic("Square", Shape), rt_qos({"deadline": DEADLINE}))
        assert writer.wait_for_matched(1, 10)
        writer.write(Shape(color="RED", x=1, y=2, shapesize=30, additional_payload_size=b""))
        assert wait_until(lambda: reader.get_requested_deadline_missed_status().total_count >= 2
                          and writer.offered_deadline_missed_status().total_count >= 2, 10)
        # both name the instance (the key hash is the handle rtbus reports)
        assert len(writer.offered_deadline_missed_status().last_instance_handle) == 16


def test_deadline_missed_at_the_rtbus_reader_and_the_cyclone_writer(domain_id: int) -> None:
    dp = DomainParticipant(domain_id)
    writer = DataWriter(dp, Topic(dp, "Square", CShape),
                        qos=c_qos([Policy.Deadline(ms(DEADLINE))]))
    with rtbus.Participant(domain_id) as p:
        reader = p.create_reader(p.create_topic("Square", Shape),
                                 rt_qos({"deadline": DEADLINE}))
        assert reader.wait_for_matched(1, 10)
        writer.write(CShape("RED", 1, 2, 30, []))
        assert reader.take(timeout=5)
        assert wait_until(lambda: reader.requested_deadline_missed_status().total_count >= 2
                          and writer.get_offered_deadline_missed_status().total_count >= 2, 10)
        status = reader.requested_deadline_missed_status()
        assert status.last_instance_handle != bytes(16)
