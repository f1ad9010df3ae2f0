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


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help="redundant publishers hot-swap: kill the primary, watch the backup take over")
    p.add_argument("--domain", type=_count(0, 232), default=0, help="DDS domain id (0..232)")
    p.add_argument("--rate", type=_positive, default=100.0,
                   help="samples per second each publisher writes (default 100)")
    p.add_argument("--deadline", type=_positive, default=0.1,
                   help="the subscriber's deadline in seconds: a silent owner loses the "
                        "instance after it (default 0.1)")
    p.add_argument("--seconds", type=_positive, default=2.0,
                   help="how long each phase runs (default 2)")
    # the publishers are this command again, in their own processes
    p.add_argument("--publish", choices=("primary", "backup"), help=argparse.SUPPRESS)
    p.add_argument("--epoch", type=float, default=0.0, help=argparse.SUPPRESS)
    p.set_defaults(handler=_handler)
