"""The ``rtbus`` command line: ``rtbus idl compile``, ``rtbus idl check`` (and more to come).

Each subcommand is one function decorated with :func:`subcommand`, which receives the
argparse subparsers object, adds its parser and sets ``handler``; ``main`` knows nothing about
the individual commands. Adding ``rtbus demo`` is writing one such function.

Exit codes: 0 success, 1 the input is wrong (an IDL error, printed as ``file:line:col:
message`` like a compiler), 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from .errors import IdlError

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

_REGISTRARS: list[Registrar] = []


def subcommand(register: Registrar) -> Registrar:
    """Register a function that adds one top-level subcommand to the parser."""
    _REGISTRARS.append(register)
    return register


def _print_idl_error(err: IdlError) -> None:
    print(str(err), file=sys.stderr)  # file:line:col: message, as compilers print


# --- rtbus idl ... --------------------------------------------------------------------------

def _idl_compile(args: argparse.Namespace) -> int:
    """Compile files and trees in one run: included files become modules of their own,
    imported by the modules that use their types (see :mod:`rtbus.idl.codegen`)."""
    from pathlib import Path

    from .idl.codegen import Compilation

    status = 0
    comp = Compilation(args.output, args.include)
    sources: list[Path] = []
    for given in args.files:
        if Path(given).is_dir():
            try:
                sources += comp.add_tree(given)
            except IdlError as err:
                _print_idl_error(err)
                status = 1
        else:
            sources.append(Path(given))
    for source in sources:
        try:
            comp.add(source)
        except IdlError as err:
            _print_idl_error(err)
            status = 1
    try:
        written = comp.write()
    except IdlError as err:
        _print_idl_error(err)
        return 1
    if not args.quiet:
        for mod in written:
            print(f"{mod.idl} -> {mod.path}")
    return status


def _idl_check(args: argparse.Namespace) -> int:
    from .idl import parse_file

    status = 0
    for source in args.files:
        try:
            module = parse_file(source, args.include)
        except IdlError as err:
            _print_idl_error(err)
            status = 1
            continue
        if not args.quiet:
            print(f"{source}: ok ({len(module.types)} types, {len(module.constants)} constants)")
    return status


@subcommand
def _idl(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    idl = subparsers.add_parser("idl", help="work with IDL files",
                                description="Check IDL files or compile them to Python.")
    actions = idl.add_subparsers(dest="idl_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser, dirs: bool = False) -> None:
        if dirs:
            p.add_argument("files", nargs="+", metavar="FILE.idl|DIR",
                           help="IDL file(s), or directories whose .idl files are all compiled "
                                "(each a package root, also searched by #include)")
        else:
            p.add_argument("files", nargs="+", metavar="FILE.idl", help="IDL file(s)")
        p.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                       help="add DIR to the #include search path (repeatable)")
        p.add_argument("-q", "--quiet", action="store_true", help="print only errors")

    comp = actions.add_parser(
        "compile", help="generate importable Python modules",
        description="Write one typed Python module per IDL file read (included files too), "
                    "as packages mirroring the IDL paths: sensor_msgs/msg/Imu.idl -> "
                    "OUTDIR/sensor_msgs/msg/Imu.py, importable with OUTDIR on sys.path as "
                    "'from sensor_msgs.msg.Imu import Imu'. Types of an included file are "
                    "imported from its module, not declared again.")
    common(comp, dirs=True)
    comp.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                      help="directory for the generated packages and .py files")
    comp.set_defaults(handler=_idl_compile)

    check = actions.add_parser("check", help="report IDL errors as file:line:col",
                               description="Parse IDL files; exit 1 if any has an error.")
    common(check)
    check.set_defaults(handler=_idl_check)


# --- entry point ----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtbus", description="rtbus: a brokerless DDS-style "
                                                               "real-time data bus")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from . import demo  # noqa: F401  - registers ``rtbus demo``

    for register in _REGISTRARS:
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
