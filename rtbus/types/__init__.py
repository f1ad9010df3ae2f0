"""The IDL type model and the Python classes built from it."""

from .model import *  # noqa: F403
from .pyclasses import IdlStruct, IdlUnion, materialize

__all__ = ["IdlStruct", "IdlUnion", "materialize"]
