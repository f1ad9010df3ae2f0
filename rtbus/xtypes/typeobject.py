"""TypeObjects (MINIMAL and COMPLETE) computed from the rtbus type model.

A TypeObject describes one named type (struct, union, enum, bitmask, alias); its XCDR2
little-endian bytes are hashed (MD5, first 14 bytes) into the EK_MINIMAL / EK_COMPLETE
TypeIdentifier that peers put in SEDP. Everything here mirrors what Cyclone DDS 11 computes
(``cyclonedds.idl._xt_builder`` and ``descriptor_type_meta.c``): member flags
(TRY_CONSTRUCT from ``@try_construct``, DISCARD by default, kept in the member's
``annotations["try_construct"]``; IS_EXTERNAL, IS_OPTIONAL, IS_MUST_UNDERSTAND, IS_KEY;
union discriminators always IS_MUST_UNDERSTAND), type flags from extensibility / ``@nested`` /
``@autoid(HASH)``, enum literals sorted by value and bitmask flags by position. Of the
annotations only ``@hashid``, ``@unit``, ``@min``, ``@max`` and ``@range`` (the last four read
from the member's ``annotations``) are recorded, in the complete member detail, as idlc does;
custom annotations stay empty. Sequences and arrays are always plain (described inline), as
Cyclone does for every type the model can express.

Results are cached per model object: a type is computed once.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import RtbusError
from ..types import model as m
from . import wire_types as wt
from .serialize import encode
from .typeid import TypeIdentifier

Kind = Literal["minimal", "complete"]


class UnsupportedTypeError(RtbusError, TypeError):
    """The type cannot be described as an XTypes TypeObject (e.g. a recursive type)."""


@dataclass(frozen=True)
class TypeObjectPair:
    """Both TypeObjects of one named type, their encodings and identifiers."""

    minimal_object: tuple[int, Any]
    complete_object: tuple[int, Any]
    minimal_bytes: bytes
    complete_bytes: bytes
    minimal_id: TypeIdentifier
    complete_id: TypeIdentifier

    def object_bytes(self, kind: Kind) -> bytes:
        return self.minimal_bytes if kind == "minimal" else self.complete_bytes

    def identifier(self, kind: Kind) -> TypeIdentifier:
        return self.minimal_id if kind == "minimal" else self.complete_id


_cache: weakref.WeakKeyDictionary[Any, TypeObjectPair] = weakref.WeakKeyDictionary()
_in_progress: set[int] = set()


def name_hash(name: str) -> bytes:
    """NameHash: the first 4 bytes of MD5 of the member/literal name."""
    return hashlib.md5(name.encode("utf-8")).digest()[:4]


def equivalence_hash(type_object_bytes: bytes) -> bytes:
    return hashlib.md5(type_object_bytes).digest()[:14]


def is_named(t: m.IdlType) -> bool:
    return isinstance(t, (m.StructType, m.UnionType, m.EnumType, m.BitmaskType, m.AliasType))


def is_fully_descriptive(t: m.IdlType) -> bool:
    """True when the identifier of ``t`` embeds no hash (so EK_BOTH applies to collections)."""
    if isinstance(t, (m.PrimitiveType, m.StringType)):
        return True
    if isinstance(t, (m.SequenceType, m.ArrayType)):
        return is_fully_descriptive(t.element)
    return False


def type_identifier_of(t: m.IdlType, kind: Kind) -> TypeIdentifier:
    """The TypeIdentifier a member/element of type ``t`` carries in a ``kind`` TypeObject."""
    if isinstance(t, m.PrimitiveType):
        return TypeIdentifier.primitive(t)
    if isinstance(t, m.StringType):
        return TypeIdentifier.string(t.bound, t.wide)
    if isinstance(t, (m.SequenceType, m.ArrayType)):
        if is_fully_descriptive(t):
            ek = wt.EK_BOTH
        else:
            ek = wt.EK_MINIMAL if kind == "minimal" else wt.EK_COMPLETE
        if isinstance(t, m.SequenceType):
            return TypeIdentifier.plain_sequence(type_identifier_of(t.element, kind), t.bound, ek)
        # T x[a][b] may be modelled as nested arrays: flatten the dims like IDL does
        dims = list(t.dims)
        elem = t.element
        while isinstance(elem, m.ArrayType):
            dims.extend(elem.dims)
            elem = elem.element
        return TypeIdentifier.plain_array(type_identifier_of(elem, kind), tuple(dims), ek)
    if is_named(t):
        return type_objects(t).identifier(kind)
    raise UnsupportedTypeError(f"no XTypes TypeIdentifier for {t!r}")


# --- TypeObject construction ------------------------------------------------------------------
def _type_flags(extensibility: str, nested: bool = False, autoid_hash: bool = False) -> int:
    flags = {"final": wt.IS_FINAL, "appendable": wt.IS_APPENDABLE,
             "mutable": wt.IS_MUTABLE}[extensibility]
    if nested:
        flags |= wt.IS_NESTED
    if autoid_hash:
        flags |= wt.IS_AUTOID_HASH
    return flags


_TRY_CONSTRUCT = {"DISCARD": wt.TRY_CONSTRUCT1, "USE_DEFAULT": wt.TRY_CONSTRUCT2,
                  "TRIM": wt.TRY_CONSTRUCT1 | wt.TRY_CONSTRUCT2}


def _member_flags(member: m.Member, is_default_case: bool = False) -> int:
    # @try_construct(DISCARD|USE_DEFAULT|TRIM), DISCARD when absent; @default(value) does not
    # change it (Cyclone's idlc)
    try_construct = str(member.annotations.get("try_construct", "DISCARD")).upper()
    if try_construct not in _TRY_CONSTRUCT:
        raise UnsupportedTypeError(f"member {member.name!r}: @try_construct({try_construct}) "
                                   "is not one of DISCARD, USE_DEFAULT, TRIM")
    flags = _TRY_CONSTRUCT[try_construct]
    if member.external:
        flags |= wt.IS_EXTERNAL
    if member.optional:
        flags |= wt.IS_OPTIONAL
    if member.must_understand:
        flags |= wt.IS_MUST_UNDERSTAND
    if member.key:
        flags |= wt.IS_KEY
    if is_default_case:
        flags |= wt.IS_DEFAULT
    return flags


def _annotation_value(value: Any, member: str) -> tuple[int, Any]:
    """An AnnotationParameterValue typed as the IDL literal would be (idlc: integers are
    ``long`` unless they need 64 bits, reals ``double``)."""
    if isinstance(value, bool):
        return wt.TK_BOOLEAN, value
    if isinstance(value, int):
        if -(1 << 31) <= value < (1 << 31):
            return wt.TK_INT32, value
        if -(1 << 63) <= value < (1 << 63):
            return wt.TK_INT64, value
        return wt.TK_UINT64, value
    if isinstance(value, float):
        return wt.TK_FLOAT64, value
    raise UnsupportedTypeError(f"member {member!r}: @min/@max/@range value {value!r} is not "
                               "a boolean, integer or floating-point literal")


def _builtin_member_annotations(name: str, hashid: str | None,
                                annotations: dict[str, Any]) -> dict[str, Any] | None:
    """@hashid, @unit, @min, @max, @range as idlc records them in the complete detail."""
    lo, hi = annotations.get("min"), annotations.get("max")
    rng = annotations.get("range")
    if rng is not None:
        lo, hi = (rng["min"], rng["max"]) if isinstance(rng, dict) else rng
    unit = annotations.get("unit")
    if hashid is None and unit is None and lo is None and hi is None:
        return None
    return {"unit": None if unit is None else str(unit),
            "min": None if lo is None else _annotation_value(lo, name),
            "max": None if hi is None else _annotation_value(hi, name),
            "hash_id": hashid}


def _member_detail(name: str, kind: Kind, hashid: str | None = None,
                   annotations: dict[str, Any] | None = None) -> dict[str, Any]:
    if kind == "minimal":
        return {"name_hash": name_hash(name)}
    ann = _builtin_member_annotations(name, hashid, annotations or {})
    return {"name": name, "ann_builtin": ann, "ann_custom": None}


def _type_detail(name: str, kind: Kind) -> dict[str, Any]:
    if kind == "minimal":
        return {}
    return {"ann_builtin": None, "ann_custom": None, "type_name": name}


def _struct_object(t: m.StructType, kind: Kind) -> tuple[int, Any]:
    base = (type_identifier_of(t.base, kind).value if t.base is not None
            else TypeIdentifier.none().value)
    members = []
    for idx, mem in enumerate(t.members):
        mid = mem.id if mem.id is not None else idx
        common = {"member_id": mid, "member_flags": _member_flags(mem),
                  "member_type_id": type_identifier_of(mem.type, kind).value}
        members.append({"common": common,
                        "detail": _member_detail(mem.name, kind, mem.hashid, mem.annotations)})
    body = {
        "struct_flags": _type_flags(t.extensibility, t.nested, t.autoid == "hash"),
        "header": {"base_type": base, "detail": _type_detail(t.name, kind)},
        "member_seq": members,
    }
    return wt.TK_STRUCTURE, body


def _union_object(t: m.UnionType, kind: Kind) -> tuple[int, Any]:
    disc_flags = wt.TRY_CONSTRUCT1 | wt.IS_MUST_UNDERSTAND
    if t.key_discriminator:
        disc_flags |= wt.IS_KEY
    disc_common: dict[str, Any] = {"member_flags": disc_flags,
                   "type_id": type_identifier_of(t.discriminator, kind).value}
    disc: dict[str, Any]
    if kind == "minimal":
        disc = {"common": disc_common}
    else:
        disc = {"common": disc_common, "ann_builtin": None, "ann_custom": None}
    members = []
    for idx, case in enumerate(t.cases):
        mem = case.member
        mid = mem.id if mem.id is not None else idx
        common = {"member_id": mid, "member_flags": _member_flags(mem, case.is_default),
                  "type_id": type_identifier_of(mem.type, kind).value,
                  "label_seq": [int(lab) for lab in case.labels]}
        members.append({"common": common,
                        "detail": _member_detail(mem.name, kind, mem.hashid, mem.annotations)})
    nested = bool(t.annotations.get("nested", False))
    body = {
        "union_flags": _type_flags(t.extensibility, nested),
        "header": {"detail": _type_detail(t.name, kind)},
        "discriminator": disc,
        "member_seq": members,
    }
    return wt.TK_UNION, body


def _enum_object(t: m.EnumType, kind: Kind) -> tuple[int, Any]:
    default_value = t.default_literal.value
    literals = []
    for lit in sorted(t.literals, key=lambda lit: lit.value):
        common = {"value": lit.value, "flags": wt.IS_DEFAULT if lit.value == default_value else 0}
        literals.append({"common": common, "detail": _member_detail(lit.name, kind)})
    header: dict[str, Any] = {"common": {"bit_bound": t.bit_bound}}
    if kind == "complete":
        header["detail"] = _type_detail(t.name, kind)
    body = {"enum_flags": _type_flags(t.extensibility), "header": header, "literal_seq": literals}
    return wt.TK_ENUM, body


def _bitmask_object(t: m.BitmaskType, kind: Kind) -> tuple[int, Any]:
    flags = []
    for flag in sorted(t.flags, key=lambda f: f.position):
        flags.append({"common": {"position": flag.position, "flags": 0},
                      "detail": _member_detail(flag.name, kind)})
    header: dict[str, Any] = {"common": {"bit_bound": t.bit_bound}}
    if kind == "complete":
        header["detail"] = _type_detail(t.name, kind)
    body = {"bitmask_flags": _type_flags(t.extensibility), "header": header, "flag_seq": flags}
    return wt.TK_BITMASK, body


def _alias_object(t: m.AliasType, kind: Kind) -> tuple[int, Any]:
    common = {"related_flags": 0, "related_type": type_identifier_of(t.target, kind).value}
    if kind == "minimal":
        body = {"alias_flags": 0, "header": {}, "body": {"common": common}}
    else:
        body = {"alias_flags": 0, "header": {"detail": _type_detail(t.name, kind)},
                "body": {"common": common, "ann_builtin": None, "ann_custom": None}}
    return wt.TK_ALIAS, body


def _object_body(t: m.IdlType, kind: Kind) -> tuple[int, Any]:
    if isinstance(t, m.StructType):
        return _struct_object(t, kind)
    if isinstance(t, m.UnionType):
        return _union_object(t, kind)
    if isinstance(t, m.EnumType):
        return _enum_object(t, kind)
    if isinstance(t, m.BitmaskType):
        return _bitmask_object(t, kind)
    if isinstance(t, m.AliasType):
        return _alias_object(t, kind)
    raise UnsupportedTypeError(f"no TypeObject for anonymous type {t!r}")


def type_objects(t: m.IdlType) -> TypeObjectPair:
    """Minimal and complete TypeObjects (and their hashes) of a named type; cached."""
    cached = _cache.get(t)
    if cached is not None:
        return cached
    if id(t) in _in_progress:
        raise UnsupportedTypeError(
            f"{getattr(t, 'name', t)!r} is recursive; strongly connected components are not "
            "supported")
    _in_progress.add(id(t))
    try:
        minimal = (wt.EK_MINIMAL, _object_body(t, "minimal"))
        complete = (wt.EK_COMPLETE, _object_body(t, "complete"))
    finally:
        _in_progress.discard(id(t))
    min_bytes = encode(wt.TypeObject, minimal)
    com_bytes = encode(wt.TypeObject, complete)
    pair = TypeObjectPair(
        minimal_object=minimal, complete_object=complete,
        minimal_bytes=min_bytes, complete_bytes=com_bytes,
        minimal_id=TypeIdentifier.hashed(wt.EK_MINIMAL, equivalence_hash(min_bytes)),
        complete_id=TypeIdentifier.hashed(wt.EK_COMPLETE, equivalence_hash(com_bytes)),
    )
    _cache[t] = pair
    return pair


def type_object(t: m.IdlType, kind: Kind = "complete") -> bytes:
    """The XCDR2 (little-endian, no encapsulation header) bytes of ``t``'s TypeObject."""
    return type_objects(t).object_bytes(kind)


def type_identifier(t: m.IdlType, kind: Kind = "complete") -> TypeIdentifier:
    """The TypeIdentifier of ``t``: a hash for named types, inline for the others."""
    return type_identifier_of(t, kind)


__all__ = [
    "Kind", "TypeObjectPair", "UnsupportedTypeError", "equivalence_hash", "is_fully_descriptive",
    "name_hash", "type_identifier", "type_identifier_of", "type_object", "type_objects",
]
