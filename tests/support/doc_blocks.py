"""Fenced code blocks of the Markdown docs, so the suite can run them as a reader would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str  # "" for an untagged block (output, diagrams)
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    return [Block(path, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
            for m in _FENCE.finditer(text)]


def python_script(path: Path) -> str:
    """The file's python blocks in order, as one script: later blocks use what earlier ones
    defined, as in a session where the reader pastes them one after the other. Each block
    starts with a comment naming its line, so a traceback points into the doc."""
    parts = [f"# --- {b.where}\n{b.code}" for b in blocks(path) if b.lang == "python"]
    return "\n".join(parts)
