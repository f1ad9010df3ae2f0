"""A small schema-driven XCDR2 codec for the XTypes builtin types.

The XTypes structures (TypeIdentifier, TypeObject, TypeInformation, TypeLookup messages) are
themselves IDL types, and their hashes are MD5 sums of their XCDR2 bytes, so one wrong pad byte
breaks interoperability. They are declared once as schemas (:mod:`rtbus.xtypes.wire_types`) and
walked by this codec, so encoder and decoder cannot disagree about a layout.

The codec follows Cyclone DDS's XCDR2 writer byte for byte:
- alignment is relative to the start of the buffer and capped at 4 (XCDR2 aligns 8-byte
  values to 4);
- appendable structs and unions carry a DHEADER (uint32 byte length of what follows);
- sequences and arrays of non-primitive elements carry a DHEADER;
- ``@optional`` members of final/appendable structs are preceded by a presence byte;
- mutable structs carry a DHEADER and each present member an EMHEADER whose length code is
  chosen as Cyclone chooses it (LC 0-3 for primitives, 5/6/7 when the member's own leading
  length word can double as NEXTINT, 4 with an explicit NEXTINT otherwise).

Values are plain Python data: a struct is a ``dict`` (member name -> value), a union a
``(discriminator, value)`` tuple (``value`` is ``None`` for a discriminator without a branch),
sequences ``list`` (``bytes`` for octet sequences and arrays), optionals ``None`` when absent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Union

from ..errors import MalformedError


@dataclass(frozen=True)
class Prim:
    """A fixed-size primitive (also used for bitmasks and enums of a given holder size)."""

    name: str
    fmt: str
    size: int


OCTET = Prim("octet", "B", 1)
BOOL = Prim("boolean", "?", 1)
INT8 = Prim("int8", "b", 1)
UINT16 = Prim("uint16", "H", 2)
INT16 = Prim("int16", "h", 2)
UINT32 = Prim("uint32", "I", 4)
INT32 = Prim("int32", "i", 4)
UINT64 = Prim("uint64", "Q", 8)
INT64 = Prim("int64", "q", 8)
FLOAT32 = Prim("float32", "f", 4)
FLOAT64 = Prim("float64", "d", 8)
CHAR = Prim("char", "c", 1)


@dataclass(frozen=True)
class Str:
    """``string`` / ``string<bound>`` (UTF-8, length word counts the terminating NUL)."""

    bound: int = 0


@dataclass(frozen=True)
class Seq:
    element: Schema
    bound: int = 0


@dataclass(frozen=True)
class Arr:
    element: Schema
    length: int


@dataclass(frozen=True)
class Opt:
    """An ``@optional`` member's type."""

    inner: Schema


@dataclass(eq=False)
class StructDef:
    """A struct; ``fields`` is filled in after creation so types can refer to each other."""

    name: str
    extensibility: str = "final"
    fields: list[tuple[str, Schema, int]] = field(default_factory=list)
    #: member ids that carry the must-understand flag (mutable only)
    must_understand: frozenset[int] = frozenset()

    def set_fields(self, *members: tuple[str, Schema] | tuple[str, Schema, int]) -> StructDef:
        out: list[tuple[str, Schema, int]] = []
        for i, m in enumerate(members):
            out.append((m[0], m[1], m[2] if len(m) > 2 else i))  # type: ignore[misc]
        self.fields = out
        return self


@dataclass(eq=False)
class UnionDef:
    """A union over an integer discriminator; ``cases`` maps each label to (name, type)."""

    name: str
    discriminator: Prim
    extensibility: str = "final"
    cases: dict[int, tuple[str, Schema]] = field(default_factory=dict)
    default: tuple[str, Schema] | None = None

    def set_cases(self, *branches: tuple[tuple[int, ...], str, Schema],
                  default: tuple[str, Schema] | None = None) -> UnionDef:
        self.cases = {lab: (name, sch) for labels, name, sch in branches for lab in labels}
        self.default = default
        return self

    def branch(self, disc: int) -> tuple[str, Schema] | None:
        return self.cases.get(disc, self.default)


Schema = Union[Prim, Str, Seq, Arr, Opt, StructDef, UnionDef]

# Length codes of the EMHEADER (XTypes 1.3, 7.4.3.4.8)
(LC_1B, LC_2B, LC_4B, LC_8B, LC_NEXTINT, LC_ALSO_NEXTINT, LC_ALSO_NEXTINT4,
 LC_ALSO_NEXTINT8) = range(8)
EMHEADER_MUST_UNDERSTAND = 0x8000_0000
EMHEADER_ID_MASK = 0x0FFF_FFFF


def is_primitive(schema: Schema) -> bool:
    """Whether XCDR2 omits the DHEADER of a collection of this element type."""
    return isinstance(schema, Prim)


def length_code(schema: Schema) -> int:
    """The EMHEADER length code Cyclone DDS writes for a mutable member of this type."""
    if isinstance(schema, Opt):
        schema = schema.inner
    if isinstance(schema, Prim):
        return {1: LC_1B, 2: LC_2B, 4: LC_4B, 8: LC_8B}[schema.size]
    if isinstance(schema, Str):
        return LC_ALSO_NEXTINT
    if isinstance(schema, Seq):
        el = schema.element
        if isinstance(el, Prim):
            return {1: LC_ALSO_NEXTINT, 2: LC_NEXTINT, 4: LC_ALSO_NEXTINT4,
                    8: LC_ALSO_NEXTINT8}[el.size]
        return LC_ALSO_NEXTINT
    if isinstance(schema, Arr):
        return LC_NEXTINT if isinstance(schema.element, Prim) else LC_ALSO_NEXTINT
    return LC_NEXTINT


class Writer:
    """Little-endian XCDR2 output; offsets (and so alignment) count from the buffer start."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def align(self, n: int) -> None:
        n = min(n, 4)
        pad = (-len(self.buf)) % n
        if pad:
            self.buf += b"\0" * pad

    def prim(self, p: Prim, value: Any) -> None:
        self.align(p.size)
        self.buf += struct.pack("<" + p.fmt, value)

    def u32(self, value: int) -> None:
        self.prim(UINT32, value)

    def reserve_u32(self) -> int:
        self.align(4)
        pos = len(self.buf)
        self.buf += b"\0\0\0\0"
        return pos

    def patch_u32(self, pos: int, value: int) -> None:
        struct.pack_into("<I", self.buf, pos, value)

    def write(self, schema: Schema, value: Any) -> None:
        if isinstance(schema, Prim):
            self.prim(schema, value)
        elif isinstance(schema, Str):
            data = value.encode("utf-8")
            if schema.bound and len(data) > schema.bound:
                raise ValueError(f"string of {len(data)} bytes exceeds bound {schema.bound}")
            self.u32(len(data) + 1)
            self.buf += data + b"\0"
        elif isinstance(schema, Seq):
            self._write_seq(schema, value)
        elif isinstance(schema, Arr):
            self._write_arr(schema, value)
        elif isinstance(schema, StructDef):
            self._write_struct(schema, value)
        elif isinstance(schema, UnionDef):
            self._write_union(schema, value)
        else:  # pragma: no cover - Opt is handled by the enclosing struct
            raise TypeError(f"cannot write {schema!r} directly")

    def _write_seq(self, schema: Seq, value: Any) -> None:
        el = schema.element
        if schema.bound and len(value) > schema.bound:
            raise ValueError(f"sequence of {len(value)} exceeds bound {schema.bound}")
        dh = None if is_primitive(el) else self.reserve_u32()
        self.u32(len(value))
        if el is OCTET:
            self.buf += bytes(value)
        else:
            for item in value:
                self.write(el, item)
        if dh is not None:
            self.patch_u32(dh, len(self.buf) - dh - 4)

    def _write_arr(self, schema: Arr, value: Any) -> None:
        el = schema.element
        if len(value) != schema.length:
            raise ValueError(f"array needs {schema.length} elements, got {len(value)}")
        dh = None if is_primitive(el) else self.reserve_u32()
        if el is OCTET:
            self.buf += bytes(value)
        else:
            for item in value:
                self.write(el, item)
        if dh is not None:
            self.patch_u32(dh, len(self.buf) - dh - 4)

    def _write_struct(self, schema: StructDef, value: dict[str, Any]) -> None:
        if schema.extensibility == "mutable":
            self._write_mutable(schema, value)
            return
        dh = self.reserve_u32() if schema.extensibility == "appendable" else None
        for name, ftype, _mid in schema.fields:
            v = value.get(name)
            if isinstance(ftype, Opt):
                self.prim(BOOL, v is not None)
                if v is not None:
                    self.write(ftype.inner, v)
            else:
                self.write(ftype, v)
        if dh is not None:
            self.patch_u32(dh, len(self.buf) - dh - 4)

    def _write_mutable(self, schema: StructDef, value: dict[str, Any]) -> None:
        dh = self.reserve_u32()
        for name, ftype, mid in schema.fields:
            v = value.get(name)
            if isinstance(ftype, Opt):
                if v is None:
                    continue
                ftype = ftype.inner
            lc = length_code(ftype)
            flags = EMHEADER_MUST_UNDERSTAND if mid in schema.must_understand else 0
            self.u32(flags | (lc << 28) | (mid & EMHEADER_ID_MASK))
            if lc == LC_NEXTINT:
                nextint = self.reserve_u32()
                self.write(ftype, v)
                self.patch_u32(nextint, len(self.buf) - nextint - 4)
            else:
                self.write(ftype, v)
        self.patch_u32(dh, len(self.buf) - dh - 4)

    def _write_union(self, schema: UnionDef, value: tuple[int, Any]) -> None:
        dh = self.reserve_u32() if schema.extensibility == "appendable" else None
        disc, inner = value
        self.prim(schema.discriminator, disc)
        branch = schema.branch(disc)
        if branch is not None:
            self.write(branch[1], inner)
        if dh is not None:
            self.patch_u32(dh, len(self.buf) - dh - 4)


def encode(schema: Schema, value: Any) -> bytes:
    """XCDR2 little-endian bytes of ``value``, without an encapsulation header."""
    w = Writer()
    w.write(schema, value)
    return bytes(w.buf)


class Reader:
    """Little-endian (or big-endian) XCDR2 input; every read is bounds-checked."""

    __slots__ = ("bo", "data", "end", "pos")

    def __init__(self, data: bytes | memoryview, little_endian: bool = True) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.end = len(self.data)
        self.bo = "<" if little_endian else ">"

    def align(self, n: int) -> None:
        n = min(n, 4)
        self.pos += (-self.pos) % n

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise MalformedError("xtypes_truncated",
                                 f"need {n} bytes at offset {self.pos}, have {self.end - self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def prim(self, p: Prim) -> Any:
        self.align(p.size)
        return struct.unpack(self.bo + p.fmt, self.take(p.size))[0]

    def u32(self) -> int:
        return int(self.prim(UINT32))

    def read(self, schema: Schema) -> Any:
        if isinstance(schema, Prim):
            return self.prim(schema)
        if isinstance(schema, Str):
            n = self.u32()
            if n == 0:
                raise MalformedError("xtypes_bad_string", "string length 0 (no terminating NUL)")
            raw = self.take(n)
            if raw[-1] != 0:
                raise MalformedError("xtypes_bad_string", "string not NUL-terminated")
            try:
                return raw[:-1].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedError("xtypes_bad_string", str(exc)) from None
        if isinstance(schema, Seq):
            return self._read_seq(schema)
        if isinstance(schema, Arr):
            return self._read_arr(schema)
        if isinstance(schema, StructDef):
            return self._read_struct(schema)
        if isinstance(schema, UnionDef):
            return self._read_union(schema)
        raise TypeError(f"cannot read {schema!r} directly")  # pragma: no cover

    def _bounded(self, length: int) -> int:
        """Limit reading to ``length`` bytes from here; returns the previous end."""
        old = self.end
        if self.pos + length > old:
            raise MalformedError("xtypes_truncated",
                                 f"length {length} at offset {self.pos} runs past the end")
        self.end = self.pos + length
        return old

    def _read_seq(self, schema: Seq) -> Any:
        el = schema.element
        old_end = None
        if not is_primitive(el):
            dlen = self.u32()
            old_end = self._bounded(dlen)
        n = self.u32()
        if schema.bound and n > schema.bound:
            raise MalformedError("xtypes_bound",
                                 f"sequence length {n} exceeds bound {schema.bound}")
        if isinstance(el, Prim):
            if n * el.size > self.end - self.pos + 3:
                raise MalformedError("xtypes_truncated", f"sequence of {n} does not fit")
        elif n > self.end - self.pos:
            raise MalformedError("xtypes_truncated", f"sequence of {n} does not fit")
        if el is OCTET:
            out: Any = self.take(n)
        else:
            out = [self.read(el) for _ in range(n)]
        if old_end is not None:
            self.pos = self.end
            self.end = old_end
        return out

    def _read_arr(self, schema: Arr) -> Any:
        el = schema.element
        old_end = None
        if not is_primitive(el):
            dlen = self.u32()
            old_end = self._bounded(dlen)
        if el is OCTET:
            out: Any = self.take(schema.length)
        else:
            out = [self.read(el) for _ in range(schema.length)]
        if old_end is not None:
            self.pos = self.end
            self.end = old_end
        return out

    def _read_struct(self, schema: StructDef) -> dict[str, Any]:
        if schema.extensibility == "mutable":
            return self._read_mutable(schema)
        old_end = None
        if schema.extensibility == "appendable":
            dlen = self.u32()
            old_end = self._bounded(dlen)
        out: dict[str, Any] = {}
        for name, ftype, _mid in schema.fields:
            if old_end is not None and self.pos >= self.end:
                # an older peer's shorter appendable type: missing trailing members
                out[name] = None
                continue
            if isinstance(ftype, Opt):
                present = self.prim(BOOL)
                out[name] = self.read(ftype.inner) if present else None
            else:
                out[name] = self.read(ftype)
        if old_end is not None:
            self.pos = self.end
            self.end = old_end
        return out

    def _read_mutable(self, schema: StructDef) -> dict[str, Any]:
        dlen = self.u32()
        old_end = self._bounded(dlen)
        by_id = {mid: (name, ftype) for name, ftype, mid in schema.fields}
        out: dict[str, Any] = {name: None for name, _t, _m in schema.fields}
        while self.pos < self.end:
            self.align(4)
            if self.pos >= self.end:
                break
            emh = self.u32()
            lc = (emh >> 28) & 7
            mid = emh & EMHEADER_ID_MASK
            if lc <= LC_8B:
                size = 1 << lc
            elif lc == LC_NEXTINT:
                size = self.u32()
            else:
                save = self.pos
                nextint = self.u32()
                self.pos = save
                size = 4 + nextint * {LC_ALSO_NEXTINT: 1, LC_ALSO_NEXTINT4: 4,
                                      LC_ALSO_NEXTINT8: 8}[lc]
            start = self.pos
            member_end = start + size
            if member_end > self.end:
                raise MalformedError("xtypes_truncated", f"member {mid:#x} runs past its struct")
            entry = by_id.get(mid)
            if entry is None:
                if emh & EMHEADER_MUST_UNDERSTAND:
                    raise MalformedError("xtypes_must_understand",
                                         f"{schema.name}: unknown must-understand member {mid:#x}")
            else:
                name, ftype = entry
                if isinstance(ftype, Opt):
                    ftype = ftype.inner
                inner_end = self.end
                self.end = member_end
                out[name] = self.read(ftype)
                self.end = inner_end
            self.pos = member_end
        self.pos = self.end
        self.end = old_end
        return out

    def _read_union(self, schema: UnionDef) -> tuple[int, Any]:
        old_end = None
        if schema.extensibility == "appendable":
            dlen = self.u32()
            old_end = self._bounded(dlen)
        disc = self.prim(schema.discriminator)
        branch = schema.branch(disc)
        value = self.read(branch[1]) if branch is not None else None
        if old_end is not None:
            self.pos = self.end
            self.end = old_end
        return disc, value


def decode(schema: Schema, data: bytes | memoryview, little_endian: bool = True) -> Any:
    """Decode XCDR2 bytes (no encapsulation header) as ``schema``; trailing bytes are ignored."""
    try:
        return Reader(data, little_endian).read(schema)
    except struct.error as exc:  # pragma: no cover - take() guards lengths
        raise MalformedError("xtypes_truncated", str(exc)) from None
    except RecursionError:
        # TypeIdentifiers nest (sequence of sequence of ...): hostile input can go deep
        raise MalformedError("xtypes_too_deep", "nesting exceeds the recursion limit") from None


__all__ = [
    "Arr", "BOOL", "CHAR", "FLOAT32", "FLOAT64", "INT16", "INT32", "INT64", "INT8", "OCTET",
    "Opt", "Prim", "Reader", "Schema", "Seq", "Str", "StructDef", "UINT16", "UINT32", "UINT64",
    "UnionDef", "Writer", "decode", "encode", "is_primitive", "length_code",
]
