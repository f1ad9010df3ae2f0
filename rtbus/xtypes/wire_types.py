"""The XTypes 1.3 builtin IDL types, declared as codec schemas.

Layouts (member order, extensibility, ``@optional``) follow Cyclone DDS 11's
``ddsi_xt_typeinfo.idl`` and ``ddsi_xt_typelookup.idl``, which is what goes on the wire and
into the equivalence hashes. Where Cyclone deviates from the OMG IDL (e.g.
``CompleteArrayType`` and the bitmask types are appendable, ``CompleteCollectionHeader.detail``
is optional) Cyclone wins, since its hashes are what peers compare.
"""

from __future__ import annotations

import hashlib

from .serialize import (
    BOOL,
    CHAR,
    FLOAT32,
    FLOAT64,
    INT8,
    INT16,
    INT32,
    INT64,
    OCTET,
    UINT16,
    UINT32,
    UINT64,
    Arr,
    Opt,
    Seq,
    Str,
    StructDef,
    UnionDef,
)

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

QUALIFIED_TYPE_NAME = Str(256)
MEMBER_NAME = Str(256)
EQUIVALENCE_HASH = Arr(OCTET, 14)
NAME_HASH = Arr(OCTET, 4)
S_BOUND = OCTET
L_BOUND = UINT32

# --- TypeIdentifier --------------------------------------------------------------------------
TypeObjectHashId = UnionDef("TypeObjectHashId", OCTET).set_cases(
    ((EK_COMPLETE, EK_MINIMAL), "hash", EQUIVALENCE_HASH))

StringSTypeDefn = StructDef("StringSTypeDefn").set_fields(("bound", S_BOUND))
StringLTypeDefn = StructDef("StringLTypeDefn").set_fields(("bound", L_BOUND))
PlainCollectionHeader = StructDef("PlainCollectionHeader").set_fields(
    ("equiv_kind", OCTET), ("element_flags", MEMBER_FLAG))

TypeIdentifier = UnionDef("TypeIdentifier", OCTET)

PlainSequenceSElemDefn = StructDef("PlainSequenceSElemDefn").set_fields(
    ("header", PlainCollectionHeader), ("bound", S_BOUND), ("element_identifier", TypeIdentifier))
PlainSequenceLElemDefn = StructDef("PlainSequenceLElemDefn").set_fields(
    ("header", PlainCollectionHeader), ("bound", L_BOUND), ("element_identifier", TypeIdentifier))
PlainArraySElemDefn = StructDef("PlainArraySElemDefn").set_fields(
    ("header", PlainCollectionHeader), ("array_bound_seq", Seq(S_BOUND)),
    ("element_identifier", TypeIdentifier))
PlainArrayLElemDefn = StructDef("PlainArrayLElemDefn").set_fields(
    ("header", PlainCollectionHeader), ("array_bound_seq", Seq(L_BOUND)),
    ("element_identifier", TypeIdentifier))
PlainMapSTypeDefn = StructDef("PlainMapSTypeDefn").set_fields(
    ("header", PlainCollectionHeader), ("bound", S_BOUND), ("element_identifier", TypeIdentifier),
    ("key_flags", MEMBER_FLAG), ("key_identifier", TypeIdentifier))
PlainMapLTypeDefn = StructDef("PlainMapLTypeDefn").set_fields(
    ("header", PlainCollectionHeader), ("bound", L_BOUND), ("element_identifier", TypeIdentifier),
    ("key_flags", MEMBER_FLAG), ("key_identifier", TypeIdentifier))
StronglyConnectedComponentId = StructDef("StronglyConnectedComponentId", "appendable").set_fields(
    ("sc_component_id", TypeObjectHashId), ("scc_length", INT32), ("scc_index", INT32))

TypeIdentifier.set_cases(
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
ExtendedAnnotationParameterValue = StructDef("ExtendedAnnotationParameterValue", "mutable")
AnnotationParameterValue = UnionDef("AnnotationParameterValue", OCTET).set_cases(
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
    ((TK_STRING8,), "string8_value", Str(128)),
    default=("extended_value", ExtendedAnnotationParameterValue),
)
AppliedAnnotationParameter = StructDef("AppliedAnnotationParameter", "appendable").set_fields(
    ("paramname_hash", NAME_HASH), ("value", AnnotationParameterValue))
AppliedAnnotation = StructDef("AppliedAnnotation", "appendable").set_fields(
    ("annotation_typeid", TypeIdentifier), ("param_seq", Opt(Seq(AppliedAnnotationParameter))))
AppliedAnnotationSeq = Seq(AppliedAnnotation)
AppliedVerbatimAnnotation = StructDef("AppliedVerbatimAnnotation").set_fields(
    ("placement", Str(32)), ("language", Str(32)), ("text", Str()))
AppliedBuiltinMemberAnnotations = StructDef(
    "AppliedBuiltinMemberAnnotations", "appendable").set_fields(
    ("unit", Opt(Str())), ("min", Opt(AnnotationParameterValue)),
    ("max", Opt(AnnotationParameterValue)), ("hash_id", Opt(Str())))
AppliedBuiltinTypeAnnotations = StructDef("AppliedBuiltinTypeAnnotations", "appendable").set_fields(
    ("verbatim", Opt(AppliedVerbatimAnnotation)))

# --- details ---------------------------------------------------------------------------------
CompleteMemberDetail = StructDef("CompleteMemberDetail").set_fields(
    ("name", MEMBER_NAME), ("ann_builtin", Opt(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", Opt(AppliedAnnotationSeq)))
MinimalMemberDetail = StructDef("MinimalMemberDetail").set_fields(("name_hash", NAME_HASH))
MinimalTypeDetail = StructDef("MinimalTypeDetail")
CompleteTypeDetail = StructDef("CompleteTypeDetail").set_fields(
    ("ann_builtin", Opt(AppliedBuiltinTypeAnnotations)), ("ann_custom", Opt(AppliedAnnotationSeq)),
    ("type_name", QUALIFIED_TYPE_NAME))

# --- struct ----------------------------------------------------------------------------------
CommonStructMember = StructDef("CommonStructMember").set_fields(
    ("member_id", UINT32), ("member_flags", MEMBER_FLAG), ("member_type_id", TypeIdentifier))
CompleteStructMember = StructDef("CompleteStructMember", "appendable").set_fields(
    ("common", CommonStructMember), ("detail", CompleteMemberDetail))
MinimalStructMember = StructDef("MinimalStructMember", "appendable").set_fields(
    ("common", CommonStructMember), ("detail", MinimalMemberDetail))
CompleteStructHeader = StructDef("CompleteStructHeader", "appendable").set_fields(
    ("base_type", TypeIdentifier), ("detail", CompleteTypeDetail))
MinimalStructHeader = StructDef("MinimalStructHeader", "appendable").set_fields(
    ("base_type", TypeIdentifier), ("detail", MinimalTypeDetail))
CompleteStructType = StructDef("CompleteStructType").set_fields(
    ("struct_flags", TYPE_FLAG), ("header", CompleteStructHeader),
    ("member_seq", Seq(CompleteStructMember)))
MinimalStructType = StructDef("MinimalStructType").set_fields(
    ("struct_flags", TYPE_FLAG), ("header", MinimalStructHeader),
    ("member_seq", Seq(MinimalStructMember)))

# --- union -----------------------------------------------------------------------------------
CommonUnionMember = StructDef("CommonUnionMember").set_fields(
    ("member_id", UINT32), ("member_flags", MEMBER_FLAG), ("type_id", TypeIdentifier),
    ("label_seq", Seq(INT32)))
CompleteUnionMember = StructDef("CompleteUnionMember", "appendable").set_fields(
    ("common", CommonUnionMember), ("detail", CompleteMemberDetail))
MinimalUnionMember = StructDef("MinimalUnionMember", "appendable").set_fields(
    ("common", CommonUnionMember), ("detail", MinimalMemberDetail))
CommonDiscriminatorMember = StructDef("CommonDiscriminatorMember").set_fields(
    ("member_flags", MEMBER_FLAG), ("type_id", TypeIdentifier))
CompleteDiscriminatorMember = StructDef("CompleteDiscriminatorMember", "appendable").set_fields(
    ("common", CommonDiscriminatorMember), ("ann_builtin", Opt(AppliedBuiltinTypeAnnotations)),
    ("ann_custom", Opt(AppliedAnnotationSeq)))
MinimalDiscriminatorMember = StructDef("MinimalDiscriminatorMember", "appendable").set_fields(
    ("common", CommonDiscriminatorMember))
CompleteUnionHeader = StructDef("CompleteUnionHeader", "appendable").set_fields(
    ("detail", CompleteTypeDetail))
MinimalUnionHeader = StructDef("MinimalUnionHeader", "appendable").set_fields(
    ("detail", MinimalTypeDetail))
CompleteUnionType = StructDef("CompleteUnionType").set_fields(
    ("union_flags", TYPE_FLAG), ("header", CompleteUnionHeader),
    ("discriminator", CompleteDiscriminatorMember), ("member_seq", Seq(CompleteUnionMember)))
MinimalUnionType = StructDef("MinimalUnionType").set_fields(
    ("union_flags", TYPE_FLAG), ("header", MinimalUnionHeader),
    ("discriminator", MinimalDiscriminatorMember), ("member_seq", Seq(MinimalUnionMember)))

# --- annotation types (decoded only) ---------------------------------------------------------
CommonAnnotationParameter = StructDef("CommonAnnotationParameter").set_fields(
    ("member_flags", MEMBER_FLAG), ("member_type_id", TypeIdentifier))
CompleteAnnotationParameter = StructDef("CompleteAnnotationParameter", "appendable").set_fields(
    ("common", CommonAnnotationParameter), ("name", MEMBER_NAME),
    ("default_value", AnnotationParameterValue))
MinimalAnnotationParameter = StructDef("MinimalAnnotationParameter", "appendable").set_fields(
    ("common", CommonAnnotationParameter), ("name_hash", NAME_HASH),
    ("default_value", AnnotationParameterValue))
CompleteAnnotationHeader = StructDef("CompleteAnnotationHeader", "appendable").set_fields(
    ("annotation_name", QUALIFIED_TYPE_NAME))
MinimalAnnotationHeader = StructDef("MinimalAnnotationHeader", "appendable")
CompleteAnnotationType = StructDef("CompleteAnnotationType").set_fields(
    ("annotation_flag", TYPE_FLAG), ("header", CompleteAnnotationHeader),
    ("member_seq", Seq(CompleteAnnotationParameter)))
MinimalAnnotationType = StructDef("MinimalAnnotationType").set_fields(
    ("annotation_flag", TYPE_FLAG), ("header", MinimalAnnotationHeader),
    ("member_seq", Seq(MinimalAnnotationParameter)))

# --- alias -----------------------------------------------------------------------------------
CommonAliasBody = StructDef("CommonAliasBody").set_fields(
    ("related_flags", MEMBER_FLAG), ("related_type", TypeIdentifier))
CompleteAliasBody = StructDef("CompleteAliasBody", "appendable").set_fields(
    ("common", CommonAliasBody), ("ann_builtin", Opt(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", Opt(AppliedAnnotationSeq)))
MinimalAliasBody = StructDef("MinimalAliasBody", "appendable").set_fields(
    ("common", CommonAliasBody))
CompleteAliasHeader = StructDef("CompleteAliasHeader", "appendable").set_fields(
    ("detail", CompleteTypeDetail))
MinimalAliasHeader = StructDef("MinimalAliasHeader", "appendable")
CompleteAliasType = StructDef("CompleteAliasType").set_fields(
    ("alias_flags", TYPE_FLAG), ("header", CompleteAliasHeader), ("body", CompleteAliasBody))
MinimalAliasType = StructDef("MinimalAliasType").set_fields(
    ("alias_flags", TYPE_FLAG), ("header", MinimalAliasHeader), ("body", MinimalAliasBody))

# --- collections -----------------------------------------------------------------------------
CompleteElementDetail = StructDef("CompleteElementDetail").set_fields(
    ("ann_builtin", Opt(AppliedBuiltinMemberAnnotations)),
    ("ann_custom", Opt(AppliedAnnotationSeq)))
CommonCollectionElement = StructDef("CommonCollectionElement").set_fields(
    ("element_flags", MEMBER_FLAG), ("type", TypeIdentifier))
CompleteCollectionElement = StructDef("CompleteCollectionElement", "appendable").set_fields(
    ("common", CommonCollectionElement), ("detail", CompleteElementDetail))
MinimalCollectionElement = StructDef("MinimalCollectionElement", "appendable").set_fields(
    ("common", CommonCollectionElement))
CommonCollectionHeader = StructDef("CommonCollectionHeader").set_fields(("bound", L_BOUND))
CompleteCollectionHeader = StructDef("CompleteCollectionHeader", "appendable").set_fields(
    ("common", CommonCollectionHeader), ("detail", Opt(CompleteTypeDetail)))
MinimalCollectionHeader = StructDef("MinimalCollectionHeader", "appendable").set_fields(
    ("common", CommonCollectionHeader))
CompleteSequenceType = StructDef("CompleteSequenceType").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", CompleteCollectionHeader),
    ("element", CompleteCollectionElement))
MinimalSequenceType = StructDef("MinimalSequenceType").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", MinimalCollectionHeader),
    ("element", MinimalCollectionElement))
CommonArrayHeader = StructDef("CommonArrayHeader").set_fields(("bound_seq", Seq(L_BOUND)))
CompleteArrayHeader = StructDef("CompleteArrayHeader", "appendable").set_fields(
    ("common", CommonArrayHeader), ("detail", CompleteTypeDetail))
MinimalArrayHeader = StructDef("MinimalArrayHeader", "appendable").set_fields(
    ("common", CommonArrayHeader))
CompleteArrayType = StructDef("CompleteArrayType", "appendable").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", CompleteArrayHeader),
    ("element", CompleteCollectionElement))
MinimalArrayType = StructDef("MinimalArrayType").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", MinimalArrayHeader),
    ("element", MinimalCollectionElement))
CompleteMapType = StructDef("CompleteMapType").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", CompleteCollectionHeader),
    ("key", CompleteCollectionElement), ("element", CompleteCollectionElement))
MinimalMapType = StructDef("MinimalMapType").set_fields(
    ("collection_flag", TYPE_FLAG), ("header", MinimalCollectionHeader),
    ("key", MinimalCollectionElement), ("element", MinimalCollectionElement))

# --- enum / bitmask / bitset -----------------------------------------------------------------
CommonEnumeratedLiteral = StructDef("CommonEnumeratedLiteral", "appendable").set_fields(
    ("value", INT32), ("flags", MEMBER_FLAG))
CompleteEnumeratedLiteral = StructDef("CompleteEnumeratedLiteral", "appendable").set_fields(
    ("common", CommonEnumeratedLiteral), ("detail", CompleteMemberDetail))
MinimalEnumeratedLiteral = StructDef("MinimalEnumeratedLiteral", "appendable").set_fields(
    ("common", CommonEnumeratedLiteral), ("detail", MinimalMemberDetail))
CommonEnumeratedHeader = StructDef("CommonEnumeratedHeader").set_fields(("bit_bound", UINT16))
CompleteEnumeratedHeader = StructDef("CompleteEnumeratedHeader", "appendable").set_fields(
    ("common", CommonEnumeratedHeader), ("detail", CompleteTypeDetail))
MinimalEnumeratedHeader = StructDef("MinimalEnumeratedHeader", "appendable").set_fields(
    ("common", CommonEnumeratedHeader))
CompleteEnumeratedType = StructDef("CompleteEnumeratedType").set_fields(
    ("enum_flags", TYPE_FLAG), ("header", CompleteEnumeratedHeader),
    ("literal_seq", Seq(CompleteEnumeratedLiteral)))
MinimalEnumeratedType = StructDef("MinimalEnumeratedType").set_fields(
    ("enum_flags", TYPE_FLAG), ("header", MinimalEnumeratedHeader),
    ("literal_seq", Seq(MinimalEnumeratedLiteral)))
CommonBitflag = StructDef("CommonBitflag").set_fields(("position", UINT16), ("flags", MEMBER_FLAG))
CompleteBitflag = StructDef("CompleteBitflag", "appendable").set_fields(
    ("common", CommonBitflag), ("detail", CompleteMemberDetail))
MinimalBitflag = StructDef("MinimalBitflag", "appendable").set_fields(
    ("common", CommonBitflag), ("detail", MinimalMemberDetail))
CompleteBitmaskType = StructDef("CompleteBitmaskType", "appendable").set_fields(
    ("bitmask_flags", TYPE_FLAG), ("header", CompleteEnumeratedHeader),
    ("flag_seq", Seq(CompleteBitflag)))
MinimalBitmaskType = StructDef("MinimalBitmaskType", "appendable").set_fields(
    ("bitmask_flags", TYPE_FLAG), ("header", MinimalEnumeratedHeader),
    ("flag_seq", Seq(MinimalBitflag)))
CommonBitfield = StructDef("CommonBitfield").set_fields(
    ("position", UINT16), ("flags", MEMBER_FLAG), ("bitcount", OCTET), ("holder_type", OCTET))
CompleteBitfield = StructDef("CompleteBitfield", "appendable").set_fields(
    ("common", CommonBitfield), ("detail", CompleteMemberDetail))
MinimalBitfield = StructDef("MinimalBitfield", "appendable").set_fields(
    ("common", CommonBitfield), ("name_hash", NAME_HASH))
CompleteBitsetHeader = StructDef("CompleteBitsetHeader", "appendable").set_fields(
    ("detail", CompleteTypeDetail))
MinimalBitsetHeader = StructDef("MinimalBitsetHeader", "appendable")
CompleteBitsetType = StructDef("CompleteBitsetType", "appendable").set_fields(
    ("bitset_flags", TYPE_FLAG), ("header", CompleteBitsetHeader),
    ("field_seq", Seq(CompleteBitfield)))
MinimalBitsetType = StructDef("MinimalBitsetType", "appendable").set_fields(
    ("bitset_flags", TYPE_FLAG), ("header", MinimalBitsetHeader),
    ("field_seq", Seq(MinimalBitfield)))

# --- TypeObject ------------------------------------------------------------------------------
CompleteExtendedType = StructDef("CompleteExtendedType", "mutable")
MinimalExtendedType = StructDef("MinimalExtendedType", "mutable")
CompleteTypeObject = UnionDef("CompleteTypeObject", OCTET).set_cases(
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
MinimalTypeObject = UnionDef("MinimalTypeObject", OCTET).set_cases(
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
TypeObject = UnionDef("TypeObject", OCTET, "appendable").set_cases(
    ((EK_COMPLETE,), "complete", CompleteTypeObject),
    ((EK_MINIMAL,), "minimal", MinimalTypeObject),
)
TypeObjectSeq = Seq(TypeObject)

TypeIdentifierTypeObjectPair = StructDef("TypeIdentifierTypeObjectPair").set_fields(
    ("type_identifier", TypeIdentifier), ("type_object", TypeObject))
TypeIdentifierPair = StructDef("TypeIdentifierPair").set_fields(
    ("type_identifier1", TypeIdentifier), ("type_identifier2", TypeIdentifier))
TypeIdentifierWithSize = StructDef("TypeIdentifierWithSize", "appendable").set_fields(
    ("type_id", TypeIdentifier), ("typeobject_serialized_size", UINT32))
TypeIdentifierWithDependencies = StructDef(
    "TypeIdentifierWithDependencies", "appendable").set_fields(
    ("typeid_with_size", TypeIdentifierWithSize), ("dependent_typeid_count", INT32),
    ("dependent_typeids", Seq(TypeIdentifierWithSize)))
TypeInformation = StructDef("TypeInformation", "mutable").set_fields(
    ("minimal", TypeIdentifierWithDependencies, 0x1001),
    ("complete", TypeIdentifierWithDependencies, 0x1002))
TypeMapping = StructDef("TypeMapping").set_fields(
    ("identifier_object_pair_minimal", Seq(TypeIdentifierTypeObjectPair)),
    ("identifier_object_pair_complete", Seq(TypeIdentifierTypeObjectPair)),
    ("identifier_complete_minimal", Seq(TypeIdentifierPair)))


# --- TypeLookup service (ddsi_xt_typelookup.idl) ---------------------------------------------
def hashid(name: str) -> int:
    """``@hashid`` member id: first 4 bytes of MD5(name), little endian, masked to 28 bits."""
    return int.from_bytes(hashlib.md5(name.encode("utf-8")).digest()[:4], "little") & 0x0FFFFFFF


TYPELOOKUP_GETTYPES_HASHID = 0x018252D3
TYPELOOKUP_GETDEPENDENCIES_HASHID = 0x05AAFB31
DDS_RETCODE_OK = 0

GUID = Arr(OCTET, 16)  # GuidPrefix_t[12] + EntityId_t{octet[3], octet}: all octets, final
SequenceNumber = StructDef("SequenceNumber").set_fields(("high", INT32), ("low", UINT32))
SampleIdentity = StructDef("SampleIdentity").set_fields(
    ("writer_guid", GUID), ("sequence_number", SequenceNumber))
RequestHeader = StructDef("RequestHeader").set_fields(
    ("requestId", SampleIdentity), ("instanceName", Str(255)))
ReplyHeader = StructDef("ReplyHeader").set_fields(
    ("relatedRequestId", SampleIdentity), ("remoteEx", INT32))

TypeLookup_getTypes_In = StructDef("TypeLookup_getTypes_In", "mutable").set_fields(
    ("type_ids", Seq(TypeIdentifier), hashid("type_ids")))
TypeLookup_getTypes_Out = StructDef("TypeLookup_getTypes_Out", "mutable").set_fields(
    ("types", Seq(TypeIdentifierTypeObjectPair), hashid("types")),
    ("complete_to_minimal", Seq(TypeIdentifierPair), hashid("complete_to_minimal")))
TypeLookup_getTypes_Result = UnionDef("TypeLookup_getTypes_Result", INT32, "appendable").set_cases(
    ((DDS_RETCODE_OK,), "result", TypeLookup_getTypes_Out))
TypeLookup_getTypeDependencies_In = StructDef(
    "TypeLookup_getTypeDependencies_In", "mutable").set_fields(
    ("type_ids", Seq(TypeIdentifier), hashid("type_ids")),
    ("continuation_point", Seq(OCTET, 32), hashid("continuation_point")))
TypeLookup_getTypeDependencies_Out = StructDef(
    "TypeLookup_getTypeDependencies_Out", "mutable").set_fields(
    ("dependent_typeids", Seq(TypeIdentifierWithSize), hashid("dependent_typeids")),
    ("continuation_point", Seq(OCTET, 32), hashid("continuation_point")))
TypeLookup_getTypeDependencies_Result = UnionDef(
    "TypeLookup_getTypeDependencies_Result", INT32, "appendable").set_cases(
    ((DDS_RETCODE_OK,), "result", TypeLookup_getTypeDependencies_Out))
TypeLookup_Call = UnionDef("TypeLookup_Call", INT32, "appendable").set_cases(
    ((TYPELOOKUP_GETTYPES_HASHID,), "getTypes", TypeLookup_getTypes_In),
    ((TYPELOOKUP_GETDEPENDENCIES_HASHID,), "getTypeDependencies",
     TypeLookup_getTypeDependencies_In))
TypeLookup_Request = StructDef("TypeLookup_Request").set_fields(
    ("header", RequestHeader), ("data", TypeLookup_Call))
TypeLookup_Return = UnionDef("TypeLookup_Return", INT32, "appendable").set_cases(
    ((TYPELOOKUP_GETTYPES_HASHID,), "getType", TypeLookup_getTypes_Result),
    ((TYPELOOKUP_GETDEPENDENCIES_HASHID,), "getTypeDependencies",
     TypeLookup_getTypeDependencies_Result))
TypeLookup_Reply = StructDef("TypeLookup_Reply").set_fields(
    ("header", ReplyHeader), ("return_data", TypeLookup_Return))
