"""rtbus: a brokerless DDS-style real-time data bus speaking DDSI-RTPS."""

from __future__ import annotations

__version__ = "0.1.0"
