"""Validation of sample values on construction (bootstrap version; to be completed).

``member_validator(member)`` returns ``fn(value, path) -> value`` that checks (and where
harmless, converts) a value for a member; ``union_init(model)`` returns a union ``__init__``.
"""

from __future__ import annotations

from typing import Any, Callable

from .model import Member, UnionType


def member_validator(member: Member) -> Callable[[Any, str], Any]:
    def check(value: Any, path: str) -> Any:
        return value

    return check


def union_init(model: UnionType) -> Callable[..., None]:
    def __init__(self: Any, discriminator: Any = None, value: Any = None, **branch: Any) -> None:
        if branch:
            (name, val), = branch.items()
            for case in model.cases:
                if case.member.pyname == name:
                    discriminator = case.labels[0] if case.labels else model.implicit_default()
                    value = val
                    break
        self.discriminator = discriminator
        self.value = value

    return __init__
