"""TypeInformation: the PID_TYPE_INFORMATION value of SEDP publications and subscriptions.

It names the topic type (minimal and complete TypeIdentifier with the size of its serialized
TypeObject) and lists the identifiers of the types it depends on, so a peer can fetch what it
lacks through the TypeLookup service before matching.

The parameter value is the XCDR2 encoding of the mutable ``TypeInformation`` struct, in the
parameter list's byte order, *without* an encapsulation header (Cyclone's
``ser_type_information``); Cyclone sends 0 as the top-level TypeObject sizes (see
:func:`type_information`).

The dependency list reproduces Cyclone DDS's order exactly, duplicates included, because the
bytes are compared: Cyclone walks the dependency graph depth first (named types discovered in
LIFO order from the topic type: union discriminator enum, base struct, then members), lists
first the types that depend on nothing, then the others in post-order of the graph visited by
ascending discovery index. The complete list keeps a type once per path that reaches it; the
minimal list keeps only its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import MalformedError
from ..types import model as m
from . import wire_types as wt
from .serialize import decode, encode
from .typeid import TypeIdentifier
from .typeobject import Kind, TypeObjectPair, UnsupportedTypeError, is_named, type_objects


@dataclass(frozen=True)
class TypeIdWithSize:
    type_id: TypeIdentifier
    typeobject_serialized_size: int


@dataclass(frozen=True)
class TypeIdWithDependencies:
    typeid_with_size: TypeIdWithSize
    dependent_typeid_count: int
    dependent_typeids: tuple[TypeIdWithSize, ...] = ()


@dataclass(frozen=True)
class TypeInformation:
    """Decoded (or locally computed) TypeInformation."""

    minimal: TypeIdWithDependencies
    complete: TypeIdWithDependencies
    #: every named type the topic type needs, topic type first (local types only)
    types: tuple[m.IdlType, ...] = field(default=(), compare=False, repr=False)

    def for_kind(self, kind: Kind) -> TypeIdWithDependencies:
        return self.minimal if kind == "minimal" else self.complete

    def encode(self) -> bytes:
        return encode(wt.TypeInformation, {"minimal": _deps_value(self.minimal),
                                           "complete": _deps_value(self.complete)})

    def as_cyclone_sends(self) -> TypeInformation:
        """A copy with the top-level TypeObject sizes zeroed, as in Cyclone's SEDP messages."""
        def zeroed(d: TypeIdWithDependencies) -> TypeIdWithDependencies:
            return replace(d, typeid_with_size=TypeIdWithSize(d.typeid_with_size.type_id, 0))

        return replace(self, minimal=zeroed(self.minimal), complete=zeroed(self.complete))


def _size_value(x: TypeIdWithSize) -> dict[str, Any]:
    return {"type_id": x.type_id.value, "typeobject_serialized_size": x.typeobject_serialized_size}


def _deps_value(d: TypeIdWithDependencies) -> dict[str, Any]:
    return {"typeid_with_size": _size_value(d.typeid_with_size),
            "dependent_typeid_count": d.dependent_typeid_count,
            "dependent_typeids": [_size_value(x) for x in d.dependent_typeids]}


# --- dependency graph ------------------------------------------------------------------------
def _named_in(t: m.IdlType) -> m.IdlType | None:
    """The named type a member of type ``t`` refers to, looking through sequences/arrays."""
    while isinstance(t, (m.SequenceType, m.ArrayType)):
        t = t.element
    return t if is_named(t) else None


def _direct_dependencies(t: m.IdlType) -> list[m.IdlType]:
    """Named types ``t`` refers to, in the order Cyclone's gather step visits them."""
    out: list[m.IdlType] = []
    if isinstance(t, m.UnionType):
        disc = t.discriminator
        if is_named(disc):
            out.append(disc)
        for case in t.cases:
            dep = _named_in(case.member.type)
            if dep is not None:
                out.append(dep)
    elif isinstance(t, m.StructType):
        if t.base is not None:
            out.append(t.base)
        for mem in t.all_members():  # Cyclone scans inherited members too
            dep = _named_in(mem.type)
            if dep is not None:
                out.append(dep)
    elif isinstance(t, m.AliasType):
        dep = _named_in(t.target)
        if dep is not None:
            out.append(dep)
    return out


def dependency_order(top: m.IdlType) -> tuple[list[m.IdlType], list[m.IdlType]]:
    """(complete-list order with duplicates, all named types with top first), as Cyclone."""
    graph: dict[int, list[int]] = {}
    nodes: list[m.IdlType] = [top]
    index: dict[int, int] = {id(top): 0}
    graph[0] = []
    toscan = [top]
    while toscan:
        cur = toscan.pop()
        ci = index[id(cur)]
        for dep in _direct_dependencies(cur):
            di = index.get(id(dep))
            if di is None:
                di = len(nodes)
                index[id(dep)] = di
                nodes.append(dep)
                graph[di] = []
                toscan.append(dep)
            if di not in graph[ci]:
                graph[ci].append(di)
    leaves = [i for i in range(len(nodes)) if not graph[i]]
    if not graph[0]:
        return [], nodes
    leaf_set = set(leaves)
    # Cyclone renumbers the non-leaf nodes in discovery order and visits the successors of a
    # node by ascending number; that is ascending discovery index as well.
    order: list[int] = []

    def visit(i: int, depth: int) -> None:
        if depth > len(nodes):
            raise UnsupportedTypeError(
                f"{getattr(top, 'name', top)!r} has a recursive dependency; strongly "
                "connected components are not supported")
        for j in sorted(d for d in graph[i] if d not in leaf_set):
            visit(j, depth + 1)
        order.append(i)

    visit(0, 0)
    deps = [nodes[i] for i in leaves] + [nodes[i] for i in order if i != 0]
    return deps, nodes


def idlc_dependency_order(top: m.IdlType) -> list[m.IdlType]:
    """Dependencies in the order Cyclone's IDL compiler lists them: each type once, in the
    order a depth-first walk first reaches it (base struct, union discriminator, then members
    in declaration order)."""
    seen: list[m.IdlType] = []
    seen_ids: set[int] = set()

    def own_dependencies(t: m.IdlType) -> list[m.IdlType]:
        if isinstance(t, m.StructType):
            deps = [t.base] if t.base is not None else []
            return deps + [d for d in (_named_in(mem.type) for mem in t.members) if d is not None]
        return _direct_dependencies(t)

    def visit(t: m.IdlType, depth: int) -> None:
        if id(t) in seen_ids:
            return
        if depth > 1000:
            raise UnsupportedTypeError("dependency chain too deep")
        seen_ids.add(id(t))
        seen.append(t)
        for dep in own_dependencies(t):
            visit(dep, depth + 1)

    visit(top, 0)
    return seen[1:]


def _with_size(pair: TypeObjectPair, kind: Kind) -> TypeIdWithSize:
    return TypeIdWithSize(pair.identifier(kind), len(pair.object_bytes(kind)))


DependencyStyle = Literal["xtbuilder", "idlc"]


def build_type_information(top: m.IdlType, style: DependencyStyle = "xtbuilder"
                           ) -> TypeInformation:
    """TypeInformation of a topic type (a named type of the model).

    ``style`` picks whose dependency list to reproduce: Cyclone's Python ``XTBuilder``
    (the default; duplicates kept in the complete list) or Cyclone's C IDL compiler (each
    type once). Both name the same types; peers only use the list to fetch what they lack.
    """
    if not is_named(top):
        raise UnsupportedTypeError(f"a topic type must be a named type, got {top!r}")
    deps, nodes = dependency_order(top)
    if style == "idlc":
        deps = idlc_dependency_order(top)
    top_pair = type_objects(top)
    complete = [_with_size(type_objects(d), "complete") for d in deps]
    minimal: list[TypeIdWithSize] = []
    seen: set[TypeIdentifier] = set()
    for d in deps:
        x = _with_size(type_objects(d), "minimal")
        if x.type_id not in seen:
            seen.add(x.type_id)
            minimal.append(x)
    return TypeInformation(
        minimal=TypeIdWithDependencies(_with_size(top_pair, "minimal"), len(minimal),
                                       tuple(minimal)),
        complete=TypeIdWithDependencies(_with_size(top_pair, "complete"), len(complete),
                                        tuple(complete)),
        types=tuple(nodes),
    )


_info_cache: dict[tuple[int, str], tuple[m.IdlType, TypeInformation, bytes, bytes]] = {}


def type_information_of(top: m.IdlType, style: DependencyStyle = "xtbuilder"
                        ) -> TypeInformation:
    """TypeInformation of ``top`` with every size filled in (cached)."""
    return _cached(top, style)[1]


def _cached(top: m.IdlType, style: DependencyStyle
            ) -> tuple[m.IdlType, TypeInformation, bytes, bytes]:
    hit = _info_cache.get((id(top), style))
    if hit is not None and hit[0] is top:
        return hit
    info = build_type_information(top, style)
    entry = (top, info, info.encode(), info.as_cyclone_sends().encode())
    _info_cache[(id(top), style)] = entry
    return entry


def type_information(top: m.IdlType, *, cyclone_wire: bool = True,
                     style: DependencyStyle = "xtbuilder") -> bytes:
    """The PID_TYPE_INFORMATION parameter value for ``top`` (no encapsulation header).

    Cyclone DDS loses the top-level ``typeobject_serialized_size`` when it copies an endpoint's
    QoS (``ddsi_typeinfo_dup`` does not copy it), so its SEDP messages carry 0 there; by default
    these are those bytes. ``cyclone_wire=False`` gives the sizes filled in, as the XTypes spec
    and Cyclone's type builders (``XTBuilder``, idlc) compute them. Peers compare only the
    identifiers, so both forms match the same endpoints. ``style`` as in
    :func:`build_type_information`.
    """
    entry = _cached(top, style)
    return entry[3] if cyclone_wire else entry[2]


# --- decoding a remote TypeInformation -------------------------------------------------------
def _size_from(v: dict[str, Any] | None) -> TypeIdWithSize:
    if v is None or v.get("type_id") is None:
        raise MalformedError("xtypes_typeinfo", "TypeIdentifierWithSize without type_id")
    return TypeIdWithSize(TypeIdentifier(v["type_id"]), int(v["typeobject_serialized_size"] or 0))


def _deps_from(v: dict[str, Any] | None) -> TypeIdWithDependencies:
    if v is None:
        return TypeIdWithDependencies(TypeIdWithSize(TypeIdentifier.none(), 0), 0, ())
    return TypeIdWithDependencies(
        _size_from(v.get("typeid_with_size")),
        int(v.get("dependent_typeid_count") or 0),
        tuple(_size_from(x) for x in (v.get("dependent_typeids") or [])),
    )


def decode_type_information(data: bytes, little_endian: bool = True) -> TypeInformation:
    """Parse a PID_TYPE_INFORMATION value; raises MalformedError on bad bytes."""
    v = decode(wt.TypeInformation, data, little_endian)
    return TypeInformation(minimal=_deps_from(v["minimal"]), complete=_deps_from(v["complete"]))


def matches(local: m.IdlType, remote: bytes | TypeInformation) -> bool:
    """Whether a remote endpoint's TypeInformation names the same type as ``local``.

    Equal minimal or complete identifiers mean the same type (the XTypes fast path). Anything
    else needs the remote TypeObject: see :func:`rtbus.xtypes.assignability.is_assignable`.
    """
    info = remote if isinstance(remote, TypeInformation) else decode_type_information(remote)
    mine = type_information_of(local)
    r_min = info.minimal.typeid_with_size.type_id
    r_com = info.complete.typeid_with_size.type_id
    if r_com.is_hashed and r_com == mine.complete.typeid_with_size.type_id:
        return True
    return r_min.is_hashed and r_min == mine.minimal.typeid_with_size.type_id


__all__ = [
    "TypeIdWithDependencies", "TypeIdWithSize", "TypeInformation", "build_type_information",
    "decode_type_information", "dependency_order", "matches", "type_information",
    "type_information_of",
]
