"""EXCLUSIVE ownership between rtbus participants over real sockets: only the strongest
writer's samples reach the application; the backup takes over when the primary is deleted,
the primary takes the instance back when it returns, and a strength change at run time
(``Writer.set_qos``) moves ownership."""

from __future__ import annotations

import pytest

import rtbus
from rtbus.errors import ImmutablePolicyError
from rtbus.shape import shape_type
from tests.support.polling import wait_until

pytestmark = pytest.mark.system
Shape = shape_type()
EXCLUSIVE = rtbus.Qos(reliability="reliable", history="keep_all", ownership="exclusive")


def shape(writer: int, n: int) -> object:
    """``x`` names the writer, ``y`` counts its samples."""
    return Shape(color="BLUE", x=writer, y=n, shapesize=30, additional_payload_size=b"")


def writers_of(samples: list) -> list[int]:
    return [s.data.x for s in samples if s.info.valid_data]


def take_until(reader: rtbus.Reader, writer: int, seconds: float = 10.0) -> list[int]:
    """What the reader delivers until a sample of ``writer`` came (or ``seconds`` passed)."""
    got: list[int] = []
    wait_until(lambda: (got.extend(writers_of(reader.take(timeout=0.1))) or writer in got),
               seconds)
    return got


def test_only_the_owner_is_delivered_and_the_backup_takes_over_and_back(
        domain_id: int) -> None:
    with rtbus.Participant(domain_id) as sub, rtbus.Participant(domain_id) as a, \
            rtbus.Participant(domain_id) as b:
        reader = sub.create_reader(sub.create_topic("Square", Shape), EXCLUSIVE)
        primary = a.create_writer(a.create_topic("Square", Shape),
                                  EXCLUSIVE.replace(ownership_strength=10))
        backup = b.create_writer(b.create_topic("Square", Shape),
                                 EXCLUSIVE.replace(ownership_strength=5))
        assert reader.wait_for_matched(2, 10)
        assert primary.wait_for_matched(1, 10) and backup.wait_for_matched(1, 10)
        primary.write(shape(1, 0))
        assert take_until(reader, 1) == [1]
        for n in range(1, 51):  # both write the instance; only the primary is delivered
            backup.write(shape(2, n))
            primary.write(shape(1, n))
        assert primary.wait_for_acknowledgments(10) and backup.wait_for_acknowledgments(10)
        got = take_until(reader, 1)
        while True:  # everything that arrived, then nothing of the backup's
            more = writers_of(reader.take())
            if not more:
                break
            got += more
        assert got and set(got) == {1}, got
        assert len(got) == 50

        primary.close()  # deleted: its readers unmatch it, the backup takes over
        assert wait_until(lambda: reader.subscription_matched_status().current_count == 1)
        backup.write(shape(2, 100))
        assert take_until(reader, 2)[-1:] == [2]

        returned = a.create_writer(a.create_topic("Square", Shape),
                                   EXCLUSIVE.replace(ownership_strength=10))
        assert returned.wait_for_matched(1, 10)
        returned.write(shape(3, 0))
        assert take_until(reader, 3)[-1:] == [3]
        backup.write(shape(2, 101))
        returned.write(shape(3, 1))
        assert returned.wait_for_acknowledgments(10) and backup.wait_for_acknowledgments(10)
        assert take_until(reader, 3) == [3]  # failback: the backup's sample was not delivered

        # the standby becomes the primary at run time
        backup.set_qos(ownership_strength=20)
        assert backup.qos.ownership_strength == 20
        # the reader sees the strength once the re-announcement arrived: keep writing until
        # the backup's samples are delivered, then none of the weaker writer's
        seen: list[int] = []

        def switched() -> bool:
            backup.write(shape(2, 200 + len(seen)))
            seen.extend(writers_of(reader.take(timeout=0.05)))
            return 2 in seen

        assert wait_until(switched, 10), seen
        returned.write(shape(3, 2))
        backup.write(shape(2, 999))
        assert returned.wait_for_acknowledgments(10) and backup.wait_for_acknowledgments(10)
        assert take_until(reader, 2)[-1:] == [2] and 3 not in writers_of(reader.take())


def test_set_qos_refuses_what_cannot_change(domain_id: int) -> None:
    with rtbus.Participant(domain_id, multicast=False, interface="127.0.0.1") as dp:
        w = dp.create_writer(dp.create_topic("Square", Shape), EXCLUSIVE)
        with pytest.raises(ImmutablePolicyError, match="reliability cannot change"):
            w.set_qos(reliability="best_effort")
        with pytest.raises(rtbus.errors.BadParameterError, match="not a QoS policy"):
            w.set_qos(strength=3)
        w.set_qos(ownership_strength=7, reliability="reliable")  # unchanged values are fine
        assert w.qos.ownership_strength == 7
