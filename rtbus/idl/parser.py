"""Recursive-descent parser: IDL 4.2 tokens -> the rtbus type model.

The grammar is the subset of IDL 4.2 that DDS data types use (modules, struct, union, enum,
bitmask, typedef, const and the standard annotations). Everything else that IDL allows
(interfaces, valuetypes, components, ``any``, ``fixed``, ...) is recognised and rejected
with an error that says it is unsupported, rather than a confusing syntax error.

Names are resolved as IDL scoping says: a relative name is looked up in the current module,
then in each enclosing module out to the global scope; ``::a::b`` is absolute. Forward
declarations create the model object once; the later definition fills in that same object,
so types that referred to it (``sequence<Node>`` inside ``Node``) need no patching.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError
from ..types import model as m
from ..types.validate import type_validator
from . import consts
from .consts import Binary, ConstRef, Expr, Literal, Name, Unary
from .lexer import (
    CHAR,
    EOF,
    FLOAT,
    IDENT,
    INT,
    LEGACY_KEY,
    PRAGMA_KEYLIST,
    PUNCT,
    STRING,
    Token,
)

logger = logging.getLogger("rtbus.idl.parser")

_PRIMITIVE_WORDS: dict[str, m.PrimitiveType] = {
    "boolean": m.BOOLEAN, "octet": m.OCTET, "char": m.CHAR, "wchar": m.WCHAR,
    "int8": m.INT8, "uint8": m.UINT8, "int16": m.INT16, "uint16": m.UINT16,
    "int32": m.INT32, "uint32": m.UINT32, "int64": m.INT64, "uint64": m.UINT64,
    "short": m.INT16, "float": m.FLOAT32, "double": m.FLOAT64,
}

KEYWORDS = frozenset("""
abstract any alias attribute bitfield bitmask bitset boolean case char component connector
const consumes context custom default double exception emits enum eventtype factory FALSE
finder fixed float getraises getter home import in inout interface local long manages map
mirrorport module multiple native Object octet oneway out primarykey private port porttype
provides public publishes raises readonly setraises setter sequence short string struct
supports switch TRUE truncatable typedef typeid typename typeprefix unsigned union uses
ValueBase valuetype void wchar wstring int8 uint8 int16 int32 int64 uint16 uint32 uint64
""".split())

# Top-level constructs IDL has and rtbus does not: what to tell the user instead.
_UNSUPPORTED_DEFINITIONS = {
    "interface": "interfaces are not data types",
    "abstract": "abstract interfaces/valuetypes are not data types",
    "local": "local interfaces are not data types",
    "valuetype": "valuetypes are not DDS data types; use a struct",
    "custom": "valuetypes are not DDS data types; use a struct",
    "eventtype": "eventtypes are not DDS data types; use a struct",
    "component": "CORBA components are not data types",
    "home": "CORBA component homes are not data types",
    "porttype": "ports are not data types", "connector": "connectors are not data types",
    "exception": "exceptions are not DDS data types; use a struct",
    "native": "native types have no wire representation",
    "bitset": "bitsets are not implemented; use a bitmask or integer members",
    "typeid": "typeid declarations are CORBA repository ids",
    "typeprefix": "typeprefix declarations are CORBA repository ids",
    "import": "use #include",
}
_UNSUPPORTED_TYPES = {
    "any": "'any' has no DDS wire representation",
    "fixed": "fixed-point types are not in the type model; use an integer or double",
    "Object": "object references are not data",
    "ValueBase": "valuetypes are not DDS data types",
    "map": "maps are not in the type model; use a sequence of key/value structs",
    "bitset": "bitsets are not implemented; use a bitmask or integer members",
}

_EXTENSIBILITY_ANNOTATIONS = {"final": "final", "appendable": "appendable", "mutable": "mutable"}
_MEMBER_RECORDED = ("range", "min", "max", "unit", "verbatim")
# Documentation-only annotations: recorded where the model has room (struct/union/member
# ``annotations``), otherwise dropped, and never worth a warning: rosidl puts ``@verbatim``
# comments on nearly every struct and member it writes.
_DOCUMENTATION = frozenset({"verbatim"})


@dataclass
class Annotation:
    name: str
    token: Token
    positional: Expr | None = None
    named: dict[str, Expr] = field(default_factory=dict)


@dataclass
class _Symbol:
    kind: str  # "module", "type", "const", "enumlit"
    token: Token
    type: Any = None  # the named type, or the const's type
    value: Any = None
    enum: m.EnumType | None = None


@dataclass
class IdlModule:
    """The result of parsing IDL: every named type and constant, by fully scoped name.

    - ``types``: scoped name (``"a::b::T"``) -> StructType/UnionType/EnumType/BitmaskType/
      AliasType, in declaration order (a forward-declared type appears where it is defined).
    - ``constants``: scoped name -> value (int, float, bool, str; enum constants as the
      literal's integer value); ``constant_types`` holds each constant's IDL type.
    - ``topic_types``: the structs and unions usable as topics (everything not ``@nested``;
      ``@topic`` forces a type in).
    - ``files``: every file read, the top-level one first.
    - ``origins``: scoped name of each type and constant -> the file that declares it (as
      the preprocessor named it). Code generation writes one module per file from it, and
      :func:`rtbus.idl.load` shares the classes of a file included by several loads.
    """

    types: dict[str, m.NamedType] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    constant_types: dict[str, m.IdlType] = field(default_factory=dict)
    topic_types: dict[str, m.StructType | m.UnionType] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, scoped_name: str) -> m.NamedType:
        return self.types[scoped_name.lstrip(":")]

    def get(self, scoped_name: str) -> m.NamedType | None:
        return self.types.get(scoped_name.lstrip(":"))


def _join(scope: list[str] | tuple[str, ...], name: str) -> str:
    return "::".join([*scope, name])


class Parser:
    """Parses one token stream (from the preprocessor) into an :class:`IdlModule`."""

    def __init__(self, tokens: list[Token], files: list[str] | None = None) -> None:
        # '//@key' only means something right after a member's ';'; elsewhere it is a comment.
        self.tokens = [t for i, t in enumerate(tokens)
                       if t.kind != LEGACY_KEY or (i and tokens[i - 1].is_punct(";"))]
        self.pos = 0
        self.scope: list[str] = []
        self.symbols: dict[str, _Symbol] = {}
        self.forward: dict[str, Token] = {}
        self.folded: dict[str, str] = {}  # lower-cased scoped name -> as declared
        self.member_tokens: dict[int, Token] = {}  # id(Member) -> its name token
        self.scope_owner = ""  # scoped name of the struct/union whose members are parsed
        self.module = IdlModule(files=list(files or []))

    # --- token helpers ------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        if not ahead:
            return self.tokens[self.pos]  # pos never passes the final EOF token
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != EOF:
            self.pos += 1
        return tok

    def expect_punct(self, text: str, context: str) -> Token:
        tok = self.peek()
        if tok.is_punct(text):
            return self.advance()
        if text == ">" and tok.is_punct(">>"):
            # Split '>>' closing two nested template lists (sequence<sequence<long>>).
            self.tokens[self.pos] = Token(PUNCT, ">", tok.file, tok.line, tok.col + 1)
            return Token(PUNCT, ">", tok.file, tok.line, tok.col)
        raise tok.error(f"expected '{text}' {context}, found {tok.describe()}")

    def expect_identifier(self, context: str) -> Token:
        tok = self.peek()
        if tok.kind != IDENT:
            raise tok.error(f"expected an identifier {context}, found {tok.describe()}")
        if tok.value in KEYWORDS:
            raise tok.error(f"expected an identifier {context}, found keyword '{tok.value}' "
                            "(prefix it with '_' to use a keyword as a name)")
        self.advance()
        if tok.value.startswith("_"):  # IDL escaped identifier: the underscore is dropped
            return Token(IDENT, tok.value[1:], tok.file, tok.line, tok.col)
        return tok

    def scope_label(self) -> str:
        return f"scope '{'::'.join(self.scope)}'" if self.scope else "the global scope"

    # --- entry point --------------------------------------------------------------------
    def parse(self) -> IdlModule:
        self.definitions(closing=None)
        for name, tok in self.forward.items():
            kind = "union" if isinstance(self.symbols[name].type, m.UnionType) else "struct"
            raise tok.error(f"{kind} '{name}' is forward-declared but never defined: expected "
                            f"a definition '{kind} {name.rsplit('::', 1)[-1]} {{ ... }};'")
        return self.module

    def definitions(self, closing: Token | None) -> None:
        while True:
            tok = self.peek()
            if tok.kind == EOF:
                if closing is not None:
                    raise tok.error(f"expected '}}' to close module '{'::'.join(self.scope)}' "
                                    f"opened at line {closing.line}, found end of input")
                return
            if tok.is_punct("}") and closing is not None:
                return
            if tok.kind == PRAGMA_KEYLIST:
                self.advance()
                self.pragma_keylist(tok)
                continue
            if tok.kind == LEGACY_KEY:
                self.advance()
                self.ignored_legacy_key(tok, "a definition")
                continue
            self.definition()

    def definition(self) -> None:
        start = self.pos
        anns = self.annotations()
        tok = self.peek()
        if not anns and self.pos > start and \
                (tok.kind == EOF or tok.is_punct("}") or tok.kind == PRAGMA_KEYLIST):
            return  # only '@annotation' declarations were here
        word = tok.value if tok.kind == IDENT else None
        if word == "module":
            self.module_dcl(anns)
            what = "module"
        elif word == "struct":
            self.struct_dcl(anns)
            what = "struct"
        elif word == "union":
            self.union_dcl(anns)
            what = "union"
        elif word == "enum":
            self.enum_dcl(anns)
            what = "enum"
        elif word == "bitmask":
            self.bitmask_dcl(anns)
            what = "bitmask"
        elif word == "typedef":
            self.typedef_dcl(anns)
            what = "typedef"
        elif word == "const":
            self.const_dcl(anns)
            what = "const"
        elif word in _UNSUPPORTED_DEFINITIONS:
            raise tok.error(f"'{word}' is not supported by rtbus: "
                            f"{_UNSUPPORTED_DEFINITIONS[word]}")
        else:
            raise tok.error("expected a definition (module, struct, union, enum, bitmask, "
                            f"typedef or const), found {tok.describe()}")
        self.expect_punct(";", f"after {what} definition")

    # --- annotations --------------------------------------------------------------------
    def annotations(self) -> list[Annotation]:
        anns: list[Annotation] = []
        while self.peek().is_punct("@"):
            at = self.advance()
            if self.peek().is_ident("annotation"):
                self.skip_annotation_declaration()
                continue
            name_tok = self.peek()
            if name_tok.kind != IDENT:
                raise name_tok.error(f"expected an annotation name after '@', found "
                                     f"{name_tok.describe()}")
            parts = [str(self.advance().value)]
            # '@a::b' is a scoped annotation name only without blanks: '@key ::T x' is not.
            while self.peek().is_punct("::") and self._adjacent(self.tokens[self.pos - 1]):
                self.advance()
                parts.append(str(self.expect_identifier("after '::' in annotation name").value))
            ann = Annotation(parts[-1], at)
            if self.peek().is_punct("("):
                self.advance()
                if self.peek().is_punct(")"):
                    pass
                elif self.peek().kind == IDENT and self.peek(1).is_punct("="):
                    while True:
                        key = self.expect_identifier(f"for a parameter of @{ann.name}")
                        self.expect_punct("=", f"after annotation parameter '{key.value}'")
                        ann.named[str(key.value)] = self.const_expr()
                        if not self.peek().is_punct(","):
                            break
                        self.advance()
                else:
                    ann.positional = self.const_expr()
                self.expect_punct(")", f"to close the parameters of @{ann.name}")
            anns.append(ann)
        return anns

    def _adjacent(self, prev: Token) -> bool:
        nxt = self.peek()
        return nxt.file == prev.file and nxt.line == prev.line and \
            nxt.col == prev.col + len(str(prev.value))

    def skip_annotation_declaration(self) -> None:
        """``@annotation Name { ... };`` declares a custom annotation: accepted and ignored."""
        self.advance()  # 'annotation'
        self.expect_identifier("after '@annotation'")
        open_tok = self.expect_punct("{", "to open the annotation declaration")
        depth = 1
        while depth:
            tok = self.advance()
            if tok.kind == EOF:
                raise tok.error(f"expected '}}' to close the annotation declaration opened at "
                                f"line {open_tok.line}, found end of input")
            if tok.is_punct("{"):
                depth += 1
            elif tok.is_punct("}"):
                depth -= 1
        self.expect_punct(";", "after annotation declaration")

    def ann_bool(self, ann: Annotation) -> bool:
        if ann.positional is None:
            value = ann.named.get("value")
            return True if value is None else bool(self.evaluate(value, m.BOOLEAN))
        return bool(self.evaluate(ann.positional, m.BOOLEAN))

    def ann_int(self, ann: Annotation, target: m.IdlType = m.INT64) -> int:
        expr = ann.positional if ann.positional is not None else ann.named.get("value")
        if expr is None:
            raise ann.token.error(f"@{ann.name} needs a value: expected @{ann.name}(n)")
        return int(self.evaluate(expr, target))

    def ann_word(self, ann: Annotation, choices: tuple[str, ...]) -> str:
        expr = ann.positional if ann.positional is not None else ann.named.get("value")
        if isinstance(expr, Name) and len(expr.parts) >= 1 and expr.parts[-1] in choices:
            return expr.parts[-1]
        found = "nothing" if expr is None else consts._describe(expr)
        raise ann.token.error(f"@{ann.name} expects one of {', '.join(choices)}, found {found}")

    def ann_value(self, ann: Annotation) -> Any:
        """Record-only value of an annotation the model does not interpret."""
        def natural(expr: Expr) -> Any:
            if isinstance(expr, Name):
                found = self.find_symbol(expr)
                if found is None or found[1].kind not in ("const", "enumlit"):
                    return expr.text  # e.g. an enumerator of a custom annotation
            return self.evaluate(expr, None)

        if ann.named:
            return {k: natural(v) for k, v in ann.named.items()}
        if ann.positional is not None:
            return natural(ann.positional)
        return True

    def unknown_annotation(self, ann: Annotation, where: str, record: dict[str, Any]) -> None:
        if ann.name in _DOCUMENTATION:
            record[ann.name] = self.ann_value(ann)
            return
        logger.warning("%s:%d:%d: unknown annotation @%s on %s: recorded, not interpreted",
                       ann.token.file, ann.token.line, ann.token.col, ann.name, where)
        record[ann.name] = self.ann_value(ann)

    def type_annotations(self, anns: list[Annotation], kind: str, name: str,
                         record: dict[str, Any]) -> dict[str, Any]:
        """Interpret annotations on a struct/union/enum/bitmask; unknown ones are recorded."""
        out: dict[str, Any] = {}
        for ann in anns:
            if ann.name in _EXTENSIBILITY_ANNOTATIONS:
                self.set_extensibility(out, ann, _EXTENSIBILITY_ANNOTATIONS[ann.name])
            elif ann.name == "extensibility":
                word = self.ann_word(ann, ("FINAL", "APPENDABLE", "MUTABLE"))
                self.set_extensibility(out, ann, word.lower())
            elif ann.name in ("nested", "topic") and kind in ("struct", "union"):
                out[ann.name] = self.ann_bool(ann) if ann.name == "nested" or not ann.named \
                    else True
                if ann.name == "topic" and ann.positional is not None:
                    out["topic"] = self.ann_bool(ann)
            elif ann.name == "autoid" and kind in ("struct", "union"):
                # A bare @autoid means HASH (the annotation's default value, as idlc does).
                out["autoid"] = "hash" if ann.positional is None and not ann.named \
                    else self.ann_word(ann, ("SEQUENTIAL", "HASH")).lower()
            elif ann.name == "bit_bound" and kind in ("enum", "bitmask"):
                out["bit_bound"] = (ann, self.ann_int(ann, m.UINT16))
            elif ann.name in ("key", "optional", "id", "hashid", "value", "position",
                              "default_literal", "external", "must_understand"):
                raise ann.token.error(f"@{ann.name} is not allowed on {kind} '{name}': it "
                                      "applies to members")
            else:
                self.unknown_annotation(ann, f"{kind} '{name}'", record)
        return out

    @staticmethod
    def set_extensibility(out: dict[str, Any], ann: Annotation, value: str) -> None:
        if "extensibility" in out and out["extensibility"] != value:
            raise ann.token.error(f"conflicting extensibility: already "
                                  f"{out['extensibility']}, found @{ann.name}")
        out["extensibility"] = value

    # --- names --------------------------------------------------------------------------
    def scoped_name(self, context: str) -> Name:
        first = self.peek()
        absolute = False
        if first.is_punct("::"):
            self.advance()
            absolute = True
        tok = self.peek()
        if tok.kind != IDENT:
            raise tok.error(f"expected a name {context}, found {tok.describe()}")
        parts = [self.name_part(self.advance())]
        while self.peek().is_punct("::"):
            self.advance()
            nxt = self.peek()
            if nxt.kind != IDENT:
                raise nxt.error(f"expected an identifier after '::', found {nxt.describe()}")
            parts.append(self.name_part(self.advance()))
        return Name(tuple(parts), absolute, first)

    @staticmethod
    def name_part(tok: Token) -> str:
        text = str(tok.value)
        return text[1:] if text.startswith("_") else text

    def find_symbol(self, name: Name) -> tuple[str, _Symbol] | None:
        joined = "::".join(name.parts)
        if name.absolute:
            sym = self.symbols.get(joined)
            return (joined, sym) if sym is not None else None
        for depth in range(len(self.scope), -1, -1):
            full = "::".join([*self.scope[:depth], joined])
            sym = self.symbols.get(full)
            if sym is not None:
                return full, sym
        return None

    def lookup_type(self, name: Name) -> m.IdlType:
        found = self.find_symbol(name)
        if found is None:
            raise name.token.error(f"unknown type '{name.text}' in {self.scope_label()}")
        _full, sym = found
        if sym.kind != "type":
            what = {"module": "a module", "const": "a constant",
                    "enumlit": "an enum literal"}[sym.kind]
            raise name.token.error(f"'{name.text}' is {what}, expected a type name")
        return sym.type  # type: ignore[no-any-return]

    def resolve_const(self, name: Name) -> ConstRef:
        found = self.find_symbol(name)
        if found is None:
            raise name.token.error(f"unknown constant '{name.text}' in {self.scope_label()}")
        _full, sym = found
        if sym.kind == "const":
            return ConstRef(sym.type, sym.value, sym.enum)
        if sym.kind == "enumlit":
            return ConstRef(sym.type, sym.value, sym.enum)
        raise name.token.error(f"'{name.text}' is a {sym.kind}, expected a constant or enum "
                               "literal")

    def evaluate(self, expr: Expr, target: m.IdlType | None) -> Any:
        return consts.evaluate(expr, target, self.resolve_const)

    def define(self, name_tok: Token, kind: str, **kw: Any) -> str:
        full = _join(self.scope, str(name_tok.value))
        existing = self.symbols.get(full)
        if existing is not None:
            t = existing.token
            raise name_tok.error(f"'{full}' is already defined at {t.file}:{t.line}:{t.col}")
        self.check_case_collision(full, name_tok)
        self.symbols[full] = _Symbol(kind, name_tok, **kw)
        return full

    def check_case_collision(self, full: str, name_tok: Token) -> None:
        """IDL identifiers that differ only in case collide (``Foo`` and ``foo``), and a
        declaration may not take the name of the module it is declared in (as idlc checks)."""
        *outer, leaf = full.split("::")
        if outer and outer[-1].lower() == leaf.lower():
            raise name_tok.error(f"'{leaf}' has the name of its enclosing module "
                                 f"'{'::'.join(outer)}': IDL forbids reusing it (names "
                                 "differ by more than case)")
        other = self.folded.get(full.lower())
        if other is not None and other != full:
            t = self.symbols[other].token
            raise name_tok.error(f"'{full}' collides with '{other}' defined at "
                                 f"{t.file}:{t.line}:{t.col} (IDL names differ by more than "
                                 "case)")
        self.folded[full.lower()] = full

    # --- constant expressions -----------------------------------------------------------
    _BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
        ("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"))

    def const_expr(self, in_angle: bool = False) -> Expr:
        return self.binary(0, in_angle)

    def binary(self, level: int, in_angle: bool) -> Expr:
        if level == len(self._BINARY_LEVELS):
            return self.unary(in_angle)
        left = self.binary(level + 1, in_angle)
        ops = self._BINARY_LEVELS[level]
        while True:
            tok = self.peek()
            if tok.kind != PUNCT or tok.value not in ops or (in_angle and tok.value == ">>"):
                return left
            self.advance()
            right = self.binary(level + 1, in_angle)
            left = Binary(str(tok.value), left, right, tok)

    def unary(self, in_angle: bool) -> Expr:
        tok = self.peek()
        if tok.kind == PUNCT and tok.value in ("-", "+", "~"):
            self.advance()
            return Unary(str(tok.value), self.unary(in_angle), tok)
        return self.primary(in_angle)

    def primary(self, in_angle: bool) -> Expr:
        tok = self.peek()
        if tok.kind == INT:
            self.advance()
            return Literal(tok.value, "int", tok)
        if tok.kind == FLOAT:
            self.advance()
            return Literal(tok.value, "float", tok)
        if tok.kind == CHAR:
            self.advance()
            return Literal(tok.value, "char", tok)
        if tok.kind == STRING:
            self.advance()
            text = str(tok.value)
            while self.peek().kind == STRING:  # adjacent literals concatenate
                text += str(self.advance().value)
            return Literal(text, "string", tok)
        if tok.is_ident("TRUE") or tok.is_ident("FALSE"):
            self.advance()
            return Literal(tok.value == "TRUE", "bool", tok)
        if tok.is_punct("("):
            self.advance()
            inner = self.binary(0, False)
            self.expect_punct(")", "to close the parenthesised expression")
            return inner
        if tok.kind == IDENT or tok.is_punct("::"):
            return self.scoped_name("in constant expression")
        raise tok.error(f"expected a constant expression, found {tok.describe()}")

    def positive_bound(self, expr: Expr, what: str) -> int:
        value = int(self.evaluate(expr, m.UINT32)) if not isinstance(expr, Unary) or \
            expr.op != "-" else int(self.evaluate(expr, m.INT64))
        if value <= 0:
            raise expr.token.error(f"{what} must be positive, found {value}")
        return value

    # --- type specs ---------------------------------------------------------------------
    def type_spec(self, context: str) -> m.IdlType:
        tok = self.peek()
        if tok.is_punct("::"):
            return self.lookup_type(self.scoped_name(context))
        if tok.kind != IDENT:
            raise tok.error(f"expected a type {context}, found {tok.describe()}")
        word = str(tok.value)
        if word in _PRIMITIVE_WORDS:
            self.advance()
            return _PRIMITIVE_WORDS[word]
        if word == "long":
            self.advance()
            if self.peek().is_ident("long"):
                self.advance()
                return m.INT64
            if self.peek().is_ident("double"):
                raise tok.error("'long double' is not supported by rtbus: the type model has "
                                "no 128-bit float; use double")
            return m.INT32
        if word == "unsigned":
            self.advance()
            nxt = self.peek()
            if nxt.is_ident("short"):
                self.advance()
                return m.UINT16
            if nxt.is_ident("long"):
                self.advance()
                if self.peek().is_ident("long"):
                    self.advance()
                    return m.UINT64
                return m.UINT32
            raise nxt.error(f"expected 'short' or 'long' after 'unsigned', found "
                            f"{nxt.describe()}")
        if word == "sequence":
            self.advance()
            self.expect_punct("<", "after 'sequence'")
            element = self.type_spec("as sequence element")
            self.check_complete(element, tok, allow_incomplete=True)
            bound = None
            if self.peek().is_punct(","):
                self.advance()
                bound = self.positive_bound(self.const_expr(in_angle=True), "sequence bound")
            self.expect_punct(">", "to close 'sequence<'")
            return m.SequenceType(element, bound)
        if word in ("string", "wstring"):
            self.advance()
            bound = None
            if self.peek().is_punct("<"):
                self.advance()
                bound = self.positive_bound(self.const_expr(in_angle=True), f"{word} bound")
                self.expect_punct(">", f"to close '{word}<'")
            return m.StringType(bound, wide=word == "wstring")
        if word in _UNSUPPORTED_TYPES:
            raise tok.error(f"'{word}' is not supported by rtbus: {_UNSUPPORTED_TYPES[word]}")
        if word in ("struct", "union", "enum", "bitmask"):
            raise tok.error(f"expected a type {context}, found '{word}': declare the {word} "
                            "on its own and use its name here")
        if word in KEYWORDS:
            raise tok.error(f"expected a type {context}, found keyword '{word}'")
        return self.lookup_type(self.scoped_name(context))

    def check_complete(self, t: m.IdlType, tok: Token, allow_incomplete: bool = False) -> None:
        """Direct members (and array elements) need a complete type; sequences do not."""
        if allow_incomplete:
            return
        r = m.resolve(t)
        while isinstance(r, m.ArrayType):
            r = m.resolve(r.element)
        if isinstance(r, (m.StructType, m.UnionType)) and not r.defined:
            raise tok.error(f"'{r.name}' is an incomplete type here (forward-declared or "
                            "still being defined): a member can only refer to it through a "
                            "sequence")

    def declarator(self, context: str) -> tuple[Token, tuple[int, ...]]:
        name = self.expect_identifier(context)
        dims: list[int] = []
        while self.peek().is_punct("["):
            self.advance()
            dims.append(self.positive_bound(self.const_expr(), "array dimension"))
            self.expect_punct("]", "to close the array dimension")
        return name, tuple(dims)

    # --- definitions --------------------------------------------------------------------
    def module_dcl(self, anns: list[Annotation]) -> None:
        kw = self.advance()
        name = self.expect_identifier("for the module name")
        for ann in anns:
            if ann.name in _DOCUMENTATION:
                continue  # documentation: modules have nowhere to keep it
            logger.warning("%s:%d:%d: annotation @%s on module '%s' ignored", ann.token.file,
                           ann.token.line, ann.token.col, ann.name, name.value)
        full = _join(self.scope, str(name.value))
        existing = self.symbols.get(full)
        if existing is None:
            self.check_case_collision(full, name)
            self.symbols[full] = _Symbol("module", name)
        elif existing.kind != "module":
            t = existing.token
            raise name.error(f"'{full}' is already defined at {t.file}:{t.line}:{t.col} "
                             f"as a {existing.kind}, cannot reopen it as a module")
        self.expect_punct("{", f"after 'module {name.value}'")
        self.scope.append(str(name.value))
        self.definitions(closing=kw)
        self.scope.pop()
        self.expect_punct("}", f"to close module '{name.value}'")

    def forward_or_existing(self, name: Token, cls: type) -> Any:
        """The model object to fill for ``name``: a pending forward declaration or None."""
        full = _join(self.scope, str(name.value))
        sym = self.symbols.get(full)
        if sym is None:
            return None
        if sym.kind == "type" and isinstance(sym.type, cls) and full in self.forward:
            return sym.type
        t = sym.token
        raise name.error(f"'{full}' is already defined at {t.file}:{t.line}:{t.col}")

    def forward_declaration(self, name: Token, obj: Any) -> None:
        full = _join(self.scope, str(name.value))
        sym = self.symbols.get(full)
        if sym is None:
            self.check_case_collision(full, name)
            self.symbols[full] = _Symbol("type", name, type=obj)
            self.forward[full] = name
        elif sym.kind != "type" or type(sym.type) is not type(obj):
            t = sym.token
            raise name.error(f"'{full}' is already defined at {t.file}:{t.line}:{t.col}")

    def struct_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        name = self.expect_identifier("for the struct name")
        full = _join(self.scope, str(name.value))
        if self.peek().is_punct(";"):
            self.forward_declaration(name, m.StructType(full, defined=False))
            return
        base: m.StructType | None = None
        if self.peek().is_punct(":"):
            self.advance()
            base_name = self.scoped_name(f"as the base of struct '{name.value}'")
            base_type = m.resolve(self.lookup_type(base_name))
            if not isinstance(base_type, m.StructType):
                raise base_name.token.error(f"base of struct '{name.value}' must be a struct, "
                                            f"found '{base_name.text}'")
            self.check_complete(base_type, base_name.token)
            base = base_type
        self.expect_punct("{", f"to open struct '{name.value}'")
        struct = self.forward_or_existing(name, m.StructType)
        if struct is None:
            struct = m.StructType(full, defined=False)
            self.check_case_collision(full, name)
            self.symbols[full] = _Symbol("type", name, type=struct)
        else:
            self.symbols[full].token = name
            del self.forward[full]
        struct.base = base
        settings = self.type_annotations(anns, "struct", full, struct.annotations)
        struct.extensibility = settings.get("extensibility", "final")
        struct.autoid = settings.get("autoid", "sequential")
        struct.nested = bool(settings.get("nested", False))
        struct.topic = bool(settings.get("topic", not struct.nested))
        seen: dict[str, Token] = {}
        if base is not None:
            for bm in base.all_members():
                seen[bm.name] = name
        self.scope_owner = full
        while not self.peek().is_punct("}"):
            for member, tok in self.member_dcl(struct):
                if member.name in seen:
                    where = "in the base struct" if seen[member.name] is name else \
                        f"at line {seen[member.name].line}"
                    raise tok.error(f"duplicate member '{member.name}' in struct '{full}' "
                                    f"(already declared {where})")
                seen[member.name] = tok
                struct.members.append(member)
        self.advance()  # '}'
        struct.defined = True
        m.finalize_member_ids(struct)
        self.check_unique_ids(full, struct.all_members(), name)
        self.module.types[full] = struct
        self.module.origins[full] = name.file
        if struct.topic:
            self.module.topic_types[full] = struct

    def check_unique_ids(self, full: str, members: list[m.Member], name: Token) -> None:
        ids: dict[int, str] = {}
        for mem in members:
            assert mem.id is not None
            if mem.id in ids:
                where = self.member_tokens.get(id(mem), name)
                raise where.error(f"members '{ids[mem.id]}' and '{mem.name}' of '{full}' have "
                                  f"the same member id {mem.id}")
            ids[mem.id] = mem.name

    def member_dcl(self, owner: m.StructType) -> list[tuple[m.Member, Token]]:
        anns = self.annotations()
        start = self.peek()
        if start.is_punct("}"):
            raise start.error(f"expected a member declaration after the annotations in struct "
                              f"'{owner.name}', found '}}'")
        if start.kind == EOF:
            raise start.error(f"expected a member declaration or '}}' to close struct "
                              f"'{owner.name}', found end of input")
        t = self.type_spec("for a struct member")
        self.check_complete(t, start)
        out: list[tuple[m.Member, Token]] = []
        while True:
            name, dims = self.declarator("for the member name")
            mtype: m.IdlType = m.ArrayType(t, dims) if dims else t
            out.append((self.build_member(str(name.value), mtype, anns, name, "struct"), name))
            if not self.peek().is_punct(","):
                break
            self.advance()
        self.expect_punct(";", "after member declaration")
        if self.peek().kind == LEGACY_KEY:
            self.advance()
            for member, _tok in out:
                member.key = True
        return out

    @staticmethod
    def ignored_legacy_key(tok: Token, after: str) -> None:
        logger.warning("%s:%d:%d: '//@key' after %s ignored: it marks struct members only",
                       tok.file, tok.line, tok.col, after)

    def build_member(self, name: str, mtype: m.IdlType, anns: list[Annotation], tok: Token,
                     where: str) -> m.Member:
        owner = self.scope_owner
        if owner and name.lower() == owner.rsplit("::", 1)[-1].lower():
            # IDL forbids it and Cyclone's idlc rejects it, but Python and the wire do not
            # care; a warning keeps such (common) IDL usable while flagging the portability.
            logger.warning("%s:%d:%d: member '%s' has the name of its enclosing %s '%s': "
                           "IDL forbids it and other IDL compilers reject it", tok.file,
                           tok.line, tok.col, name, where, owner)
        mem = m.Member(name, mtype)
        self.member_tokens[id(mem)] = tok
        for ann in anns:
            n = ann.name
            if n == "key":
                if where == "union":
                    raise ann.token.error(f"@key is not allowed on union branch '{name}': only "
                                          "the discriminator can be a key (switch (@key T))")
                mem.key = self.ann_bool(ann)
            elif n == "optional":
                mem.optional = self.ann_bool(ann)
            elif n == "external":
                mem.external = self.ann_bool(ann)
            elif n == "must_understand":
                mem.must_understand = self.ann_bool(ann)
            elif n == "id":
                mem.id = self.ann_int(ann, m.UINT32)
                if mem.id > 0x0FFFFFFF:
                    raise ann.token.error(f"@id({mem.id}) is too large: member ids are 28 bits "
                                          "(expected 0..268435455)")
            elif n == "hashid":
                expr = ann.positional if ann.positional is not None else ann.named.get("value")
                mem.hashid = "" if expr is None else str(self.evaluate(expr, m.StringType()))
            elif n == "default":
                mem.default = self.member_default(ann, mtype, name)
            elif n in _MEMBER_RECORDED:
                mem.annotations[n] = self.ann_value(ann)
            elif n in ("try_construct",):
                mem.annotations[n] = self.ann_word(ann, ("DISCARD", "USE_DEFAULT", "TRIM"))
            elif n in ("final", "appendable", "mutable", "extensibility", "nested", "topic",
                       "autoid", "bit_bound", "value", "position", "default_literal"):
                raise ann.token.error(f"@{n} is not allowed on member '{name}': it applies to "
                                      "types or enumerators")
            else:
                self.unknown_annotation(ann, f"member '{name}'", mem.annotations)
        if mem.key and mem.optional:
            raise tok.error(f"key member '{name}' cannot be @optional")
        return mem

    def member_default(self, ann: Annotation, mtype: m.IdlType, name: str) -> Any:
        expr = ann.positional if ann.positional is not None else ann.named.get("value")
        if expr is None:
            raise ann.token.error("@default needs a value: expected @default(v)")
        try:
            consts.target_category(mtype)
        except ValueError:
            raise ann.token.error(f"@default is not allowed on member '{name}' of type "
                                  f"{consts.type_label(mtype)}: expected a primitive, string "
                                  "or enum member") from None
        value = self.evaluate(expr, mtype)
        try:  # what constant evaluation does not check (a string bound): fail here, located
            type_validator(mtype)(value, name)
        except ValidationError as exc:
            raise ann.token.error(f"@default({value!r}) does not fit member '{name}': "
                                  f"{exc.reason}") from None
        return value

    def union_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        name = self.expect_identifier("for the union name")
        full = _join(self.scope, str(name.value))
        if self.peek().is_punct(";"):
            self.forward_declaration(name, m.UnionType(full, m.INT32, defined=False))
            return
        if not self.peek().is_ident("switch"):
            raise self.peek().error(f"expected 'switch' after 'union {name.value}', found "
                                    f"{self.peek().describe()}")
        self.advance()
        self.expect_punct("(", "after 'switch'")
        disc_anns = self.annotations()
        disc_tok = self.peek()
        disc = self.type_spec("as the union discriminator")
        key_disc = False
        for ann in disc_anns:
            if ann.name == "key":
                key_disc = self.ann_bool(ann)
            else:
                logger.warning("%s:%d:%d: annotation @%s on the discriminator of '%s' ignored",
                               ann.token.file, ann.token.line, ann.token.col, ann.name, full)
        rd = m.resolve(disc)
        allowed = isinstance(rd, m.EnumType) or (
            isinstance(rd, m.PrimitiveType) and rd.kind not in ("float32", "float64"))
        if not allowed:
            raise disc_tok.error(f"union discriminator must be an integer, char, boolean, "
                                 f"octet or enum type, found {consts.type_label(disc)}")
        self.expect_punct(")", "after the union discriminator type")
        self.expect_punct("{", f"to open union '{name.value}'")
        union = self.forward_or_existing(name, m.UnionType)
        if union is None:
            union = m.UnionType(full, disc, defined=False)
            self.check_case_collision(full, name)
            self.symbols[full] = _Symbol("type", name, type=union)
        else:
            self.symbols[full].token = name
            del self.forward[full]
        union.discriminator = disc
        union.key_discriminator = key_disc
        settings = self.type_annotations(anns, "union", full, union.annotations)
        union.extensibility = settings.get("extensibility", "final")
        nested = bool(settings.get("nested", False))
        if nested:
            union.annotations["nested"] = True
        topic = bool(settings.get("topic", not nested))
        labels_seen: dict[int, str] = {}
        names_seen: set[str] = set()
        default_case: m.UnionCase | None = None
        self.scope_owner = full
        while not self.peek().is_punct("}"):
            case = self.union_case(union, labels_seen, names_seen)
            if case.is_default:
                if default_case is not None:
                    raise self._last_default.error(
                        f"union '{full}' has more than one 'default' branch (first: "
                        f"'{default_case.member.name}')")
                default_case = case
            union.cases.append(case)
        close = self.advance()
        if not union.cases:
            raise close.error(f"expected at least one 'case' in union '{full}', found '}}'")
        union.defined = True
        autoid = settings.get("autoid", "sequential")
        if autoid == "hash":  # UnionType has no autoid field; XTypes sets IS_AUTOID_HASH
            union.annotations["autoid"] = "hash"
        holder = m.StructType(full, [c.member for c in union.cases], autoid=autoid)
        m.finalize_member_ids(holder)
        self.check_unique_ids(full, holder.members, name)
        self.module.types[full] = union
        self.module.origins[full] = name.file
        if topic:
            self.module.topic_types[full] = union

    def union_case(self, union: m.UnionType, labels_seen: dict[int, str],
                   names_seen: set[str]) -> m.UnionCase:
        labels: list[tuple[int, Token]] = []
        is_default = False
        while True:
            tok = self.peek()
            if tok.is_ident("case"):
                self.advance()
                expr = self.const_expr()
                labels.append((self.case_label(expr, union), expr.token))
                self.expect_punct(":", "after case label")
            elif tok.is_ident("default"):
                self.advance()
                self._last_default = tok
                is_default = True
                self.expect_punct(":", "after 'default'")
            else:
                break
        if not labels and not is_default:
            tok = self.peek()
            raise tok.error(f"expected 'case' or 'default' in union '{union.name}', found "
                            f"{tok.describe()}")
        anns = self.annotations()
        start = self.peek()
        t = self.type_spec("for a union branch")
        self.check_complete(t, start)
        name, dims = self.declarator("for the union branch name")
        mtype: m.IdlType = m.ArrayType(t, dims) if dims else t
        member = self.build_member(str(name.value), mtype, anns, name, "union")
        if member.name in names_seen:
            raise name.error(f"duplicate branch '{member.name}' in union '{union.name}'")
        names_seen.add(member.name)
        for value, tok in labels:
            if value in labels_seen:
                raise tok.error(f"duplicate case label {value} in union '{union.name}' "
                                f"(already used by branch '{labels_seen[value]}')")
            labels_seen[value] = member.name
        self.expect_punct(";", "after union branch declaration")
        if self.peek().kind == LEGACY_KEY:
            self.ignored_legacy_key(self.advance(), "a union branch")
        return m.UnionCase([v for v, _ in labels], member, is_default)

    def case_label(self, expr: Expr, union: m.UnionType) -> int:
        value = self.evaluate(expr, union.discriminator)
        if isinstance(value, str):
            return ord(value)
        return int(value)

    def enum_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        name = self.expect_identifier("for the enum name")
        full = self.define(name, "type")
        enum = m.EnumType(full, [])
        self.symbols[full].type = enum
        settings = self.type_annotations(anns, "enum", full, {})
        enum.extensibility = settings.get("extensibility", "final")
        if "bit_bound" in settings:
            ann, bound = settings["bit_bound"]
            if not 1 <= bound <= 32:
                raise ann.token.error(f"@bit_bound({bound}) on enum '{full}' is out of range "
                                      "(expected 1..32)")
            enum.bit_bound = bound
        self.expect_punct("{", f"to open enum '{name.value}'")
        nxt = 0
        values: dict[int, str] = {}
        while True:
            lit_anns = self.annotations()
            lit_tok = self.expect_identifier(f"for an enumerator of '{name.value}'")
            value, is_default = nxt, False
            for ann in lit_anns:
                if ann.name == "value":
                    value = self.ann_int(ann, m.INT32)
                elif ann.name == "default_literal":
                    is_default = True
                else:
                    self.unknown_annotation(ann, f"enumerator '{lit_tok.value}'", {})
            if value in values:
                raise lit_tok.error(f"enumerator '{lit_tok.value}' has value {value}, already "
                                    f"used by '{values[value]}' in enum '{full}'")
            lo, hi = -(1 << (enum.bit_bound - 1)), (1 << enum.bit_bound) - 1
            if not lo <= value <= hi:
                raise lit_tok.error(f"enumerator '{lit_tok.value}' value {value} does not fit "
                                    f"@bit_bound({enum.bit_bound})")
            if is_default and any(lit.default for lit in enum.literals):
                raise lit_tok.error(f"enum '{full}' has more than one @default_literal")
            values[value] = str(lit_tok.value)
            lit = m.EnumLiteral(str(lit_tok.value), value, is_default)
            enum.literals.append(lit)
            self.define(lit_tok, "enumlit", type=enum, value=value, enum=enum)
            # Also reachable as Enum::LITERAL, which many IDL users write.
            self.symbols[f"{full}::{lit_tok.value}"] = _Symbol("enumlit", lit_tok, type=enum,
                                                              value=value, enum=enum)
            nxt = value + 1
            if self.peek().is_punct(","):
                self.advance()
                if self.peek().is_punct("}"):
                    break
                continue
            break
        self.expect_punct("}", f"to close enum '{name.value}' (or ',' between enumerators)")
        self.module.types[full] = enum
        self.module.origins[full] = name.file

    def bitmask_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        name = self.expect_identifier("for the bitmask name")
        full = self.define(name, "type")
        mask = m.BitmaskType(full, [])
        self.symbols[full].type = mask
        settings = self.type_annotations(anns, "bitmask", full, {})
        mask.extensibility = settings.get("extensibility", "final")
        if "bit_bound" in settings:
            ann, bound = settings["bit_bound"]
            if not 1 <= bound <= 64:
                raise ann.token.error(f"@bit_bound({bound}) on bitmask '{full}' is out of range "
                                      "(expected 1..64)")
            mask.bit_bound = bound
        self.expect_punct("{", f"to open bitmask '{name.value}'")
        nxt = 0
        used: dict[int, str] = {}
        names: set[str] = set()
        while True:
            flag_anns = self.annotations()
            flag_tok = self.expect_identifier(f"for a flag of bitmask '{name.value}'")
            position = nxt
            for ann in flag_anns:
                if ann.name == "position":
                    position = self.ann_int(ann, m.UINT16)
                else:
                    self.unknown_annotation(ann, f"bitmask flag '{flag_tok.value}'", {})
            if not 0 <= position < mask.bit_bound:
                top = mask.bit_bound - 1
                raise flag_tok.error(f"flag '{flag_tok.value}' position {position} is outside "
                                     f"the bit bound of '{full}' (expected 0..{top})")
            if position in used:
                raise flag_tok.error(f"flag '{flag_tok.value}' position {position} is already "
                                     f"used by '{used[position]}' in bitmask '{full}'")
            if flag_tok.value in names:
                raise flag_tok.error(f"duplicate flag '{flag_tok.value}' in bitmask '{full}'")
            names.add(str(flag_tok.value))
            used[position] = str(flag_tok.value)
            mask.flags.append(m.BitFlag(str(flag_tok.value), position))
            nxt = position + 1
            if self.peek().is_punct(","):
                self.advance()
                if self.peek().is_punct("}"):
                    break
                continue
            break
        self.expect_punct("}", f"to close bitmask '{name.value}' (or ',' between flags)")
        self.module.types[full] = mask
        self.module.origins[full] = name.file

    def typedef_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        for ann in anns:
            self.unknown_annotation(ann, "typedef", {})
        t = self.type_spec("after 'typedef'")
        while True:
            name, dims = self.declarator("for the typedef name")
            target: m.IdlType = m.ArrayType(t, dims) if dims else t
            full = self.define(name, "type")
            alias = m.AliasType(full, target)
            self.symbols[full].type = alias
            self.module.types[full] = alias
            self.module.origins[full] = name.file
            if not self.peek().is_punct(","):
                break
            self.advance()

    def const_dcl(self, anns: list[Annotation]) -> None:
        self.advance()
        for ann in anns:
            self.unknown_annotation(ann, "const", {})
        type_tok = self.peek()
        t = self.type_spec("after 'const'")
        try:
            consts.target_category(t)
        except ValueError:
            raise type_tok.error(f"a constant cannot have type {consts.type_label(t)}: expected "
                                 "an integer, floating-point, char, boolean, string or enum "
                                 "type") from None
        name = self.expect_identifier("for the constant name")
        self.expect_punct("=", f"after constant name '{name.value}'")
        expr = self.const_expr()
        value = self.evaluate(expr, t)
        r = m.resolve(t)
        full = self.define(name, "const", type=t, value=value,
                           enum=r if isinstance(r, m.EnumType) else None)
        self.module.constants[full] = value
        self.module.origins[full] = name.file
        self.module.constant_types[full] = t

    def pragma_keylist(self, tok: Token) -> None:
        type_name, fields = tok.value
        absolute = type_name.startswith("::")
        parts = tuple(p for p in type_name.split("::") if p)
        name = Name(parts, absolute, tok)
        target = m.resolve(self.lookup_type(name))
        if not isinstance(target, m.StructType) or not target.defined:
            raise tok.error(f"'#pragma keylist' names '{type_name}', expected a defined struct")
        members = {mem.name: mem for mem in target.all_members()}
        for f in fields:
            if "." in f.value:
                raise f.error(f"nested key '{f.value}' in '#pragma keylist' is not supported "
                              "by rtbus: mark the nested struct's member with @key")
            mem = members.get(f.value)
            if mem is None:
                raise f.error(f"'#pragma keylist {type_name}' names '{f.value}', which is not "
                              f"a member of '{target.name}' (expected one of "
                              f"{', '.join(members) or 'no members'})")
            mem.key = True

    _last_default: Token


def parse_tokens(tokens: list[Token], files: list[str] | None = None) -> IdlModule:
    """Parse a preprocessed token stream."""
    return Parser(tokens, files).parse()

