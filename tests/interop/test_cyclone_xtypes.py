"""XTypes on the wire against Cyclone DDS 11: TypeInformation in SEDP and the TypeLookup service.

Cyclone runs in this (namespaced) test process, each test on its own domain id (the
``domain_id`` fixture): Cyclone keeps its type library per domain, so a type one test defines
never resolves another test's lookup.

- (a) Cyclone's DCPSPublication / DCPSSubscription show rtbus's endpoints with the type
  identifier Cyclone computes for the same IDL;
- (b) Cyclone fetches rtbus's TypeObjects (complete and minimal) through TypeLookup;
- (c) data flows both ways, XCDR1 and XCDR2, with TypeInformation present;
- (d) a different type under the same name matches on neither side, and rtbus reports it
  (InconsistentTopic) after fetching Cyclone's type through TypeLookup (e);
- an assignable evolution (an appendable struct without the last member) matches on both
  sides after both fetched the other's TypeObjects.
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
import time
from dataclasses import dataclass
from typing import Any

import pytest
from cyclonedds import _clayer as cl
from cyclonedds.builtin import (
    BuiltinDataReader,
    BuiltinTopicDcpsPublication,
    BuiltinTopicDcpsSubscription,
)
from cyclonedds.core import Policy
from cyclonedds.core import Qos as CQos
from cyclonedds.domain import DomainParticipant
from cyclonedds.dynamic import get_types_for_typeid
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as t
from cyclonedds.idl._support import Endianness
from cyclonedds.idl.annotations import appendable, key
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

import rtbus
import rtbus.idl
from rtbus import netns, xtypes
from rtbus.qos import XCDR1, XCDR2
from rtbus.rtps.sedp import InconsistentTopic
from tests.support.paths import SHAPE_IDL
from tests.support.polling import take_cyclone, take_rtbus, wait_until

from .peers.cyclone_shape import ShapeType as CShape

pytestmark = pytest.mark.interop

Shape = rtbus.idl.load(SHAPE_IDL).ShapeType
RELIABLE = rtbus.Qos(reliability="reliable", history="keep_all")
C_RELIABLE = CQos(Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll)


@dataclass
@appendable
class CShapeShort(IdlStruct, typename="ShapeType"):
    """ShapeType without its last member: an assignable appendable evolution."""

    color: t.bounded_str[128]
    key("color")
    x: t.int32
    y: t.int32
    shapesize: t.int32


@dataclass
@appendable
class CShapeWrong(IdlStruct, typename="ShapeType"):
    """Same name, incompatible members (x is a string)."""

    color: t.bounded_str[128]
    key("color")
    x: str
    y: t.int32
    shapesize: t.int32


@pytest.fixture(autouse=True)
def _in_namespace() -> None:
    if not netns.inside():
        pytest.fail("interop tests must run inside the rtbus network namespace")


def _cyc_bytes(tid: Any) -> bytes:
    return bytes(tid.serialize(use_version_2=True, endianness=Endianness.Little)[4:])


def _core(p: rtbus.Participant) -> Any:
    return p._node.driver.core  # type: ignore[union-attr]


def _endpoints(dp: DomainParticipant, topic: Any, topic_name: str, prefix: bytes,
               seconds: float = 10.0) -> list:
    reader = BuiltinDataReader(dp, topic)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = [s for s in reader.read(N=256)
                 if s.topic_name == topic_name and s.key.bytes[:12] == prefix]
        if found:
            return found
        time.sleep(0.02)
    return []


def test_cyclone_sees_rtbus_type_identifiers(domain_id: int) -> None:
    """(a) DCPSPublication/DCPSSubscription carry the type id Cyclone computes itself."""
    expected = _cyc_bytes(CShape.__idl__.get_type_id())
    assert expected == xtypes.type_identifier(Shape.__rtbus_type__, "complete").encode()
    dp = DomainParticipant(domain_id)
    with rtbus.Participant(domain_id) as p:
        topic = p.create_topic("XtSquare", Shape)
        p.create_writer(topic, RELIABLE)
        p.create_reader(topic, RELIABLE)
        prefix = bytes(_core(p).prefix)
        for builtin in (BuiltinTopicDcpsPublication, BuiltinTopicDcpsSubscription):
            found = _endpoints(dp, builtin, "XtSquare", prefix)
            assert len(found) == 1, builtin
            assert found[0].type_name == "ShapeType"
            assert found[0].type_id is not None, "rtbus endpoint announced without a type id"
            assert _cyc_bytes(found[0].type_id) == expected


def test_cyclone_resolves_rtbus_type_through_type_lookup(domain_id: int) -> None:
    """(b) Cyclone, which never saw the type, fetches it from rtbus (complete and minimal)."""
    dp = DomainParticipant(domain_id)
    with rtbus.Participant(domain_id) as p:
        p.create_writer(p.create_topic("XtLookup", Shape), RELIABLE)
        found = _endpoints(dp, BuiltinTopicDcpsPublication, "XtLookup", bytes(_core(p).prefix))
        assert found and found[0].type_id is not None
        top, _ = get_types_for_typeid(dp, found[0].type_id, duration(seconds=10))
        assert top.__idl_typename__ == "ShapeType"
        assert list(top.__annotations__) == ["color", "x", "y", "shapesize",
                                             "additional_payload_size"]
        assert top.__idl_field_annotations__["color"].get("key") is True
        assert top.__idl_annotations__.get("extensibility") == "appendable"
        # the minimal TypeObject (what Cyclone's matching asks for); cyclonedds-python builds
        # classes from complete objects only, so ask its C layer directly and compare bytes
        minimal = xtypes.type_identifier(Shape.__rtbus_type__, "minimal")
        got = cl.ddspy_get_typeobj(dp._ref, minimal.encode(), duration(seconds=10))
        assert isinstance(got, bytes), f"Cyclone could not fetch the minimal type: {got}"
        assert got == xtypes.type_object(Shape.__rtbus_type__, "minimal")
        assert _core(p).type_lookup.counters["requests_answered"] >= 1


NESTED = rtbus.idl.loads("""
module geo {
  enum Kind { LINE, RING };
  struct Point { double x; double y; };
  @appendable struct Path { @key string name; Kind kind; sequence<Point> points; Point origin; };
};
""").geo


def test_cyclone_resolves_nested_type_and_its_dependencies(domain_id: int) -> None:
    """(b) with dependencies: Cyclone walks the nested types through TypeLookup too."""
    dp = DomainParticipant(domain_id)
    with rtbus.Participant(domain_id) as p:
        p.create_writer(p.create_topic("XtPaths", NESTED.Path), RELIABLE)
        found = _endpoints(dp, BuiltinTopicDcpsPublication, "XtPaths", bytes(_core(p).prefix))
        assert found and found[0].type_id is not None
        assert _cyc_bytes(found[0].type_id) == xtypes.type_identifier(
            NESTED.Path.__rtbus_type__, "complete").encode()
        top, named = get_types_for_typeid(dp, found[0].type_id, duration(seconds=10))
        assert top.__idl_typename__ == "geo.Path"  # cyclonedds-python spells scopes with dots
        assert list(top.__annotations__) == ["name", "kind", "points", "origin"]
        assert {"Point", "Kind"} <= set(named)  # keyed by short name
        assert list(named["Point"].__annotations__) == ["x", "y"]
        assert _core(p).type_lookup.counters["requests_answered"] >= 2  # top, then dependencies


@pytest.mark.parametrize("representation", [XCDR1, XCDR2])
def test_data_both_ways_with_type_information(representation: int, domain_id: int) -> None:
    """(c) Identical types: hashes equal, matched at once; keyed data flows both ways."""
    dp = DomainParticipant(domain_id)
    c_rep = CQos(Policy.Reliability.Reliable(duration(seconds=30)), Policy.History.KeepAll,
                 Policy.DataRepresentation(use_cdrv0_representation=representation == XCDR1,
                                           use_xcdrv2_representation=representation == XCDR2))
    creader = DataReader(dp, Topic(dp, "XtToCyclone", CShape), qos=C_RELIABLE)
    cwriter = DataWriter(dp, Topic(dp, "XtToRtbus", CShape), qos=c_rep)
    with rtbus.Participant(domain_id) as p:
        w = p.create_writer(p.create_topic("XtToCyclone", Shape),
                            RELIABLE.replace(data_representation=(representation,)))
        r = p.create_reader(p.create_topic("XtToRtbus", Shape), RELIABLE)
        assert w.wait_for_matched(1, 10) and r.wait_for_matched(1, 10)
        assert wait_until(lambda: cwriter.get_publication_matched_status().current_count == 1)
        for i in range(20):
            w.write(Shape(color=("BLUE", "RED")[i % 2], x=i, y=-i, shapesize=3,
                          additional_payload_size=[i]))
            cwriter.write(CShape(color="GREEN", x=i, y=i, shapesize=4,
                                 additional_payload_size=[1, 2]))
        got = take_cyclone(creader, 20)
        assert sorted(s.x for s in got) == list(range(20))
        assert all(list(s.additional_payload_size) == [s.x] for s in got)
        mine = take_rtbus(r, 20)
        assert [s.data.x for s in mine] == list(range(20))
        assert all(s.data.color == "GREEN" for s in mine)
        assert _core(p).type_lookup.counters["requests_sent"] == 0  # equal hashes: no lookup


def test_different_type_same_name_matches_on_neither_side(domain_id: int) -> None:
    """(d)+(e) rtbus fetches Cyclone's type, finds it not assignable and reports it."""
    dp = DomainParticipant(domain_id)
    creader = DataReader(dp, Topic(dp, "XtWrongToCyclone", CShapeWrong), qos=C_RELIABLE)
    cwriter = DataWriter(dp, Topic(dp, "XtWrongToRtbus", CShapeWrong), qos=C_RELIABLE)
    events: list = []
    with rtbus.Participant(domain_id) as p:
        p.node.subscribe(events.append)
        w = p.create_writer(p.create_topic("XtWrongToCyclone", Shape), RELIABLE)
        r = p.create_reader(p.create_topic("XtWrongToRtbus", Shape), RELIABLE)
        assert wait_until(lambda: sum(isinstance(e, InconsistentTopic) for e in events) >= 2), \
            "rtbus reported no type mismatch"
        inconsistent = [e for e in events if isinstance(e, InconsistentTopic)]
        assert {e.local_guid for e in inconsistent} == {bytes(w.guid), bytes(r.guid)}
        assert all(e.remote_type_name == "ShapeType" for e in inconsistent)
        core = _core(p)
        assert core.type_lookup.counters["type_objects_learnt"] >= 1  # fetched, not guessed
        # judged after the fetch (the events above): no match on either side
        assert w.matched_count == 0 and r.matched_count == 0
        assert creader.get_subscription_matched_status().current_count == 0
        assert cwriter.get_publication_matched_status().current_count == 0


def test_assignable_evolution_matches_after_type_lookup_both_ways(domain_id: int) -> None:
    """Cyclone's ShapeType lacks the last (appendable) member: both sides fetch the other's
    TypeObject through TypeLookup, find the types assignable, and match."""
    dp = DomainParticipant(domain_id)
    ctopic = Topic(dp, "XtEvolved", CShapeShort)
    creader = DataReader(dp, ctopic, qos=C_RELIABLE)
    with rtbus.Participant(domain_id) as p:
        topic = p.create_topic("XtEvolved", Shape)
        w = p.create_writer(topic, RELIABLE.replace(data_representation=(XCDR2,)))
        assert w.wait_for_matched(1, 10), "rtbus did not match the assignable Cyclone reader"
        assert wait_until(lambda: creader.get_subscription_matched_status().current_count == 1)
        core = _core(p)
        assert core.type_lookup.counters["type_objects_learnt"] >= 1
        assert core.type_lookup.counters["requests_answered"] >= 1
        for i in range(5):
            w.write(Shape(color="BLUE", x=i, y=0, shapesize=1, additional_payload_size=[7]))
        got = take_cyclone(creader, 5)
        assert [s.x for s in got] == list(range(5))
