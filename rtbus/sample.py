"""What a reader hands the user: the decoded data and its SampleInfo (DDS 1.4 2.2.2.5.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .rtps.instances import InstanceState, SampleState, ViewState

T = TypeVar("T")

#: The instance handle of a keyless topic's one instance.
NIL_HANDLE = bytes(16)


# slots and no frozen: a frozen dataclass pays one object.__setattr__ per field, per sample
@dataclass(slots=True)
class SampleInfo:
    """``instance_handle`` is the instance's 16-byte RTPS key hash (what
    ``Reader.lookup_instance`` returns); ``publication_handle`` the writer's GUID."""

    source_timestamp: float | None  # seconds since the Unix epoch, as the writer stamped it
    reception_timestamp: float  # monotonic seconds when it was accepted
    writer_guid: bytes
    sequence_number: int
    instance_state: InstanceState
    valid_data: bool
    key_hash: bytes | None
    view_state: ViewState = ViewState.NEW
    sample_state: SampleState = SampleState.NOT_READ
    disposed_generation_count: int = 0
    no_writers_generation_count: int = 0

    @property
    def instance_handle(self) -> bytes:
        return self.key_hash if self.key_hash is not None else NIL_HANDLE

    @property
    def publication_handle(self) -> bytes:
        return self.writer_guid


@dataclass(slots=True)
class Sample(Generic[T]):
    """``data`` is the sample. For a dispose or unregister (``info.valid_data`` False) it
    holds only the instance's key fields, the rest at their IDL defaults (all defaults for a
    keyless topic, or when the key never reached this reader); ``info.instance_handle``
    names the instance either way."""

    data: T
    info: SampleInfo


def sample_info(ci: Any) -> SampleInfo:
    """The user's SampleInfo from the core's (:class:`rtbus.rtps.actions.ReceivedInfo`)."""
    ts = ci.source_timestamp / 1e9 if ci.source_timestamp is not None else None
    return SampleInfo(ts, ci.reception_timestamp, bytes(ci.writer_guid), ci.sequence_number,
                      ci.instance_state, ci.valid_data, ci.key_hash, ci.view_state,
                      ci.sample_state, ci.disposed_generation_count,
                      ci.no_writers_generation_count)
