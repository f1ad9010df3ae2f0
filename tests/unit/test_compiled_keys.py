"""Key serialization in the compiled codec (ext/cdr.pyx) against its pure-Python twin.

The key forms (the key-only SAMPLE form of a DATA(K) and the KEYHASH form the key hash is
computed over) and the key extractor (the key hash straight from a payload) each have two
executors of one layout plan: ``rtbus._ext.cdr.KeyCodec`` / ``KeyScanner`` and
``rtbus.cdr.pure.KeyCodec`` / the pure scanner of ``rtbus.cdr.keys``. Over random types
(tests/unit/test_cdr_random_models.py) with random values (tests/support/strategies.py)
they must give the same bytes, the same samples and the same key hashes, also for mutated
payloads (the same hash, or DecodeError from both). Cyclone DDS is the oracle of the bytes
themselves (tests/unit/test_cdr_keys.py); here the twins are held to each other.

Like tests/unit/test_cdr_parity.py these fail, never skip, when the compiled twin is
missing: only a deliberate pure-Python run (RTBUS_PURE_PYTHON=1) has nothing to compare.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtbus import _ext, cdr
from rtbus.cdr import encapsulation, keyhash, keys, plan
from rtbus.errors import DecodeError, EncodeError
from rtbus.rtps.wire import constants as wire_constants
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize
from tests.support.key_types import KEYED_TYPES
from tests.support.strategies import values_for
from tests.unit.test_cdr_random_models import PRIMS, _materialize, _struct, leaf, top_level, types

ccdr = _ext.available("cdr")
pytestmark = pytest.mark.skipif(
    ccdr is None and os.environ.get("RTBUS_PURE_PYTHON") == "1",
    reason="RTBUS_PURE_PYTHON=1: the compiled twin is switched off")
if ccdr is None and os.environ.get("RTBUS_PURE_PYTHON") != "1":
    raise RuntimeError("compiled rtbus._ext.cdr is missing: build it (pip install -e .) -- the "
                       "parity tests compare it with the pure-Python twin")

MODES = [(False, False), (False, True), (True, False), (True, True)]  # (xcdr2, little)

# Random types whose keys the scanners read (rather than decode): key leaves that are
# primitives, strings, enums, bitmasks and numeric collections, in nested structs of any
# extensibility, among members of any type (most of test_cdr_random_models' keys hold a
# union or a collection of structs somewhere, which both twins leave to the decoder)
_NUMERIC = [p for p in PRIMS if p not in (M.BOOLEAN, M.CHAR)]
_EXTS = st.sampled_from(["final", "appendable", "mutable"])
_scannable = st.recursive(
    st.one_of(leaf,
              st.builds(M.SequenceType, st.sampled_from(_NUMERIC), st.none() | st.integers(1, 4)),
              st.builds(M.ArrayType, st.sampled_from(_NUMERIC),
                        st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple))),
    lambda children: st.builds(_struct, st.lists(st.tuples(children, st.booleans(),
                                                           st.booleans()),
                                                 min_size=1, max_size=3), _EXTS),
    max_leaves=6)
scanned_keys = st.builds(
    _struct,
    st.lists(st.one_of(st.tuples(_scannable, st.just(False), st.just(True)),
                       st.tuples(types, st.booleans(), st.just(False))),
             min_size=1, max_size=5).filter(lambda ms: any(key for _, _, key in ms)),
    _EXTS)

_FUZZ = settings(max_examples=60, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _ready(model: M.StructType) -> None:
    named: list[Any] = []
    _materialize(model, named, set())
    materialize(named)


def _outcome(fn: Callable[..., Any], *args: Any) -> Any:
    """What a call gives: its value, or the kind of error it raised (the messages differ)."""
    try:
        return fn(*args)
    except DecodeError:
        return DecodeError
    except EncodeError:
        return EncodeError


def _mutations(payload: bytes, rnd: Any, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(payload)
        op = rnd.random()
        if op < 0.45 and len(b) > 4:
            b[rnd.randrange(4, len(b))] = rnd.randrange(256)
        elif op < 0.7:
            b = b[:rnd.randrange(0, len(b) + 1)]
        else:
            i = rnd.randrange(4, max(5, len(b)))
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 5)))
        out.append(bytes(b))
    return out


# ---- one vocabulary: the constants compiled in are the Python ones --------------------------

def test_compiled_wire_constants_are_the_python_definitions() -> None:
    assert ccdr is not None
    want = {name: getattr(encapsulation, name) for name in ccdr.WIRE_CONSTANTS
            if name.startswith("XCDR1_")}
    want["PL_MUST_UNDERSTAND"] = plan.PL_MUST_UNDERSTAND
    want["MEMBER_ID_MASK"] = plan.MEMBER_ID_MASK
    assert ccdr.WIRE_CONSTANTS == want
    assert {n for n in dir(encapsulation) if n.startswith("XCDR1_PID")} <= set(want)
    parser = _ext.available("rtps_parse")
    assert parser is not None, "compiled rtbus._ext.rtps_parse is missing"
    assert parser.SUBMESSAGE_IDS == {n: getattr(wire_constants, n) for n in parser.SUBMESSAGE_IDS}


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_compiled_md5_is_md5(data: bytes) -> None:
    assert ccdr is not None
    assert ccdr.md5_digest(data) == hashlib.md5(data).digest()


# ---- the key codec (encode_key, decode_key_payload, serialize_key, decode_key, key_hash) ----

@pytest.mark.parametrize("kt", KEYED_TYPES, ids=[kt.name for kt in KEYED_TYPES])
def test_the_key_functions_run_the_compiled_twin(kt: Any) -> None:
    assert keyhash.key_codec_backend(kt.pyclass) == "compiled"
    assert not isinstance(keyhash.key_codec(kt.pyclass), cdr.pure.KeyCodec)
    hasher = cdr.key_hasher(kt.pyclass)
    assert getattr(hasher, "__self__", None) is keyhash.key_codec(kt.pyclass)
    sample = kt.sample(5)
    assert hasher(sample) == keyhash.pure_key_hasher(kt.pyclass)(sample)
    assert cdr.key_hasher(kt.pyclass, "XCDR1")(sample) == \
        keyhash.pure_key_hasher(kt.pyclass, "XCDR1")(sample)


def _twins(model: M.StructType) -> tuple[Any, Any] | None:
    """(compiled, pure) key codecs, or None when neither takes the type (both must agree)."""
    assert ccdr is not None
    got = []
    for make in (ccdr.compile_key_codec, cdr.pure.KeyCodec):
        try:
            got.append(make(model))
        except NotImplementedError:
            got.append(None)
    assert (got[0] is None) == (got[1] is None), f"only one twin compiles {model.name}"
    return None if got[0] is None else (got[0], got[1])


@_FUZZ
@given(top_level, st.data(), st.randoms(use_true_random=False))
def test_random_types_key_forms_agree(model: M.StructType, data: st.DataObject,
                                      rnd: Any) -> None:
    _ready(model)
    twins = _twins(model)
    if twins is None:
        return
    comp, pure = twins
    value = data.draw(values_for(model))
    assert comp.hash(value) == pure.hash(value)
    assert comp.hash_xcdr1(value) == pure.hash_xcdr1(value)
    if model.keyed:
        assert comp.hash(value) == keyhash.pure_key_hasher(model)(value)
    for v2, little in MODES:
        payload = pure.encode(value, v2, little)
        assert comp.encode(value, v2, little) == payload
        back = pure.decode(payload)
        assert comp.decode(payload) == back
        key = pure.serialize(value, v2, little)
        assert comp.serialize(value, v2, little) == key
        assert comp.serialize(back, v2, little) == key
        assert _outcome(comp.deserialize, key, v2, little) == \
            _outcome(pure.deserialize, key, v2, little)
        for bad in _mutations(payload, rnd, 6):
            c = _outcome(comp.decode, bad)  # DecodeError or a sample, only
            p = _outcome(pure.decode, bad)
            if c is not DecodeError and p is not DecodeError:  # NaN != NaN: then by bytes
                assert c == p or pure.encode(c, v2, little) == pure.encode(p, v2, little), \
                    bad.hex()


# ---- the key extractor (the key hash straight from a payload) -------------------------------

@pytest.mark.parametrize("kt", KEYED_TYPES, ids=[kt.name for kt in KEYED_TYPES])
def test_the_key_extractor_runs_the_compiled_twin(kt: Any) -> None:
    ex = cdr.key_extractor(kt.pyclass)
    assert ex.backend == "compiled"
    assert keys.KeyExtractor(kt.pyclass, backend="pure").backend == "pure"
    for rep in ("XCDR1", "XCDR2"):
        for key_payload in (False, True):
            assert not ex.decodes_instead(rep, key_payload)


def test_the_shape_type_key_is_scanned_by_the_compiled_twin() -> None:
    from rtbus.shape import shape_type

    shape = shape_type()
    sample = shape(color="GREEN", x=1, y=2, shapesize=3)
    ex = cdr.key_extractor(shape)
    assert ex.backend == "compiled"
    assert ex(cdr.encode(sample)) == cdr.key_hash(sample)
    assert ex.from_key(cdr.encode_key(sample)) == cdr.key_hash(sample)


@_FUZZ
@given(st.one_of(scanned_keys, top_level), st.data(), st.randoms(use_true_random=False))
def test_random_types_key_extractors_agree(model: M.StructType, data: st.DataObject,
                                           rnd: Any) -> None:
    assert ccdr is not None
    _ready(model)
    if not model.keyed:
        return
    value = data.draw(values_for(model))
    hashed = cdr.key_hash(value)
    pure = keys.KeyExtractor(model, backend="pure")
    try:
        scanner = ccdr.compile_key_scanner(model)
    except NotImplementedError:
        scanner = None
    pure_codec = cdr.pure_codec(model)
    for rep, end in [("XCDR1", "big"), ("XCDR1", "little"), ("XCDR2", "big"),
                     ("XCDR2", "little")]:
        v2 = rep == "XCDR2"
        inputs = [(False, cdr.encode(value, rep, end)),
                  (False, pure_codec.encode(value, v2, end == "little")),
                  (True, cdr.encode_key(value, rep, end))]
        for key_input, payload in inputs:
            scans = scanner is not None and scanner.scans(v2, key_input)
            assert scans == (not pure.decodes_instead(rep, key_input)), \
                f"the twins disagree on what they scan ({rep}, key payload: {key_input})"
            if not scans:
                continue
            run = scanner.key if key_input else scanner.data
            check = pure.from_key if key_input else pure
            assert run(payload) == check(payload) == hashed
            assert run(memoryview(payload)) == hashed
            for bad in _mutations(payload, rnd, 6):
                assert _outcome(run, bad) == _outcome(check, bad), bad.hex()
