"""IDL tokens: identifiers, literals and punctuators, each stamped with file, line and column.

The preprocessor lexes one logical line at a time (comments are already blanked out), so a
token always knows the real file it came from, even through ``#include``; error messages can
then point at the exact character the user wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import IdlError

#: Token kinds.
IDENT = "ident"
INT = "int"
FLOAT = "float"
CHAR = "char"
STRING = "string"
PUNCT = "punct"
PRAGMA_KEYLIST = "pragma_keylist"
LEGACY_KEY = "legacy_key"  # a '//@key' comment after a member (RTI's pre-IDL4 key syntax)
EOF = "eof"

_ESCAPES = {"n": "\n", "t": "\t", "v": "\v", "b": "\b", "r": "\r", "f": "\f", "a": "\a",
            "\\": "\\", "?": "?", "'": "'", '"': '"'}


@dataclass
class Token:
    """One token. ``value`` is the identifier/punctuator text or the literal's value."""

    kind: str
    value: Any
    file: str
    line: int
    col: int
    wide: bool = False  # L'x' / L"x"

    def describe(self) -> str:
        """How the token reads in an error message ("found 'long'")."""
        if self.kind == EOF:
            return "end of input"
        if self.kind == STRING:
            return f"string literal {self.value!r}"
        if self.kind == CHAR:
            return f"character literal {self.value!r}"
        if self.kind == PRAGMA_KEYLIST:
            return "'#pragma keylist'"
        if self.kind == LEGACY_KEY:
            return "'//@key'"
        return f"'{self.value}'"

    def error(self, message: str) -> IdlError:
        return IdlError(message, self.file, self.line, self.col)

    def is_punct(self, text: str) -> bool:
        return self.kind == PUNCT and self.value == text

    def is_ident(self, text: str | None = None) -> bool:
        return self.kind == IDENT and (text is None or self.value == text)


_COMMENT_OR_LITERAL = re.compile(
    r""""(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|//[^\n]*|/\*.*?\*/|/\*""", re.S)


def blank_comments(text: str, file: str) -> str:
    """Replace ``//`` and ``/* */`` comments by spaces, keeping newlines and columns intact."""
    if "/" not in text:
        return text
    out: list[str] = []
    last = 0
    for match in _COMMENT_OR_LITERAL.finditer(text):
        chunk = match.group()
        if chunk[0] in "\"'":
            continue  # a literal: "//" inside it is not a comment
        if chunk == "/*":
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            raise IdlError("unterminated comment: expected '*/' before end of file",
                           file, line, col)
        out.append(text[last:match.start()])
        out.append(re.sub(r"[^\n]", " ", chunk))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


_SIMPLE_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<ident>[^\W\d]\w*)|"
    r"(?P<punct>::|<<|>>|&&|\|\||==|!=|<=|>=|[{}()\[\]<>;:,=+\-*/%~|^&!@#]|\.(?!\d))")


def tokenize_line(text: str, file: str, line: int, start_col: int = 1) -> list[Token]:
    """Lex one line of IDL (comments already removed). Columns are 1-based."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    match_simple = _SIMPLE_TOKEN.match
    while i < n:
        col = i + start_col
        simple = match_simple(text, i)
        if simple is not None:
            kind = simple.lastgroup
            value = simple.group()
            if kind == "ident" and value == "L" and simple.end() < n and \
                    text[simple.end()] in "\"'":
                pass  # wide character/string literal prefix, handled below
            else:
                if kind == "ident":
                    tokens.append(Token(IDENT, value, file, line, col))
                elif kind == "punct":
                    tokens.append(Token(PUNCT, value, file, line, col))
                i = simple.end()
                continue
        c = text[i]
        wide = False
        if c == "L":
            wide = True
            i += 1
            c = text[i]
        if c.isdigit() or c == ".":
            i = _number(text, i, file, line, col, tokens)
        elif c == "'":
            value, i = _quoted(text, i, "'", file, line, col)
            if len(value) != 1:
                raise IdlError(f"character literal must hold exactly one character, found "
                               f"{value!r}", file, line, col)
            tokens.append(Token(CHAR, value, file, line, col, wide))
        elif c == '"':
            value, i = _quoted(text, i, '"', file, line, col)
            tokens.append(Token(STRING, value, file, line, col, wide))
        else:
            raise IdlError(f"unexpected character {c!r}", file, line, col)
    return tokens


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _number(text: str, i: int, file: str, line: int, col: int, out: list[Token]) -> int:
    n = len(text)
    j = i
    if text.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and (text[j] in "0123456789abcdefABCDEF"):
            j += 1
        if j == i + 2:
            raise IdlError("hexadecimal literal needs digits after '0x'", file, line, col)
        value: Any = int(text[i + 2:j], 16)
        kind = INT
    else:
        while j < n and text[j].isdigit():
            j += 1
        is_float = False
        if j < n and text[j] == ".":
            is_float = True
            j += 1
            while j < n and text[j].isdigit():
                j += 1
        if j < n and text[j] in "eE":
            k = j + 1
            if k < n and text[k] in "+-":
                k += 1
            if k < n and text[k].isdigit():
                is_float = True
                j = k
                while j < n and text[j].isdigit():
                    j += 1
        literal = text[i:j]
        if is_float:
            value, kind = float(literal), FLOAT
            if j < n and text[j] in "dDfF":  # fixed-point 'd' suffix and C-style 'f'
                if text[j] in "dD":
                    raise IdlError("fixed-point literals are not supported by rtbus: "
                                   "use a floating-point literal", file, line, col)
                j += 1
        elif len(literal) > 1 and literal[0] == "0":
            if any(d in "89" for d in literal):
                raise IdlError(f"invalid octal literal {literal!r}: digits must be 0-7",
                               file, line, col)
            value, kind = int(literal, 8), INT
        else:
            value, kind = int(literal), INT
    if j < n and _is_ident_char(text[j]):
        raise IdlError(f"invalid suffix {text[j]!r} on numeric literal {text[i:j]!r}",
                       file, line, col)
    out.append(Token(kind, value, file, line, col))
    return j


def _quoted(text: str, i: int, quote: str, file: str, line: int, col: int) -> tuple[str, int]:
    """Decode a quoted literal starting at ``text[i] == quote``; return (value, next index)."""
    chars: list[str] = []
    j, n = i + 1, len(text)
    while True:
        if j >= n:
            what = "character" if quote == "'" else "string"
            raise IdlError(f"unterminated {what} literal: expected {quote} before end of line",
                           file, line, col)
        c = text[j]
        if c == quote:
            return "".join(chars), j + 1
        if c != "\\":
            chars.append(c)
            j += 1
            continue
        if j + 1 >= n:
            raise IdlError("unterminated escape sequence", file, line, j + 1)
        e = text[j + 1]
        if e in _ESCAPES:
            chars.append(_ESCAPES[e])
            j += 2
        elif e in "01234567":
            k = j + 1
            while k < n and k < j + 4 and text[k] in "01234567":
                k += 1
            chars.append(chr(int(text[j + 1:k], 8)))
            j = k
        elif e in "xu":
            k = j + 2
            limit = k + (2 if e == "x" else 4)
            while k < n and k < limit and text[k] in "0123456789abcdefABCDEF":
                k += 1
            if k == j + 2:
                raise IdlError(f"escape '\\{e}' needs hexadecimal digits", file, line, j + 1)
            chars.append(chr(int(text[j + 2:k], 16)))
            j = k
        else:
            raise IdlError(f"unknown escape sequence '\\{e}'", file, line, j + 1)
