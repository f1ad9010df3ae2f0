"""One Python class per IDL declaration across :func:`rtbus.idl.load` calls.

Each load parses its files afresh, so without this a ``Header`` declared in
``std_msgs/msg/Header.idl`` would become a new class in every load that includes the file, and
an ``Imu`` from one load would refuse the ``Header`` of another. Here every type declared in a
real file is remembered under ``(real path of that file, scoped name)``; when a later parse
produces the same declaration again, the later module gets the remembered model object (and
so its class) instead of the fresh one.

"The same" is checked, not assumed: the fresh model must equal the remembered one member by
member, and every type it refers to must itself have been replaced by the remembered object
it refers to. A file edited on disk, or parsed under other ``#define``s, gives a different
declaration, which gets new classes (and replaces the remembered one for later loads). The
key is the declaring file, not the include path a load used to find it: two loads reaching
one file through different ``-I`` directories share its classes. Types of text given to
:func:`rtbus.idl.loads` (no file) are never shared; files it includes are.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

from ..types import model as m
from .parser import IdlModule

_NAMED = (m.AliasType, m.EnumType, m.BitmaskType, m.StructType, m.UnionType)

_remembered: dict[tuple[str, str], m.NamedType] = {}
lock = threading.RLock()  # held by rtbus.idl.load around parse-share-materialize


def declaring_file(module: IdlModule, name: str) -> str | None:
    """The real path of the file declaring ``name``, or None for text without a file."""
    origin = module.origins.get(name)
    if origin is None or origin.startswith("<"):
        return None
    return os.path.realpath(origin)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


class _Comparer:
    """Structural equality of a fresh type and a remembered one (see the module docstring)."""

    def __init__(self, decided: dict[int, Any]) -> None:
        self.decided = decided
        self.assumed: set[tuple[int, int]] = set()

    def same(self, a: Any, b: Any) -> bool:
        if a is b:
            return True
        if type(a) is not type(b):
            return False
        if isinstance(a, (m.PrimitiveType, m.StringType)):
            return bool(a == b)
        if isinstance(a, m.SequenceType):
            return a.bound == b.bound and self.same(a.element, b.element)
        if isinstance(a, m.ArrayType):
            return a.dims == b.dims and self.same(a.element, b.element)
        if id(a) in self.decided:
            return self.decided[id(a)] is b
        pair = (id(a), id(b))
        if pair in self.assumed:  # a recursive type: equal unless something else differs
            return True
        self.assumed.add(pair)
        return a.name == b.name and self.same_named(a, b)

    def same_member(self, a: m.Member, b: m.Member) -> bool:
        return (a.name, a.id, a.key, a.optional, a.external, a.must_understand, a.hashid) == (
            b.name, b.id, b.key, b.optional, b.external, b.must_understand, b.hashid) and \
            _same_value(a.default, b.default) and a.annotations == b.annotations and \
            self.same(a.type, b.type)

    def same_named(self, a: Any, b: Any) -> bool:
        if isinstance(a, m.AliasType):
            return self.same(a.target, b.target)
        if isinstance(a, m.EnumType):
            return (a.bit_bound, a.extensibility) == (b.bit_bound, b.extensibility) and \
                [(x.name, x.value, x.default) for x in a.literals] == \
                [(x.name, x.value, x.default) for x in b.literals]
        if isinstance(a, m.BitmaskType):
            return (a.bit_bound, a.extensibility) == (b.bit_bound, b.extensibility) and \
                [(f.name, f.position) for f in a.flags] == [(f.name, f.position) for f in b.flags]
        if isinstance(a, m.StructType):
            if (a.extensibility, a.autoid, a.nested, a.topic, a.defined) != (
                    b.extensibility, b.autoid, b.nested, b.topic, b.defined) or \
                    a.annotations != b.annotations or len(a.members) != len(b.members):
                return False
            if (a.base is None) != (b.base is None) or (
                    a.base is not None and not self.same(a.base, b.base)):
                return False
            return all(self.same_member(x, y) for x, y in zip(a.members, b.members, strict=True))
        if isinstance(a, m.UnionType):
            if (a.extensibility, a.key_discriminator, a.defined) != (
                    b.extensibility, b.key_discriminator, b.defined) or \
                    a.annotations != b.annotations or len(a.cases) != len(b.cases):
                return False
            return self.same(a.discriminator, b.discriminator) and all(
                x.labels == y.labels and x.is_default == y.is_default
                and self.same_member(x.member, y.member)
                for x, y in zip(a.cases, b.cases, strict=True))
        return False  # pragma: no cover - the model has no other named types


def _substitute(t: Any, decided: dict[int, Any]) -> Any:
    """``t`` with every named type replaced by its decided object (anonymous types rebuilt
    only when something inside them changed)."""
    if isinstance(t, m.SequenceType):
        elem = _substitute(t.element, decided)
        return t if elem is t.element else m.SequenceType(elem, t.bound)
    if isinstance(t, m.ArrayType):
        elem = _substitute(t.element, decided)
        return t if elem is t.element else m.ArrayType(elem, t.dims)
    if isinstance(t, _NAMED):
        return decided.get(id(t), t)
    return t


def _rewire(t: Any, decided: dict[int, Any]) -> None:
    """Point a fresh type's references at the decided objects."""
    if isinstance(t, m.AliasType):
        t.target = _substitute(t.target, decided)
    elif isinstance(t, m.StructType):
        if t.base is not None:
            t.base = _substitute(t.base, decided)
        for mem in t.members:
            mem.type = _substitute(mem.type, decided)
    elif isinstance(t, m.UnionType):
        t.discriminator = _substitute(t.discriminator, decided)
        for c in t.cases:
            c.member.type = _substitute(c.member.type, decided)


def share(module: IdlModule) -> list[m.NamedType]:
    """Replace, in ``module``, every type an earlier load built from the same declaration by
    that earlier model; returns the types that stay fresh (they need classes). Call
    :func:`remember` once they have them. Hold :data:`lock` around both."""
    from .codegen import dependency_order

    order, _forward = dependency_order(list(module.types.values()))
    candidates: dict[int, Any] = {}
    for t in order:
        path = declaring_file(module, t.name)
        old = _remembered.get((path, t.name)) if path is not None else None
        if old is not None and old is not t:
            candidates[id(t)] = old
    decided: dict[int, Any] = {}
    while True:
        decided = {id(t): candidates.get(id(t), t) for t in order}
        # decide in dependency order; a recursive type compares against assumptions, so
        # check again with everything decided until no decision changes
        changed = False
        for t in order:
            old = candidates.get(id(t))
            if old is None:
                continue
            trial = dict(decided)
            del trial[id(t)]
            if not _Comparer(trial).same(t, old):
                del candidates[id(t)]
                changed = True
        if not changed:
            break
    fresh = [t for t in order if decided[id(t)] is t]
    for t in fresh:
        _rewire(t, decided)
    module.types = {name: decided.get(id(t), t) for name, t in module.types.items()}
    module.topic_types = {name: decided.get(id(t), t)
                          for name, t in module.topic_types.items()}
    module.constant_types = {name: _substitute(t, decided)
                             for name, t in module.constant_types.items()}
    return fresh


def remember(module: IdlModule, fresh: list[m.NamedType]) -> None:
    """Remember the fresh types of ``module`` (declared in real files) for later loads."""
    for t in fresh:
        path = declaring_file(module, t.name)
        if path is not None:
            _remembered[(path, t.name)] = t


__all__ = ["declaring_file", "lock", "remember", "share"]
