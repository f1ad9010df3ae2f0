"""Python classes for IDL types: the objects users construct, read and write.

A struct becomes a ``__slots__`` class with a validating ``__init__`` (generated once per
type, so construction costs one call per field) and an unchecked constructor
``_rtbus_unchecked(*values)`` that decoders use: bytes that decoded correctly are already
valid, and re-validating them would double the decode cost.

Every member has a default, its IDL default, as in the C++ IDL mapping and RTI's Python API:
``0``/``0.0``/``False``/``""``/``"\\x00"``, the default enumerator, an empty bitmask, an empty
list or numpy array for a sequence, a zero-filled array, a default-constructed nested struct
or union, ``None`` for ``@optional``, or the member's ``@default``. So a sample can be built
with only the fields the caller cares about. Immutable defaults are the parameter defaults
of ``__init__`` (``help()`` shows ``x=0``); mutable ones are :class:`DefaultFactory` objects,
called for every instance (no two instances share a list or an array) and shown by what they
make (``header=Header()``). Values that *are* given are validated as strictly as ever.

Unions store ``discriminator`` and ``value``; each branch also gets a property named after
it (suffixed with ``_`` when it would clash with those two names or a keyword) so that
``u.branch`` reads the value when that branch is selected.

Enums are ``enum.IntEnum`` subclasses, bitmasks ``enum.IntFlag`` subclasses.

Pickling and copying: instances reduce to (class, values). A class that pickle can find by
module and name (compiled modules, declarations at module level) is pickled as usual, by
reference; a class built at run time (``rtbus.idl.load``, a declaration inside a function) is
pickled as a reference into a per-process registry of such classes (weak, keyed by scoped
name and a counter), plus, for classes loaded from an IDL file, the file and include path,
so that another process (``multiprocessing`` with ``spawn``) can load the file itself.
"""

from __future__ import annotations

import copy
import enum
import itertools
import pickle
import sys
import threading
import weakref
from typing import Any, Callable, ClassVar

import numpy as np

from .model import (
    BOOLEAN,
    CHAR,
    FLOAT32,
    FLOAT64,
    WCHAR,
    ArrayType,
    BitmaskType,
    EnumType,
    IdlType,
    Member,
    NamedType,
    PrimitiveType,
    SequenceType,
    StringType,
    StructType,
    UnionType,
    numeric_primitive,
    resolve,
)

Validator = Callable[[Any, str], Any]


def _values_equal(a: Any, b: Any) -> bool:
    """Field values equal, walked with an explicit stack rather than recursion: a sample
    nested thousands of levels deep (a recursive type) compares instead of raising
    RecursionError."""
    stack = [(a, b)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            try:
                if not np.array_equal(np.asarray(a), np.asarray(b)):
                    return False
            except Exception:  # incomparable shapes/kinds mean "not equal"
                return False
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif isinstance(a, IdlStruct) and type(a) is type(b):
            stack.extend((getattr(a, f), getattr(b, f)) for f in a._rtbus_fields)
        elif isinstance(a, IdlUnion) and type(a) is type(b):
            if not a.discriminator == b.discriminator:
                return False
            stack.append((a.value, b.value))
        elif not a == b:
            return False
    return True


# --- class references that survive pickling ---------------------------------------------

_REGISTRY: weakref.WeakValueDictionary[str, type] = weakref.WeakValueDictionary()
_COUNTER = itertools.count(1)
_REGISTRY_LOCK = threading.Lock()

#: ``(real path of the IDL file, include dirs, defines)`` a class was loaded from.
Origin = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]


def register_class(cls: type, scoped_name: str) -> None:
    """Give a class built at run time a key pickled instances can name it by."""
    with _REGISTRY_LOCK:
        key = f"{scoped_name}#{next(_COUNTER)}"
        _REGISTRY[key] = cls
    type.__setattr__(cls, "__rtbus_key__", key)  # IntEnum's metaclass guards plain setattr


def _findable(cls: type) -> bool:
    """Whether pickle can store ``cls`` by reference (``module.qualname`` leads back to it)."""
    obj: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is cls


def class_ref(cls: type) -> Any:
    """What a pickle stores to find ``cls`` again: the class itself when pickle can find it
    by name, otherwise ``(registry key, scoped name, origin)``."""
    if _findable(cls):
        return cls
    key = cls.__dict__.get("__rtbus_key__")
    model = getattr(cls, "__rtbus_type__", None)
    if key is None or model is None:
        raise pickle.PicklingError(f"cannot pickle an instance of {cls.__qualname__}: the class "
                                   "is neither importable by name nor built by rtbus")
    return (key, model.name, cls.__dict__.get("__rtbus_origin__"))


def resolve_class_ref(ref: Any) -> Any:
    """The class a :func:`class_ref` names, in this process."""
    if isinstance(ref, type):
        return ref
    key, scoped_name, origin = ref
    cls = _REGISTRY.get(key)
    if cls is not None:
        return cls
    if origin is not None:  # another process: load the IDL file the class came from
        from ..idl import load

        path, include_dirs, defines = origin
        try:
            ns = load(path, list(include_dirs), dict(defines) or None)
            found = ns.__idl__.get(scoped_name)
        except Exception as exc:
            raise pickle.UnpicklingError(f"cannot rebuild IDL type {scoped_name!r} from "
                                         f"{path}: {exc}") from exc
        if found is not None and getattr(resolve(found), "pyclass", None) is not None:
            return resolve(found).pyclass  # type: ignore[union-attr]
    raise pickle.UnpicklingError(
        f"IDL type {scoped_name!r} was built at run time in another process (or is gone): "
        "load the same IDL here first, or pickle instances of compiled classes "
        "(rtbus idl compile)")


def _restore_struct(ref: Any, values: tuple[Any, ...]) -> Any:
    return resolve_class_ref(ref)._rtbus_unchecked(*values)


def _restore_union(ref: Any, discriminator: Any, value: Any) -> Any:
    return resolve_class_ref(ref)._rtbus_unchecked(discriminator, value)


def _restore_enum(ref: Any, value: int) -> Any:
    return resolve_class_ref(ref)(value)


def _enum_reduce_ex(self: Any, protocol: Any) -> Any:
    """Enum members of run-time classes pickle through the registry; others as usual."""
    cls = type(self)
    return (_restore_enum, (class_ref(cls), int(self))) if not _findable(cls) else (
        cls, (int(self),))


def make_enum_picklable(cls: type, scoped_name: str) -> None:
    """Register an enum/bitmask class and make its members pickle wherever it was built."""
    register_class(cls, scoped_name)
    type.__setattr__(cls, "__reduce_ex__", _enum_reduce_ex)


# --- base classes ----------------------------------------------------------------------

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

    def __reduce__(self) -> Any:
        return (_restore_struct, (class_ref(type(self)),
                                  tuple(getattr(self, f) for f in self._rtbus_fields)))

    def __copy__(self) -> Any:
        return self._rtbus_unchecked(*(getattr(self, f) for f in self._rtbus_fields))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # registered in memo before the fields are copied: a list holding the sample itself
        # copies to a list holding the copy
        obj = object.__new__(type(self))
        memo[id(self)] = obj
        for f in self._rtbus_fields:
            object.__setattr__(obj, f, copy.deepcopy(getattr(self, f), memo))
        return obj

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
        tools: ``U(branch=value)``, ``U(discriminator, value)`` or ``U()`` (the default)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self.discriminator == other.discriminator) and _values_equal(
            self.value, other.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(discriminator={self.discriminator!r}, value={self.value!r})"

    def __reduce__(self) -> Any:
        return (_restore_union, (class_ref(type(self)), self.discriminator, self.value))

    def __copy__(self) -> Any:
        return self._rtbus_unchecked(self.discriminator, self.value)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        obj = object.__new__(type(self))
        memo[id(self)] = obj
        obj.discriminator = copy.deepcopy(self.discriminator, memo)
        obj.value = copy.deepcopy(self.value, memo)
        return obj

    @classmethod
    def _rtbus_unchecked(cls, discriminator: Any, value: Any) -> Any:
        obj = object.__new__(cls)
        obj.discriminator = discriminator
        obj.value = value
        return obj


def python_name(scoped: str) -> str:
    """The class name for a scoped IDL name: its last component."""
    return scoped.rsplit("::", 1)[-1]


# --- defaults ----------------------------------------------------------------------------

class DefaultFactory:
    """A mutable default: called once per instance that does not give the member.

    Its ``repr`` is the expression it stands for (``[]``, ``Header()``,
    ``numpy.zeros(9, dtype=float64)``), which is what ``help()`` and ``inspect.signature``
    show for the parameter.
    """

    __slots__ = ("make", "text")

    def __init__(self, make: Callable[[], Any], text: str) -> None:
        self.make = make
        self.text = text

    def __call__(self) -> Any:
        return self.make()

    def __repr__(self) -> str:
        return self.text


_IMMUTABLE = (bool, int, float, complex, str, bytes, type(None), np.generic)


def default_of(t: IdlType) -> Any:
    """The IDL default value of type ``t``: an immutable value or a :class:`DefaultFactory`."""
    r = resolve(t)
    if isinstance(r, PrimitiveType):
        if r is BOOLEAN:
            return False
        if r is CHAR or r is WCHAR:
            return "\x00"
        if r is FLOAT32 or r is FLOAT64:
            return 0.0
        return 0
    if isinstance(r, StringType):
        return ""
    if isinstance(r, EnumType):
        literal = r.default_literal
        if r.pyclass is not None:
            return r.pyclass(literal.value)
        # the enum class is not built yet: the member appears once someone builds it
        enum_t = r
        return DefaultFactory(lambda: enum_t.pyclass(literal.value) if enum_t.pyclass
                              is not None else literal.value,
                              f"{python_name(r.name)}.{literal.name}")
    if isinstance(r, BitmaskType):
        if r.pyclass is not None:
            return r.pyclass(0)
        mask_t = r
        return DefaultFactory(lambda: mask_t.pyclass(0) if mask_t.pyclass is not None else 0,
                              f"{python_name(r.name)}(0)")
    if isinstance(r, SequenceType):
        elem = resolve(r.element)
        if numeric_primitive(elem):
            dtype = np.dtype(elem.dtype)  # type: ignore[union-attr]
            return DefaultFactory(lambda: np.zeros(0, dtype=dtype),
                                  f"numpy.zeros(0, dtype={dtype.name})")
        return DefaultFactory(list, "[]")
    if isinstance(r, ArrayType):
        elem = resolve(r.element)
        dims = tuple(r.dims)
        if numeric_primitive(elem):
            dtype = np.dtype(elem.dtype)  # type: ignore[union-attr]
            shape = dims[0] if len(dims) == 1 else dims
            return DefaultFactory(lambda: np.zeros(dims, dtype=dtype),
                                  f"numpy.zeros({shape}, dtype={dtype.name})")
        inner = default_of(elem)
        return DefaultFactory(lambda: _filled(dims, inner), _filled_text(dims, inner))
    if isinstance(r, (StructType, UnionType)):
        constructed = r
        return DefaultFactory(lambda: constructed.pyclass(), f"{python_name(r.name)}()")
    raise TypeError(f"no default for IDL type {t!r}")  # pragma: no cover - model is closed


def _filled(dims: tuple[int, ...], inner: Any) -> list[Any]:
    if len(dims) == 1:
        if isinstance(inner, DefaultFactory):
            return [inner() for _ in range(dims[0])]
        return [inner] * dims[0]
    return [_filled(dims[1:], inner) for _ in range(dims[0])]


def _filled_text(dims: tuple[int, ...], inner: Any) -> str:
    text = repr(inner)
    for d in reversed(dims):
        text = f"[{text}] * {d}" if d > 3 else "[" + ", ".join([text] * d) + "]"
    return text


def member_default(member: Member, validator: Validator | None = None) -> Any:
    """The default of one member: None for ``@optional``, else its ``@default`` (checked once
    here, so a bad one fails when the class is built) or the IDL default of its type."""
    if member.optional:
        return None
    if member.default is None:
        return default_of(member.type)
    check = validator if validator is not None else _validator_for(member)
    value = check(member.default, member.pyname)
    if isinstance(value, _IMMUTABLE):
        return value
    return DefaultFactory(lambda: copy.deepcopy(value), repr(value))


def fresh_default(member: Member) -> Any:
    """A value of ``member``'s default that the caller may keep (factories are called)."""
    value = member_default(member)
    return value() if isinstance(value, DefaultFactory) else value


# --- struct and union classes -----------------------------------------------------------

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


def _doc_from(annotations: dict[str, Any]) -> str | None:
    """The text of a ``@verbatim(language="comment")`` annotation (rosidl's comments)."""
    verbatim = annotations.get("verbatim")
    if isinstance(verbatim, dict) and str(verbatim.get("language", "")).lower() in (
            "comment", "*") and isinstance(verbatim.get("text"), str):
        return str(verbatim["text"])
    return None


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
    if ns.get("__doc__") is None:
        ns["__doc__"] = _doc_from(model.annotations)
    ns.update({
        "__slots__": tuple(m.pyname for m in own),
        "__rtbus_type__": model,
        "_rtbus_fields": fields,
        "__qualname__": ns.get("__qualname__", cls_name),
        "__module__": module,
    })
    cls = type(cls_name, (base,), ns)
    _install_constructors(cls, model)
    register_class(cls, model.name)
    model.pyclass = cls
    return cls


def _install_constructors(cls: type, model: StructType) -> None:
    """Generate ``__init__`` (validating) and ``_rtbus_unchecked`` for a struct class.

    Each parameter's default is the member's default (see the module docstring): an immutable
    one goes through the same inlined check as a given value (an ``int`` check is cheaper than
    telling the two apart); a :class:`DefaultFactory` is recognised by identity and called.
    """
    members = model.all_members()
    names = [m.pyname for m in members]
    # the instance is ``self`` (what help() shows) unless an IDL member is called that
    me = "_rtbus_self_" if "self" in names else "self"
    env: dict[str, Any] = {"_rtbus_cls_": cls, "_rtbus_new_": object.__new__}
    sig, body = [], []
    for i, m in enumerate(members):
        name = m.pyname
        validator = _validator_for(m)
        env[f"_rtbus_v{i}"] = validator
        default = member_default(m, validator)
        env[f"_rtbus_d{i}"] = default
        sig.append(f"{name}=_rtbus_d{i}")
        check = f"_rtbus_v{i}({name}, {name!r})"
        fast = _fast_path_for(m)
        if fast is not None:  # inline the common valid case: no call at all
            check = f"{name} if {fast.format(v=name)} else {check}"
        target = f"{me}.{name}"
        if m.optional:
            body.append(f"    {target} = None if {name} is None else ({check})")
        elif isinstance(default, DefaultFactory):
            body.append(f"    {target} = _rtbus_d{i}() if {name} is _rtbus_d{i} else ({check})")
        else:
            body.append(f"    {target} = {check}")
    src = (f"def __init__({me}, {', '.join(sig)}):\n"
           + ("\n".join(body) or "    pass") + "\n")
    if not members:
        src = "def __init__(self):\n    pass\n"
    # the instance variable is named so that no IDL member name can shadow it
    src += (f"def _rtbus_unchecked({', '.join(names)}):\n"
            "    _rtbus_obj_ = _rtbus_new_(_rtbus_cls_)\n")
    src += "".join(f"    _rtbus_obj_.{n} = {n}\n" for n in names) + "    return _rtbus_obj_\n"
    exec(compile(src, f"<rtbus struct {model.name}>", "exec"), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = (f"A {model.name} sample; every member not given takes its IDL default "
                    "(shown), given values are validated.")
    cls.__init__ = init  # type: ignore[misc]
    cls._rtbus_unchecked = staticmethod(env["_rtbus_unchecked"])  # type: ignore[attr-defined]


def make_union_class(model: UnionType, *, namespace: dict[str, Any] | None = None,
                     module: str = "rtbus.idl.generated", name: str | None = None) -> type:
    """Build the Python class for a union model (``namespace``/``module``/``name`` as structs)."""
    cls_name = name or python_name(model.name)
    ns: dict[str, Any] = dict(namespace or {})
    if ns.get("__doc__") is None:
        ns["__doc__"] = _doc_from(model.annotations)
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
    register_class(cls, model.name)
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
    make_enum_picklable(cls, model.name)
    model.pyclass = cls
    return cls


def make_bitmask_class(model: BitmaskType) -> type:
    cls = enum.IntFlag(python_name(model.name),  # type: ignore[misc]
                       [(f.name, 1 << f.position) for f in model.flags],
                       module="rtbus.idl.generated")
    cls.__rtbus_type__ = model  # type: ignore[attr-defined]
    make_enum_picklable(cls, model.name)
    model.pyclass = cls
    return cls


def _referenced(t: IdlType, out: list[Any]) -> None:
    """Named types a member type refers to (through sequences, arrays and typedefs)."""
    while isinstance(t, (SequenceType, ArrayType)):
        t = t.element
    out.append(t)


def materialize(types: list[NamedType]) -> dict[str, type]:
    """Create Python classes for every named type; scoped name -> class.

    The types a struct or union refers to get their classes first (whatever order the list
    is in), so that defaults are real enum members and nested classes exist when members are
    compiled.
    """
    out: dict[str, type] = {}
    active: set[int] = set()

    def build(t: Any) -> None:
        t = resolve(t)
        if getattr(t, "pyclass", None) is not None:
            out.setdefault(t.name, t.pyclass)
            return
        if id(t) in active or not isinstance(t, (StructType, UnionType, EnumType,
                                                  BitmaskType)):
            return  # a recursive type reaching itself: its class is being built
        active.add(id(t))
        deps: list[Any] = []
        if isinstance(t, StructType):
            if t.base is not None:
                build(t.base)
            for mem in t.members:
                _referenced(mem.type, deps)
        elif isinstance(t, UnionType):
            _referenced(t.discriminator, deps)
            for c in t.cases:
                _referenced(c.member.type, deps)
        for dep in deps:
            build(dep)
        if t.pyclass is None:  # (a dependency cycle may have built it already)
            if isinstance(t, StructType):
                make_struct_class(t)
            elif isinstance(t, UnionType):
                make_union_class(t)
            elif isinstance(t, EnumType):
                make_enum_class(t)
            else:
                make_bitmask_class(t)
        out[t.name] = t.pyclass
        active.discard(id(t))

    for t in types:
        build(t)
    return out
