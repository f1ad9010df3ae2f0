"""The content-filter stage in the sans-IO reader cache, and the filter in SEDP data."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rtbus import cdr
from rtbus.content_filter import compile_filter
from rtbus.rtps.actions import Deliver
from rtbus.rtps.builtin_data import EndpointData, build_endpoint_payload, parse_endpoint_payload
from rtbus.rtps.filter_stage import ContentFilterStage
from rtbus.rtps.history import STATUS_DISPOSED, HistoryQos
from rtbus.rtps.reader_cache import ReaderCache
from rtbus.rtps.reader_stages import SampleMeta
from rtbus.rtps.wire.parameters import ContentFilterProperty
from rtbus.shape import shape_type

Shape = shape_type()


def test_only_admitted_samples_enter_the_history_and_state_changes_always_pass() -> None:
    f = compile_filter("x > %0", ["10"], Shape.__rtbus_type__)
    cache = ReaderCache(HistoryQos("keep_all"),
                        stages=(ContentFilterStage(lambda p: cdr.decode(Shape, p), f),))
    key = cdr.key_hash(Shape(color="BLUE"))

    def offer(seq: int, payload: Any, status: int = 0) -> bool:
        actions: list[Any] = []
        cache.accept(SampleMeta(b"W" * 16, seq, None, 0.0, payload,
                                SimpleNamespace(status_info=status, key_hash=key), False),
                     0.0, actions, True)
        return any(type(a) is Deliver for a in actions)

    def enc(x: int) -> bytes:
        return cdr.encode(Shape(color="BLUE", x=x, y=0, shapesize=1,
                                additional_payload_size=b""))

    assert not offer(1, enc(5))
    assert offer(2, enc(11))
    assert offer(3, b"\x00\x01\x00\x00garbage")  # undecodable: the reader counts it
    assert offer(4, None, STATUS_DISPOSED)  # instance state changes are not filtered
    f.set_parameters(["100"])
    assert not offer(5, enc(50))
    assert cache.counters["filtered"] == 2


def test_a_readers_filter_is_announced_and_read_back_in_sedp() -> None:
    prop = ContentFilterProperty("SmallRed", "Square", "DDSSQL", "color = %0", ("'RED'",))
    data = EndpointData("reader", bytes(range(16)), "Square", "ShapeType", content_filter=prop)
    assert parse_endpoint_payload(build_endpoint_payload(data), "reader").content_filter == prop
    plain = EndpointData("reader", bytes(range(16)), "Square", "ShapeType")
    assert parse_endpoint_payload(build_endpoint_payload(plain), "reader").content_filter is None
