"""The IDL type model: one tree of plain objects that every layer shares.

The IDL parser produces it, annotated Python classes are turned into it, the CDR codecs
(pure Python and Cython) compile it into encode/decode plans, and XTypes type objects are
computed from it. Keeping one model means a type behaves the same whichever way it was
declared.

Rules the model keeps:
- Named types (struct, union, enum, bitmask, alias) carry their fully scoped IDL name with
  ``::`` separators (``"shapes::ShapeType"``); anonymous types (sequence, array, string,
  primitives) have no name.
- Structs and unions are mutable only while being built (forward declarations are filled in
  later); after ``finalize()`` they are treated as frozen.
- ``pyclass`` links a struct/union/enum/bitmask to its generated or declared Python class.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any, Literal, Union

Extensibility = Literal["final", "appendable", "mutable"]
EXTENSIBILITIES: tuple[str, ...] = ("final", "appendable", "mutable")


@dataclass(frozen=True)
class PrimitiveType:
    """A fixed-size primitive. ``fmt`` is the ``struct`` code, ``dtype`` the numpy kind."""

    kind: str
    size: int
    fmt: str
    dtype: str

    def __repr__(self) -> str:
        return self.kind


BOOLEAN = PrimitiveType("boolean", 1, "?", "bool")
OCTET = PrimitiveType("octet", 1, "B", "u1")
CHAR = PrimitiveType("char", 1, "c", "S1")
WCHAR = PrimitiveType("wchar", 2, "H", "u2")
INT8 = PrimitiveType("int8", 1, "b", "i1")
UINT8 = PrimitiveType("uint8", 1, "B", "u1")
INT16 = PrimitiveType("int16", 2, "h", "i2")
UINT16 = PrimitiveType("uint16", 2, "H", "u2")
INT32 = PrimitiveType("int32", 4, "i", "i4")
UINT32 = PrimitiveType("uint32", 4, "I", "u4")
INT64 = PrimitiveType("int64", 8, "q", "i8")
UINT64 = PrimitiveType("uint64", 8, "Q", "u8")
FLOAT32 = PrimitiveType("float32", 4, "f", "f4")
FLOAT64 = PrimitiveType("float64", 8, "d", "f8")

PRIMITIVES: dict[str, PrimitiveType] = {
    p.kind: p
    for p in (BOOLEAN, OCTET, CHAR, WCHAR, INT8, UINT8, INT16, UINT16, INT32, UINT32,
              INT64, UINT64, FLOAT32, FLOAT64)
}

#: Inclusive integer ranges, for validation.
INT_RANGES: dict[str, tuple[int, int]] = {
    "octet": (0, 0xFF), "int8": (-0x80, 0x7F), "uint8": (0, 0xFF),
    "int16": (-0x8000, 0x7FFF), "uint16": (0, 0xFFFF),
    "int32": (-0x8000_0000, 0x7FFF_FFFF), "uint32": (0, 0xFFFF_FFFF),
    "int64": (-0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
    "uint64": (0, 0xFFFF_FFFF_FFFF_FFFF), "wchar": (0, 0xFFFF),
}


@dataclass(frozen=True)
class StringType:
    """``string``/``string<N>`` (``wide=False``) or ``wstring``/``wstring<N>``."""

    bound: int | None = None
    wide: bool = False


@dataclass(frozen=True)
class SequenceType:
    """``sequence<T>`` or ``sequence<T, N>``; primitives map to numpy arrays in Python."""

    element: IdlType
    bound: int | None = None


@dataclass(frozen=True)
class ArrayType:
    """A (multi-dimensional) array member ``T name[d0][d1]``; dims outermost first."""

    element: IdlType
    dims: tuple[int, ...]

    @property
    def length(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


@dataclass(eq=False)
class AliasType:
    """A ``typedef``. Codecs see through it with :func:`resolve`; XTypes keeps it."""

    name: str
    target: IdlType


@dataclass(eq=False)
class EnumLiteral:
    name: str
    value: int
    default: bool = False  # @default_literal


@dataclass(eq=False)
class EnumType:
    name: str
    literals: list[EnumLiteral]
    bit_bound: int = 32
    extensibility: Extensibility = "final"
    pyclass: Any = None

    def by_value(self, value: int) -> EnumLiteral | None:
        for lit in self.literals:
            if lit.value == value:
                return lit
        return None

    @property
    def default_literal(self) -> EnumLiteral:
        for lit in self.literals:
            if lit.default:
                return lit
        return self.literals[0]


@dataclass(eq=False)
class BitFlag:
    name: str
    position: int


@dataclass(eq=False)
class BitmaskType:
    name: str
    flags: list[BitFlag]
    bit_bound: int = 32
    extensibility: Extensibility = "final"
    pyclass: Any = None


@dataclass(eq=False)
class Member:
    """A struct member or union branch.

    ``id`` is the member id used by mutable types (PL_CDR / EMHEADER) and by XTypes; it is
    always filled in by ``StructType.finalize`` (sequential, ``@id``, ``@autoid(HASH)`` or
    ``@hashid``). ``annotations`` keeps any annotation the model does not interpret, for
    code generation and diagnostics.
    """

    name: str
    type: IdlType
    id: int | None = None
    key: bool = False
    optional: bool = False
    external: bool = False
    must_understand: bool = False
    default: Any = None
    hashid: str | None = None  # @hashid value ("" means hash of the member name)
    annotations: dict[str, Any] = field(default_factory=dict)

    @property
    def pyname(self) -> str:
        """Attribute name in Python: IDL names that are Python keywords get a ``_`` suffix."""
        return self.name + "_" if keyword.iskeyword(self.name) else self.name


@dataclass(eq=False)
class StructType:
    name: str
    members: list[Member] = field(default_factory=list)
    base: StructType | None = None
    extensibility: Extensibility = "final"
    autoid: Literal["sequential", "hash"] = "sequential"
    nested: bool = False
    topic: bool = True
    defined: bool = True  # False for a forward declaration not yet completed
    pyclass: Any = None
    annotations: dict[str, Any] = field(default_factory=dict)

    def all_members(self) -> list[Member]:
        """Members in wire order: the base struct's first."""
        own = list(self.members)
        return (self.base.all_members() + own) if self.base is not None else own

    def key_members(self) -> list[Member]:
        return [m for m in self.all_members() if m.key]

    @property
    def keyed(self) -> bool:
        return any(m.key for m in self.all_members())


@dataclass(eq=False)
class UnionCase:
    """One branch of a union: its labels (``is_default`` for ``default:``) and member."""

    labels: list[int]
    member: Member
    is_default: bool = False


@dataclass(eq=False)
class UnionType:
    name: str
    discriminator: IdlType
    cases: list[UnionCase] = field(default_factory=list)
    extensibility: Extensibility = "final"
    defined: bool = True
    key_discriminator: bool = False
    pyclass: Any = None
    annotations: dict[str, Any] = field(default_factory=dict)

    def case_for(self, discriminator: int) -> UnionCase | None:
        """The branch selected by a discriminator value (the default branch if none)."""
        default = None
        for case in self.cases:
            if discriminator in case.labels:
                return case
            if case.is_default:
                default = case
        return default

    def implicit_default(self) -> int:
        """A discriminator value that selects no explicit label (for the empty/default case)."""
        used = {lab for c in self.cases for lab in c.labels}
        disc = resolve(self.discriminator)
        if isinstance(disc, EnumType):
            for lit in disc.literals:
                if lit.value not in used:
                    return lit.value
            return disc.literals[0].value
        if disc is BOOLEAN:
            return 0 if 0 not in used else 1
        v = 0
        while v in used:
            v += 1
        return v


IdlType = Union[PrimitiveType, StringType, SequenceType, ArrayType, AliasType, EnumType,
                BitmaskType, StructType, UnionType]
NamedType = Union[AliasType, EnumType, BitmaskType, StructType, UnionType]


def numeric_primitive(t: Any) -> bool:
    """A primitive that lives in numpy arrays (as the codecs move sequences of it): any
    fixed-size primitive but char/wchar, which are text."""
    return isinstance(t, PrimitiveType) and t is not CHAR and t is not WCHAR


def resolve(t: IdlType) -> IdlType:
    """Strip typedefs: the type the bytes on the wire are made of."""
    while isinstance(t, AliasType):
        t = t.target
    return t


def finalize_member_ids(struct: StructType) -> None:
    """Assign member ids the way XTypes does (@id, @autoid(SEQUENTIAL|HASH), @hashid).

    Sequential ids continue from the previous member (or from the last member of the base
    struct); hashed ids are the first 4 bytes of MD5(name) little-endian, masked to 28 bits.
    """
    import hashlib

    nxt = 0
    if struct.base is not None:
        base_members = struct.base.all_members()
        if base_members:
            last = base_members[-1].id
            nxt = (last + 1) if last is not None else len(base_members)
    for m in struct.members:
        if m.id is None:
            if m.hashid is not None or struct.autoid == "hash":
                text = m.hashid if m.hashid else m.name
                digest = hashlib.md5(text.encode("utf-8")).digest()
                m.id = int.from_bytes(digest[:4], "little") & 0x0FFFFFFF
            else:
                m.id = nxt
        nxt = m.id + 1


__all__ = [
    "AliasType", "ArrayType", "BitFlag", "BitmaskType", "EnumLiteral", "EnumType",
    "Extensibility", "IdlType", "Member", "NamedType", "PrimitiveType", "SequenceType",
    "StringType", "StructType", "UnionCase", "UnionType", "PRIMITIVES", "INT_RANGES", "resolve",
    "finalize_member_ids", "BOOLEAN", "OCTET", "CHAR", "WCHAR", "INT8", "UINT8", "INT16",
    "UINT16", "INT32", "UINT32", "INT64", "UINT64", "FLOAT32", "FLOAT64",
]
