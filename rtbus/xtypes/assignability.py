"""Basic XTypes assignability: may a reader of one type accept data of another?

Equal equivalence hashes settle it at once (that is :func:`rtbus.xtypes.matches`). When the
hashes differ, a peer may still be using a compatible evolution of the type (a member appended
to an appendable struct, a member added to a mutable one). This module compares the two
TypeObjects structurally with a conservative subset of the XTypes 1.3 rules (7.2.4):

- extensibility must be equal; type names must be equal for complete objects;
- final: same members (ids, names, types) in the same order;
- appendable: one member list is a prefix of the other;
- mutable: members with the same id have the same name and compatible types, members with
  the same name the same id, and key members exist on both sides;
- key flags must agree on common members; union discriminators and case labels must agree;
- enums: final ones need the same literals, appendable ones agree on the common literals;
- strings and sequences are compatible whatever their bounds (bounds are checked per
  sample), arrays need equal dimensions, primitives the same kind; aliases are looked through.

Anything not understood (bitsets, maps, annotation types, unknown identifiers) is "not
assignable", so this never matches types the codec could not handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from ..types import model as m
from . import wire_types as wt
from .serialize import decode
from .typeid import TypeIdentifier
from .typeinfo import TypeInformation, decode_type_information, matches, type_information_of
from .typeobject import Kind, type_objects

_STRING_KINDS = (wt.TI_STRING8_SMALL, wt.TI_STRING8_LARGE, wt.TI_STRING16_SMALL,
                 wt.TI_STRING16_LARGE)
_SEQ_KINDS = (wt.TI_PLAIN_SEQUENCE_SMALL, wt.TI_PLAIN_SEQUENCE_LARGE)
_ARRAY_KINDS = (wt.TI_PLAIN_ARRAY_SMALL, wt.TI_PLAIN_ARRAY_LARGE)
_HASH_KINDS = (wt.EK_MINIMAL, wt.EK_COMPLETE)
_MAX_DEPTH = 64


class _Side:
    """One side's TypeObjects by identifier: ``(TK, body)`` values of one kind."""

    def __init__(self, objects: Mapping[TypeIdentifier, Any]) -> None:
        self.objects = objects

    def get(self, tid: tuple[int, Any]) -> tuple[int, Any] | None:
        obj = self.objects.get(TypeIdentifier(tid))
        return obj if obj is not None else None

    def resolve(self, tid: tuple[int, Any]) -> tuple[int, Any]:
        """Look through aliases; returns an identifier value that is not an alias."""
        for _ in range(_MAX_DEPTH):
            if tid[0] not in _HASH_KINDS:
                return tid
            obj = self.get(tid)
            if obj is None or obj[0] != wt.TK_ALIAS:
                return tid
            tid = obj[1]["body"]["common"]["related_type"]
        return tid


def _local_side(local: m.IdlType, kind: Kind) -> _Side:
    objects: dict[TypeIdentifier, Any] = {}
    for named in type_information_of(local).types:
        pair = type_objects(named)
        obj = pair.minimal_object if kind == "minimal" else pair.complete_object
        objects[pair.identifier(kind)] = obj[1]
    return _Side(objects)


def _remote_side(pairs: list[tuple[TypeIdentifier, bytes]], kind: Kind) -> _Side:
    ek = wt.EK_MINIMAL if kind == "minimal" else wt.EK_COMPLETE
    objects: dict[TypeIdentifier, Any] = {}
    for tid, blob in pairs:
        if tid.kind != ek:
            continue
        outer = decode(wt.TypeObject, blob)
        if outer[0] == ek and outer[1] is not None:
            objects[tid] = outer[1]
    return _Side(objects)


class _Checker:
    def __init__(self, local: _Side, remote: _Side, kind: Kind) -> None:
        self.local = local
        self.remote = remote
        self.kind = kind
        self.assumed: set[tuple[bytes, bytes]] = set()

    def ids(self, a: tuple[int, Any], b: tuple[int, Any], depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        a = self.local.resolve(a)
        b = self.remote.resolve(b)
        ka, kb = a[0], b[0]
        if TypeIdentifier(a) == TypeIdentifier(b):
            return True  # equal hashes mean equal TypeObjects
        if ka in _STRING_KINDS or kb in _STRING_KINDS:
            wide = (wt.TI_STRING16_SMALL, wt.TI_STRING16_LARGE)
            return ka in _STRING_KINDS and kb in _STRING_KINDS and (ka in wide) == (kb in wide)
        if ka in _SEQ_KINDS or kb in _SEQ_KINDS:
            return (ka in _SEQ_KINDS and kb in _SEQ_KINDS
                    and self.ids(a[1]["element_identifier"], b[1]["element_identifier"],
                                 depth + 1))
        if ka in _ARRAY_KINDS or kb in _ARRAY_KINDS:
            return (ka in _ARRAY_KINDS and kb in _ARRAY_KINDS
                    and list(a[1]["array_bound_seq"]) == list(b[1]["array_bound_seq"])
                    and self.ids(a[1]["element_identifier"], b[1]["element_identifier"],
                                 depth + 1))
        if ka in _HASH_KINDS and kb in _HASH_KINDS:
            key = (TypeIdentifier(a).encode(), TypeIdentifier(b).encode())
            if key in self.assumed:
                return True
            self.assumed.add(key)
            la, rb = self.local.get(a), self.remote.get(b)
            if la is None or rb is None:
                return False
            return self.objects(la, rb, depth + 1)
        return False

    def objects(self, a: tuple[int, Any], b: tuple[int, Any], depth: int) -> bool:
        if a[0] != b[0]:
            return False
        tk, la, rb = a[0], a[1], b[1]
        if self.kind == "complete" and _type_name(tk, la) != _type_name(tk, rb):
            return False
        if tk == wt.TK_STRUCTURE:
            return self.structs(la, rb, depth)
        if tk == wt.TK_UNION:
            return self.unions(la, rb, depth)
        if tk == wt.TK_ENUM:
            return self.enums(la, rb)
        if tk == wt.TK_BITMASK:
            return (la["header"]["common"]["bit_bound"] == rb["header"]["common"]["bit_bound"]
                    and _flag_positions(la) == _flag_positions(rb))
        return False

    def members_of(self, side: _Side, body: dict[str, Any], depth: int) -> list[dict[str, Any]]:
        """All members of a struct, inherited ones first."""
        base = body["header"]["base_type"]
        out: list[dict[str, Any]] = []
        if base[0] != wt.TK_NONE and depth < _MAX_DEPTH:
            base_obj = side.get(side.resolve(base))
            if base_obj is None or base_obj[0] != wt.TK_STRUCTURE:
                raise LookupError("base type unknown")
            out = self.members_of(side, base_obj[1], depth + 1)
        return out + list(body["member_seq"])

    def structs(self, la: dict[str, Any], rb: dict[str, Any], depth: int) -> bool:
        ext_mask = wt.IS_FINAL | wt.IS_APPENDABLE | wt.IS_MUTABLE
        ext = la["struct_flags"] & ext_mask
        if ext != rb["struct_flags"] & ext_mask:
            return False
        try:
            lm = self.members_of(self.local, la, depth)
            rm = self.members_of(self.remote, rb, depth)
        except LookupError:
            return False
        if ext == wt.IS_MUTABLE:
            return self.mutable_members(lm, rm, depth)
        if ext == wt.IS_FINAL and len(lm) != len(rm):
            return False
        common = min(len(lm), len(rm))
        if any(_is_key(x) for x in lm[common:] + rm[common:]):
            return False
        return all(self.member(x, y, depth) for x, y in zip(lm[:common], rm[:common], strict=True))

    def mutable_members(self, lm: list[dict[str, Any]], rm: list[dict[str, Any]],
                        depth: int) -> bool:
        by_id = {x["common"]["member_id"]: x for x in rm}
        by_name = {_member_name(x): x for x in rm}
        for x in lm:
            y = by_id.get(x["common"]["member_id"])
            other = by_name.get(_member_name(x))
            if other is not None and other is not y:
                return False  # same name, different id
            if y is None:
                if _is_key(x):
                    return False
                continue
            if not self.member(x, y, depth):
                return False
        local_ids = {x["common"]["member_id"] for x in lm}
        return not any(_is_key(y) and y["common"]["member_id"] not in local_ids for y in rm)

    def member(self, x: dict[str, Any], y: dict[str, Any], depth: int) -> bool:
        cx, cy = x["common"], y["common"]
        return (cx["member_id"] == cy["member_id"] and _member_name(x) == _member_name(y)
                and _is_key(x) == _is_key(y)
                and self.ids(cx["member_type_id"], cy["member_type_id"], depth + 1))

    def unions(self, la: dict[str, Any], rb: dict[str, Any], depth: int) -> bool:
        ext_mask = wt.IS_FINAL | wt.IS_APPENDABLE | wt.IS_MUTABLE
        if la["union_flags"] & ext_mask != rb["union_flags"] & ext_mask:
            return False
        if not self.ids(la["discriminator"]["common"]["type_id"],
                        rb["discriminator"]["common"]["type_id"], depth + 1):
            return False
        rcases = {c["common"]["member_id"]: c for c in rb["member_seq"]}
        for c in la["member_seq"]:
            d = rcases.get(c["common"]["member_id"])
            if d is None:
                continue
            cc, dc = c["common"], d["common"]
            if (sorted(cc["label_seq"]) != sorted(dc["label_seq"])
                    or _member_name(c) != _member_name(d)
                    or (cc["member_flags"] & wt.IS_DEFAULT) != (dc["member_flags"] & wt.IS_DEFAULT)
                    or not self.ids(cc["type_id"], dc["type_id"], depth + 1)):
                return False
        return True

    @staticmethod
    def enums(la: dict[str, Any], rb: dict[str, Any]) -> bool:
        ll = {_member_name(x): x["common"]["value"] for x in la["literal_seq"]}
        rl = {_member_name(x): x["common"]["value"] for x in rb["literal_seq"]}
        if la["enum_flags"] & wt.IS_APPENDABLE and rb["enum_flags"] & wt.IS_APPENDABLE:
            return all(rl[n] == v for n, v in ll.items() if n in rl)
        return ll == rl


def _type_name(tk: int, body: dict[str, Any]) -> str | None:
    header = body.get("header") or {}
    detail = header.get("detail") or {}
    return detail.get("type_name")


def _member_name(member: dict[str, Any]) -> Any:
    detail = member["detail"]
    return detail.get("name", detail.get("name_hash"))


def _is_key(member: dict[str, Any]) -> bool:
    return bool(member["common"]["member_flags"] & wt.IS_KEY)


def _flag_positions(body: dict[str, Any]) -> dict[Any, int]:
    return {_member_name(f): f["common"]["position"] for f in body["flag_seq"]}


def is_assignable(local: m.IdlType, remote_info: bytes | TypeInformation,
                  remote_objects: Mapping[TypeIdentifier, bytes] | Iterable[Any] = ()) -> bool:
    """Whether data of the remote type (described by its TypeInformation and the TypeObjects
    obtained through TypeLookup: a mapping or an iterable of ``TypePair``) fits ``local``.
    """
    info = (remote_info if isinstance(remote_info, TypeInformation)
            else decode_type_information(remote_info))
    if matches(local, info):
        return True
    pairs: list[tuple[TypeIdentifier, bytes]]
    if isinstance(remote_objects, Mapping):
        pairs = list(remote_objects.items())
    else:
        pairs = [(p.type_id, p.type_object) for p in cast(Iterable[Any], remote_objects)]
    kinds: tuple[Kind, ...] = ("complete", "minimal")
    for kind in kinds:
        remote_top = info.for_kind(kind).typeid_with_size.type_id
        if not remote_top.is_hashed:
            continue
        remote = _remote_side(pairs, kind)
        if remote_top not in remote.objects:
            continue
        checker = _Checker(_local_side(local, kind), remote, kind)
        local_top = type_objects(local).identifier(kind)
        return checker.ids(local_top.value, remote_top.value)
    return False


__all__ = ["is_assignable"]
