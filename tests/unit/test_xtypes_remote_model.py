"""Models rebuilt from complete TypeObjects: round trip, and what is refused."""

import pytest

from rtbus.errors import MalformedError
from rtbus.types import model as M
from rtbus.xtypes import type_identifier, type_information_of, type_objects
from rtbus.xtypes.remote_model import model_from_type_objects
from rtbus.xtypes.typeid import TypeIdentifier


def _sample() -> M.StructType:
    color = M.EnumType("r::Color", [M.EnumLiteral("B", 5), M.EnumLiteral("A", 1, True)],
                       bit_bound=8)
    flags = M.BitmaskType("r::Fl", [M.BitFlag("X", 3)], bit_bound=8)
    base = M.StructType("r::Base", [M.Member("k", M.INT64, key=True)], nested=True)
    M.finalize_member_ids(base)
    un = M.UnionType("r::U", color, [M.UnionCase([5], M.Member("s", M.StringType(300), id=0)),
                                     M.UnionCase([], M.Member("f", flags, id=1),
                                                 is_default=True)],
                     extensibility="appendable", key_discriminator=True)
    alias = M.AliasType("r::Vec", M.SequenceType(M.FLOAT32, 3))
    top = M.StructType("r::Top", [
        M.Member("u", un, optional=True), M.Member("v", alias, must_understand=True),
        M.Member("grid", M.ArrayType(M.INT16, (2, 300))), M.Member("w", M.StringType(wide=True)),
        M.Member("h", M.INT32, hashid="", annotations={"try_construct": "TRIM"})],
        base=base, extensibility="mutable", autoid="hash")
    M.finalize_member_ids(top)
    return top


def _complete_objects(top: M.IdlType) -> dict[TypeIdentifier, bytes]:
    out = {}
    for named in type_information_of(top).types:
        pair = type_objects(named)
        out[pair.complete_id] = pair.complete_bytes
    return out


def test_round_trip_keeps_both_hashes() -> None:
    top = _sample()
    rebuilt = model_from_type_objects(type_identifier(top, "complete"), _complete_objects(top))
    assert isinstance(rebuilt, M.StructType)
    assert rebuilt is not top
    for kind in ("minimal", "complete"):
        assert type_identifier(rebuilt, kind) == type_identifier(top, kind)  # type: ignore[arg-type]
    assert [mb.name for mb in rebuilt.all_members()] == ["k", "u", "v", "grid", "w", "h"]
    assert rebuilt.key_members()[0].name == "k"


def test_refuses_minimal_ids_and_missing_dependencies() -> None:
    top = _sample()
    objects = _complete_objects(top)
    with pytest.raises(LookupError):
        model_from_type_objects(type_identifier(top, "minimal"), objects)
    partial = {type_identifier(top, "complete"): objects[type_identifier(top, "complete")]}
    with pytest.raises(LookupError):
        model_from_type_objects(type_identifier(top, "complete"), partial)
    # a minimal TypeObject filed under a complete id is rejected
    bogus = {type_identifier(top, "complete"): type_objects(top).minimal_bytes}
    with pytest.raises(MalformedError):
        model_from_type_objects(type_identifier(top, "complete"), bogus)
