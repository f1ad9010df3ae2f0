"""A content filter as a reader stage: only samples the filter admits enter the history.

DDS 1.4 2.2.2.3.3 (ContentFilteredTopic): the reader of a content-filtered topic sees only the
samples whose data satisfy the filter expression. The filter runs here, in the reader cache
pipeline, before a sample takes room in the history or wakes a taker; the sans-IO core knows
no types, so the stage is handed the two functions it needs as data: ``decode`` (payload ->
sample object, from the API's codec) and ``admits`` (sample object -> bool, a compiled
:class:`rtbus.content_filter.ContentFilter`). Dispose and unregister changes are not
filtered (DDS: the filter applies to data, not to instance state).

Cost: a sample that passes is decoded here and again when it is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DecodeError
from .history import STATUS_DISPOSED, STATUS_UNREGISTERED
from .instances import Instance
from .reader_stages import PassStage, SampleMeta


class ContentFilterStage(PassStage):
    """See the module docstring. A payload that does not decode passes, so that the reader
    counts it where it counts every undecodable sample (``Reader.decode_errors``)."""

    __slots__ = ("admits", "decode")

    def __init__(self, decode: Callable[[Any], Any], admits: Callable[[Any], bool]) -> None:
        self.decode = decode
        self.admits = admits

    def accept(self, meta: SampleMeta, instance: Instance, now: float) -> bool:
        payload = meta.payload
        if payload is None or meta.key_only \
                or meta.status_info & (STATUS_DISPOSED | STATUS_UNREGISTERED):
            return True
        try:
            sample = self.decode(payload)
        except DecodeError:
            return True
        return bool(self.admits(sample))
