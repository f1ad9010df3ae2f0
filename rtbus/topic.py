"""A topic: a name bound to an IDL type (and the QoS its endpoints start from), and a
content-filtered topic: a topic seen through a filter expression.

``Topic[T]`` carries the sample class ``T`` so that writers and readers made from it are
typed too: ``reader.take()`` returns ``list[Sample[T]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from .qos import Qos
from .types.model import StructType

if TYPE_CHECKING:
    from .content_filter import ContentFilter

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



class ContentFilteredTopic(Generic[T]):
    """``topic`` seen through ``filter`` (DDS 1.4 2.2.2.3.3): a reader created from it
    delivers only the samples the filter admits. Made by
    :meth:`rtbus.Participant.create_content_filtered_topic`; the expression is the DDS SQL
    subset of :mod:`rtbus.content_filter`."""

    def __init__(self, name: str, topic: Topic[T], content_filter: ContentFilter) -> None:
        self.name = name
        self.topic = topic
        self.filter = content_filter

    @property
    def expression(self) -> str:
        return self.filter.expression

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.filter.parameters

    def set_parameters(self, parameters: Sequence[str]) -> None:
        """Change the ``%n`` parameters; readers of this topic filter by them from their next
        sample on (a malformed value raises and changes nothing)."""
        self.filter.set_parameters(parameters)

    @property
    def type(self) -> type[T]:
        return self.topic.type

    @property
    def type_name(self) -> str:
        return self.topic.type_name

    def __repr__(self) -> str:
        return (f"ContentFilteredTopic({self.name!r} of {self.topic.name!r}, "
                f"{self.expression!r}, {self.parameters!r})")
