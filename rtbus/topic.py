"""A topic: a name bound to an IDL type (and the QoS its endpoints start from).

``Topic[T]`` carries the sample class ``T`` so that writers and readers made from it are
typed too: ``reader.take()`` returns ``list[Sample[T]]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from .qos import Qos
from .types.model import StructType

T = TypeVar("T")


@dataclass(frozen=True)
class Topic(Generic[T]):
    name: str
    type: type[T]  # the Python class of an IDL struct
    qos: Qos

    @property
    def model(self) -> StructType:
        return self.type.__rtbus_type__  # type: ignore[attr-defined, no-any-return]

    @property
    def type_name(self) -> str:
        return self.model.name

    @property
    def keyed(self) -> bool:
        return self.model.keyed

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {self.type_name})"

