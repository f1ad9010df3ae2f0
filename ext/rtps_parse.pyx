# cython: language_level=3
"""Compiled twin of ``rtbus.rtps.wire.message.parse_message``.

Same input, same output, same drop reasons (proven by tests/unit/test_wire_parity.py over the
Cyclone captures, built messages and random mutations). What is compiled: the message loop,
the receiver context, and the hot submessages (DATA, DATA_FRAG, HEARTBEAT, HEARTBEAT_FRAG,
ACKNACK, NACK_FRAG, GAP, INFO_TS, INFO_DST), read with bounds-checked C loads instead of
``struct``. Rare paths (inline QoS lists, heartbeat group info, INFO_SRC, INFO_REPLY, PAD) call
the pure-Python functions, so they cannot drift. Objects are built with the same fast
constructors as the Python parser.

The module is compiled with boundscheck off: every read below is preceded by an explicit length
check, in the same order as the Python twin's reads (so the same reason wins when several
rules break).
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, int64_t, uint64_t

from rtbus.errors import MalformedError
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire import message as M
from rtbus.rtps.wire.guid import EntityId, GuidPrefix
from rtbus.rtps.wire.sequence_numbers import FragmentNumberSet, SequenceNumberSet
from rtbus.rtps.wire.submessages import (
    InfoDst, InfoReply, InfoSrc, InfoTs, Pad, RawSubmessage, Received,
)

cdef object _Drop = M._Drop
cdef object _bytes_new = bytes.__new__
cdef object _tuple_new = tuple.__new__
cdef object _mk_data = M._mk_data
cdef object _mk_data_frag = M._mk_data_frag
cdef object _mk_heartbeat = M._mk_heartbeat
cdef object _mk_acknack = M._mk_acknack
cdef object _mk_gap = M._mk_gap
cdef object _mk_info_ts = M._mk_info_ts
cdef object _mk_info_dst = M._mk_info_dst
cdef object _mk_heartbeat_frag = M.fast_constructor(M.HeartbeatFrag)
cdef object _mk_nack_frag = M.fast_constructor(M.NackFrag)
cdef object _inline_qos = M._inline_qos
cdef object _PREEMPTIVE = M._PREEMPTIVE_ACK_STATE
cdef object _UNKNOWN_PREFIX = M.GUIDPREFIX_UNKNOWN
cdef object _LE = M._LE
cdef object _BE = M._BE
cdef object _Message = M.Message
cdef dict _PY_PARSERS = M._PARSERS
cdef object _SEQ_UNKNOWN = M.SEQUENCE_NUMBER_UNKNOWN
cdef int64_t SEQ_UNKNOWN = -(1 << 32)


cdef inline object eid(const uint8_t* p):
    return _bytes_new(EntityId, (<const char*>p)[:4])


cdef object members(const uint8_t* words, uint32_t num_bits, int64_t base, bint le):
    cdef list out = []
    cdef uint32_t i, w
    for i in range(num_bits):
        if (i & 31) == 0:
            w = rd32(words + 4 * (i >> 5), le)
            if w == 0:
                continue
        if w & (0x80000000u >> (i & 31)):
            out.append(base + i)
    return tuple(out)


cdef object p_data(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 20:
        raise _Drop("submsg_length")
    cdef uint16_t extra = rd16(p, le)
    cdef uint16_t to_qos = rd16(p + 2, le)
    cdef int64_t sn = rdsn(p + 12, le)
    if sn < 1 and sn != SEQ_UNKNOWN:
        raise _Drop("bad_seqnum")
    if flags & 0x04 and flags & 0x08:
        raise _Drop("bad_flags")
    cdef Py_ssize_t pos = 4 + to_qos
    if flags & 0x0E and (to_qos < 16 or pos > n):
        raise _Drop("submsg_length")
    qos = None
    if flags & 0x02:
        qos, pos = _inline_qos(body, pos, le)
    payload = None
    if flags & 0x0C:
        if n - pos < 4:
            raise _Drop("submsg_length")
        payload = body[pos:]
    return _mk_data(eid(p + 4), eid(p + 8), sn, qos, payload, bool(flags & 0x08),
                    bool(flags & 0x10), extra)


cdef object p_data_frag(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 20:
        raise _Drop("submsg_length")
    cdef uint16_t extra = rd16(p, le)
    cdef uint16_t to_qos = rd16(p + 2, le)
    cdef int64_t sn = rdsn(p + 12, le)
    if sn < 1 and sn != SEQ_UNKNOWN:
        raise _Drop("bad_seqnum")
    if n < 32:
        raise _Drop("submsg_length")
    cdef int64_t start = rd32(p + 20, le)
    cdef int64_t count = rd16(p + 24, le)
    cdef int64_t fsize = rd16(p + 26, le)
    cdef int64_t ssize = rd32(p + 28, le)
    if start < 1 or count < 1 or fsize < 1 or (start + count - 2) * fsize >= ssize:
        raise _Drop("frag_fields")
    cdef Py_ssize_t pos = 4 + to_qos
    if to_qos < 28 or pos > n:
        raise _Drop("submsg_length")
    qos = None
    if flags & 0x02:
        qos, pos = _inline_qos(body, pos, le)
    cdef int64_t want = count * fsize
    if ssize - (start - 1) * fsize < want:
        want = ssize - (start - 1) * fsize
    if n - pos < want:
        raise _Drop("frag_fields")
    if start == 1 and n - pos < 4:
        raise _Drop("submsg_length")
    return _mk_data_frag(eid(p + 4), eid(p + 8), sn, start, count, fsize, ssize, qos,
                         body[pos:pos + want], bool(flags & 0x04), bool(flags & 0x08), extra)


cdef object p_heartbeat(object body, const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if flags & 0x08:
        return M._p_heartbeat(body, flags, _LE if le else _BE, le)  # group info: rare
    if n < 28:
        raise _Drop("submsg_length")
    cdef int64_t first = rdsn(p + 8, le)
    cdef int64_t last = rdsn(p + 16, le)
    if first < 1 or last < 0 or last < first - 1:
        raise _Drop("bad_seqnum")
    return _mk_heartbeat(eid(p), eid(p + 4), first, last, rd32(p + 24, le), bool(flags & 0x02),
                         bool(flags & 0x04), None)


cdef object p_heartbeat_frag(const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 24:
        raise _Drop("submsg_length")
    cdef int64_t sn = rdsn(p + 8, le)
    if sn < 1:
        raise _Drop("bad_seqnum")
    cdef uint32_t last_frag = rd32(p + 16, le)
    if last_frag < 1:
        raise _Drop("frag_fields")
    return _mk_heartbeat_frag(eid(p), eid(p + 4), sn, last_frag, rd32(p + 20, le))


cdef object seqset(const uint8_t* p, Py_ssize_t n, Py_ssize_t pos, bint le, Py_ssize_t* after):
    """SequenceNumberSet at pos (its 12-byte header already known to fit)."""
    cdef int64_t base = rdsn(p + pos, le)
    cdef uint32_t num_bits = rd32(p + pos + 8, le)
    if base < 1:
        raise _Drop("bad_numset")
    if num_bits > 256:
        raise _Drop("bad_numset")
    cdef Py_ssize_t nwords = (num_bits + 31) >> 5
    if pos + 12 + 4 * nwords > n:
        raise _Drop("bad_numset")
    after[0] = pos + 12 + 4 * nwords
    return SequenceNumberSet(base, members(p + pos + 12, num_bits, base, le), num_bits)


cdef object p_acknack(const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 20:
        raise _Drop("submsg_length")
    cdef Py_ssize_t pos
    if rd32(p + 8, le) == 0 and rd32(p + 12, le) == 0 and rd32(p + 16, le) == 0:
        state = _PREEMPTIVE
        pos = 20
    else:
        state = seqset(p, n, 8, le, &pos)
    if pos + 4 > n:
        raise _Drop("submsg_length")
    return _mk_acknack(eid(p), eid(p + 4), state, rd32(p + pos, le), bool(flags & 0x02))


cdef object p_nack_frag(const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 16:
        raise _Drop("submsg_length")
    cdef int64_t sn = rdsn(p + 8, le)
    if sn < 1:
        raise _Drop("bad_seqnum")
    if n < 24:
        raise _Drop("submsg_length")
    cdef int64_t base = rd32(p + 16, le)
    cdef uint32_t num_bits = rd32(p + 20, le)
    if base < 1:
        raise _Drop("bad_numset")
    if num_bits > 256:
        raise _Drop("bad_numset")
    cdef Py_ssize_t nwords = (num_bits + 31) >> 5
    if 24 + 4 * nwords > n:
        raise _Drop("bad_numset")
    cdef Py_ssize_t pos = 24 + 4 * nwords
    state = FragmentNumberSet(base, members(p + 24, num_bits, base, le), num_bits)
    if pos + 4 > n:
        raise _Drop("submsg_length")
    return _mk_nack_frag(eid(p), eid(p + 4), sn, state, rd32(p + pos, le))


cdef object p_gap(const uint8_t* p, Py_ssize_t n, int flags, bint le):
    if n < 16:
        raise _Drop("submsg_length")
    cdef int64_t start = rdsn(p + 8, le)
    if start < 1:
        raise _Drop("bad_seqnum")
    if n < 28:
        raise _Drop("submsg_length")
    cdef Py_ssize_t pos
    gap_list = seqset(p, n, 16, le, &pos)
    group = None
    filtered = None
    if flags & 0x02:
        if pos + 16 > n:
            raise _Drop("submsg_length")
        group = (rdsn(p + pos, le), rdsn(p + pos + 8, le))
        pos += 16
    if flags & 0x04:
        if pos + 4 > n:
            raise _Drop("submsg_length")
        filtered = rd32(p + pos, le)
    return _mk_gap(eid(p), eid(p + 4), start, gap_list, group, filtered)


def parse_message(datagram):
    """See rtbus.rtps.wire.message.parse_message (this is its compiled twin)."""
    return parse_message_c(datagram)


# the submessage ids compiled in (rtps_parse.pxd), for the test that checks them against
# rtbus.rtps.wire.constants
SUBMESSAGE_IDS = {
    "SMID_PAD": SMID_PAD, "SMID_ACKNACK": SMID_ACKNACK, "SMID_HEARTBEAT": SMID_HEARTBEAT,
    "SMID_GAP": SMID_GAP, "SMID_INFO_TS": SMID_INFO_TS, "SMID_INFO_SRC": SMID_INFO_SRC,
    "SMID_INFO_REPLY_IP4": SMID_INFO_REPLY_IP4, "SMID_INFO_DST": SMID_INFO_DST,
    "SMID_INFO_REPLY": SMID_INFO_REPLY, "SMID_NACK_FRAG": SMID_NACK_FRAG,
    "SMID_HEARTBEAT_FRAG": SMID_HEARTBEAT_FRAG, "SMID_DATA": SMID_DATA,
    "SMID_DATA_FRAG": SMID_DATA_FRAG,
}


cdef object parse_message_c(object datagram):
    buf = memoryview(datagram)
    if buf.ndim != 1 or buf.itemsize != 1 or buf.format not in ("B", "b", "c"):
        buf = buf.cast("B")
    cdef const uint8_t[::1] v = buf.cast("B") if buf.format != "B" else buf
    cdef Py_ssize_t size = v.shape[0]
    if size == M.RTPS_PING_SIZE and bytes(v[8:16]) == M.RTPS_PING_MARK \
            and bytes(v[:4]) == b"RTPS":
        return _Message((v[4], v[5]), (v[6] << 8) | v[7], _UNKNOWN_PREFIX,
                        dropped=["rtps_ping"])
    if size < 20:
        raise MalformedError("short_header", f"{size} bytes, expected >= 20")
    cdef const uint8_t* base = &v[0]
    if not (base[0] == 0x52 and base[1] == 0x54 and base[2] == 0x50 and base[3] == 0x53):
        raise MalformedError("bad_protocol", f"{bytes(buf[:4])!r}, expected b'RTPS'")
    cdef int major = base[4]
    cdef int minor = base[5]
    if major != 2:
        raise MalformedError("version", f"{major}.{minor}, expected 2.x")
    cdef int vendor = (base[6] << 8) | base[7]
    prefix = _bytes_new(GuidPrefix, (<const char*>base)[8:20])
    msg = _Message((major, minor), vendor, prefix)
    cdef list subs = msg.submessages
    cdef list received = msg.received
    cdef list dropped = msg.dropped
    src = prefix
    src_vendor = vendor
    src_version = (major, minor)
    dst = _UNKNOWN_PREFIX
    ts = None
    reply_uni = ()
    reply_multi = ()
    cdef Py_ssize_t pos = 20, body, end
    cdef int smid, flags
    cdef bint le
    cdef uint16_t length
    cdef const uint8_t* p
    cdef Py_ssize_t n
    cdef int32_t sec
    cdef uint32_t frac
    while pos < size:
        if size - pos < 4:
            dropped.append("submsg_truncated")
            break
        smid = base[pos]
        flags = base[pos + 1]
        le = flags & 1
        length = rd16(base + pos + 2, le)
        body = pos + 4
        if length == 0 and smid != SMID_PAD and smid != SMID_INFO_TS:
            end = size
        else:
            end = body + length
            if end > size:
                dropped.append("submsg_truncated")
                break
        pos = end
        p = base + body
        n = end - body
        try:
            if smid == SMID_DATA:
                sub = p_data(buf[body:end], p, n, flags, le)
            elif smid == SMID_HEARTBEAT:
                sub = p_heartbeat(buf[body:end], p, n, flags, le)
            elif smid == SMID_INFO_TS:
                if flags & 0x02:
                    sub = _mk_info_ts(None)
                else:
                    if n < 8:
                        raise _Drop("submsg_length")
                    sec = <int32_t>rd32(p, le)
                    frac = rd32(p + 4, le)
                    sub = _mk_info_ts(<int64_t>sec * 1000000000 +
                                      <int64_t>((<uint64_t>frac * 1000000000) >> 32))
            elif smid == SMID_INFO_DST:
                if n < 12:
                    raise _Drop("submsg_length")
                sub = _mk_info_dst(_bytes_new(GuidPrefix, (<const char*>p)[:12]))
            elif smid == SMID_ACKNACK:
                sub = p_acknack(p, n, flags, le)
            elif smid == SMID_DATA_FRAG:
                sub = p_data_frag(buf[body:end], p, n, flags, le)
            elif smid == SMID_GAP:
                sub = p_gap(p, n, flags, le)
            elif smid == SMID_NACK_FRAG:
                sub = p_nack_frag(p, n, flags, le)
            elif smid == SMID_HEARTBEAT_FRAG:
                sub = p_heartbeat_frag(p, n, flags, le)
            else:
                parse = _PY_PARSERS.get(smid)
                if parse is None:
                    sub = RawSubmessage(smid, flags, buf[body:end])
                else:
                    sub = parse(buf[body:end], flags, _LE if le else _BE, le)
        except _Drop as d:
            dropped.append(d.reason)
            continue
        except M.struct.error:
            dropped.append("submsg_length")
            continue
        subs.append(sub)
        cls = type(sub)
        if cls is InfoTs:
            ts = sub.timestamp
        elif cls is InfoDst:
            dst = sub.guid_prefix
        elif cls is InfoSrc:
            src = sub.guid_prefix
            src_vendor = sub.vendor_id
            src_version = sub.protocol_version
            dst = _UNKNOWN_PREFIX
            ts = None
            reply_uni = ()
            reply_multi = ()
        elif cls is InfoReply:
            reply_uni = sub.unicast_locators
            if sub.multicast_locators is not None:
                reply_multi = sub.multicast_locators
        elif cls is not Pad:
            received.append(_tuple_new(Received, (sub, src, dst, ts, src_vendor, src_version,
                                                  reply_uni, reply_multi)))
    return msg

