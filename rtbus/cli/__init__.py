"""The ``rtbus`` command line, one module per command: ``rtbus demo`` (:mod:`.demo`),
``rtbus idl compile|check`` (:mod:`.idl`).

:data:`COMMANDS` lists them explicitly, in the order ``rtbus --help`` shows them. Each
module has ``register(subparsers)``, which adds its parser and sets ``handler`` (a function
``args -> exit code``); ``main`` knows nothing else about them. A plugin or a test adds a
command of its own with the :func:`subcommand` decorator.

Exit codes: 0 success, 1 the input is wrong (an IDL error, printed as ``file:line:col:
message`` like a compiler), 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import logging
from typing import Callable

from .. import __version__
from . import demo, idl

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: the builtin commands, in help order
COMMANDS: tuple[Registrar, ...] = (demo.register, idl.register)
_REGISTRARS: list[Registrar] = []  # commands added by plugins and tests


def subcommand(register: Registrar) -> Registrar:
    """Register a function that adds one more top-level command to the parser."""
    _REGISTRARS.append(register)
    return register


# --- entry point ----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtbus", description="rtbus: a brokerless DDS-style "
                                                               "real-time data bus")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug)")
    parser.add_argument("--version", action="version", version=f"rtbus {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in (*COMMANDS, *_REGISTRARS):
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main", "subcommand"]
