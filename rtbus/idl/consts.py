"""IDL constant expressions: parsed once into a small tree, evaluated against a target type.

IDL types a constant expression by where it is used (``const octet X = 3 + 4;``, an array
bound, a case label, ``@default(...)``), so parsing and evaluation are separate: the parser
builds an :class:`Expr` and the place that consumes it calls :func:`evaluate` with the type it
needs. Integer arithmetic is exact (Python ints) and the result is range-checked against the
target, which is how IDL compilers report overflow; ``/`` and ``%`` truncate toward zero as
in C.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from ..errors import IdlError
from ..types import model as m
from .lexer import Token

INTEGER_KINDS = frozenset(m.INT_RANGES) - {"wchar"}
FLOAT_KINDS = frozenset({"float32", "float64"})


@dataclass
class Literal:
    value: Any  # int, float, str (char or string), bool
    kind: str  # "int", "float", "char", "string", "bool"
    token: Token


@dataclass
class Name:
    parts: tuple[str, ...]
    absolute: bool
    token: Token

    @property
    def text(self) -> str:
        return ("::" if self.absolute else "") + "::".join(self.parts)


@dataclass
class Unary:
    op: str
    operand: Expr
    token: Token


@dataclass
class Binary:
    op: str
    left: Expr
    right: Expr
    token: Token


Expr = Union[Literal, Name, Unary, Binary]


@dataclass
class ConstRef:
    """What a :class:`Name` resolves to: a constant's type and value, or an enum literal."""

    type: m.IdlType
    value: Any
    enum: m.EnumType | None = None  # set for enum literals and enum-typed constants


#: Resolves a name (in the scope of the expression) to a constant or enum literal.
Resolver = Callable[[Name], ConstRef]


def target_category(t: m.IdlType) -> str:
    """How an expression of type ``t`` is evaluated: integer, float, boolean, char, ..."""
    t = m.resolve(t)
    if isinstance(t, m.PrimitiveType):
        if t.kind in INTEGER_KINDS:
            return "int"
        if t.kind in FLOAT_KINDS:
            return "float"
        if t.kind == "boolean":
            return "bool"
        return "char"  # char, wchar
    if isinstance(t, m.StringType):
        return "string"
    if isinstance(t, m.EnumType):
        return "enum"
    raise ValueError(f"{t!r} cannot hold a constant")


def type_label(t: m.IdlType) -> str:
    r = m.resolve(t)
    if isinstance(r, m.PrimitiveType):
        return r.kind
    if isinstance(r, m.StringType):
        base = "wstring" if r.wide else "string"
        return f"{base}<{r.bound}>" if r.bound else base
    return getattr(r, "name", repr(r))


def evaluate(expr: Expr, target: m.IdlType | None, resolve_name: Resolver) -> Any:
    """Value of ``expr`` as ``target`` (``None``: natural type, no range check).

    Integers come back as ``int``, floats as ``float``, booleans as ``bool``, chars and
    strings as ``str`` and enum literals as their integer value.
    """
    if target is None:
        return _Evaluator(resolve_name, None).natural(expr)
    category = target_category(target)
    ev = _Evaluator(resolve_name, target)
    if category == "int":
        value = ev.integer(expr)
        kind = m.resolve(target).kind  # type: ignore[union-attr]
        lo, hi = m.INT_RANGES[kind]
        if not lo <= value <= hi:
            raise _err(expr, f"value {value} is out of range for {kind} (expected {lo}..{hi})")
        return value
    if category == "float":
        return ev.floating(expr)
    if category == "bool":
        return ev.boolean(expr)
    if category == "char":
        char = ev.string_like(expr, "char")
        wide = m.resolve(target) is m.WCHAR
        if not wide and ord(char) > 0xFF:
            raise _err(expr, f"character {char!r} does not fit in a char (expected a "
                             "Latin-1 character; use wchar)")
        return char
    if category == "string":
        text = ev.string_like(expr, "string")
        bound = m.resolve(target).bound  # type: ignore[union-attr]
        if bound is not None and len(text) > bound:
            raise _err(expr, f"string of length {len(text)} exceeds the bound {bound} of "
                             f"{type_label(target)}")
        return text
    enum = m.resolve(target)
    assert isinstance(enum, m.EnumType)
    return ev.enum_value(expr, enum)


def _token(expr: Expr) -> Token:
    return expr.token


def _err(expr: Expr, message: str) -> IdlError:
    return _token(expr).error(message)


def _describe(expr: Expr) -> str:
    if isinstance(expr, Literal):
        if expr.kind in ("char", "string"):
            return expr.token.describe()
        return {"int": "integer literal", "float": "floating-point literal",
                "bool": "boolean literal"}[expr.kind] + f" {expr.token.describe()}"
    if isinstance(expr, Name):
        return f"'{expr.text}'"
    return f"expression with operator '{expr.op}'"


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


class _Evaluator:
    def __init__(self, resolve_name: Resolver, target: m.IdlType | None) -> None:
        self.resolve_name = resolve_name
        self.target = target

    # integers ---------------------------------------------------------------------------
    def integer(self, e: Expr) -> int:
        if isinstance(e, Literal):
            if e.kind == "int":
                return int(e.value)
            raise _err(e, f"expected an integer constant, found {_describe(e)}")
        if isinstance(e, Name):
            ref = self.resolve_name(e)
            if ref.enum is not None or target_category(ref.type) != "int":
                raise _err(e, f"expected an integer constant, found '{e.text}' of type "
                              f"{type_label(ref.type)}")
            return int(ref.value)
        if isinstance(e, Unary):
            v = self.integer(e.operand)
            if e.op == "-":
                return -v
            if e.op == "+":
                return v
            if e.op == "~":
                return self._complement(v)
            raise _err(e, f"operator '{e.op}' cannot be applied to an integer")
        a, b = self.integer(e.left), self.integer(e.right)
        op = e.op
        if op in ("/", "%") and b == 0:
            raise _err(e, "division by zero in constant expression")
        if op in ("<<", ">>") and not 0 <= b < 64:
            raise _err(e, f"shift count {b} out of range (expected 0..63)")
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return _c_div(a, b)
        if op == "%":
            return a - b * _c_div(a, b)
        if op == "<<":
            return a << b
        if op == ">>":
            return a >> b
        if op == "|":
            return a | b
        if op == "&":
            return a & b
        return a ^ b

    def _complement(self, v: int) -> int:
        target = m.resolve(self.target) if self.target is not None else None
        if isinstance(target, m.PrimitiveType) and target.kind in INTEGER_KINDS and \
                m.INT_RANGES[target.kind][0] == 0:
            return ~v & m.INT_RANGES[target.kind][1]  # unsigned: complement within the width
        return ~v

    # floats -----------------------------------------------------------------------------
    def floating(self, e: Expr) -> float:
        if isinstance(e, Literal):
            if e.kind in ("int", "float"):
                return float(e.value)
            raise _err(e, f"expected a floating-point constant, found {_describe(e)}")
        if isinstance(e, Name):
            ref = self.resolve_name(e)
            if ref.enum is not None or target_category(ref.type) not in ("int", "float"):
                raise _err(e, f"expected a floating-point constant, found '{e.text}' of type "
                              f"{type_label(ref.type)}")
            return float(ref.value)
        if isinstance(e, Unary):
            if e.op == "~":
                raise _err(e, "operator '~' cannot be applied to a floating-point value")
            v = self.floating(e.operand)
            return -v if e.op == "-" else v
        if e.op not in ("+", "-", "*", "/"):
            raise _err(e, f"operator '{e.op}' cannot be applied to floating-point values "
                          "(expected + - * /)")
        a, b = self.floating(e.left), self.floating(e.right)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if b == 0.0:
            raise _err(e, "division by zero in constant expression")
        return a / b

    # others -----------------------------------------------------------------------------
    def boolean(self, e: Expr) -> bool:
        if isinstance(e, Literal) and e.kind == "bool":
            return bool(e.value)
        if isinstance(e, Name):
            ref = self.resolve_name(e)
            if ref.enum is None and target_category(ref.type) == "bool":
                return bool(ref.value)
        raise _err(e, f"expected TRUE or FALSE, found {_describe(e)}")

    def string_like(self, e: Expr, what: str) -> str:
        if isinstance(e, Literal) and e.kind == what:
            return str(e.value)
        if isinstance(e, Name):
            ref = self.resolve_name(e)
            if ref.enum is None and target_category(ref.type) == what:
                return str(ref.value)
        label = "a character" if what == "char" else "a string"
        raise _err(e, f"expected {label} constant, found {_describe(e)}")

    def enum_value(self, e: Expr, enum: m.EnumType) -> int:
        if isinstance(e, Name):
            ref = self.resolve_name(e)
            if ref.enum is enum:
                return int(ref.value)
            if ref.enum is not None:
                raise _err(e, f"'{e.text}' is a literal of enum '{ref.enum.name}', expected a "
                              f"literal of '{enum.name}'")
        raise _err(e, f"expected a literal of enum '{enum.name}', found {_describe(e)}")

    def natural(self, e: Expr) -> Any:
        """Untyped evaluation, for annotation parameters whose type the model does not fix."""
        if isinstance(e, Literal):
            return e.value
        if isinstance(e, Name):
            return self.resolve_name(e).value
        if _has_float(e, self.resolve_name):
            return self.floating(e)
        return self.integer(e)


def _has_float(e: Expr, resolve_name: Resolver) -> bool:
    if isinstance(e, Literal):
        return e.kind == "float"
    if isinstance(e, Name):
        ref = resolve_name(e)
        return ref.enum is None and target_category(ref.type) == "float"
    if isinstance(e, Unary):
        return _has_float(e.operand, resolve_name)
    return _has_float(e.left, resolve_name) or _has_float(e.right, resolve_name)
