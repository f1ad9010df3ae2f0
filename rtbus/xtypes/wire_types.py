"""The XTypes 1.3 builtin IDL types, declared in the rtbus type model.

Layouts (member order, extensibility, ``@optional``) follow Cyclone DDS 11's
``ddsi_xt_typeinfo.idl`` and ``ddsi_xt_typelookup.idl``, which is what goes on the wire and
into the equivalence hashes. Where Cyclone deviates from the OMG IDL (e.g.
``CompleteArrayType`` and the bitmask types are appendable, ``CompleteCollectionHeader.detail``
is optional) Cyclone wins, since its hashes are what peers compare.

They are ordinary model types (:mod:`rtbus.types.model`), so :mod:`rtbus.cdr` lays them out
like any user type (:mod:`rtbus.xtypes.serialize` explains why and how values are passed).
``MemberFlag`` and ``TypeFlag`` are ``@bit_bound(16)`` bitmasks whose XCDR2 form is a
``uint16``; they are declared as ``uint16`` so that the XTypes code handles them as the
plain ints it combines with ``|``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Union

from ..types import model as M

BOOL = M.BOOLEAN
CHAR = M.CHAR
FLOAT32 = M.FLOAT32
FLOAT64 = M.FLOAT64
INT8 = M.INT8
INT16 = M.INT16
INT32 = M.INT32
INT64 = M.INT64
OCTET = M.OCTET
UINT16 = M.UINT16
UINT32 = M.UINT32
UINT64 = M.UINT64


@dataclass(frozen=True)
class _Optional:
    type: M.IdlType


def optional(t: M.IdlType) -> _Optional:
    """The type of an ``@optional`` member: ``("name", optional(T))``."""
    return _Optional(t)


#: As a member's third element: ``@hashid`` (the id is a hash of the member name).
HASHID = "@hashid"

Field = Union[tuple[str, Union[M.IdlType, _Optional]],
              tuple[str, Union[M.IdlType, _Optional], Union[int, str]]]


def string(bound: int = 0) -> M.StringType:
    return M.StringType(bound or None)


def seq(element: M.IdlType, bound: int = 0) -> M.SequenceType:
    return M.SequenceType(element, bound or None)


def arr(element: M.IdlType, length: int) -> M.ArrayType:
    return M.ArrayType(element, (length,))


def _scoped(name: str) -> str:
    # model names only (the wire carries none of them): one namespace for all of these
    return "DDS::XTypes::" + name


def _struct(name: str, extensibility: M.Extensibility, *fields: Field) -> M.StructType:
    """A struct; a field is ``(name, type)`` or ``(name, type, member id or HASHID)``."""
    t = M.StructType(_scoped(name), extensibility=extensibility)
    for f in fields:
        mtype = f[1]
        opt = isinstance(mtype, _Optional)
        if isinstance(mtype, _Optional):
            mtype = mtype.type
        mid = f[2] if len(f) > 2 else None  # type: ignore[misc]
        t.members.append(M.Member(f[0], mtype, id=mid if isinstance(mid, int) else None,
                                  optional=opt, hashid="" if mid == HASHID else None))
    M.finalize_member_ids(t)
    return t


def _union(name: str, discriminator: M.PrimitiveType, extensibility: M.Extensibility,
           *branches: tuple[tuple[int, ...], str, M.IdlType],
           default: tuple[str, M.IdlType] | None = None) -> M.UnionType:
    """A union over an integer discriminator; a branch is ``(labels, name, type)``."""
    return _cases(M.UnionType(_scoped(name), discriminator, extensibility=extensibility),
                  *branches, default=default)


def _cases(u: M.UnionType, *branches: tuple[tuple[int, ...], str, M.IdlType],
           default: tuple[str, M.IdlType] | None = None) -> M.UnionType:
    """Give ``u`` its branches (separately from creating it, for recursive types)."""
    u.cases = [M.UnionCase(list(labels), M.Member(name, t)) for labels, name, t in branches]
    if default is not None:
        u.cases.append(M.UnionCase([], M.Member(*default), is_default=True))
    return u


# --- constants -------------------------------------------------------------------------------
EK_MINIMAL = 0xF1
EK_COMPLETE = 0xF2
EK_BOTH = 0xF3

TK_NONE = 0x00
TK_BOOLEAN = 0x01
TK_BYTE = 0x02
TK_INT16 = 0x03
TK_INT32 = 0x04
TK_INT64 = 0x05
TK_UINT16 = 0x06
TK_UINT32 = 0x07
TK_UINT64 = 0x08
TK_FLOAT32 = 0x09
TK_FLOAT64 = 0x0A
TK_FLOAT128 = 0x0B
TK_INT8 = 0x0C
TK_UINT8 = 0x0D
TK_CHAR8 = 0x10
TK_CHAR16 = 0x11
TK_STRING8 = 0x20
TK_STRING16 = 0x21
TK_ALIAS = 0x30
TK_ENUM = 0x40
TK_BITMASK = 0x41
TK_ANNOTATION = 0x50
TK_STRUCTURE = 0x51
TK_UNION = 0x52
TK_BITSET = 0x53
TK_SEQUENCE = 0x60
TK_ARRAY = 0x61
TK_MAP = 0x62

TI_STRING8_SMALL = 0x70
TI_STRING8_LARGE = 0x71
TI_STRING16_SMALL = 0x72
TI_STRING16_LARGE = 0x73
TI_PLAIN_SEQUENCE_SMALL = 0x80
TI_PLAIN_SEQUENCE_LARGE = 0x81
TI_PLAIN_ARRAY_SMALL = 0x90
TI_PLAIN_ARRAY_LARGE = 0x91
TI_PLAIN_MAP_SMALL = 0xA0
TI_PLAIN_MAP_LARGE = 0xA1
TI_STRONGLY_CONNECTED_COMPONENT = 0xB0

# MemberFlag bits (bit_bound 16)
TRY_CONSTRUCT1 = 1 << 0
TRY_CONSTRUCT2 = 1 << 1
IS_EXTERNAL = 1 << 2
IS_OPTIONAL = 1 << 3
IS_MUST_UNDERSTAND = 1 << 4
IS_KEY = 1 << 5
IS_DEFAULT = 1 << 6
# TypeFlag bits (bit_bound 16)
IS_FINAL = 1 << 0
IS_APPENDABLE = 1 << 1
IS_MUTABLE = 1 << 2
IS_NESTED = 1 << 3
IS_AUTOID_HASH = 1 << 4

MEMBER_FLAG = UINT16
TYPE_FLAG = UINT16

QUALIFIED_TYPE_NAME = string(256)
MEMBER_NAME = string(256)
EQUIVALENCE_HASH = arr(OCTET, 14)
NAME_HASH = arr(OCTET, 4)
S_BOUND = OCTET
L_BOUND = UINT32

# --- TypeIdentifier --------------------------------------------------------------------------
TypeObjectHashId = _union("TypeObjectHashId", OCTET, "final",
    ((EK_COMPLETE, EK_MINIMAL), "hash", EQUIVALENCE_HASH))

StringSTypeDefn = _struct("StringSTypeDefn", "final", ("bound", S_BOUND))
StringLTypeDefn = _struct("StringLTypeDefn", "final", ("bound", L_BOUND))
PlainCollectionHeader = _struct("PlainCollectionHeader", "final",
    ("equiv_kind", OCTET), ("element_flags", MEMBER_FLAG))

TypeIdentifier = _union("TypeIdentifier", OCTET, "final")  # cases below: it is recursive

PlainSequenceSElemDefn = _struct("PlainSequenceSElemDefn", "final",
    ("header", PlainCollectionHeader), ("bound", S_BOUND), ("element_identifier", TypeIdentifier))
PlainSequenceLElemDefn = _struct("PlainSequenceLElemDefn", "final",
    ("header", PlainCollectionHeader), ("bound", L_BOUND), ("element_identifier", TypeIdentifier))
PlainArraySElemDefn = _struct("PlainArraySElemDefn", "final",
    ("header", PlainCollectionHeader), ("array_bound_seq", seq(S_BOUND)),
    ("element_identifier", TypeIdentifier))
PlainArrayLElemDefn = _struct("PlainArrayLElemDefn", "final",
    ("header", PlainCollectionHeader), ("array_bound_seq", seq(L_BOUND)),
    ("element_identifier", TypeIdentifier))
PlainMapSTypeDefn = _struct("PlainMapSTypeDefn", "final",
    ("header", PlainCollectionHeader), ("bound", S_BOUND), ("element_identifier", TypeIdentifier),
    ("key_flags", MEMBER_FLAG), ("key_identifier", TypeIdentifier))
PlainMapLTypeDefn = _struct("PlainMapLTypeDefn", "final",
    ("header", PlainCollectionHeader), ("bound", L_BOUND), ("element_identifier", TypeIdentifier),
    ("key_flags", MEMBER_FLAG), ("key_identifier", TypeIdentifier))
StronglyConnectedComponentId = _struct("StronglyConnectedComponentId", "appendable",
    ("sc_component_id", TypeObjectHashId), ("scc_length", INT32), ("scc_index", INT32))

_cases(TypeIdentifier,
    ((TI_STRING8_SMALL, TI_STRING16_SMALL), "string_sdefn", StringSTypeDefn),
    ((TI_STRING8_LARGE, TI_STRING16_LARGE), "string_ldefn", StringLTypeDefn),
    ((TI_PLAIN_SEQUENCE_SMALL,), "seq_sdefn", PlainSequenceSElemDefn),
    ((TI_PLAIN_SEQUENCE_LARGE,), "seq_ldefn", PlainSequenceLElemDefn),
    ((TI_PLAIN_ARRAY_SMALL,), "array_sdefn", PlainArraySElemDefn),
    ((TI_PLAIN_ARRAY_LARGE,), "array_ldefn", PlainArrayLElemDefn),
    ((TI_PLAIN_MAP_SMALL,), "map_sdefn", PlainMapSTypeDefn),
    ((TI_PLAIN_MAP_LARGE,), "map_ldefn", PlainMapLTypeDefn),
    ((TI_STRONGLY_CONNECTED_COMPONENT,), "sc_component_id", StronglyConnectedComponentId),
    ((EK_COMPLETE, EK_MINIMAL), "equivalence_hash", EQUIVALENCE_HASH),
)

# --- annotations (carried, never produced by us except hash_id) ------------------------------
ExtendedAnnotationParameterValue = _struct("ExtendedAnnotationParameterValue", "mutable")
AnnotationParameterValue = _union("AnnotationParameterValue", OCTET, "final",
    ((TK_BOOLEAN,), "boolean_value", BOOL),
    ((TK_BYTE,), "byte_value", OCTET),
    ((TK_INT8,), "int8_value", INT8),
    ((TK_UINT8,), "uint8_value", OCTET),
    ((TK_INT16,), "int16_value", INT16),
    ((TK_UINT16,), "uint_16_value", UINT16),
    ((TK_INT32,), "int32_value", INT32),
    ((TK_UINT32,), "uint32_value", UINT32),
    ((TK_INT64,), "int64_value", INT64),
    ((TK_UINT64,), "uint64_value", UINT64),
    ((TK_FLOAT32,), "float32_value", FLOAT32),
    ((TK_FLOAT64,), "float64_value", FLOAT64),
    ((TK_CHAR8,), "char_value", CHAR),
    ((TK_ENUM,), "enumerated_value", INT32),
    ((TK_STRING8,), "string8_value", string(128)),
    default=("extended_value", ExtendedAnnotationParameterValue),
)
AppliedAnnotationParameter = _struct("AppliedAnnotationParameter", "appendable",
    ("paramname_hash", NAME_HASH), ("value", AnnotationParameterValue))
AppliedAnnotation = _struct("AppliedAnnotation", "appendable",
    ("annotation_typeid", TypeIdentifier), ("param_seq", optional(seq(AppliedAnnotationParameter))))
AppliedAnnotationSeq = seq(AppliedAnnotation)
AppliedVerbatimAnnotation = _struct("AppliedVerbatimAnnotation", "final",
    ("placement", string(32)), ("language", string(32)), ("text", string()))
AppliedBuiltinMemberAnnotations = _struct("AppliedBuiltinMemberAnnotations", "appendable",
    ("unit", optional(string())), ("min", optional(AnnotationParameterValue)),
    ("max", optional(AnnotationParameterValue)), ("hash_id", optional(string())))
AppliedBuiltinTypeAnnotations = _struct("AppliedBuiltinTypeAnnotations", "appendable",
    ("verbatim", optional(AppliedVerbatimAnnotation)))

# --- details ---------------------------------------------------------------------------------
CompleteMemberDetail = _struct("CompleteMemberDetail", "final",
    ("name", MEMBER_NAME), ("ann_builtin", optional(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", optional(AppliedAnnotationSeq)))
MinimalMemberDetail = _struct("MinimalMemberDetail", "final", ("name_hash", NAME_HASH))
MinimalTypeDetail = _struct("MinimalTypeDetail", "final")
CompleteTypeDetail = _struct("CompleteTypeDetail", "final",
    ("ann_builtin", optional(AppliedBuiltinTypeAnnotations)),
    ("ann_custom", optional(AppliedAnnotationSeq)), ("type_name", QUALIFIED_TYPE_NAME))

# --- struct ----------------------------------------------------------------------------------
CommonStructMember = _struct("CommonStructMember", "final",
    ("member_id", UINT32), ("member_flags", MEMBER_FLAG), ("member_type_id", TypeIdentifier))
CompleteStructMember = _struct("CompleteStructMember", "appendable",
    ("common", CommonStructMember), ("detail", CompleteMemberDetail))
MinimalStructMember = _struct("MinimalStructMember", "appendable",
    ("common", CommonStructMember), ("detail", MinimalMemberDetail))
CompleteStructHeader = _struct("CompleteStructHeader", "appendable",
    ("base_type", TypeIdentifier), ("detail", CompleteTypeDetail))
MinimalStructHeader = _struct("MinimalStructHeader", "appendable",
    ("base_type", TypeIdentifier), ("detail", MinimalTypeDetail))
CompleteStructType = _struct("CompleteStructType", "final",
    ("struct_flags", TYPE_FLAG), ("header", CompleteStructHeader),
    ("member_seq", seq(CompleteStructMember)))
MinimalStructType = _struct("MinimalStructType", "final",
    ("struct_flags", TYPE_FLAG), ("header", MinimalStructHeader),
    ("member_seq", seq(MinimalStructMember)))

# --- union -----------------------------------------------------------------------------------
CommonUnionMember = _struct("CommonUnionMember", "final",
    ("member_id", UINT32), ("member_flags", MEMBER_FLAG), ("type_id", TypeIdentifier),
    ("label_seq", seq(INT32)))
CompleteUnionMember = _struct("CompleteUnionMember", "appendable",
    ("common", CommonUnionMember), ("detail", CompleteMemberDetail))
MinimalUnionMember = _struct("MinimalUnionMember", "appendable",
    ("common", CommonUnionMember), ("detail", MinimalMemberDetail))
CommonDiscriminatorMember = _struct("CommonDiscriminatorMember", "final",
    ("member_flags", MEMBER_FLAG), ("type_id", TypeIdentifier))
CompleteDiscriminatorMember = _struct("CompleteDiscriminatorMember", "appendable",
    ("common", CommonDiscriminatorMember), ("ann_builtin", optional(AppliedBuiltinTypeAnnotations)),
    ("ann_custom", optional(AppliedAnnotationSeq)))
MinimalDiscriminatorMember = _struct("MinimalDiscriminatorMember", "appendable",
    ("common", CommonDiscriminatorMember))
CompleteUnionHeader = _struct("CompleteUnionHeader", "appendable",
    ("detail", CompleteTypeDetail))
MinimalUnionHeader = _struct("MinimalUnionHeader", "appendable",
    ("detail", MinimalTypeDetail))
CompleteUnionType = _struct("CompleteUnionType", "final",
    ("union_flags", TYPE_FLAG), ("header", CompleteUnionHeader),
    ("discriminator", CompleteDiscriminatorMember), ("member_seq", seq(CompleteUnionMember)))
MinimalUnionType = _struct("MinimalUnionType", "final",
    ("union_flags", TYPE_FLAG), ("header", MinimalUnionHeader),
    ("discriminator", MinimalDiscriminatorMember), ("member_seq", seq(MinimalUnionMember)))

# --- annotation types (decoded only) ---------------------------------------------------------
CommonAnnotationParameter = _struct("CommonAnnotationParameter", "final",
    ("member_flags", MEMBER_FLAG), ("member_type_id", TypeIdentifier))
CompleteAnnotationParameter = _struct("CompleteAnnotationParameter", "appendable",
    ("common", CommonAnnotationParameter), ("name", MEMBER_NAME),
    ("default_value", AnnotationParameterValue))
MinimalAnnotationParameter = _struct("MinimalAnnotationParameter", "appendable",
    ("common", CommonAnnotationParameter), ("name_hash", NAME_HASH),
    ("default_value", AnnotationParameterValue))
CompleteAnnotationHeader = _struct("CompleteAnnotationHeader", "appendable",
    ("annotation_name", QUALIFIED_TYPE_NAME))
MinimalAnnotationHeader = _struct("MinimalAnnotationHeader", "appendable")
CompleteAnnotationType = _struct("CompleteAnnotationType", "final",
    ("annotation_flag", TYPE_FLAG), ("header", CompleteAnnotationHeader),
    ("member_seq", seq(CompleteAnnotationParameter)))
MinimalAnnotationType = _struct("MinimalAnnotationType", "final",
    ("annotation_flag", TYPE_FLAG), ("header", MinimalAnnotationHeader),
    ("member_seq", seq(MinimalAnnotationParameter)))

# --- alias -----------------------------------------------------------------------------------
CommonAliasBody = _struct("CommonAliasBody", "final",
    ("related_flags", MEMBER_FLAG), ("related_type", TypeIdentifier))
CompleteAliasBody = _struct("CompleteAliasBody", "appendable",
    ("common", CommonAliasBody), ("ann_builtin", optional(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", optional(AppliedAnnotationSeq)))
MinimalAliasBody = _struct("MinimalAliasBody", "appendable",
    ("common", CommonAliasBody))
CompleteAliasHeader = _struct("CompleteAliasHeader", "appendable",
    ("detail", CompleteTypeDetail))
MinimalAliasHeader = _struct("MinimalAliasHeader", "appendable")
CompleteAliasType = _struct("CompleteAliasType", "final",
    ("alias_flags", TYPE_FLAG), ("header", CompleteAliasHeader), ("body", CompleteAliasBody))
MinimalAliasType = _struct("MinimalAliasType", "final",
    ("alias_flags", TYPE_FLAG), ("header", MinimalAliasHeader), ("body", MinimalAliasBody))

# --- collections -----------------------------------------------------------------------------
CompleteElementDetail = _struct("CompleteElementDetail", "final",
    ("ann_builtin", optional(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", optional(AppliedAnnotationSeq)))
CommonCollectionElement = _struct("CommonCollectionElement", "final",
    ("element_flags", MEMBER_FLAG), ("type", TypeIdentifier))
CompleteCollectionElement = _struct("CompleteCollectionElement", "appendable",
    ("common", CommonCollectionElement), ("detail", CompleteElementDetail))
MinimalCollectionElement = _struct("MinimalCollectionElement", "appendable",
    ("common", CommonCollectionElement))
CommonCollectionHeader = _struct("CommonCollectionHeader", "final", ("bound", L_BOUND))
CompleteCollectionHeader = _struct("CompleteCollectionHeader", "appendable",
    ("common", CommonCollectionHeader), ("detail", optional(CompleteTypeDetail)))
MinimalCollectionHeader = _struct("MinimalCollectionHeader", "appendable",
    ("common", CommonCollectionHeader))
CompleteSequenceType = _struct("CompleteSequenceType", "final",
    ("collection_flag", TYPE_FLAG), ("header", CompleteCollectionHeader),
    ("element", CompleteCollectionElement))
MinimalSequenceType = _struct("MinimalSequenceType", "final",
    ("collection_flag", TYPE_FLAG), ("header", MinimalCollectionHeader),
    ("element", MinimalCollectionElement))
CommonArrayHeader = _struct("CommonArrayHeader", "final", ("bound_seq", seq(L_BOUND)))
CompleteArrayHeader = _struct("CompleteArrayHeader", "appendable",
    ("common", CommonArrayHeader), ("detail", CompleteTypeDetail))
MinimalArrayHeader = _struct("MinimalArrayHeader", "appendable",
    ("common", CommonArrayHeader))
CompleteArrayType = _struct("CompleteArrayType", "appendable",
    ("collection_flag", TYPE_FLAG), ("header", CompleteArrayHeader),
    ("element", CompleteCollectionElement))
MinimalArrayType = _struct("MinimalArrayType", "final",
    ("collection_flag", TYPE_FLAG), ("header", MinimalArrayHeader),
    ("element", MinimalCollectionElement))
CompleteMapType = _struct("CompleteMapType", "final",
    ("collection_flag", TYPE_FLAG), ("header", CompleteCollectionHeader),
    ("key", CompleteCollectionElement), ("element", CompleteCollectionElement))
MinimalMapType = _struct("MinimalMapType", "final",
    ("collection_flag", TYPE_FLAG), ("header", MinimalCollectionHeader),
    ("key", MinimalCollectionElement), ("element", MinimalCollectionElement))

# --- enum / bitmask / bitset -----------------------------------------------------------------
CommonEnumeratedLiteral = _struct("CommonEnumeratedLiteral", "appendable",
    ("value", INT32), ("flags", MEMBER_FLAG))
CompleteEnumeratedLiteral = _struct("CompleteEnumeratedLiteral", "appendable",
    ("common", CommonEnumeratedLiteral), ("detail", CompleteMemberDetail))
MinimalEnumeratedLiteral = _struct("MinimalEnumeratedLiteral", "appendable",
    ("common", CommonEnumeratedLiteral), ("detail", MinimalMemberDetail))
CommonEnumeratedHeader = _struct("CommonEnumeratedHeader", "final", ("bit_bound", UINT16))
CompleteEnumeratedHeader = _struct("CompleteEnumeratedHeader", "appendable",
    ("common", CommonEnumeratedHeader), ("detail", CompleteTypeDetail))
MinimalEnumeratedHeader = _struct("MinimalEnumeratedHeader", "appendable",
    ("common", CommonEnumeratedHeader))
CompleteEnumeratedType = _struct("CompleteEnumeratedType", "final",
    ("enum_flags", TYPE_FLAG), ("header", CompleteEnumeratedHeader),
    ("literal_seq", seq(CompleteEnumeratedLiteral)))
MinimalEnumeratedType = _struct("MinimalEnumeratedType", "final",
    ("enum_flags", TYPE_FLAG), ("header", MinimalEnumeratedHeader),
    ("literal_seq", seq(MinimalEnumeratedLiteral)))
CommonBitflag = _struct("CommonBitflag", "final", ("position", UINT16), ("flags", MEMBER_FLAG))
CompleteBitflag = _struct("CompleteBitflag", "appendable",
    ("common", CommonBitflag), ("detail", CompleteMemberDetail))
MinimalBitflag = _struct("MinimalBitflag", "appendable",
    ("common", CommonBitflag), ("detail", MinimalMemberDetail))
CompleteBitmaskType = _struct("CompleteBitmaskType", "appendable",
    ("bitmask_flags", TYPE_FLAG), ("header", CompleteEnumeratedHeader),
    ("flag_seq", seq(CompleteBitflag)))
MinimalBitmaskType = _struct("MinimalBitmaskType", "appendable",
    ("bitmask_flags", TYPE_FLAG), ("header", MinimalEnumeratedHeader),
    ("flag_seq", seq(MinimalBitflag)))
CommonBitfield = _struct("CommonBitfield", "final",
    ("position", UINT16), ("flags", MEMBER_FLAG), ("bitcount", OCTET), ("holder_type", OCTET))
CompleteBitfield = _struct("CompleteBitfield", "appendable",
    ("common", CommonBitfield), ("detail", CompleteMemberDetail))
MinimalBitfield = _struct("MinimalBitfield", "appendable",
    ("common", CommonBitfield), ("name_hash", NAME_HASH))
CompleteBitsetHeader = _struct("CompleteBitsetHeader", "appendable",
    ("detail", CompleteTypeDetail))
MinimalBitsetHeader = _struct("MinimalBitsetHeader", "appendable")
CompleteBitsetType = _struct("CompleteBitsetType", "appendable",
    ("bitset_flags", TYPE_FLAG), ("header", CompleteBitsetHeader),
    ("field_seq", seq(CompleteBitfield)))
MinimalBitsetType = _struct("MinimalBitsetType", "appendable",
    ("bitset_flags", TYPE_FLAG), ("header", MinimalBitsetHeader),
    ("field_seq", seq(MinimalBitfield)))

# --- TypeObject ------------------------------------------------------------------------------
CompleteExtendedType = _struct("CompleteExtendedType", "mutable")
MinimalExtendedType = _struct("MinimalExtendedType", "mutable")
CompleteTypeObject = _union("CompleteTypeObject", OCTET, "final",
    ((TK_ALIAS,), "alias_type", CompleteAliasType),
    ((TK_ANNOTATION,), "annotation_type", CompleteAnnotationType),
    ((TK_STRUCTURE,), "struct_type", CompleteStructType),
    ((TK_UNION,), "union_type", CompleteUnionType),
    ((TK_BITSET,), "bitset_type", CompleteBitsetType),
    ((TK_SEQUENCE,), "sequence_type", CompleteSequenceType),
    ((TK_ARRAY,), "array_type", CompleteArrayType),
    ((TK_MAP,), "map_type", CompleteMapType),
    ((TK_ENUM,), "enumerated_type", CompleteEnumeratedType),
    ((TK_BITMASK,), "bitmask_type", CompleteBitmaskType),
    default=("extended_type", CompleteExtendedType),
)
MinimalTypeObject = _union("MinimalTypeObject", OCTET, "final",
    ((TK_ALIAS,), "alias_type", MinimalAliasType),
    ((TK_ANNOTATION,), "annotation_type", MinimalAnnotationType),
    ((TK_STRUCTURE,), "struct_type", MinimalStructType),
    ((TK_UNION,), "union_type", MinimalUnionType),
    ((TK_BITSET,), "bitset_type", MinimalBitsetType),
    ((TK_SEQUENCE,), "sequence_type", MinimalSequenceType),
    ((TK_ARRAY,), "array_type", MinimalArrayType),
    ((TK_MAP,), "map_type", MinimalMapType),
    ((TK_ENUM,), "enumerated_type", MinimalEnumeratedType),
    ((TK_BITMASK,), "bitmask_type", MinimalBitmaskType),
    default=("extended_type", MinimalExtendedType),
)
TypeObject = _union("TypeObject", OCTET, "appendable",
    ((EK_COMPLETE,), "complete", CompleteTypeObject),
    ((EK_MINIMAL,), "minimal", MinimalTypeObject),
)
TypeObjectSeq = seq(TypeObject)

TypeIdentifierTypeObjectPair = _struct("TypeIdentifierTypeObjectPair", "final",
    ("type_identifier", TypeIdentifier), ("type_object", TypeObject))
TypeIdentifierPair = _struct("TypeIdentifierPair", "final",
    ("type_identifier1", TypeIdentifier), ("type_identifier2", TypeIdentifier))
TypeIdentifierWithSize = _struct("TypeIdentifierWithSize", "appendable",
    ("type_id", TypeIdentifier), ("typeobject_serialized_size", UINT32))
TypeIdentifierWithDependencies = _struct("TypeIdentifierWithDependencies", "appendable",
    ("typeid_with_size", TypeIdentifierWithSize), ("dependent_typeid_count", INT32),
    ("dependent_typeids", seq(TypeIdentifierWithSize)))
TypeInformation = _struct("TypeInformation", "mutable",
    ("minimal", TypeIdentifierWithDependencies, 0x1001),
    ("complete", TypeIdentifierWithDependencies, 0x1002))
TypeMapping = _struct("TypeMapping", "final",
    ("identifier_object_pair_minimal", seq(TypeIdentifierTypeObjectPair)),
    ("identifier_object_pair_complete", seq(TypeIdentifierTypeObjectPair)),
    ("identifier_complete_minimal", seq(TypeIdentifierPair)))


# --- TypeLookup service (ddsi_xt_typelookup.idl) ---------------------------------------------
def hashid(name: str) -> int:
    """``@hashid`` member id: first 4 bytes of MD5(name), little endian, masked to 28 bits
    (the rule :func:`rtbus.types.model.finalize_member_ids` applies to ``HASHID`` members)."""
    return int.from_bytes(hashlib.md5(name.encode("utf-8")).digest()[:4], "little") & 0x0FFFFFFF


TYPELOOKUP_GETTYPES_HASHID = 0x018252D3
TYPELOOKUP_GETDEPENDENCIES_HASHID = 0x05AAFB31
DDS_RETCODE_OK = 0

GUID = arr(OCTET, 16)  # GuidPrefix_t[12] + EntityId_t{octet[3], octet}: all octets, final
SequenceNumber = _struct("SequenceNumber", "final", ("high", INT32), ("low", UINT32))
SampleIdentity = _struct("SampleIdentity", "final",
    ("writer_guid", GUID), ("sequence_number", SequenceNumber))
RequestHeader = _struct("RequestHeader", "final",
    ("requestId", SampleIdentity), ("instanceName", string(255)))
ReplyHeader = _struct("ReplyHeader", "final",
    ("relatedRequestId", SampleIdentity), ("remoteEx", INT32))

TypeLookup_getTypes_In = _struct("TypeLookup_getTypes_In", "mutable",
    ("type_ids", seq(TypeIdentifier), HASHID))
TypeLookup_getTypes_Out = _struct("TypeLookup_getTypes_Out", "mutable",
    ("types", seq(TypeIdentifierTypeObjectPair), HASHID),
    ("complete_to_minimal", seq(TypeIdentifierPair), HASHID))
TypeLookup_getTypes_Result = _union("TypeLookup_getTypes_Result", INT32, "appendable",
    ((DDS_RETCODE_OK,), "result", TypeLookup_getTypes_Out))
TypeLookup_getTypeDependencies_In = _struct("TypeLookup_getTypeDependencies_In", "mutable",
    ("type_ids", seq(TypeIdentifier), HASHID),
    ("continuation_point", seq(OCTET, 32), HASHID))
TypeLookup_getTypeDependencies_Out = _struct("TypeLookup_getTypeDependencies_Out", "mutable",
    ("dependent_typeids", seq(TypeIdentifierWithSize), HASHID),
    ("continuation_point", seq(OCTET, 32), HASHID))
TypeLookup_getTypeDependencies_Result = _union(
    "TypeLookup_getTypeDependencies_Result", INT32, "appendable",
    ((DDS_RETCODE_OK,), "result", TypeLookup_getTypeDependencies_Out))
TypeLookup_Call = _union("TypeLookup_Call", INT32, "appendable",
    ((TYPELOOKUP_GETTYPES_HASHID,), "getTypes", TypeLookup_getTypes_In),
    ((TYPELOOKUP_GETDEPENDENCIES_HASHID,), "getTypeDependencies",
     TypeLookup_getTypeDependencies_In))
TypeLookup_Request = _struct("TypeLookup_Request", "final",
    ("header", RequestHeader), ("data", TypeLookup_Call))
TypeLookup_Return = _union("TypeLookup_Return", INT32, "appendable",
    ((TYPELOOKUP_GETTYPES_HASHID,), "getType", TypeLookup_getTypes_Result),
    ((TYPELOOKUP_GETDEPENDENCIES_HASHID,), "getTypeDependencies",
     TypeLookup_getTypeDependencies_Result))
TypeLookup_Reply = _struct("TypeLookup_Reply", "final",
    ("header", ReplyHeader), ("return_data", TypeLookup_Return))
