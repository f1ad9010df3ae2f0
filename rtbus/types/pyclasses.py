"""Python classes for IDL types: the objects users construct, read and write.

A struct becomes a ``__slots__`` class with a validating ``__init__`` (generated once per
type, so construction costs one call per field) and an unchecked constructor
``_rtbus_unchecked(*values)`` that decoders use: bytes that decoded correctly are already
valid, and re-validating them would double the decode cost.

Unions store ``discriminator`` and ``value``; each branch also gets a property named after
it (suffixed with ``_`` when it would clash with those two names or a keyword) so that
``u.branch`` reads the value when that branch is selected.

Enums are ``enum.IntEnum`` subclasses, bitmasks ``enum.IntFlag`` subclasses.
"""

from __future__ import annotations

import copy
import enum
from typing import Any, Callable, ClassVar

import numpy as np

from .model import (
    BitmaskType,
    EnumType,
    Member,
    NamedType,
    StructType,
    UnionType,
    resolve,
)

Validator = Callable[[Any, str], Any]
_MISSING: Any = object()


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
        except Exception:  # incomparable shapes/kinds mean "not equal"
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class IdlStruct:
    """Base of every generated or declared struct class."""

    __slots__ = ()
    __rtbus_type__: ClassVar[StructType]
    _rtbus_fields: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_values_equal(getattr(self, f), getattr(other, f)) for f in self._rtbus_fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._rtbus_fields)
        return f"{type(self).__name__}({inner})"

    @classmethod
    def _rtbus_unchecked(cls, *values: Any) -> Any:  # replaced per class
        raise NotImplementedError


class IdlUnion:
    """Base of every generated or declared union class."""

    __slots__ = ("discriminator", "value")
    __rtbus_type__: ClassVar[UnionType]
    discriminator: Any
    value: Any

    def __init__(self, discriminator: Any = None, value: Any = None, **branch: Any) -> None:
        """Replaced per class by :func:`rtbus.types.validate.union_init`; typed here for
        tools: ``U(branch=value)`` or ``U(discriminator, value)``."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self.discriminator == other.discriminator) and _values_equal(
            self.value, other.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(discriminator={self.discriminator!r}, value={self.value!r})"

    @classmethod
    def _rtbus_unchecked(cls, discriminator: Any, value: Any) -> Any:
        obj = object.__new__(cls)
        obj.discriminator = discriminator
        obj.value = value
        return obj


def python_name(scoped: str) -> str:
    """The class name for a scoped IDL name: its last component."""
    return scoped.rsplit("::", 1)[-1]


def _pass_through(value: Any, path: str) -> Any:
    return value


# The validator factory is looked up at class-build time so that ``validate.py`` can supply
# the real checks; it maps a member type to ``fn(value, path) -> value``.
def _validator_for(member: Member) -> Validator:
    try:
        from .validate import member_validator
    except ImportError:  # pragma: no cover - only while bootstrapping the package
        return _pass_through
    return member_validator(member)


def _fast_path_for(member: Member) -> str | None:
    from .validate import fast_path

    return fast_path(member)


def make_struct_class(model: StructType, base: type | None = None, *,
                      namespace: dict[str, Any] | None = None,
                      module: str = "rtbus.idl.generated", name: str | None = None) -> type:
    """Build the Python class for a struct model (its base struct's class must exist).

    ``namespace`` adds attributes (the methods and docstring of a class declared in Python);
    ``module``/``name`` make the class pickle and print under the user's own names.
    """
    if base is None:
        base = model.base.pyclass if model.base is not None else IdlStruct
    members = model.all_members()
    own = model.members
    fields = tuple(m.pyname for m in members)
    cls_name = name or python_name(model.name)
    ns: dict[str, Any] = dict(namespace or {})
    ns.update({
        "__slots__": tuple(m.pyname for m in own),
        "__rtbus_type__": model,
        "_rtbus_fields": fields,
        "__qualname__": ns.get("__qualname__", cls_name),
        "__module__": module,
    })
    cls = type(cls_name, (base,), ns)
    _install_constructors(cls, model)
    model.pyclass = cls
    return cls


def _install_constructors(cls: type, model: StructType) -> None:
    """Generate ``__init__`` (validating) and ``_rtbus_unchecked`` for a struct class."""
    members = model.all_members()
    names = [m.pyname for m in members]
    # Every parameter defaults to a sentinel so that a missing field is a ValidationError
    # naming it (like every other bad value), not a bare TypeError.
    sig = [f"{m.pyname}=None" if m.optional else f"{m.pyname}=_MISSING" for m in members]
    env: dict[str, Any] = {"_MISSING": _MISSING, "_cls": cls, "_new": object.__new__,
                           "_missing": _missing_field, "_deepcopy": copy.deepcopy}
    body = []
    for i, m in enumerate(members):
        env[f"_v{i}"] = _validator_for(m)
        env[f"_d{i}"] = m.default
        if m.default is not None:
            # a mutable default (list, array) is copied: instances must not share it
            take = f"_deepcopy(_d{i})" if isinstance(m.default, (list, dict, np.ndarray)) \
                else f"_d{i}"
            body.append(f"    if {m.pyname} is _MISSING: {m.pyname} = {take}")
        else:
            body.append(f"    if {m.pyname} is _MISSING: _missing({m.pyname!r})")
        check = f"_v{i}({m.pyname}, {m.pyname!r})"
        fast = _fast_path_for(m)
        if fast is not None:  # inline the common valid case: no call at all
            check = f"{m.pyname} if {fast.format(v=m.pyname)} else {check}"
        if m.optional:
            body.append(f"    _rtbus_self_.{m.pyname} = None if {m.pyname} is None "
                        f"else ({check})")
        else:
            body.append(f"    _rtbus_self_.{m.pyname} = {check}")
    # the instance is not called ``self``: an IDL member may be
    src = (f"def __init__(_rtbus_self_, {', '.join(sig)}):\n"
           + ("\n".join(body) or "    pass") + "\n")
    if not members:
        src = "def __init__(self):\n    pass\n"
    # the instance variable is named so that no IDL member name can shadow it
    src += f"def _rtbus_unchecked({', '.join(names)}):\n    _rtbus_obj_ = _new(_cls)\n"
    src += "".join(f"    _rtbus_obj_.{n} = {n}\n" for n in names) + "    return _rtbus_obj_\n"
    exec(compile(src, f"<rtbus struct {model.name}>", "exec"), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    cls._rtbus_unchecked = staticmethod(env["_rtbus_unchecked"])  # type: ignore[attr-defined]


def _missing_field(name: str) -> None:
    from ..errors import ValidationError

    raise ValidationError(name, "missing required field")


def make_union_class(model: UnionType, *, namespace: dict[str, Any] | None = None,
                     module: str = "rtbus.idl.generated", name: str | None = None) -> type:
    """Build the Python class for a union model (``namespace``/``module``/``name`` as structs)."""
    cls_name = name or python_name(model.name)
    ns: dict[str, Any] = dict(namespace or {})
    ns.update({
        "__slots__": (),
        "__rtbus_type__": model,
        "__qualname__": ns.get("__qualname__", cls_name),
        "__module__": module,
    })
    cls = type(cls_name, (IdlUnion,), ns)
    from .validate import union_init

    cls.__init__ = union_init(model)  # type: ignore[misc]
    for case in model.cases:
        attr = case.member.pyname
        if attr in ("discriminator", "value"):
            attr += "_"
        setattr(cls, attr, _branch_property(case.member.name, case.labels, case.is_default, model))
    model.pyclass = cls
    return cls


def _branch_property(name: str, labels: list[int], is_default: bool, model: UnionType) -> property:
    def get(self: IdlUnion) -> Any:
        from .validate import discriminator_int

        case = model.case_for(discriminator_int(self.discriminator))
        if case is None or case.member.name != name:
            raise AttributeError(f"union {model.name}: branch {name!r} is not selected "
                                 f"(discriminator={self.discriminator!r})")
        return self.value

    return property(get, doc=f"Value of branch {name!r} when selected.")


def make_enum_class(model: EnumType) -> type:
    cls = enum.IntEnum(python_name(model.name),  # type: ignore[misc]
                       [(lit.name, lit.value) for lit in model.literals],
                       module="rtbus.idl.generated")
    cls.__rtbus_type__ = model  # type: ignore[attr-defined]
    model.pyclass = cls
    return cls


def make_bitmask_class(model: BitmaskType) -> type:
    cls = enum.IntFlag(python_name(model.name),  # type: ignore[misc]
                       [(f.name, 1 << f.position) for f in model.flags],
                       module="rtbus.idl.generated")
    cls.__rtbus_type__ = model  # type: ignore[attr-defined]
    model.pyclass = cls
    return cls


def materialize(types: list[NamedType]) -> dict[str, type]:
    """Create Python classes for every named type (in dependency order); scoped name -> class."""
    out: dict[str, type] = {}

    def build(t: Any) -> None:
        t = resolve(t)
        if getattr(t, "pyclass", None) is not None:
            out.setdefault(t.name, t.pyclass)
            return
        if isinstance(t, StructType):
            if t.base is not None:
                build(t.base)
            out[t.name] = make_struct_class(t)
        elif isinstance(t, UnionType):
            out[t.name] = make_union_class(t)
        elif isinstance(t, EnumType):
            out[t.name] = make_enum_class(t)
        elif isinstance(t, BitmaskType):
            out[t.name] = make_bitmask_class(t)

    for t in types:
        build(t)
    return out
