"""One condition that threads and coroutines can both wait on, woken from any thread.

The engine reports progress (an acknowledgement, a discovered entity) from whichever thread
digested it. A thread waits on a ``threading.Condition``; a coroutine on a future of its own
loop, resolved with ``call_soon_threadsafe`` so it suspends instead of blocking that loop.
The predicate is checked under the lock, so no notification can slip in between the check
and the wait.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable


class Wakeup:
    """``notify()`` wakes every waiter; ``lock`` guards the state the predicates read.

    ``mutex`` is the condition's own lock: holding it is holding ``lock``, without the
    Python-level frames a Condition's ``with`` costs (for the hot path's plain updates)."""

    def __init__(self) -> None:
        self.mutex = threading.RLock()
        self.lock = threading.Condition(self.mutex)
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def notify(self) -> None:
        with self.lock:
            self.lock.notify_all()
            futures, self._futures = self._futures, []
        for loop, fut in futures:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, fut)

    def wait(self, deadline: float, waiting: Callable[[], bool], once: bool = False) -> bool:
        """Block while ``waiting()`` until ``deadline`` (monotonic seconds); ``once``: return
        after the first notification. True if it stopped waiting, False on the deadline."""
        with self.lock:
            while waiting():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(None if left == math.inf else left)
                if once:
                    return True
            return True

    async def wait_async(self, deadline: float, waiting: Callable[[], bool],
                         once: bool = False) -> bool:
        """:meth:`wait` for a coroutine: suspends on a future that ``notify`` resolves."""
        loop = asyncio.get_running_loop()
        while True:
            with self.lock:
                if not waiting():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                fut: asyncio.Future[None] = loop.create_future()
                self._futures.append((loop, fut))
            try:
                await (fut if left == math.inf else asyncio.wait_for(fut, left))
            except (TimeoutError, asyncio.TimeoutError):
                return False
            if once:
                return True


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
