"""Waiting helpers for tests that drive real participants: poll until done or a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(cond: Callable[[], Any], seconds: float = 10.0) -> bool:
    """True as soon as ``cond()`` is true, False if it still is not after ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def take_rtbus(reader: Any, n: int, seconds: float = 30.0) -> list:
    """Samples taken from an rtbus reader until ``n`` arrived or ``seconds`` passed."""
    got: list = []
    end = time.monotonic() + seconds
    while len(got) < n and time.monotonic() < end:
        got += reader.take(timeout=0.5)
    return got


def take_cyclone(reader: Any, n: int, seconds: float = 10.0) -> list:
    """The same for a cyclonedds DataReader (which has no blocking take)."""
    got: list = []
    end = time.monotonic() + seconds
    while len(got) < n and time.monotonic() < end:
        got += reader.take(N=n)
        time.sleep(0.005)
    return got
