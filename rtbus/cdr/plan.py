"""The CDR layout plan: every per-type wire decision, made once, for both codecs to run.

The pure-Python codec (:mod:`rtbus.cdr.pure`) and the compiled one (``ext/cdr.pyx``) used to
be two compilers from the type model, and they drifted apart (a typedef'd array of arrays got
a DHEADER in one and not the other). Now :func:`plan_for` turns a type into a tree of small
frozen nodes that say *what* goes on the wire — typedefs resolved and arrays of arrays
flattened, sizes and alignments by XCDR version, extensibility and bit_bound, which
collections carry a DHEADER, member ids, must-understand flags, the EMHEADER words and length
codes of mutable members, key members and the key-only forms, runs of fixed-size primitives
with their padding for each start offset — and the executors only decide *how* (closures and
``struct`` formats in Python, cdef nodes in Cython). Parity between them is then a property
of the structure, not of two readings of the spec.

A plan is per (type, XCDR version, form); it does not depend on endianness (an executor
choice). Plans of structs and unions are cached on the model object, so every type that
nests a struct shares its plan; they may be recursive (a struct reached through its own
sequence), which is why :class:`StructPlan` and :class:`UnionPlan` compare by identity.

Forms:
- ``"data"``: a sample's serialization.
- ``"keyhash"``: what the RTPS key hash is computed over: key members only (a struct reached
  as a key without ``@key`` members contributes its non-optional members), mutable structs'
  keys in member-id order, every struct laid out as final, no DHEADER/EMHEADER.
- ``"key_sample"``: the key-only SAMPLE form of a DATA(K): the same members in definition
  order, each struct keeping its extensibility and headers.

:func:`max_key_size` walks the KEYHASH plan for the bound of a key's size, which decides
whether the key hash is the key or its MD5 (the one such walk; the codecs and the key
scanners of both twins ask it).

Wire rules (Cyclone DDS is the reference; tests/conformance checks the bytes):
- alignment is relative to the payload start; XCDR1 aligns up to 8, XCDR2 up to 4.
- enums take 4 bytes in XCDR1 and 1/2/4 by bit_bound in XCDR2; bitmasks 1/2/4/8 in both.
- XCDR2 sequences and arrays of non-primitive elements (enums, strings, structs, ...) get a
  DHEADER; char/wchar elements count as primitive. An array whose element is (a typedef of)
  an array is one multi-dimensional array.
- XCDR2 EMHEADER length codes: 0-3 for 1/2/4/8-byte fixed members, 5 for strings and
  DHEADER'd collections, 6/7 for sequences of 4/8-byte primitives, 5 for 1-byte element
  sequences, 4 (with NEXTINT) otherwise.
- XCDR1 parameter headers carry M (must understand) in bit 30 of the member-id word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Union

from ..types import model as M
from .encapsulation import identifier_for

Form = Literal["data", "keyhash", "key_sample"]
FORMS: tuple[str, ...] = ("data", "keyhash", "key_sample")

# XCDR2 EMHEADER length codes (XTypes 1.3 7.4.3.5.3)
LC_1, LC_2, LC_4, LC_8, LC_NEXTINT, LC_DUAL, LC_DUAL4, LC_DUAL8 = range(8)
_LC_FIXED = {1: LC_1, 2: LC_2, 4: LC_4, 8: LC_8}

EMHEADER_MUST_UNDERSTAND = 1 << 31   # XCDR2 EMHEADER M flag
PL_MUST_UNDERSTAND = 1 << 30         # XCDR1 extended parameter header M flag
MEMBER_ID_MASK = 0x0FFFFFFF

# the most elements a key-only sequence whose elements may take no bytes is read with
MAX_EMPTY_KEY_ELEMENTS = 1 << 16

_CACHE_ATTR = "_rtbus_cdr_plan"
_MAX_KEY_ATTR = "_rtbus_cdr_max_key"
# a key whose bound exceeds this many bytes counts as unbounded (the walk stops there)
MAX_KEY_WALK = 1_000_000


def max_align(xcdr2: bool) -> int:
    """The largest alignment of a version: 8 in XCDR1, 4 in XCDR2."""
    return 4 if xcdr2 else 8


def enum_size(t: M.EnumType, xcdr2: bool) -> int:
    """Bytes an enum takes: always 4 in XCDR1, by bit_bound in XCDR2."""
    if not xcdr2:
        return 4
    return 1 if t.bit_bound <= 8 else 2 if t.bit_bound <= 16 else 4


def bitmask_size(t: M.BitmaskType) -> int:
    """Bytes a bitmask takes, by bit_bound, in both versions."""
    b = t.bit_bound
    return 1 if b <= 8 else 2 if b <= 16 else 4 if b <= 32 else 8


def key_members_of(t: M.StructType) -> list[M.Member]:
    """The members of ``t`` that make up its part of a key, in definition order.

    Its ``@key`` members; a struct without any (reached as, or inside, a key member)
    contributes all its members except optional ones, which can never be part of a key
    (XTypes 1.3 7.6.8). For a top-level keyless type this is not "the key" (that is empty):
    callers check ``keyed`` first.
    """
    members = t.all_members()
    keys = [m for m in members if m.key]
    return keys or [m for m in members if not m.optional]


def array_shape(t: M.ArrayType) -> tuple[tuple[int, ...], M.IdlType]:
    """The dims and element of an array, a typedef'd array element folded in: ``typedef
    bool Row[2]; Row grid[3]`` is one 3x2 array of booleans (as Cyclone lays it out)."""
    dims = list(t.dims)
    el = M.resolve(t.element)
    while isinstance(el, M.ArrayType):
        dims.extend(el.dims)
        el = M.resolve(el.element)
    return tuple(dims), el


# ---- nodes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrimPlan:
    """A fixed-size primitive. ``numeric``: lives in numpy arrays (not char/wchar)."""

    kind: str
    size: int
    align: int
    fmt: str          # struct code
    dtype: str        # numpy kind
    numeric: bool
    lc: int
    min_size: int


@dataclass(frozen=True, eq=False)
class EnumPlan:
    model: M.EnumType
    size: int
    align: int
    lc: int
    min_size: int


@dataclass(frozen=True, eq=False)
class BitmaskPlan:
    model: M.BitmaskType
    size: int
    align: int
    lc: int
    min_size: int


@dataclass(frozen=True)
class StringPlan:
    """``string`` (UTF-8, length counts the NUL) or ``wstring`` (UTF-16, length in bytes)."""

    bound: int | None
    wide: bool
    align: int = 4
    lc: int = LC_DUAL
    min_size: int = 4


@dataclass(frozen=True)
class PrimSeqPlan:
    """A sequence of numeric primitives: a count, then the elements as one block."""

    elem: PrimPlan
    bound: int | None
    lc: int
    align: int = 4
    min_size: int = 4


@dataclass(frozen=True)
class PrimArrayPlan:
    """A (multi-dimensional, typedefs flattened) array of numeric primitives: one block."""

    elem: PrimPlan
    dims: tuple[int, ...]
    length: int
    align: int
    lc: int
    min_size: int


@dataclass(frozen=True, eq=False)
class ListSeqPlan:
    """A sequence of other elements, element by element (in a DHEADER when ``dheader``).

    ``count_cap``: the most elements read when the element may take no bytes (key forms);
    otherwise a count is checked against the bytes that remain divided by ``elem_min``.
    """

    elem: Node
    bound: int | None
    dheader: bool
    lc: int
    elem_min: int
    count_cap: int | None
    align: int = 4
    min_size: int = 4


@dataclass(frozen=True, eq=False)
class ListArrayPlan:
    """A (multi-dimensional, typedefs flattened) array of other elements."""

    elem: Node
    dims: tuple[int, ...]
    length: int
    dheader: bool
    lc: int
    min_size: int
    align: int = 1


@dataclass(frozen=True, eq=False)
class MemberPlan:
    """One struct member as laid out.

    ``field``: its index among the class fields (``all_members()``), which differs from its
    position in a key-only form. ``optional``: laid out as optional (a presence flag in
    XCDR2, a parameter header in XCDR1 for non-mutable structs; omitted when None in
    mutable ones). ``emheader``: the XCDR2 EMHEADER word; ``pl_id``: the XCDR1 parameter
    header's member-id word (M in bit 30).
    """

    name: str
    pyname: str
    node: Node
    id: int
    field: int
    optional: bool
    must_understand: bool
    key: bool
    lc: int
    emheader: int
    pl_id: int

    @property
    def nextint(self) -> bool:
        """The EMHEADER is followed by a NEXTINT (the member's byte length)."""
        return self.lc == LC_NEXTINT


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Consecutive non-optional numeric/boolean members of a non-mutable struct, moved
    together: ``pads[phase][i]`` is the padding before member ``i`` when the run starts at
    an offset that is ``phase`` modulo the version's maximum alignment; ``sizes[phase]`` the
    run's total bytes from that phase."""

    members: tuple[MemberPlan, ...]
    pads: tuple[tuple[int, ...], ...]
    sizes: tuple[int, ...]

    @property
    def prims(self) -> tuple[PrimPlan, ...]:
        return tuple(m.node for m in self.members)  # type: ignore[misc]


Step = Union[MemberPlan, RunPlan]


@dataclass(frozen=True, eq=False)
class StructPlan:
    """A struct as laid out in one form. ``ext``: how it is laid out (``"final"`` for every
    struct of the KEYHASH form); ``dheader``: XCDR2 appendable/mutable; ``members``: the
    members present in this form, in wire order; ``steps``: the same members with runs of
    primitives grouped (non-mutable structs only; empty for mutable ones); ``nfields``: how
    many fields the class has (more than ``members`` in key-only forms)."""

    name: str
    model: M.StructType
    ext: str
    dheader: bool
    members: tuple[MemberPlan, ...]
    steps: tuple[Step, ...]
    nfields: int
    encap_id: int     # the big-endian encapsulation identifier (without the endianness bit)
    min_size: int
    align: int = 1
    lc: int = LC_NEXTINT

    @property
    def partial(self) -> bool:
        """Some fields of the class are not on the wire (a key-only form)."""
        return len(self.members) != self.nfields

    @property
    def single_run(self) -> RunPlan | None:
        """The run, when the whole struct is one run of primitives and nothing else."""
        if len(self.steps) == 1 and isinstance(self.steps[0], RunPlan) and not self.dheader:
            return self.steps[0]
        return None


@dataclass(frozen=True, eq=False)
class CasePlan:
    labels: tuple[int, ...]
    name: str
    pyname: str
    node: Node
    is_default: bool


@dataclass(frozen=True, eq=False)
class UnionPlan:
    """A union: discriminator then the selected branch (in a DHEADER when ``dheader``)."""

    name: str
    model: M.UnionType
    ext: str
    dheader: bool
    disc: Node
    cases: tuple[CasePlan, ...]
    default: CasePlan | None
    encap_id: int
    min_size: int
    align: int = 1
    lc: int = LC_NEXTINT


Node = Union[PrimPlan, EnumPlan, BitmaskPlan, StringPlan, PrimSeqPlan, PrimArrayPlan,
             ListSeqPlan, ListArrayPlan, StructPlan, UnionPlan]


# ---- building -------------------------------------------------------------------------------
def run_layout(members: tuple[MemberPlan, ...], maxal: int) -> RunPlan:
    """The padding of consecutive fixed-size primitive members for each start phase."""
    pads = []
    sizes = []
    for phase in range(maxal):
        off = phase
        these = []
        for mp in members:
            p = mp.node
            assert isinstance(p, PrimPlan)
            pad = (-off) % p.align
            these.append(pad)
            off += pad + p.size
        pads.append(tuple(these))
        sizes.append(off - phase)
    return RunPlan(members, tuple(pads), tuple(sizes))


def plan_for(t: M.IdlType, xcdr2: bool, form: Form = "data") -> Node:
    """The layout plan of a type (any type; structs and unions are cached on the model)."""
    if form not in FORMS:
        raise ValueError(f"plan form {form!r}: expected one of {FORMS}")
    return _Builder(xcdr2, form).node(t)


def cached_plans(t: M.IdlType) -> dict[tuple[bool, str], Node]:
    """The plans built for a struct/union so far, by (xcdr2, form): for tests."""
    return dict(M.resolve(t).__dict__.get(_CACHE_ATTR, {}))


class _Builder:
    def __init__(self, xcdr2: bool, form: str) -> None:
        self.v2 = xcdr2
        self.form = form
        self.maxal = max_align(xcdr2)
        self.keyhash = form == "keyhash"
        self.key_only = form != "data"
        self.mode = (xcdr2, form)

    # ---- member selection, sizes ----------------------------------------------------------
    def members_of(self, t: M.StructType) -> list[M.Member]:
        """The members of a struct present in this form, in wire order."""
        members = t.all_members()
        if self.key_only:
            members = key_members_of(t)
            if self.keyhash and t.extensibility == "mutable":
                members = sorted(members, key=lambda m: m.id or 0)
        return members

    def min_size(self, t: M.IdlType, depth: int = 0) -> int:
        """A lower bound of the encoded size: caps sequence counts before allocating."""
        t = M.resolve(t)
        if depth > 20:
            return 0
        if isinstance(t, M.PrimitiveType):
            return t.size
        if isinstance(t, M.EnumType):
            return enum_size(t, self.v2)
        if isinstance(t, M.BitmaskType):
            return bitmask_size(t)
        if isinstance(t, (M.StringType, M.SequenceType)):
            return 4
        if isinstance(t, M.ArrayType):
            return t.length * self.min_size(t.element, depth + 1)
        if isinstance(t, M.StructType):
            if self.keyhash:
                return sum(self.min_size(m.type, depth + 1) for m in self.members_of(t))
            if t.extensibility == "mutable" or (self.v2 and t.extensibility == "appendable"):
                return 4
            return sum((1 if self.v2 else 12) if m.optional else self.min_size(m.type, depth + 1)
                       for m in self.members_of(t))
        if isinstance(t, M.UnionType):
            if self.v2 and t.extensibility != "final" and not self.keyhash:
                return 4
            return self.min_size(t.discriminator, depth + 1)
        return 0

    # ---- nodes ------------------------------------------------------------------------------
    def node(self, t: M.IdlType) -> Node:
        t = M.resolve(t)
        if isinstance(t, M.PrimitiveType):
            return self.prim(t)
        if isinstance(t, M.EnumType):
            size = enum_size(t, self.v2)
            return EnumPlan(t, size, size, _LC_FIXED[size], size)
        if isinstance(t, M.BitmaskType):
            size = bitmask_size(t)
            return BitmaskPlan(t, size, min(size, self.maxal), _LC_FIXED[size], size)
        if isinstance(t, M.StringType):
            return StringPlan(t.bound, t.wide)
        if isinstance(t, M.SequenceType):
            return self.sequence(t)
        if isinstance(t, M.ArrayType):
            return self.array(t)
        if isinstance(t, (M.StructType, M.UnionType)):
            cache = t.__dict__.setdefault(_CACHE_ATTR, {})
            plan = cache.get(self.mode)
            if plan is None:
                try:
                    plan = self.struct(t, cache) if isinstance(t, M.StructType) \
                        else self.union(t, cache)
                except BaseException:
                    cache.pop(self.mode, None)
                    raise
            return plan  # type: ignore[no-any-return]
        raise NotImplementedError(f"no CDR layout for type {t!r}")

    def prim(self, p: M.PrimitiveType) -> PrimPlan:
        return PrimPlan(p.kind, p.size, min(p.size, self.maxal), p.fmt, p.dtype,
                        M.numeric_primitive(p), _LC_FIXED[p.size], p.size)

    def _dheader(self, elem: M.IdlType) -> bool:
        return self.v2 and not self.keyhash and not isinstance(M.resolve(elem), M.PrimitiveType)

    def sequence(self, t: M.SequenceType) -> Node:
        el = M.resolve(t.element)
        if M.numeric_primitive(el):
            assert isinstance(el, M.PrimitiveType)
            lc = {1: LC_DUAL, 2: LC_NEXTINT, 4: LC_DUAL4, 8: LC_DUAL8}[el.size]
            return PrimSeqPlan(self.prim(el), t.bound, lc)
        dheader = self._dheader(el)
        elem = self.node(el)
        # char sequences: LC 5 like strings; wchar ones: LC 4 like int16 ones (as Cyclone)
        one_byte = isinstance(el, M.PrimitiveType) and el.size == 1
        lc = LC_DUAL if (dheader or one_byte) else LC_NEXTINT
        emin = self.min_size(el)
        cap = None
        if self.key_only and emin == 0:
            cap = t.bound if t.bound is not None else MAX_EMPTY_KEY_ELEMENTS
        return ListSeqPlan(elem, t.bound, dheader, lc, max(emin, 1), cap)

    def array(self, t: M.ArrayType) -> Node:
        dims, el = array_shape(t)
        length = 1
        for d in dims:
            length *= d
        if M.numeric_primitive(el):
            assert isinstance(el, M.PrimitiveType)
            p = self.prim(el)
            return PrimArrayPlan(p, dims, length, p.align, LC_NEXTINT, length * p.size)
        dheader = self._dheader(el)
        return ListArrayPlan(self.node(el), dims, length, dheader,
                             LC_DUAL if dheader else LC_NEXTINT, length * self.min_size(el))

    def struct(self, t: M.StructType, cache: dict[tuple[bool, str], Node]) -> StructPlan:
        if not t.defined:
            raise NotImplementedError(f"{t.name}: forward declaration never completed")
        ext = "final" if self.keyhash else t.extensibility
        all_members = t.all_members()
        field_of = {id(m): i for i, m in enumerate(all_members)}
        plan = StructPlan(t.name, t, ext, self.v2 and ext != "final", (), (), len(all_members),
                          identifier_for(t.extensibility, self.v2, False), self.min_size(t))
        cache[self.mode] = plan  # before the members: a member may reach this struct again
        members = []
        for i, m in enumerate(self.members_of(t)):
            node = self.node(m.type)
            mid = m.id if m.id is not None else i
            lc = node.lc
            members.append(MemberPlan(
                m.name, m.pyname, node, mid, field_of[id(m)],
                m.optional and not self.keyhash, m.must_understand, m.key, lc,
                (EMHEADER_MUST_UNDERSTAND if m.must_understand else 0) | (lc << 28)
                | (mid & MEMBER_ID_MASK),
                (PL_MUST_UNDERSTAND if m.must_understand else 0) | (mid & MEMBER_ID_MASK)))
        steps = () if ext == "mutable" else self.steps(members)
        object.__setattr__(plan, "members", tuple(members))
        object.__setattr__(plan, "steps", steps)
        return plan

    def steps(self, members: list[MemberPlan]) -> tuple[Step, ...]:
        out: list[Step] = []
        run: list[MemberPlan] = []

        def flush() -> None:
            if len(run) >= 2:
                out.append(self.run(tuple(run)))
            else:
                out.extend(run)
            run.clear()

        for mp in members:
            if isinstance(mp.node, PrimPlan) and mp.node.numeric and not mp.optional:
                run.append(mp)
                continue
            flush()
            out.append(mp)
        flush()
        return tuple(out)

    def run(self, members: tuple[MemberPlan, ...]) -> RunPlan:
        return run_layout(members, self.maxal)

    def union(self, t: M.UnionType, cache: dict[tuple[bool, str], Node]) -> UnionPlan:
        if not t.defined:
            raise NotImplementedError(f"{t.name}: forward declaration never completed")
        if t.extensibility == "mutable" and not self.keyhash:
            raise NotImplementedError(f"mutable union {t.name} is not supported")
        ext = "final" if self.keyhash else t.extensibility
        plan = UnionPlan(t.name, t, ext, self.v2 and ext == "appendable",
                         self.node(t.discriminator), (), None,
                         identifier_for(t.extensibility, self.v2, False), self.min_size(t))
        cache[self.mode] = plan
        cases = []
        default = None
        for c in t.cases:
            cp = CasePlan(tuple(c.labels), c.member.name, c.member.pyname,
                          self.node(c.member.type), c.is_default)
            cases.append(cp)
            if c.is_default:
                default = cp
        object.__setattr__(plan, "cases", tuple(cases))
        object.__setattr__(plan, "default", default)
        return plan


# ---- the key's maximum size ----------------------------------------------------------------
def max_key_size(t: M.IdlType, xcdr2: bool = True) -> float:
    """Upper bound of the KEYHASH-form size of a type's key (``math.inf`` if unbounded):
    whether the RTPS key hash is the key itself (at most 16 bytes) or its MD5.

    A walk over the KEYHASH plan (its members, order and enum sizes), with Cyclone's rule for
    alignment (cyclonedds-python's KeyScanner, whose verdict Cyclone's C core uses for the
    MD5 decision): primitives align to their full size even in XCDR2, so ``uint8 a; int64 b;
    int16 c`` counts 1 + 7 + 8 + 2 = 18 bytes and is hashed; a bounded string counts 4 +
    bound bytes (2 per wide character). Cached on the model per version.
    """
    t = M.resolve(t)
    cache = t.__dict__.setdefault(_MAX_KEY_ATTR, {})
    size = cache.get(xcdr2)
    if size is None:
        size = cache[xcdr2] = _max_size(plan_for(t, xcdr2, "keyhash"), 0, frozenset())
    return size  # type: ignore[no-any-return]


def _align_max(off: float, a: int) -> float:
    if math.isinf(off):
        return off
    return off + (-int(off)) % a


def _max_size(n: Node, off: float, seen: frozenset[int]) -> float:
    if math.isinf(off):
        return off
    if isinstance(n, (PrimPlan, EnumPlan, BitmaskPlan)):
        return _align_max(off, n.size) + n.size
    if isinstance(n, StringPlan):
        if n.bound is None:
            return math.inf
        return _align_max(off, 4) + 4 + n.bound * (2 if n.wide else 1)
    if isinstance(n, (PrimSeqPlan, ListSeqPlan)):
        if n.bound is None:
            return math.inf
        return _repeat(n.elem, _align_max(off, 4) + 4, n.bound, seen)
    if isinstance(n, (PrimArrayPlan, ListArrayPlan)):
        return _repeat(n.elem, off, n.length, seen)
    if isinstance(n, StructPlan):
        if id(n) in seen:
            return math.inf
        seen = seen | {id(n)}
        for m in n.members:
            off = _max_size(m.node, off, seen)
        return off
    if isinstance(n, UnionPlan):
        off = _max_size(n.disc, off, seen)
        return max((_max_size(c.node, off, seen) for c in n.cases), default=off)
    return math.inf


def _repeat(elem: Node, off: float, count: int, seen: frozenset[int]) -> float:
    """``count`` elements from ``off``: a primitive's at once, others one by one."""
    if isinstance(elem, PrimPlan):
        if count:
            off = _align_max(off, elem.size) + count * elem.size
            if off > MAX_KEY_WALK:
                return math.inf
        return off
    for _ in range(count):
        off = _max_size(elem, off, seen)
        if off > MAX_KEY_WALK:
            return math.inf
    return off


__all__ = [
    "BitmaskPlan", "CasePlan", "EnumPlan", "Form", "ListArrayPlan", "ListSeqPlan",
    "MemberPlan", "Node", "PrimArrayPlan", "PrimPlan", "PrimSeqPlan", "RunPlan", "Step",
    "StringPlan", "StructPlan", "UnionPlan", "array_shape", "bitmask_size", "cached_plans",
    "enum_size", "key_members_of", "max_align", "max_key_size", "plan_for", "run_layout",
    "LC_1", "LC_2", "LC_4", "LC_8", "LC_NEXTINT", "LC_DUAL", "LC_DUAL4", "LC_DUAL8",
    "MAX_EMPTY_KEY_ELEMENTS", "MAX_KEY_WALK",
]
