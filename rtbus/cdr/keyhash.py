"""The KEYHASH form of a key and the 16-byte RTPS key hash (DDS-RTPS 2.5 9.6.4.8, XTypes 1.3 7.6.8).

The key hash is the big-endian serialization of the key members (Cyclone's "KEYHASH" form:
key members only, mutable types' keys in member-id order, no DHEADER/EMHEADER, nested
structs contribute their own key members, or all members if they have none), zero-padded
to 16 bytes, or its MD5 when the key's MAXIMUM serialized size may exceed 16 bytes
(unbounded strings/sequences always do). Like Cyclone the encoding version is the data's
(XCDR2 unless asked otherwise), which only matters for 8-byte alignment, and the maximum
size follows cyclonedds-python's rule (a bounded string counts 4 + bound bytes).

The KEYHASH form is NOT what a DATA(K) (dispose/unregister) carries for appendable or
mutable types: that is the key-only SAMPLE form, with the DHEADERs/EMHEADERs of each struct
and mutable members in definition order; see :mod:`rtbus.cdr.keys` (``encode_key``,
``decode_key_payload``). The two coincide only when every struct on the way to a key member
is final.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Callable
from typing import Any

from ..types import model as M
from .plan import max_key_size as plan_max_key_size
from .pure import _Reader, _Writer, key_compiler, key_members_of

_KEY_CACHE = "_rtbus_cdr_key"


def _model(sample_or_model: Any) -> Any:
    t = getattr(sample_or_model, "__rtbus_type__", sample_or_model)
    return M.resolve(t)


def _codecs(t: Any, xcdr2: bool, little: bool) -> Any:
    cache = t.__dict__.setdefault(_KEY_CACHE, {})
    key = (xcdr2, little)
    if key not in cache:
        comp = key_compiler(xcdr2, little)
        cache[key] = (comp.enc(t), comp.dec(t))
    return cache[key]


def serialize_key(sample: Any, representation: str = "XCDR2",
                  endianness: str = "big") -> bytes:
    """The KEYHASH-form serialization of a sample's key (no encapsulation header).

    What the key hash is computed over (with the defaults: XCDR2 alignment, big endian);
    not the payload of a dispose/unregister, which is :func:`rtbus.cdr.encode_key`.
    """
    t = _model(type(sample))
    enc, _ = _codecs(t, representation == "XCDR2", endianness == "little")
    w = _Writer(0)
    enc(w, sample)
    return bytes(w.buf)


def decode_key(cls_or_model: Any, data: bytes | bytearray | memoryview,
               representation: str = "XCDR2", endianness: str = "big") -> Any:
    """A sample from the KEYHASH-form serialization of its key (no header; see
    :func:`serialize_key`); non-key members get default values. A DATA(K) payload is
    read with :func:`rtbus.cdr.decode_key_payload` instead."""
    t = _model(cls_or_model)
    _, dec = _codecs(t, representation == "XCDR2", endianness == "little")
    buf = data if isinstance(data, (bytes, bytearray)) else memoryview(data).cast("B")
    return dec(_Reader(buf, 0, len(buf)))


def max_key_size(model: Any, xcdr2: bool = True) -> float:
    """Upper bound of the KEYHASH-form size of the key (``math.inf`` if unbounded), as
    Cyclone computes it: see :func:`rtbus.cdr.plan.max_key_size`, which walks the plan."""
    return plan_max_key_size(_model(model), xcdr2)


def key_hash(sample: Any, representation: str = "XCDR2") -> bytes:
    """The 16-byte key hash of a sample (all zeros for a keyless type)."""
    return key_hasher(type(sample), representation)(sample)


def key_hasher(cls_or_model: Any, representation: str = "XCDR2") -> Callable[[Any], bytes]:
    """``sample -> key hash`` for one type, compiled once and cached on the model: the
    writer's per-write cost is one key encode and, for keys that may exceed 16 bytes, an
    MD5 -- no model lookups on the way."""
    t = _model(cls_or_model)
    cache = t.__dict__.setdefault(_KEY_CACHE, {})
    hkey = ("hasher", representation)
    fn = cache.get(hkey)
    if fn is not None:
        return fn  # type: ignore[no-any-return]
    xcdr2 = representation == "XCDR2"
    if isinstance(t, M.StructType) and not t.keyed:
        zero = bytes(16)

        def keyless(sample: Any) -> bytes:
            return zero
        fn = keyless
    else:
        hashed = max_key_size(t, xcdr2) > 16
        fn = _flat_key_hasher(t, xcdr2, hashed) or _generic_key_hasher(t, xcdr2, hashed)
    cache[hkey] = fn
    return fn


def _generic_key_hasher(t: Any, xcdr2: bool, hashed: bool) -> Callable[[Any], bytes]:
    enc, _ = _codecs(t, xcdr2, False)
    md5 = hashlib.md5

    def keyed(sample: Any) -> bytes:
        w = _Writer(0)
        enc(w, sample)
        key = bytes(w.buf).ljust(16, b"\0")
        return md5(key).digest() if hashed else key
    return keyed


_FLAT_FORMATS = frozenset("?bBhHiIqQfd")


def _flat_key_hasher(t: Any, xcdr2: bool, hashed: bool) -> Callable[[Any], bytes] | None:
    """The common keys as one call: a single string member (ShapeType's color), or top-level
    numeric members (one ``struct`` pack, padding laid out once). None for anything else,
    which the generic key encoder handles; ``test_cdr_keys`` checks both agree."""
    if not isinstance(t, M.StructType):
        return None
    members = key_members_of(t)
    if t.extensibility == "mutable":
        members = sorted(members, key=lambda m: m.id or 0)
    types = [M.resolve(m.type) for m in members]
    md5 = hashlib.md5
    if len(members) == 1 and isinstance(types[0], M.StringType) and not types[0].wide:
        name = members[0].name
        be_u32 = struct.Struct(">I").pack

        def string_key(sample: Any) -> bytes:
            raw = getattr(sample, name).encode()
            key = (be_u32(len(raw) + 1) + raw + b"\0").ljust(16, b"\0")
            return md5(key).digest() if hashed else key
        return string_key
    prims = [tp for tp in types if isinstance(tp, M.PrimitiveType) and tp.fmt in _FLAT_FORMATS]
    if not members or len(prims) != len(types):
        return None
    fmt, offset = ">", 0
    for tp in prims:
        align = min(tp.size, 4 if xcdr2 else 8)
        pad = -offset % align
        fmt += "x" * pad + tp.fmt
        offset += pad + tp.size
    pack = struct.Struct(fmt).pack
    get = operator.attrgetter(*(m.name for m in members))
    single = len(members) == 1

    def numeric_key(sample: Any) -> bytes:
        values = get(sample)
        key = (pack(values) if single else pack(*values)).ljust(16, b"\0")
        return md5(key).digest() if hashed else key
    return numeric_key


def hash_of_serialized_key(model: Any, key: bytes, xcdr2: bool = True) -> bytes:
    """The key hash from a key's big-endian KEYHASH-form bytes: zero-padded to 16 bytes, or
    the MD5 of that when the type's key may serialize to more than 16 bytes."""
    if max_key_size(model, xcdr2) > 16:  # cached on the model by the plan
        return hashlib.md5(key.ljust(16, b"\0")).digest()
    return key.ljust(16, b"\0")


__all__ = ["key_hash", "key_hasher", "serialize_key", "decode_key", "max_key_size",
           "hash_of_serialized_key"]
