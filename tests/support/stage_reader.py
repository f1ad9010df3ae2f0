"""A reader cache driven by hand, for the unit tests of the reader pipeline's stages: changes
go in through ``ReaderCache.accept`` as the reader core sends them, with the ``now`` the test
chooses, and each call says whether the change entered the history."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rtbus.qos import Qos
from rtbus.rtps.actions import Deliver
from rtbus.rtps.history import HistoryQos
from rtbus.rtps.instances import Instance, InstanceState
from rtbus.rtps.reader_cache import ReaderCache
from rtbus.rtps.reader_stages import SampleMeta, Stage

KEY_A = b"A" * 16
KEY_B = b"B" * 16
PAYLOAD = b"\x00\x01\x00\x00" + bytes(4)  # an encapsulation header and four bytes


def guid(n: int) -> bytes:
    """A 16-byte writer GUID whose last byte is ``n`` (so guid(1) < guid(2))."""
    return bytes(15) + bytes([n])


class StageReader:
    """``stages`` in a KEEP_ALL reader cache; ``now`` moves on by ``step`` per change unless
    a change says when it came."""

    def __init__(self, *stages: Stage, now: float = 0.0, step: float = 0.0) -> None:
        self.cache = ReaderCache(HistoryQos("keep_all"), stages=stages)
        self.seq: dict[bytes, int] = {}
        self.now = now
        self.step = step

    def match(self, writer: bytes, qos: Qos | None = None) -> list[Any]:
        return self.cache.writer_added(writer, qos or Qos(), self.now)

    def update(self, writer: bytes, qos: Qos) -> list[Any]:
        return self.cache.writer_updated(writer, qos, self.now)

    def lose(self, writer: bytes) -> list[Any]:
        return self.cache.writer_removed(writer, self.now)

    def offer(self, writer: bytes, key: bytes = KEY_A, status: int = 0,
              source: int | None = None, at: float | None = None) -> bool:
        """One change from ``writer``; True when it entered the history (a Deliver came)."""
        self.now = self.now + self.step if at is None else at
        seq = self.seq[writer] = self.seq.get(writer, 0) + 1
        meta = SampleMeta(writer, seq, source, self.now, None if status else PAYLOAD,
                          SimpleNamespace(status_info=status, key_hash=key), False)
        actions: list[Any] = []
        assert self.cache.accept(meta, self.now, actions, True)
        return any(type(a) is Deliver for a in actions)

    def instance(self, key: bytes = KEY_A) -> Instance | None:
        return self.cache.instances.get(key)

    def state(self, key: bytes = KEY_A) -> InstanceState:
        inst = self.instance(key)
        assert inst is not None, f"no instance {key!r}"
        return inst.state
