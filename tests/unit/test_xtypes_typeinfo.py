"""TypeInformation (PID_TYPE_INFORMATION): dependency lists, decode, and SEDP type matching."""

import pytest

from rtbus.errors import MalformedError
from rtbus.types import model as M
from rtbus.xtypes import (
    TypeInformation,
    decode_type_information,
    matches,
    type_identifier,
    type_information,
    type_information_of,
    type_objects,
)
from rtbus.xtypes.typeinfo import dependency_order


def _struct(name: str, members: list[M.Member], **kw: object) -> M.StructType:
    s = M.StructType(name, members, **kw)  # type: ignore[arg-type]
    M.finalize_member_ids(s)
    return s


def _diamond() -> tuple[M.StructType, dict[str, M.IdlType]]:
    e = M.EnumType("d::E", [M.EnumLiteral("A", 0)])
    leaf = _struct("d::Leaf", [M.Member("e", e)])
    left = _struct("d::Left", [M.Member("l", leaf)])
    right = _struct("d::Right", [M.Member("r", leaf), M.Member("e", e)])
    top = _struct("d::Top", [M.Member("left", left), M.Member("right", right)])
    return top, {"E": e, "Leaf": leaf, "Left": left, "Right": right}


def test_no_dependencies_for_a_flat_type() -> None:
    flat = _struct("f::Flat", [M.Member("x", M.INT32), M.Member("s", M.SequenceType(M.INT8))])
    info = type_information_of(flat)
    assert info.minimal.dependent_typeid_count == 0 == info.complete.dependent_typeid_count
    assert info.minimal.typeid_with_size.type_id == type_identifier(flat, "minimal")
    assert info.complete.typeid_with_size.typeobject_serialized_size == len(
        type_objects(flat).complete_bytes)


def test_diamond_dependency_order_keeps_cyclones_duplicates() -> None:
    top, t = _diamond()
    deps, nodes = dependency_order(top)
    # leaves first (E), then post-order by discovery index, one entry per path
    names = [d.name for d in deps]  # type: ignore[union-attr]
    assert names == ["d::E", "d::Leaf", "d::Left", "d::Leaf", "d::Right"]
    assert nodes[0] is top and set(map(id, nodes)) == {id(top)} | set(map(id, t.values()))
    info = type_information_of(top)
    assert info.complete.dependent_typeid_count == 5
    # the minimal list keeps each identifier once
    assert info.minimal.dependent_typeid_count == 4
    assert [d.type_id for d in info.minimal.dependent_typeids] == [
        type_identifier(t[n], "minimal") for n in ("E", "Leaf", "Left", "Right")]


def test_type_information_bytes_have_no_encapsulation_and_round_trip() -> None:
    top, _ = _diamond()
    data = type_information(top, cyclone_wire=False)
    # mutable struct: DHEADER then EMHEADER(LC=4, id 0x1001)
    assert int.from_bytes(data[:4], "little") == len(data) - 4
    assert int.from_bytes(data[4:8], "little") == (4 << 28) | 0x1001
    info = decode_type_information(data)
    assert isinstance(info, TypeInformation)
    assert info == type_information_of(top)
    assert info.encode() == data
    assert type_information(top, cyclone_wire=False) is data  # cached
    sent = decode_type_information(type_information(top))
    assert sent.complete.typeid_with_size.typeobject_serialized_size == 0
    assert sent.minimal.typeid_with_size.type_id == info.minimal.typeid_with_size.type_id
    assert sent.complete.dependent_typeids == info.complete.dependent_typeids
    assert sent == info.as_cyclone_sends()


def test_matches_on_hash_equality() -> None:
    top, _ = _diamond()
    same, _ = _diamond()  # an equal type built separately (e.g. a peer's declaration)
    assert matches(top, type_information(same))
    other = _struct("d::Top", [M.Member("left", M.INT32)])
    assert not matches(top, type_information(other))
    # minimal-only equality (names differ only) still matches
    renamed = _struct("x::Top2", [M.Member("left", _diamond()[1]["Left"]),
                                  M.Member("right", _diamond()[1]["Right"])])
    renamed_info = type_information_of(renamed)
    top_info = type_information_of(top)
    assert renamed_info.complete.typeid_with_size != top_info.complete.typeid_with_size
    assert matches(top, renamed_info)


def test_decode_rejects_garbage() -> None:
    with pytest.raises(MalformedError):
        decode_type_information(b"\x10\x00\x00\x00\x01")
    top, _ = _diamond()
    data = type_information(top)
    with pytest.raises(MalformedError):
        decode_type_information(data[:-3])
