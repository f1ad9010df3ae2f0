"""Rebuild rtbus type models from COMPLETE TypeObjects learnt through TypeLookup.

A reader may meet a topic whose type it was never told about (a generic monitor, a bridge,
``rtbus sub`` on any topic). The remote participant's complete TypeObjects carry everything the
model needs: names, member ids, flags, bounds. Minimal TypeObjects only carry name hashes and
cannot name members, so they are not accepted here.

The rebuilt model hashes back to the identifiers it came from (tested on every conformance
type). ``@try_construct``, ``@unit``, ``@min`` and ``@max`` are kept in the member's
``annotations``; ``@default`` values are not
part of a TypeObject, so rebuilt members have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MalformedError
from ..types import model as m
from . import wire_types as wt
from .serialize import decode
from .typeid import TypeIdentifier

_PRIMITIVES_BY_KIND: dict[int, m.PrimitiveType] = {
    wt.TK_BOOLEAN: m.BOOLEAN, wt.TK_BYTE: m.OCTET, wt.TK_CHAR8: m.CHAR, wt.TK_CHAR16: m.WCHAR,
    wt.TK_INT8: m.INT8, wt.TK_UINT8: m.UINT8, wt.TK_INT16: m.INT16, wt.TK_UINT16: m.UINT16,
    wt.TK_INT32: m.INT32, wt.TK_UINT32: m.UINT32, wt.TK_INT64: m.INT64, wt.TK_UINT64: m.UINT64,
    wt.TK_FLOAT32: m.FLOAT32, wt.TK_FLOAT64: m.FLOAT64,
}


class _Builder:
    def __init__(self, objects: Mapping[TypeIdentifier, bytes]) -> None:
        self.objects = objects
        self.built: dict[TypeIdentifier, m.IdlType] = {}

    def complete_object(self, tid: TypeIdentifier) -> tuple[int, Any]:
        blob = self.objects.get(tid)
        if blob is None:
            raise LookupError(f"no TypeObject for {tid!r}")
        ek, inner = decode(wt.TypeObject, blob)
        if ek != wt.EK_COMPLETE or inner is None:
            raise MalformedError("xtypes_not_complete", f"{tid!r} is not a complete TypeObject")
        return inner  # type: ignore[no-any-return]

    def type_of(self, tid_value: tuple[int, Any]) -> m.IdlType:
        kind, body = tid_value
        if kind in _PRIMITIVES_BY_KIND:
            return _PRIMITIVES_BY_KIND[kind]
        if kind in (wt.TI_STRING8_SMALL, wt.TI_STRING8_LARGE, wt.TI_STRING16_SMALL,
                    wt.TI_STRING16_LARGE):
            wide = kind in (wt.TI_STRING16_SMALL, wt.TI_STRING16_LARGE)
            return m.StringType(body["bound"] or None, wide)
        if kind in (wt.TI_PLAIN_SEQUENCE_SMALL, wt.TI_PLAIN_SEQUENCE_LARGE):
            return m.SequenceType(self.type_of(body["element_identifier"]), body["bound"] or None)
        if kind in (wt.TI_PLAIN_ARRAY_SMALL, wt.TI_PLAIN_ARRAY_LARGE):
            return m.ArrayType(self.type_of(body["element_identifier"]),
                               tuple(int(d) for d in body["array_bound_seq"]))
        if kind == wt.EK_COMPLETE:
            return self.named(TypeIdentifier(tid_value))
        if kind == wt.EK_MINIMAL:
            raise LookupError("minimal TypeIdentifiers cannot be turned into a model")
        raise MalformedError("xtypes_unsupported", f"TypeIdentifier kind {kind:#x}")

    def named(self, tid: TypeIdentifier) -> m.IdlType:
        done = self.built.get(tid)
        if done is not None:
            return done
        tk, body = self.complete_object(tid)
        if tk == wt.TK_STRUCTURE:
            return self.struct(tid, body)
        if tk == wt.TK_UNION:
            return self.union(tid, body)
        if tk == wt.TK_ENUM:
            return self.remember(tid, self.enum(body))
        if tk == wt.TK_BITMASK:
            return self.remember(tid, self.bitmask(body))
        if tk == wt.TK_ALIAS:
            alias = m.AliasType(body["header"]["detail"]["type_name"], m.INT32)
            self.built[tid] = alias
            alias.target = self.type_of(body["body"]["common"]["related_type"])
            return alias
        raise MalformedError("xtypes_unsupported", f"TypeObject kind {tk:#x} for {tid!r}")

    def remember(self, tid: TypeIdentifier, t: m.IdlType) -> m.IdlType:
        self.built[tid] = t
        return t

    @staticmethod
    def extensibility(flags: int) -> m.Extensibility:
        if flags & wt.IS_MUTABLE:
            return "mutable"
        if flags & wt.IS_APPENDABLE:
            return "appendable"
        return "final"

    @staticmethod
    def member(name: str, t: m.IdlType, mid: int, flags: int,
               detail: dict[str, Any]) -> m.Member:
        ann = detail.get("ann_builtin") or {}
        member = m.Member(name, t, id=mid, key=bool(flags & wt.IS_KEY),
                          optional=bool(flags & wt.IS_OPTIONAL),
                          external=bool(flags & wt.IS_EXTERNAL),
                          must_understand=bool(flags & wt.IS_MUST_UNDERSTAND),
                          hashid=ann.get("hash_id"))
        if ann.get("unit") is not None:
            member.annotations["unit"] = ann["unit"]
        for bound in ("min", "max"):
            if ann.get(bound) is not None:
                member.annotations[bound] = ann[bound][1]
        try_construct = flags & (wt.TRY_CONSTRUCT1 | wt.TRY_CONSTRUCT2)
        if try_construct == wt.TRY_CONSTRUCT2:
            member.annotations["try_construct"] = "USE_DEFAULT"
        elif try_construct == wt.TRY_CONSTRUCT1 | wt.TRY_CONSTRUCT2:
            member.annotations["try_construct"] = "TRIM"
        return member

    def struct(self, tid: TypeIdentifier, body: dict[str, Any]) -> m.StructType:
        flags = body["struct_flags"]
        st = m.StructType(body["header"]["detail"]["type_name"],
                          extensibility=self.extensibility(flags),
                          autoid="hash" if flags & wt.IS_AUTOID_HASH else "sequential",
                          nested=bool(flags & wt.IS_NESTED))
        self.built[tid] = st
        base = body["header"]["base_type"]
        if base[0] != wt.TK_NONE:
            resolved = m.resolve(self.type_of(base))
            if not isinstance(resolved, m.StructType):
                raise MalformedError("xtypes_bad_base", f"{st.name}: base is not a struct")
            st.base = resolved
        for mem in body["member_seq"]:
            c, d = mem["common"], mem["detail"]
            st.members.append(self.member(d["name"], self.type_of(c["member_type_id"]),
                                          c["member_id"], c["member_flags"], d))
        return st

    def union(self, tid: TypeIdentifier, body: dict[str, Any]) -> m.UnionType:
        disc = body["discriminator"]["common"]
        un = m.UnionType(body["header"]["detail"]["type_name"], m.INT32,
                         extensibility=self.extensibility(body["union_flags"]),
                         key_discriminator=bool(disc["member_flags"] & wt.IS_KEY))
        self.built[tid] = un
        un.discriminator = self.type_of(disc["type_id"])
        if body["union_flags"] & wt.IS_NESTED:
            un.annotations["nested"] = True
        for mem in body["member_seq"]:
            c, d = mem["common"], mem["detail"]
            member = self.member(d["name"], self.type_of(c["type_id"]), c["member_id"],
                                 c["member_flags"] & ~wt.IS_DEFAULT, d)
            un.cases.append(m.UnionCase([int(lab) for lab in c["label_seq"]], member,
                                        is_default=bool(c["member_flags"] & wt.IS_DEFAULT)))
        return un

    def enum(self, body: dict[str, Any]) -> m.EnumType:
        lits = [m.EnumLiteral(lit["detail"]["name"], lit["common"]["value"],
                              bool(lit["common"]["flags"] & wt.IS_DEFAULT))
                for lit in body["literal_seq"]]
        return m.EnumType(body["header"]["detail"]["type_name"], lits,
                          bit_bound=body["header"]["common"]["bit_bound"],
                          extensibility=self.extensibility(body["enum_flags"]))

    def bitmask(self, body: dict[str, Any]) -> m.BitmaskType:
        flags = [m.BitFlag(f["detail"]["name"], f["common"]["position"])
                 for f in body["flag_seq"]]
        return m.BitmaskType(body["header"]["detail"]["type_name"], flags,
                             bit_bound=body["header"]["common"]["bit_bound"],
                             extensibility=self.extensibility(body["bitmask_flags"]))


def model_from_type_objects(top: TypeIdentifier,
                            objects: Mapping[TypeIdentifier, bytes]) -> m.IdlType:
    """The model of the type named by the complete identifier ``top``.

    ``objects`` maps complete identifiers to serialized TypeObjects (e.g. gathered from
    TypeLookup replies); every type ``top`` depends on must be present (LookupError otherwise).
    """
    if not top.is_complete:
        raise LookupError("a complete TypeIdentifier is needed to rebuild a model")
    return _Builder(objects).named(top)


__all__ = ["model_from_type_objects"]
