"""The compiled parser (ext/rtps_parse.pyx) gives exactly what the pure-Python one gives.

Same submessages, same receiver context, same drop reasons, same MalformedError reasons, over
the Cyclone captures, built messages, the hostile crafted set and 20k random mutations.
"""

from __future__ import annotations

import os
import random

import pytest

from rtbus._ext import available
from rtbus.errors import MalformedError
from rtbus.rtps import wire
from rtbus.rtps.wire import message as M

from .test_wire_hostile import CRAFTED, _mutate, _seeds

compiled = available("rtps_parse")
# a parity test fails, never skips, when a twin is missing: only a deliberate pure-Python run
# (RTBUS_PURE_PYTHON=1) has no compiled parser to compare
pytestmark = pytest.mark.skipif(compiled is None and os.environ.get("RTBUS_PURE_PYTHON") == "1",
                                reason="RTBUS_PURE_PYTHON=1: the compiled twin is switched off")
if compiled is None and os.environ.get("RTBUS_PURE_PYTHON") != "1":
    raise RuntimeError("compiled rtbus._ext.rtps_parse is missing: build it (pip install -e .) "
                       "-- the parity tests compare it with the pure-Python parser")


def outcome(parse: object, dgram: bytes) -> tuple:
    try:
        msg = parse(dgram)  # type: ignore[operator]
    except MalformedError as exc:
        return ("raised", exc.reason, str(exc))
    return ("ok", msg.protocol_version, msg.vendor_id, bytes(msg.guid_prefix), msg.submessages,
            [tuple(r) for r in msg.received], msg.dropped,
            [type(s) for s in msg.submessages],
            [type(x) for r in msg.received for x in r])


def same(dgram: bytes) -> None:
    assert compiled is not None
    assert outcome(compiled.parse_message, dgram) == outcome(M.parse_message_py, dgram)


def test_parity_on_seeds_and_crafted() -> None:
    for dgram in _seeds():
        same(dgram)
    for _, dgram, _, _ in CRAFTED:
        same(dgram)


def test_parity_on_random_mutations() -> None:
    rng = random.Random(7)
    seeds = _seeds()
    for _ in range(20_000):
        dgram = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            dgram = _mutate(rng, dgram, seeds)
        same(dgram)


def test_parity_on_other_buffer_types() -> None:
    dgram = _seeds()[0]
    assert compiled is not None
    for form in (bytearray(dgram), memoryview(dgram)):
        assert outcome(compiled.parse_message, form) == outcome(M.parse_message_py, dgram)


def test_public_parse_message_is_the_compiled_one() -> None:
    assert wire.parse_message is compiled.parse_message  # type: ignore[union-attr]
