# cython: language_level=3
"""What the compiled RTPS parser (ext/rtps_parse.pyx, built as ``rtbus._ext.rtps_parse``)
shares with other compiled modules, for ``from rtbus._ext.rtps_parse cimport ...`` (found
under that name because setup.py stages ext/*.pxd; see ext/cdr.pxd): the submessage ids it
dispatches on, the bounds-unchecked loads its parsers use after their explicit length
checks, and the parsers of the hot submessages and of a whole message, callable without a
Python frame.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, int64_t, uint64_t

# Submessage ids; the canonical definitions are rtbus/rtps/wire/constants.py (SMID_*), and
# tests/unit/test_compiled_keys.py checks these agree (rtbus._ext.rtps_parse.SUBMESSAGE_IDS).
cdef enum:
    SMID_PAD = 0x01
    SMID_ACKNACK = 0x06
    SMID_HEARTBEAT = 0x07
    SMID_GAP = 0x08
    SMID_INFO_TS = 0x09
    SMID_INFO_SRC = 0x0C
    SMID_INFO_REPLY_IP4 = 0x0D
    SMID_INFO_DST = 0x0E
    SMID_INFO_REPLY = 0x0F
    SMID_NACK_FRAG = 0x12
    SMID_HEARTBEAT_FRAG = 0x13
    SMID_DATA = 0x15
    SMID_DATA_FRAG = 0x16


cdef inline uint32_t rd32(const uint8_t* p, bint le) noexcept nogil:
    if le:
        return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef inline uint16_t rd16(const uint8_t* p, bint le) noexcept nogil:
    if le:
        return p[0] | (<uint16_t>p[1] << 8)
    return (<uint16_t>p[0] << 8) | p[1]


cdef inline int64_t rdsn(const uint8_t* p, bint le) noexcept nogil:
    cdef int32_t high = <int32_t>rd32(p, le)
    return <int64_t>((<uint64_t><int64_t>high << 32) | rd32(p + 4, le))


# Each takes the submessage body (``body`` the object, ``p``/``n`` its bytes), its flags and
# endianness, and returns the submessage object or raises rtbus.rtps.wire.message._Drop
cdef object p_data(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_data_frag(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_heartbeat(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_heartbeat_frag(const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_acknack(const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_nack_frag(const uint8_t* p, Py_ssize_t n, int flags, bint le)
cdef object p_gap(const uint8_t* p, Py_ssize_t n, int flags, bint le)

# rtbus.rtps.wire.message.parse_message's compiled twin (parse_message calls it)
cdef object parse_message_c(object datagram)
