"""Serialized keys on the wire (DATA(K) payloads) and key extraction from serialized samples.

A dispose or unregister (a DATA submessage with the K flag) carries the instance's key as a
payload of its own: an encapsulation header chosen like a sample's (by the type's
extensibility and the representation: CDR/PL_CDR in XCDR1, CDR2/D_CDR2/PL_CDR2 in XCDR2),
then the key-only SAMPLE form (XTypes 1.3 7.6.8; Cyclone's ``DDS_CDR_KEY_SERIALIZATION_SAMPLE``):
the type's regular serialization restricted to its key members, in definition order, each
struct keeping its own extensibility, so an appendable struct still has its DHEADER and a
mutable one its DHEADER and EMHEADERs (XCDR2) or parameter headers and sentinel (XCDR1). A
struct reached as a key member contributes its key members, or all its non-optional members
if it has none. For an ``@appendable struct { @key int16 k; ... }`` in XCDR2 little endian
that is ``00 09 00 02 | 02 00 00 00 | 0b 00 | 00 00`` (D_CDR2_LE, DHEADER 2, k=11, padding).

This differs from the KEYHASH form (:mod:`rtbus.cdr.keyhash`: no headers, mutable members by
member id) that the 16-byte key hash is computed over; the two agree only for types whose
key members sit in final structs, which is why a KEYHASH-form payload reads right in XCDR1
and wrong in XCDR2 for appendable types. Facts checked against Cyclone DDS 11: its C core
writes and reads this form (dds_stream_write_key / dds_stream_extract_key_from_key), and
cyclonedds-python sends the bytes of ``sample.serialize_key()`` (header included, options 0,
zero-padded to 4); we set the padding count in the options as for data
(:func:`rtbus.cdr.with_padding`), which every reader accepts.

:func:`key_extractor` compiles, once per type, the step the reader's instance lookup needs:
the key hash straight from a full serialized sample (or from a key-only payload), reading the
key members and skipping the others by their lengths, without building Python objects for
them. It walks the same layout plans (:mod:`rtbus.cdr.plan`) the codecs run: the input's
form (data or key-only sample) to read and skip, the KEYHASH form to re-encode the key. It
has two executors: the compiled ``rtbus._ext.cdr.KeyScanner`` (used when importable) and the
pure scanner here, which stays as the reference and the fallback; they make the same checks
in the same places and give the same hash, or both DecodeError, for any bytes
(tests/unit/test_compiled_keys.py). ``encode_key``/``decode_key_payload`` run the key codec
of :func:`rtbus.cdr.keyhash.key_codec` (compiled, or :class:`rtbus.cdr.pure.KeyCodec`).
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any, Callable

from .. import _ext
from ..errors import DecodeError, EncodeError
from ..types import model as M
from ..types.pyclasses import materialize
from . import plan as P
from . import pure
from .encapsulation import XCDR1_PID_EXTENDED as _PID_EXTENDED
from .encapsulation import XCDR1_PID_LIST_END as _PID_SENTINEL
from .encapsulation import XCDR1_PID_MASK as _PID_MASK
from .encapsulation import identifier_for, parse_header
from .keyhash import key_codec, max_key_size
from .pure import _ENCODE_FAILURES, _Reader, _Writer, default_value

_EXTRACTOR_CACHE = "_rtbus_cdr_key_extractor"
_ZEROS = [bytes(n) for n in range(16)]

Scan = Callable[[_Reader, list[Any]], None]
Skip = Callable[[_Reader], None]


def _model(cls_or_model: Any) -> Any:
    t = M.resolve(getattr(cls_or_model, "__rtbus_type__", cls_or_model))
    if not isinstance(t, (M.StructType, M.UnionType)):
        raise TypeError(f"expected an IDL struct/union class or model, got {cls_or_model!r}")
    if t.pyclass is None:
        materialize([t])
    return t


def _keyless(t: Any) -> bool:
    return isinstance(t, M.StructType) and not t.keyed


def _empty_key(t: Any, xcdr2: bool, little: bool) -> bytes:
    """The key of a keyless type is empty: the struct's headers around no members."""
    if xcdr2 and t.extensibility != "final":
        return b"\0\0\0\0"  # DHEADER 0
    if not xcdr2 and t.extensibility == "mutable":
        return struct.pack("<HH" if little else ">HH", pure.PID_SENTINEL_MU, 0)
    return b""


def encode_key(sample: Any, representation: str = "XCDR2", endianness: str = "little") -> bytes:
    """The payload of a dispose/unregister for ``sample``'s instance, as Cyclone sends it.

    Encapsulation header (by the type's extensibility and ``representation``, pad count in
    the options) + the key-only SAMPLE form of the key members; other members are ignored.
    """
    if representation not in ("XCDR1", "XCDR2"):
        raise EncodeError(f"representation {representation!r}: expected 'XCDR1' or 'XCDR2'")
    if endianness not in ("little", "big"):
        raise EncodeError(f"endianness {endianness!r}: expected 'little' or 'big'")
    t = _model(type(sample))
    xcdr2 = representation == "XCDR2"
    little = endianness == "little"
    if _keyless(t):
        ident = identifier_for(t.extensibility, xcdr2, little)
        data = bytes((ident >> 8, ident & 0xFF, 0, 0)) + _empty_key(t, xcdr2, little)
    else:
        data = key_codec(t).encode(sample, xcdr2, little)
    from . import with_padding  # the package's one padding rule (a late import: no cycle)
    return with_padding(data)


def _buffer(payload: Any) -> Any:
    return payload if isinstance(payload, (bytes, bytearray)) else memoryview(payload).cast("B")


def decode_key_payload(cls_or_model: Any, payload: bytes | bytearray | memoryview) -> Any:
    """The sample named by a dispose/unregister payload: key fields set, every other field
    at its default value. The header decides representation and endianness; bytes that do
    not decode raise :class:`rtbus.errors.DecodeError` (and nothing else)."""
    t = _model(cls_or_model)
    if _keyless(t):
        parse_header(_buffer(payload))
        return default_value(t)
    return key_codec(t).decode(payload)


def key_fields_only(sample: Any) -> Any:
    """A new sample of the same type with ``sample``'s key fields and every other field at
    its default value: what a dispose/unregister can tell about an instance (its key), so
    a reader hands out the same thing whether the key came on the wire or from an earlier
    sample of the instance."""
    t = _model(type(sample))
    if _keyless(t):
        return default_value(t)
    codec = key_codec(t)
    return codec.decode(codec.encode(sample, True, True))


# ---- key extraction ------------------------------------------------------------------------

def _fail(r: _Reader, what: str, at: int | None = None) -> DecodeError:
    return DecodeError(f"{what} (at payload offset {(r.pos if at is None else at) - 4})")


class _ScanCompiler:
    """Compiles a type into a scanner that fills a flat list of key values, for one mode.

    The key's leaves (non-struct key members, nested structs flattened) get one slot each,
    in KEYHASH order (mutable structs' members by member id); ``encs``/``defaults`` hold the
    KEYHASH encoder and the default value of each slot. The scanner walks the input in
    stream order: key leaves are decoded with the same decoders :func:`rtbus.cdr.decode`'s
    pure twin uses (so they validate and convert alike), other members are skipped by their
    sizes and lengths, and it stops after the last key member where nothing after it is
    needed. Bounds are checked on every step; the content of skipped members (UTF-8, enum
    literals, boolean bytes) is not: that is the decoder's job when the sample is read.

    ``key_input``: the input is a key-only SAMPLE-form payload (only key members present).
    """

    def __init__(self, xcdr2: bool, little: bool, key_input: bool) -> None:
        self.v2 = xcdr2
        self.maxal = 4 if xcdr2 else 8
        self.e = "<" if little else ">"
        self.key_input = key_input
        self.dc = (pure.key_compiler(xcdr2, little, form="sample") if key_input
                   else pure._Compiler(xcdr2, little))
        self.kc = pure.key_compiler(True, False)  # what key_hash serializes: XCDR2, big endian
        self.u32 = struct.Struct(self.e + "I").unpack_from
        self.encs: list[Callable[[_Writer, Any], None]] = []
        self.defaults: list[Any] = []
        self._skips: dict[int, Skip] = {}

    # ---- the slot tree ------------------------------------------------------------------
    def alloc(self, t: M.StructType, stack: frozenset[int] = frozenset()) -> dict[str, Any]:
        """Slots for the key leaves of ``t``, in KEYHASH order: pyname -> slot (a leaf) or
        (subtree, lo, hi) (a nested struct, whose leaves are slots lo..hi-1)."""
        tree: dict[str, Any] = {}
        kp = self.kc.plan(t)  # the KEYHASH form: what the key hash serializes
        assert isinstance(kp, P.StructPlan)
        for m in kp.members:
            node = m.node
            if isinstance(node, P.StructPlan):
                if id(node) in stack or len(stack) > 32:
                    raise NotImplementedError(f"recursive key member {m.name} of {t.name}")
                lo = len(self.encs)
                sub = self.alloc(node.model, stack | {id(node)})
                tree[m.pyname] = (sub, lo, len(self.encs))
            else:
                tree[m.pyname] = len(self.encs)
                if isinstance(node, P.StringPlan) and not node.wide:
                    self.encs.append(self._raw_string_enc())
                    self.defaults.append(b"")
                else:
                    self.encs.append(self.kc.enc_node(node))
                    self.defaults.append(pure._default_of(node))
        return tree

    def _raw_string_enc(self) -> Callable[[_Writer, Any], None]:
        pack = struct.Struct(">I").pack

        def enc_raw_string(w: _Writer, b: bytes) -> None:
            buf = w.buf
            pad = (w.origin - len(buf)) % 4
            if pad:
                buf += _ZEROS[pad]
            buf += pack(len(b) + 1)
            buf += b
            buf.append(0)
        return enc_raw_string

    def _leaf_reader(self, node: P.Node) -> Callable[[_Reader], Any]:
        """How a key leaf is read: primitives, strings, enums, bitmasks and numeric
        collections. Other key types (unions, collections of booleans or non-numeric
        elements) are left to the decoder: where the two codecs differ in what they accept,
        a key must not be read stricter than the active one reads it."""
        if isinstance(node, P.StringPlan) and not node.wide:
            return self._raw_string_dec()
        if isinstance(node, P.PrimPlan) and node.kind == "boolean":
            return self._bool_dec()
        if isinstance(node, (P.PrimSeqPlan, P.PrimArrayPlan)):
            if node.elem.kind == "boolean":
                raise NotImplementedError(f"key of type {node!r}")
        elif not isinstance(node, (P.PrimPlan, P.StringPlan, P.EnumPlan, P.BitmaskPlan)):
            raise NotImplementedError(f"key of type {node!r}")
        return self.dc.dec_node(node)

    @staticmethod
    def _bool_dec() -> Callable[[_Reader], bool]:
        """A key boolean as the compiled decoder reads it (any non-zero byte is true); the
        pure one refuses bytes other than 0 and 1, and a key must not be stricter than
        either."""
        def dec_bool(r: _Reader) -> bool:
            pos = r.pos
            if pos >= r.end:
                raise _fail(r, "truncated: boolean past the end")
            r.pos = pos + 1
            return r.buf[pos] != 0
        return dec_bool

    def _raw_string_dec(self) -> Callable[[_Reader], bytes]:
        """A key string's bytes without the NUL (KEYHASH re-encodes them as they came)."""
        u32 = self.u32

        def dec_raw_string(r: _Reader) -> bytes:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: string length past the end", pos)
            n = u32(r.buf, pos)[0]
            pos += 4
            if n == 0:
                raise _fail(r, "string length 0 (it must count the terminating NUL)", pos - 4)
            if n > r.end - pos:
                raise _fail(r, f"string length {n} runs past the end", pos - 4)
            if r.buf[pos + n - 1] != 0:
                raise _fail(r, "string is not NUL-terminated", pos + n - 1)
            r.pos = pos + n
            return bytes(r.buf[pos:pos + n - 1])
        return dec_raw_string

    # ---- struct scanners ----------------------------------------------------------------
    def scan(self, t: M.StructType, tree: dict[str, Any], tail: bool) -> Scan:
        """The scanner of ``t``; ``tail``: whether the caller reads on after this struct
        from the same position (so it must be skipped to its end)."""
        sp = self.dc.plan(t)  # the input's form: a full sample or a key-only one
        assert isinstance(sp, P.StructPlan)
        members = sp.members
        if sp.ext == "mutable":
            return self._scan_mutable(t, members, tree)
        delimited = sp.dheader
        last = max((i for i, m in enumerate(members) if m.pyname in tree), default=-1)
        keep = len(members) if (tail and not delimited) else last + 1
        steps: list[Scan] = []
        run: list[P.MemberPlan] = []  # consecutive skipped plain primitives, skipped at once

        def flush() -> None:
            if run:
                spans = P.run_layout(tuple(run), self.maxal).sizes
                steps.append(_as_scan(self._skip_run(spans, [m.pyname for m in run])))
                run.clear()

        for i, m in enumerate(members[:keep]):
            entry = tree.get(m.pyname)
            if entry is None:
                if not m.optional and isinstance(m.node, P.PrimPlan):
                    run.append(m)
                    continue
                flush()
                steps.append(_as_scan(self._skip_optional(m.name, m.node) if m.optional
                                      else self._skip_node(m.node)))
                continue
            flush()
            # a nested struct is skipped to its end only if someone reads on after it
            more = (any(mm.pyname in tree for mm in members[i + 1:keep])
                    or (tail and not delimited))
            steps.append(self._member_step(m, entry, more, reset=False))
        flush()
        if delimited:
            return self._delimited(steps)

        if len(steps) == 1:
            return steps[0]

        def scan_final(r: _Reader, out: list[Any]) -> None:
            for step in steps:
                step(r, out)
        return scan_final

    def _member_step(self, m: P.MemberPlan, entry: Any, tail: bool, reset: bool) -> Scan:
        if isinstance(entry, int):
            reader = self._leaf_reader(m.node)
            slot = entry

            def read_leaf(r: _Reader, out: list[Any]) -> None:
                out[slot] = reader(r)
            return read_leaf
        sub, lo, hi = entry
        assert isinstance(m.node, P.StructPlan)
        inner = self.scan(m.node.model, sub, tail)
        if not reset:
            return inner
        defaults = self.defaults

        def read_struct_again(r: _Reader, out: list[Any]) -> None:
            # a mutable parent may repeat a member: the decoder keeps the last one whole
            out[lo:hi] = defaults[lo:hi]
            inner(r, out)
        return read_struct_again

    def _delimited(self, steps: list[Scan]) -> Scan:
        """An XCDR2 appendable struct: members past its DHEADER's end keep their defaults."""
        u32 = self.u32

        def scan_appendable(r: _Reader, out: list[Any]) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: DHEADER past the end", pos)
            size = u32(r.buf, pos)[0]
            pos += 4
            if size > r.end - pos:
                raise _fail(r, f"DHEADER size {size} runs past the end", pos - 4)
            saved_end = r.end
            end = r.end = pos + size
            r.pos = pos
            for step in steps:
                if r.pos >= end:
                    break
                step(r, out)
            r.pos = end
            r.end = saved_end
        return scan_appendable

    def _scan_mutable(self, t: M.StructType, members: tuple[P.MemberPlan, ...],
                      tree: dict[str, Any]) -> Scan:
        by_id: dict[int, Scan | None] = {}
        for m in members:
            entry = tree.get(m.pyname)
            by_id[m.id & P.MEMBER_ID_MASK] = (None if entry is None else
                                               self._member_step(m, entry, False, reset=True))
        name = t.name
        u32 = self.u32
        if self.v2:
            def scan_mutable2(r: _Reader, out: list[Any]) -> None:
                pos = r.pos
                pos += (r.origin - pos) % 4
                if pos + 4 > r.end:
                    raise _fail(r, "truncated: DHEADER past the end", pos)
                size = u32(r.buf, pos)[0]
                pos += 4
                if size > r.end - pos:
                    raise _fail(r, f"DHEADER size {size} runs past the end", pos - 4)
                saved_end = r.end
                end = pos + size
                buf = r.buf
                while True:
                    pos += (r.origin - pos) % 4
                    if pos >= end:
                        break
                    if pos + 4 > end:
                        raise _fail(r, "truncated: EMHEADER past the end of the struct", pos)
                    em = u32(buf, pos)[0]
                    pos += 4
                    lc = (em >> 28) & 7
                    mid = em & 0x0FFFFFFF
                    body = pos
                    if lc < 4:
                        msize = 1 << lc
                    else:
                        if pos + 4 > end:
                            raise _fail(r, "truncated: NEXTINT past the end of the struct", pos)
                        nxt = u32(buf, pos)[0]
                        if lc == 4:
                            msize = nxt
                            body = pos + 4
                        else:
                            msize = 4 + nxt * (1, 1, 4, 8)[lc - 4]
                    if msize > end - body:
                        raise _fail(r, f"member {mid} of {name} (length {msize}) runs past "
                                       f"the end of the struct", pos - 4)
                    if mid in by_id:
                        step = by_id[mid]
                        if step is not None:
                            r.pos = body
                            r.end = body + msize
                            step(r, out)
                            r.end = saved_end
                    elif em >> 31:
                        raise _fail(r, f"unknown must-understand member id {mid} in {name}",
                                    pos - 4)
                    pos = body + msize
                r.pos = end
            return scan_mutable2

        hdr = struct.Struct(self.e + "HH").unpack_from
        ext = struct.Struct(self.e + "II").unpack_from

        def scan_mutable1(r: _Reader, out: list[Any]) -> None:
            pos = r.pos
            buf = r.buf
            saved_origin, saved_end = r.origin, r.end
            while True:
                pos += (saved_origin - pos) % 4
                if pos + 4 > saved_end:
                    raise _fail(r, f"truncated: parameter list of {name} has no sentinel", pos)
                pid, size = hdr(buf, pos)
                pos += 4
                flags_pid = pid & _PID_MASK
                if flags_pid == _PID_SENTINEL:
                    break
                mu = bool(pid & 0x4000)
                if flags_pid == _PID_EXTENDED:
                    if pos + 8 > saved_end:
                        raise _fail(r, "truncated: extended parameter header", pos)
                    mid_raw, size = ext(buf, pos)
                    pos += 8
                    mid = mid_raw & 0x0FFFFFFF
                    mu = bool(mid_raw & 0x40000000)
                else:
                    mid = flags_pid
                if size > saved_end - pos:
                    raise _fail(r, f"parameter {mid} of {name} (length {size}) runs past "
                                   f"the end", pos)
                if mid in by_id:
                    step = by_id[mid]
                    if step is not None:
                        r.origin = r.pos = pos
                        r.end = pos + size
                        try:
                            step(r, out)
                        finally:
                            r.origin, r.end = saved_origin, saved_end
                elif mu and flags_pid == _PID_EXTENDED:
                    raise _fail(r, f"unknown must-understand member id {mid} in {name}", pos)
                pos += size
            r.pos = pos
        return scan_mutable1

    # ---- skipping ------------------------------------------------------------------------
    # Skips run on the layout plan of the input's form (rtbus.cdr.plan, as the decoders do):
    # sizes, alignment, DHEADERs and runs are the plan's, not re-decided here.
    def skip(self, tp: M.IdlType) -> Skip:
        """Advance past one value of ``tp`` (bounds-checked, content not validated)."""
        return self._skip_node(self.dc.plan(tp))

    def _skip_node(self, n: P.Node) -> Skip:
        if not isinstance(n, (P.StructPlan, P.UnionPlan)):
            return self._compile_skip(n)
        # struct/union plans live on their model (stable ids) and may be recursive
        key = id(n)
        fn = self._skips.get(key)
        if fn is not None:
            return fn
        cell: list[Skip] = []
        self._skips[key] = lambda r: cell[0](r)
        fn = self._compile_skip(n)
        cell.append(fn)
        self._skips[key] = fn
        return fn

    def _fixed(self, size: int, align: int, what: str) -> Skip:
        def skip_fixed(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % align
            if pos + size > r.end:
                raise _fail(r, f"truncated: {what} needs {size} bytes", pos)
            r.pos = pos + size
        return skip_fixed

    def _compile_skip(self, n: P.Node) -> Skip:
        if isinstance(n, P.PrimPlan):
            return self._fixed(n.size, n.align, n.kind)
        if isinstance(n, P.EnumPlan):
            return self._fixed(n.size, n.align, f"enum {n.model.name}")
        if isinstance(n, P.BitmaskPlan):
            return self._fixed(n.size, n.align, f"bitmask {n.model.name}")
        if isinstance(n, P.StringPlan):
            return self._skip_string(n.wide)
        if isinstance(n, P.PrimSeqPlan):
            return self._skip_numseq(n)
        if isinstance(n, P.PrimArrayPlan):
            return self._fixed(n.length * n.elem.size, n.align, "array")
        if isinstance(n, P.ListSeqPlan):
            return self._skip_listseq(n)
        if isinstance(n, P.ListArrayPlan):
            return self._skip_listarr(n)
        if isinstance(n, P.StructPlan):
            return self._skip_struct(n)
        if isinstance(n, P.UnionPlan):
            return self._skip_union(n)
        raise NotImplementedError(f"cannot skip plan {n!r}")

    def _skip_string(self, wide: bool) -> Skip:
        u32 = self.u32

        def skip_string(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: string length past the end", pos)
            n = u32(r.buf, pos)[0]
            pos += 4
            if n > r.end - pos:
                raise _fail(r, f"string length {n} runs past the end", pos - 4)
            if wide:
                if n & 1:
                    raise _fail(r, f"wstring byte length {n} is odd", pos - 4)
            elif n == 0:
                raise _fail(r, "string length 0 (it must count the terminating NUL)", pos - 4)
            r.pos = pos + n
        return skip_string

    def _skip_numseq(self, t: P.PrimSeqPlan) -> Skip:
        esize = t.elem.size
        ea = t.elem.align
        bound = t.bound
        u32 = self.u32

        def skip_numseq(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: sequence length past the end", pos)
            n = u32(r.buf, pos)[0]
            pos += 4
            if bound is not None and n > bound:
                raise _fail(r, f"sequence length {n} exceeds its bound {bound}", pos - 4)
            if n:
                pos += (r.origin - pos) % ea
                if n * esize > r.end - pos:
                    raise _fail(r, f"sequence of {n} x {esize}-byte elements runs past "
                                   f"the end", pos)
                pos += n * esize
            r.pos = pos
        return skip_numseq

    def _skip_dheader(self) -> Skip:
        u32 = self.u32

        def skip_delimited(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: DHEADER past the end", pos)
            size = u32(r.buf, pos)[0]
            pos += 4
            if size > r.end - pos:
                raise _fail(r, f"DHEADER size {size} runs past the end", pos - 4)
            r.pos = pos + size
        return skip_delimited

    def _skip_listseq(self, t: P.ListSeqPlan) -> Skip:
        if t.dheader:
            return self._skip_dheader()
        el = self._skip_node(t.elem)
        bound = t.bound
        u32 = self.u32

        def skip_listseq(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, "truncated: sequence length past the end", pos)
            n = u32(r.buf, pos)[0]
            pos += 4
            if bound is not None and n > bound:
                raise _fail(r, f"sequence length {n} exceeds its bound {bound}", pos - 4)
            # every element takes a byte at least (the decoders' own, larger minimum sizes
            # differ between the two codecs: this bound is below both)
            if n > r.end - pos:
                raise _fail(r, f"sequence length {n} cannot fit in the {r.end - pos} bytes "
                               f"that remain", pos - 4)
            r.pos = pos
            for _ in range(n):
                el(r)
        return skip_listseq

    def _skip_listarr(self, t: P.ListArrayPlan) -> Skip:
        if t.dheader:
            return self._skip_dheader()
        el = self._skip_node(t.elem)
        count = t.length

        def skip_listarr(r: _Reader) -> None:
            for _ in range(count):
                el(r)
        return skip_listarr

    def _skip_run(self, spans: tuple[int, ...], names: list[str]) -> Skip:
        """Skip consecutive primitive members at once: their span (padding included) is
        precomputed for each start offset modulo the maximum alignment."""
        maxal = self.maxal

        def skip_run(r: _Reader) -> None:
            pos = r.pos
            nxt = pos + spans[(pos - r.origin) % maxal]
            if nxt > r.end:
                raise _fail(r, f"truncated: members {names} past the end", pos)
            r.pos = nxt
        return skip_run

    def _skip_optional(self, name: str, node: P.Node) -> Skip:
        inner = self._skip_node(node)
        if self.v2:
            def skip_opt2(r: _Reader) -> None:
                pos = r.pos
                if pos >= r.end:
                    raise _fail(r, f"truncated: presence flag of optional {name}")
                r.pos = pos + 1
                if r.buf[pos]:  # the compiled decoder takes any non-zero flag as present
                    inner(r)
            return skip_opt2
        hdr = struct.Struct(self.e + "HH").unpack_from
        u32 = self.u32

        def skip_opt1(r: _Reader) -> None:
            pos = r.pos
            pos += (r.origin - pos) % 4
            if pos + 4 > r.end:
                raise _fail(r, f"truncated: parameter header of optional {name}", pos)
            pid, size = hdr(r.buf, pos)
            pos += 4
            if pid & _PID_MASK == _PID_EXTENDED:
                if pos + 8 > r.end:
                    raise _fail(r, f"truncated: extended header of optional {name}", pos)
                size = u32(r.buf, pos + 4)[0]
                pos += 8
            if size > r.end - pos:
                raise _fail(r, f"optional {name} length {size} runs past the end", pos)
            r.pos = pos + size
        return skip_opt1

    def _skip_struct(self, t: P.StructPlan) -> Skip:
        if t.dheader:
            return self._skip_dheader()  # XCDR2 appendable or mutable: DHEADER-delimited
        if t.ext == "mutable":
            scan = self._scan_mutable(t.model, t.members, {})
            return lambda r: scan(r, [])
        steps: list[Skip] = []
        for step in t.steps:
            if isinstance(step, P.RunPlan):
                steps.append(self._skip_run(step.sizes, [m.pyname for m in step.members]))
            elif step.optional:
                steps.append(self._skip_optional(step.name, step.node))
            else:
                steps.append(self._skip_node(step.node))
        if len(steps) == 1:
            return steps[0]

        def skip_struct(r: _Reader) -> None:
            for step in steps:
                step(r)
        return skip_struct

    def _skip_union(self, t: P.UnionPlan) -> Skip:
        if t.dheader:
            return self._skip_dheader()
        label_of = self._label_reader(t.disc)
        branch: dict[int, Skip] = {}
        default: Skip | None = None
        for case in t.cases:
            fn = self._skip_node(case.node)
            for lab in case.labels:
                branch[lab] = fn
            if case.is_default:
                default = fn

        def skip_union(r: _Reader) -> None:
            fn = branch.get(label_of(r), default)
            if fn is not None:
                fn(r)
        return skip_union

    def _label_reader(self, d: P.Node) -> Callable[[_Reader], int]:
        """A union discriminator as the label that picks the branch, read as leniently as
        the compiled decoder reads it (a boolean is any non-zero byte, an enum any value)."""
        if isinstance(d, P.EnumPlan):
            size = d.size
            unpack = struct.Struct(self.e + {1: "B", 2: "H", 4: "i"}[size]).unpack_from
        elif isinstance(d, P.PrimPlan) and d.fmt not in ("?", "c", "f", "d"):
            size = d.size
            unpack = struct.Struct(self.e + d.fmt).unpack_from
        elif isinstance(d, P.PrimPlan) and d.kind in ("boolean", "char"):
            size = 1
            unpack = struct.Struct("?" if d.kind == "boolean" else "B").unpack_from
        else:
            raise NotImplementedError(f"union discriminator {d!r}")
        align = min(size, self.maxal)

        def read_label(r: _Reader) -> int:
            pos = r.pos
            pos += (r.origin - pos) % align
            if pos + size > r.end:
                raise _fail(r, f"truncated: discriminator needs {size} bytes", pos)
            r.pos = pos + size
            return int(unpack(r.buf, pos)[0])
        return read_label


def _as_scan(skip: Skip) -> Scan:
    def skip_member(r: _Reader, out: list[Any]) -> None:
        skip(r)
    return skip_member


def _compile_run(model: Any, mode: tuple[bool, bool, bool]) -> Callable[[Any], bytes] | None:
    """payload -> key hash for one (xcdr2, little, key_input) mode; None if the scanner does
    not take this type (it is then decoded and hashed). The header was checked by the caller."""
    try:
        comp = _ScanCompiler(*mode)
        tree = comp.alloc(model)
        scan = comp.scan(model, tree, tail=False)
    except NotImplementedError:
        return None
    encs, defaults = comp.encs, comp.defaults
    hashed = max_key_size(model, True) > 16  # as key_hash: XCDR2 sizes
    md5 = hashlib.md5
    name = model.name
    be_u32 = struct.Struct(">I").pack
    raw_string_enc = (encs[0] if len(encs) == 1 and type(defaults[0]) is bytes
                      and defaults[0] == b"" else None)

    def run(buf: Any) -> bytes:
        out = list(defaults)
        r = _Reader(buf, 4, len(buf))
        try:
            scan(r, out)
        except RecursionError:
            raise DecodeError("nesting too deep") from None
        except (struct.error, IndexError) as exc:
            raise DecodeError(f"truncated or malformed data near payload offset "
                              f"{r.pos - 4}: {exc}") from None
        if raw_string_enc is not None:  # the common case of one string key: no writer
            b = out[0]
            key = be_u32(len(b) + 1) + b + b"\0"
        else:
            w = _Writer(0)
            try:
                for enc, v in zip(encs, out, strict=True):
                    enc(w, v)
            except (EncodeError, *_ENCODE_FAILURES) as exc:
                raise DecodeError(f"key of {name} does not re-encode: {exc}") from None
            key = bytes(w.buf)
        if hashed:
            return md5(key).digest()
        return key.ljust(16, b"\0")
    return run


def _plain(payload: Any) -> bool:
    """Bytes-like input the runs can index directly (ints from [i]); others get cast."""
    t = type(payload)
    return t is bytes or t is bytearray or (t is memoryview and payload.format == "B"
                                            and payload.ndim == 1)


class KeyExtractor:
    """The key hash of a type's instances, straight from serialized bytes (see module doc).

    ``extractor(payload)`` reads a full serialized sample and ``extractor.from_key(payload)``
    a dispose/unregister's key-only payload (both with their encapsulation header, either
    representation and endianness); each returns the 16-byte key hash, equal to
    ``key_hash(decode(cls, payload))`` resp. ``key_hash(decode_key_payload(cls, payload))``
    whenever those succeed. Bytes that cannot be read raise DecodeError; a sample whose
    skipped members are malformed in content only (say a non-key string that is not UTF-8)
    still yields its key, and fails later when decoded.
    """

    def __init__(self, model: Any, backend: str | None = None) -> None:
        if backend not in (None, "compiled", "pure"):
            raise ValueError(f"backend {backend!r}: expected 'compiled', 'pure' or None")
        self.model = _model(model)
        self._keyless = _keyless(self.model)
        self._fallback = not isinstance(self.model, M.StructType)
        # the compiled twin (rtbus._ext.cdr.KeyScanner) where it takes the type; its None for
        # a payload's form sends that payload down the pure path below
        self._scanner: Any = None
        if backend != "pure" and not (self._keyless or self._fallback):
            self._scanner = _compiled_scanner(self.model, backend == "compiled")
        self.backend = "pure" if self._scanner is None else "compiled"
        # second header byte (identifier and endianness) -> compiled run, once compiled:
        # one dict lookup picks the mode on the hot path
        self._data_runs: dict[int, Callable[[Any], bytes]] = {}
        self._key_runs: dict[int, Callable[[Any], bytes]] = {}
        self._compiled: dict[tuple[bool, bool, bool], Callable[[Any], bytes] | None] = {}

    def __repr__(self) -> str:
        return f"KeyExtractor({self.model.name})"

    def _run_for(self, mode: tuple[bool, bool, bool]) -> Callable[[Any], bytes] | None:
        if mode not in self._compiled:
            self._compiled[mode] = (None if self._fallback or self._keyless
                                    else _compile_run(self.model, mode))
        return self._compiled[mode]

    def decodes_instead(self, representation: str = "XCDR2", key_payload: bool = False) -> bool:
        """True where this type's key is found by decoding the whole payload and hashing
        the sample (keys with unions or non-numeric collections, top-level unions), False
        where the compiled scanner reads it."""
        if self._keyless:
            return False
        if self._scanner is not None:
            return not self._scanner.scans(representation == "XCDR2", key_payload)
        return self._run_for((representation == "XCDR2", True, key_payload)) is None

    def __call__(self, payload: bytes | bytearray | memoryview) -> bytes:
        scanner = self._scanner
        if scanner is not None:
            key = scanner.data(payload)
            if key is not None:
                return key  # type: ignore[no-any-return]
            return self._extract(payload, False)
        if _plain(payload) and len(payload) >= 4 and not payload[0]:
            run = self._data_runs.get(payload[1])
            if run is not None:
                return run(payload)
        return self._extract(payload, False)

    def from_key(self, payload: bytes | bytearray | memoryview) -> bytes:
        scanner = self._scanner
        if scanner is not None:
            key = scanner.key(payload)
            if key is not None:
                return key  # type: ignore[no-any-return]
            return self._extract(payload, True)
        if _plain(payload) and len(payload) >= 4 and not payload[0]:
            run = self._key_runs.get(payload[1])
            if run is not None:
                return run(payload)
        return self._extract(payload, True)

    def _extract(self, payload: Any, key_input: bool) -> bytes:
        buf = _buffer(payload)
        n = len(buf)
        if n < 4:
            raise DecodeError(f"payload of {n} bytes is shorter than the 4-byte "
                              f"encapsulation header")
        ident = (buf[0] << 8) | buf[1]
        if buf[0] != 0 or ident > 0x0B or ident in (4, 5):
            raise DecodeError(f"unsupported encapsulation identifier 0x{ident:04x}; expected "
                              f"CDR/PL_CDR (0x0000-0x0003) or CDR2 (0x0006-0x000b)")
        if self._keyless:
            return bytes(16)
        run = self._run_for((ident >= 6, bool(ident & 1), key_input))
        if run is None:
            return self._slow(payload, key_input)
        (self._key_runs if key_input else self._data_runs)[ident] = run
        return run(buf)

    def _slow(self, payload: Any, key_input: bool) -> bytes:
        from . import decode, key_hash
        sample = decode_key_payload(self.model, payload) if key_input else decode(self.model,
                                                                                   payload)
        try:
            return key_hash(sample)
        except (EncodeError, *_ENCODE_FAILURES) as exc:
            raise DecodeError(f"key of {self.model.name} does not re-encode: {exc}") from None


def _compiled_scanner(model: Any, required: bool) -> Any:
    """The compiled key scanner of a keyed struct, or None (no compiled module, or a key it
    does not take: the pure scanner, or decoding, serves). ``required``: say why not."""
    ext = _ext.available("cdr")
    compile_scanner = getattr(ext, "compile_key_scanner", None)  # None: an older build
    if compile_scanner is None:
        if required:
            raise RuntimeError("the compiled key scanner (rtbus._ext.cdr) is not available")
        return None
    try:
        return compile_scanner(model)
    except NotImplementedError:
        if required:
            raise
        return None


def key_extractor(cls_or_model: Any) -> KeyExtractor:
    """The :class:`KeyExtractor` of a type (compiled once, kept on the type's model)."""
    t = _model(cls_or_model)
    ex = t.__dict__.get(_EXTRACTOR_CACHE)
    if ex is None:
        ex = t.__dict__[_EXTRACTOR_CACHE] = KeyExtractor(t)
    return ex  # type: ignore[no-any-return]


__all__ = ["encode_key", "decode_key_payload", "key_fields_only", "key_extractor",
           "KeyExtractor"]
