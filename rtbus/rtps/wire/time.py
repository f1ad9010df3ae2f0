"""RTPS Time_t / Duration_t (seconds + 2^-32 fractions) and our nanosecond integers.

The core works in integer nanoseconds; the wire has ``{int32 seconds, uint32 fraction}``.
ns -> fraction rounds up and fraction -> ns rounds down, so ns -> wire -> ns is exact (a
fraction step is 0.23 ns) and our fractions equal Cyclone DDS's for the same instant (checked
on captured INFO_TS).
Durations map DURATION_INFINITE to :data:`DURATION_INFINITE_NS` (2^63-1, as DDS_INFINITY).
"""

from __future__ import annotations

from typing import NamedTuple

NS_PER_S = 1_000_000_000
DURATION_INFINITE_NS = (1 << 63) - 1


class Time(NamedTuple):
    seconds: int  # int32
    fraction: int  # uint32, units of 2^-32 s

    def to_ns(self) -> int:
        return self.seconds * NS_PER_S + ((self.fraction * NS_PER_S) >> 32)

    @classmethod
    def from_ns(cls, ns: int) -> Time:
        sec, rem = divmod(ns, NS_PER_S)
        return cls(sec, -((-rem << 32) // NS_PER_S))  # ceil; < 2^32 as rem < 10^9


TIME_ZERO = Time(0, 0)
TIME_INVALID = Time(-1, 0xFFFFFFFF)
TIME_INFINITE = Time(0x7FFFFFFF, 0xFFFFFFFF)
DURATION_ZERO = Time(0, 0)
DURATION_INFINITE = Time(0x7FFFFFFF, 0xFFFFFFFF)


def duration_to_ns(seconds: int, fraction: int) -> int:
    if seconds == 0x7FFFFFFF and fraction == 0xFFFFFFFF:
        return DURATION_INFINITE_NS
    return Time(seconds, fraction).to_ns()


def duration_from_ns(ns: int) -> Time:
    if ns >= DURATION_INFINITE_NS or ns // NS_PER_S >= 0x7FFFFFFF:
        return DURATION_INFINITE
    return Time.from_ns(ns)
