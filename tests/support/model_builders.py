"""Terse constructors for hand-written rtbus type models in tests.

Conformance and parity tests state a type twice, as a cyclonedds class and as an rtbus model
written out by hand, so that the model is an independent statement of the IDL (not derived
from the cyclonedds class). These keep those hand-written models short.
"""

from typing import Any

from rtbus.types import model as M


def struct(name: str, members: list[M.Member], **kw: Any) -> M.StructType:
    """A struct with member ids assigned as the IDL would (sequential, or hashed by autoid)."""
    s = M.StructType(name, members, **kw)
    M.finalize_member_ids(s)
    return s


def mem(name: str, typ: M.IdlType, **kw: Any) -> M.Member:
    return M.Member(name, typ, **kw)


def union(name: str, disc: M.IdlType, cases: list[tuple[list[int], str, M.IdlType]],
          default: tuple[str, M.IdlType] | None = None, **kw: Any) -> M.UnionType:
    """``cases``: (labels, member name, member type); ``default``: the default branch, last."""
    ucases = [M.UnionCase(labels, M.Member(n, typ, id=i)) for i, (labels, n, typ) in
              enumerate(cases)]
    if default is not None:
        ucases.append(M.UnionCase([], M.Member(default[0], default[1], id=len(ucases)),
                                  is_default=True))
    return M.UnionType(name, disc, ucases, **kw)


def enum_model(name: str, literals: list[tuple[str, int]], **kw: Any) -> M.EnumType:
    return M.EnumType(name, [M.EnumLiteral(n, v) for n, v in literals], **kw)
