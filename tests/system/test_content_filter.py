"""Content-filtered topics over real sockets: a reader of one delivers only the samples its
DDS SQL expression admits, its parameters change at run time, and a bad expression is refused
with its column."""

from __future__ import annotations

import pytest

import rtbus
from rtbus.content_filter import FilterError
from rtbus.shape import shape_type

pytestmark = pytest.mark.system
Shape = shape_type()
QOS = rtbus.Qos(reliability="reliable", history="keep_all")


def shape(color: str, x: int, size: int = 30) -> object:
    return Shape(color=color, x=x, y=0, shapesize=size, additional_payload_size=b"")


def test_a_filtered_reader_gets_only_what_its_expression_admits(domain_id: int) -> None:
    with rtbus.Participant(domain_id) as a, rtbus.Participant(domain_id) as b:
        writer = a.create_writer(a.create_topic("Square", Shape), QOS)
        square = b.create_topic("Square", Shape)
        blue_right = b.create_content_filtered_topic(
            "BlueRight", square, "color LIKE %0 AND x > %1 AND NOT shapesize BETWEEN 40 AND 50",
            ["'B%'", "100"])
        reader = b.create_reader(blue_right, QOS)
        plain = b.create_reader(square, QOS)
        assert reader.content_filtered_topic is blue_right and reader.topic is square
        assert writer.wait_for_matched(2, 10) and reader.wait_for_matched(1, 10)
        sent = [("BLUE", 50, 30), ("BLUE", 150, 30), ("RED", 150, 30), ("BLACK", 200, 30),
                ("BLUE", 120, 45), ("BLUE", 101, 51)]
        for color, x, size in sent:
            writer.write(shape(color, x, size))
        assert writer.wait_for_acknowledgments(10)
        got = [(s.data.color, s.data.x, s.data.shapesize) for s in reader.take()]
        assert got == [("BLUE", 150, 30), ("BLACK", 200, 30), ("BLUE", 101, 51)]
        assert len(plain.take()) == len(sent)  # the same writer, unfiltered
        assert b.counters()["filtered"] == 3  # the reader's own drops reach the participant

        blue_right.set_parameters(["'R%'", "0"])  # at run time: now the red ones
        writer.write(shape("BLUE", 300))
        writer.write(shape("RED", 5))
        assert writer.wait_for_acknowledgments(10)
        assert [(s.data.color, s.data.x) for s in reader.take()] == [("RED", 5)]


def test_a_bad_expression_is_refused_with_its_column(domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        square = dp.create_topic("Square", Shape)
        with pytest.raises(FilterError, match="column 15") as info:
            dp.create_content_filtered_topic("Bad", square, "color = %0 AND", ["BLUE"])
        assert info.value.column == 15
        with pytest.raises(FilterError, match="no_such_field"):
            dp.create_content_filtered_topic("Bad", square, "no_such_field > 3")
        with pytest.raises(rtbus.errors.BadParameterError):
            dp.create_content_filtered_topic("Bad", square, "x > %1", ["1"])  # %1 unset
