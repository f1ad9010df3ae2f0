"""The inline QoS every keyed write carries (a key hash, then the sentinel) is read by a
shortcut; it must give what the parameter-list parse gives, in both byte orders, and leave
every other list to that parse."""

from __future__ import annotations

import struct

import pytest

from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire import message as M
from rtbus.rtps.wire.parameters import parse_parameter_list

KEY = bytes(range(16))


def plist(le: bool, *params: tuple[int, bytes]) -> bytes:
    fmt = "<HH" if le else ">HH"
    out = b"".join(struct.pack(fmt, pid, len(v)) + v for pid, v in params)
    return out + struct.pack(fmt, C.PID_SENTINEL, 0)


def full_parse(buf: bytes, le: bool) -> tuple[wire.InlineQos, int]:
    """What the general path makes of ``buf``, computed here without the shortcut."""
    items, pos = parse_parameter_list(memoryview(buf), 0, le)
    kh = next((bytes(v[:16]) for p, v in items if p == C.PID_KEY_HASH), None)
    st = next((int.from_bytes(v[:4], "big") for p, v in items if p == C.PID_STATUS_INFO), None)
    rest = tuple((p, bytes(v)) for p, v in items if p not in (C.PID_KEY_HASH, C.PID_STATUS_INFO))
    return wire.InlineQos(kh, st, rest), pos


@pytest.mark.parametrize("le", [True, False])
def test_key_hash_only_list_reads_as_the_full_parse_reads_it(le: bool) -> None:
    buf = plist(le, (C.PID_KEY_HASH, KEY)) + b"tail"
    fast = M._inline_qos(memoryview(buf), 0, le)
    assert fast == full_parse(buf, le) == (wire.InlineQos(KEY, None, ()), 24)


@pytest.mark.parametrize("le", [True, False])
def test_other_lists_take_the_full_parse(le: bool) -> None:
    status = (3).to_bytes(4, "big")
    for params in [((C.PID_KEY_HASH, KEY), (C.PID_STATUS_INFO, status)),
                   ((C.PID_STATUS_INFO, status), (C.PID_KEY_HASH, KEY)),
                   ((C.PID_KEY_HASH, KEY + bytes(4)),)]:  # a longer value: not the shortcut
        buf = plist(le, *params)
        assert M._inline_qos(memoryview(buf), 0, le) == full_parse(buf, le)


def test_key_hash_without_sentinel_is_not_taken_for_one() -> None:
    fmt = "<HH"
    buf = struct.pack(fmt, C.PID_KEY_HASH, 16) + KEY + struct.pack(fmt, 0x8001, 0) \
        + struct.pack(fmt, C.PID_SENTINEL, 0)
    qos, pos = M._inline_qos(memoryview(buf), 0, True)
    assert qos.key_hash == KEY and pos == len(buf) and qos.parameters == ((0x8001, b""),)
