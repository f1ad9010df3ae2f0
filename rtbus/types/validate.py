"""Validation of sample values on construction, compiled once per member type.

``member_validator(member)`` returns ``fn(value, path) -> value``: it checks a value against the
member's IDL type and returns the value to store (converted where the conversion cannot lose
information: a valid ``int`` becomes the ``IntEnum`` member, a list of numbers becomes a numpy
array). ``union_init(model)`` returns the ``__init__`` of a union class.

Decisions (strict, like msgspec, because a silently rounded sample is worse than an error):

- Integers accept ``int`` and numpy integer scalars. ``bool`` is refused (``True`` for an
  ``int32`` is almost always a bug), and so is every ``float``, even an integral ``3.0``.
- ``float32``/``float64`` accept ``int``, ``float`` and numpy real scalars (not ``bool``); a
  finite value beyond the ``float32`` range is refused rather than turned into ``inf``.
- ``boolean`` accepts only ``bool`` (and ``numpy.bool_``).
- ``char`` is a ``str`` of length 1 with a code point <= 255 (IDL ``char`` is one octet, we use
  latin-1); ``wchar`` a ``str`` of length 1 in the Basic Multilingual Plane (one UTF-16 unit).
- ``string<N>`` counts UTF-8 bytes (what goes on the wire), ``wstring<N>`` UTF-16 units; NUL
  characters are refused since CDR strings are NUL-terminated.
- Sequences/arrays of numeric/boolean primitives accept any sequence or buffer (list, tuple,
  numpy array, ``bytes`` for octet/uint8/int8) and become a numpy array of the element's
  dtype by one ``np.asarray`` plus a vectorised range check; a float array for an integer
  element is refused (same rule as scalars), and so is a ``bool`` array. One exception for
  speed: inside a plain list numpy turns ``True`` into ``1`` before we can see it. Arrays
  must have exactly the declared shape.
- Sequences/arrays of other elements become fresh lists, each element validated; for
  ``char``/``wchar`` elements that is a list of 1-character ``str`` (as the codec decodes
  them), and a ``str`` is accepted for them (``"abc"`` -> ``["a", "b", "c"]``).
- Nested structs/unions must be an instance of exactly that class; a ``dict`` is accepted and
  passed to the class as keyword arguments (errors inside carry the full path).

- A member that is not given takes its IDL default (:mod:`rtbus.types.pyclasses`); ``None``
  for a non-``@optional`` member is a value given, and refused like any other wrong type.
  ``U()`` is the default union and ``U(d)`` the branch ``d`` selects with its default value.
- A struct/union of the right IDL type but another class (the type compiled twice, or
  compiled once and loaded once) is refused with a message that says so.

Errors are :class:`rtbus.errors.ValidationError` with the full path (``pose.position[2]``) and
the rule that broke (``int32 out of range [-2147483648, 2147483647]: got 2147483648``). Paths
are built only when something is wrong: inner validators raise with their local path and each
container prepends its part on the way out, so valid values pay no string formatting.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from ..errors import ValidationError
from .model import (
    BOOLEAN,
    CHAR,
    FLOAT32,
    FLOAT64,
    INT_RANGES,
    WCHAR,
    ArrayType,
    BitmaskType,
    EnumType,
    IdlType,
    Member,
    PrimitiveType,
    SequenceType,
    StringType,
    StructType,
    UnionType,
    numeric_primitive,
    resolve,
)

Validator = Callable[[Any, str], Any]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_BYTES_LIKE = (bytes, bytearray, memoryview)


def _type_name(value: Any) -> str:
    return type(value).__name__


def join_path(outer: str, inner: str) -> str:
    """``outer`` + ``inner`` where inner is relative (``"x"``, ``"[2]"``, ``"a.b"`` or ``""``)."""
    if not inner:
        return outer
    if not outer or inner.startswith("["):
        return outer + inner
    return f"{outer}.{inner}"


def _reraise(err: ValidationError, outer: str) -> ValidationError:
    return ValidationError(join_path(outer, err.path), err.reason)


# --- scalars --------------------------------------------------------------------------------

def _int_validator(kind: str) -> Validator:
    lo, hi = INT_RANGES[kind]
    rule = f"{kind} out of range [{lo}, {hi}]"

    def check(value: Any, path: str) -> Any:
        if type(value) is int:
            if lo <= value <= hi:
                return value
            raise ValidationError(path, f"{rule}: got {value}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValidationError(path, f"expected int for {kind}: got {_type_name(value)}")
        value = int(value)
        if lo <= value <= hi:
            return value
        raise ValidationError(path, f"{rule}: got {value}")

    return check


def _float_validator(kind: str) -> Validator:
    single = kind == "float32"

    def check(value: Any, path: str) -> Any:
        if type(value) is not float:
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                    value, (int, float, np.integer, np.floating)):
                raise ValidationError(path, f"expected float for {kind}: got {_type_name(value)}")
            value = float(value)
        if single and abs(value) > _FLOAT32_MAX and math.isfinite(value):
            raise ValidationError(path, f"float32 out of range: got {value!r}")
        return value

    return check


def _bool_check(value: Any, path: str) -> Any:
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise ValidationError(path, f"expected bool for boolean: got {_type_name(value)}")


def _char_validator(kind: str, max_code: int, what: str) -> Validator:
    def check(value: Any, path: str) -> Any:
        if type(value) is not str:
            raise ValidationError(path, f"expected str of length 1 for {kind}: "
                                        f"got {_type_name(value)}")
        if len(value) != 1:
            raise ValidationError(path, f"{kind} must be a str of length 1: got length "
                                        f"{len(value)}")
        if ord(value) > max_code:
            raise ValidationError(path, f"{kind} must be {what} (code point <= {max_code}): "
                                        f"got {value!r}")
        return value

    return check


def _string_validator(t: StringType) -> Validator:
    bound = t.bound
    kind = "wstring" if t.wide else "string"

    def check(value: Any, path: str) -> Any:
        if type(value) is not str:
            if not isinstance(value, str):
                raise ValidationError(path, f"expected str for {kind}: got {_type_name(value)}")
            value = str(value)
        if "\x00" in value:
            raise ValidationError(path, f"{kind} must not contain NUL: got {value!r}")
        size = len(value)  # ASCII: characters are bytes and UTF-16 units
        if not value.isascii():
            try:
                size = len(value.encode("utf-16-le")) // 2 if t.wide else len(value.encode())
            except UnicodeEncodeError as exc:  # a lone surrogate: no encoding has it
                raise ValidationError(path, f"{kind} cannot be encoded: {exc.reason} "
                                            f"({value[exc.start]!r} at index {exc.start})"
                                      ) from None
        if bound is not None and size > bound:
            unit = "UTF-16 units" if t.wide else "UTF-8 bytes"
            raise ValidationError(path, f"{kind} bound exceeded (max {bound} {unit}): "
                                        f"got {size}")
        return value

    return check


def _enum_validator(t: EnumType) -> Validator:
    valid = {lit.value for lit in t.literals}

    def check(value: Any, path: str) -> Any:
        cls = t.pyclass
        if type(value) is cls:
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValidationError(path, f"expected {t.name} or int for enum {t.name}: "
                                        f"got {_type_name(value)}")
        if isinstance(value, enum.Enum):
            # a member of another enum: almost certainly the wrong enum, even if the value fits
            raise ValidationError(path, f"expected {t.name}: got "
                                        f"{type(value).__name__}.{value.name}")
        v = int(value)
        if v not in valid:
            raise ValidationError(path, f"not a literal of enum {t.name}: got {v}")
        return cls(v) if cls is not None else v

    return check


def _bitmask_validator(t: BitmaskType) -> Validator:
    allowed = 0
    for f in t.flags:
        allowed |= 1 << f.position

    def check(value: Any, path: str) -> Any:
        cls = t.pyclass
        if type(value) is cls:
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValidationError(path, f"expected {t.name} or int for bitmask {t.name}: "
                                        f"got {_type_name(value)}")
        v = int(value)
        if v < 0 or v & ~allowed:
            raise ValidationError(path, f"bits not in bitmask {t.name} (allowed mask "
                                        f"{allowed:#x}): got {v:#x}")
        return cls(v) if cls is not None else v

    return check


def _constructed_validator(t: StructType | UnionType) -> Validator:
    def check(value: Any, path: str) -> Any:
        cls = t.pyclass
        if type(value) is cls:
            return value
        if isinstance(value, Mapping) and cls is not None:
            try:
                return cls(**value)
            except ValidationError as err:
                raise _reraise(err, path) from None
            except TypeError as err:
                raise ValidationError(path, f"cannot build {t.name} from dict: {err}") from None
        other = getattr(type(value), "__rtbus_type__", None)
        if cls is not None and getattr(other, "name", None) == t.name:
            # the classic packaging mistake: one IDL type built twice (compiled twice, or
            # loaded once and compiled once); say so instead of "got Header"
            raise ValidationError(path, f"expected {t.name} from {cls.__module__}: got a "
                                        f"{type(value).__name__} from {type(value).__module__}, "
                                        "another class for the same IDL type (build both "
                                        "from one module or one rtbus.idl.load)")
        raise ValidationError(path, f"expected {t.name}: got {_type_name(value)}")

    return check


# --- primitive collections as numpy arrays --------------------------------------------------

def _first_bad_index(mask: np.ndarray) -> str:
    idx = np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape)
    return "".join(f"[{int(i)}]" for i in idx)


def _to_primitive_array(value: Any, elem: PrimitiveType, path: str) -> np.ndarray:
    """One ``np.asarray`` and vectorised checks; the Python loop runs only to explain errors."""
    dtype = np.dtype(elem.dtype)
    if isinstance(value, str):
        raise ValidationError(path, f"expected a sequence of {elem.kind}: got str")
    if isinstance(value, _BYTES_LIKE):
        if dtype.itemsize != 1 or elem is BOOLEAN:
            raise ValidationError(path, f"bytes only fit a sequence of 1-byte integers, "
                                        f"not {elem.kind}")
        return np.frombuffer(bytes(value), dtype=dtype).copy()
    if not isinstance(value, np.ndarray):
        if isinstance(value, (int, float, Mapping)) or not hasattr(value, "__len__"):
            raise ValidationError(path, f"expected a sequence of {elem.kind}: "
                                        f"got {_type_name(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nesting and the like
        raise ValidationError(path, f"not a rectangular sequence of {elem.kind}: {err}") from None
    kind = arr.dtype.kind
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=dtype)
    if elem is BOOLEAN:
        if kind != "b":
            _explain_elements(arr, _bool_check, path, value)
        return arr.astype(dtype, copy=False)
    if elem is FLOAT32 or elem is FLOAT64:
        if kind not in "biuf" or kind == "b":
            _explain_elements(arr, _float_validator(elem.kind), path, value)
        with np.errstate(over="ignore"):
            out = arr.astype(dtype, copy=False)
        if elem is FLOAT32 and kind == "f":
            bad = np.isinf(out) & np.isfinite(arr)
            if bad.any():
                where = _first_bad_index(bad)
                raise ValidationError(path + where, f"float32 out of range: got "
                                                    f"{float(arr[bad][0])!r}")
        return out
    # integers (octet, int8..uint64)
    if kind not in "iu":
        _explain_elements(arr, _int_validator(elem.kind), path, value)
        return arr.astype(dtype)  # object array of in-range Python ints
    lo, hi = INT_RANGES[elem.kind]
    if not np.can_cast(arr.dtype, dtype, casting="safe"):
        outside: np.ndarray = (arr < lo) | (arr > hi)
        if outside.any():
            where = _first_bad_index(outside)
            raise ValidationError(path + where, f"{elem.kind} out of range [{lo}, {hi}]: got "
                                                f"{int(arr[outside][0])}")
    return arr.astype(dtype, copy=False)


def _explain_elements(arr: np.ndarray, check: Validator, path: str, original: Any) -> None:
    """Slow path: find the first element that the scalar rule refuses and report it.

    Returns normally when every element is acceptable after all (an object array)."""
    if not isinstance(original, np.ndarray):
        # numpy may have turned [1, "x"] into strings; look at the objects the user gave
        try:
            arr = np.array(original, dtype=object)
        except (ValueError, TypeError):
            pass
    flat = arr.ravel()
    for i, item in enumerate(flat if arr.dtype.kind == "O" else flat.tolist()):
        try:
            check(item, "")
        except ValidationError as err:
            where = "".join(f"[{int(j)}]" for j in np.unravel_index(i, arr.shape))
            raise ValidationError(path + where, err.reason) from None
    # every element passed the scalar rule (e.g. Python ints too big for int64 going to a
    # float64): the caller's conversion is exact


def _primitive_sequence_validator(t: SequenceType, elem: PrimitiveType) -> Validator:
    bound = t.bound

    def check(value: Any, path: str) -> Any:
        arr = _to_primitive_array(value, elem, path)
        if arr.ndim != 1:
            raise ValidationError(path, f"expected a 1-dimensional sequence of {elem.kind}: "
                                        f"got shape {arr.shape}")
        if bound is not None and arr.shape[0] > bound:
            raise ValidationError(path, f"sequence bound exceeded (max {bound} elements): "
                                        f"got {arr.shape[0]}")
        return arr

    return check


def _primitive_array_validator(t: ArrayType, elem: PrimitiveType) -> Validator:
    dims = tuple(t.dims)

    def check(value: Any, path: str) -> Any:
        arr = _to_primitive_array(value, elem, path)
        if arr.shape != dims:
            if len(dims) == 1 and arr.ndim == 1:
                raise ValidationError(path, f"expected array of length {dims[0]}: "
                                            f"got {arr.shape[0]}")
            raise ValidationError(path, f"expected array of shape {dims}: got {arr.shape}")
        return arr

    return check


# --- other collections as lists -------------------------------------------------------------

def _check_list_like(value: Any, path: str, what: str, chars: bool = False) -> list[Any]:
    if isinstance(value, list):
        return value
    if chars and isinstance(value, str):
        return list(value)  # "abc" for a sequence/array of char
    if isinstance(value, (tuple, np.ndarray)) or (
            hasattr(value, "__len__") and hasattr(value, "__getitem__")
            and not isinstance(value, (str, Mapping, *_BYTES_LIKE))):
        return list(value)
    raise ValidationError(path, f"expected a list for {what}: got {_type_name(value)}")


def _list_sequence_validator(t: SequenceType, elem_check: Validator,
                             chars: bool = False) -> Validator:
    bound = t.bound

    def check(value: Any, path: str) -> Any:
        items = _check_list_like(value, path, "sequence", chars)
        if bound is not None and len(items) > bound:
            raise ValidationError(path, f"sequence bound exceeded (max {bound} elements): "
                                        f"got {len(items)}")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(elem_check(item, ""))
            except ValidationError as err:
                raise _reraise(err, f"{path}[{i}]") from None
        return out

    return check


def _list_array_validator(dims: tuple[int, ...], elem_check: Validator,
                          chars: bool = False) -> Validator:
    n = dims[0]
    inner = elem_check if len(dims) == 1 else _list_array_validator(dims[1:], elem_check, chars)

    def check(value: Any, path: str) -> Any:
        items = _check_list_like(value, path, "array", chars and len(dims) == 1)
        if len(items) != n:
            raise ValidationError(path, f"expected array of length {n}: got {len(items)}")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(inner(item, ""))
            except ValidationError as err:
                raise _reraise(err, f"{path}[{i}]") from None
        return out

    return check


# --- dispatch -------------------------------------------------------------------------------

def type_validator(t: IdlType) -> Validator:
    """The validator for a value of IDL type ``t`` (typedefs seen through)."""
    t = resolve(t)
    if isinstance(t, PrimitiveType):
        if t is BOOLEAN:
            return _bool_check
        if t is CHAR:
            return _char_validator("char", 255, "latin-1")
        if t is WCHAR:
            return _char_validator("wchar", 0xFFFF, "in the BMP")
        if t is FLOAT32 or t is FLOAT64:
            return _float_validator(t.kind)
        return _int_validator(t.kind)
    if isinstance(t, StringType):
        return _string_validator(t)
    if isinstance(t, EnumType):
        return _enum_validator(t)
    if isinstance(t, BitmaskType):
        return _bitmask_validator(t)
    if isinstance(t, (StructType, UnionType)):
        return _constructed_validator(t)
    if isinstance(t, SequenceType):
        elem = resolve(t.element)
        if numeric_primitive(elem):
            return _primitive_sequence_validator(t, elem)  # type: ignore[arg-type]
        return _list_sequence_validator(t, type_validator(elem), elem in (CHAR, WCHAR))
    if isinstance(t, ArrayType):
        elem = resolve(t.element)
        if numeric_primitive(elem):
            return _primitive_array_validator(t, elem)  # type: ignore[arg-type]
        return _list_array_validator(tuple(t.dims), type_validator(elem), elem in (CHAR, WCHAR))
    raise TypeError(f"no validator for IDL type {t!r}")


def fast_path(member: Member) -> str | None:
    """A Python expression over ``{v}`` that is True when the value is certainly valid as is.

    Struct ``__init__`` inlines it so the common case (an in-range ``int``, a ``float``, a
    short ASCII ``str``) costs no function call; anything else goes through the validator.
    """
    t = resolve(member.type)
    if isinstance(t, PrimitiveType):
        if t is BOOLEAN:
            return "({v} is True or {v} is False)"
        if t is FLOAT64:
            return "type({v}) is float"
        if t is FLOAT32:
            return f"(type({{v}}) is float and -{_FLOAT32_MAX!r} <= {{v}} <= {_FLOAT32_MAX!r})"
        if t.kind in INT_RANGES and t is not WCHAR:
            lo, hi = INT_RANGES[t.kind]
            return f"(type({{v}}) is int and {lo} <= {{v}} <= {hi})"
        return None
    if isinstance(t, StringType):
        if t.bound is None:
            return "(type({v}) is str and '\\x00' not in {v})"
        return (f"(type({{v}}) is str and len({{v}}) <= {t.bound} and {{v}}.isascii() "
                f"and '\\x00' not in {{v}})")
    return None


def member_validator(member: Member) -> Validator:
    """``fn(value, path) -> value`` for one struct member or union branch, built once."""
    return type_validator(member.type)


# --- unions ---------------------------------------------------------------------------------

def discriminator_int(value: Any) -> int:
    """The integer a discriminator value stands for (``char`` discriminators are ``str``)."""
    if isinstance(value, str):
        return ord(value)
    return int(value)


def _default_discriminator(model: UnionType) -> Any:
    """The discriminator of a default-constructed union: the value that selects the
    ``default:`` branch when there is one, otherwise one that selects no branch (or the first
    label when every value is taken), as the codec does for a union a peer did not send."""
    label = model.implicit_default()
    disc = resolve(model.discriminator)
    if isinstance(disc, EnumType):
        return disc.pyclass(label) if disc.pyclass is not None else label
    if disc is CHAR or disc is WCHAR:
        return chr(label)
    if disc is BOOLEAN:
        return bool(label)
    return label


def union_init(model: UnionType) -> Callable[..., None]:
    """``__init__(self, discriminator=None, value=None, **branch)`` for a union class.

    Either give the branch by name (``Shape(circle=c)``, the discriminator becomes that
    branch's first label) or give ``discriminator`` and ``value``. Both together must agree.
    ``U()`` is the default union (see :func:`_default_discriminator`) and ``U(d)`` selects the
    branch of ``d`` with that branch's default value; a branch named with ``None`` is an error.
    """
    from .pyclasses import fresh_default

    disc_check = type_validator(model.discriminator)
    branch_checks = {id(c): member_validator(c.member) for c in model.cases}
    by_name = {c.member.pyname: c for c in model.cases}
    by_name.update({c.member.name: c for c in model.cases})

    def first_label(case: Any) -> Any:
        return case.labels[0] if case.labels else model.implicit_default()

    def __init__(self: Any, discriminator: Any = None, value: Any = None, **branch: Any) -> None:
        if branch:
            if len(branch) != 1 or value is not None:
                raise ValidationError("", f"union {model.name}: give one branch by name, or "
                                          f"discriminator and value; got {sorted(branch)}"
                                          + (" and value" if value is not None else ""))
            ((name, value),) = branch.items()
            chosen = by_name.get(name)
            if chosen is None:
                raise ValidationError(name, f"not a branch of union {model.name}; branches: "
                                            f"{sorted(c.member.pyname for c in model.cases)}")
            if discriminator is None:
                discriminator = first_label(chosen)
                resolved_disc = resolve(model.discriminator)
                if resolved_disc is CHAR:
                    discriminator = chr(discriminator)
                elif resolved_disc is BOOLEAN:
                    discriminator = bool(discriminator)
        if discriminator is None:
            if value is not None:
                raise ValidationError("discriminator", f"missing discriminator for union "
                                                       f"{model.name}: a value needs one")
            discriminator = _default_discriminator(model)
        discriminator = disc_check(discriminator, "discriminator")
        case = model.case_for(discriminator_int(discriminator))
        if branch and (case is None or case is not chosen):
            raise ValidationError("discriminator", f"discriminator {discriminator!r} does not "
                                                   f"select branch {name!r} of union {model.name}")
        if case is None:
            if value is not None:
                raise ValidationError("value", f"discriminator {discriminator!r} selects no "
                                               f"branch of union {model.name}; value must be "
                                               f"None: got {_type_name(value)}")
        else:
            label = case.member.pyname
            if value is None and not case.member.optional:
                if branch:
                    raise ValidationError(label, f"missing value for branch {label!r} of union "
                                                 f"{model.name}")
                value = fresh_default(case.member)
            elif value is not None:
                try:
                    value = branch_checks[id(case)](value, "")
                except ValidationError as err:
                    raise _reraise(err, label) from None
        self.discriminator = discriminator
        self.value = value

    return __init__


__all__ = ["Validator", "discriminator_int", "fast_path", "join_path", "member_validator",
           "type_validator", "union_init"]
