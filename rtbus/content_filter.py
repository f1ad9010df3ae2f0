"""Content filters: the DDS 1.4 Annex B filter language (DDSSQL), compiled once.

``compile_filter("x > %0 AND color LIKE 'B%'", ["3"])`` parses the expression with a small
tokenizer and recursive-descent parser into a tree of Python closures (no ``eval``), so that
filtering a sample is one call. Parameters (``%0`` .. ``%99``) can be changed at run time with
:meth:`ContentFilter.set_parameters` without recompiling.

Evaluation follows SQL's three-valued logic so that no sample can make a filter raise: a
field path the sample does not have, or a comparison between values of different kinds
(a string with a number), is UNKNOWN; ``NOT UNKNOWN`` is UNKNOWN, and a sample passes only
if the whole condition is TRUE. So ``NOT (color = 3)`` rejects every sample rather than
accepting them all.

A bare word on the right of a comparison with a field (``color = BLUE``) is a field when the
type model (or, without one, the sample) has a member of that name, and otherwise a symbol:
an enum label, compared with an enum field by label, or text, compared with a string field.
Without a type model such a word is also in :attr:`ContentFilter.fields` (it is read).
"""

from __future__ import annotations

import enum
import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import BadParameterError
from .types import model as m

__all__ = ["ContentFilter", "FilterError", "compile_filter"]

MAX_PARAMETER = 99

# Three-valued truth: True, False or None (UNKNOWN).
Truth = bool | None
Pred = Callable[[Any], Truth]
Getter = Callable[[Any], Any]


class FilterError(BadParameterError):
    """A filter expression (or one of its parameters) is malformed; ``column`` is 1-based.

    A ``BadParameterError``, as the expression is an argument of the API call that takes it."""

    def __init__(self, expression: str, column: int, message: str) -> None:
        self.expression = expression
        self.column = column
        self.reason = message
        super().__init__(f'filter "{expression}" at column {column}: {message}')


@dataclass(frozen=True)
class Symbol:
    """A bare word used as a value: an enum label (``value`` known with a type model) or text."""

    text: str
    value: int | None = None


class _Missing(Exception):
    """A field path does not exist on the sample (caught per comparison: UNKNOWN)."""


# --- tokenizer -------------------------------------------------------------------------------

KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "LIKE", "TRUE", "FALSE"})
RELOPS = frozenset({"=", ">", ">=", "<", "<=", "<>", "!="})

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?))
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<param>%\d+)
  | (?P<str>')
  | (?P<op>[<>=!~]+)
  | (?P<punct>[().\[\]])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, id, kw, param, op, punct, end
    text: str
    col: int  # 1-based
    value: Any = None


def tokenize(expression: str, fail: Callable[[int, str], FilterError]) -> list[Token]:
    """Split an expression into tokens; string literals and numbers carry their value."""
    out: list[Token] = []
    pos, n = 0, len(expression)
    while pos < n:
        mo = _TOKEN.match(expression, pos)
        if mo is None:
            raise fail(pos + 1, f"unexpected character {expression[pos]!r}")
        kind, text, col = mo.lastgroup or "", mo.group(), pos + 1
        pos = mo.end()
        if kind == "ws":
            continue
        if kind == "str":
            chunks, i = [], pos
            while True:
                j = expression.find("'", i)
                if j < 0:
                    raise fail(col, "unterminated string: expected a closing '")
                chunks.append(expression[i:j])
                if expression.startswith("''", j):
                    chunks.append("'")
                    i = j + 2
                    continue
                pos = j + 1
                break
            out.append(Token("str", expression[col - 1:pos], col, "".join(chunks)))
        elif kind == "num":
            if pos < n and (expression[pos].isalnum() or expression[pos] == "_"):
                raise fail(col, f"malformed number starting {text!r}")
            out.append(Token("num", text, col, _number(text)))
        elif kind == "id":
            upper = text.upper()
            out.append(Token("kw", upper, col) if upper in KEYWORDS else Token("id", text, col))
        elif kind == "param":
            index = int(text[1:])
            if index > MAX_PARAMETER:
                raise fail(col, f"parameter {text} out of range: expected %0 to %{MAX_PARAMETER}")
            out.append(Token("param", text, col, index))
        elif kind == "op":
            if text not in RELOPS:
                raise fail(col, f"unknown operator {text!r}: expected one of "
                                "= <> != < <= > >= LIKE BETWEEN")
            out.append(Token("op", text, col))
        else:
            out.append(Token("punct", text, col))
    out.append(Token("end", "", n + 1))
    return out


def _number(text: str) -> int | float:
    body = text.lstrip("-")
    sign = -1 if text.startswith("-") else 1
    if body[:2].lower() == "0x":
        return sign * int(body, 16)
    if any(c in body for c in ".eE"):
        return float(text)
    return int(text)


def parse_literal(text: str) -> Any:
    """A parameter's value: a number, 'quoted string', TRUE/FALSE, or a bare word (Symbol).

    Raises ``ValueError`` if the text is none of these."""
    def fail(col: int, msg: str) -> FilterError:
        return FilterError(text, col, msg)

    stripped = text.strip()
    if not stripped:
        return ""
    tokens = tokenize(stripped, fail)
    if len(tokens) != 2:
        raise ValueError("expected one literal: a number, 'quoted string', TRUE, FALSE or a word")
    tok = tokens[0]
    if tok.kind in ("num", "str"):
        return tok.value
    if tok.kind == "kw" and tok.text in ("TRUE", "FALSE"):
        return tok.text == "TRUE"
    if tok.kind in ("id", "kw"):
        return Symbol(tok.text)
    raise ValueError("expected a number, 'quoted string', TRUE, FALSE or a word")


# --- comparison ------------------------------------------------------------------------------

def _plain(v: Any) -> Any:
    """numpy scalars as Python values (numbers and bools compare as such)."""
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        return v.item()
    return v


def _compare(a: Any, b: Any) -> int | None:
    """Three-way comparison of two operand values; None if their kinds do not compare."""
    a, b = _plain(a), _plain(b)
    if (isinstance(b, Symbol) and not isinstance(a, Symbol)) or (
            isinstance(b, enum.Enum) and not isinstance(a, (Symbol, enum.Enum))):
        c = _compare(b, a)  # a symbol, else an enum, on the left
        return None if c is None else -c
    if isinstance(a, Symbol):
        if isinstance(b, str):
            a = a.text
        elif isinstance(b, enum.Enum):
            member = type(b).__members__.get(a.text)
            if member is None:
                return None
            a = member
        elif isinstance(b, int) and not isinstance(b, bool) and a.value is not None:
            a = a.value
        elif isinstance(b, Symbol):
            a, b = a.text, b.text
        else:
            return None
    if isinstance(a, enum.Enum):
        if isinstance(b, str):
            member = type(a).__members__.get(b)
            if member is None:
                return None
            b = member
        if isinstance(b, enum.Enum):
            if type(a) is not type(b):
                return None
            a, b = a.value, b.value
        elif isinstance(b, int) and not isinstance(b, bool):
            a = a.value
        else:
            return None
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return None
    elif isinstance(a, (int, float)):
        if not isinstance(b, (int, float)) or a != a or b != b:  # NaN compares with nothing
            return None
    elif isinstance(a, str):
        if not isinstance(b, str):
            return None
    else:
        return None
    return (a > b) - (a < b)


_RELOP: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "<>": lambda c: c != 0, "!=": lambda c: c != 0,
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern as a regex: ``%`` any run, ``_`` one character, the rest literal."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _like_text(v: Any) -> str | None:
    v = _plain(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (Symbol, enum.Enum)):
        return v.text if isinstance(v, Symbol) else v.name
    return None


# --- parser ----------------------------------------------------------------------------------

@dataclass
class _Operand:
    get: Getter
    col: int
    path: str | None = None  # a field path
    type: Any = None  # the field's model type, with a type model


class _Parser:
    def __init__(self, expression: str, model: Any, values: list[Any]) -> None:
        self.expression = expression
        self.model = model
        self.values = values  # parameter values, shared with the ContentFilter
        self.tokens = tokenize(expression, self.error)
        self.i = 0
        self.fields: set[str] = set()
        self.max_param = -1
        self.first_use: dict[int, int] = {}

    def error(self, col: int, message: str) -> FilterError:
        return FilterError(self.expression, col, message)

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def found(self) -> str:
        t = self.tok
        return "found the end of the filter" if t.kind == "end" else f"found {t.text!r}"

    def take(self, kind: str, text: str | None = None) -> Token | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def parse(self) -> Pred:
        if self.tok.kind == "end":
            raise self.error(1, "empty filter: expected a condition")
        pred = self.condition("a condition")
        if self.tok.kind != "end":
            raise self.error(self.tok.col, f"expected AND, OR or the end of the filter, "
                                           f"{self.found()}")
        return pred

    def condition(self, context: str) -> Pred:
        parts = [self.conjunction(context)]
        while self.take("kw", "OR"):
            parts.append(self.conjunction("a field, a parameter, a literal, NOT or '(' after OR"))
        return parts[0] if len(parts) == 1 else _any(parts)

    def conjunction(self, context: str) -> Pred:
        parts = [self.negation(context)]
        while self.take("kw", "AND"):
            parts.append(self.negation("a field, a parameter, a literal, NOT or '(' after AND"))
        return parts[0] if len(parts) == 1 else _all(parts)

    def negation(self, context: str) -> Pred:
        if self.take("kw", "NOT"):
            inner = self.negation("a field, a parameter, a literal, NOT or '(' after NOT")
            return lambda s: None if (r := inner(s)) is None else not r
        if open_ := self.take("punct", "("):
            inner = self.condition("a field, a parameter, a literal, NOT or '(' after '('")
            if not self.take("punct", ")"):
                raise self.error(self.tok.col, f"expected ')' to close the '(' at column "
                                               f"{open_.col}, {self.found()}")
            return inner
        return self.predicate(context)

    def predicate(self, context: str) -> Pred:
        left = self.operand(context)
        negate = self.take("kw", "NOT") is not None
        if self.take("kw", "BETWEEN"):
            low = self.operand("a field, a parameter or a literal after BETWEEN", left)
            if not self.take("kw", "AND"):
                raise self.error(self.tok.col, f"expected AND in BETWEEN, {self.found()}")
            high = self.operand("a field, a parameter or a literal after AND", left)
            return _between(left.get, low.get, high.get, negate)
        if self.take("kw", "LIKE"):
            pattern = self.operand("a pattern after LIKE", left)
            return _like(left.get, pattern.get, negate)
        if negate:
            raise self.error(self.tok.col, f"expected BETWEEN or LIKE after NOT, {self.found()}")
        op = self.take("op")
        if op is None:
            raise self.error(self.tok.col, "expected a comparison operator (= <> != < <= > >= "
                                           f"LIKE BETWEEN), {self.found()}")
        right = self.operand(f"a field, a parameter or a literal after {op.text}", left)
        return _relop(left.get, _RELOP[op.text], right.get)

    def operand(self, context: str, other: _Operand | None = None) -> _Operand:
        """A field, a parameter or a literal; ``other`` is the operand it is compared with."""
        t = self.tok
        if t.kind in ("num", "str"):
            self.i += 1
            value = t.value
            return _Operand(lambda s: value, t.col)
        if t.kind == "kw" and t.text in ("TRUE", "FALSE"):
            self.i += 1
            flag = t.text == "TRUE"
            return _Operand(lambda s: flag, t.col)
        if t.kind == "param":
            self.i += 1
            index, values = t.value, self.values
            self.max_param = max(self.max_param, index)
            self.first_use.setdefault(index, t.col)
            return _Operand(lambda s: values[index], t.col)
        if t.kind == "id":
            return self.field(other)
        raise self.error(t.col, f"expected {context}, {self.found()}")

    def field(self, other: _Operand | None) -> _Operand:
        """FieldName := identifier ('.' identifier | '[' integer ']')*"""
        steps: list[Token] = [self.tok]  # names (id) and indices (num)
        self.i += 1
        while True:
            if self.take("punct", "."):
                name = self.take("id")
                if name is None:
                    raise self.error(self.tok.col, f"expected a field name after '.', "
                                                   f"{self.found()}")
                steps.append(name)
            elif open_ := self.take("punct", "["):
                num = self.take("num")
                if num is None or not isinstance(num.value, int) or num.value < 0:
                    raise self.error(num.col if num else self.tok.col,
                                     "expected a non-negative integer index after '['")
                if not self.take("punct", "]"):
                    raise self.error(self.tok.col, f"expected ']' to close the '[' at column "
                                                   f"{open_.col}, {self.found()}")
                steps.append(num)
            else:
                break
        first = steps[0]
        path = "".join(f"[{t.value}]" if t.kind == "num" else "." + t.text
                       for t in steps)[1:]
        get = _path_getter(tuple(
            (True, t.value) if t.kind == "num"
            else (False, t.text + "_" if keyword.iskeyword(t.text) else t.text)
            for t in steps))
        if len(steps) == 1 and other is not None and other.path is not None:
            # a bare word compared with a field: a member, else an enum label or text
            if self.model is None:
                symbol = Symbol(first.text)

                def word(s: Any) -> Any:
                    try:
                        return get(s)
                    except _Missing:
                        return symbol
                self.fields.add(path)  # it may be one: ``fields`` is a superset
                return _Operand(word, first.col)
            if _member(self.model, first.text) is None:
                return self.symbol(first, other)
        t = self.path_type(steps) if self.model is not None else None
        self.fields.add(path)
        return _Operand(get, first.col, path=path, type=t)

    def path_type(self, steps: list[Token]) -> Any:
        """The model type a field path names; FilterError at the first step that is wrong."""
        t: Any = self.model
        for step in steps:
            rt = m.resolve(t)
            if step.kind == "id":
                if not isinstance(rt, (m.StructType, m.UnionType)):
                    raise self.error(step.col, f"{step.text!r}: the value before '.' is "
                                               "not a struct")
                mem = _member(rt, step.text)
                if mem is None:
                    names = ", ".join(x.name for x in _members(rt)) or "no members"
                    raise self.error(step.col, f"unknown field {step.text!r}: {rt.name} "
                                               f"has {names}")
                t = mem.type
            elif isinstance(rt, m.ArrayType):
                if step.value >= rt.dims[0]:
                    raise self.error(step.col, f"index {step.value} out of range: the array "
                                               f"has {rt.dims[0]} elements")
                t = m.ArrayType(rt.element, rt.dims[1:]) if len(rt.dims) > 1 else rt.element
            elif isinstance(rt, m.SequenceType):
                if rt.bound is not None and step.value >= rt.bound:
                    raise self.error(step.col, f"index {step.value} out of range: the "
                                               f"sequence holds at most {rt.bound}")
                t = rt.element
            else:
                raise self.error(step.col, "the value before '[' is not an array or a sequence")
        if isinstance(m.resolve(t), (m.StructType, m.UnionType, m.SequenceType, m.ArrayType)):
            raise self.error(steps[0].col, "the field is not a single value: name one of its "
                                           "members or elements")
        return t

    def symbol(self, word: Token, other: _Operand) -> _Operand:
        """With a type model: a bare word that is no member, compared with ``other``."""
        rt = m.resolve(other.type) if other.type is not None else None
        value: Symbol | None = None
        if isinstance(rt, m.EnumType):
            for lit in rt.literals:
                if lit.name == word.text:
                    value = Symbol(word.text, lit.value)
            if value is None:
                raise self.error(word.col, f"{word.text!r} is neither a field nor a label of "
                                           f"enum {rt.name} "
                                           f"({', '.join(x.name for x in rt.literals)})")
        elif isinstance(rt, m.StringType) or rt is m.CHAR or rt is m.WCHAR:
            value = Symbol(word.text)
        else:
            self.path_type([word])  # raises: unknown field
        return _Operand(lambda s: value, word.col)


def _members(t: Any) -> list[m.Member]:
    if isinstance(t, m.StructType):
        return t.all_members()
    if isinstance(t, m.UnionType):
        return [c.member for c in t.cases]
    return []


def _member(t: Any, name: str) -> m.Member | None:
    for mem in _members(m.resolve(t)):
        if mem.name == name:
            return mem
    return None


def _path_getter(steps: tuple[tuple[bool, Any], ...]) -> Getter:
    def get(sample: Any) -> Any:
        v = sample
        try:
            for is_index, key in steps:
                v = v[key] if is_index else getattr(v, key)
        except (AttributeError, LookupError, TypeError, ValueError) as exc:
            raise _Missing from exc
        return v
    return get


# --- predicates ------------------------------------------------------------------------------

def _relop(left: Getter, test: Callable[[int], bool], right: Getter) -> Pred:
    def pred(s: Any) -> Truth:
        try:
            c = _compare(left(s), right(s))
        except _Missing:
            return None
        return None if c is None else test(c)
    return pred


def _between(value: Getter, low: Getter, high: Getter, negate: bool) -> Pred:
    def pred(s: Any) -> Truth:
        try:
            v = value(s)
            lo, hi = _compare(v, low(s)), _compare(v, high(s))
        except _Missing:
            return None
        if lo is None or hi is None:
            return None
        return (lo >= 0 and hi <= 0) != negate
    return pred


def _like(value: Getter, pattern: Getter, negate: bool) -> Pred:
    def pred(s: Any) -> Truth:
        try:
            text, pat = _like_text(value(s)), _like_text(pattern(s))
        except _Missing:
            return None
        if text is None or pat is None:
            return None
        return (like_regex(pat).fullmatch(text) is not None) != negate
    return pred


def _junction(parts: list[Pred], decisive: bool) -> Pred:
    """AND (``decisive`` False) or OR (True) in three-valued logic: the decisive value wins
    at once; otherwise UNKNOWN if any part was, else the other value."""
    def pred(s: Any) -> Truth:
        unknown = False
        for p in parts:
            r = p(s)
            if r is decisive:
                return decisive
            unknown = unknown or r is None
        return None if unknown else not decisive
    return pred


def _all(parts: list[Pred]) -> Pred:
    return _junction(parts, False)


def _any(parts: list[Pred]) -> Pred:
    return _junction(parts, True)


# --- public API ------------------------------------------------------------------------------

class ContentFilter:
    """A compiled filter: call it with a decoded sample to learn whether the sample passes."""

    def __init__(self, expression: str, parameters: Sequence[str] = (),
                 type_model: Any = None) -> None:
        model = getattr(type_model, "__rtbus_type__", type_model)
        if model is not None and not isinstance(m.resolve(model), m.StructType):
            raise BadParameterError(f"type_model: expected a struct type, got {model!r}")
        self.expression = expression
        self._values: list[Any] = []
        parser = _Parser(expression, model, self._values)
        self._pred = parser.parse()
        self._max_param = parser.max_param
        self._first_use = parser.first_use
        self.fields: frozenset[str] = frozenset(parser.fields)
        self.parameters: tuple[str, ...] = ()
        self.set_parameters(parameters)

    def set_parameters(self, parameters: Sequence[str]) -> None:
        """Replace the parameter values (run-time change, no recompilation); each is a string
        parsed as a literal, and there must be one for every %n the expression uses."""
        if isinstance(parameters, str):
            raise BadParameterError("parameters: expected a sequence of strings, got one str")
        params = tuple(parameters)
        if len(params) <= self._max_param:
            col = self._first_use.get(self._max_param, 1)
            raise FilterError(self.expression, col, f"the filter uses %{self._max_param} but "
                                                    f"{len(params)} parameter(s) were given")
        values = []
        for n, text in enumerate(params):
            if not isinstance(text, str):
                raise BadParameterError(f"parameters[{n}]: expected a str, got {text!r}")
            try:
                values.append(parse_literal(text))
            except (ValueError, FilterError) as exc:
                reason = exc.reason if isinstance(exc, FilterError) else str(exc)
                raise FilterError(self.expression, self._first_use.get(n, 1),
                                  f"parameter %{n} = {text!r}: {reason}") from exc
        self._values[:] = values
        self.parameters = params

    def __call__(self, sample: Any) -> bool:
        return self._pred(sample) is True

    def __repr__(self) -> str:
        return f"ContentFilter({self.expression!r}, {list(self.parameters)!r})"


def compile_filter(expression: str, parameters: Sequence[str] = (),
                   type_model: Any = None) -> ContentFilter:
    """Compile a DDSSQL filter expression once; ``type_model`` (a struct model or a generated
    class) makes unknown field names a compile-time FilterError."""
    return ContentFilter(expression, parameters, type_model)
