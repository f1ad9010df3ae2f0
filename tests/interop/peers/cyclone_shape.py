"""The interoperability demo's ShapeType (idl/shape.idl) as a cyclonedds class.

One declaration for the Cyclone side of every interop test. It lives beside the peer scripts
because they run as plain scripts (``python tests/interop/peers/X.py``), which can import a
sibling module but not the ``tests`` package; the tests import it as
``tests.interop.peers.cyclone_shape``.
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
from dataclasses import dataclass

from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as t
from cyclonedds.idl.annotations import appendable, key


@dataclass
@appendable
class ShapeType(IdlStruct, typename="ShapeType"):
    color: t.bounded_str[128]
    key("color")
    x: t.int32
    y: t.int32
    shapesize: t.int32
    additional_payload_size: t.sequence[t.uint8]
