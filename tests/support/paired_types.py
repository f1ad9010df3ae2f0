"""Types declared twice, as a cyclonedds class and as a hand-written rtbus model.

CDR parity (tests/unit/test_cdr_parity.py) and XTypes conformance
(tests/conformance/test_xtypes_cyclone.py) both need these; each test module keeps its own
scope (``p`` and ``xt``) in the type names, because XTypes hashes the fully qualified name.
Both halves are written out independently on purpose: the cyclonedds class is what Cyclone
serializes and hashes, the model is what rtbus does; a test compares the two.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as t
from cyclonedds.idl import IdlBitmask, IdlEnum, IdlStruct, IdlUnion

from rtbus.types import model as M

from .model_builders import enum_model, mem, struct, union


class Declared(NamedTuple):
    cyclone: Any  # the cyclonedds class
    model: M.IdlType  # the same type as an rtbus model, written out by hand


def all_primitives(scope: str, name: str = "AllPrims") -> Declared:
    """A final struct with one member of each primitive type, in declaration order."""

    @dataclass
    class AllPrims(IdlStruct, typename=f"{scope}::{name}"):
        b: bool
        o: t.byte
        c: t.char
        i8: t.int8
        u8: t.uint8
        i16: t.int16
        u16: t.uint16
        i32: t.int32
        u32: t.uint32
        i64: t.int64
        u64: t.uint64
        f32: t.float32
        f64: t.float64

    AllPrims.__name__ = AllPrims.__qualname__ = name  # the corpus names its entries by class
    model = struct(f"{scope}::{name}", [
        mem("b", M.BOOLEAN), mem("o", M.OCTET), mem("c", M.CHAR), mem("i8", M.INT8),
        mem("u8", M.UINT8), mem("i16", M.INT16), mem("u16", M.UINT16), mem("i32", M.INT32),
        mem("u32", M.UINT32), mem("i64", M.INT64), mem("u64", M.UINT64),
        mem("f32", M.FLOAT32), mem("f64", M.FLOAT64)])
    return Declared(AllPrims, model)


def shape_type() -> Declared:
    """The interoperability demo's ShapeType (appendable, keyed on color), unscoped."""

    @dataclass
    @annotate.appendable
    class ShapeType(IdlStruct, typename="ShapeType"):
        color: t.bounded_str[128]
        annotate.key("color")
        x: t.int32
        y: t.int32
        shapesize: t.int32

    model = struct("ShapeType", [mem("color", M.StringType(128), key=True), mem("x", M.INT32),
                                 mem("y", M.INT32), mem("shapesize", M.INT32)],
                   extensibility="appendable")
    return Declared(ShapeType, model)


def color(scope: str) -> Declared:
    """A plain enum, values 0..2."""

    class Color(IdlEnum, typename=f"{scope}::Color"):
        RED = 0
        GREEN = 1
        BLUE = 2

    return Declared(Color, enum_model(f"{scope}::Color",
                                      [("RED", 0), ("GREEN", 1), ("BLUE", 2)]))


def level(scope: str) -> Declared:
    """An 8-bit enum with explicit, unordered values."""

    @annotate.bit_bound(8)
    class Level(IdlEnum, typename=f"{scope}::Level"):
        LOW = 10
        MID = 3
        HIGH = 77

    return Declared(Level, enum_model(f"{scope}::Level", [("LOW", 10), ("MID", 3), ("HIGH", 77)],
                                      bit_bound=8))


def kind(scope: str) -> Declared:
    """The enum that discriminates the ``Shape`` unions."""

    class Kind(IdlEnum, typename=f"{scope}::Kind"):
        CIRCLE = 0
        SQUARE = 1
        TRIANGLE = 2

    return Declared(Kind, enum_model(f"{scope}::Kind",
                                     [("CIRCLE", 0), ("SQUARE", 1), ("TRIANGLE", 2)]))


def perm(scope: str) -> Declared:
    """A 16-bit bitmask with a positioned flag (the next one follows it)."""

    @dataclass
    @annotate.bit_bound(16)
    class Perm(IdlBitmask, typename=f"{scope}::Perm"):
        READ: bool = False
        WRITE: bool = False
        annotate.position("WRITE", 4)
        EXEC: bool = False

    return Declared(Perm, M.BitmaskType(f"{scope}::Perm", [
        M.BitFlag("READ", 0), M.BitFlag("WRITE", 4), M.BitFlag("EXEC", 5)], bit_bound=16))


def int_union(scope: str) -> Declared:
    """A long-discriminated union with a multi-label case and no default."""

    class IU(IdlUnion, discriminator=t.int32, typename=f"{scope}::IU"):
        a: t.case[1, t.int32]
        b: t.case[[2, 3], str]
        c: t.case[7, t.float64]

    return Declared(IU, union(f"{scope}::IU", M.INT32, [
        ([1], "a", M.INT32), ([2, 3], "b", M.StringType()), ([7], "c", M.FLOAT64)]))


def default_union(scope: str) -> Declared:
    """A short-discriminated union with a default branch."""

    class DU(IdlUnion, discriminator=t.int16, typename=f"{scope}::DU"):
        a: t.case[3, str]
        b: t.default[t.float64]

    return Declared(DU, union(f"{scope}::DU", M.INT16, [([3], "a", M.StringType())],
                              default=("b", M.FLOAT64)))
