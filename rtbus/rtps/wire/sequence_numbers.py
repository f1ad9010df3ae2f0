"""Sequence numbers and the bitmap sets ACKNACK, GAP and NACK_FRAG carry.

A sequence number is a plain Python ``int``; on the wire it is ``{int32 high, uint32 low}``
(:func:`seq_split` / :func:`seq_join`). ``SequenceNumberSet`` / ``FragmentNumberSet`` hold the
base and the member numbers (a tuple, sorted); ``num_bits`` is the numBits seen on the wire
(senders may send more bits than the highest member needs), kept for fidelity but not part of
equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SET_BITS = 256
SEQUENCE_NUMBER_UNKNOWN = -(1 << 32)  # {high=-1, low=0}
SEQUENCE_NUMBER_MAX = (1 << 63) - 1


def seq_split(seq: int) -> tuple[int, int]:
    """``(high, low)`` as on the wire: high is int32, low uint32."""
    return seq >> 32, seq & 0xFFFFFFFF


def seq_join(high: int, low: int) -> int:
    return (high << 32) | low


def bitmap_words(base: int, numbers: tuple[int, ...], num_bits: int) -> list[int]:
    """The uint32 words of a set bitmap: bit i (MSB first in word i//32) is ``base + i``."""
    words = [0] * ((num_bits + 31) >> 5)
    for n in numbers:
        i = n - base
        words[i >> 5] |= 0x80000000 >> (i & 31)
    return words


def bitmap_members(base: int, num_bits: int, words: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    out = []
    for w, word in enumerate(words):
        if not word:
            continue
        top = base + (w << 5)
        for b in range(32):
            if word & (0x80000000 >> b):
                i = (w << 5) + b
                if i < num_bits:
                    out.append(top + b)
    return tuple(out)


def _minimal_bits(base: int, numbers: tuple[int, ...]) -> int:
    return (max(numbers) - base + 1) if numbers else 0


class _NumberSet:
    """What sequence-number and fragment-number sets share (fields come from subclasses)."""

    __slots__ = ()
    base: int
    numbers: tuple[int, ...]
    num_bits: int

    def __post_init__(self) -> None:
        if self.numbers and not isinstance(self.numbers, tuple):
            object.__setattr__(self, "numbers", tuple(self.numbers))

    def members(self) -> tuple[int, ...]:
        return self.numbers

    def wire_bits(self) -> int:
        """numBits to send: the given one, or the fewest that cover the members."""
        need = _minimal_bits(self.base, self.numbers)
        return self.num_bits if self.num_bits >= need else need


@dataclass(frozen=True, slots=True)
class SequenceNumberSet(_NumberSet):
    """A base and up to 256 sequence numbers in ``[base, base+255]``."""

    base: int
    numbers: tuple[int, ...] = ()
    num_bits: int = field(default=-1, compare=False)

    def check(self) -> None:
        """Raise ValueError unless this can go on the wire."""
        if self.base < 1:
            raise ValueError(f"set base {self.base}: expected >= 1")
        for n in self.numbers:
            if not self.base <= n < self.base + MAX_SET_BITS:
                raise ValueError(f"set member {n}: expected {self.base}..{self.base + 255}")
        if self.wire_bits() > MAX_SET_BITS:
            raise ValueError(f"set num_bits {self.num_bits}: expected <= 256")


@dataclass(frozen=True, slots=True)
class FragmentNumberSet(_NumberSet):
    """A base and up to 256 fragment numbers (1-based, uint32) in ``[base, base+255]``."""

    base: int
    numbers: tuple[int, ...] = ()
    num_bits: int = field(default=-1, compare=False)

    def check(self) -> None:
        if not 1 <= self.base <= 0xFFFFFFFF:
            raise ValueError(f"fragment set base {self.base}: expected 1..2^32-1")
        for n in self.numbers:
            if not self.base <= n < self.base + MAX_SET_BITS or n > 0xFFFFFFFF:
                raise ValueError(f"fragment set member {n}: expected {self.base}.."
                                 f"{self.base + 255}")
        if self.wire_bits() > MAX_SET_BITS:
            raise ValueError(f"fragment set num_bits {self.num_bits}: expected <= 256")
