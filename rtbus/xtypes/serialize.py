"""XCDR2 bytes of the XTypes builtin types (TypeIdentifier, TypeObject, TypeInformation,
TypeLookup messages), written and read by the main CDR codec.

Their hashes are MD5 sums of their XCDR2 bytes, so one wrong pad byte breaks
interoperability; having one codec for them and for user data means one set of layout rules
(:mod:`rtbus.cdr.plan`) and one fuzzed decoder for hostile input.

Decision (reshape issue, item 4): the builtin types use the main type model.
:mod:`rtbus.xtypes.wire_types` declares them in :mod:`rtbus.types.model` and :mod:`rtbus.cdr`
encodes and decodes them, compiled or pure Python like any user type. The model has every
feature they need: unions with several labels per branch and a default branch, recursion
(TypeIdentifier -> PlainSequenceSElemDefn -> TypeIdentifier; a plan is cached before its
members are planned), ``@mutable`` with explicit ids and ``@hashid``, ``@optional``, bounded
strings, octet arrays, and the 16-bit flag words as ``uint16``. The bytes were checked
against the dedicated XCDR2 codec that this module used to hold, with both executors: equal
for the 200 TypeObjects of ShapeType and the conformance corpus, for their TypeInformation,
and for TypeLookup requests and replies. Cyclone is the oracle in
``tests/conformance/test_xtypes_cyclone.py``.

What stays here is a conversion. The XTypes code (typeobject, typeinfo, typeid,
assignability, remote_model, lookup_messages) builds and reads plain Python data, and
:func:`encode` / :func:`decode` convert between that and the model's classes: a struct is a
``dict`` (member name -> value), a union a ``(discriminator, value)`` tuple (``value`` is None
for a discriminator without a branch), a sequence a ``list`` (``bytes`` for octets), an
absent optional None. The conversion is one Python walk per value, so a TypeObject's decode
plus encode still costs about 0.2 ms, as it did before. Having the XTypes code use the
classes directly would remove the conversion, but that means rewriting all of those
modules, so it is not done yet.

Decoding follows the main codec. A member missing from a shorter appendable struct, or
absent from a mutable one, reads as its default. Unknown mutable members are skipped. An
unknown must-understand member, bytes that do not decode, and nesting deeper than the codec's
limit raise :class:`~rtbus.errors.MalformedError`: TypeLookup samples come from the network.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .. import cdr
from ..cdr.encapsulation import identifier_for
from ..errors import DecodeError, MalformedError
from ..types import model as M
from ..types.pyclasses import materialize

_lock = threading.Lock()


def _classes(t: M.StructType | M.UnionType) -> None:
    """Give ``t`` and every type it reaches its Python class (once, on first use)."""
    if t.pyclass is None:
        with _lock:
            if t.pyclass is None:
                materialize([t])


def _top(t: M.IdlType) -> M.StructType | M.UnionType:
    t = M.resolve(t)
    if not isinstance(t, (M.StructType, M.UnionType)):
        raise TypeError(f"expected a struct or union of rtbus.xtypes.wire_types, got {t!r}")
    _classes(t)
    return t


def _to_sample(t: M.IdlType, v: Any) -> Any:
    """Plain data -> an instance of the model's class (values checked by the encoder)."""
    t = M.resolve(t)
    if isinstance(t, M.StructType):
        make = t.pyclass._rtbus_unchecked
        return make(*[None if (x := v.get(m.name)) is None else _to_sample(m.type, x)
                      for m in t.all_members()])
    if isinstance(t, M.UnionType):
        disc, inner = v
        case = t.case_for(disc)
        return t.pyclass._rtbus_unchecked(
            disc, None if case is None or inner is None else _to_sample(case.member.type, inner))
    if isinstance(t, (M.SequenceType, M.ArrayType)):
        el = M.resolve(t.element)
        if M.numeric_primitive(el):
            assert isinstance(el, M.PrimitiveType)
            if el.size == 1 and isinstance(v, (bytes, bytearray, memoryview)):
                return np.frombuffer(bytes(v), np.dtype(el.dtype))
            return np.asarray(v, np.dtype(el.dtype))
        return [_to_sample(el, x) for x in v]
    if t is M.CHAR and isinstance(v, bytes):
        return v.decode("latin-1")
    return v


def _to_plain(t: M.IdlType, v: Any) -> Any:
    """An instance the decoder made -> plain data."""
    t = M.resolve(t)
    if isinstance(t, M.StructType):
        return {m.name: None if (x := getattr(v, m.pyname)) is None else _to_plain(m.type, x)
                for m in t.all_members()}
    if isinstance(t, M.UnionType):
        case = t.case_for(v.discriminator)
        return (v.discriminator,
                None if case is None or v.value is None else _to_plain(case.member.type, v.value))
    if isinstance(t, (M.SequenceType, M.ArrayType)):
        el = M.resolve(t.element)
        if M.numeric_primitive(el):
            assert isinstance(el, M.PrimitiveType)
            return bytes(v) if el is M.OCTET or el is M.UINT8 else np.asarray(v).tolist()
        return [_to_plain(el, x) for x in v]
    if t is M.CHAR and isinstance(v, str):
        return v.encode("latin-1")
    return v


def encode(t: M.IdlType, value: Any) -> bytes:
    """XCDR2 little-endian bytes of ``value`` (plain data of type ``t``), without an
    encapsulation header. A value that does not fit raises ValueError (EncodeError)."""
    top = _top(t)
    data = cdr.encode(_to_sample(top, value), "XCDR2", "little")
    return data[4:len(data) - (data[3] & 3)]  # the header, and the padding it counts


def decode(t: M.IdlType, data: bytes | memoryview, little_endian: bool = True) -> Any:
    """Plain data of type ``t`` from XCDR2 bytes (no encapsulation header); trailing bytes
    are ignored. Bytes that do not decode raise MalformedError."""
    top = _top(t)
    header = identifier_for(top.extensibility, True, little_endian).to_bytes(2, "big")
    try:
        return _to_plain(top, cdr.decode(top, header + b"\0\0" + bytes(data)))
    except DecodeError as exc:
        raise MalformedError("xtypes_undecodable", str(exc)) from None
    except RecursionError:
        raise MalformedError("xtypes_too_deep", "nesting exceeds the recursion limit") from None


__all__ = ["decode", "encode"]
