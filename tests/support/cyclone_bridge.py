"""Bridge between cyclonedds-python declarations/values and rtbus models/values.

``model_for(cls)`` reads a cyclonedds ``IdlStruct``/``IdlUnion`` class (its extended type
hints and ``annotate`` annotations) and builds the equivalent rtbus model, materialized into
rtbus Python classes. ``to_cyclone``/``from_cyclone`` convert sample values both ways so a
test can hand the same value to both serializers and compare what each side decodes.

Value conventions on the rtbus side (the codec's object protocol): sequences and arrays of
numeric/boolean primitives are numpy arrays (arrays shaped by their dims); sequences/arrays
of anything else (char included) are (nested) lists; enums/bitmasks are the IntEnum/IntFlag
classes; unions carry ``discriminator``/``value``.
"""

from __future__ import annotations

from inspect import isclass
from typing import Any

import cyclonedds.idl.types as t
import numpy as np
from cyclonedds.idl import IdlBitmask, IdlEnum, IdlStruct, IdlUnion
from cyclonedds.idl._type_normalize import (
    WrapOpt,
    get_extended_type_hints,
    get_idl_annotations,
    get_idl_field_annotations,
)

from rtbus.types import model as M
from rtbus.types.pyclasses import materialize

_PRIMS: list[tuple[Any, M.PrimitiveType]] = [
    (t.int8, M.INT8), (t.int16, M.INT16), (t.int32, M.INT32), (t.int64, M.INT64),
    (t.uint8, M.UINT8), (t.uint16, M.UINT16), (t.uint32, M.UINT32), (t.uint64, M.UINT64),
    (t.byte, M.OCTET), (t.float32, M.FLOAT32), (t.float64, M.FLOAT64), (t.char, M.CHAR),
    (bool, M.BOOLEAN), (float, M.FLOAT64), (int, M.INT64),
]

_models: dict[Any, Any] = {}       # cyclone class -> rtbus named model
_cyclone_by_name: dict[str, Any] = {}  # rtbus scoped name -> cyclone class


def _scoped(cls: Any) -> str:
    return str(cls.__idl_typename__).replace(".", "::")


def _prim(tp: Any) -> M.PrimitiveType | None:
    for c, p in _PRIMS:
        if tp is c or tp == c:
            return p
    return None


def _convert(tp: Any) -> M.IdlType:
    p = _prim(tp)
    if p is not None:
        return p
    if tp is str:
        return M.StringType()
    if isinstance(tp, t.bounded_str):
        return M.StringType(bound=tp.max_length)
    if isinstance(tp, t.typedef):
        return M.AliasType(tp.name.replace(".", "::"), _convert(tp.subtype))
    if isinstance(tp, t.sequence):
        return M.SequenceType(_convert(tp.subtype), tp.max_length)
    if isinstance(tp, t.array):
        dims = [tp.length]
        sub = tp.subtype
        while isinstance(sub, t.array):
            dims.append(sub.length)
            sub = sub.subtype
        return M.ArrayType(_convert(sub), tuple(dims))
    if isclass(tp) and issubclass(tp, (IdlStruct, IdlUnion, IdlEnum, IdlBitmask)):
        return _named(tp)
    raise TypeError(f"bridge: unsupported cyclonedds type {tp!r}")


def _named(cls: Any) -> Any:
    if cls in _models:
        return _models[cls]
    name = _scoped(cls)
    ann = get_idl_annotations(cls)
    model: Any
    if issubclass(cls, IdlEnum):
        default_value = getattr(cls, "__idl_enum_default_value__", None)
        first = next(iter(cls)).value
        lits = [M.EnumLiteral(e.name, e.value, default=(e.value == default_value
                                                        and default_value != first))
                for e in cls]
        model = M.EnumType(name, lits, bit_bound=ann.get("bit_bound", 32))
    elif issubclass(cls, IdlBitmask):
        flags = [M.BitFlag(n, pos) for n, pos in cls.__idl_positions__.items()]
        model = M.BitmaskType(name, flags, bit_bound=ann.get("bit_bound", 32))
    elif issubclass(cls, IdlStruct):
        model = M.StructType(name, extensibility=ann.get("extensibility", "final"),
                             autoid=ann.get("autoid", "sequential"))
        _models[cls] = model
        fann = get_idl_field_annotations(cls)
        keylist = ann.get("keylist") or [n for n, a in fann.items() if "key" in a]
        for fname, ftype in get_extended_type_hints(cls).items():
            fa = fann.get(fname, {})
            optional = isinstance(ftype, WrapOpt)
            inner = ftype.inner if optional else ftype
            mem = M.Member(fname, _convert(inner), key=fname in keylist, optional=optional,
                           external=bool(fa.get("external", False)),
                           must_understand=bool(fa.get("must_understand", False)),
                           id=fa.get("id"))
            if "hash_id" in fa:
                mem.hashid = fa["hash_id"] or ""
            model.members.append(mem)
        M.finalize_member_ids(model)
    elif issubclass(cls, IdlUnion):
        disc_tp = cls.__idl_discriminator__
        disc = _convert(disc_tp)
        model = M.UnionType(name, disc, extensibility=ann.get("extensibility", "final"),
                            key_discriminator=bool(getattr(cls, "__idl_discriminator_is_key__",
                                                           False)))
        _models[cls] = model
        mid = 0
        for fname, holder in get_extended_type_hints(cls).items():
            mid += 1
            if isinstance(holder, t.default):
                model.cases.append(M.UnionCase([], M.Member(fname, _convert(holder.subtype),
                                                            id=mid), is_default=True))
            else:
                labels = [_label_int(lab) for lab in holder.labels]
                model.cases.append(M.UnionCase(labels, M.Member(fname, _convert(holder.subtype),
                                                                id=mid)))
    else:  # pragma: no cover
        raise TypeError(f"bridge: {cls!r} is not a cyclonedds IDL class")
    _models[cls] = model
    _cyclone_by_name[name] = cls
    return model


def _label_int(label: Any) -> int:
    if isinstance(label, str):
        return ord(label)
    if isinstance(label, IdlEnum):
        return int(label.value)
    return int(label)


def model_for(cls: Any) -> Any:
    """The rtbus model (with ``pyclass`` materialized) of a cyclonedds struct/union class."""
    model = _named(cls)
    if model.pyclass is None:
        materialize([m for m in _models.values()])
    return model


def cyclone_class(model: Any) -> Any:
    return _cyclone_by_name[M.resolve(model).name]


# ---- values -----------------------------------------------------------------------------

def _is_numeric_prim(tp: M.IdlType) -> bool:
    return isinstance(tp, M.PrimitiveType) and tp is not M.CHAR


def to_cyclone(value: Any, tp: M.IdlType) -> Any:
    """An rtbus value of type ``tp`` as the cyclonedds value of the bridged class."""
    tp = M.resolve(tp)
    if isinstance(tp, M.PrimitiveType):
        if tp is M.BOOLEAN:
            return bool(value)
        if tp in (M.FLOAT32, M.FLOAT64):
            return float(value)
        if tp is M.CHAR:
            return str(value)
        return int(value)
    if isinstance(tp, M.StringType):
        return str(value)
    if isinstance(tp, M.EnumType):
        return cyclone_class(tp)(int(value))
    if isinstance(tp, M.BitmaskType):
        return cyclone_class(tp).from_mask(int(value))
    if isinstance(tp, M.SequenceType):
        return [to_cyclone(v, tp.element) for v in value]
    if isinstance(tp, M.ArrayType):
        el = M.resolve(tp.element)
        flat = _flatten(value, len(tp.dims))
        conv = [to_cyclone(v, el) for v in flat]
        if el in (M.UINT8, M.OCTET) and len(tp.dims) == 1:
            return bytes(conv)
        return _nest(conv, tp.dims)
    if isinstance(tp, M.StructType):
        cls = cyclone_class(tp)
        kw = {}
        for m in tp.all_members():
            v = getattr(value, m.pyname)
            kw[m.name] = None if (m.optional and v is None) else to_cyclone(v, m.type)
        return cls(**kw)
    if isinstance(tp, M.UnionType):
        cls = cyclone_class(tp)
        d = _label_int(value.discriminator)
        case = tp.case_for(d)
        disc = _disc_to_cyclone(d, tp)
        v = to_cyclone(value.value, case.member.type) if case is not None else None
        return cls(discriminator=disc, value=v)
    raise TypeError(f"to_cyclone: {tp!r}")


def _disc_to_cyclone(d: int, tp: M.UnionType) -> Any:
    disc = M.resolve(tp.discriminator)
    if disc is M.CHAR:
        return chr(d)
    if disc is M.BOOLEAN:
        return bool(d)
    if isinstance(disc, M.EnumType):
        return cyclone_class(disc)(d)
    return d


def _flatten(value: Any, ndim: int) -> list[Any]:
    if isinstance(value, np.ndarray):
        return list(value.reshape(-1))
    out = list(value)
    for _ in range(ndim - 1):
        out = [x for sub in out for x in sub]
    return out


def _nest(flat: list[Any], dims: tuple[int, ...]) -> Any:
    for d in reversed(dims[1:]):
        flat = [flat[i:i + d] for i in range(0, len(flat), d)]
    return flat


def from_cyclone(value: Any, tp: M.IdlType) -> Any:
    """A cyclonedds value as the rtbus value (numpy for primitive collections)."""
    tp = M.resolve(tp)
    if isinstance(tp, M.PrimitiveType):
        if tp is M.CHAR:
            return value if isinstance(value, str) else chr(value)
        if tp is M.BOOLEAN:
            return bool(value)
        return value
    if isinstance(tp, M.StringType):
        return value
    if isinstance(tp, M.EnumType):
        return tp.pyclass(value.value if isinstance(value, IdlEnum) else int(value))
    if isinstance(tp, M.BitmaskType):
        return tp.pyclass(value.as_mask())
    if isinstance(tp, M.SequenceType):
        el = M.resolve(tp.element)
        if _is_numeric_prim(el):
            return np.array(list(value), dtype=np.dtype(el.dtype))
        return [from_cyclone(v, el) for v in value]
    if isinstance(tp, M.ArrayType):
        el = M.resolve(tp.element)
        if isinstance(value, (bytes, bytearray)):
            flat = list(value)
        else:
            flat = _flatten(value, len(tp.dims))
        if _is_numeric_prim(el):
            return np.array(flat, dtype=np.dtype(el.dtype)).reshape(tp.dims)
        return _nest([from_cyclone(v, el) for v in flat], tp.dims)
    if isinstance(tp, M.StructType):
        vals = []
        for m in tp.all_members():
            v = getattr(value, m.name)
            vals.append(None if (m.optional and v is None) else from_cyclone(v, m.type))
        return tp.pyclass._rtbus_unchecked(*vals)
    if isinstance(tp, M.UnionType):
        d, v = value.get()
        disc = M.resolve(tp.discriminator)
        if d is None:
            raise ValueError("cyclone union without discriminator")
        di = _label_int(d) if not isinstance(d, bool) else int(d)
        case = tp.case_for(di)
        if isinstance(disc, M.EnumType):
            dval: Any = disc.pyclass(di)
        elif disc is M.CHAR:
            dval = chr(di)
        elif disc is M.BOOLEAN:
            dval = bool(di)
        else:
            dval = di
        return tp.pyclass._rtbus_unchecked(
            dval, from_cyclone(v, case.member.type) if case is not None else None)
    raise TypeError(f"from_cyclone: {tp!r}")


def has_unselected_union(value: Any, tp: M.IdlType) -> bool:
    """True if ``value`` holds a union whose discriminator selects no branch.

    Cyclone's Python deserializer of appendable unions replaces such a discriminator with its
    own default discriminator, so value comparisons must skip them (bytes still compare).
    """
    tp = M.resolve(tp)
    if isinstance(tp, M.UnionType):
        case = tp.case_for(_label_int(value.discriminator))
        if case is None:
            return True
        return has_unselected_union(value.value, case.member.type)
    if isinstance(tp, M.StructType):
        return any(getattr(value, m.pyname) is not None
                   and has_unselected_union(getattr(value, m.pyname), m.type)
                   for m in tp.all_members())
    if isinstance(tp, (M.SequenceType, M.ArrayType)):
        el = M.resolve(tp.element)
        if isinstance(el, (M.StructType, M.UnionType, M.SequenceType, M.ArrayType)):
            n = len(tp.dims) if isinstance(tp, M.ArrayType) else 1
            return any(has_unselected_union(v, el) for v in _flatten(value, n))
    return False


__all__ = ["model_for", "cyclone_class", "to_cyclone", "from_cyclone", "has_unselected_union"]
