"""rtbus CDR == Cyclone DDS CDR, byte for byte, on every corpus type.

For random valid values (hypothesis) of each of the corpus types, in XCDR1 and XCDR2, little
and big endian: the bytes rtbus writes equal the bytes cyclonedds writes, rtbus decodes
Cyclone's bytes to the original value and cyclonedds decodes rtbus's bytes to it too. Key
hashes match the key serialization cyclonedds produces, with the same MD5 decision.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cyclonedds.idl._support import Endianness
from hypothesis import HealthCheck, given, settings

from rtbus import cdr
from rtbus.cdr.keyhash import max_key_size
from rtbus.types import model as M
from tests.support.corpus import CORPUS, CorpusEntry
from tests.support.cyclone_bridge import from_cyclone, has_unselected_union, to_cyclone
from tests.support.strategies import values_for

MODES = [(v2, little) for v2 in (False, True) for little in (True, False)]
IDS = [e.name for e in CORPUS]
SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _cyc_bytes(obj: Any, v2: bool, little: bool) -> bytes:
    return obj.serialize(use_version_2=v2,  # type: ignore[no-any-return]
                         endianness=Endianness.Little if little else Endianness.Big)


def test_corpus_is_broad() -> None:
    assert len(CORPUS) >= 45
    exts = {M.resolve(e.model).extensibility for e in CORPUS}
    assert exts == {"final", "appendable", "mutable"}
    assert any(isinstance(e.model, M.UnionType) for e in CORPUS)
    assert sum(1 for e in CORPUS if isinstance(e.model, M.StructType) and e.model.keyed) >= 10


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_bytes_equal_and_cross_decode(entry: CorpusEntry) -> None:
    codec = cdr.pure_codec(entry.model)

    @SETTINGS
    @given(values_for(entry.model))
    def check(value: Any) -> None:
        cyc = to_cyclone(value, entry.model)
        lossy = has_unselected_union(value, entry.model)
        for v2, little in MODES:
            ours = codec.encode(value, v2, little)
            theirs = _cyc_bytes(cyc, v2, little)
            assert ours == theirs, (f"{entry.name} {'XCDR2' if v2 else 'XCDR1'} "
                                    f"{'LE' if little else 'BE'}:\n ours   {ours.hex()}\n"
                                    f" cyclone {theirs.hex()}")
            assert codec.decode(theirs) == value
            if not lossy:
                assert from_cyclone(type(cyc).deserialize(ours), entry.model) == value
        # the public entry point (compiled backend when present) agrees too, and pads the
        # payload to 4 bytes recording the pad count in the options as Cyclone's C core does
        theirs = _cyc_bytes(cyc, True, True)
        public = cdr.encode(value)
        pad = -len(theirs) % 4
        assert public == theirs[:3] + bytes((pad,)) + theirs[4:] + bytes(pad)
        assert type(cyc).deserialize(public) == cyc or lossy
        assert cdr.decode(entry.pyclass, public) == value
        assert cdr.decode(entry.pyclass, _cyc_bytes(cyc, False, False)) == value

    check()


KEYED = [e for e in CORPUS if isinstance(e.model, M.StructType) and e.model.keyed]


def _all_final(t: Any, seen: set[int] | None = None) -> bool:
    """Whether every struct in the key path is final (cyclonedds' normalized key == KEYHASH)."""
    seen = seen or set()
    t = M.resolve(t)
    if id(t) in seen:
        return True
    seen.add(id(t))
    if isinstance(t, (M.StructType, M.UnionType)) and t.extensibility != "final":
        return False
    if isinstance(t, M.StructType):
        return all(_all_final(m.type, seen) for m in t.all_members())
    if isinstance(t, (M.SequenceType, M.ArrayType)):
        return _all_final(t.element, seen)
    return True


@pytest.mark.parametrize("entry", KEYED, ids=[e.name for e in KEYED])
def test_key_max_size_decision_matches_cyclone(entry: CorpusEntry) -> None:
    idl = entry.cyclone_cls.__idl__
    idl.populate()
    assert (max_key_size(entry.model, xcdr2=True) > 16) == (idl.v2_key_max_size > 16)
    assert (max_key_size(entry.model, xcdr2=False) > 16) == (idl.v1_key_max_size > 16)


FINAL_KEYED = [e for e in KEYED if _all_final(e.model)]


@pytest.mark.parametrize("entry", FINAL_KEYED, ids=[e.name for e in FINAL_KEYED])
def test_key_hash_matches_cyclone_key_serialization(entry: CorpusEntry) -> None:
    idl = entry.cyclone_cls.__idl__
    idl.populate()

    @settings(max_examples=30, deadline=None, database=None)
    @given(values_for(entry.model))
    def check(value: Any) -> None:
        cyc = to_cyclone(value, entry.model)
        for v2, rep in ((True, "XCDR2"), (False, "XCDR1")):
            key = idl.serialize_key_normalized(cyc, use_version_2=v2, endianness=Endianness.Big)
            assert cdr.serialize_key(value, rep, "big") == key
            maxsize = idl.v2_key_max_size if v2 else idl.v1_key_max_size
            # RTPS 9.6.4.8 / XTypes 7.6.8: the MD5 of the key bytes themselves (as RTI Connext
            # sends in PID_KEY_HASH, tests/interop/test_rti.py), else the key zero-padded
            expected = hashlib.md5(key).digest() if maxsize > 16 else key.ljust(16, b"\0")
            assert cdr.key_hash(value, rep) == expected
            back = cdr.decode_key(entry.pyclass, key, rep, "big")
            assert cdr.serialize_key(back, rep, "big") == key

    check()
