"""Keyed types in every extensibility, declared as cyclonedds classes and bridged into rtbus.

For each of @final, @appendable and @mutable: an integer key (``Int``), a string key
(``Str``), a multi-field key (``Multi``: int32, string and int64 key members around a
non-key one; the mutable twin numbers them against definition order, so a key written in
member-id order instead of definition order shows) and a nested struct key (``Nested``: a
struct without ``@key`` members, so all its members are the key). Cyclone's serializer
(``serialize_key``) and its readers are the oracle; :mod:`tests.support.cyclone_bridge`
builds the rtbus models. Non-key members get values that are never their defaults, so a
sample that should carry only its key fields shows when it carries more.

Type names are scoped ``keys::``; the interop tests use them on their own domain.
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
from dataclasses import dataclass
from typing import Any

import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as t
from cyclonedds.idl import IdlStruct

from .cyclone_bridge import from_cyclone, model_for


def _int(ext: Any, name: str) -> Any:
    @dataclass
    @ext
    class IntKey(IdlStruct, typename=f"keys::{name}"):
        k: t.int16
        annotate.key("k")
        v: t.int32
        note: str

    return IntKey


def _str(ext: Any, name: str) -> Any:
    @dataclass
    @ext
    class StrKey(IdlStruct, typename=f"keys::{name}"):
        v: t.float64
        name: str
        annotate.key("name")

    return StrKey


def _multi(ext: Any, name: str, ids: bool) -> Any:
    @dataclass
    @ext
    class MultiKey(IdlStruct, typename=f"keys::{name}"):
        a: t.int32
        annotate.key("a")
        payload: str
        b: str
        annotate.key("b")
        c: t.int64
        annotate.key("c")
        if ids:
            annotate.member_id("a", 10)
            annotate.member_id("payload", 11)
            annotate.member_id("b", 2)
            annotate.member_id("c", 7)

    return MultiKey


def _nested(ext: Any, name: str) -> Any:
    @dataclass
    @ext
    class Inner(IdlStruct, typename=f"keys::{name}Inner"):
        x: t.int16
        y: str

    @dataclass
    @ext
    class NestedKey(IdlStruct, typename=f"keys::{name}"):
        v: t.int32
        inner: Inner
        annotate.key("inner")

    NestedKey.Inner = Inner  # type: ignore[attr-defined]
    return NestedKey


@dataclass(frozen=True)
class KeyedType:
    """One keyed type: the cyclonedds class, the rtbus model and class, how instance ``k``
    looks (as cyclonedds values), which members are the key."""

    name: str
    extensibility: str
    kind: str  # "int", "str", "multi", "nested"
    cyclone: Any
    model: Any
    pyclass: type
    key_fields: tuple[str, ...]

    def cyclone_sample(self, k: int) -> Any:
        c = self.cyclone
        if self.kind == "int":
            return c(k=k, v=1000 + k, note=f"note {k}")
        if self.kind == "str":
            return c(v=k + 0.5, name=f"instance-{k}")
        if self.kind == "multi":
            return c(a=k, payload=f"payload {k}", b=f"b{k}", c=-1000 * k - 7)
        return c(v=3 * k + 1, inner=c.Inner(x=k, y=f"y{k}"))

    def sample(self, k: int) -> Any:
        """Instance ``k`` as an rtbus sample."""
        return from_cyclone(self.cyclone_sample(k), self.model)

    def key_only(self, k: int) -> Any:
        """Instance ``k`` with its key fields set and every other field at its default."""
        full = self.sample(k)
        empty = self.pyclass._rtbus_unchecked(  # type: ignore[attr-defined]
            *[_default(m) for m in self.model.all_members()])
        for name in self.key_fields:
            setattr(empty, name, getattr(full, name))
        return empty

    def keys_of(self, sample: Any) -> tuple[Any, ...]:
        return tuple(_plain(getattr(sample, f)) for f in self.key_fields)


def _default(member: Any) -> Any:
    from rtbus.cdr.pure import default_value
    return None if member.optional else default_value(member.type)


def _plain(v: Any) -> Any:
    """A key field as a comparable value (nested structs as tuples of their fields)."""
    slots = getattr(type(v), "__slots__", None)
    if slots and not isinstance(v, (str, bytes)):
        return tuple(_plain(getattr(v, s)) for s in slots)
    if hasattr(v, "__dataclass_fields__"):
        return tuple(_plain(getattr(v, f)) for f in v.__dataclass_fields__)
    return v


_EXTS = {"final": annotate.final, "appendable": annotate.appendable,
         "mutable": annotate.mutable}


def _build() -> list[KeyedType]:
    out = []
    for ext, deco in _EXTS.items():
        cap = ext.capitalize()
        for kind, cls, keys in (
                ("int", _int(deco, f"{cap}Int"), ("k",)),
                ("str", _str(deco, f"{cap}Str"), ("name",)),
                ("multi", _multi(deco, f"{cap}Multi", ext == "mutable"), ("a", "b", "c")),
                ("nested", _nested(deco, f"{cap}Nested"), ("inner",))):
            model = model_for(cls)
            out.append(KeyedType(f"{cap}{kind.capitalize()}", ext, kind, cls, model,
                                 model.pyclass, keys))
    return out


KEYED_TYPES: list[KeyedType] = _build()


# ---- the types of the wire captures in tests/unit/test_cdr_keys.py (cyclonedds-python 11
# writers disposing instance 11, captured on lo in a network namespace) --------------------

@dataclass
@annotate.final
class CapFinal(IdlStruct, typename="kc::FinalInt"):
    k: t.int16
    annotate.key("k")
    v: t.int32


@dataclass
@annotate.appendable
class CapAppendable(IdlStruct, typename="kc::AppInt"):
    k: t.int16
    annotate.key("k")
    v: t.int32


@dataclass
@annotate.mutable
class CapMulti(IdlStruct, typename="kc::MutMulti"):
    v: t.int32
    b: str
    annotate.key("b")
    annotate.member_id("b", 20)
    a: t.int64
    annotate.key("a")
    annotate.member_id("a", 3)


@dataclass
@annotate.appendable
class CapInner(IdlStruct, typename="kc::Inner"):
    x: t.int16
    y: str


@dataclass
@annotate.mutable
class CapNested(IdlStruct, typename="kc::MutNested"):
    n: t.int32
    i: CapInner
    annotate.key("i")
BY_NAME: dict[str, KeyedType] = {kt.name: kt for kt in KEYED_TYPES}

__all__ = ["KEYED_TYPES", "BY_NAME", "KeyedType", "CapFinal", "CapAppendable", "CapMulti",
           "CapNested"]
