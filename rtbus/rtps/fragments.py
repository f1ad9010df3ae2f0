"""Splitting large samples into DATA_FRAG fragments and putting them back together.

Sizes follow Cyclone DDS's defaults (``ddsi_config_init_default``): fragments of 1344 bytes
and datagrams of at most 14720 bytes (retransmissions: 1456). A payload larger than the
fragment size goes out as DATA_FRAG; everything else as DATA.

Reassembly trusts nothing a peer claims. A DATA_FRAG states the total sample size (up to
4 GiB); we never allocate that number. Fragments are kept as the chunks actually received, and
are only joined once every fragment is in, so memory grows with bytes received, not with bytes
claimed. Samples claiming more than ``max_sample_size`` are refused outright, and the memory
held across all samples in progress is capped by ``max_bytes_in_progress`` -- counted in real
bytes: each stored fragment costs its length plus :data:`CHUNK_OVERHEAD` (the object and its
slot), so a flood of tiny fragments cannot hold a hundred times what it is charged for, and a
fragment size below :data:`MIN_FRAGMENT_SIZE` is refused (no writer needs one). Every refusal
is counted in :attr:`Reassembler.dropped` under a short reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

log = logging.getLogger("rtbus.rtps.fragments")

DEFAULT_FRAGMENT_SIZE = 1344
DEFAULT_MAX_MESSAGE_SIZE = 14720
DEFAULT_MAX_RETRANSMIT_MESSAGE_SIZE = 1456
DEFAULT_MAX_SAMPLE_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_BYTES_IN_PROGRESS = 256 * 1024 * 1024
DEFAULT_MAX_SAMPLES_IN_PROGRESS = 64
#: what keeping one fragment costs besides its bytes: a bytes object and a dict slot (CPython)
CHUNK_OVERHEAD = 112
#: the smallest fragment size accepted for a sample that has more than one fragment
MIN_FRAGMENT_SIZE = 64


def fragment_count(sample_size: int, fragment_size: int) -> int:
    """How many fragments a sample of ``sample_size`` bytes takes."""
    return (sample_size + fragment_size - 1) // fragment_size


def fragment_slice(payload: bytes | memoryview, first: int, count: int,
                   fragment_size: int) -> memoryview:
    """Bytes of fragments ``first`` .. ``first+count-1`` (1-based, as on the wire)."""
    start = (first - 1) * fragment_size
    return memoryview(payload)[start:start + count * fragment_size]


class FragmentBuffer:
    """One sample being reassembled: which fragments arrived and their bytes."""

    __slots__ = (
        "chunks",
        "fragment_size",
        "meta",
        "received_bytes",
        "sample_size",
        "seq",
        "total",
    )

    def __init__(self, seq: int, sample_size: int, fragment_size: int, meta: Any = None) -> None:
        self.seq = seq
        self.sample_size = sample_size
        self.fragment_size = fragment_size
        self.total = fragment_count(sample_size, fragment_size)
        self.chunks: dict[int, bytes] = {}
        self.received_bytes = 0
        self.meta = meta  # whatever the first fragment carried besides data (inline QoS ...)

    def fragment_length(self, num: int) -> int:
        if num < self.total:
            return self.fragment_size
        return self.sample_size - (self.total - 1) * self.fragment_size

    @property
    def complete(self) -> bool:
        return len(self.chunks) == self.total

    def has(self, num: int) -> bool:
        return num in self.chunks

    def missing(self, base: int = 1, limit: int = 256) -> list[int]:
        """Missing fragment numbers >= ``base``, ascending, at most ``limit`` of them."""
        out: list[int] = []
        chunks = self.chunks
        for num in range(max(base, 1), self.total + 1):
            if num not in chunks:
                out.append(num)
                if len(out) >= limit:
                    break
        return out

    def first_missing(self) -> int | None:
        for num in range(1, self.total + 1):
            if num not in self.chunks:
                return num
        return None

    def assemble(self) -> bytes:
        chunks = self.chunks
        return b"".join(chunks[n] for n in range(1, self.total + 1))


class Reassembler:
    """The samples of one remote writer that are in pieces, with memory bounds.

    ``add`` returns the whole payload (and the meta of the sample) once the last missing fragment
    arrives, else None. The caller decides what a completed or abandoned sequence number means
    (reliable: in-order stream; best effort: newest wins).
    """

    __slots__ = (
        "buffers",
        "bytes_in_progress",
        "dropped",
        "max_bytes_in_progress",
        "max_sample_size",
        "max_samples_in_progress",
        "newest_wins",
    )

    def __init__(self, max_sample_size: int = DEFAULT_MAX_SAMPLE_SIZE,
                 max_bytes_in_progress: int = DEFAULT_MAX_BYTES_IN_PROGRESS,
                 max_samples_in_progress: int = DEFAULT_MAX_SAMPLES_IN_PROGRESS,
                 newest_wins: bool = False) -> None:
        self.max_sample_size = max_sample_size
        self.newest_wins = newest_wins  # best effort: a newer sample evicts older partial ones
        self.max_bytes_in_progress = max_bytes_in_progress
        self.max_samples_in_progress = max_samples_in_progress
        self.buffers: dict[int, FragmentBuffer] = {}
        self.bytes_in_progress = 0
        self.dropped: Counter[str] = Counter()

    def partial(self, seq: int) -> FragmentBuffer | None:
        return self.buffers.get(seq)

    def add(self, seq: int, sample_size: int, fragment_size: int, first: int, count: int,
            data: bytes | memoryview, meta: Any = None) -> tuple[bytes, Any] | None:
        """Take fragments ``first .. first+count-1`` of sample ``seq``.

        Returns ``(payload, meta)`` when this completes the sample. Fragments that contradict
        what an earlier fragment of the same sample said, run past the claimed size, or would
        break a memory bound are dropped and counted.
        """
        buf = self.buffers.get(seq)
        if buf is None:
            if fragment_size <= 0 or sample_size <= 0:
                self.dropped["bad_fragment_size"] += 1
                return None
            if fragment_size < MIN_FRAGMENT_SIZE and sample_size > fragment_size:
                self.dropped["fragment_too_small"] += 1
                return None
            if sample_size > self.max_sample_size:
                self.dropped["sample_too_large"] += 1
                log.debug("sample %d claims %d bytes > max %d: dropped", seq, sample_size,
                          self.max_sample_size)
                return None
            if len(self.buffers) >= self.max_samples_in_progress:
                oldest = min(self.buffers)
                if not self.newest_wins or seq < oldest:
                    self.dropped["too_many_in_progress"] += 1
                    return None
                self.discard(oldest)
                self.dropped["superseded"] += 1
            buf = FragmentBuffer(seq, sample_size, fragment_size, meta)
        elif buf.sample_size != sample_size or buf.fragment_size != fragment_size:
            self.dropped["inconsistent_fragment"] += 1
            return None
        if first < 1 or count < 1 or first + count - 1 > buf.total:
            self.dropped["fragment_out_of_range"] += 1
            return None
        last = first + count - 1
        expected = (count - 1) * fragment_size + buf.fragment_length(last)
        if len(data) < expected:
            self.dropped["fragment_truncated"] += 1
            return None
        view = memoryview(data)
        added = 0
        offset = 0
        chunks = buf.chunks
        for num in range(first, last + 1):
            length = buf.fragment_length(num)
            if num not in chunks:
                cost = length + CHUNK_OVERHEAD
                over = self.bytes_in_progress + added + cost > self.max_bytes_in_progress
                if over and self.newest_wins and self._evict_older_than(seq):
                    over = self.bytes_in_progress + added + cost > self.max_bytes_in_progress
                if over:
                    self.dropped["reassembly_memory"] += 1
                    break
                chunks[num] = bytes(view[offset:offset + length])
                added += cost
            offset += length
        if added == 0 and seq not in self.buffers:
            return None
        if buf.meta is None and meta is not None:
            buf.meta = meta
        buf.received_bytes += added  # what it costs, overhead included
        self.bytes_in_progress += added
        self.buffers[seq] = buf
        if buf.complete:
            self.discard(seq)
            return buf.assemble(), buf.meta
        return None

    def _evict_older_than(self, seq: int) -> bool:
        """Best effort: free samples older than ``seq`` (a newer one makes them worthless)."""
        older = [s for s in self.buffers if s < seq]
        for s in older:
            self.discard(s)
            self.dropped["superseded"] += 1
        return bool(older)

    def discard(self, seq: int) -> None:
        """Forget sample ``seq`` (completed, gapped, or superseded)."""
        buf = self.buffers.pop(seq, None)
        if buf is not None:
            self.bytes_in_progress -= buf.received_bytes

    def discard_below(self, seq: int) -> None:
        """Forget every sample below ``seq`` (the stream moved past them)."""
        for s in [s for s in self.buffers if s < seq]:
            self.discard(s)

    def __len__(self) -> int:
        return len(self.buffers)
