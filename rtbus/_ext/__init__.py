"""Compiled twins of the hot loops (built from ``ext/*.pyx``); absent in a pure-Python install.

``available(name)`` returns the compiled module or ``None``; ``RTBUS_PURE_PYTHON=1`` in the
environment makes every lookup return ``None`` so the pure-Python twin runs.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def available(name: str) -> ModuleType | None:
    if os.environ.get("RTBUS_PURE_PYTHON") == "1":
        return None
    try:
        return importlib.import_module(f"rtbus._ext.{name}")
    except ImportError:
        return None
