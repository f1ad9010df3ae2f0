# cython: language_level=3
"""Compiled XCDR1/XCDR2 codec: an interpreter over a per-type plan of cdef nodes.

Why an interpreter and not generated C: user types appear at run time (IDL loaded by the
application, TypeObjects learnt from remote peers) and we cannot invoke a C compiler then.
So ``compile_codec(model)`` turns the type's layout plan (:mod:`rtbus.cdr.plan`, the same
plan the pure-Python twin runs, one per XCDR version) into a tree of small cdef-class nodes
(one per struct, member type, sequence, ...) whose ``enc``/``dec`` methods are C functions
called through a vtable: no Python frame per field, member attributes fetched with
pre-interned names, primitives packed straight into a C buffer, and numeric sequences moved
with a single memcpy (encode) or exposed as a numpy view of the input (decode, zero copy).
Every layout decision (sizes, alignment, DHEADERs, member ids, EMHEADER words) is read from
the plan; this module only executes it.

Wire rules follow Cyclone DDS (cyclonedds-python serializer as oracle):
- alignment is relative to the payload start after the 4-byte encapsulation header;
  XCDR1 aligns up to 8, XCDR2 up to 4. Encapsulation options are written as 0.
- XCDR1: final and appendable are plain CDR; mutable is PL_CDR with extended parameter
  headers (PID_EXTENDED|M 0x7f01, length 8, member id, length) whose length includes the
  padding to 4, closed by PID_SENTINEL|M 0x7f02; alignment restarts at each parameter body.
  Optional members of non-mutable structs carry the same extended header (length 0 when
  absent, unpadded otherwise).
- XCDR2: appendable structs/unions get a DHEADER; mutable structs a DHEADER and an EMHEADER
  per present member with the length codes Cyclone picks (LC 0-3 fixed, 5 for strings and
  DHEADER'd collections, 6/7 for 4/8-byte primitive sequences, 4 with NEXTINT otherwise);
  optional members of non-mutable structs are preceded by a boolean flag; sequences and
  arrays of non-primitive elements get a DHEADER; enums take 1/2/4 bytes by bit_bound.

Numeric arrays decoded from a payload are views of it: they keep the input object alive and
see any later change to it, so a caller that recycles receive buffers must copy first.

The key forms run the same way: ``KeyCodec`` executes the plans' key-only forms (the key-only
SAMPLE form of a DATA(K), the KEYHASH form the key hash is computed over, then the hash with
an MD5 in C), and ``KeyScanner`` gets the key hash straight from a payload's bytes, reading
the key members and skipping the others (the twin of rtbus.cdr.keys' scanner, check for
check). What other compiled modules may call without a Python frame is declared in
ext/cdr.pxd.

Decoding treats its input as hostile: every read is bounds checked, every length is checked
against the bytes that remain before anything is allocated, delimited sections confine their
members, and nesting depth is limited; failures raise ``DecodeError`` naming the offset.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_C_CONTIGUOUS
from cpython.object cimport PyObject, PyObject_GetAttr, PyObject_Call
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeUTF8, PyUnicode_InternFromString
from libc.string cimport memcpy, memset
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int8_t, int16_t, int32_t, int64_t

import sys
from enum import IntEnum, IntFlag

import numpy as np

from rtbus.cdr import plan as P
from rtbus.cdr.pure import default_value
from rtbus.errors import DecodeError, EncodeError
from rtbus.types import model as M
from rtbus.types.pyclasses import materialize

cdef extern from *:
    """
    /* what object.__new__(cls) does for a plain __slots__ class: allocate, no __init__ */
    static PyObject* rt_new_instance(PyObject* cls) {
        PyTypeObject* tp = (PyTypeObject*)cls;
        return tp->tp_alloc(tp, 0);
    }
    """
    object rt_new_instance(object cls)

from cpython.object cimport PyObject_SetAttr

cdef extern from *:
    """
    /* MD5 (RFC 1321) of a short key: the RTPS key hash of a key that may exceed 16 bytes.
       In C because hashlib's call and object cost more than the hash of one block. */
    static const uint32_t rt_md5_k[64] = {
        0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au,
        0xa8304613u, 0xfd469501u, 0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu,
        0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u, 0xf61e2562u, 0xc040b340u,
        0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
        0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u,
        0x676f02d9u, 0x8d2a4c8au, 0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu,
        0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u, 0x289b7ec6u, 0xeaa127fau,
        0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
        0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u,
        0xffeff47du, 0x85845dd1u, 0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u,
        0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u};
    static const unsigned char rt_md5_r[64] = {
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

    static void rt_md5_block(uint32_t h[4], const unsigned char* p) {
        uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];
        for (int i = 0; i < 16; i++)
            m[i] = (uint32_t)p[4 * i] | ((uint32_t)p[4 * i + 1] << 8)
                   | ((uint32_t)p[4 * i + 2] << 16) | ((uint32_t)p[4 * i + 3] << 24);
        for (int i = 0; i < 64; i++) {
            uint32_t f; int g;
            if (i < 16) { f = (b & c) | (~b & d); g = i; }
            else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
            else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
            else { f = c ^ (b | ~d); g = (7 * i) & 15; }
            uint32_t t = d;
            d = c;
            c = b;
            uint32_t x = a + f + rt_md5_k[i] + m[g];
            b = b + ((x << rt_md5_r[i]) | (x >> (32 - rt_md5_r[i])));
            a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    }

    static void rt_md5(const unsigned char* msg, size_t n, unsigned char out[16]) {
        uint32_t h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
        unsigned char tail[128];
        size_t full = n & ~(size_t)63, rest = n - full, tlen;
        uint64_t bits = (uint64_t)n * 8;
        for (size_t off = 0; off < full; off += 64)
            rt_md5_block(h, msg + off);
        memcpy(tail, msg + full, rest);
        tail[rest] = 0x80;
        tlen = rest < 56 ? 64 : 128;
        memset(tail + rest + 1, 0, tlen - rest - 1 - 8);
        for (int i = 0; i < 8; i++)
            tail[tlen - 8 + i] = (unsigned char)(bits >> (8 * i));
        rt_md5_block(h, tail);
        if (tlen == 128)
            rt_md5_block(h, tail + 64);
        for (int i = 0; i < 4; i++) {
            out[4 * i] = (unsigned char)h[i];
            out[4 * i + 1] = (unsigned char)(h[i] >> 8);
            out[4 * i + 2] = (unsigned char)(h[i] >> 16);
            out[4 * i + 3] = (unsigned char)(h[i] >> 24);
        }
    }
    """
    void rt_md5(const unsigned char* msg, size_t n, unsigned char* out) nogil

cdef bint NATIVE_LITTLE = sys.byteorder == "little"


cdef bint _immutable(object v):
    return v is None or type(v) in (bool, int, float, str) or isinstance(v, (IntEnum, IntFlag))

# primitive kinds
cdef enum:
    K_BOOL = 1
    K_OCTET
    K_CHAR
    K_WCHAR
    K_I8
    K_U8
    K_I16
    K_U16
    K_I32
    K_U32
    K_I64
    K_U64
    K_F32
    K_F64

cdef dict KIND_OF = {
    "boolean": K_BOOL, "octet": K_OCTET, "char": K_CHAR, "wchar": K_WCHAR, "int8": K_I8,
    "uint8": K_U8, "int16": K_I16, "uint16": K_U16, "int32": K_I32, "uint32": K_U32,
    "int64": K_I64, "uint64": K_U64, "float32": K_F32, "float64": K_F64,
}

# ------------------------------------------------------------------------------------------
# buffers

cdef extern from "Python.h":
    # the output is built inside a bytes object, resized in place: no final copy
    PyObject* rt_bytes_new "PyBytes_FromStringAndSize" (const char* v, Py_ssize_t n) except NULL
    char* rt_bytes_data "PyBytes_AS_STRING" (PyObject* o)
    int _PyBytes_Resize(PyObject** o, Py_ssize_t n) except -1
    void Py_DECREF(PyObject* o)


cdef int w_open(WBuf* w, Py_ssize_t cap, bint xcdr2, bint little, Py_ssize_t origin) except -1:
    """Start writing into a new bytes object of ``cap`` bytes (it grows as needed)."""
    w.obj = NULL
    if cap < 16:
        cap = 16
    w.obj = rt_bytes_new(NULL, cap)
    w.data = <unsigned char*>rt_bytes_data(w.obj)
    w.cap = cap
    w.pos = 0
    w.origin = origin
    w.swap = little != NATIVE_LITTLE
    w.little = little
    w.xcdr2 = xcdr2
    w.maxalign = 4 if xcdr2 else 8
    w.depth = 0
    return 0


cdef object w_close(WBuf* w):
    """The bytes written (the buffer is handed over: w_release then does nothing)."""
    if w.pos != w.cap:
        _PyBytes_Resize(&w.obj, w.pos)
    result = <object>w.obj
    Py_DECREF(w.obj)  # ``result`` holds it now
    w.obj = NULL
    return result


cdef void w_release(WBuf* w) noexcept:
    if w.obj != NULL:
        Py_DECREF(w.obj)
        w.obj = NULL


cdef int w_grow(WBuf* w, Py_ssize_t n) except -1:
    cdef Py_ssize_t need = w.pos + n
    cdef Py_ssize_t cap = w.cap * 2
    if cap < need:
        cap = need + 64
    _PyBytes_Resize(&w.obj, cap)  # on failure it releases the object and sets NULL
    w.data = <unsigned char*>rt_bytes_data(w.obj)
    w.cap = cap
    return 0


cdef int fail(RBuf* r, str what) except -1:
    raise DecodeError(f"{what} at payload offset {r.pos - 4}")


cdef int r_truncated(RBuf* r, Py_ssize_t n) except -1:
    raise DecodeError(f"truncated: {n} bytes needed at payload offset {r.pos - 4}, "
                      f"{r.end - r.pos} remain")


cdef int r_past_end(RBuf* r) except -1:
    raise DecodeError(f"truncated: alignment padding runs past the end at payload offset "
                      f"{r.end - 4}")


# ------------------------------------------------------------------------------------------
# plan nodes

cdef class Node:
    """One plan node (rtbus.cdr.plan) made executable."""

    cdef int enc(self, WBuf* w, object v) except -1:
        raise NotImplementedError

    cdef object dec(self, RBuf* r):
        raise NotImplementedError

    cdef object default(self):
        return None


cdef class PrimNode(Node):

    def __init__(self, p):
        self.kind = KIND_OF[p.kind]
        self.size = p.size

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef int k = self.kind
        cdef double d
        cdef float f
        cdef long long i
        cdef unsigned long long u
        cdef uint32_t b32
        cdef uint64_t b64
        try:
            if k == K_I32:
                i = v
                if i < -0x80000000 or i > 0x7fffffff:
                    raise OverflowError
                w_u32(w, <uint32_t><int32_t>i)
            elif k == K_F64:
                d = v
                memcpy(&b64, &d, 8)
                w_u64(w, b64)
            elif k == K_F32:
                d = v
                if (d > 3.4028234663852886e38 or d < -3.4028234663852886e38) and d == d \
                        and d - d == d - d:  # finite but outside float32, as struct.pack refuses
                    raise OverflowError("float too large for float32")
                f = <float>d
                memcpy(&b32, &f, 4)
                w_u32(w, b32)
            elif k == K_BOOL:
                w_u8(w, 1 if v else 0)
            elif k == K_OCTET or k == K_U8:
                i = v
                if i < 0 or i > 0xff:
                    raise OverflowError
                w_u8(w, <uint8_t>i)
            elif k == K_I8:
                i = v
                if i < -0x80 or i > 0x7f:
                    raise OverflowError
                w_u8(w, <uint8_t><int8_t>i)
            elif k == K_CHAR:
                if isinstance(v, str):
                    i = ord(v)
                elif isinstance(v, bytes):
                    i = v[0] if len(v) == 1 else -1
                else:
                    i = v
                if i < 0 or i > 0xff:
                    raise OverflowError
                w_u8(w, <uint8_t>i)
            elif k == K_WCHAR:
                i = ord(v) if isinstance(v, str) else v
                if i < 0 or i > 0xffff:
                    raise OverflowError
                w_u16(w, <uint16_t>i)
            elif k == K_I16:
                i = v
                if i < -0x8000 or i > 0x7fff:
                    raise OverflowError
                w_u16(w, <uint16_t><int16_t>i)
            elif k == K_U16:
                i = v
                if i < 0 or i > 0xffff:
                    raise OverflowError
                w_u16(w, <uint16_t>i)
            elif k == K_U32:
                i = v
                if i < 0 or i > 0xffffffff:
                    raise OverflowError
                w_u32(w, <uint32_t>i)
            elif k == K_I64:
                i = v
                w_u64(w, <uint64_t>i)
            elif k == K_U64:
                u = v
                w_u64(w, u)
        except (OverflowError, TypeError, ValueError) as exc:
            raise EncodeError(f"value {v!r} does not fit a {KIND_NAME[k]}") from exc
        return 0

    cdef object dec(self, RBuf* r):
        cdef int k = self.kind
        cdef uint32_t u32
        cdef uint64_t u64
        cdef double d
        cdef float f
        if k == K_I32:
            return <int32_t>r_u32(r)
        elif k == K_F64:
            u64 = r_u64(r)
            memcpy(&d, &u64, 8)
            return d
        elif k == K_F32:
            u32 = r_u32(r)
            memcpy(&f, &u32, 4)
            return <double>f
        elif k == K_BOOL:
            return r_u8(r) != 0
        elif k == K_OCTET or k == K_U8:
            return r_u8(r)
        elif k == K_I8:
            return <int8_t>r_u8(r)
        elif k == K_CHAR:
            return chr(r_u8(r))
        elif k == K_WCHAR:
            return chr(r_u16(r))
        elif k == K_I16:
            return <int16_t>r_u16(r)
        elif k == K_U16:
            return r_u16(r)
        elif k == K_U32:
            return r_u32(r)
        elif k == K_I64:
            return <int64_t>r_u64(r)
        elif k == K_U64:
            return r_u64(r)
        raise AssertionError(k)

    cdef object default(self):
        k = self.kind
        if k == K_BOOL:
            return False
        if k == K_CHAR or k == K_WCHAR:
            return "\x00"
        if k == K_F32 or k == K_F64:
            return 0.0
        return 0


cdef dict KIND_NAME = {v: k for k, v in KIND_OF.items()}


cdef class EnumNode(Node):
    """Enums and bitmasks, in the size the plan gives for the version."""

    def __init__(self, plan, bint strict=False):
        t = plan.model
        if t.pyclass is None:
            materialize([t])
        self.bitmask = isinstance(plan, P.BitmaskPlan)
        self.size = plan.size
        self.pyclass = t.pyclass
        if self.bitmask:
            self.members = {}
            self.dflt = self.pyclass(0) if self.pyclass is not None else 0
        else:
            self.members = {lit.value: (self.pyclass(lit.value) if self.pyclass is not None
                                        else lit.value) for lit in t.literals}
            self.dflt = self.members[t.default_literal.value]
        # key forms refuse values that are not literals, as the pure twin does in every form
        # (data keeps the compiled codec's leniency: a value read is written back)
        self.valid = frozenset(self.members) if strict and not self.bitmask else None
        self.name = t.name

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef int sz = self.size
        cdef long long i
        cdef unsigned long long u
        try:
            if sz == 8:
                u = int(v)
                w_u64(w, u)
                return 0
            i = int(v)
        except (OverflowError, TypeError, ValueError) as exc:
            raise EncodeError(f"value {v!r} is not a valid {'bitmask' if self.bitmask else 'enum'}") from exc
        if self.valid is not None and i not in self.valid:
            raise EncodeError(f"{i} is not a value of enum {self.name}")
        if sz == 4:
            if i < -0x80000000 or i > 0xffffffff:
                raise EncodeError(f"enum/bitmask value {v!r} does not fit 32 bits")
            w_u32(w, <uint32_t>i)
        elif sz == 2:
            if i < 0 or i > 0xffff:
                raise EncodeError(f"enum/bitmask value {v!r} does not fit 16 bits")
            w_u16(w, <uint16_t>i)
        else:
            if i < 0 or i > 0xff:
                raise EncodeError(f"enum/bitmask value {v!r} does not fit 8 bits")
            w_u8(w, <uint8_t>i)
        return 0

    cdef object dec(self, RBuf* r):
        cdef int sz = self.size
        cdef object raw
        if sz == 4:
            raw = r_u32(r)
        elif sz == 2:
            raw = r_u16(r)
        elif sz == 1:
            raw = r_u8(r)
        else:
            raw = r_u64(r)
        if self.bitmask:
            return self.pyclass(raw) if self.pyclass is not None else raw
        if sz == 4 and raw >= 0x80000000:
            raw = raw - 0x100000000
        return self.members.get(raw, raw)

    cdef object default(self):
        return self.dflt


cdef class StringNode(Node):

    def __init__(self, t):
        self.bound = t.bound
        self.cbound = t.bound if t.bound is not None else -1
        self.wide = t.wide

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef const char* p
        cdef Py_ssize_t n
        cdef bytes b
        if not isinstance(v, str):
            raise EncodeError(f"expected str for a string member, got {type(v).__name__}")
        if self.cbound >= 0 and len(<str>v) > self.cbound:
            raise EncodeError(f"string of length {len(<str>v)} exceeds its bound {self.cbound}")
        if self.wide:
            b = (<str>v).encode("utf-16-le" if w.little else "utf-16-be")
            w_u32(w, <uint32_t>len(b))
            w_bytes(w, <const char*>b, len(b))
            return 0
        try:
            p = PyUnicode_AsUTF8AndSize(v, &n)
        except UnicodeEncodeError as exc:
            raise EncodeError(f"string is not encodable as UTF-8: {exc}") from exc
        w_u32(w, <uint32_t>(n + 1))
        w_reserve(w, n + 1)
        memcpy(w.data + w.pos, p, n)
        w.data[w.pos + n] = 0
        w.pos += n + 1
        return 0

    cdef object dec(self, RBuf* r):
        cdef uint32_t n = r_u32(r)
        cdef Py_ssize_t start = r.pos
        r_need(r, n)
        r.pos += n
        if self.wide:
            if n & 1:
                fail(r, "wstring byte length is odd")
            return (<bytes>r.data[start:start + n]).decode("utf-16-le" if r.little else "utf-16-be")
        if n == 0:
            fail(r, "string length 0 (must count the terminating NUL)")
        if r.data[start + n - 1] != 0:
            fail(r, "string not NUL-terminated")
        try:
            return PyUnicode_DecodeUTF8(<const char*>r.data + start, n - 1, NULL)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"string is not UTF-8 at payload offset {start - 4}") from exc

    cdef object default(self):
        return ""


cdef class PrimArrayNode(Node):
    """Sequences (``count < 0``) and arrays of primitives: numpy in, numpy view out."""

    def __init__(self, plan):
        prim = plan.elem
        if isinstance(plan, P.PrimSeqPlan):
            count, bound, shape = -1, plan.bound, ()
        else:
            count, bound, shape = plan.length, None, plan.dims
        self.esize = prim.size
        self.count = count
        self.bound = bound if bound is not None else -1
        self.shape = shape
        self.kind_name = prim.kind
        if prim.kind == "boolean":
            self.dt_le = self.dt_be = np.dtype("?")
        else:
            self.dt_le = np.dtype("<" + prim.dtype)
            self.dt_be = np.dtype(">" + prim.dtype)

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef Py_buffer view
        cdef Py_ssize_t n
        dt = self.dt_be if ((not w.swap) != NATIVE_LITTLE) else self.dt_le
        try:
            arr = np.ascontiguousarray(v, dtype=dt)
        except (TypeError, ValueError, OverflowError) as exc:
            raise EncodeError(f"cannot convert {type(v).__name__} to an array of "
                              f"{self.kind_name}: {exc}") from exc
        n = arr.size
        if self.count < 0 and arr.ndim != 1:
            raise EncodeError(f"a sequence of {self.kind_name} needs a 1-dimensional array, "
                              f"got shape {arr.shape}")
        if self.count >= 0:
            if n != self.count:
                raise EncodeError(f"array of {self.kind_name} needs {self.count} elements, got {n}")
        else:
            if self.bound >= 0 and n > self.bound:
                raise EncodeError(f"sequence of {n} elements exceeds its bound {self.bound}")
            w_u32(w, <uint32_t>n)
            if n == 0:
                return 0
        w_align(w, self.esize)
        PyObject_GetBuffer(arr, &view, PyBUF_SIMPLE)
        try:
            w_bytes(w, view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return 0

    cdef object dec(self, RBuf* r):
        cdef Py_ssize_t n
        if self.count >= 0:
            n = self.count
        else:
            n = r_u32(r)
            if self.bound >= 0 and n > self.bound:
                fail(r, f"sequence length {n} exceeds its bound {self.bound}")
            if n == 0:
                return np.empty(0, dtype=self.dt_le if r.little else self.dt_be)
        r_align(r, self.esize)
        r_need(r, n * self.esize)
        arr = np.frombuffer(<object>r.owner, dtype=self.dt_le if r.little else self.dt_be,
                            count=n, offset=r.pos)
        r.pos += n * self.esize
        if self.count >= 0 and len(self.shape) > 1:
            arr = arr.reshape(self.shape)
        return arr

    cdef object default(self):
        if self.count < 0:
            return np.empty(0, dtype=self.dt_le)
        return np.zeros(self.shape, dtype=self.dt_le)


cdef class ListNode(Node):
    """Sequences (``count < 0``) and (multi-dim) arrays of non-primitive elements -> lists."""

    def __init__(self, Node elem, plan):
        self.elem = elem
        self.dheader = plan.dheader
        if isinstance(plan, P.ListSeqPlan):
            self.count = -1
            self.bound = plan.bound if plan.bound is not None else -1
            self.shape = ()
            self.emin = plan.elem_min
            self.cap = plan.count_cap if plan.count_cap is not None else -1
        else:
            self.count = plan.length
            self.bound = -1
            self.shape = plan.dims
            self.emin = 1
            self.cap = -1

    cdef int enc_dim(self, WBuf* w, object v, int dim) except -1:
        cdef Py_ssize_t want = self.shape[dim]
        if len(v) != want:
            raise EncodeError(f"array dimension {dim} needs {want} elements, got {len(v)}")
        if dim == len(self.shape) - 1:
            for x in v:
                self.elem.enc(w, x)
        else:
            for x in v:
                self.enc_dim(w, x, dim + 1)
        return 0

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef Py_ssize_t hpos = -1
        cdef Py_ssize_t n
        if self.dheader:
            w_u32(w, 0)
            hpos = w.pos
        if self.count < 0:
            n = len(v)
            if self.bound >= 0 and n > self.bound:
                raise EncodeError(f"sequence of {n} elements exceeds its bound {self.bound}")
            w_u32(w, <uint32_t>n)
            for x in v:
                self.elem.enc(w, x)
        else:
            self.enc_dim(w, v, 0)
        if hpos >= 0:
            w_patch_u32(w, hpos - 4, <uint32_t>(w.pos - hpos))
        return 0

    cdef object dec_dim(self, RBuf* r, int dim):
        cdef Py_ssize_t n = self.shape[dim], i
        cdef list out = PyList_New(n)
        for i in range(n):
            x = self.elem.dec(r) if dim == len(self.shape) - 1 else self.dec_dim(r, dim + 1)
            Py_INCREF(x)
            PyList_SET_ITEM(out, i, x)
        return out

    cdef object dec(self, RBuf* r):
        cdef Py_ssize_t saved_end = r.end
        cdef Py_ssize_t end = -1
        cdef Py_ssize_t n, i
        cdef list out
        if self.dheader:
            n = r_u32(r)
            r_need(r, n)
            end = r.pos + n
            r.end = end
        try:
            if self.count < 0:
                n = r_u32(r)
                if self.bound >= 0 and n > self.bound:
                    fail(r, f"sequence length {n} exceeds its bound {self.bound}")
                if self.cap >= 0:
                    if n > self.cap:
                        fail(r, f"sequence length {n} of key elements exceeds the cap {self.cap}")
                elif n > (r.end - r.pos) // self.emin:
                    fail(r, f"sequence length {n} exceeds the bytes that remain")
                out = PyList_New(n)
                for i in range(n):
                    x = self.elem.dec(r)
                    Py_INCREF(x)
                    PyList_SET_ITEM(out, i, x)
            else:
                out = self.dec_dim(r, 0)
        finally:
            r.end = saved_end
        if end >= 0:
            r.pos = end
        return out

    cdef object default(self):
        if self.count < 0:
            return []
        return self._default_dim(0)

    def _default_dim(self, int dim):
        if dim == len(self.shape) - 1:
            return [self.elem.default() for _ in range(self.shape[dim])]
        return [self._default_dim(dim + 1) for _ in range(self.shape[dim])]


cdef class MemberPlan:
    """A struct member as the plan lays it out (rtbus.cdr.plan.MemberPlan), made executable."""


cdef class StructNode(Node):

    def setup(self, plan, list plans):
        t = plan.model
        self.name = t.name
        self.mplans = tuple(plans)
        self.n = len(plans)
        self.ext = {"final": 0, "appendable": 1, "mutable": 2}[plan.ext]
        self.dheader = plan.dheader and self.ext != 2
        cls = t.pyclass
        if cls is None:
            materialize([t])
            cls = t.pyclass
        self.unchecked = cls._rtbus_unchecked
        self.cls = cls
        # The constructor generated by rtbus.types.pyclasses only allocates and sets the
        # slots; doing that here in C saves a Python call per decoded struct. Any other
        # _rtbus_unchecked (a hand-written class) is called as the protocol says.
        code = getattr(self.unchecked, "__code__", None)
        self.fast_new = (code is not None and code.co_filename.startswith("<rtbus struct ")
                         and type(cls).__new__ is type.__new__
                         and cls.__new__ is object.__new__)
        self.by_id = {}
        cdef MemberPlan mp
        cdef int i
        for i, mp in enumerate(plans):
            self.by_id[mp.mid] = i
        # a key-only form carries some fields only: the others get their defaults
        self.partial = plan.partial
        self.nfields = plan.nfields
        self.fields = tuple(m.field for m in plan.members)
        others = []
        if self.partial:
            on_wire = set(self.fields)
            for i, m in enumerate(t.all_members()):
                if i in on_wire:
                    continue
                d = None if m.optional else default_value(m.type)
                fresh = None if _immutable(d) else m.type  # lists, arrays, structs: new each time
                others.append((i, PyUnicode_InternFromString(m.pyname.encode()), d, fresh))
        self.others = tuple(others)

    cdef int set_others(self, object obj) except -1:
        for i, name, d, fresh in self.others:
            PyObject_SetAttr(obj, name, d if fresh is None else default_value(fresh))
        return 0

    cdef tuple full(self, tuple vals):
        cdef list out = [None] * self.nfields
        cdef Py_ssize_t i
        for i in range(self.n):
            out[<Py_ssize_t>self.fields[i]] = vals[i]
        for i, name, d, fresh in self.others:
            out[i] = d if fresh is None else default_value(fresh)
        return tuple(out)

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef Py_ssize_t cur = -1
        try:
            return self.enc_body(w, v, &cur)
        except RecursionError:
            raise
        except Exception as exc:
            where = f"{self.name}.{(<MemberPlan>self.mplans[cur]).name}" if cur >= 0 else self.name
            if isinstance(exc, EncodeError):
                raise EncodeError(f"{where}: {exc}") from exc
            raise EncodeError(f"{where}: cannot encode: {exc}") from exc

    cdef int enc_body(self, WBuf* w, object v, Py_ssize_t* cur) except -1:
        cdef MemberPlan mp
        cdef Py_ssize_t hpos = 0, lpos, dpos, saved_origin
        cdef object x
        cdef Py_ssize_t i
        w.depth += 1
        if w.depth > MAX_DEPTH:
            raise EncodeError(f"{self.name}: nesting deeper than {MAX_DEPTH} levels (a cycle?)")
        if self.ext == 2:
            if w.xcdr2:
                w_u32(w, 0)
                hpos = w.pos
                for i in range(self.n):
                    mp = <MemberPlan>self.mplans[i]
                    cur[0] = i
                    x = PyObject_GetAttr(v, mp.name)
                    if x is None and mp.optional:
                        continue
                    w_u32(w, mp.emheader)
                    if mp.nextint:
                        w_u32(w, 0)
                        lpos = w.pos
                        mp.node.enc(w, x)
                        w_patch_u32(w, lpos - 4, <uint32_t>(w.pos - lpos))
                    else:
                        mp.node.enc(w, x)
                w_patch_u32(w, hpos - 4, <uint32_t>(w.pos - hpos))
            else:
                for i in range(self.n):
                    mp = <MemberPlan>self.mplans[i]
                    cur[0] = i
                    x = PyObject_GetAttr(v, mp.name)
                    if x is None and mp.optional:
                        continue
                    w_align(w, 4)
                    w_u16(w, XCDR1_PID_EXTENDED_MU)
                    w_u16(w, 8)
                    w_u32(w, mp.pl_id)
                    w_u32(w, 0)
                    dpos = w.pos
                    saved_origin = w.origin
                    w.origin = dpos
                    mp.node.enc(w, x)
                    w.origin = saved_origin
                    w_align(w, 4)
                    w_patch_u32(w, dpos - 4, <uint32_t>(w.pos - dpos))
                w_align(w, 4)
                w_u16(w, XCDR1_PID_LIST_END_MU)
                w_u16(w, 0)
            w.depth -= 1
            return 0
        if self.dheader:
            w_u32(w, 0)
            hpos = w.pos
        for i in range(self.n):
            mp = <MemberPlan>self.mplans[i]
            cur[0] = i
            x = PyObject_GetAttr(v, mp.name)
            if mp.optional:
                if w.xcdr2:
                    w_u8(w, 0 if x is None else 1)
                    if x is not None:
                        mp.node.enc(w, x)
                else:
                    w_align(w, 4)
                    w_u16(w, XCDR1_PID_EXTENDED_MU)
                    w_u16(w, 8)
                    w_u32(w, mp.pl_id)
                    w_u32(w, 0)
                    if x is not None:
                        dpos = w.pos
                        saved_origin = w.origin
                        w.origin = dpos
                        mp.node.enc(w, x)
                        w.origin = saved_origin
                        w_patch_u32(w, dpos - 4, <uint32_t>(w.pos - dpos))
            else:
                mp.node.enc(w, x)
        if hpos:
            w_patch_u32(w, hpos - 4, <uint32_t>(w.pos - hpos))
        w.depth -= 1
        return 0

    cdef object dec(self, RBuf* r):
        cdef MemberPlan mp
        cdef Py_ssize_t i, saved_end = r.end, end = -1
        cdef tuple vals
        cdef object x
        r.depth += 1
        if r.depth > MAX_DEPTH:
            fail(r, f"{self.name}: nesting deeper than {MAX_DEPTH} levels")
        try:
            if self.ext == 2:
                vals = self.dec_mutable(r)
                if self.fast_new:
                    obj = rt_new_instance(self.cls)
                    for i in range(self.n):
                        PyObject_SetAttr(obj, (<MemberPlan>self.mplans[i]).name, vals[i])
                    if self.partial:
                        self.set_others(obj)
                    r.end = saved_end
                    r.depth -= 1
                    return obj
            else:
                if self.dheader:
                    i = r_u32(r)
                    r_need(r, i)
                    end = r.pos + i
                    r.end = end
                if self.fast_new:
                    obj = rt_new_instance(self.cls)
                    for i in range(self.n):
                        mp = <MemberPlan>self.mplans[i]
                        if end >= 0 and r.pos >= end:
                            x = None if mp.optional else mp.node.default()
                        elif mp.optional:
                            x = self.dec_optional(r, mp)
                        else:
                            x = mp.node.dec(r)
                        PyObject_SetAttr(obj, mp.name, x)
                    if self.partial:
                        self.set_others(obj)
                    r.end = saved_end
                    if end >= 0:
                        r.pos = end
                    r.depth -= 1
                    return obj
                vals = PyTuple_New(self.n)
                for i in range(self.n):
                    mp = <MemberPlan>self.mplans[i]
                    if end >= 0 and r.pos >= end:
                        x = None if mp.optional else mp.node.default()
                    elif mp.optional:
                        x = self.dec_optional(r, mp)
                    else:
                        x = mp.node.dec(r)
                    Py_INCREF(x)
                    PyTuple_SET_ITEM(vals, i, x)
        finally:
            r.end = saved_end
        if end >= 0:
            r.pos = end
        r.depth -= 1
        if self.partial:
            vals = self.full(vals)
        return self.unchecked(*vals)

    cdef object dec_optional(self, RBuf* r, MemberPlan mp):
        cdef uint32_t pid, plen
        cdef Py_ssize_t saved_origin, saved_end, dend
        if r.xcdr2:
            if r_u8(r):
                return mp.node.dec(r)
            return None
        r_align(r, 4)
        pid = r_u16(r)
        plen = r_u16(r)
        if (pid & XCDR1_PID_MASK) == XCDR1_PID_EXTENDED:
            r_u32(r)
            plen = r_u32(r)
        if plen == 0:
            return None
        r_need(r, plen)
        dend = r.pos + plen
        saved_origin = r.origin
        saved_end = r.end
        r.origin = r.pos
        r.end = dend
        try:
            x = mp.node.dec(r)
        finally:
            r.origin = saved_origin
            r.end = saved_end
        r.pos = dend
        return x

    cdef tuple dec_mutable(self, RBuf* r):
        cdef list vals = [None] * self.n
        cdef bytearray seen = bytearray(self.n)
        cdef uint32_t hdr, pid, plen, mid, lc, nxt
        cdef Py_ssize_t end, mstart, mend, saved_origin
        cdef Py_ssize_t size, i
        cdef bint mu
        cdef MemberPlan mp
        cdef Py_ssize_t nexti = 0
        if r.xcdr2:
            size = r_u32(r)
            r_need(r, size)
            end = r.pos + size
            r.end = end
            while r.pos < end:
                r_align(r, 4)
                hdr = r_u32(r)
                mu = (hdr >> 31) != 0  # the EMHEADER M flag
                lc = (hdr >> 28) & 7
                mid = hdr & MEMBER_ID_MASK
                if lc < 4:
                    size = 1 << lc
                elif lc == 4:
                    size = r_u32(r)
                else:
                    r_need(r, 4)
                    nxt = r_u32(r)
                    r.pos -= 4
                    size = 4 + <Py_ssize_t>nxt * (1 if lc == 5 else 4 if lc == 6 else 8)
                r_need(r, size)
                mend = r.pos + size
                # members usually arrive in declaration order: try the next one first
                if nexti < self.n and (<MemberPlan>self.mplans[nexti]).mid == mid:
                    idx = nexti
                else:
                    idx = self.by_id.get(mid)
                if idx is not None:
                    nexti = <Py_ssize_t>idx + 1
                if idx is None:
                    if mu:
                        fail(r, f"{self.name}: unknown must-understand member id {mid}")
                else:
                    mp = <MemberPlan>self.mplans[<Py_ssize_t>idx]
                    r.end = mend
                    vals[<Py_ssize_t>idx] = mp.node.dec(r)
                    seen[<Py_ssize_t>idx] = 1
                    r.end = end
                r.pos = mend
        else:
            while True:
                r_align(r, 4)
                pid = r_u16(r)
                plen = r_u16(r)
                if (pid & XCDR1_PID_MASK) == XCDR1_PID_LIST_END:
                    break
                if (pid & XCDR1_PID_MASK) == XCDR1_PID_EXTENDED:
                    hdr = r_u32(r)
                    plen = r_u32(r)
                    mid = hdr & MEMBER_ID_MASK
                    mu = (hdr & PL_MUST_UNDERSTAND) != 0
                else:
                    mid = pid & XCDR1_PID_MASK
                    mu = (pid & XCDR1_PID_FLAG_MUST_UNDERSTAND) != 0
                r_need(r, plen)
                mend = r.pos + plen
                # members usually arrive in declaration order: try the next one first
                if nexti < self.n and (<MemberPlan>self.mplans[nexti]).mid == mid:
                    idx = nexti
                else:
                    idx = self.by_id.get(mid)
                if idx is not None:
                    nexti = <Py_ssize_t>idx + 1
                if idx is None:
                    if mu:
                        fail(r, f"{self.name}: unknown must-understand member id {mid}")
                else:
                    mp = <MemberPlan>self.mplans[<Py_ssize_t>idx]
                    saved_origin = r.origin
                    end = r.end
                    r.origin = r.pos
                    r.end = mend
                    try:
                        vals[<Py_ssize_t>idx] = mp.node.dec(r)
                    finally:
                        r.origin = saved_origin
                        r.end = end
                    seen[<Py_ssize_t>idx] = 1
                r.pos = mend
        for i in range(self.n):
            if not seen[i]:
                mp = <MemberPlan>self.mplans[i]
                if not mp.optional:
                    vals[i] = mp.node.default()
        return tuple(vals)

    cdef object default(self):
        cdef MemberPlan mp
        cdef list vals = []
        for mp in self.mplans:
            vals.append(None if mp.optional else mp.node.default())
        if self.partial:
            return self.unchecked(*self.full(tuple(vals)))
        return self.unchecked(*vals)


cdef class UnionNode(Node):

    def __init__(self):
        self.dname = PyUnicode_InternFromString("discriminator")
        self.vname = PyUnicode_InternFromString("value")

    def setup(self, plan, Node disc, dict cases, Node default_node, bint has_default):
        t = plan.model
        self.name = t.name
        if plan.ext == "mutable":
            raise NotImplementedError(f"{t.name}: mutable unions are not compiled")
        self.appendable = plan.dheader
        self.disc = disc
        self.cases = cases
        self.default_node = default_node
        self.has_default = has_default
        self.char_disc = isinstance(plan.disc, P.PrimPlan) and plan.disc.kind in ("char", "wchar")
        cls = t.pyclass
        if cls is None:
            materialize([t])
            cls = t.pyclass
        self.unchecked = cls._rtbus_unchecked
        self.dflt_disc = t.implicit_default()

    cdef Node branch(self, object label, bint* found):
        node = self.cases.get(label, self)
        if node is self:
            found[0] = self.has_default
            return self.default_node
        found[0] = True
        return <Node>node if node is not None else None

    cdef int enc(self, WBuf* w, object v) except -1:
        cdef Py_ssize_t hpos = 0
        cdef bint found
        cdef Node node
        d = PyObject_GetAttr(v, self.dname)
        x = PyObject_GetAttr(v, self.vname)
        if self.appendable:
            w_u32(w, 0)
            hpos = w.pos
        self.disc.enc(w, d)
        label = ord(d) if (self.char_disc and isinstance(d, str)) else int(d)
        node = self.branch(label, &found)
        if found and node is not None:
            w.depth += 1
            if w.depth > MAX_DEPTH:
                raise EncodeError(f"{self.name}: nesting deeper than {MAX_DEPTH} levels")
            node.enc(w, x)
            w.depth -= 1
        if hpos:
            w_patch_u32(w, hpos - 4, <uint32_t>(w.pos - hpos))
        return 0

    cdef object dec(self, RBuf* r):
        cdef Py_ssize_t saved_end = r.end, end = -1, n
        cdef bint found
        cdef Node node
        x = None
        r.depth += 1
        if r.depth > MAX_DEPTH:
            fail(r, f"{self.name}: nesting deeper than {MAX_DEPTH} levels")
        try:
            if self.appendable:
                n = r_u32(r)
                r_need(r, n)
                end = r.pos + n
                r.end = end
            d = self.disc.dec(r)
            label = ord(d) if (self.char_disc and isinstance(d, str)) else int(d)
            node = self.branch(label, &found)
            if found and node is not None:
                if end >= 0 and r.pos >= end:
                    x = node.default()
                else:
                    x = node.dec(r)
        finally:
            r.end = saved_end
        if end >= 0:
            r.pos = end
        r.depth -= 1
        return self.unchecked(d, x)

    cdef object default(self):
        cdef bint found
        label = self.dflt_disc
        node = self.branch(label, &found)
        d = label
        if isinstance(self.disc, EnumNode):
            d = (<EnumNode>self.disc).members.get(label, label)
        elif isinstance(self.disc, PrimNode):
            d = chr(label) if self.char_disc else (bool(label) if (<PrimNode>self.disc).kind == K_BOOL else label)
        return self.unchecked(d, node.default() if (found and node is not None) else None)


# ------------------------------------------------------------------------------------------
# turning a layout plan into nodes

cdef class _Compiler:
    """Builds the node tree of one plan (one XCDR version); struct/union plans are shared
    and may be recursive, so their nodes are memoized by plan identity."""
    cdef dict memo
    cdef bint key_form         # a key-only form (KEYHASH or key-only SAMPLE)

    def __init__(self, bint key_form=False):
        self.memo = {}
        self.key_form = key_form

    cdef Node node_for(self, plan):
        if isinstance(plan, P.PrimPlan):
            return PrimNode(plan)
        if isinstance(plan, (P.EnumPlan, P.BitmaskPlan)):
            return EnumNode(plan, self.key_form)
        if isinstance(plan, P.StringPlan):
            return StringNode(plan)
        if isinstance(plan, (P.PrimSeqPlan, P.PrimArrayPlan)):
            return PrimArrayNode(plan)
        if isinstance(plan, (P.ListSeqPlan, P.ListArrayPlan)):
            return ListNode(self.node_for(plan.elem), plan)
        if isinstance(plan, P.StructPlan):
            key = id(plan)
            if key in self.memo:
                return self.memo[key]
            node = StructNode()
            self.memo[key] = node
            slots = []
            for m in plan.members:
                # @external and @key change nothing in a data payload
                mp = MemberPlan()
                mp.node = self.node_for(m.node)
                mp.name = PyUnicode_InternFromString(m.pyname.encode())
                mp.optional = m.optional
                mp.mid = m.id
                mp.pl_id = m.pl_id
                mp.emheader = m.emheader
                mp.nextint = m.nextint
                slots.append(mp)
            node.setup(plan, slots)
            return node
        if isinstance(plan, P.UnionPlan):
            key = id(plan)
            if key in self.memo:
                return self.memo[key]
            unode = UnionNode()
            self.memo[key] = unode
            disc = self.node_for(plan.disc)
            cases = {}
            dnode = None
            has_default = False
            for c in plan.cases:
                n = self.node_for(c.node)
                for lab in c.labels:
                    cases[lab] = n
                if c.is_default:
                    dnode = n
                    has_default = True
            unode.setup(plan, disc, cases, dnode, has_default)
            return unode
        raise NotImplementedError(f"plan {plan!r} is not supported by the compiled codec")


cdef Node _root_for(object model, bint xcdr2):
    return _Compiler().node_for(P.plan_for(model, xcdr2))


cdef object encode_payload(Node root, object sample, int ident, bint xcdr2, bint little,
                           Py_ssize_t* hint, str name):
    """Header (``ident`` and the endianness bit; none when ``ident < 0``) + ``root``'s form of
    ``sample``; failures of the sample become EncodeError naming ``name``."""
    cdef WBuf w
    cdef Py_ssize_t origin = 4 if ident >= 0 else 0
    w_open(&w, hint[0], xcdr2, little, origin)
    try:
        if ident >= 0:
            w.data[0] = 0
            w.data[1] = <unsigned char>ident | (1 if little else 0)
            w.data[2] = 0
            w.data[3] = 0
            w.pos = 4
        try:
            root.enc(&w, sample)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise EncodeError(f"{name}: cannot encode: {exc}") from exc
        # next time start with room for a sample like this one
        hint[0] = w.pos if w.pos > 16 else 16
        return w_close(&w)
    finally:
        w_release(&w)


cdef int check_header(Py_ssize_t n, const unsigned char* data) except -1:
    if n < 4:
        raise DecodeError(f"payload of {n} bytes is shorter than the 4-byte "
                          f"encapsulation header")
    if data[0] != 0 or data[1] > 0x0b or data[1] == 4 or data[1] == 5:
        raise DecodeError(f"unsupported encapsulation identifier "
                          f"0x{data[0]:02x}{data[1]:02x}; expected CDR/PL_CDR/CDR2 "
                          f"(0x0000-0x0003, 0x0006-0x000b)")
    return 0


cdef object decode_view(Node root, RBuf* r, str name):
    """Run ``root`` over a prepared reader; errors of the input become DecodeError."""
    try:
        return root.dec(r)
    except DecodeError:
        raise
    except (ValueError, OverflowError) as exc:  # e.g. undecodable UTF-16
        raise DecodeError(f"{name}: {exc} (payload offset {r.pos - 4})") from exc


cdef inline void r_open(RBuf* r, const unsigned char* data, Py_ssize_t n, Py_ssize_t start,
                        bint xcdr2, bint little, object owner) noexcept:
    r.data = data
    r.little = little
    r.xcdr2 = xcdr2
    r.swap = little != NATIVE_LITTLE
    r.maxalign = 4 if xcdr2 else 8
    r.pos = start
    r.origin = start
    r.end = n
    r.depth = 0
    r.owner = <PyObject*>owner


cdef class Codec:
    """Encoder/decoder for one topic type (struct or union)."""

    def __init__(self, model):
        self.model = model
        plan2 = P.plan_for(model, True)
        if not isinstance(plan2, (P.StructPlan, P.UnionPlan)):
            raise NotImplementedError(f"top-level type must be a struct or union, got {model!r}")
        self.root2 = _Compiler().node_for(plan2)
        self.root1 = None
        self.root_name = plan2.name
        self.id1 = P.plan_for(model, False).encap_id
        self.id2 = plan2.encap_id
        self.hint = 64

    cdef Node root(self, bint xcdr2):
        if xcdr2:
            return self.root2
        if self.root1 is None:
            self.root1 = _root_for(self.model, False)
        return self.root1

    def encode(self, sample, bint xcdr2=True, bint little=True) -> bytes:
        return encode_payload(self.root(xcdr2), sample, self.id2 if xcdr2 else self.id1, xcdr2,
                              little, &self.hint, self.root_name)

    def decode(self, buf):
        cdef Py_buffer view
        cdef RBuf r
        cdef const unsigned char* data
        PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
        try:
            data = <const unsigned char*>view.buf
            check_header(view.len, data)
            r_open(&r, data, view.len, 4, data[1] >= 6, data[1] & 1, buf)
            return decode_view(self.root(r.xcdr2), &r, self.root_name)
        finally:
            PyBuffer_Release(&view)


def compile_codec(model) -> Codec:
    """Compile a struct/union model into a codec; NotImplementedError for unsupported types."""
    return Codec(model)


# ------------------------------------------------------------------------------------------
# keys: the key-only SAMPLE form of a DATA(K) and the KEYHASH form of the key hash

cdef object hash_out(unsigned char* key, Py_ssize_t n, bint md5):
    """The 16-byte key hash of a KEYHASH-form key: the MD5 of its ``n`` bytes (not padded:
    RTPS 9.6.4.8, XTypes 7.6.8) when the key may exceed 16 bytes, else the key zero-padded
    to 16 bytes (``key`` has room for 16 bytes at least)."""
    cdef unsigned char digest[16]
    if md5:
        rt_md5(key, n, digest)
        return PyBytes_FromStringAndSize(<char*>digest, 16)
    if n < 16:
        memset(key + n, 0, 16 - n)
        n = 16
    return PyBytes_FromStringAndSize(<char*>key, n)  # longer than 16 only past a bound


def md5_digest(data) -> bytes:
    """The MD5 of ``data`` by the compiled key hash's own MD5 (for the test against hashlib)."""
    cdef Py_buffer view
    cdef unsigned char digest[16]
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        rt_md5(<const unsigned char*>view.buf, view.len, digest)
    finally:
        PyBuffer_Release(&view)
    return PyBytes_FromStringAndSize(<char*>digest, 16)


cdef class KeyCodec:
    """The key forms of one type, compiled from the plans' key-only forms (the twin of
    rtbus.cdr.pure.KeyCodec): the key-only SAMPLE form a dispose/unregister carries
    (``encode``/``decode``, header included, no pad count in the options) and the
    header-less KEYHASH form (``serialize``/``deserialize``) the key hash is computed over
    (``hash``: XCDR2, ``hash_xcdr1``). Fields that are not part of the key are not read when
    encoding and get their defaults when decoding."""

    def __init__(self, model):
        self.model = model
        plan2 = P.plan_for(model, True, "key_sample")
        if not isinstance(plan2, (P.StructPlan, P.UnionPlan)):
            raise NotImplementedError(f"top-level type must be a struct or union, got {model!r}")
        self.root_name = plan2.name
        self.sample2 = _Compiler(True).node_for(plan2)
        self.hash2 = _Compiler(True).node_for(P.plan_for(model, True, "keyhash"))
        self.sample1 = None
        self.hash1 = None
        self.id1 = P.plan_for(model, False, "key_sample").encap_id
        self.id2 = plan2.encap_id
        self.md5_2 = P.max_key_size(model, True) > 16
        self.md5_1 = P.max_key_size(model, False) > 16
        self.hint = 32

    cdef Node sample_root(self, bint xcdr2):
        if xcdr2:
            return self.sample2
        if self.sample1 is None:
            self.sample1 = _Compiler(True).node_for(P.plan_for(self.model, False, "key_sample"))
        return self.sample1

    cdef Node hash_root(self, bint xcdr2):
        if xcdr2:
            return self.hash2
        if self.hash1 is None:
            self.hash1 = _Compiler(True).node_for(P.plan_for(self.model, False, "keyhash"))
        return self.hash1

    def encode(self, sample, bint xcdr2=True, bint little=True) -> bytes:
        return encode_payload(self.sample_root(xcdr2), sample, self.id2 if xcdr2 else self.id1,
                              xcdr2, little, &self.hint, self.root_name)

    def decode(self, buf):
        cdef Py_buffer view
        cdef RBuf r
        cdef const unsigned char* data
        PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
        try:
            data = <const unsigned char*>view.buf
            check_header(view.len, data)
            r_open(&r, data, view.len, 4, data[1] >= 6, data[1] & 1, buf)
            return decode_view(self.sample_root(r.xcdr2), &r, self.root_name)
        finally:
            PyBuffer_Release(&view)

    def serialize(self, sample, bint xcdr2=True, bint little=False) -> bytes:
        return encode_payload(self.hash_root(xcdr2), sample, -1, xcdr2, little, &self.hint,
                              self.root_name)

    def deserialize(self, buf, bint xcdr2=True, bint little=False):
        cdef Py_buffer view
        cdef RBuf r
        PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
        try:
            r_open(&r, <const unsigned char*>view.buf, view.len, 0, xcdr2, little, buf)
            return decode_view(self.hash_root(xcdr2), &r, self.root_name)
        finally:
            PyBuffer_Release(&view)

    cdef object key_hash(self, object sample, bint xcdr2):
        cdef WBuf w
        w_open(&w, 64, xcdr2, False, 0)
        try:
            try:
                self.hash_root(xcdr2).enc(&w, sample)
            except EncodeError:
                raise
            except (TypeError, ValueError, OverflowError, AttributeError) as exc:
                raise EncodeError(f"{self.root_name}: cannot encode the key: {exc}") from exc
            return hash_out(w.data, w.pos, self.md5_2 if xcdr2 else self.md5_1)
        finally:
            w_release(&w)

    def hash(self, sample) -> bytes:
        """The 16-byte key hash (XCDR2 alignment, the default representation)."""
        return self.key_hash(sample, True)

    def hash_xcdr1(self, sample) -> bytes:
        """The key hash as a writer of XCDR1 data computes it (8-byte alignment)."""
        return self.key_hash(sample, False)


def compile_key_codec(model) -> KeyCodec:
    """Compile the key forms of a struct/union model; NotImplementedError where unsupported."""
    return KeyCodec(model)


# ------------------------------------------------------------------------------------------
# key extraction: the compiled twin of rtbus.cdr.keys._ScanCompiler
#
# The key hash straight from a payload, without building the sample: the payload's form (a
# full sample or a key-only one) is walked by small cdef nodes built from its layout plan;
# key leaves are read into slots (where their bytes are, or their value) and every other
# member is skipped by its size and lengths; then the slots are written in the KEYHASH form
# (XCDR2, big endian) and padded or MD5-hashed. Every check the pure scanner makes is made
# here, in the same places: what its decoders check when a leaf is read, what its KEYHASH
# encoders check when the key is written, bounds on every skip; so the twins give the same
# hash, or both DecodeError, for any bytes (tests/unit/test_compiled_keys.py).

cdef extern from *:
    """
    /* a float32 through a double and back, as struct.unpack/pack and the compiled
       decoder/encoder take it (a signalling NaN comes back quiet) */
    static uint32_t rt_f32_roundtrip(uint32_t b) {
        float f; volatile double d;
        memcpy(&f, &b, 4); d = f; f = (float)d; memcpy(&b, &f, 4);
        return b;
    }
    /* the code points of UTF-16 code units as Python's utf-16 codec decodes them, or -1
       where it refuses them (a lone or unpaired surrogate) */
    static Py_ssize_t rt_utf16_count(const unsigned char* p, Py_ssize_t n, int little) {
        Py_ssize_t count = 0;
        for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
            unsigned u = little ? (p[i] | (p[i + 1] << 8)) : ((p[i] << 8) | p[i + 1]);
            if (u >= 0xD800 && u < 0xDC00) {
                if (i + 3 >= n) return -1;
                unsigned v = little ? (p[i + 2] | (p[i + 3] << 8)) : ((p[i + 2] << 8) | p[i + 3]);
                if (v < 0xDC00 || v >= 0xE000) return -1;
                i += 2;
            } else if (u >= 0xDC00 && u < 0xE000) {
                return -1;
            }
            count++;
        }
        return count;
    }
    """
    uint32_t rt_f32_roundtrip(uint32_t b) nogil
    Py_ssize_t rt_utf16_count(const unsigned char* p, Py_ssize_t n, int little) nogil


cdef struct KSlot:
    uint64_t bits      # a primitive, enum or bitmask value; a wstring's code points
    Py_ssize_t pos     # strings, sequences, arrays: where their bytes start in the input
    Py_ssize_t n       # strings: bytes with the NUL; wstrings: bytes; sequences: elements
    int set            # 0: not read (the KEYHASH form gets the default)

cdef struct KBuf:
    unsigned char* data
    Py_ssize_t pos
    Py_ssize_t cap
    unsigned char* heap
    unsigned char stack[256]


cdef int kfail(str what, Py_ssize_t at) except -1:
    raise DecodeError(f"{what} (at payload offset {at - 4})")


cdef inline Py_ssize_t kalign(Py_ssize_t pos, Py_ssize_t origin, int a) noexcept:
    return pos + ((origin - pos) & (a - 1))


cdef inline uint64_t kload(const unsigned char* p, int size, bint swap) noexcept:
    """An unsigned value of ``size`` bytes in the input's byte order, as a native integer."""
    cdef uint8_t v8
    cdef uint16_t v16
    cdef uint32_t v32
    cdef uint64_t v64
    if size == 1:
        return p[0]
    if size == 2:
        memcpy(&v16, p, 2)
        return rt_bswap16(v16) if swap else v16
    if size == 4:
        memcpy(&v32, p, 4)
        return rt_bswap32(v32) if swap else v32
    memcpy(&v64, p, 8)
    return rt_bswap64(v64) if swap else v64


cdef inline uint32_t kload32(RBuf* r, Py_ssize_t pos) noexcept:
    return <uint32_t>kload(r.data + pos, 4, r.swap)


cdef int k_reserve(KBuf* k, Py_ssize_t n) except -1:
    cdef Py_ssize_t cap
    cdef unsigned char* mem
    if k.pos + n <= k.cap:
        return 0
    cap = k.cap * 2
    if cap < k.pos + n + 64:
        cap = k.pos + n + 64
    mem = <unsigned char*>PyMem_Realloc(k.heap, cap)
    if mem == NULL:
        raise MemoryError()
    if k.heap == NULL:
        memcpy(mem, k.stack, k.pos)
    k.heap = mem
    k.data = mem
    k.cap = cap
    return 0


cdef inline int k_pad(KBuf* k, int a) except -1:
    cdef Py_ssize_t pad = (-k.pos) & (a - 1)
    if pad:
        k_reserve(k, pad)
        memset(k.data + k.pos, 0, pad)
        k.pos += pad
    return 0


cdef inline int k_be(KBuf* k, uint64_t v, int size) except -1:
    """``v`` as ``size`` big-endian bytes."""
    cdef int i
    k_reserve(k, size)
    for i in range(size):
        k.data[k.pos + i] = <unsigned char>(v >> (8 * (size - 1 - i)))
    k.pos += size
    return 0


cdef inline int k_copy(KBuf* k, const unsigned char* src, Py_ssize_t count, int esize,
                       bint swap) except -1:
    """``count`` elements of ``esize`` bytes, big-endian (reversed when the input is not)."""
    cdef Py_ssize_t nbytes = count * esize, i = 0
    cdef int j
    k_reserve(k, nbytes)
    if not swap or esize == 1:
        memcpy(k.data + k.pos, src, nbytes)
    else:
        while i < nbytes:
            for j in range(esize):
                k.data[k.pos + i + j] = src[i + esize - 1 - j]
            i += esize
    k.pos += nbytes
    return 0


# leaf kinds
cdef enum:
    LK_BOOL = 1
    LK_PRIM
    LK_ENUM
    LK_BITMASK
    LK_STRING
    LK_WSTRING
    LK_SEQ
    LK_ARR


cdef class KeyLeaf:
    """How one key leaf (a slot) is written in the KEYHASH form, and its default."""
    cdef int kind
    cdef int size             # primitive/enum/bitmask size; sequence/array element size
    cdef int align
    cdef int ealign           # sequences: the elements' alignment
    cdef Py_ssize_t bound     # wstrings and sequences: the bound, or -1
    cdef Py_ssize_t length    # arrays: the element count
    cdef int64_t dflt         # enums: the default literal's value
    cdef str what

    cdef int emit(self, KBuf* k, RBuf* r, KSlot* s) except -1:
        cdef int64_t v
        cdef Py_ssize_t n
        cdef int kind = self.kind
        if kind == LK_BOOL or kind == LK_PRIM or kind == LK_BITMASK:
            k_pad(k, self.align)
            k_be(k, s.bits if s.set else <uint64_t>0, self.size)
        elif kind == LK_ENUM:
            v = <int64_t>s.bits if s.set else self.dflt
            if (self.size == 1 and (v < 0 or v > 0xff)) or (self.size == 2 and (v < 0 or v > 0xffff)) \
                    or (self.size == 4 and (v < -0x80000000 or v > 0x7fffffff)):
                raise DecodeError(f"key {self.what}: {v} does not re-encode in {self.size} bytes")
            k_pad(k, self.size)
            k_be(k, <uint64_t>v, self.size)
        elif kind == LK_STRING:
            k_pad(k, 4)
            if s.set:
                k_be(k, <uint64_t>s.n, 4)
                k_copy(k, r.data + s.pos, s.n, 1, False)
            else:
                k_be(k, 1, 4)
                k_be(k, 0, 1)
        elif kind == LK_WSTRING:
            if s.set and self.bound >= 0 and <Py_ssize_t>s.bits > self.bound:
                raise DecodeError(f"key {self.what}: wstring of length {s.bits} exceeds its "
                                  f"bound {self.bound}")
            k_pad(k, 4)
            n = s.n if s.set else 0
            k_be(k, <uint64_t>n, 4)
            if n:
                k_copy(k, r.data + s.pos, n // 2, 2, r.little)
        elif kind == LK_SEQ:
            n = s.n if s.set else 0
            if self.bound >= 0 and n > self.bound:
                raise DecodeError(f"key {self.what}: sequence of {n} elements exceeds its "
                                  f"bound {self.bound}")
            k_pad(k, 4)
            k_be(k, <uint64_t>n, 4)
            if n:
                k_pad(k, self.ealign)
                k_copy(k, r.data + s.pos, n, self.size, r.little)
        else:  # LK_ARR
            k_pad(k, self.ealign)
            if s.set:
                k_copy(k, r.data + s.pos, self.length, self.size, r.little)
            else:
                k_reserve(k, self.length * self.size)
                memset(k.data + k.pos, 0, self.length * self.size)
                k.pos += self.length * self.size
        return 0


cdef class Scan:
    """A step of a key scanner: reads key leaves into the slots, or skips."""
    cdef int run(self, RBuf* r, KSlot* out) except -1:
        raise NotImplementedError


cdef class ScanSteps(Scan):
    cdef list steps

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        for step in self.steps:
            (<Scan>step).run(r, out)
        return 0


cdef class ScanAppendable(Scan):
    """An XCDR2 appendable struct: members past its DHEADER's end keep their defaults."""
    cdef list steps

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4), end, saved_end
        cdef uint32_t size
        if pos + 4 > r.end:
            kfail("truncated: DHEADER past the end", pos)
        size = kload32(r, pos)
        pos += 4
        if size > r.end - pos:
            kfail(f"DHEADER size {size} runs past the end", pos - 4)
        saved_end = r.end
        end = pos + size
        r.end = end
        r.pos = pos
        for step in self.steps:
            if r.pos >= end:
                break
            (<Scan>step).run(r, out)
        r.pos = end
        r.end = saved_end
        return 0


cdef class ScanMutable(Scan):
    """A mutable struct (XCDR2 EMHEADERs in a DHEADER, or XCDR1 parameters to the sentinel):
    the members the key needs are read where they are found, the others skipped."""
    cdef bint v2
    cdef str name
    cdef list ids             # member ids, with
    cdef list steps           # their steps (None: present, not needed)

    cdef Scan find(self, uint32_t mid, bint* known):
        cdef Py_ssize_t i
        for i in range(len(self.ids)):
            if <uint32_t>self.ids[i] == mid:
                known[0] = True
                return <Scan>self.steps[i]
        known[0] = False
        return None

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        if self.v2:
            return self.run2(r, out)
        return self.run1(r, out)

    cdef int run2(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4), end, saved_end, body, msize
        cdef uint32_t size, em, mid, lc, nxt
        cdef bint known
        cdef Scan step
        if pos + 4 > r.end:
            kfail("truncated: DHEADER past the end", pos)
        size = kload32(r, pos)
        pos += 4
        if size > r.end - pos:
            kfail(f"DHEADER size {size} runs past the end", pos - 4)
        saved_end = r.end
        end = pos + size
        while True:
            pos = kalign(pos, r.origin, 4)
            if pos >= end:
                break
            if pos + 4 > end:
                kfail("truncated: EMHEADER past the end of the struct", pos)
            em = kload32(r, pos)
            pos += 4
            lc = (em >> 28) & 7
            mid = em & MEMBER_ID_MASK
            body = pos
            if lc < 4:
                msize = 1 << lc
            else:
                if pos + 4 > end:
                    kfail("truncated: NEXTINT past the end of the struct", pos)
                nxt = kload32(r, pos)
                if lc == 4:
                    msize = nxt
                    body = pos + 4
                else:
                    msize = 4 + <Py_ssize_t>nxt * (1 if lc < 6 else 4 if lc == 6 else 8)
            if msize > end - body:
                kfail(f"member {mid} of {self.name} (length {msize}) runs past the end of "
                      f"the struct", pos - 4)
            step = self.find(mid, &known)
            if known:
                if step is not None:
                    r.pos = body
                    r.end = body + msize
                    step.run(r, out)
                    r.end = saved_end
            elif em >> 31:  # the EMHEADER M flag
                kfail(f"unknown must-understand member id {mid} in {self.name}", pos - 4)
            pos = body + msize
        r.pos = end
        return 0

    cdef int run1(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = r.pos, saved_origin = r.origin, saved_end = r.end
        cdef uint32_t pid, size, flags_pid, mid, mid_raw
        cdef bint mu, known
        cdef Scan step
        while True:
            pos = kalign(pos, saved_origin, 4)
            if pos + 4 > saved_end:
                kfail(f"truncated: parameter list of {self.name} has no sentinel", pos)
            pid = <uint32_t>kload(r.data + pos, 2, r.swap)
            size = <uint32_t>kload(r.data + pos + 2, 2, r.swap)
            pos += 4
            flags_pid = pid & XCDR1_PID_MASK
            if flags_pid == XCDR1_PID_LIST_END:
                break
            mu = (pid & XCDR1_PID_FLAG_MUST_UNDERSTAND) != 0
            if flags_pid == XCDR1_PID_EXTENDED:
                if pos + 8 > saved_end:
                    kfail("truncated: extended parameter header", pos)
                mid_raw = kload32(r, pos)
                size = kload32(r, pos + 4)
                pos += 8
                mid = mid_raw & MEMBER_ID_MASK
                mu = (mid_raw & PL_MUST_UNDERSTAND) != 0
            else:
                mid = flags_pid
            if size > saved_end - pos:
                kfail(f"parameter {mid} of {self.name} (length {size}) runs past the end", pos)
            step = self.find(mid, &known)
            if known:
                if step is not None:
                    r.origin = pos
                    r.pos = pos
                    r.end = pos + size
                    try:
                        step.run(r, out)
                    finally:
                        r.origin = saved_origin
                        r.end = saved_end
            elif mu and flags_pid == XCDR1_PID_EXTENDED:
                kfail(f"unknown must-understand member id {mid} in {self.name}", pos)
            pos += size
        r.pos = pos
        return 0


cdef class ReadLeaf(Scan):
    """A key leaf read as the pure scanner's decoders read it (and as leniently)."""
    cdef int kind
    cdef Py_ssize_t slot
    cdef int size
    cdef int align
    cdef bint f32
    cdef Py_ssize_t bound
    cdef Py_ssize_t length
    cdef int64_t[::1] valid   # enums: the literal values, sorted
    cdef str what

    cdef bint is_literal(self, int64_t v):
        cdef Py_ssize_t lo = 0, hi = self.valid.shape[0], mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.valid[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        return lo < self.valid.shape[0] and self.valid[lo] == v

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef KSlot* s = out + self.slot
        cdef Py_ssize_t pos = r.pos, n
        cdef uint64_t raw
        cdef int64_t v
        cdef int kind = self.kind
        if kind == LK_BOOL:
            if pos >= r.end:
                kfail("truncated: boolean past the end", pos)
            s.bits = r.data[pos] != 0
            r.pos = pos + 1
        elif kind == LK_PRIM or kind == LK_BITMASK or kind == LK_ENUM:
            pos = kalign(pos, r.origin, self.align)
            if pos + self.size > r.end:
                kfail(f"truncated: {self.what} needs {self.size} bytes", pos)
            raw = kload(r.data + pos, self.size, r.swap)
            if kind == LK_ENUM:
                v = <int64_t><int32_t><uint32_t>raw if self.size == 4 else <int64_t>raw
                if not self.is_literal(v):
                    kfail(f"{v} is not a value of {self.what}", pos)
                raw = <uint64_t>v
            elif self.f32:
                raw = rt_f32_roundtrip(<uint32_t>raw)
            s.bits = raw
            r.pos = pos + self.size
        elif kind == LK_STRING or kind == LK_WSTRING:
            pos = kalign(pos, r.origin, 4)
            if pos + 4 > r.end:
                kfail("truncated: string length past the end", pos)
            n = kload32(r, pos)
            pos += 4
            if kind == LK_STRING:
                if n == 0:
                    kfail("string length 0 (it must count the terminating NUL)", pos - 4)
                if n > r.end - pos:
                    kfail(f"string length {n} runs past the end", pos - 4)
                if r.data[pos + n - 1] != 0:
                    kfail("string is not NUL-terminated", pos + n - 1)
            else:
                if n > r.end - pos:
                    kfail(f"wstring length {n} runs past the end", pos - 4)
                if n & 1:
                    kfail(f"wstring byte length {n} is odd", pos - 4)
                v = rt_utf16_count(r.data + pos, n, r.little)
                if v < 0:
                    kfail("wstring is not valid UTF-16", pos)
                s.bits = <uint64_t>v
            s.pos = pos
            s.n = n
            r.pos = pos + n
        elif kind == LK_SEQ:
            pos = kalign(pos, r.origin, 4)
            if pos + 4 > r.end:
                kfail("truncated: sequence length past the end", pos)
            n = kload32(r, pos)
            pos += 4
            if self.bound >= 0 and n > self.bound:
                kfail(f"sequence length {n} exceeds its bound {self.bound}", pos - 4)
            if n:
                pos = kalign(pos, r.origin, self.align)
                if n * self.size > r.end - pos:
                    kfail(f"sequence of {n} x {self.size}-byte elements runs past the end", pos)
            s.pos = pos
            s.n = n
            r.pos = pos + n * self.size
        else:  # LK_ARR
            pos = kalign(pos, r.origin, self.align)
            if pos + self.length * self.size > r.end:
                kfail(f"truncated: array of {self.length} {self.what} past the end", pos)
            s.pos = pos
            r.pos = pos + self.length * self.size
        s.set = 1
        return 0


cdef class ResetThen(Scan):
    """A nested key struct in a mutable parent, which may repeat it: the decoder keeps the
    last one whole, so its slots start over."""
    cdef Py_ssize_t lo
    cdef Py_ssize_t hi
    cdef Scan inner

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        memset(out + self.lo, 0, (self.hi - self.lo) * sizeof(KSlot))
        return self.inner.run(r, out)


cdef class SkipFixed(Scan):
    cdef int size
    cdef int align
    cdef str what

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, self.align)
        if pos + self.size > r.end:
            kfail(f"truncated: {self.what} needs {self.size} bytes", pos)
        r.pos = pos + self.size
        return 0


cdef class SkipString(Scan):
    cdef bint wide

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4), n
        if pos + 4 > r.end:
            kfail("truncated: string length past the end", pos)
        n = kload32(r, pos)
        pos += 4
        if n > r.end - pos:
            kfail(f"string length {n} runs past the end", pos - 4)
        if self.wide:
            if n & 1:
                kfail(f"wstring byte length {n} is odd", pos - 4)
        elif n == 0:
            kfail("string length 0 (it must count the terminating NUL)", pos - 4)
        r.pos = pos + n
        return 0


cdef class SkipNumSeq(Scan):
    cdef int esize
    cdef int ealign
    cdef Py_ssize_t bound

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4), n
        if pos + 4 > r.end:
            kfail("truncated: sequence length past the end", pos)
        n = kload32(r, pos)
        pos += 4
        if self.bound >= 0 and n > self.bound:
            kfail(f"sequence length {n} exceeds its bound {self.bound}", pos - 4)
        if n:
            pos = kalign(pos, r.origin, self.ealign)
            if n * self.esize > r.end - pos:
                kfail(f"sequence of {n} x {self.esize}-byte elements runs past the end", pos)
            pos += n * self.esize
        r.pos = pos
        return 0


cdef class SkipDelimited(Scan):
    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4)
        cdef uint32_t size
        if pos + 4 > r.end:
            kfail("truncated: DHEADER past the end", pos)
        size = kload32(r, pos)
        pos += 4
        if size > r.end - pos:
            kfail(f"DHEADER size {size} runs past the end", pos - 4)
        r.pos = pos + size
        return 0


cdef class SkipListSeq(Scan):
    cdef Scan elem
    cdef Py_ssize_t bound

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, 4), n, i
        if pos + 4 > r.end:
            kfail("truncated: sequence length past the end", pos)
        n = kload32(r, pos)
        pos += 4
        if self.bound >= 0 and n > self.bound:
            kfail(f"sequence length {n} exceeds its bound {self.bound}", pos - 4)
        # every element takes a byte at least (as the pure scanner bounds it)
        if n > r.end - pos:
            kfail(f"sequence length {n} cannot fit in the {r.end - pos} bytes that remain",
                  pos - 4)
        r.pos = pos
        for i in range(n):
            self.elem.run(r, out)
        return 0


cdef class SkipListArr(Scan):
    cdef Scan elem
    cdef Py_ssize_t count

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t i
        for i in range(self.count):
            self.elem.run(r, out)
        return 0


cdef class SkipRun(Scan):
    """Consecutive primitive members skipped at once: their span (padding included) is
    the plan's for each start offset modulo the maximum alignment."""
    cdef Py_ssize_t spans[8]
    cdef int maxal
    cdef str names

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = r.pos
        cdef Py_ssize_t nxt = pos + self.spans[(pos - r.origin) & (self.maxal - 1)]
        if nxt > r.end:
            kfail(f"truncated: members {self.names} past the end", pos)
        r.pos = nxt
        return 0


cdef class SkipOptional(Scan):
    cdef Scan inner
    cdef bint v2
    cdef str name

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = r.pos
        cdef uint32_t pid, size
        if self.v2:
            if pos >= r.end:
                kfail(f"truncated: presence flag of optional {self.name}", pos)
            r.pos = pos + 1
            if r.data[pos]:  # the compiled decoder takes any non-zero flag as present
                self.inner.run(r, out)
            return 0
        pos = kalign(pos, r.origin, 4)
        if pos + 4 > r.end:
            kfail(f"truncated: parameter header of optional {self.name}", pos)
        pid = <uint32_t>kload(r.data + pos, 2, r.swap)
        size = <uint32_t>kload(r.data + pos + 2, 2, r.swap)
        pos += 4
        if (pid & XCDR1_PID_MASK) == XCDR1_PID_EXTENDED:
            if pos + 8 > r.end:
                kfail(f"truncated: extended header of optional {self.name}", pos)
            size = kload32(r, pos + 4)
            pos += 8
        if size > r.end - pos:
            kfail(f"optional {self.name} length {size} runs past the end", pos)
        r.pos = pos + size
        return 0


cdef class SkipUnion(Scan):
    """A union read as leniently as the compiled decoder reads it: the discriminator picks
    the branch to skip (a boolean is any non-zero byte, an enum any value)."""
    cdef int size
    cdef int align
    cdef bint signed
    cdef bint boolean
    cdef dict branches        # label -> Scan
    cdef Scan dflt

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        cdef Py_ssize_t pos = kalign(r.pos, r.origin, self.align)
        cdef uint64_t raw
        cdef int64_t label
        if pos + self.size > r.end:
            kfail(f"truncated: discriminator needs {self.size} bytes", pos)
        r.pos = pos + self.size
        raw = kload(r.data + pos, self.size, r.swap)
        if self.boolean:
            label = raw != 0
        elif not self.signed:
            label = <int64_t>raw
        elif self.size == 1:
            label = <int8_t>raw
        elif self.size == 2:
            label = <int16_t>raw
        elif self.size == 4:
            label = <int32_t>raw
        else:
            label = <int64_t>raw
        step = self.branches.get(label, self.dflt)
        if step is not None:
            (<Scan>step).run(r, out)
        return 0


cdef class Forward(Scan):
    """Where a recursive type reaches itself again: the depth is limited here."""
    cdef Scan target

    cdef int run(self, RBuf* r, KSlot* out) except -1:
        r.depth += 1
        if r.depth > MAX_DEPTH:
            kfail("nesting too deep", r.pos)
        self.target.run(r, out)
        r.depth -= 1
        return 0


cdef class _ScanBuilder:
    """Builds the scanner of one input form (a full sample or a key-only one) and version,
    node for node as rtbus.cdr.keys._ScanCompiler builds the pure one."""
    cdef bint v2
    cdef int maxal
    cdef str form
    cdef dict skips

    def __init__(self, bint xcdr2, bint key_input):
        self.v2 = xcdr2
        self.maxal = 4 if xcdr2 else 8
        self.form = "key_sample" if key_input else "data"
        self.skips = {}

    def scan(self, t, dict tree, bint tail):
        sp = P.plan_for(t, self.v2, self.form)
        members = sp.members
        if sp.ext == "mutable":
            return self.scan_mutable(t, members, tree)
        delimited = sp.dheader
        last = max((i for i, m in enumerate(members) if m.pyname in tree), default=-1)
        keep = len(members) if (tail and not delimited) else last + 1
        steps = []
        run = []

        def flush():
            if run:
                steps.append(self.skip_run(P.run_layout(tuple(run), self.maxal).sizes,
                                           [m.pyname for m in run]))
                run.clear()

        for i, m in enumerate(members[:keep]):
            entry = tree.get(m.pyname)
            if entry is None:
                if not m.optional and isinstance(m.node, P.PrimPlan):
                    run.append(m)
                    continue
                flush()
                steps.append(self.skip_optional(m.name, m.node) if m.optional
                             else self.skip_node(m.node))
                continue
            flush()
            more = (any(mm.pyname in tree for mm in members[i + 1:keep])
                    or (tail and not delimited))
            steps.append(self.member_step(m, entry, more, False))
        flush()
        cdef ScanSteps seq
        cdef ScanAppendable app
        if delimited:
            app = ScanAppendable()
            app.steps = steps
            return app
        if len(steps) == 1:
            return steps[0]
        seq = ScanSteps()
        seq.steps = steps
        return seq

    def member_step(self, m, entry, bint tail, bint reset):
        cdef ResetThen again
        if isinstance(entry, int):
            return self.leaf_reader(m.node, entry)
        sub, lo, hi = entry
        inner = self.scan(m.node.model, sub, tail)
        if not reset:
            return inner
        again = ResetThen()
        again.lo = lo
        again.hi = hi
        again.inner = inner
        return again

    def leaf_reader(self, node, Py_ssize_t slot):
        cdef ReadLeaf leaf = ReadLeaf()
        leaf.slot = slot
        leaf.bound = -1
        leaf.what = type(node).__name__
        if isinstance(node, P.PrimPlan):
            leaf.kind = LK_BOOL if node.kind == "boolean" else LK_PRIM
            leaf.size = node.size
            leaf.align = node.align
            leaf.f32 = node.kind == "float32"
            leaf.what = node.kind
        elif isinstance(node, P.EnumPlan):
            leaf.kind = LK_ENUM
            leaf.size = node.size
            leaf.align = node.align
            leaf.valid = np.array(sorted({lit.value for lit in node.model.literals}),
                                  dtype=np.int64)
            leaf.what = f"enum {node.model.name}"
        elif isinstance(node, P.BitmaskPlan):
            leaf.kind = LK_BITMASK
            leaf.size = node.size
            leaf.align = node.align
            leaf.what = f"bitmask {node.model.name}"
        elif isinstance(node, P.StringPlan):
            leaf.kind = LK_WSTRING if node.wide else LK_STRING
        elif isinstance(node, (P.PrimSeqPlan, P.PrimArrayPlan)) and node.elem.kind != "boolean":
            leaf.size = node.elem.size
            leaf.align = node.elem.align
            leaf.what = node.elem.kind
            if isinstance(node, P.PrimSeqPlan):
                leaf.kind = LK_SEQ
                leaf.bound = node.bound if node.bound is not None else -1
            else:
                leaf.kind = LK_ARR
                leaf.length = node.length
        else:
            raise NotImplementedError(f"key of type {node!r}")
        return leaf

    def scan_mutable(self, t, members, dict tree):
        cdef ScanMutable sm = ScanMutable()
        by_id = {}
        for m in members:
            entry = tree.get(m.pyname)
            by_id[m.id & P.MEMBER_ID_MASK] = (None if entry is None
                                              else self.member_step(m, entry, False, True))
        sm.v2 = self.v2
        sm.name = t.name
        sm.ids = list(by_id)
        sm.steps = list(by_id.values())
        return sm

    # ---- skipping -----------------------------------------------------------------------
    def skip_node(self, n):
        cdef Forward fwd
        if not isinstance(n, (P.StructPlan, P.UnionPlan)):
            return self.compile_skip(n)
        key = id(n)  # struct/union plans live on their model (stable ids), may be recursive
        fn = self.skips.get(key)
        if fn is not None:
            return fn
        fwd = Forward()
        self.skips[key] = fwd
        fn = self.compile_skip(n)
        fwd.target = fn
        self.skips[key] = fn
        return fn

    def fixed(self, int size, int align, str what):
        cdef SkipFixed s = SkipFixed()
        s.size = size
        s.align = align
        s.what = what
        return s

    def skip_run(self, spans, names):
        cdef SkipRun s = SkipRun()
        cdef int i
        for i in range(len(spans)):
            s.spans[i] = spans[i]
        s.maxal = self.maxal
        s.names = str(list(names))
        return s

    def skip_optional(self, str name, node):
        cdef SkipOptional s = SkipOptional()
        s.inner = self.skip_node(node)
        s.v2 = self.v2
        s.name = name
        return s

    def compile_skip(self, n):
        cdef SkipString ss
        cdef SkipNumSeq sq
        cdef SkipListSeq sl
        cdef SkipListArr sa
        cdef ScanSteps seq
        if isinstance(n, P.PrimPlan):
            return self.fixed(n.size, n.align, n.kind)
        if isinstance(n, P.EnumPlan):
            return self.fixed(n.size, n.align, f"enum {n.model.name}")
        if isinstance(n, P.BitmaskPlan):
            return self.fixed(n.size, n.align, f"bitmask {n.model.name}")
        if isinstance(n, P.StringPlan):
            ss = SkipString()
            ss.wide = n.wide
            return ss
        if isinstance(n, P.PrimSeqPlan):
            sq = SkipNumSeq()
            sq.esize = n.elem.size
            sq.ealign = n.elem.align
            sq.bound = n.bound if n.bound is not None else -1
            return sq
        if isinstance(n, P.PrimArrayPlan):
            return self.fixed(n.length * n.elem.size, n.align, "array")
        if isinstance(n, P.ListSeqPlan):
            if n.dheader:
                return SkipDelimited()
            sl = SkipListSeq()
            sl.elem = self.skip_node(n.elem)
            sl.bound = n.bound if n.bound is not None else -1
            return sl
        if isinstance(n, P.ListArrayPlan):
            if n.dheader:
                return SkipDelimited()
            sa = SkipListArr()
            sa.elem = self.skip_node(n.elem)
            sa.count = n.length
            return sa
        if isinstance(n, P.StructPlan):
            if n.dheader:
                return SkipDelimited()
            if n.ext == "mutable":
                return self.scan_mutable(n.model, n.members, {})
            steps = []
            for step in n.steps:
                if isinstance(step, P.RunPlan):
                    steps.append(self.skip_run(step.sizes, [m.pyname for m in step.members]))
                elif step.optional:
                    steps.append(self.skip_optional(step.name, step.node))
                else:
                    steps.append(self.skip_node(step.node))
            if len(steps) == 1:
                return steps[0]
            seq = ScanSteps()
            seq.steps = steps
            return seq
        if isinstance(n, P.UnionPlan):
            if n.dheader:
                return SkipDelimited()
            return self.skip_union(n)
        raise NotImplementedError(f"cannot skip plan {n!r}")

    def skip_union(self, n):
        cdef SkipUnion su = SkipUnion()
        d = n.disc
        if isinstance(d, P.EnumPlan):
            su.size = d.size
            su.signed = d.size == 4
        elif isinstance(d, P.PrimPlan) and d.fmt not in ("?", "c", "f", "d"):
            su.size = d.size
            su.signed = d.fmt.islower()
        elif isinstance(d, P.PrimPlan) and d.kind in ("boolean", "char"):
            su.size = 1
            su.boolean = d.kind == "boolean"
        else:
            raise NotImplementedError(f"union discriminator {d!r}")
        su.align = min(su.size, self.maxal)
        su.branches = {}
        su.dflt = None
        for case in n.cases:
            fn = self.skip_node(case.node)
            for lab in case.labels:
                su.branches[lab] = fn
            if case.is_default:
                su.dflt = fn
        return su


cdef class KeyScanner:
    """The key hash of a keyed struct's instances straight from serialized bytes (the
    compiled twin of rtbus.cdr.keys' scanner; see there): ``data(payload)`` reads a full
    sample, ``key(payload)`` a dispose/unregister's key-only payload (header included,
    either version and endianness). Each gives the 16-byte key hash, or None where this
    scanner does not take the payload's form (the caller then decodes and hashes), and
    raises DecodeError for bytes that cannot be read."""

    def __init__(self, model):
        if not isinstance(model, M.StructType) or not model.keyed:
            raise NotImplementedError(f"{model!r}: a key scanner needs a keyed struct")
        self.model = model
        self.md5 = P.max_key_size(model, True) > 16  # as key_hash: XCDR2 sizes
        self.leaves = []
        self.tree = self.alloc(model, frozenset())
        self.nslots = len(self.leaves)
        self.scanners = [None, None, None, None]  # by (xcdr2, key_input); False: not taken

    def alloc(self, t, stack):
        """Slots for the key leaves of ``t``, in KEYHASH order: pyname -> slot (a leaf) or
        (subtree, lo, hi) (a nested struct, whose leaves are slots lo..hi-1)."""
        cdef KeyLeaf leaf
        tree = {}
        kp = P.plan_for(t, True, "keyhash")
        for m in kp.members:
            node = m.node
            if isinstance(node, P.StructPlan):
                if id(node) in stack or len(stack) > 32:
                    raise NotImplementedError(f"recursive key member {m.name} of {t.name}")
                lo = len(self.leaves)
                sub = self.alloc(node.model, stack | {id(node)})
                tree[m.pyname] = (sub, lo, len(self.leaves))
                continue
            leaf = KeyLeaf()
            leaf.bound = -1
            leaf.what = f"{t.name}.{m.name}"
            if isinstance(node, P.PrimPlan):
                leaf.kind = LK_BOOL if node.kind == "boolean" else LK_PRIM
                leaf.size = node.size
                leaf.align = node.align
            elif isinstance(node, P.EnumPlan):
                leaf.kind = LK_ENUM
                leaf.size = node.size
                leaf.dflt = node.model.default_literal.value
            elif isinstance(node, P.BitmaskPlan):
                leaf.kind = LK_BITMASK
                leaf.size = node.size
                leaf.align = node.align
            elif isinstance(node, P.StringPlan):
                leaf.kind = LK_WSTRING if node.wide else LK_STRING
                leaf.bound = node.bound if (node.wide and node.bound is not None) else -1
            elif isinstance(node, (P.PrimSeqPlan, P.PrimArrayPlan)) \
                    and node.elem.kind != "boolean":
                leaf.size = node.elem.size
                leaf.ealign = node.elem.align
                if isinstance(node, P.PrimSeqPlan):
                    leaf.kind = LK_SEQ
                    leaf.bound = node.bound if node.bound is not None else -1
                else:
                    leaf.kind = LK_ARR
                    leaf.length = node.length
            else:  # the pure scanner's leaf readers refuse the same (it then decodes)
                raise NotImplementedError(f"key of type {node!r}")
            tree[m.pyname] = len(self.leaves)
            self.leaves.append(leaf)
        return tree

    cdef object scanner(self, bint xcdr2, bint key_input):
        cdef int i = (2 if xcdr2 else 0) + (1 if key_input else 0)
        s = self.scanners[i]
        if s is None:
            try:
                s = _ScanBuilder(xcdr2, key_input).scan(self.model, self.tree, False)
            except NotImplementedError:
                s = False
            self.scanners[i] = s
        return None if s is False else <Scan>s

    def scans(self, bint xcdr2, bint key_input=False) -> bool:
        """Whether this scanner reads that form (else the caller decodes and hashes)."""
        return self.scanner(xcdr2, key_input) is not None

    cdef object extract(self, const unsigned char* data, Py_ssize_t n, object owner,
                        bint key_input):
        cdef RBuf r
        cdef KBuf k
        cdef KSlot small[16]
        cdef KSlot* slots = small
        cdef Scan scan
        cdef Py_ssize_t i
        check_header(n, data)
        scan = self.scanner(data[1] >= 6, key_input)
        if scan is None:
            return None
        if self.nslots > 16:
            slots = <KSlot*>PyMem_Malloc(self.nslots * sizeof(KSlot))
            if slots == NULL:
                raise MemoryError()
        k.data = k.stack
        k.pos = 0
        k.cap = sizeof(k.stack)
        k.heap = NULL
        try:
            memset(slots, 0, self.nslots * sizeof(KSlot))
            r_open(&r, data, n, 4, data[1] >= 6, data[1] & 1, owner)
            scan.run(&r, slots)
            for i in range(self.nslots):
                (<KeyLeaf>self.leaves[i]).emit(&k, &r, slots + i)
            k_reserve(&k, 16)
            return hash_out(k.data, k.pos, self.md5)
        finally:
            if slots != small:
                PyMem_Free(slots)
            if k.heap != NULL:
                PyMem_Free(k.heap)

    def data(self, payload):
        """The key hash from a full serialized sample (None: not this scanner's form)."""
        cdef Py_buffer view
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            return self.extract(<const unsigned char*>view.buf, view.len, payload, False)
        finally:
            PyBuffer_Release(&view)

    def key(self, payload):
        """The key hash from a dispose/unregister's key-only payload (None: not taken)."""
        cdef Py_buffer view
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            return self.extract(<const unsigned char*>view.buf, view.len, payload, True)
        finally:
            PyBuffer_Release(&view)


def compile_key_scanner(model) -> KeyScanner:
    """The key scanner of a keyed struct model; NotImplementedError where it cannot take the
    key (recursive keys, unions or non-numeric collections in it, unions, keyless types)."""
    return KeyScanner(model)


# the wire constants compiled in (cdr.pxd), for the test that checks them against the Python
# definitions (rtbus.cdr.encapsulation, rtbus.cdr.plan)
WIRE_CONSTANTS = {
    "XCDR1_PID_MASK": XCDR1_PID_MASK,
    "XCDR1_PID_FLAG_MUST_UNDERSTAND": XCDR1_PID_FLAG_MUST_UNDERSTAND,
    "XCDR1_PID_EXTENDED": XCDR1_PID_EXTENDED,
    "XCDR1_PID_LIST_END": XCDR1_PID_LIST_END,
    "XCDR1_PID_EXTENDED_MU": XCDR1_PID_EXTENDED_MU,
    "XCDR1_PID_LIST_END_MU": XCDR1_PID_LIST_END_MU,
    "PL_MUST_UNDERSTAND": PL_MUST_UNDERSTAND,
    "MEMBER_ID_MASK": MEMBER_ID_MASK,
}
