"""The OMG interoperability suite's ShapeType, shipped with the package.

``rtbus demo``, ``rtbus-shape-main`` and the benchmarks use this one declaration; it is
``idl/shape.idl`` of the repository (a test keeps the two equal), here so that an installed
rtbus has it without the repository's ``idl/`` directory next to it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

SHAPE_IDL = """\
@appendable
struct ShapeType {
  @key
  string<128> color;
  int32 x;
  int32 y;
  int32 shapesize;
  sequence<uint8> additional_payload_size;
};
"""


@cache
def shape_type() -> Any:
    """The ShapeType class (compiled from :data:`SHAPE_IDL` once per process)."""
    from . import idl

    return idl.loads(SHAPE_IDL, "shape.idl").ShapeType
