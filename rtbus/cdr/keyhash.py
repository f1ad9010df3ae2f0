"""The KEYHASH form of a key and the 16-byte RTPS key hash (DDS-RTPS 2.5 9.6.4.8, XTypes 1.3 7.6.8).

The key hash is the big-endian serialization of the key members (Cyclone's "KEYHASH" form:
key members only, mutable types' keys in member-id order, no DHEADER/EMHEADER, nested
structs contribute their own key members, or all members if they have none), zero-padded
to 16 bytes, or the MD5 of the serialization itself (not padded: RTI Connext and current
Cyclone agree) when the key's MAXIMUM serialized size may exceed 16 bytes (unbounded
strings/sequences always do). Like Cyclone the encoding version is the data's
(XCDR2 unless asked otherwise), which only matters for 8-byte alignment, and the maximum
size follows cyclonedds-python's rule (a bounded string counts 4 + bound bytes).

The KEYHASH form is NOT what a DATA(K) (dispose/unregister) carries for appendable or
mutable types: that is the key-only SAMPLE form, with the DHEADERs/EMHEADERs of each struct
and mutable members in definition order; see :mod:`rtbus.cdr.keys` (``encode_key``,
``decode_key_payload``). The two coincide only when every struct on the way to a key member
is final.

Both forms and the hash are run by :func:`key_codec`: the compiled ``rtbus._ext.cdr.KeyCodec``
when present, else :class:`rtbus.cdr.pure.KeyCodec` (the twin parity tests hold it to).
"""

from __future__ import annotations

import hashlib
import logging
import operator
import struct
from collections.abc import Callable
from typing import Any

from .. import _ext
from ..types import model as M
from .plan import max_key_size as plan_max_key_size
from .pure import KeyCodec, _Writer, key_compiler, key_members_of

log = logging.getLogger("rtbus.cdr.keyhash")

_KEY_CACHE = "_rtbus_cdr_key"
_CODEC_ATTR = "_rtbus_cdr_key_codec"
_PURE_CODEC_ATTR = "_rtbus_cdr_key_codec_pure"


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


def key_codec(cls_or_model: Any) -> Any:
    """The key forms of a type (KEYHASH and key-only SAMPLE), compiled once and cached on
    the model: the compiled twin (``rtbus._ext.cdr.KeyCodec``) when it is importable and
    takes the type, else :class:`rtbus.cdr.pure.KeyCodec`; ``RTBUS_PURE_PYTHON=1`` forces the
    pure one. Both have the same methods and give the same bytes."""
    t = _model(cls_or_model)
    codec = t.__dict__.get(_CODEC_ATTR)
    if codec is not None:
        return codec
    ext = _ext.available("cdr")
    compile_key_codec = getattr(ext, "compile_key_codec", None)  # None: an older build
    if compile_key_codec is not None:
        try:
            codec = compile_key_codec(t)
        except NotImplementedError as exc:
            log.debug("compiled key codec does not handle %s (%s); using pure Python",
                      t.name, exc)
    if codec is None:
        codec = pure_key_codec(t)
    t.__dict__[_CODEC_ATTR] = codec
    return codec


def pure_key_codec(cls_or_model: Any) -> KeyCodec:
    """The pure-Python key codec of a type (cached): the reference twin, for parity tests."""
    t = _model(cls_or_model)
    codec = t.__dict__.get(_PURE_CODEC_ATTR)
    if codec is None:
        codec = t.__dict__[_PURE_CODEC_ATTR] = KeyCodec(t)
    return codec  # type: ignore[no-any-return]


def key_codec_backend(cls_or_model: Any) -> str:
    """``"compiled"`` or ``"pure"``: which twin the key functions use for this type."""
    return "pure" if isinstance(key_codec(cls_or_model), KeyCodec) else "compiled"


def serialize_key(sample: Any, representation: str = "XCDR2",
                  endianness: str = "big") -> bytes:
    """The KEYHASH-form serialization of a sample's key (no encapsulation header).

    What the key hash is computed over (with the defaults: XCDR2 alignment, big endian);
    not the payload of a dispose/unregister, which is :func:`rtbus.cdr.encode_key`.
    """
    codec = key_codec(type(sample))
    return codec.serialize(sample, representation == "XCDR2",  # type: ignore[no-any-return]
                           endianness == "little")


def decode_key(cls_or_model: Any, data: bytes | bytearray | memoryview,
               representation: str = "XCDR2", endianness: str = "big") -> Any:
    """A sample from the KEYHASH-form serialization of its key (no header; see
    :func:`serialize_key`); non-key members get default values. A DATA(K) payload is
    read with :func:`rtbus.cdr.decode_key_payload` instead."""
    return key_codec(cls_or_model).deserialize(data, representation == "XCDR2",
                                               endianness == "little")


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
    MD5 -- no model lookups on the way. With the compiled key codec that is one C call
    (``KeyCodec.hash``); else :func:`pure_key_hasher`."""
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
        codec = key_codec(t)
        if isinstance(codec, KeyCodec):
            fn = pure_key_hasher(t, representation)
        else:  # the compiled twin: encode and MD5 in one C call
            fn = codec.hash if xcdr2 else codec.hash_xcdr1
    cache[hkey] = fn
    return fn


def pure_key_hasher(cls_or_model: Any, representation: str = "XCDR2") -> Callable[[Any], bytes]:
    """The pure-Python ``sample -> key hash`` of a keyed type (the twin of the compiled one,
    for parity tests and where the compiled codec is absent): one ``struct`` pack for flat
    keys, the generic KEYHASH encoder otherwise."""
    t = _model(cls_or_model)
    xcdr2 = representation == "XCDR2"
    hashed = max_key_size(t, xcdr2) > 16
    return _flat_key_hasher(t, xcdr2, hashed) or _generic_key_hasher(t, xcdr2, hashed)


def _generic_key_hasher(t: Any, xcdr2: bool, hashed: bool) -> Callable[[Any], bytes]:
    enc, _ = _codecs(t, xcdr2, False)
    md5 = hashlib.md5

    def keyed(sample: Any) -> bytes:
        w = _Writer(0)
        enc(w, sample)
        key = bytes(w.buf)
        return md5(key).digest() if hashed else key.ljust(16, b"\0")
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
            key = be_u32(len(raw) + 1) + raw + b"\0"
            return md5(key).digest() if hashed else key.ljust(16, b"\0")
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
        key = pack(values) if single else pack(*values)
        return md5(key).digest() if hashed else key.ljust(16, b"\0")
    return numeric_key


def hash_of_serialized_key(model: Any, key: bytes, xcdr2: bool = True) -> bytes:
    """The key hash from a key's big-endian KEYHASH-form bytes: zero-padded to 16 bytes, or
    their MD5 (of the bytes as they are, not padded) when the type's key may serialize to
    more than 16 bytes."""
    if max_key_size(model, xcdr2) > 16:  # cached on the model by the plan
        return hashlib.md5(key).digest()
    return key.ljust(16, b"\0")


__all__ = ["key_hash", "key_hasher", "pure_key_hasher", "serialize_key", "decode_key",
           "max_key_size", "hash_of_serialized_key", "key_codec", "pure_key_codec",
           "key_codec_backend"]
