"""What the API (Participant, Writer, Reader) may ask of the engine: the whole surface.

Writers and readers never touch the core, its lock or a private attribute of the engine;
everything they need is here, so the engine can change underneath them (the compiled fast
path will) without the API noticing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from ..rtps import wire


class EngineContext(Protocol):
    """One participant's engine, as the API sees it."""

    loop: asyncio.AbstractEventLoop

    @property
    def closed(self) -> bool: ...

    @property
    def prefix(self) -> bytes: ...

    def on_loop_thread(self) -> bool:
        """Is the caller the engine loop's thread (where waiting would stall the loop)?"""
        ...

    def subscribe(self, handler: Callable[[Any], None],
                  direct: Callable[[Any], bool] | None = None) -> None:
        """Have ``handler`` see every event on the loop; ``direct(event)`` may handle one in
        the application thread that caused it instead (True: handled)."""
        ...

    def flush(self) -> None:
        """Send what is pending and dispatch events (loop thread)."""
        ...

    def add_writer(self, topic: Any, qos: Any, added: Callable[[wire.Guid], None]) -> wire.Guid:
        """A writer of ``topic``; ``added(guid)`` runs before any match event is seen."""
        ...

    def add_reader(self, topic: Any, qos: Any, added: Callable[[wire.Guid], None],
                   filtered: Any = None) -> wire.Guid:
        """A reader of ``topic``; ``added(guid)`` runs before any match event is seen;
        ``filtered``: the ContentFilteredTopic of ``topic`` it reads through, if any."""
        ...

    def remove_endpoint(self, guid: wire.Guid) -> None: ...

    def set_writer_qos(self, guid: wire.Guid, qos: Any) -> None:
        """Re-announce a writer with changed (mutable) QoS."""
        ...

    def assert_writer_liveliness(self, guid: wire.Guid) -> None:
        """The application asserts a writer's liveliness (see Writer.assert_liveliness)."""
        ...

    def assert_liveliness(self) -> None:
        """The application asserts the participant's liveliness."""
        ...

    def write(self, guid: wire.Guid, payload: bytes, key_hash: bytes | None, status: int,
              timestamp: int) -> Any:
        """One write: Written, or WouldBlock when the history is full."""
        ...

    def take(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]: ...

    def read(self, guid: wire.Guid, max_samples: int | None, select: Any) -> list[Any]: ...

    def has_samples(self, guid: wire.Guid, select: Any) -> bool: ...

    def has_instance(self, guid: wire.Guid, key_hash: bytes | None) -> bool: ...

    def writer_acked(self, guid: wire.Guid) -> bool:
        """Has every reliable matched reader acknowledged all this writer wrote?"""
        ...

    def receive_until(self, ready: Callable[[], bool], deadline: float) -> bool | None:
        """Wait for ``ready()`` receiving in this thread (see ReceiveBaton.receive_until)."""
        ...

    @property
    def receiving_in_app_thread(self) -> bool: ...

    def wake_receiver(self) -> None:
        """Wake a thread waiting in :meth:`receive_until` (any thread)."""
        ...

    def counters(self) -> dict[str, int]: ...

    def local_participant_data(self) -> Any: ...
