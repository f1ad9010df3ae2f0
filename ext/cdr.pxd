# cython: language_level=3
"""What the compiled CDR codec (ext/cdr.pyx, built as ``rtbus._ext.cdr``) shares with other
compiled modules: the write/read buffers and their inline primitives, the plan nodes, the
codecs of a type's samples and keys, and the key scanner.

Another module reaches them without a Python frame with ``from rtbus._ext.cdr cimport ...``;
Cython finds this file by that full name because setup.py stages ext/*.pxd into
``build/pxd/rtbus/_ext/`` and puts ``build/pxd`` on the include path (edit this copy, in
ext/, only). Calls into the codec from another module go through the C pointers Cython
exports (``__pyx_capi__``) and the cdef classes' vtables; the inline buffer primitives below
are compiled into each module that cimports them, and call back into this one only to raise.
"""

from cpython.object cimport PyObject
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy, memset

cdef extern from *:
    """
    static inline uint16_t rt_bswap16(uint16_t v) { return __builtin_bswap16(v); }
    static inline uint32_t rt_bswap32(uint32_t v) { return __builtin_bswap32(v); }
    static inline uint64_t rt_bswap64(uint64_t v) { return __builtin_bswap64(v); }
    """
    uint16_t rt_bswap16(uint16_t v) nogil
    uint32_t rt_bswap32(uint32_t v) nogil
    uint64_t rt_bswap64(uint64_t v) nogil

# The XCDR1 parameter (member) header ids and the member-id word's bits. The canonical Python
# definitions are rtbus/cdr/encapsulation.py (XCDR1_PID_*) and rtbus/cdr/plan.py
# (PL_MUST_UNDERSTAND, MEMBER_ID_MASK); this is the one place compiled code spells them, and
# tests/unit/test_compiled_keys.py checks the two agree (rtbus._ext.cdr.WIRE_CONSTANTS).
cdef enum:
    XCDR1_PID_MASK = 0x3FFF
    XCDR1_PID_FLAG_MUST_UNDERSTAND = 0x4000
    XCDR1_PID_EXTENDED = 0x3F01        # an extended header follows: member id and length
    XCDR1_PID_LIST_END = 0x3F02        # the sentinel that closes a PL_CDR struct
    XCDR1_PID_EXTENDED_MU = 0x7F01     # XCDR1_PID_EXTENDED | must-understand
    XCDR1_PID_LIST_END_MU = 0x7F02     # XCDR1_PID_LIST_END | must-understand
    PL_MUST_UNDERSTAND = 0x40000000    # M in an extended header's member-id word (bit 30)
    MEMBER_ID_MASK = 0x0FFFFFFF        # the member id in that word and in an EMHEADER
    MAX_DEPTH = 256                    # nesting the codec and the key scanner follow


# ---- buffers --------------------------------------------------------------------------------
cdef struct WBuf:
    PyObject* obj          # the bytes object being written (resized in place; owned)
    unsigned char* data
    Py_ssize_t cap
    Py_ssize_t pos
    Py_ssize_t origin      # alignment is relative to this offset
    bint swap              # the output's byte order is not the machine's
    bint little
    bint xcdr2
    int maxalign
    int depth

cdef struct RBuf:
    const unsigned char* data
    Py_ssize_t pos
    Py_ssize_t end         # the end of the innermost delimited section
    Py_ssize_t origin
    bint swap
    bint little
    bint xcdr2
    int maxalign
    int depth
    PyObject* owner        # the input object (numeric arrays are views of it)

# WBuf life cycle: w_open, then the w_* writes, then w_close (the bytes, header included) and
# in any case w_release (drops the buffer if w_close did not take it)
cdef int w_open(WBuf* w, Py_ssize_t cap, bint xcdr2, bint little, Py_ssize_t origin) except -1
cdef object w_close(WBuf* w)
cdef void w_release(WBuf* w) noexcept
cdef int w_grow(WBuf* w, Py_ssize_t n) except -1
cdef int r_truncated(RBuf* r, Py_ssize_t n) except -1
cdef int r_past_end(RBuf* r) except -1
cdef int fail(RBuf* r, str what) except -1


cdef inline int w_reserve(WBuf* w, Py_ssize_t n) except -1:
    if w.pos + n > w.cap:
        w_grow(w, n)
    return 0


cdef inline int w_align(WBuf* w, int n) except -1:
    cdef Py_ssize_t pad
    if n > w.maxalign:
        n = w.maxalign
    pad = (-(w.pos - w.origin)) & (n - 1)
    if pad:
        w_reserve(w, pad)
        memset(w.data + w.pos, 0, pad)
        w.pos += pad
    return 0


cdef inline int w_u8(WBuf* w, uint8_t v) except -1:
    w_reserve(w, 1)
    w.data[w.pos] = v
    w.pos += 1
    return 0


cdef inline int w_u16(WBuf* w, uint16_t v) except -1:
    w_align(w, 2)
    w_reserve(w, 2)
    if w.swap:
        v = rt_bswap16(v)
    memcpy(w.data + w.pos, &v, 2)
    w.pos += 2
    return 0


cdef inline int w_u32(WBuf* w, uint32_t v) except -1:
    w_align(w, 4)
    w_reserve(w, 4)
    if w.swap:
        v = rt_bswap32(v)
    memcpy(w.data + w.pos, &v, 4)
    w.pos += 4
    return 0


cdef inline int w_u64(WBuf* w, uint64_t v) except -1:
    w_align(w, 8)
    w_reserve(w, 8)
    if w.swap:
        v = rt_bswap64(v)
    memcpy(w.data + w.pos, &v, 8)
    w.pos += 8
    return 0


cdef inline void w_patch_u32(WBuf* w, Py_ssize_t at, uint32_t v) noexcept:
    if w.swap:
        v = rt_bswap32(v)
    memcpy(w.data + at, &v, 4)


cdef inline int w_bytes(WBuf* w, const void* src, Py_ssize_t n) except -1:
    w_reserve(w, n)
    memcpy(w.data + w.pos, src, n)
    w.pos += n
    return 0


cdef inline int r_need(RBuf* r, Py_ssize_t n) except -1:
    if n < 0 or r.pos + n > r.end:
        r_truncated(r, n)
    return 0


cdef inline int r_align(RBuf* r, int n) except -1:
    if n > r.maxalign:
        n = r.maxalign
    r.pos += (-(r.pos - r.origin)) & (n - 1)
    if r.pos > r.end:
        r_past_end(r)
    return 0


cdef inline uint8_t r_u8(RBuf* r) except? 0xff:
    r_need(r, 1)
    r.pos += 1
    return r.data[r.pos - 1]


cdef inline uint16_t r_u16(RBuf* r) except? 0xffff:
    cdef uint16_t v
    r_align(r, 2)
    r_need(r, 2)
    memcpy(&v, r.data + r.pos, 2)
    r.pos += 2
    return rt_bswap16(v) if r.swap else v


cdef inline uint32_t r_u32(RBuf* r) except? 0xffffffff:
    cdef uint32_t v
    r_align(r, 4)
    r_need(r, 4)
    memcpy(&v, r.data + r.pos, 4)
    r.pos += 4
    return rt_bswap32(v) if r.swap else v


cdef inline uint64_t r_u64(RBuf* r) except? 0xffffffffffffffff:
    cdef uint64_t v
    r_align(r, 8)
    r_need(r, 8)
    memcpy(&v, r.data + r.pos, 8)
    r.pos += 8
    return rt_bswap64(v) if r.swap else v


# ---- plan nodes (rtbus.cdr.plan made executable) --------------------------------------------
cdef class Node:
    cdef int enc(self, WBuf* w, object v) except -1
    cdef object dec(self, RBuf* r)
    cdef object default(self)


cdef class PrimNode(Node):
    cdef int kind
    cdef int size


cdef class EnumNode(Node):
    cdef int size
    cdef object pyclass
    cdef dict members
    cdef bint bitmask
    cdef object dflt
    cdef object valid         # key forms: the literal values (encode refuses others), else None
    cdef str name


cdef class StringNode(Node):
    cdef object bound
    cdef Py_ssize_t cbound
    cdef bint wide


cdef class PrimArrayNode(Node):
    cdef int esize
    cdef Py_ssize_t count      # array length, or -1 for a sequence
    cdef Py_ssize_t bound      # sequence bound or -1
    cdef tuple shape
    cdef object dt_le
    cdef object dt_be
    cdef object kind_name


cdef class ListNode(Node):
    cdef Node elem
    cdef Py_ssize_t count
    cdef Py_ssize_t bound
    cdef tuple shape
    cdef bint dheader
    cdef Py_ssize_t emin       # the fewest bytes an element takes (>= 1)
    cdef Py_ssize_t cap        # the most elements when they may take no bytes, or -1
    cdef int enc_dim(self, WBuf* w, object v, int dim) except -1
    cdef object dec_dim(self, RBuf* r, int dim)


cdef class MemberPlan:
    cdef Node node
    cdef object name          # interned attribute name
    cdef bint optional
    cdef uint32_t mid
    cdef uint32_t pl_id       # XCDR1 parameter header member-id word (M in bit 30)
    cdef uint32_t emheader    # XCDR2 EMHEADER word
    cdef bint nextint         # XCDR2: a NEXTINT length follows the EMHEADER


cdef class StructNode(Node):
    cdef list members         # of MemberPlan
    cdef tuple mplans
    cdef Py_ssize_t n
    cdef int ext              # 0 final, 1 appendable, 2 mutable
    cdef bint dheader         # a non-mutable struct with a DHEADER (XCDR2 appendable)
    cdef object unchecked
    cdef object cls
    cdef bint fast_new
    cdef dict by_id
    cdef str name
    # key-only forms lay out some fields only (rtbus.cdr.plan.StructPlan.partial); decoding
    # gives the others their defaults
    cdef bint partial
    cdef Py_ssize_t nfields   # the class's fields
    cdef tuple fields         # the field index of each member on the wire
    cdef tuple others         # (field index, name, default, model type when made anew) of the rest
    cdef int set_others(self, object obj) except -1
    cdef tuple full(self, tuple vals)
    cdef int enc_body(self, WBuf* w, object v, Py_ssize_t* cur) except -1
    cdef object dec_optional(self, RBuf* r, MemberPlan mp)
    cdef tuple dec_mutable(self, RBuf* r)


cdef class UnionNode(Node):
    cdef Node disc
    cdef dict cases           # label int -> Node or None (empty branch)
    cdef Node default_node
    cdef bint has_default
    cdef bint appendable
    cdef bint char_disc
    cdef object unchecked
    cdef object dflt_disc
    cdef str name
    cdef object dname
    cdef object vname
    cdef Node branch(self, object label, bint* found)


# ---- codecs ---------------------------------------------------------------------------------
cdef class Codec:
    cdef Node root1            # XCDR1 plan, built on first use
    cdef Node root2            # XCDR2 plan
    cdef unsigned char id1
    cdef unsigned char id2
    cdef Py_ssize_t hint
    cdef str root_name
    cdef readonly object model
    cdef Node root(self, bint xcdr2)


cdef class KeyCodec:
    cdef readonly object model
    cdef Node sample1          # the key-only SAMPLE form (a DATA(K)), XCDR1 built on first use
    cdef Node sample2
    cdef Node hash1            # the KEYHASH form (no header), XCDR1 built on first use
    cdef Node hash2
    cdef unsigned char id1
    cdef unsigned char id2
    cdef bint md5_1            # the key may exceed 16 bytes: its hash is the MD5 (per version)
    cdef bint md5_2
    cdef Py_ssize_t hint
    cdef str root_name
    cdef Node sample_root(self, bint xcdr2)
    cdef Node hash_root(self, bint xcdr2)
    cdef object key_hash(self, object sample, bint xcdr2)


cdef class KeyScanner:
    cdef readonly object model
    cdef bint md5              # the key may exceed 16 bytes: its hash is the MD5
    cdef list leaves           # of KeyLeaf: how each slot is written in the KEYHASH form
    cdef dict tree             # member pyname -> slot, or (subtree, first slot, end slot)
    cdef Py_ssize_t nslots
    cdef list scanners         # by (xcdr2, key_input): the scanner, None (not built), False
    cdef object scanner(self, bint xcdr2, bint key_input)
    # the key hash from a payload (header included), None where the form is not scanned
    cdef object extract(self, const unsigned char* data, Py_ssize_t n, object owner,
                        bint key_input)


# the RTPS key hash of a KEYHASH-form key (``key`` has room for 16 bytes at least)
cdef object hash_out(unsigned char* key, Py_ssize_t n, bint md5)
