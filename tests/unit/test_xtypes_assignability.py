"""Basic assignability between differing versions of a type (when hashes differ)."""

from rtbus.types import model as M
from rtbus.xtypes import type_information, type_information_of, type_objects
from rtbus.xtypes.assignability import is_assignable
from rtbus.xtypes.lookup_messages import TypePair
from tests.support.model_builders import struct


def published(model: M.IdlType) -> tuple[bytes, list[TypePair]]:
    """What a remote peer offers: its TypeInformation and, via TypeLookup, its TypeObjects."""
    pairs = []
    for named in type_information_of(model).types:
        objs = type_objects(named)
        pairs.append(TypePair(objs.complete_id, objs.complete_bytes))
        pairs.append(TypePair(objs.minimal_id, objs.minimal_bytes))
    return type_information(model), pairs


def assignable(local: M.IdlType, remote: M.IdlType) -> bool:
    info, pairs = published(remote)
    return is_assignable(local, info, pairs)


def test_equal_hashes_need_no_type_objects() -> None:
    a = struct("v::T", [M.Member("x", M.INT32)])
    b = struct("v::T", [M.Member("x", M.INT32)])
    assert is_assignable(a, type_information(b))


def test_unknown_remote_objects_are_not_assignable() -> None:
    a = struct("v::T", [M.Member("x", M.INT32)], extensibility="appendable")
    b = struct("v::T", [M.Member("x", M.INT32), M.Member("y", M.INT8)],
               extensibility="appendable")
    assert not is_assignable(a, type_information(b))  # no TypeObjects obtained yet
    assert is_assignable(a, *published(b))


def test_appendable_prefix_both_ways_final_not() -> None:
    for ext, expected in (("appendable", True), ("final", False)):
        v1 = struct("v::T", [M.Member("x", M.INT32)], extensibility=ext)
        v2 = struct("v::T", [M.Member("x", M.INT32), M.Member("y", M.StringType())],
                    extensibility=ext)
        assert assignable(v1, v2) is expected
        assert assignable(v2, v1) is expected


def test_mutable_members_matched_by_id_and_name() -> None:
    v1 = struct("v::M", [M.Member("a", M.INT32), M.Member("b", M.FLOAT64)],
                extensibility="mutable")
    v2 = struct("v::M", [M.Member("b", M.FLOAT64, id=1), M.Member("a", M.INT32, id=0),
                         M.Member("c", M.INT8, id=7)], extensibility="mutable")
    assert assignable(v1, v2)
    renumbered = struct("v::M", [M.Member("a", M.INT32, id=5), M.Member("b", M.FLOAT64, id=6)],
                        extensibility="mutable")
    assert not assignable(v1, renumbered)
    retyped = struct("v::M", [M.Member("a", M.INT64), M.Member("b", M.FLOAT64)],
                     extensibility="mutable")
    assert not assignable(v1, retyped)


def test_keys_must_agree() -> None:
    keyed = struct("v::K", [M.Member("id", M.INT32, key=True), M.Member("v", M.INT32)],
                   extensibility="mutable")
    unkeyed = struct("v::K", [M.Member("id", M.INT32), M.Member("v", M.INT32)],
                     extensibility="mutable")
    extra_key = struct("v::K", [M.Member("id", M.INT32, key=True), M.Member("v", M.INT32),
                                M.Member("k2", M.INT32, key=True)], extensibility="mutable")
    assert not assignable(keyed, unkeyed)
    assert not assignable(keyed, extra_key)


def test_extensibility_and_names_must_agree() -> None:
    a = struct("v::E", [M.Member("x", M.INT32)], extensibility="appendable")
    b = struct("v::E", [M.Member("x", M.INT32)], extensibility="mutable")
    c = struct("v::Other", [M.Member("x", M.INT32), M.Member("y", M.INT32)],
               extensibility="appendable")
    assert not assignable(a, b)
    assert not assignable(a, c)


def test_nested_evolution_and_collections() -> None:
    inner1 = struct("v::In", [M.Member("p", M.INT32)], extensibility="appendable")
    inner2 = struct("v::In", [M.Member("p", M.INT32), M.Member("q", M.INT32)],
                    extensibility="appendable")
    outer1 = struct("v::Out", [M.Member("i", inner1), M.Member("s", M.SequenceType(inner1, 5)),
                               M.Member("n", M.StringType(10))], extensibility="appendable")
    outer2 = struct("v::Out", [M.Member("i", inner2), M.Member("s", M.SequenceType(inner2)),
                               M.Member("n", M.StringType())], extensibility="appendable")
    assert assignable(outer1, outer2)
    arr1 = struct("v::A", [M.Member("a", M.ArrayType(M.INT32, (3,)))])
    arr2 = struct("v::A", [M.Member("a", M.ArrayType(M.INT32, (4,)))])
    assert not assignable(arr1, arr2)


def test_enums_final_exact_appendable_common_literals() -> None:
    def holder(lits: list[tuple[str, int]], ext: str) -> M.StructType:
        e = M.EnumType("v::Col", [M.EnumLiteral(n, v) for n, v in lits], extensibility=ext)  # type: ignore[arg-type]
        return struct("v::H", [M.Member("c", e)], extensibility="appendable")

    small = [("R", 0), ("G", 1)]
    big = [("R", 0), ("G", 1), ("B", 2)]
    assert assignable(holder(small, "appendable"), holder(big, "appendable"))
    assert not assignable(holder(small, "final"), holder(big, "final"))
    clash = [("R", 0), ("G", 5)]
    assert not assignable(holder(small, "appendable"), holder(clash, "appendable"))


def test_union_labels_must_agree() -> None:
    def holder(labels: list[int], extra: bool) -> M.StructType:
        cases = [M.UnionCase(labels, M.Member("a", M.INT32, id=0))]
        if extra:
            cases.append(M.UnionCase([9], M.Member("b", M.INT8, id=1)))
        u = M.UnionType("v::U", M.INT32, cases, extensibility="appendable")
        return struct("v::UH", [M.Member("u", u)], extensibility="appendable")

    assert assignable(holder([1], False), holder([1], True))
    assert not assignable(holder([1], False), holder([2], False))


def test_inherited_members_are_compared() -> None:
    base1 = struct("v::B", [M.Member("b", M.INT32)], extensibility="appendable")
    base2 = struct("v::B", [M.Member("b", M.INT16)], extensibility="appendable")
    d1 = struct("v::D", [M.Member("d", M.INT32)], base=base1, extensibility="appendable")
    d2 = struct("v::D", [M.Member("d", M.INT32)], base=base2, extensibility="appendable")
    assert not assignable(d1, d2)
