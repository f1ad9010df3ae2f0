"""``rtbus demo``: the README's first command (the demo itself is :mod:`rtbus.demo`)."""

from __future__ import annotations

import argparse
from typing import Any


def _count(minimum: int, maximum: int | None = None) -> Any:
    """An argparse type: an int in ``minimum..maximum``, with a message saying so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected {bound}, got {value}")
        return value
    return parse


def _handler(args: argparse.Namespace) -> int:
    from ..demo import demo  # imported when run: ``rtbus --help`` stays quick

    return demo(args)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="publish and subscribe ShapeType on a private network")
    p.add_argument("--domain", type=_count(0, 232), default=0, help="DDS domain id (0..232)")
    p.add_argument("--samples", type=_count(1), default=1000, help="how many samples to send")
    p.add_argument("--show", type=_count(0), default=10, help="how many samples to print")
    p.set_defaults(handler=_handler)
