"""IDL 4.2 front end: IDL text -> the rtbus type model -> Python classes.

Public API (stable; ``rtbus.idl.codegen`` and the CLI build on it):

- :func:`parse` / :func:`parse_file` return an :class:`IdlModule` whose ``types`` map fully
  scoped names (``"a::b::T"``) to model types in declaration order, ``constants`` map scoped
  names to values, and ``topic_types`` hold the structs/unions usable as topics.
- :func:`load` parses and builds Python classes (``rtbus.types.pyclasses.materialize``) and
  returns a module-like namespace: ``ns.shapes.ShapeType``, plus ``ns.ShapeType`` when the
  short name is unambiguous; constants are attributes too. A type declared in a file is one
  class however many loads read that file (directly or through ``#include``), as long as
  its declaration is unchanged: see :mod:`rtbus.idl.share`. So a ``Header`` from
  ``load("std_msgs/msg/Header.idl")`` is accepted by the ``Imu`` of
  ``load("sensor_msgs/msg/Imu.idl", ["."])``.

Every problem in the IDL raises :class:`rtbus.errors.IdlError` with the real file, line and
column (through ``#include``) and a message saying what was found and what was expected.
"""

from __future__ import annotations

import os
import types as _pytypes
from pathlib import Path
from typing import Any

from ..errors import IdlError
from ..types import model as m
from .parser import Annotation, IdlModule, Parser
from .preprocessor import preprocess

PathLike = str | os.PathLike[str]


def parse(text: str, filename: str = "<string>", include_dirs: tuple[PathLike, ...] | list = (),
          defines: dict[str, str] | None = None) -> IdlModule:
    """Parse IDL source text. ``defines`` pre-defines macros as ``-D`` would."""
    pre = preprocess(text, filename, include_dirs, defines)
    return Parser(pre.tokens, pre.files).parse()


def parse_file(path: PathLike, include_dirs: tuple[PathLike, ...] | list = (),
               defines: dict[str, str] | None = None) -> IdlModule:
    """Parse an IDL file; ``#include "x"`` looks next to it first, then in ``include_dirs``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IdlError(f"cannot read IDL file: {exc}", str(p), 0, 0) from exc
    return parse(text, str(p), include_dirs, defines)


class IdlNamespace(_pytypes.SimpleNamespace):
    """Module-like result of :func:`load`: nested modules as attributes.

    ``__idl__`` is the parsed :class:`IdlModule`; ``__classes__`` maps scoped names to classes.
    """

    def __getitem__(self, scoped_name: str) -> Any:
        obj: Any = self
        for part in scoped_name.lstrip(":").split("::"):
            obj = getattr(obj, part)
        return obj


def namespace_from(module: IdlModule) -> IdlNamespace:
    """Build Python classes for ``module``'s types and arrange them as nested namespaces."""
    from ..types.pyclasses import materialize

    classes = materialize(list(module.types.values()))
    ns = IdlNamespace()
    entries: dict[str, Any] = {}
    for name, t in module.types.items():
        if isinstance(t, m.AliasType):
            target = m.resolve(t)
            entries[name] = getattr(target, "pyclass", None) or t
        else:
            entries[name] = classes.get(name, getattr(t, "pyclass", None))
    entries.update(module.constants)
    for name, value in entries.items():
        parts = name.split("::")
        holder: Any = ns
        for part in parts[:-1]:
            child = holder.__dict__.get(part)
            if not isinstance(child, IdlNamespace):
                child = IdlNamespace()
                setattr(holder, part, child)
            holder = child
        setattr(holder, parts[-1], value)
    # Short names at the top level when they are unambiguous and clash with nothing.
    short: dict[str, list[str]] = {}
    for name in entries:
        short.setdefault(name.rsplit("::", 1)[-1], []).append(name)
    for leaf, names in short.items():
        if len(names) == 1 and leaf not in ns.__dict__:
            setattr(ns, leaf, entries[names[0]])
    ns.__idl__ = module
    ns.__classes__ = classes
    return ns


def _shared_namespace(module: IdlModule, include_dirs: tuple[PathLike, ...] | list,
                      defines: dict[str, str] | None) -> IdlNamespace:
    """:func:`namespace_from` after sharing the classes of declarations loaded before.

    Classes built here remember the file, include path and defines they came from, so that
    a pickled instance can be rebuilt in a process that has not loaded the file yet."""
    from . import share

    with share.lock:
        fresh = share.share(module)
        ns = namespace_from(module)
        dirs = tuple(os.path.abspath(d) for d in include_dirs)
        macros = tuple(sorted((defines or {}).items()))
        for t in fresh:
            cls = getattr(t, "pyclass", None)
            path = share.declaring_file(module, t.name)
            if cls is not None and path is not None:
                type.__setattr__(cls, "__rtbus_origin__", (path, dirs, macros))
        share.remember(module, fresh)
    return ns


def load(path: PathLike, include_dirs: tuple[PathLike, ...] | list = (),
         defines: dict[str, str] | None = None) -> IdlNamespace:
    """Parse an IDL file and return its types as Python classes (see module docstring)."""
    return _shared_namespace(parse_file(path, include_dirs, defines), include_dirs, defines)


def loads(text: str, filename: str = "<string>",
          include_dirs: tuple[PathLike, ...] | list = ()) -> IdlNamespace:
    """:func:`load` for IDL text (its own types are new classes; included files' are shared)."""
    return _shared_namespace(parse(text, filename, include_dirs), include_dirs, None)


__all__ = ["Annotation", "IdlModule", "IdlNamespace", "load", "loads", "namespace_from",
           "parse", "parse_file"]
