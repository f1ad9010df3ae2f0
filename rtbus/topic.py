"""A topic: a name bound to an IDL type (and the QoS its endpoints start from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .qos import Qos
from .types.model import StructType


@dataclass(frozen=True)
class Topic:
    name: str
    type: Any  # the Python class of an IDL struct
    qos: Qos

    @property
    def model(self) -> StructType:
        return self.type.__rtbus_type__  # type: ignore[no-any-return]

    @property
    def type_name(self) -> str:
        return self.model.name

    @property
    def keyed(self) -> bool:
        return self.model.keyed
