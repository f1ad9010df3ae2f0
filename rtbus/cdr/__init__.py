"""XCDR1/XCDR2 serialization of samples (the RTPS SerializedPayload), keys and key hashes.

Keys come in two forms: ``encode_key``/``decode_key_payload`` (:mod:`rtbus.cdr.keys`) are
the payload of a dispose/unregister (DATA(K)), header included, as Cyclone sends it;
``serialize_key``/``decode_key`` (:mod:`rtbus.cdr.keyhash`) are the header-less KEYHASH form
``key_hash`` is computed over. ``key_extractor(cls)`` gets the key hash straight from the
bytes of either payload.

The key functions pick their twin as ``encode``/``decode`` do (below): the compiled key
codec and key scanner of ext/cdr.pyx, else the pure ones, which also serve where the
compiled ones decline a type (:func:`rtbus.cdr.keyhash.key_codec`, ``KeyExtractor.backend``).

``encode``/``decode`` pick a backend per type: the compiled twin (``rtbus._ext.cdr``, built
from ext/cdr.pyx) when it is importable and handles the type, else the pure-Python codec in
:mod:`rtbus.cdr.pure`; ``RTBUS_PURE_PYTHON=1`` forces the pure one. Each type is compiled
once; the codec is cached on the model object (``model.__dict__``), so it lives as long as
the type does.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Literal

from .. import _ext
from ..errors import EncodeError
from ..types import model as M
from . import pure
from .encapsulation import Encapsulation, parse_header
from .keyhash import decode_key, key_hash, key_hasher, serialize_key
from .keys import (
    KeyExtractor,
    decode_key_payload,
    encode_key,
    key_extractor,
    key_fields_only,
)

log = logging.getLogger("rtbus.cdr")

Representation = Literal["XCDR1", "XCDR2"]
Endianness = Literal["little", "big"]

_CACHE_ATTR = "_rtbus_cdr_codec"
# class -> codec, for the hot path (a weak map: generated classes may come and go)
_BY_CLASS: weakref.WeakKeyDictionary[type, Any] = weakref.WeakKeyDictionary()
_PURE_ATTR = "_rtbus_cdr_pure"


def _model_of(cls_or_model: Any) -> Any:
    t = getattr(cls_or_model, "__rtbus_type__", cls_or_model)
    t = M.resolve(t)
    if not isinstance(t, (M.StructType, M.UnionType)):
        raise TypeError(f"expected an IDL struct/union class or model, got {cls_or_model!r}")
    return t


def pure_codec(model: Any) -> pure.Codec:
    """The pure-Python codec of a type (compiled once, cached): for parity tests."""
    t = _model_of(model)
    codec = t.__dict__.get(_PURE_ATTR)
    if codec is None:
        codec = pure.compile_codec(t)
        t.__dict__[_PURE_ATTR] = codec
    return codec


def _codec(t: Any) -> Any:
    codec = t.__dict__.get(_CACHE_ATTR)
    if codec is not None:
        return codec
    ext = _ext.available("cdr")
    if ext is not None:
        try:
            codec = ext.compile_codec(t)
            t.__dict__[_CACHE_ATTR + "_backend"] = "compiled"
        except NotImplementedError as exc:
            log.debug("compiled codec does not handle %s (%s); using pure Python", t.name, exc)
            codec = None
    if codec is None:
        codec = pure_codec(t)
        t.__dict__[_CACHE_ATTR + "_backend"] = "pure"
    t.__dict__[_CACHE_ATTR] = codec
    return codec


def backend_for(model: Any) -> str:
    """``"compiled"`` or ``"pure"``: which codec ``encode``/``decode`` use for this type."""
    t = _model_of(model)
    _codec(t)
    return str(t.__dict__[_CACHE_ATTR + "_backend"])


def encode(sample: Any, representation: Representation = "XCDR2",
           endianness: Endianness = "little") -> bytes:
    """Serialize a sample: 4-byte encapsulation header + XCDR1/XCDR2 body."""
    if representation not in ("XCDR1", "XCDR2"):
        raise EncodeError(f"representation {representation!r}: expected 'XCDR1' or 'XCDR2'")
    if endianness not in ("little", "big"):
        raise EncodeError(f"endianness {endianness!r}: expected 'little' or 'big'")
    codec = _BY_CLASS.get(type(sample))
    if codec is None:
        codec = _BY_CLASS[type(sample)] = _codec(_model_of(type(sample)))
    data: bytes = codec.encode(sample, representation == "XCDR2", endianness == "little")
    return with_padding(data)


def with_padding(data: bytes) -> bytes:
    """Pad a payload to a multiple of 4 and record the pad count in the options, as Cyclone.

    XTypes 1.3 7.6.3.1.2: the two least significant bits of the options (a big-endian
    16-bit field) hold the number of padding bytes after the serialized data. Cyclone's C
    core writes them (and strips that many bytes on receipt); the backends' raw ``encode``
    leaves them 0 like cyclonedds-python, so both backends stay byte-comparable.
    """
    pad = -len(data) & 3
    if not pad:
        return data
    return b"".join((data[:3], _PAD_OPTION[pad], data[4:], _ZERO_PAD[pad]))


_PAD_OPTION = [bytes((n,)) for n in range(4)]
_ZERO_PAD = [bytes(n) for n in range(4)]


def decode(cls_or_model: Any, data: bytes | bytearray | memoryview) -> Any:
    """Deserialize a payload (with header; the header decides version and endianness).

    Numeric sequences/arrays come back as read-only numpy views of ``data``.
    """
    codec = _BY_CLASS.get(cls_or_model)
    if codec is None:
        codec = _codec(_model_of(cls_or_model))
        if isinstance(cls_or_model, type):
            _BY_CLASS[cls_or_model] = codec
    return codec.decode(data)


__all__ = ["encode", "decode", "with_padding", "key_hash", "key_hasher", "serialize_key",
           "decode_key",
           "encode_key", "decode_key_payload", "key_fields_only", "key_extractor", "KeyExtractor",
           "backend_for", "pure_codec", "Encapsulation", "parse_header", "Representation",
           "Endianness"]
