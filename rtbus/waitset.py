"""Conditions and WaitSets (DDS 1.4 2.2.2.1.6-9): wait for any of several things at once.

A WaitSet blocks (``wait``) or suspends (``await wait_async``) until at least one attached
condition's trigger value is true, and returns those conditions:

    data = rtbus.ReadCondition(reader, sample_states=rtbus.SampleState.NOT_READ)
    stop = rtbus.GuardCondition()
    ws = rtbus.WaitSet([data, stop])
    for cond in ws.wait(timeout=1.0):
        if cond is data:
            samples = reader.take(sample_states=rtbus.SampleState.NOT_READ)

- :class:`ReadCondition`: a reader holds samples in the given sample/view/instance states.
- :class:`StatusCondition`: one of an entity's statuses changed since it was last read
  (``"subscription_matched"``, ``"publication_matched"``, ``"requested_incompatible_qos"``,
  ``"offered_incompatible_qos"``, ``"inconsistent_topic"``, ``"data_available"``).
- :class:`GuardCondition`: set by the application (e.g. to stop a waiting thread).

Trigger values are evaluated when a waiter looks, so they are never stale; entities wake the
WaitSets their conditions are attached to when something changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from .engine.wakeup import Wakeup
from .errors import BadParameterError
from .rtps.instances import SampleState
from .rtps.reader import Selection


class Condition:
    """Base of every condition: knows the WaitSets it is attached to, to wake them."""

    def __init__(self) -> None:
        self._waitsets: list[WaitSet] = []

    @property
    def trigger_value(self) -> bool:
        raise NotImplementedError

    def _changed(self) -> None:
        for ws in list(self._waitsets):
            ws._wake.notify()


class GuardCondition(Condition):
    """A condition the application triggers (``set_trigger_value(True)``)."""

    def __init__(self) -> None:
        super().__init__()
        self._value = False

    @property
    def trigger_value(self) -> bool:
        return self._value

    def set_trigger_value(self, value: bool) -> None:
        self._value = bool(value)
        self._changed()


class ReadCondition(Condition):
    """True while ``reader`` holds samples in the given states (masks as for
    ``Reader.take``; default any). ``close()`` detaches it from the reader."""

    def __init__(self, reader: Any, sample_states: int | None = None,
                 view_states: int | None = None, instance_states: int | None = None) -> None:
        super().__init__()
        if not hasattr(reader, "_conditions"):
            raise BadParameterError(f"ReadCondition: expected a Reader, got {reader!r}")
        self.reader = reader
        self.selection: Selection = reader._selection(None, sample_states, view_states,
                                                      instance_states)
        reader._conditions.append(self)

    @property
    def trigger_value(self) -> bool:
        if self.reader.closed:
            return False
        return bool(self.reader._has(self.selection))

    def close(self) -> None:
        if self in self.reader._conditions:
            self.reader._conditions.remove(self)


#: status name -> what tells that it changed, for a writer or reader
_STATUSES = {
    "publication_matched": lambda e: e._statuses.matched.total_count_change != 0
    or e._statuses.matched.current_count_change != 0,
    "subscription_matched": lambda e: e._statuses.matched.total_count_change != 0
    or e._statuses.matched.current_count_change != 0,
    "offered_incompatible_qos": lambda e: e._statuses.incompatible_qos.total_count_change != 0,
    "requested_incompatible_qos": lambda e: e._statuses.incompatible_qos.total_count_change != 0,
    "inconsistent_topic": lambda e: e._statuses.inconsistent_topic.total_count_change != 0,
    "sample_lost": lambda e: e._statuses.sample_lost.total_count_change != 0,
    "sample_rejected": lambda e: e._statuses.sample_rejected.total_count_change != 0,
    "data_available": lambda e: e._has(Selection(sample_states=int(SampleState.NOT_READ))),
}


class StatusCondition(Condition):
    """True while one of ``statuses`` of ``entity`` (a Writer or Reader) has a change not
    yet read (reading the status, e.g. ``reader.subscription_matched_status()``, or taking
    the data resets it)."""

    def __init__(self, entity: Any, statuses: Iterable[str]) -> None:
        super().__init__()
        names = tuple(statuses)
        for name in names:
            if name not in _STATUSES:
                raise BadParameterError(f"StatusCondition: unknown status {name!r}; expected "
                                        f"some of {', '.join(_STATUSES)}")
        if "data_available" in names and not hasattr(entity, "_has"):
            raise BadParameterError("StatusCondition: data_available is a reader's status")
        self.entity = entity
        self.statuses = names
        entity._conditions.append(self)

    @property
    def trigger_value(self) -> bool:
        if self.entity.closed:
            return False
        return any(_STATUSES[name](self.entity) for name in self.statuses)

    def close(self) -> None:
        if self in self.entity._conditions:
            self.entity._conditions.remove(self)


class WaitSet:
    """Waits for any of its attached conditions (see the module docstring)."""

    def __init__(self, conditions: Iterable[Condition] = ()) -> None:
        self._wake = Wakeup()
        self._conditions: list[Condition] = []
        for cond in conditions:
            self.attach(cond)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(self._conditions)

    def attach(self, condition: Condition) -> None:
        if not isinstance(condition, Condition):
            raise BadParameterError(f"WaitSet.attach: expected a Condition, got {condition!r}")
        if condition not in self._conditions:
            self._conditions.append(condition)
            condition._waitsets.append(self)
            self._wake.notify()

    def detach(self, condition: Condition) -> None:
        if condition in self._conditions:
            self._conditions.remove(condition)
            condition._waitsets.remove(self)

    def _triggered(self) -> list[Condition]:
        return [c for c in self._conditions if c.trigger_value]

    def wait(self, timeout: float | None = None) -> list[Condition]:
        """Block until some condition is true (return those) or ``timeout`` seconds pass
        (return [])."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        self._wake.wait(deadline, lambda: not self._triggered())
        return self._triggered()

    async def wait_async(self, timeout: float | None = None) -> list[Condition]:
        """:meth:`wait` for a coroutine: suspends the task, never blocks its loop."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        await self._wake.wait_async(deadline, lambda: not self._triggered())
        return self._triggered()
