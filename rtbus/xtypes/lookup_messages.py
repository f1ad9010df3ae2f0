"""TypeLookup messages (getTypes / getTypeDependencies requests and replies) and the registry
of local types that answers them.

A participant that sees a remote endpoint whose TypeInformation names a type it does not know
asks the remote participant's TypeLookup service for the TypeObjects (``getTypes``) and, for
types with dependencies, for the identifiers those depend on (``getTypeDependencies``). This
module holds what those samples say and their bytes, with no endpoints or state machines: the
service itself (its four builtin endpoints and the type check of SEDP matching) is
:mod:`rtbus.rtps.type_lookup`.

Wire facts (XTypes 1.3 section 7.6.3.3, checked against Cyclone DDS 11):
- the service endpoints are builtin: request writer/reader ``0x000300c3``/``0x000300c4``,
  reply writer/reader ``0x000301c3``/``0x000301c4``; they are announced in the SPDP
  builtin-endpoint set with bits 12 to 15;
- the request/reply structs are ``@final``, the call/return unions ``@appendable`` (DHEADER),
  the In/Out structs ``@mutable`` with ``@hashid`` member ids; samples are XCDR2, so the
  serialized payload starts with the CDR2 encapsulation (``0x0007`` little endian);
- Cyclone sends only ``getTypes``, names the target in ``instanceName`` as
  ``dds.builtin.TOS.<guid as four 8-digit hex words>``, and answers with the pairs of the
  hashed identifiers it knows (``complete_to_minimal`` left empty).

:class:`TypeRegistry` holds the local types (and remote TypeObjects verified by their hash)
and answers requests; :func:`lookup` is the same answer bytes-in / bytes-out.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ..cdr.encapsulation import CDR2_BE, CDR2_LE
from ..errors import MalformedError
from ..rtps.wire import constants as C
from ..types import model as m
from . import wire_types as wt
from .serialize import decode, encode
from .typeid import TypeIdentifier
from .typeinfo import TypeIdWithSize, type_information_of
from .typeobject import equivalence_hash, type_objects

log = logging.getLogger("rtbus.xtypes.lookup_messages")

ENTITYID_TL_SVC_REQ_WRITER = C.EID_TL_SVC_REQUEST_WRITER
ENTITYID_TL_SVC_REQ_READER = C.EID_TL_SVC_REQUEST_READER
ENTITYID_TL_SVC_REPLY_WRITER = C.EID_TL_SVC_REPLY_WRITER
ENTITYID_TL_SVC_REPLY_READER = C.EID_TL_SVC_REPLY_READER

BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_WRITER = C.BES_TL_SVC_REQUEST_WRITER
BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_READER = C.BES_TL_SVC_REQUEST_READER
BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_WRITER = C.BES_TL_SVC_REPLY_WRITER
BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_READER = C.BES_TL_SVC_REPLY_READER

REQUEST_TYPE_NAME = "DDS::Builtin::TypeLookup_Request"
REPLY_TYPE_NAME = "DDS::Builtin::TypeLookup_Reply"


GETTYPES = wt.TYPELOOKUP_GETTYPES_HASHID
GETDEPENDENCIES = wt.TYPELOOKUP_GETDEPENDENCIES_HASHID

REMOTE_EX_OK = 0
REMOTE_EX_UNSUPPORTED = 1
REMOTE_EX_INVALID_ARGUMENT = 2
REMOTE_EX_OUT_OF_RESOURCES = 3
REMOTE_EX_UNKNOWN_OPERATION = 4
REMOTE_EX_UNKNOWN_EXCEPTION = 5


@dataclass(frozen=True)
class SampleIdentity:
    """DDS-RPC sample identity: the writer GUID (16 bytes, wire order) and sequence number."""

    writer_guid: bytes
    sequence_number: int

    def value(self) -> dict[str, Any]:
        if len(self.writer_guid) != 16:
            raise ValueError(f"writer_guid must be 16 bytes, got {len(self.writer_guid)}")
        return {"writer_guid": self.writer_guid,
                "sequence_number": {"high": self.sequence_number >> 32,
                                    "low": self.sequence_number & 0xFFFFFFFF}}

    @classmethod
    def from_value(cls, v: dict[str, Any]) -> SampleIdentity:
        sn = v["sequence_number"]
        return cls(bytes(v["writer_guid"]), (sn["high"] << 32) | sn["low"])


@dataclass(frozen=True)
class GetTypesRequest:
    request_id: SampleIdentity
    type_ids: tuple[TypeIdentifier, ...]
    instance_name: str = ""


@dataclass(frozen=True)
class GetTypeDependenciesRequest:
    request_id: SampleIdentity
    type_ids: tuple[TypeIdentifier, ...]
    continuation_point: bytes = b""
    instance_name: str = ""


@dataclass(frozen=True)
class TypePair:
    """A TypeIdentifier and the XCDR2 bytes of its TypeObject."""

    type_id: TypeIdentifier
    type_object: bytes

    def hash_matches(self) -> bool:
        """Whether the TypeObject really hashes to the identifier (peers may lie or err)."""
        if not self.type_id.is_hashed:
            return False
        try:
            disc = decode(wt.TypeObject, self.type_object)[0]
        except MalformedError:
            return False
        return (disc == self.type_id.kind
                and equivalence_hash(self.type_object) == self.type_id.equivalence_hash)


@dataclass(frozen=True)
class GetTypesReply:
    related_request_id: SampleIdentity
    types: tuple[TypePair, ...] = ()
    complete_to_minimal: tuple[tuple[TypeIdentifier, TypeIdentifier], ...] = ()
    remote_ex: int = REMOTE_EX_OK
    return_code: int = wt.DDS_RETCODE_OK


@dataclass(frozen=True)
class GetTypeDependenciesReply:
    related_request_id: SampleIdentity
    dependent_typeids: tuple[TypeIdWithSize, ...] = ()
    continuation_point: bytes = b""
    remote_ex: int = REMOTE_EX_OK
    return_code: int = wt.DDS_RETCODE_OK


Request = Union[GetTypesRequest, GetTypeDependenciesRequest]
Reply = Union[GetTypesReply, GetTypeDependenciesReply]


def instance_name_for(participant_guid: bytes) -> str:
    """Cyclone's ``instanceName``: the target participant GUID as four 8-digit hex words."""
    if len(participant_guid) != 16:
        raise ValueError("a participant GUID is 16 bytes")
    words = struct.unpack(">4I", participant_guid)
    return "dds.builtin.TOS." + "".join(f"{w:08x}" for w in words)


# --- encode ----------------------------------------------------------------------------------
def encode_request(req: Request) -> bytes:
    """XCDR2 little-endian body of a TypeLookup_Request (no encapsulation header)."""
    header = {"requestId": req.request_id.value(), "instanceName": req.instance_name}
    ids = [t.value for t in req.type_ids]
    call: tuple[int, Any]
    if isinstance(req, GetTypesRequest):
        call = (GETTYPES, {"type_ids": ids})
    else:
        call = (GETDEPENDENCIES, {"type_ids": ids,
                                  "continuation_point": bytes(req.continuation_point)})
    return encode(wt.TypeLookup_Request, {"header": header, "data": call})


def _type_object_value(blob: bytes) -> Any:
    return decode(wt.TypeObject, blob)


def encode_reply(rep: Reply) -> bytes:
    """XCDR2 little-endian body of a TypeLookup_Reply (no encapsulation header)."""
    header = {"relatedRequestId": rep.related_request_id.value(), "remoteEx": rep.remote_ex}
    ret: tuple[int, Any]
    out: dict[str, Any]
    if isinstance(rep, GetTypesReply):
        out = {
            "types": [{"type_identifier": p.type_id.value,
                       "type_object": _type_object_value(p.type_object)} for p in rep.types],
            "complete_to_minimal": [{"type_identifier1": a.value, "type_identifier2": b.value}
                                    for a, b in rep.complete_to_minimal],
        }
        result = (rep.return_code, out if rep.return_code == wt.DDS_RETCODE_OK else None)
        ret = (GETTYPES, result)
    else:
        out = {
            "dependent_typeids": [{"type_id": d.type_id.value,
                                   "typeobject_serialized_size": d.typeobject_serialized_size}
                                  for d in rep.dependent_typeids],
            "continuation_point": bytes(rep.continuation_point),
        }
        result = (rep.return_code, out if rep.return_code == wt.DDS_RETCODE_OK else None)
        ret = (GETDEPENDENCIES, result)
    return encode(wt.TypeLookup_Reply, {"header": header, "return_data": ret})


def with_encapsulation(body: bytes) -> bytes:
    """The serialized payload of a DATA: CDR2 little-endian encapsulation header, the body,
    and padding to a multiple of 4 whose length goes in the options' low bits (as Cyclone)."""
    pad = -len(body) % 4
    return struct.pack(">HH", CDR2_LE, pad) + body + b"\0" * pad


def _split_encapsulation(payload: bytes) -> tuple[bytes, bool]:
    if len(payload) < 4:
        raise MalformedError("typelookup_short", "payload shorter than its encapsulation header")
    ident = struct.unpack_from(">H", payload)[0]
    if ident not in (CDR2_LE, CDR2_BE):
        raise MalformedError("typelookup_encapsulation",
                             f"expected CDR2 encapsulation 0x0006/0x0007, got {ident:#06x}")
    return payload[4:], ident == CDR2_LE


# --- decode ----------------------------------------------------------------------------------
def _ids(values: Any) -> tuple[TypeIdentifier, ...]:
    return tuple(TypeIdentifier(v) for v in (values or []))


def decode_request(body: bytes, little_endian: bool = True) -> Request:
    """Parse a TypeLookup_Request body; MalformedError for bad bytes or unknown operations."""
    v = decode(wt.TypeLookup_Request, body, little_endian)
    rid = SampleIdentity.from_value(v["header"]["requestId"])
    name = v["header"]["instanceName"]
    op, inner = v["data"]
    if inner is None:
        raise MalformedError("typelookup_operation", f"unknown TypeLookup operation {op:#x}")
    if op == GETTYPES:
        return GetTypesRequest(rid, _ids(inner["type_ids"]), name)
    return GetTypeDependenciesRequest(rid, _ids(inner["type_ids"]),
                                      bytes(inner["continuation_point"] or b""), name)


def decode_reply(body: bytes, little_endian: bool = True) -> Reply:
    """Parse a TypeLookup_Reply body; TypeObjects come back re-encoded little endian."""
    v = decode(wt.TypeLookup_Reply, body, little_endian)
    rid = SampleIdentity.from_value(v["header"]["relatedRequestId"])
    remote_ex = v["header"]["remoteEx"]
    op, result = v["return_data"]
    if result is None:
        raise MalformedError("typelookup_operation", f"unknown TypeLookup reply {op:#x}")
    code, out = result
    if op == GETTYPES:
        if out is None:
            return GetTypesReply(rid, remote_ex=remote_ex, return_code=code)
        pairs = tuple(TypePair(TypeIdentifier(p["type_identifier"]),
                               _reencoded_type_object(p["type_object"]))
                      for p in (out["types"] or []))
        c2m = tuple((TypeIdentifier(p["type_identifier1"]), TypeIdentifier(p["type_identifier2"]))
                    for p in (out["complete_to_minimal"] or []))
        return GetTypesReply(rid, pairs, c2m, remote_ex, code)
    if out is None:
        return GetTypeDependenciesReply(rid, remote_ex=remote_ex, return_code=code)
    deps = tuple(TypeIdWithSize(TypeIdentifier(d["type_id"]), d["typeobject_serialized_size"])
                 for d in (out["dependent_typeids"] or []))
    return GetTypeDependenciesReply(rid, deps, bytes(out["continuation_point"] or b""),
                                    remote_ex, code)


def _reencoded_type_object(value: Any) -> bytes:
    """A decoded TypeObject back to XCDR2 little endian (what its hash is computed over).

    Decoding is lenient with what it does not know (an unknown union discriminator yields
    None), so a damaged object can fail here instead: that is malformed input too.
    """
    try:
        return encode(wt.TypeObject, value)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError,
            struct.error) as exc:
        raise MalformedError("typelookup_type_object",
                             f"TypeObject not re-encodable: {exc}") from None


def decode_request_payload(payload: bytes) -> Request:
    """Parse a serialized payload (encapsulation header + body) of a request sample."""
    body, le = _split_encapsulation(payload)
    return decode_request(body, le)


def decode_reply_payload(payload: bytes) -> Reply:
    body, le = _split_encapsulation(payload)
    return decode_reply(body, le)


# --- the local side: a registry that answers ------------------------------------------------
@dataclass
class TypeRegistry:
    """Local types by TypeIdentifier, for answering TypeLookup requests."""

    _objects: dict[TypeIdentifier, bytes] = field(default_factory=dict)
    _dependencies: dict[TypeIdentifier, tuple[TypeIdWithSize, ...]] = field(default_factory=dict)
    _complete_to_minimal: dict[TypeIdentifier, TypeIdentifier] = field(default_factory=dict)

    def add(self, topic_type: m.IdlType) -> None:
        """Register a topic type and every type it depends on."""
        for named in type_information_of(topic_type).types:
            pair = type_objects(named)
            self._objects[pair.minimal_id] = pair.minimal_bytes
            self._objects[pair.complete_id] = pair.complete_bytes
            self._complete_to_minimal[pair.complete_id] = pair.minimal_id
            info = type_information_of(named)
            self._dependencies[pair.minimal_id] = info.minimal.dependent_typeids
            self._dependencies[pair.complete_id] = _dedup(info.complete.dependent_typeids)

    def add_remote(self, pair: TypePair) -> bool:
        """Store a TypeObject learnt from a peer, if it hashes to its identifier."""
        if not pair.hash_matches():
            log.debug("dropping TypeObject that does not hash to %r", pair.type_id)
            return False
        self._objects[pair.type_id] = pair.type_object
        return True

    def __contains__(self, tid: object) -> bool:
        return tid in self._objects

    def type_object(self, tid: TypeIdentifier) -> bytes | None:
        return self._objects.get(tid)

    def objects(self) -> Mapping[TypeIdentifier, bytes]:
        """Every TypeObject known (local and verified remote ones), by identifier."""
        return self._objects

    def missing(self, tids: Any) -> list[TypeIdentifier]:
        """The hashed identifiers among ``tids`` this registry cannot describe yet."""
        return [t for t in tids if t.is_hashed and t not in self._objects]

    def answer(self, request: Request) -> Reply:
        if isinstance(request, GetTypesRequest):
            pairs = []
            c2m = []
            for tid in request.type_ids:
                blob = self._objects.get(tid)
                if blob is None:
                    continue
                pairs.append(TypePair(tid, blob))
                if tid in self._complete_to_minimal:
                    c2m.append((tid, self._complete_to_minimal[tid]))
            return GetTypesReply(request.request_id, tuple(pairs), tuple(c2m))
        deps: list[TypeIdWithSize] = []
        seen: set[TypeIdentifier] = set()
        for tid in request.type_ids:
            for d in self._dependencies.get(tid, ()):
                if d.type_id not in seen:
                    seen.add(d.type_id)
                    deps.append(d)
        return GetTypeDependenciesReply(request.request_id, tuple(deps))


def _dedup(items: tuple[TypeIdWithSize, ...]) -> tuple[TypeIdWithSize, ...]:
    seen: set[TypeIdentifier] = set()
    out = []
    for x in items:
        if x.type_id not in seen:
            seen.add(x.type_id)
            out.append(x)
    return tuple(out)


def lookup(registry: TypeRegistry, request_payload: bytes) -> bytes:
    """Answer a serialized request sample with a serialized reply sample (both with header)."""
    request = decode_request_payload(request_payload)
    return with_encapsulation(encode_reply(registry.answer(request)))


__all__ = [
    "BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_READER", "BUILTIN_ENDPOINT_TL_SVC_REPLY_DATA_WRITER",
    "BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_READER", "BUILTIN_ENDPOINT_TL_SVC_REQUEST_DATA_WRITER",
    "ENTITYID_TL_SVC_REPLY_READER",
    "ENTITYID_TL_SVC_REPLY_WRITER", "ENTITYID_TL_SVC_REQ_READER", "ENTITYID_TL_SVC_REQ_WRITER",
    "GETDEPENDENCIES", "GETTYPES", "GetTypeDependenciesReply", "GetTypeDependenciesRequest",
    "GetTypesReply", "GetTypesRequest", "REPLY_TYPE_NAME", "REQUEST_TYPE_NAME", "Reply",
    "Request", "SampleIdentity", "TypePair", "TypeRegistry", "decode_reply",
    "decode_reply_payload", "decode_request", "decode_request_payload", "encode_reply",
    "encode_request", "instance_name_for", "lookup", "with_encapsulation",
]
