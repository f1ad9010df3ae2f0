"""TypeIdentifier: how XTypes names a type on the wire.

Primitive types and "plain" strings, sequences and arrays are described inline (fully
descriptive identifiers, or plain collection identifiers that embed their element's
identifier); every other type is named by a 14-byte equivalence hash of its TypeObject,
EK_MINIMAL (0xf1) or EK_COMPLETE (0xf2).

A :class:`TypeIdentifier` wraps the union value ``(discriminator, value)`` used by
:mod:`rtbus.xtypes.serialize`; two identifiers are equal when their XCDR2 encodings are, which
is the comparison peers make.
"""

from __future__ import annotations

from typing import Any

from ..types import model as m
from . import wire_types as wt
from .serialize import decode, encode

#: model primitive kind -> XTypes TypeKind
PRIMITIVE_KINDS: dict[str, int] = {
    "boolean": wt.TK_BOOLEAN, "octet": wt.TK_BYTE, "char": wt.TK_CHAR8, "wchar": wt.TK_CHAR16,
    "int8": wt.TK_INT8, "uint8": wt.TK_UINT8, "int16": wt.TK_INT16, "uint16": wt.TK_UINT16,
    "int32": wt.TK_INT32, "uint32": wt.TK_UINT32, "int64": wt.TK_INT64, "uint64": wt.TK_UINT64,
    "float32": wt.TK_FLOAT32, "float64": wt.TK_FLOAT64,
}
_KIND_TO_PRIMITIVE = {v: k for k, v in PRIMITIVE_KINDS.items()}
_HASH_KINDS = (wt.EK_MINIMAL, wt.EK_COMPLETE)
SMALL_BOUND_LIMIT = 256  # bounds below this use the S (octet) forms


class TypeIdentifier:
    """An XTypes TypeIdentifier; hashable and comparable by its wire encoding."""

    __slots__ = ("_encoded", "value")

    def __init__(self, value: tuple[int, Any]) -> None:
        self.value = value
        self._encoded: bytes | None = None

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def none(cls) -> TypeIdentifier:
        return cls((wt.TK_NONE, None))

    @classmethod
    def primitive(cls, prim: m.PrimitiveType) -> TypeIdentifier:
        return cls((PRIMITIVE_KINDS[prim.kind], None))

    @classmethod
    def hashed(cls, equivalence_kind: int, digest: bytes) -> TypeIdentifier:
        if equivalence_kind not in _HASH_KINDS or len(digest) != 14:
            raise ValueError("a hashed TypeIdentifier needs EK_MINIMAL/EK_COMPLETE and 14 bytes")
        return cls((equivalence_kind, bytes(digest)))

    @classmethod
    def string(cls, bound: int | None, wide: bool = False) -> TypeIdentifier:
        bound = bound or 0
        if bound < SMALL_BOUND_LIMIT:
            kind = wt.TI_STRING16_SMALL if wide else wt.TI_STRING8_SMALL
            return cls((kind, {"bound": bound}))
        kind = wt.TI_STRING16_LARGE if wide else wt.TI_STRING8_LARGE
        return cls((kind, {"bound": bound}))

    @classmethod
    def plain_sequence(cls, element: TypeIdentifier, bound: int | None, equiv_kind: int,
                       element_flags: int = wt.TRY_CONSTRUCT1) -> TypeIdentifier:
        header = {"equiv_kind": equiv_kind, "element_flags": element_flags}
        body = {"header": header, "bound": bound or 0, "element_identifier": element.value}
        small = bound is None or bound < SMALL_BOUND_LIMIT
        return cls((wt.TI_PLAIN_SEQUENCE_SMALL if small else wt.TI_PLAIN_SEQUENCE_LARGE, body))

    @classmethod
    def plain_array(cls, element: TypeIdentifier, dims: tuple[int, ...], equiv_kind: int,
                    element_flags: int = wt.TRY_CONSTRUCT1) -> TypeIdentifier:
        header = {"equiv_kind": equiv_kind, "element_flags": element_flags}
        body = {"header": header, "array_bound_seq": list(dims),
                "element_identifier": element.value}
        small = all(d < SMALL_BOUND_LIMIT for d in dims)
        if small:
            body["array_bound_seq"] = bytes(dims)
        return cls((wt.TI_PLAIN_ARRAY_SMALL if small else wt.TI_PLAIN_ARRAY_LARGE, body))

    @classmethod
    def decode(cls, data: bytes) -> TypeIdentifier:
        return cls(decode(wt.TypeIdentifier, data))

    # -- queries ------------------------------------------------------------------------------
    @property
    def kind(self) -> int:
        """The discriminator: a TK_* / TI_* / EK_* constant."""
        return int(self.value[0])

    @property
    def is_hashed(self) -> bool:
        return self.kind in _HASH_KINDS

    @property
    def is_minimal(self) -> bool:
        return self.kind == wt.EK_MINIMAL

    @property
    def is_complete(self) -> bool:
        return self.kind == wt.EK_COMPLETE

    @property
    def equivalence_hash(self) -> bytes:
        if not self.is_hashed:
            raise ValueError(f"TypeIdentifier {self!r} is not a hash")
        return bytes(self.value[1])

    @property
    def is_primitive(self) -> bool:
        return self.kind in _KIND_TO_PRIMITIVE

    def element(self) -> TypeIdentifier | None:
        """The element identifier of a plain sequence/array, else None."""
        if self.kind in (wt.TI_PLAIN_SEQUENCE_SMALL, wt.TI_PLAIN_SEQUENCE_LARGE,
                         wt.TI_PLAIN_ARRAY_SMALL, wt.TI_PLAIN_ARRAY_LARGE):
            return TypeIdentifier(self.value[1]["element_identifier"])
        return None

    def encode(self) -> bytes:
        """XCDR2 little-endian bytes of this identifier (no encapsulation header)."""
        if self._encoded is None:
            self._encoded = encode(wt.TypeIdentifier, self.value)
        return self._encoded

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypeIdentifier):
            return NotImplemented
        return self.encode() == other.encode()

    def __hash__(self) -> int:
        return hash(self.encode())

    def __repr__(self) -> str:
        kind = self.kind
        if self.is_hashed:
            ek = "MINIMAL" if kind == wt.EK_MINIMAL else "COMPLETE"
            return f"TypeIdentifier(EK_{ek}, {self.equivalence_hash.hex()})"
        if kind in _KIND_TO_PRIMITIVE:
            return f"TypeIdentifier({_KIND_TO_PRIMITIVE[kind]})"
        if kind == wt.TK_NONE:
            return "TypeIdentifier(TK_NONE)"
        return f"TypeIdentifier({kind:#04x}, {self.value[1]!r})"


__all__ = ["PRIMITIVE_KINDS", "SMALL_BOUND_LIMIT", "TypeIdentifier"]
