"""Files of the repository the tests use, by absolute path: a test passes from any cwd."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAPE_IDL = ROOT / "idl" / "shape.idl"  # the OMG interoperability suite's ShapeType
