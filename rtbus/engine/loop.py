"""The background event loop of participants created outside asyncio: one per process.

A participant's sockets, its timer and the dispatch of its events need an event loop; plain
code (scripts, GUI threads) has none, so the first such participant starts this one in a
daemon thread (uvloop when installed) and later ones share it. Writes and takes do not hop
onto it (they run the core call in the caller's thread, see ``CoreDriver.call``); starting,
closing and waiting for a match do, through :meth:`BackgroundLoop.run`. A participant
opened with ``async with`` runs on the caller's loop instead.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger("rtbus.engine")
T = TypeVar("T")

_lock = threading.Lock()
_background: BackgroundLoop | None = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop if uvloop is installed, else the stdlib default."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class BackgroundLoop:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name="rtbus-engine", daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    @property
    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result from another thread."""
        if self.in_loop_thread:
            coro.close()
            raise RuntimeError("blocking rtbus call made from the engine thread (e.g. from a "
                               "listener); use the async API or schedule the call")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise

    def call_soon(self, fn: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)


def background_loop() -> BackgroundLoop:
    """The process-wide background loop, started on first use."""
    global _background
    with _lock:
        if _background is None:
            _background = BackgroundLoop()
            atexit.register(_background.stop)
        return _background
