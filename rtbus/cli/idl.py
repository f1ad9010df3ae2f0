"""``rtbus idl compile`` (IDL files and trees to typed Python modules) and ``rtbus idl
check`` (errors as ``file:line:col: message``, like a compiler). Exit code 1: the IDL is
wrong."""

from __future__ import annotations

import argparse
import sys

from ..errors import IdlError


def _print_idl_error(err: IdlError) -> None:
    print(str(err), file=sys.stderr)  # file:line:col: message, as compilers print


def _idl_compile(args: argparse.Namespace) -> int:
    """Compile files and trees in one run: included files become modules of their own,
    imported by the modules that use their types (see :mod:`rtbus.idl.codegen`)."""
    from pathlib import Path

    from ..idl.codegen import Compilation

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
    from ..idl import parse_file

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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
