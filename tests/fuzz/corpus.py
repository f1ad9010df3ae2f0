"""Seeds (real RTPS datagrams) and a structure-aware mutator for fuzzing rtbus participants.

The mutator knows the RTPS framing (20-byte header, then submessages of id/flags/length) so
most mutants keep a valid header and reach the submessage parsers and the proxies of real peers,
instead of all dying at the magic check.
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

CAPTURES = Path(__file__).parent.parent / "data" / "captures"
HEADER = 20
INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
INTERESTING16 = (0, 1, 3, 4, 0x7FFF, 0x8000, 0xFFFF)


def capture_seeds() -> list[bytes]:
    """Every datagram of the stored Cyclone DDS captures."""
    out: list[bytes] = []
    for path in sorted(CAPTURES.glob("*.json")):
        out += [bytes.fromhex(e["hex"]) for e in json.loads(path.read_text())]
    return out


def submessages(dgram: bytes) -> list[bytes]:
    """Split by framing alone; stops at the first submessage that does not fit."""
    out = []
    pos = HEADER
    while pos + 4 <= len(dgram):
        flags = dgram[pos + 1]
        (length,) = struct.unpack_from("<H" if flags & 1 else ">H", dgram, pos + 2)
        end = pos + 4 + length if length else len(dgram)
        if end > len(dgram):
            break
        out.append(dgram[pos:end])
        pos = end
    return out


def _length_offsets(dgram: bytes) -> list[int]:
    return [HEADER + sum(len(s) for s in submessages(dgram)[:i])
            for i in range(len(submessages(dgram)))]


class Mutator:
    """Deterministic (seeded) mutations of real datagrams."""

    def __init__(self, seeds: list[bytes], seed: int = 0) -> None:
        self.seeds = [s for s in seeds if len(s) > HEADER]
        self.rng = random.Random(seed)
        self.parts = [(s[:HEADER], submessages(s)) for s in self.seeds]
        self.all_subs = [sub for _, subs in self.parts for sub in subs]

    def _pos(self, n: int) -> int:
        """A byte position, past the header 95% of the time."""
        r = self.rng
        if n <= HEADER or r.random() < 0.05:
            return r.randrange(n)
        return r.randrange(HEADER, n)

    def mutate(self) -> bytes:
        r = self.rng
        i = r.randrange(len(self.seeds))
        data = bytearray(self.seeds[i])
        header = self.parts[i][0]
        for _ in range(r.choice((1, 1, 1, 2, 3))):
            op = r.randrange(8)
            if op == 0 and data:  # bit flips
                for _ in range(r.randint(1, 4)):
                    data[self._pos(len(data))] ^= 1 << r.randrange(8)
            elif op == 1 and data:  # byte substitution
                data[self._pos(len(data))] = r.choice(INTERESTING) if r.random() < 0.6 \
                    else r.randrange(256)
            elif op == 2 and len(data) > 1:  # truncation
                data = data[:r.randrange(1, len(data))]
            elif op == 3:  # length-field corruption (octetsToNextHeader)
                offs = _length_offsets(bytes(data))
                if offs:
                    o = r.choice(offs)
                    endian = "<" if data[o + 1] & 1 else ">"
                    val = r.choice(INTERESTING16) if r.random() < 0.5 else r.randrange(65536)
                    struct.pack_into(endian + "H", data, o + 2, val)
            elif op == 4 and self.all_subs:  # splice a submessage from any seed
                cur = submessages(bytes(data))
                k = r.randint(0, len(cur))
                cur.insert(k, r.choice(self.all_subs))
                data = bytearray(header + b"".join(cur))
            elif op == 5:  # duplicate / drop / reorder own submessages
                cur = submessages(bytes(data))
                if cur:
                    j = r.randrange(len(cur))
                    choice = r.randrange(3)
                    if choice == 0:
                        cur.insert(j, cur[j])
                    elif choice == 1 and len(cur) > 1:
                        del cur[j]
                    else:
                        r.shuffle(cur)
                    data = bytearray(header + b"".join(cur))
            elif op == 6 and data:  # 32-bit field set to an extreme (counts, seqnums, lengths)
                p = self._pos(len(data)) & ~3
                if p + 4 <= len(data):
                    struct.pack_into("<I", data, p, r.choice((0, 1, 0x7FFFFFFF, 0xFFFFFFFF,
                                                              0x80000000, r.getrandbits(32))))
            elif op == 7:  # random junk inserted
                p = self._pos(len(data)) if data else 0
                data[p:p] = bytes(r.getrandbits(8) for _ in range(r.randint(1, 16)))
        return bytes(data)

    def batch(self, n: int) -> list[bytes]:
        return [self.mutate() for _ in range(n)]

