"""Hypothesis strategies: random valid sample values for any rtbus model.

``values_for(model)`` follows the codec's object protocol (numpy arrays for sequences and
arrays of numeric/boolean primitives, lists otherwise, IntEnum/IntFlag members, union
``discriminator``/``value``). Values stay inside what every implementation can carry:
chars are ASCII, strings have no NUL, bounded strings are ASCII so the bound counts bytes
and characters alike, floats are finite (NaN never compares equal).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from rtbus.types import model as M

MAX_UNBOUNDED = 6  # elements in an unbounded sequence; keeps examples small and fast

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12)


def _ascii(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=max_size)


def _prim(p: M.PrimitiveType) -> st.SearchStrategy[Any]:
    if p is M.BOOLEAN:
        return st.booleans()
    if p is M.CHAR:
        return st.characters(min_codepoint=1, max_codepoint=127)
    if p is M.FLOAT32:
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    if p is M.FLOAT64:
        return st.floats(allow_nan=False, allow_infinity=False)
    lo, hi = M.INT_RANGES[p.kind]
    return st.integers(lo, hi)


def _numeric(tp: M.IdlType) -> bool:
    return isinstance(tp, M.PrimitiveType) and tp is not M.CHAR


def _prim_array(p: M.PrimitiveType, shape: Any) -> st.SearchStrategy[Any]:
    dt = np.dtype(p.dtype)
    return st.lists(_prim(p), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda xs: np.array(xs, dtype=dt).reshape(shape))


def values_for(tp: M.IdlType, _memo: dict[int, Any] | None = None) -> st.SearchStrategy[Any]:
    """A strategy producing valid values of ``tp`` (struct/union models give instances)."""
    memo = {} if _memo is None else _memo
    tp = M.resolve(tp)
    key = id(tp)
    if key in memo:
        return memo[key]
    if isinstance(tp, (M.StructType, M.UnionType)):
        strat = st.deferred(lambda: _build(tp, memo))
        memo[key] = strat
        return strat
    return _build(tp, memo)


def _build(tp: Any, memo: dict[int, Any]) -> st.SearchStrategy[Any]:
    if isinstance(tp, M.PrimitiveType):
        return _prim(tp)
    if isinstance(tp, M.StringType):
        if tp.bound is not None:
            return _ascii(tp.bound)
        return _text
    if isinstance(tp, M.EnumType):
        cls = tp.pyclass
        return st.sampled_from([cls(lit.value) for lit in tp.literals])
    if isinstance(tp, M.BitmaskType):
        cls = tp.pyclass
        masks = [1 << f.position for f in tp.flags]
        return st.lists(st.sampled_from(masks), unique=True).map(lambda ms: cls(sum(ms)))
    if isinstance(tp, M.SequenceType):
        el = M.resolve(tp.element)
        hi = tp.bound if tp.bound is not None else MAX_UNBOUNDED
        if _numeric(el):
            dt = np.dtype(el.dtype)
            return st.lists(_prim(el), max_size=hi).map(lambda xs: np.array(xs, dtype=dt))
        return st.lists(values_for(el, memo), max_size=hi)
    if isinstance(tp, M.ArrayType):
        el = M.resolve(tp.element)
        if _numeric(el):
            return _prim_array(el, tp.dims)
        inner = values_for(el, memo)
        for d in reversed(tp.dims):
            inner = st.lists(inner, min_size=d, max_size=d)
        return inner
    if isinstance(tp, M.StructType):
        members = tp.all_members()
        parts = []
        for m in members:
            s = values_for(m.type, memo)
            parts.append(st.none() | s if m.optional else s)
        return st.tuples(*parts).map(lambda vals: tp.pyclass._rtbus_unchecked(*vals))
    if isinstance(tp, M.UnionType):
        return _union(tp, memo)
    raise TypeError(f"values_for: unsupported type {tp!r}")


def _disc_value(tp: M.UnionType, label: int) -> Any:
    disc = M.resolve(tp.discriminator)
    if isinstance(disc, M.EnumType):
        return disc.pyclass(label)
    if disc is M.CHAR:
        return chr(label)
    if disc is M.BOOLEAN:
        return bool(label)
    return label


def _union(tp: M.UnionType, memo: dict[int, Any]) -> st.SearchStrategy[Any]:
    options = []
    cls = tp.pyclass
    used = {lab for c in tp.cases for lab in c.labels}
    for case in tp.cases:
        val = values_for(case.member.type, memo)
        if case.is_default:
            label = tp.implicit_default()
            labels = [label] if label not in used else []
        else:
            labels = list(case.labels)
        for lab in labels:
            d = _disc_value(tp, lab)
            options.append(val.map(lambda v, d=d: cls._rtbus_unchecked(d, v)))
    if not any(c.is_default for c in tp.cases):
        free = tp.implicit_default()
        if free not in used:
            options.append(st.just(cls._rtbus_unchecked(_disc_value(tp, free), None)))
    return st.one_of(options)


__all__ = ["values_for", "MAX_UNBOUNDED"]
