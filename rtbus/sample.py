"""What a reader hands the user: the decoded data and its SampleInfo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import cdr
from .rtps.instances import InstanceState

T = TypeVar("T")


# slots and no frozen: a frozen dataclass pays one object.__setattr__ per field, per sample
@dataclass(slots=True)
class SampleInfo:
    source_timestamp: float | None  # seconds since the Unix epoch, as the writer stamped it
    reception_timestamp: float  # monotonic seconds when it was accepted
    writer_guid: bytes
    sequence_number: int
    instance_state: InstanceState
    valid_data: bool
    key_hash: bytes | None


@dataclass(slots=True)
class Sample(Generic[T]):
    """``data`` is the sample (None for a dispose/unregister without data: see ``info``)."""

    data: T | None
    info: SampleInfo

    @staticmethod
    def from_core(core_sample: Any, cls: Any) -> Sample[Any]:
        ci = core_sample.info
        data = cdr.decode(cls, core_sample.payload) if ci.valid_data else None
        ts = ci.source_timestamp / 1e9 if ci.source_timestamp is not None else None
        info = SampleInfo(ts, ci.reception_timestamp, bytes(ci.writer_guid), ci.sequence_number,
                          ci.instance_state, ci.valid_data, ci.key_hash)
        return Sample(data, info)
