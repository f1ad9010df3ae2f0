"""The IDL preprocessor: includes, object-like macros, conditionals and ``#pragma keylist``.

It produces the token stream directly (rather than preprocessed text) so that every token
keeps the file, line and column it was written at, through any depth of ``#include``. Macro
uses are replaced by the macro's tokens stamped with the location of the use, which is where a
user looks when an expanded value is wrong. ``#pragma keylist`` becomes a token of its own so
the parser can apply it in the scope where it appears (OpenSplice/Cyclone semantics).

A file that was already included completely *into the same module scope* is not included
again there, guard or no guard (as if it said ``#pragma once``): rosidl writes its ``.idl``
files without include guards and a ROS message often reaches the same file through two
includes (``Pose.idl`` and ``Point.idl``), which a literal second inclusion would turn into
"already defined" errors. Including a file into two different modules still declares its
types in both, and a file that includes itself while still open is not "complete", so an
unguarded include cycle is still reported.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IdlError
from .lexer import (
    CHAR,
    EOF,
    IDENT,
    INT,
    LEGACY_KEY,
    PRAGMA_KEYLIST,
    PUNCT,
    Token,
    blank_comments,
    tokenize_line,
)

logger = logging.getLogger("rtbus.idl.preprocessor")

_DIRECTIVE = re.compile(r"\s*([A-Za-z_]\w*|\d+)?")

_LEGACY_KEY = re.compile(r"//\s*@key\s*$")

#: Deeper nesting than this is taken as an include cycle without guards.
MAX_INCLUDE_DEPTH = 64


@dataclass
class _Conditional:
    """One open ``#if``/``#ifdef`` group."""

    parent_active: bool
    active: bool
    taken: bool  # some branch of this group was already selected
    token: Token
    seen_else: bool = False


@dataclass
class PreprocessResult:
    tokens: list[Token]
    files: list[str] = field(default_factory=list)  # every file read, in order
    defines: dict[str, list[Token]] = field(default_factory=dict)


class Preprocessor:
    """Turns IDL source into tokens. One instance per top-level parse."""

    def __init__(self, include_dirs: tuple[str | os.PathLike[str], ...] | list = (),
                 defines: dict[str, str] | None = None) -> None:
        self.include_dirs = [Path(d) for d in include_dirs]
        self.defines: dict[str, list[Token]] = {}
        for name, value in (defines or {}).items():
            self.defines[name] = tokenize_line(str(value), "<command line>", 1)
        self.tokens: list[Token] = []
        self.files: list[str] = []
        self._once: set[str] = set()
        # (real path, module scope) of files included completely
        self._complete: set[tuple[str, tuple[str | None, ...]]] = set()
        # the braces open where the next token goes: a module's name, None for other braces
        self._scope: list[str | None] = []
        self._after_module = False
        self._module_name: str | None = None

    def run(self, text: str, filename: str = "<string>") -> PreprocessResult:
        self._process(text, filename, depth=0)
        # End of input sits just after the last non-blank character of the top-level file.
        lines = text.rstrip().split("\n")
        self.tokens.append(Token(EOF, None, filename, len(lines), len(lines[-1]) + 1))
        return PreprocessResult(self.tokens, self.files, self.defines)

    # --- files --------------------------------------------------------------------------
    def _process(self, text: str, filename: str, depth: int) -> None:
        self.files.append(filename)
        scope = tuple(self._scope)
        if "\r" in text:  # CRLF (and old-Mac CR) files: same lines, same columns
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        raw_lines = text.split("\n")
        lines = blank_comments(text, filename).split("\n")
        stack: list[_Conditional] = []
        i = 0
        while i < len(lines):
            line_no = i + 1
            line = lines[i]
            # Backslash continuations join physical lines (used in long #defines).
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i]
            i += 1
            active = not stack or stack[-1].active
            stripped = line.lstrip()
            if stripped.startswith("#"):
                col = len(line) - len(stripped) + 1
                self._directive(stripped[1:], filename, line_no, col, stack, active, depth)
            elif active:
                self._emit(tokenize_line(line, filename, line_no))
                legacy = _LEGACY_KEY.search(raw_lines[line_no - 1])
                if legacy is not None and not line[legacy.start():].strip():
                    self.tokens.append(Token(LEGACY_KEY, "//@key", filename, line_no,
                                             legacy.start() + 1))
        if stack:
            t = stack[-1].token
            raise t.error(f"unterminated '#{t.value}': expected '#endif' before end of file")
        if not filename.startswith("<"):
            self._complete.add((os.path.realpath(filename), scope))

    def _emit(self, tokens: list[Token]) -> None:
        expanded = self._expand(tokens, frozenset())
        self._track_scope(expanded)
        self.tokens.extend(expanded)

    def _track_scope(self, tokens: list[Token]) -> None:
        """Follow ``module NAME {`` and braces, so includes know the scope they land in."""
        for tok in tokens:
            if tok.is_ident("module"):
                self._after_module, self._module_name = True, None
                continue
            if self._after_module and self._module_name is None and tok.kind == IDENT:
                self._module_name = str(tok.value)
                continue
            if tok.is_punct("{"):
                self._scope.append(self._module_name if self._after_module else None)
            elif tok.is_punct("}") and self._scope:
                self._scope.pop()
            self._after_module, self._module_name = False, None

    def _expand(self, tokens: list[Token], active: frozenset[str]) -> list[Token]:
        out: list[Token] = []
        for tok in tokens:
            body = self.defines.get(tok.value) if tok.kind == IDENT else None
            if body is None or tok.value in active:
                out.append(tok)
                continue
            relocated = [Token(b.kind, b.value, tok.file, tok.line, tok.col, b.wide) for b in body]
            out.extend(self._expand(relocated, active | {tok.value}))
        return out

    # --- directives ---------------------------------------------------------------------
    def _directive(self, rest: str, filename: str, line_no: int, col: int,
                   stack: list[_Conditional], active: bool, depth: int) -> None:
        match = _DIRECTIVE.match(rest)
        if match is None or not match.group(1):
            if rest.strip() and active:
                raise IdlError(f"expected a preprocessor directive name after '#', found "
                               f"{rest.strip()[:20]!r}", filename, line_no, col)
            return  # the null directive
        name = match.group(1)
        head = Token(IDENT, name, filename, line_no, col + 1 + match.start(1))
        args: list[Token] = []
        if active and name not in ("include", "error", "warning", "line"):
            args = tokenize_line(rest[match.end(1):], filename, line_no, col + 1 + match.end(1))
        elif name in ("if", "elif") and stack and stack[-1].parent_active:
            args = tokenize_line(rest[match.end(1):], filename, line_no, col + 1 + match.end(1))
        if name in ("ifdef", "ifndef"):
            if active:
                macro = self._macro_name(head, args)
                cond = (macro in self.defines) == (name == "ifdef")
            else:
                cond = False
            stack.append(_Conditional(active, active and cond, active and cond, head))
        elif name == "if":
            cond = active and self._condition(head, args)
            stack.append(_Conditional(active, cond, cond, head))
        elif name == "elif":
            group = self._open_group(stack, head)
            if group.seen_else:
                raise head.error("'#elif' after '#else': expected '#endif'")
            cond = group.parent_active and not group.taken and self._condition(head, args)
            group.active = cond
            group.taken = group.taken or cond
        elif name == "else":
            group = self._open_group(stack, head)
            if group.seen_else:
                raise head.error("second '#else' in one conditional group: expected '#endif'")
            group.seen_else = True
            group.active = group.parent_active and not group.taken
            group.taken = True
        elif name == "endif":
            self._open_group(stack, head)
            stack.pop()
        elif not active:
            return
        elif name == "define":
            macro = self._macro_name(head, args)
            if len(args) > 1 and args[1].is_punct("(") and args[1].col == args[0].col + len(macro):
                raise args[0].error(f"function-like macro '{macro}' is not supported by rtbus: "
                                    "only object-like '#define NAME value' is")
            self.defines[macro] = args[1:]
        elif name == "undef":
            self.defines.pop(self._macro_name(head, args), None)
        elif name == "include":
            self._include(head, args, rest, filename, depth)
        elif name == "pragma":
            self._pragma(head, args)
        elif name == "error":
            raise head.error("#error " + rest.strip()[len("error"):].strip())
        elif name == "warning":
            logger.warning("%s:%d: #warning %s", filename, line_no,
                           rest.strip()[len("warning"):].strip())
        elif name == "line" or name.isdigit():
            return  # line markers from an external cpp: locations are ours already
        else:
            raise head.error(f"unknown preprocessor directive '#{head.value}': expected "
                             "include, define, undef, if, ifdef, ifndef, elif, else, endif "
                             "or pragma")

    @staticmethod
    def _open_group(stack: list[_Conditional], head: Token) -> _Conditional:
        if not stack:
            raise head.error(f"'#{head.value}' without a matching '#if', '#ifdef' or '#ifndef'")
        return stack[-1]

    @staticmethod
    def _macro_name(head: Token, args: list[Token]) -> str:
        if not args or args[0].kind != IDENT:
            found = args[0].describe() if args else "end of line"
            raise head.error(f"expected a macro name after '#{head.value}', found {found}")
        return str(args[0].value)

    def _pragma(self, head: Token, args: list[Token]) -> None:
        if not args or not args[0].is_ident("keylist"):
            logger.debug("%s:%d: ignoring #pragma %s", head.file, head.line,
                         " ".join(str(a.value) for a in args))
            return
        names = self._expand(args[1:], frozenset())
        if not names or names[0].kind != IDENT:
            found = names[0].describe() if names else "end of line"
            raise args[0].error(f"expected a type name after '#pragma keylist', found {found}")
        # Type names may be scoped (a::b::T); key fields may be dotted (a.b) or separated by ','.
        type_parts: list[str] = []
        idx = 0
        if idx < len(names) and names[idx].is_punct("::"):
            type_parts.append("")
            idx += 1
        while True:
            tok = names[idx]
            if tok.kind != IDENT:
                raise tok.error(f"expected a type name in '#pragma keylist', found "
                                f"{tok.describe()}")
            type_parts.append(str(tok.value))
            idx += 1
            if idx < len(names) and names[idx].is_punct("::"):
                idx += 1
                if idx >= len(names):
                    raise names[idx - 1].error("expected an identifier after '::' in "
                                               "'#pragma keylist', found end of line")
                continue
            break
        fields: list[Token] = []
        while idx < len(names):
            tok = names[idx]
            if tok.is_punct(","):
                idx += 1
                continue
            if tok.kind != IDENT:
                raise tok.error(f"expected a key member name in '#pragma keylist', found "
                                f"{tok.describe()}")
            dotted = [str(tok.value)]
            idx += 1
            while idx + 1 < len(names) and names[idx].is_punct(".") and \
                    names[idx + 1].kind == IDENT:
                dotted.append(str(names[idx + 1].value))
                idx += 2
            fields.append(Token(IDENT, ".".join(dotted), tok.file, tok.line, tok.col))
        type_tok = names[0]
        self.tokens.append(Token(PRAGMA_KEYLIST, ("::".join(type_parts), fields),
                                 type_tok.file, head.line, head.col))

    def _include(self, head: Token, args: list[Token], rest: str, filename: str,
                 depth: int) -> None:
        spec = rest.strip()[len("include"):].strip()
        if spec.startswith('"') and spec.count('"') >= 2:
            target, quoted = spec[1:spec.index('"', 1)], True
        elif spec.startswith("<") and ">" in spec:
            target, quoted = spec[1:spec.index(">")], False
        else:
            found = repr(spec) if spec else "end of line"
            raise head.error(f"expected \"file\" or <file> after '#include', found {found}")
        here = Path(filename).parent if not filename.startswith("<") else Path.cwd()
        candidates = [here, *self.include_dirs] if quoted else [*self.include_dirs, here]
        for directory in candidates:
            path = directory / target
            if path.is_file():
                break
        else:
            searched = ", ".join(str(d) for d in candidates)
            raise head.error(f"cannot find include file '{target}' (searched: {searched})")
        real = os.path.realpath(path)
        if real in self._once or (real, tuple(self._scope)) in self._complete:
            logger.debug("%s:%d: '%s' already included, not read again", head.file, head.line,
                         target)
            return
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise head.error(f"include nesting deeper than {MAX_INCLUDE_DEPTH} while including "
                             f"'{target}': expected an include guard or '#pragma once'")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise head.error(f"cannot read include file '{path}': {exc}") from exc
        if _has_pragma_once(text):
            self._once.add(real)
        self._process(text, str(path), depth + 1)

    # --- #if expressions ----------------------------------------------------------------
    def _condition(self, head: Token, args: list[Token]) -> bool:
        if not args:
            raise head.error(f"expected an expression after '#{head.value}', found end of line")
        # Resolve defined(X) before macro expansion, as cpp does.
        resolved: list[Token] = []
        i = 0
        while i < len(args):
            tok = args[i]
            if tok.is_ident("defined"):
                j = i + 1
                paren = j < len(args) and args[j].is_punct("(")
                if paren:
                    j += 1
                if j >= len(args) or args[j].kind != IDENT:
                    raise tok.error("expected a macro name after 'defined'")
                value = 1 if args[j].value in self.defines else 0
                j += 1
                if paren:
                    if j >= len(args) or not args[j].is_punct(")"):
                        raise tok.error("expected ')' after 'defined(NAME'")
                    j += 1
                resolved.append(Token(INT, value, tok.file, tok.line, tok.col))
                i = j
            else:
                resolved.append(tok)
                i += 1
        expanded = self._expand(resolved, frozenset())
        return _CondEval(expanded, head).run() != 0


def _has_pragma_once(text: str) -> bool:
    for line in text.splitlines():
        parts = line.strip().lstrip("#").split()
        if line.strip().startswith("#") and parts[:2] == ["pragma", "once"]:
            return True
    return False


class _CondEval:
    """Integer evaluation of a ``#if`` expression (C semantics, unknown identifiers are 0)."""

    _BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def __init__(self, tokens: list[Token], head: Token) -> None:
        self.tokens = tokens
        self.head = head
        self.pos = 0

    def run(self) -> int:
        value = self._binary(0)
        if self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            raise tok.error(f"unexpected {tok.describe()} in '#{self.head.value}' expression")
        return value

    def _peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _binary(self, level: int) -> int:
        if level == len(self._BINARY):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            tok = self._peek()
            if tok is None or tok.kind != PUNCT or tok.value not in self._BINARY[level]:
                return left
            self.pos += 1
            right = self._binary(level + 1)
            left = _apply_cond(tok, left, right)

    def _unary(self) -> int:
        tok = self._peek()
        if tok is None:
            raise self.head.error(f"incomplete '#{self.head.value}' expression: expected a "
                                  "value, found end of line")
        self.pos += 1
        if tok.kind == PUNCT and tok.value in ("!", "~", "-", "+"):
            v = self._unary()
            return {"!": int(not v), "~": ~v, "-": -v, "+": v}[tok.value]
        if tok.is_punct("("):
            v = self._binary(0)
            close = self._peek()
            if close is None or not close.is_punct(")"):
                raise tok.error(f"expected ')' in '#{self.head.value}' expression")
            self.pos += 1
            return v
        if tok.kind == INT:
            return int(tok.value)
        if tok.kind == CHAR:
            return ord(tok.value)
        if tok.kind == IDENT:
            return 1 if tok.value == "true" else 0
        raise tok.error(f"unexpected {tok.describe()} in '#{self.head.value}' expression")


def _apply_cond(tok: Token, a: int, b: int) -> int:
    op = tok.value
    if op in ("/", "%") and b == 0:
        raise tok.error("division by zero in preprocessor expression")
    result: int = {
        "||": lambda: int(bool(a) or bool(b)), "&&": lambda: int(bool(a) and bool(b)),
        "|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
        ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        "<<": lambda: a << b, ">>": lambda: a >> b, "+": lambda: a + b, "-": lambda: a - b,
        "*": lambda: a * b, "/": lambda: int(a / b), "%": lambda: a - b * int(a / b),
    }[op]()
    return result


def preprocess(text: str, filename: str = "<string>",
               include_dirs: tuple[str | os.PathLike[str], ...] | list = (),
               defines: dict[str, str] | None = None) -> PreprocessResult:
    """Tokens of ``text`` after includes, macros and conditionals (ends with an EOF token)."""
    return Preprocessor(include_dirs, defines).run(text, filename)
