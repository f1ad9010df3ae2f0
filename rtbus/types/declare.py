"""Declaring IDL types directly in Python, with annotations.

Spelling (``from rtbus import idl_types as t``, the same module as ``rtbus.types.declare``)::

    @t.struct(typename="shapes::ShapeType", extensibility="appendable")
    class ShapeType:
        color: t.Key[t.String[128]]
        x: t.int32
        y: t.int32
        shapesize: t.int32 = 30          # a default value (IDL @default)

Why annotations: the class is the documentation, IDEs and mypy see real Python types
(``t.int32`` is ``Annotated[int, INT32]``), and the decorator turns the same annotations into
the shared type model (:mod:`rtbus.types.model`), so a declared type is indistinguishable from
one parsed from IDL: same model, same codec, same XTypes identity.

Building blocks:

- primitives ``boolean char wchar octet int8 uint8 int16 uint16 int32 uint32 int64 uint64
  float32 float64``, ``string``, ``wstring``; plain ``bool``/``int``/``float``/``str`` map to
  ``boolean``/``int64``/``float64``/``string``; ``list[T]`` is ``sequence<T>``.
- ``String[N]``/``WString[N]`` (bounded), ``Sequence[T]``/``Sequence[T, N]``,
  ``Array[T, d0, d1, ...]`` (a numpy array for primitive elements, nested lists otherwise).
  mypy does not accept integers as type arguments: where that matters write
  ``Annotated[str, t.bound(128)]`` or ``Annotated[NDArray[Any], t.sequence(t.float32, 100)]``.
- member properties: ``Key[T]``, ``Optional[T]``, ``External[T]``, ``MustUnderstand[T]``, or the
  markers ``t.key``, ``t.optional``, ``t.external``, ``t.must_understand``, ``t.id(n)``,
  ``t.hashid("name")``, ``t.annotate(unit="m", min=0)`` inside ``Annotated[...]``.
- ``@t.struct`` (inheritance: ``class B(A)``), ``@t.union(discriminator)`` with branches
  ``t.Case[1, 2, T]`` / ``t.Default[T]`` (derive the class from ``t.IdlUnion`` so type
  checkers know its constructor), ``@t.enum`` on an ``IntEnum``, ``@t.bitmask`` on an
  ``IntFlag``, ``t.alias("m::Name", T)`` for a typedef.

Every member has a default: ``= value`` gives it (IDL ``@default``), otherwise it is the IDL
default of its type (0, "", an empty sequence, a default-constructed nested struct...; see
:mod:`rtbus.types.pyclasses`). Type checkers read the decorator as a dataclass transform and
so ask for every member without ``= ...``: write ``= t.IDL_DEFAULT`` to tell them a member may
be left out without giving it an explicit default (generated code does this).

Types must be declared before they are used; a recursive type (reaching itself through a
sequence) starts with ``Node_fwd = t.forward_struct("m::Node")``, used as ``t.Sequence[Node_fwd]``
and completed by ``@t.struct(typename="m::Node", completes=Node_fwd)``.
"""

from __future__ import annotations

import enum as _enum
import inspect
import sys
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, TypeVar, Union, overload

import numpy as np

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    from typing_extensions import dataclass_transform

from ..errors import IdlError, ValidationError
from . import model as m
from .pyclasses import (
    IdlStruct,
    IdlUnion,
    make_enum_picklable,
    make_struct_class,
    make_union_class,
    member_default,
)

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)

_MODEL_TYPES = (m.PrimitiveType, m.StringType, m.SequenceType, m.ArrayType, m.AliasType,
                m.EnumType, m.BitmaskType, m.StructType, m.UnionType)

# --- markers used inside Annotated[...] -----------------------------------------------------


@dataclass(frozen=True)
class _Flag:
    name: str


@dataclass(frozen=True)
class _Id:
    value: int


@dataclass(frozen=True)
class _HashId:
    text: str


@dataclass(frozen=True)
class _Bound:
    value: int


@dataclass(frozen=True)
class _Annotations:
    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class _Name:
    text: str


@dataclass(frozen=True)
class _Labels:
    labels: tuple[Any, ...]
    is_default: bool


class _IdlDefault:
    """The value of :data:`IDL_DEFAULT`; only its identity matters."""

    def __repr__(self) -> str:
        return "IDL_DEFAULT"

    def __reduce__(self) -> str:
        return "IDL_DEFAULT"


#: ``x: t.int32 = t.IDL_DEFAULT``: the member takes its type's IDL default; for type checkers
#: the member has a default (``Any`` fits every annotation), for the model it has none.
IDL_DEFAULT: Any = _IdlDefault()

key = _Flag("key")
optional = _Flag("optional")
external = _Flag("external")
must_understand = _Flag("must_understand")
#: Used among ``Case[...]`` labels: ``Case[1, t.DEFAULT, T]`` is ``case 1: default: T``.
DEFAULT = _Flag("default")


def member_id(value: int) -> _Id:
    """``@id(value)``: an explicit member id (28 bits)."""
    if not 0 <= value <= 0x0FFFFFFF:
        raise ValueError(f"member id must be in 0..268435455: got {value}")
    return _Id(value)


def hashid(text: str = "") -> _HashId:
    """``@hashid`` / ``@hashid("text")``: the member id is a hash of the text (or name)."""
    return _HashId(text)


def bound(value: int) -> _Bound:
    """Bound of a string or sequence, for ``Annotated[str, t.bound(10)]``."""
    return _Bound(value)


def annotate(**items: Any) -> _Annotations:
    """Annotations the model records without interpreting (``@unit``, ``@min``, ``@range``...)."""
    return _Annotations(tuple(items.items()))


def idl_name(text: str) -> _Name:
    """The member's IDL name when it is not the attribute name with a keyword's ``_`` removed
    (an IDL member really called ``def_``)."""
    return _Name(text)


def case(*labels: Any) -> _Labels:
    """Labels of a union branch, for ``Annotated[T, t.case(1, 2)]``."""
    return _Labels(tuple(lab for lab in labels if lab is not DEFAULT), DEFAULT in labels)


default_case = _Labels((), True)

# --- primitive and string types -------------------------------------------------------------

boolean = Annotated[bool, m.BOOLEAN]
char = Annotated[str, m.CHAR]
wchar = Annotated[str, m.WCHAR]
octet = Annotated[int, m.OCTET]
int8 = Annotated[int, m.INT8]
uint8 = Annotated[int, m.UINT8]
int16 = Annotated[int, m.INT16]
uint16 = Annotated[int, m.UINT16]
int32 = Annotated[int, m.INT32]
uint32 = Annotated[int, m.UINT32]
int64 = Annotated[int, m.INT64]
uint64 = Annotated[int, m.UINT64]
float32 = Annotated[float, m.FLOAT32]
float64 = Annotated[float, m.FLOAT64]
string = Annotated[str, m.StringType()]
wstring = Annotated[str, m.StringType(wide=True)]

Key = Annotated[_T, key]
Optional = Annotated[Union[_T, None], optional]
External = Annotated[_T, external]
MustUnderstand = Annotated[_T, must_understand]

_PY_BUILTINS: dict[Any, m.IdlType] = {bool: m.BOOLEAN, int: m.INT64, float: m.FLOAT64,
                                      str: m.StringType(), bytes: m.SequenceType(m.OCTET)}


def _tuple(params: Any) -> tuple[Any, ...]:
    return params if isinstance(params, tuple) else (params,)


def _python_type(t: m.IdlType) -> Any:
    """The Python type a value of model type ``t`` has (for annotations seen by tools)."""
    r = m.resolve(t)
    if isinstance(r, m.PrimitiveType):
        return {"boolean": bool, "char": str, "wchar": str, "float32": float,
                "float64": float}.get(r.kind, int)
    if isinstance(r, m.StringType):
        return str
    if isinstance(r, (m.SequenceType, m.ArrayType)):
        elem = m.resolve(r.element)
        numeric = isinstance(elem, m.PrimitiveType) and elem not in (m.CHAR, m.WCHAR)
        return np.ndarray if numeric else list
    cls = getattr(r, "pyclass", None)
    return cls if cls is not None else object


class String:
    """``String[N]``: ``string<N>``."""

    def __class_getitem__(cls, n: int) -> Any:
        return Annotated[str, m.StringType(_positive(n, "string bound"))]


class WString:
    """``WString[N]``: ``wstring<N>``."""

    def __class_getitem__(cls, n: int) -> Any:
        return Annotated[str, m.StringType(_positive(n, "wstring bound"), wide=True)]


def sequence(element: Any, bound: int | None = None) -> m.SequenceType:
    """The model of ``sequence<element[, bound]>`` (for use inside ``Annotated``)."""
    return m.SequenceType(idl_type(element), None if bound is None else
                          _positive(bound, "sequence bound"))


def array(element: Any, *dims: int) -> m.ArrayType:
    """The model of an array ``element name[d0][d1]...`` (for use inside ``Annotated``)."""
    if not dims:
        raise ValueError("an array needs at least one dimension")
    return m.ArrayType(idl_type(element), tuple(_positive(d, "array dimension") for d in dims))


class Sequence:
    """``Sequence[T]`` or ``Sequence[T, N]``: ``sequence<T>``/``sequence<T, N>``."""

    def __class_getitem__(cls, params: Any) -> Any:
        args = _tuple(params)
        if len(args) not in (1, 2):
            raise TypeError("Sequence[T] or Sequence[T, N] expected")
        t = sequence(*args)
        return Annotated[_python_type(t), t]


class Array:
    """``Array[T, d0, d1, ...]``: an array member with those dimensions."""

    def __class_getitem__(cls, params: Any) -> Any:
        args = _tuple(params)
        if len(args) < 2:
            raise TypeError("Array[T, d0, ...] expected: an element type and dimensions")
        t = array(args[0], *args[1:])
        return Annotated[_python_type(t), t]


class Case:
    """``Case[label, ..., T]``: a union branch selected by those labels (``t.DEFAULT`` too)."""

    def __class_getitem__(cls, params: Any) -> Any:
        args = _tuple(params)
        if len(args) < 2:
            raise TypeError("Case[label, ..., T] expected: at least one label and a type")
        return Annotated[args[-1], case(*args[:-1])]


class Default:
    """``Default[T]``: the ``default:`` branch of a union."""

    def __class_getitem__(cls, params: Any) -> Any:
        return Annotated[params, default_case]


def typedef(name: str, target: Any) -> m.AliasType:
    """The model of a ``typedef``, for ``Name = Annotated[<python type>, t.typedef(...)]``,
    the spelling mypy accepts as a type alias (generated code uses it)."""
    return m.AliasType(name, idl_type(target))


def alias(name: str, target: Any) -> Any:
    """A ``typedef``: ``Small = t.alias("m::Small", t.int8)`` then ``x: Small``."""
    model = m.AliasType(name, idl_type(target))
    return Annotated[_python_type(model), model]


def _positive(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise TypeError(f"{what} must be a positive int: got {n!r}")
    return n


# --- annotation -> model --------------------------------------------------------------------

@dataclass
class _MemberSpec:
    type: m.IdlType
    key: bool = False
    optional: bool = False
    external: bool = False
    must_understand: bool = False
    id: int | None = None
    hashid: str | None = None
    annotations: dict[str, Any] | None = None
    labels: _Labels | None = None
    name: str | None = None


def _analyse(ann: Any) -> _MemberSpec:
    if typing.get_origin(ann) is Annotated:
        base, *meta = typing.get_args(ann)
        found: m.IdlType | None = None
        flags: list[Any] = []
        for item in meta:
            if isinstance(item, _MODEL_TYPES):
                found = item
            else:
                flags.append(item)
        spec = _analyse(base) if found is None else _MemberSpec(found)
        if found is not None and typing.get_origin(base) is Union and type(None) in \
                typing.get_args(base):
            spec.optional = True
        for item in flags:
            _apply_marker(spec, item)
        return spec
    if isinstance(ann, _MODEL_TYPES):
        return _MemberSpec(ann)
    origin = typing.get_origin(ann)
    if origin is Union or (sys.version_info >= (3, 10) and _is_union_type(ann)):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) != 1 or len(typing.get_args(ann)) != 2:
            raise TypeError(f"only X | None (an @optional member) is supported: got {ann!r}")
        spec = _analyse(args[0])
        spec.optional = True
        return spec
    if origin is list:
        (elem,) = typing.get_args(ann) or (None,)
        if elem is None:
            raise TypeError("list needs an element type: list[T]")
        return _MemberSpec(m.SequenceType(idl_type(elem)))
    if ann in _PY_BUILTINS:
        return _MemberSpec(_PY_BUILTINS[ann])
    model = getattr(ann, "__rtbus_type__", None)
    if isinstance(model, _MODEL_TYPES):
        return _MemberSpec(model)
    raise TypeError(f"{ann!r} is not an IDL type: expected a t.<type>, a declared struct/union/"
                    f"enum/bitmask class, bool/int/float/str or list[T]")


def _is_union_type(ann: Any) -> bool:
    import types

    return isinstance(ann, types.UnionType)


def _apply_marker(spec: _MemberSpec, item: Any) -> None:
    if isinstance(item, _Flag) and item is not DEFAULT:
        setattr(spec, item.name, True)
    elif isinstance(item, _Id):
        spec.id = item.value
    elif isinstance(item, _HashId):
        spec.hashid = item.text
    elif isinstance(item, _Annotations):
        spec.annotations = {**(spec.annotations or {}), **dict(item.items)}
    elif isinstance(item, _Labels):
        spec.labels = item
    elif isinstance(item, _Name):
        spec.name = item.text
    elif isinstance(item, _Bound):
        t = spec.type
        if isinstance(t, m.StringType):
            spec.type = m.StringType(item.value, t.wide)
        elif isinstance(t, m.SequenceType):
            spec.type = m.SequenceType(t.element, item.value)
        else:
            raise TypeError(f"t.bound() applies to strings and sequences, not {t!r}")
    # other Annotated metadata belongs to someone else (pydantic, docs): ignore it


def idl_type(ann: Any) -> m.IdlType:
    """The model type an annotation stands for (``t.int32`` -> INT32, a class -> its model)."""
    return _analyse(ann).type


def _own_hints(cls: type) -> list[tuple[str, Any]]:
    """The class's own annotations, evaluated (string annotations included), in order."""
    raw = inspect.get_annotations(cls)
    module = sys.modules.get(cls.__module__)
    globalns = dict(vars(module)) if module is not None else {}
    localns = {cls.__name__: cls}
    out = []
    for name, ann in raw.items():
        if isinstance(ann, str):
            ann = eval(ann, globalns, localns)  # what typing.get_type_hints does
        if typing.get_origin(ann) is typing.ClassVar or ann is typing.ClassVar:
            continue
        out.append((name, ann))
    return out


def _error(cls: type, message: str) -> IdlError:
    try:
        file = inspect.getsourcefile(cls) or cls.__module__
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        file, line = cls.__module__, 0
    return IdlError(f"{cls.__qualname__}: {message}", file, line, 0)


def _members(cls: type) -> list[tuple[m.Member, _MemberSpec]]:
    out = []
    for name, ann in _own_hints(cls):
        try:
            spec = _analyse(ann)
        except (TypeError, ValueError) as exc:
            raise _error(cls, f"member {name!r}: {exc}") from None
        member_name = spec.name if spec.name is not None else (
            name[:-1] if name.endswith("_") and _is_keyword(name[:-1]) else name)
        mem = m.Member(member_name, spec.type)
        if mem.pyname != name:
            raise _error(cls, f"member {name!r}: IDL name {member_name!r} is spelled "
                              f"{mem.pyname!r} in Python")
        mem.key, mem.optional = spec.key, spec.optional
        mem.external, mem.must_understand = spec.external, spec.must_understand
        mem.id, mem.hashid = spec.id, spec.hashid
        mem.annotations = dict(spec.annotations or {})
        if name in cls.__dict__ and cls.__dict__[name] is not IDL_DEFAULT:
            value = cls.__dict__[name]
            if isinstance(value, _enum.Enum) and isinstance(
                    m.resolve(mem.type), (m.EnumType, m.BitmaskType)):
                value = int(value.value)  # the model keeps the value, as the IDL parser does
            if value is not None or not mem.optional:
                mem.default = value
        if mem.key and mem.optional:
            raise _error(cls, f"key member {name!r} cannot be optional")
        out.append((mem, spec))
    return out


def _is_keyword(word: str) -> bool:
    import keyword

    return keyword.iskeyword(word)


def _check_unique_ids(cls: type, name: str, members: list[m.Member]) -> None:
    seen: dict[int, str] = {}
    for mem in members:
        assert mem.id is not None
        if mem.id in seen:
            raise _error(cls, f"members {seen[mem.id]!r} and {mem.name!r} of {name!r} have the "
                              f"same member id {mem.id}")
        seen[mem.id] = mem.name


def _class_namespace(cls: type, drop: set[str]) -> dict[str, Any]:
    return {k: v for k, v in cls.__dict__.items()
            if k not in drop and k not in ("__dict__", "__weakref__", "__slots__")}


# --- decorators -----------------------------------------------------------------------------

Extensibility = str


def forward_struct(typename: str) -> Any:
    """A forward declaration (``struct Node;``), usable inside a sequence before the struct
    is declared; complete it with ``@t.struct(typename=..., completes=<this>)``."""
    return Annotated[object, m.StructType(typename, defined=False)]


def forward_union(typename: str) -> Any:
    """A forward declaration of a union; complete it with ``@t.union(..., completes=<this>)``."""
    return Annotated[object, m.UnionType(typename, m.INT32, defined=False)]


def _pending(forward: Any, kind: type, typename: str) -> Any:
    model: Any = idl_type(forward)
    if not isinstance(model, kind) or getattr(model, "defined", True):
        raise TypeError(f"completes= expects a pending t.forward_{kind.__name__[:-4].lower()}()"
                        f": got {model!r}")
    if getattr(model, "name", None) != typename:
        raise TypeError(f"completes= names {getattr(model, 'name', None)!r}, but this type is "
                        f"{typename!r}")
    return model


@overload
def struct(cls: _C, /) -> _C: ...
@overload
def struct(*, typename: str | None = None, extensibility: Extensibility = "final",
           autoid: str = "sequential", nested: bool = False, topic: bool | None = None,
           annotations: dict[str, Any] | None = None,
           completes: Any = None) -> Callable[[_C], _C]: ...


@dataclass_transform(eq_default=True)
def struct(cls: Any = None, /, *, typename: str | None = None,
           extensibility: Extensibility = "final", autoid: str = "sequential",
           nested: bool = False, topic: bool | None = None,
           annotations: dict[str, Any] | None = None, completes: Any = None) -> Any:
    """Turn an annotated class into an IDL struct class (``@final`` unless told otherwise).

    ``typename`` is the scoped IDL name (default: the class name). A base class that is itself
    a declared struct becomes the IDL base struct. Methods and the docstring are kept.
    ``completes`` fills in a :func:`forward_struct` (recursive types).
    """
    if extensibility not in m.EXTENSIBILITIES:
        raise ValueError(f"extensibility must be one of {m.EXTENSIBILITIES}: "
                         f"got {extensibility!r}")
    if autoid not in ("sequential", "hash"):
        raise ValueError(f"autoid must be 'sequential' or 'hash': got {autoid!r}")

    def build(user: type) -> type:
        bases = [b for b in user.__bases__ if b is not object]
        base_cls = None
        if bases:
            if len(bases) != 1 or not (isinstance(bases[0], type)
                                       and issubclass(bases[0], IdlStruct)
                                       and bases[0] is not IdlStruct):
                raise _error(user, "a struct may only derive from one declared struct")
            base_cls = bases[0]
        pairs = _members(user)
        for mem, spec in pairs:
            if spec.labels is not None:
                raise _error(user, f"member {mem.name!r}: case labels belong to union branches")
        name = typename or user.__name__
        try:
            model = m.StructType(name) if completes is None else _pending(completes,
                                                                          m.StructType, name)
        except TypeError as exc:
            raise _error(user, str(exc)) from None
        model.members = [mem for mem, _ in pairs]
        model.base = base_cls.__rtbus_type__ if base_cls is not None else None
        model.extensibility = extensibility  # type: ignore[assignment]
        model.autoid = autoid  # type: ignore[assignment]
        model.nested, model.topic = nested, (not nested) if topic is None else topic
        model.annotations = dict(annotations or {})
        model.defined = True
        seen = {bm.name for bm in model.base.all_members()} if model.base else set()
        for mem in model.members:
            if mem.name in seen:
                raise _error(user, f"duplicate member {mem.name!r} (already in the base struct)")
            seen.add(mem.name)
        m.finalize_member_ids(model)
        _check_unique_ids(user, name, model.all_members())
        ns = _class_namespace(user, {mem.pyname for mem in model.members})
        try:
            return make_struct_class(model, base=base_cls or IdlStruct, namespace=ns,
                                     module=user.__module__, name=user.__name__)
        except ValidationError as exc:  # a default value that does not fit its member
            raise _error(user, f"default of member {exc}") from None

    return build if cls is None else build(cls)


def union(discriminator: Any, *, typename: str | None = None,
          extensibility: Extensibility = "final", autoid: str = "sequential",
          key_discriminator: bool = False, nested: bool = False,
          annotations: dict[str, Any] | None = None,
          completes: Any = None) -> Callable[[type], type]:
    """Turn an annotated class into an IDL union; each branch is ``name: t.Case[labels, T]``.

    Labels are ints, enum members (of the discriminator enum) or 1-character strings for a
    ``char`` discriminator. ``completes`` fills in a :func:`forward_union`.
    """
    disc = idl_type(discriminator)
    rd = m.resolve(disc)
    if not (isinstance(rd, m.EnumType) or (isinstance(rd, m.PrimitiveType)
                                           and rd.kind not in ("float32", "float64"))):
        raise TypeError(f"union discriminator must be an integer, char, boolean, octet or enum "
                        f"type: got {rd!r}")

    def label_value(lab: Any) -> int:
        if isinstance(lab, str) and len(lab) == 1:
            return ord(lab)
        if isinstance(lab, (int, np.integer)):
            return int(lab)
        raise TypeError(f"union label must be an int, enum member or 1-character str: "
                        f"got {lab!r}")

    def build(user: type) -> type:
        name = typename or user.__name__
        cases = []
        used: dict[int, str] = {}
        has_default = False
        for mem, spec in _members(user):
            labels = spec.labels
            if labels is None:
                raise _error(user, f"branch {mem.name!r} needs labels: t.Case[label, ..., T] "
                                   f"or t.Default[T]")
            if mem.key:
                raise _error(user, f"@key is not allowed on union branch {mem.name!r}")
            values = []
            for lab in labels.labels:
                try:
                    v = label_value(lab)
                except TypeError as exc:
                    raise _error(user, f"branch {mem.name!r}: {exc}") from None
                if v in used:
                    raise _error(user, f"duplicate case label {v} (branch {used[v]!r} and "
                                       f"{mem.name!r})")
                used[v] = mem.name
                values.append(v)
            if labels.is_default:
                if has_default:
                    raise _error(user, "more than one default branch")
                has_default = True
            cases.append(m.UnionCase(values, mem, labels.is_default))
        if not cases:
            raise _error(user, "a union needs at least one branch")
        try:
            model = m.UnionType(name, disc) if completes is None else _pending(
                completes, m.UnionType, name)
        except TypeError as exc:
            raise _error(user, str(exc)) from None
        model.discriminator, model.cases = disc, cases
        model.extensibility = extensibility  # type: ignore[assignment]
        model.key_discriminator = key_discriminator
        model.annotations = dict(annotations or {})
        model.defined = True
        if nested:
            model.annotations["nested"] = True
        holder = m.StructType(name, [c.member for c in cases],
                              autoid=autoid)  # type: ignore[arg-type]
        m.finalize_member_ids(holder)
        _check_unique_ids(user, name, holder.members)
        bases = [b for b in user.__bases__ if b not in (object, IdlUnion)]
        if bases:
            raise _error(user, "a union may only derive from t.IdlUnion (for type checkers)")
        ns = _class_namespace(user, {c.member.pyname for c in cases})
        for c in cases:
            if c.member.default is not None:
                try:
                    member_default(c.member)
                except ValidationError as exc:
                    raise _error(user, f"default of branch {exc}") from None
        return make_union_class(model, namespace=ns, module=user.__module__, name=user.__name__)

    return build


def enum(cls: Any = None, /, *, typename: str | None = None, bit_bound: int = 32,
         extensibility: Extensibility = "final", default: str | None = None) -> Any:
    """Make an ``IntEnum`` subclass an IDL enum (the class itself is kept and returned)."""

    def build(user: Any) -> Any:
        if not (isinstance(user, type) and issubclass(user, _enum.IntEnum)):
            raise _error(user, "@t.enum applies to an enum.IntEnum subclass")
        literals = [m.EnumLiteral(n, int(v), n == default)
                    for n, v in user.__members__.items() if v.name == n]
        if default is not None and not any(lit.default for lit in literals):
            raise _error(user, f"default literal {default!r} is not a member")
        if not literals:
            raise _error(user, "an enum needs at least one literal")
        lo, hi = -(1 << (bit_bound - 1)), (1 << bit_bound) - 1
        for lit in literals:
            if not lo <= lit.value <= hi:
                raise _error(user, f"literal {lit.name} = {lit.value} does not fit "
                                   f"bit_bound {bit_bound}")
        model = m.EnumType(typename or user.__name__, literals, bit_bound,
                           extensibility)  # type: ignore[arg-type]
        model.pyclass = user
        setattr(user, "__rtbus_type__", model)  # noqa: B010 - IntEnum/IntFlag have no such field
        make_enum_picklable(user, model.name)
        return user

    return build if cls is None else build(cls)


def bitmask(cls: Any = None, /, *, typename: str | None = None, bit_bound: int = 32,
            extensibility: Extensibility = "final") -> Any:
    """Make an ``IntFlag`` subclass an IDL bitmask; every member must be a single bit."""

    def build(user: Any) -> Any:
        if not (isinstance(user, type) and issubclass(user, _enum.IntFlag)):
            raise _error(user, "@t.bitmask applies to an enum.IntFlag subclass")
        flags = []
        for n, v in user.__members__.items():
            value = int(v)
            if value <= 0 or value & (value - 1):
                raise _error(user, f"flag {n} = {value:#x} is not a single bit")
            position = value.bit_length() - 1
            if position >= bit_bound:
                raise _error(user, f"flag {n} position {position} is outside bit_bound "
                                   f"{bit_bound}")
            flags.append(m.BitFlag(n, position))
        model = m.BitmaskType(typename or user.__name__, flags, bit_bound,
                              extensibility)  # type: ignore[arg-type]
        model.pyclass = user
        setattr(user, "__rtbus_type__", model)  # noqa: B010 - IntEnum/IntFlag have no such field
        make_enum_picklable(user, model.name)
        return user

    return build if cls is None else build(cls)


id = member_id  # the IDL annotation is called @id

__all__ = [
    "DEFAULT", "IDL_DEFAULT", "Array", "Case", "Default", "External", "Key", "MustUnderstand",
    "Optional",
    "Sequence", "String", "WString", "alias", "annotate", "array", "bitmask", "boolean",
    "bound", "case", "char", "default_case", "enum", "external", "float32", "float64",
    "forward_struct", "forward_union",
    "hashid", "id", "idl_name", "idl_type", "typedef",
    "int8", "int16", "int32", "int64", "key", "member_id",
    "must_understand", "octet", "optional", "sequence", "string", "struct", "uint8", "uint16",
    "uint32", "uint64", "union", "wchar", "wstring", "IdlStruct", "IdlUnion",
]
