"""A deterministic simulated clock and network: datagrams between nodes, in virtual time.

Tests of reliability under loss, reordering and duplication must give the same result every
run. Here time is a number that only moves when the run loop moves it (to the next datagram
arrival or the next node timer), and randomness comes from one seeded ``random.Random``, so a
seed names one run exactly.

The network knows nothing of RTPS: it carries opaque datagrams from a node to the nodes
attached to an address (several on one address make a multicast group), mistreating them as
its :class:`LinkConditions` say, and wakes nodes when their timers fall due. The node it is
built for is :class:`tests.support.simcore.SimCore`, a whole ``ParticipantCore``: the bytes on
the simulated wire are then exactly what the core would hand to ``sendto`` and get from
``recvfrom``, datagram boundaries at the maximum message size included.

Nothing here opens a socket. It lives with the tests, not in the library: only tests
drive the core this way.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rtbus.rtps.transforms import Address


@dataclass
class LinkConditions:
    """How the simulated network mistreats datagrams (probabilities per datagram and
    destination)."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # share of datagrams held back by ``reorder_delay`` extra
    delay: float = 0.0005
    jitter: float = 0.0
    reorder_delay: float = 0.003


class Node(Protocol):
    """What the network drives: a sans-IO state machine fed datagrams and timer ticks (it
    sends by calling :meth:`SimNetwork.transmit`)."""

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` is next due (None: never)."""
        ...

    def handle_timer(self, now: float) -> None: ...

    def receive(self, datagram: bytes, addr: Address) -> None:
        """``datagram`` arrived from ``addr`` (the sender's first attached address)."""
        ...


class EventQueue:
    """Callbacks ordered by time, ties broken by insertion order (so runs are repeatable)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = 0

    def push(self, when: float, fn: Callable[[], None]) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (when, self._counter, fn))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> tuple[float, Callable[[], None]]:
        when, _, fn = heapq.heappop(self._heap)
        return when, fn

    def __len__(self) -> int:
        return len(self._heap)


class SimNetwork:
    """Nodes, a virtual clock, and a lossy, reordering, duplicating medium between them.

    ``drop_filter(src, dst, datagram)`` (when set) sees every datagram as it is sent and drops
    it by returning True; ``tap(src, dst, datagram)`` sees every datagram that arrives, just
    before ``dst`` gets it. ``stats`` counts what the medium did.
    """

    def __init__(self, seed: int = 0, conditions: LinkConditions | None = None) -> None:
        self.rng = random.Random(seed)
        self.conditions = conditions or LinkConditions()
        self.now = 0.0
        self.events = EventQueue()
        self.nodes: list[Node] = []
        self._attached: dict[Address, list[Node]] = {}
        self._source: dict[int, Address] = {}  # id(node) -> its first address
        self.stats: Counter[str] = Counter()
        self.drop_filter: Callable[[Node, Node, bytes], bool] | None = None
        self.tap: Callable[[Node, Node, bytes], None] | None = None

    def attach(self, node: Node, addr: Address) -> None:
        """Deliver what is sent to ``addr`` to ``node`` (too); a node may have several."""
        if id(node) not in self._source:
            self.nodes.append(node)
            self._source[id(node)] = addr
        members = self._attached.setdefault(addr, [])
        if node not in members:
            members.append(node)

    def transmit(self, src: Node, datagram: bytes, addr: Address) -> None:
        """Send ``datagram`` from ``src`` to every node attached to ``addr`` but ``src``
        itself (a group member does not hear its own multicast)."""
        members = self._attached.get(addr)
        if not members:
            self.stats["no_such_address"] += 1
            return
        cond = self.conditions
        rng = self.rng
        for dst in members:
            if dst is src:
                continue
            self.stats["datagrams_sent"] += 1
            self.stats["bytes_sent"] += len(datagram)
            if self.drop_filter is not None and self.drop_filter(src, dst, datagram):
                self.stats["datagrams_dropped"] += 1
                continue
            copies = 2 if cond.duplicate and rng.random() < cond.duplicate else 1
            for _ in range(copies):
                if cond.loss and rng.random() < cond.loss:
                    self.stats["datagrams_lost"] += 1
                    continue
                delay = cond.delay + (rng.random() * cond.jitter if cond.jitter else 0.0)
                if cond.reorder and rng.random() < cond.reorder:
                    delay += cond.reorder_delay
                    self.stats["datagrams_reordered"] += 1
                self.events.push(self.now + delay, self._delivery(src, dst, datagram))

    def _delivery(self, src: Node, dst: Node, datagram: bytes) -> Callable[[], None]:
        source = self._source[id(src)]

        def deliver() -> None:
            if self.tap is not None:
                self.tap(src, dst, datagram)
            dst.receive(datagram, source)
        return deliver

    # -- the run loop -----------------------------------------------------------------------
    def _next_timer(self) -> tuple[float | None, list[Node]]:
        """The earliest node timer and the nodes due then."""
        best: float | None = None
        due: list[Node] = []
        for node in self.nodes:
            t = node.next_timer()
            if t is None:
                continue
            if best is None or t < best:
                best, due = t, [node]
            elif t == best:
                due.append(node)
        return best, due

    def step(self) -> bool:
        """Advance to the next event (datagram arrival or timer) and run it; False if none."""
        return self._step(self.events.next_time(), *self._next_timer())

    def _step(self, t_event: float | None, t_timer: float | None, due: list[Node]) -> bool:
        if t_event is None and t_timer is None:
            return False
        if t_timer is not None and (t_event is None or t_timer < t_event):
            self.now = now = max(self.now, t_timer)
            for node in due:
                node.handle_timer(now)
            for node in due:
                t = node.next_timer()
                if t is not None and t <= now:
                    # a node that keeps asking to be woken now would spin forever
                    raise RuntimeError(f"timer of node {node!r} still due at {now} after "
                                       "handle_timer")
            return True
        when, fn = self.events.pop()
        self.now = max(self.now, when)
        fn()
        return True

    def run(self, until: float | None = None,
            stop: Callable[[], bool] | None = None, max_steps: int = 10_000_000) -> int:
        """Step until ``stop()`` holds, time passes ``until``, or nothing is left to do."""
        steps = 0
        while steps < max_steps:
            if stop is not None and stop():
                break
            t_event = self.events.next_time()
            t_timer, due = self._next_timer()
            nxt = t_event if t_timer is None or (t_event is not None and t_event <= t_timer) \
                else t_timer
            if nxt is None or (until is not None and nxt > until):
                if until is not None:
                    self.now = max(self.now, until)
                break
            self._step(t_event, t_timer, due)
            steps += 1
        return steps
