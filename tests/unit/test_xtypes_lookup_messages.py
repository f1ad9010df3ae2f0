"""TypeLookup messages (rtbus.xtypes.lookup_messages): encode/decode, byte-identical with
Cyclone's serializer, and the registry that answers getTypes / getTypeDependencies from local
types."""

from dataclasses import dataclass

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as t
import pytest
from cyclonedds.idl import IdlStruct, IdlUnion
from cyclonedds.idl._support import Endianness
from cyclonedds.idl._typesupport.DDS import XTypes as xt

from rtbus.cdr.encapsulation import CDR2_LE
from rtbus.errors import MalformedError
from rtbus.types import model as M
from rtbus.xtypes import TypeRegistry, lookup, type_identifier, type_information_of, type_objects
from rtbus.xtypes import lookup_messages as tl
from rtbus.xtypes.typeid import TypeIdentifier

GETTYPES = 0x018252D3
GETDEPS = 0x05AAFB31


# The TypeLookup IDL of Cyclone DDS 11 (ddsi_xt_typelookup.idl), as cyclonedds Python classes:
# the reference serializer for the byte comparisons below.
@dataclass
@annotate.final
class CySequenceNumber(IdlStruct, typename="DDS.SequenceNumber"):
    high: t.int32
    low: t.uint32


@dataclass
@annotate.final
class CySampleIdentity(IdlStruct, typename="DDS.SampleIdentity"):
    writer_guid: t.array[t.byte, 16]
    sequence_number: CySequenceNumber


@dataclass
@annotate.final
class CyRequestHeader(IdlStruct, typename="DDS.RPC.RequestHeader"):
    requestId: CySampleIdentity
    instanceName: t.bounded_str[255]


@dataclass
@annotate.final
class CyReplyHeader(IdlStruct, typename="DDS.RPC.ReplyHeader"):
    relatedRequestId: CySampleIdentity
    remoteEx: t.int32


@dataclass
@annotate.mutable
class CyGetTypesIn(IdlStruct, typename="DDS.Builtin.TypeLookup_getTypes_In"):
    type_ids: t.sequence[xt.TypeIdentifier]
    annotate.member_hash_id("type_ids")


@dataclass
@annotate.mutable
class CyGetDepsIn(IdlStruct, typename="DDS.Builtin.TypeLookup_getTypeDependencies_In"):
    type_ids: t.sequence[xt.TypeIdentifier]
    annotate.member_hash_id("type_ids")
    continuation_point: t.sequence[t.byte, 32]
    annotate.member_hash_id("continuation_point")


@annotate.appendable
class CyCall(IdlUnion, discriminator=t.int32, typename="DDS.Builtin.TypeLookup_Call"):
    getTypes: t.case[GETTYPES, CyGetTypesIn]
    getTypeDependencies: t.case[GETDEPS, CyGetDepsIn]


@dataclass
@annotate.final
class CyRequest(IdlStruct, typename="DDS.Builtin.TypeLookup_Request"):
    header: CyRequestHeader
    data: CyCall


@dataclass
@annotate.mutable
class CyGetTypesOut(IdlStruct, typename="DDS.Builtin.TypeLookup_getTypes_Out"):
    types: t.sequence[xt.TypeIdentifierTypeObjectPair]
    annotate.member_hash_id("types")
    complete_to_minimal: t.sequence[xt.TypeIdentifierPair]
    annotate.member_hash_id("complete_to_minimal")


@annotate.appendable
class CyGetTypesResult(IdlUnion, discriminator=t.int32,
                       typename="DDS.Builtin.TypeLookup_getTypes_Result"):
    result: t.case[0, CyGetTypesOut]


@dataclass
@annotate.mutable
class CyGetDepsOut(IdlStruct, typename="DDS.Builtin.TypeLookup_getTypeDependencies_Out"):
    dependent_typeids: t.sequence[xt.TypeIdentifierWithSize]
    annotate.member_hash_id("dependent_typeids")
    continuation_point: t.sequence[t.byte, 32]
    annotate.member_hash_id("continuation_point")


@annotate.appendable
class CyGetDepsResult(IdlUnion, discriminator=t.int32,
                      typename="DDS.Builtin.TypeLookup_getTypeDependencies_Result"):
    result: t.case[0, CyGetDepsOut]


@annotate.appendable
class CyReturn(IdlUnion, discriminator=t.int32, typename="DDS.Builtin.TypeLookup_Return"):
    getType: t.case[GETTYPES, CyGetTypesResult]
    getTypeDependencies: t.case[GETDEPS, CyGetDepsResult]


@dataclass
@annotate.final
class CyReply(IdlStruct, typename="DDS.Builtin.TypeLookup_Reply"):
    header: CyReplyHeader
    return_data: CyReturn


# A topic type with dependencies, declared for both sides
@dataclass
class CyPoint(IdlStruct, typename="tl::Point"):
    x: t.float64
    y: t.float64


@dataclass
@annotate.appendable
class CyTrack(IdlStruct, typename="tl::Track"):
    id: t.uint32
    annotate.key("id")
    points: t.sequence[CyPoint]
    last: CyPoint


def rt_track() -> M.StructType:
    point = M.StructType("tl::Point", [M.Member("x", M.FLOAT64), M.Member("y", M.FLOAT64)])
    M.finalize_member_ids(point)
    track = M.StructType("tl::Track", [M.Member("id", M.UINT32, key=True),
                                      M.Member("points", M.SequenceType(point)),
                                      M.Member("last", point)], extensibility="appendable")
    M.finalize_member_ids(track)
    return track


GUID = bytes(range(1, 17))
SERIALIZE = {"use_version_2": True, "endianness": Endianness.Little}


def cy_identity(seq: int) -> CySampleIdentity:
    return CySampleIdentity(writer_guid=list(GUID),
                            sequence_number=CySequenceNumber(high=seq >> 32, low=seq & 0xFFFFFFFF))


def test_service_entity_ids_and_endpoint_bits() -> None:
    assert tl.ENTITYID_TL_SVC_REQ_WRITER == 0x000300C3
    assert tl.ENTITYID_TL_SVC_REQ_READER == 0x000300C4
    assert tl.ENTITYID_TL_SVC_REPLY_WRITER == 0x000301C3
    assert tl.ENTITYID_TL_SVC_REPLY_READER == 0x000301C4
    assert [tl.BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_WRITER,
            tl.BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_READER,
            tl.BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_WRITER,
            tl.BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_READER] == [1 << 12, 1 << 13, 1 << 14, 1 << 15]


def test_operation_hashids_are_md5_of_names() -> None:
    from rtbus.xtypes.wire_types import hashid

    assert hashid("getTypes") == GETTYPES
    assert hashid("getDependencies") == GETDEPS


def test_get_types_request_bytes_equal_cyclone() -> None:
    ids = (TypeIdentifier.hashed(0xF1, b"\x11" * 14), type_identifier(rt_track(), "complete"))
    ours = tl.encode_request(tl.GetTypesRequest(tl.SampleIdentity(GUID, (3 << 32) | 9), ids,
                                                "dds.builtin.TOS.0102"))
    cy_ids = [xt.TypeIdentifier(discriminator=0xF1, value=b"\x11" * 14),
              CyTrack.__idl__.get_type_id()]
    theirs = CyRequest(header=CyRequestHeader(requestId=cy_identity((3 << 32) | 9),
                                              instanceName="dds.builtin.TOS.0102"),
                       data=CyCall(getTypes=CyGetTypesIn(type_ids=cy_ids))).serialize(**SERIALIZE)
    assert theirs[:4] == bytes([0, CDR2_LE, 0, 0])
    assert ours == theirs[4:]
    # the C core pads the payload to 4 bytes and says so in the options (Python does not)
    payload = tl.with_encapsulation(ours)
    pad = -len(ours) % 4
    assert payload == bytes([0, CDR2_LE, 0, pad]) + ours + b"\0" * pad


def test_get_dependencies_request_bytes_equal_cyclone() -> None:
    tid = type_identifier(rt_track(), "minimal")
    ours = tl.encode_request(tl.GetTypeDependenciesRequest(
        tl.SampleIdentity(GUID, 1), (tid,), b"\x01\x02\x03", "x"))
    theirs = CyRequest(
        header=CyRequestHeader(requestId=cy_identity(1), instanceName="x"),
        data=CyCall(getTypeDependencies=CyGetDepsIn(
            type_ids=[CyTrack.__idl__.get_type_info().minimal.typeid_with_size.type_id],
            continuation_point=b"\x01\x02\x03"))).serialize(**SERIALIZE)
    assert ours == theirs[4:]


def test_get_types_reply_bytes_equal_cyclone() -> None:
    registry = TypeRegistry()
    registry.add(rt_track())
    tid = type_identifier(rt_track(), "complete")
    reply = registry.answer(tl.GetTypesRequest(tl.SampleIdentity(GUID, 5), (tid,)))
    assert isinstance(reply, tl.GetTypesReply)
    ours = tl.encode_reply(tl.GetTypesReply(reply.related_request_id, reply.types))
    mapping = CyTrack.__idl__.get_type_mapping()
    pair = next(p for p in mapping.identifier_object_pair_complete
                if p.type_identifier == CyTrack.__idl__.get_type_id())
    theirs = CyReply(
        header=CyReplyHeader(relatedRequestId=cy_identity(5), remoteEx=0),
        return_data=CyReturn(getType=CyGetTypesResult(result=CyGetTypesOut(
            types=[pair], complete_to_minimal=[])))).serialize(**SERIALIZE)
    assert ours == theirs[4:]


def test_get_dependencies_reply_bytes_equal_cyclone() -> None:
    info = CyTrack.__idl__.get_type_info()
    deps = [(TypeIdentifier.decode(d.type_id.serialize(**SERIALIZE)[4:]),
             d.typeobject_serialized_size) for d in info.complete.dependent_typeids]
    ours = tl.encode_reply(tl.GetTypeDependenciesReply(
        tl.SampleIdentity(GUID, 2),
        tuple(tl.TypeIdWithSize(tid, size) for tid, size in deps), b"\x07"))
    theirs = CyReply(
        header=CyReplyHeader(relatedRequestId=cy_identity(2), remoteEx=0),
        return_data=CyReturn(getTypeDependencies=CyGetDepsResult(result=CyGetDepsOut(
            dependent_typeids=info.complete.dependent_typeids,
            continuation_point=b"\x07")))).serialize(**SERIALIZE)
    assert ours == theirs[4:]


def test_request_round_trip() -> None:
    for req in (
        tl.GetTypesRequest(tl.SampleIdentity(GUID, 77), (TypeIdentifier.hashed(0xF2, b"a" * 14),),
                           tl.instance_name_for(GUID)),
        tl.GetTypeDependenciesRequest(tl.SampleIdentity(GUID, 1 << 40),
                                      (TypeIdentifier.hashed(0xF1, b"b" * 14),), b"cp", "n"),
    ):
        assert tl.decode_request(tl.encode_request(req)) == req
        assert tl.decode_request_payload(tl.with_encapsulation(tl.encode_request(req))) == req


def test_instance_name_format_is_cyclones() -> None:
    guid = bytes.fromhex("0110a1b2c3d4e5f60708090a000001c1")
    assert tl.instance_name_for(guid) == "dds.builtin.TOS.0110a1b2c3d4e5f60708090a000001c1"


def test_registry_answers_get_types_with_valid_objects() -> None:
    track = rt_track()
    registry = TypeRegistry()
    registry.add(track)
    info = type_information_of(track)
    wanted = [info.complete.typeid_with_size.type_id] + [
        d.type_id for d in info.complete.dependent_typeids]
    unknown = TypeIdentifier.hashed(0xF2, b"\0" * 14)
    asked = (*wanted, unknown, TypeIdentifier.primitive(M.INT32))
    reply = registry.answer(tl.GetTypesRequest(tl.SampleIdentity(GUID, 1), asked))
    assert isinstance(reply, tl.GetTypesReply)
    assert [p.type_id for p in reply.types] == wanted
    assert all(p.hash_matches() for p in reply.types)
    assert reply.types[0].type_object == type_objects(track).complete_bytes
    # complete -> minimal mapping for each complete identifier served
    assert reply.complete_to_minimal[0] == (type_objects(track).complete_id,
                                            type_objects(track).minimal_id)


def test_registry_answers_dependencies() -> None:
    track = rt_track()
    registry = TypeRegistry()
    registry.add(track)
    tid = type_identifier(track, "minimal")
    reply = registry.answer(tl.GetTypeDependenciesRequest(tl.SampleIdentity(GUID, 1), (tid,)))
    assert isinstance(reply, tl.GetTypeDependenciesReply)
    point = track.members[1].type.element  # type: ignore[union-attr]
    assert [d.type_id for d in reply.dependent_typeids] == [type_identifier(point, "minimal")]
    assert reply.dependent_typeids[0].typeobject_serialized_size == len(
        type_objects(point).minimal_bytes)


def test_lookup_bytes_round() -> None:
    track = rt_track()
    registry = TypeRegistry()
    registry.add(track)
    tid = type_identifier(track, "complete")
    request = tl.with_encapsulation(tl.encode_request(
        tl.GetTypesRequest(tl.SampleIdentity(GUID, 3), (tid,))))
    reply = tl.decode_reply_payload(lookup(registry, request))
    assert isinstance(reply, tl.GetTypesReply)
    assert reply.related_request_id == tl.SampleIdentity(GUID, 3)
    assert reply.types == (tl.TypePair(tid, type_objects(track).complete_bytes),)


def test_remote_registry_learns_only_objects_that_hash_right() -> None:
    track = rt_track()
    pair = tl.TypePair(type_identifier(track, "complete"), type_objects(track).complete_bytes)
    remote = TypeRegistry()
    assert remote.missing([pair.type_id]) == [pair.type_id]
    assert remote.add_remote(pair)
    assert remote.missing([pair.type_id]) == []
    tampered = bytearray(pair.type_object)
    tampered[-1] ^= 0x01
    bad = tl.TypePair(TypeIdentifier.hashed(0xF2, b"\x42" * 14), bytes(tampered))
    assert not bad.hash_matches()
    assert not remote.add_remote(bad)
    # a minimal identifier paired with a complete object is rejected too
    wrong_kind = tl.TypePair(type_identifier(track, "minimal"), pair.type_object)
    assert not wrong_kind.hash_matches()


def test_reply_with_error_code_round_trips() -> None:
    reply = tl.GetTypesReply(tl.SampleIdentity(GUID, 4), return_code=-1,
                             remote_ex=tl.REMOTE_EX_INVALID_ARGUMENT)
    assert tl.decode_reply(tl.encode_reply(reply)) == reply


def test_bad_payloads_raise_malformed() -> None:
    with pytest.raises(MalformedError):
        tl.decode_request_payload(b"\x00\x01\x00\x00" + b"\0" * 40)  # CDR1 encapsulation
    with pytest.raises(MalformedError):
        tl.decode_request_payload(b"\x00")
    good = tl.encode_request(tl.GetTypesRequest(tl.SampleIdentity(GUID, 1),
                                                (TypeIdentifier.hashed(0xF1, b"z" * 14),)))
    for cut in range(0, len(good) - 1, 3):
        with pytest.raises(MalformedError):
            tl.decode_request(good[:cut])
    unknown_op = bytearray(good)
    # the call discriminator follows the 4-byte DHEADER after the header (16+8+4+1 -> 32)
    op_at = good.index(GETTYPES.to_bytes(4, "little"))
    unknown_op[op_at:op_at + 4] = (0x1234).to_bytes(4, "little")
    with pytest.raises(MalformedError):
        tl.decode_request(bytes(unknown_op))
