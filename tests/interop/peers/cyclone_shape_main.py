"""The dds-rtps suite's ``shape_main`` on Cyclone DDS (the cyclonedds Python binding).

The reference peer for ``rtbus-shape-main``: same command line (parsed by
:func:`rtbus.shape_main.parse_args`, so both tools accept exactly the same options) and the
same output lines, but every DDS entity and every status line comes from Cyclone DDS (its
listeners print the ``on_*()`` lines, as the suite's C ``shape_main`` does). Runs as its own
process: ``python tests/interop/peers/cyclone_shape_main.py -P -t Square ...``.

Where the suite's C ``shape_main`` (srcC/shape_main.c) and this one differ:

* ``-c`` / ``--cft`` on a subscriber filter each sample after ``take``/``read`` (the C one
  sets a Cyclone topic filter for ``-c`` and refuses ``--cft``). A Cyclone topic filter
  written in Python is called on Cyclone's receive thread, which then needs the GIL while
  holding the reader's history lock: with this process's ``take`` holding the GIL and
  waiting for that lock, both stop (seen as a subscriber that goes silent in the suite's
  Test_Cft_1). ``--cft`` expressions are evaluated by :mod:`rtbus.content_filter`, as
  Cyclone has no SQL filter parser. A NOT_ALIVE line is printed only for an instance whose
  data passed. The sample lines name the topic, not ``<topic>_filtered``, as the C one does.
* ``--coherent`` / ``--ordered`` set Cyclone's PRESENTATION (the C one refuses them);
  coherent sets of ``--coherent-sample-count`` call ``begin/end_coherent`` on the publisher,
  which the cyclonedds 11 binding refuses (DDS_RETCODE_UNSUPPORTED): a warning, then the
  samples go one by one.
* ``take_next_instance`` / ``read_next_instance`` (the default) is one ``take``/``read``
  whose samples are then ordered instance after instance; ``--take-read`` keeps Cyclone's
  order.
"""

# no "from __future__ import annotations": cyclonedds resolves the field types at runtime
import random
import signal
import sys
import threading

from cyclone_shape import ShapeType
from cyclonedds.core import DDSException, InstanceState, Listener, Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from rtbus.content_filter import compile_filter
from rtbus.shape import shape_type
from rtbus.shape_main import (
    DA_HEIGHT,
    DA_WIDTH,
    POLICY_NAMES,
    TYPE_NAME,
    Options,
    parse_args,
    presentation,
    sample_line,
)

_print_lock = threading.Lock()
MAX_SAMPLES = 5000  # per take/read: more than any suite case keeps

#: Cyclone numbers its policy ids past LIFESPAN its own way (dds_qos_policy_id_t:
#: 23 PROPERTY, 24 TYPE_CONSISTENCY_ENFORCEMENT, 25 DATA_REPRESENTATION).
CYCLONE_POLICY_NAMES = {**POLICY_NAMES, 23: "PROPERTY", 24: "TYPE_CONSISTENCY_ENFORCEMENT",
                        25: "DATAREPRESENTATION"}


def out(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class ShapeListener(Listener):
    """Prints the reference's listener lines for the statuses the suite looks for."""

    def __init__(self, topic_name: str) -> None:
        super().__init__()
        self.topic_name = topic_name

    def _head(self, fn: str) -> str:
        return f"{fn}() topic: '{self.topic_name}'  type: '{TYPE_NAME}'"

    def on_publication_matched(self, writer, status) -> None:
        out(f"{self._head('on_publication_matched')} : matched readers "
            f"{status.current_count} (change = {status.current_count_change})")

    def on_subscription_matched(self, reader, status) -> None:
        out(f"{self._head('on_subscription_matched')} : matched writers "
            f"{status.current_count} (change = {status.current_count_change})")

    def on_offered_incompatible_qos(self, writer, status) -> None:
        pid = status.last_policy_id
        out(f"{self._head('on_offered_incompatible_qos')} : {pid} "
            f"({CYCLONE_POLICY_NAMES.get(pid, 'UNKNOWN')})")

    def on_requested_incompatible_qos(self, reader, status) -> None:
        pid = status.last_policy_id
        out(f"{self._head('on_requested_incompatible_qos')} : {pid} "
            f"({CYCLONE_POLICY_NAMES.get(pid, 'UNKNOWN')})")

    def on_offered_deadline_missed(self, writer, status) -> None:
        out(f"{self._head('on_offered_deadline_missed')} : (total = {status.total_count}, "
            f"change = {status.total_count_change})")

    def on_requested_deadline_missed(self, reader, status) -> None:
        out(f"{self._head('on_requested_deadline_missed')} : (total = {status.total_count}, "
            f"change = {status.total_count_change})")

    def on_liveliness_lost(self, writer, status) -> None:
        out(f"{self._head('on_liveliness_lost')} : (total = {status.total_count}, "
            f"change = {status.total_count_change})")

    def on_liveliness_changed(self, reader, status) -> None:
        out(f"{self._head('on_liveliness_changed')} : (alive = {status.alive_count}, "
            f"not_alive = {status.not_alive_count})")

    def on_inconsistent_topic(self, topic, status) -> None:
        out(self._head("on_inconsistent_topic"))


def group_qos(o: Options) -> Qos | None:
    """The publisher's or subscriber's QoS: partition and, with coherent or ordered access,
    PRESENTATION (as the reference sets it)."""
    policies = []
    if o.partition is not None:
        policies.append(Policy.Partition([o.partition]))
    if o.coherent or o.ordered:
        scope, coherent, ordered = presentation(o)
        kind = {"instance": Policy.PresentationAccessScope.Instance,
                "topic": Policy.PresentationAccessScope.Topic,
                "group": Policy.PresentationAccessScope.Group}[scope]
        policies.append(kind(coherent, ordered))
    return Qos(*policies) if policies else None


def content_filter(o: Options):
    """The subscriber's filter for -c or --cft (sample -> bool), or None."""
    if o.cft_expression is not None:
        admits = compile_filter(o.cft_expression, (), shape_type().__rtbus_type__)
    elif o.color is not None:
        color = o.color

        def admits(s) -> bool:
            return s.color == color
    else:
        return None
    return admits


def _coherent(call) -> bool:
    """begin/end_coherent; False (said once) if this Cyclone build refuses it (the
    cyclonedds 11 binding answers DDS_RETCODE_UNSUPPORTED): samples then go one by one."""
    try:
        call()
        return True
    except DDSException as exc:
        out(f"warning: Cyclone DDS {call.__name__}(): {exc}; writing sample by sample")
        return False


def take_all(reader) -> list:
    """One take of everything there (the reference takes until NO_DATA: a second take can
    catch the first samples of the next write burst, which made --take-read's order look
    mixed in the suite's Test_OrderedAccess_17)."""
    return reader.take(N=MAX_SAMPLES)


def by_instance(got: list) -> list:
    """take/read_next_instance until NO_DATA, at one instant: instance after instance."""
    groups: dict = {}
    for s in got:
        groups.setdefault(s.sample_info.instance_handle, []).append(s)
    return [s for handle in sorted(groups) for s in groups[handle]]


def endpoint_qos(o: Options, role: str) -> Qos:
    policies = [
        Policy.Reliability.Reliable(duration(seconds=10)) if o.reliable
        else Policy.Reliability.BestEffort,
        {"volatile": Policy.Durability.Volatile,
         "transient_local": Policy.Durability.TransientLocal,
         "transient": Policy.Durability.Transient,
         "persistent": Policy.Durability.Persistent}[o.durability],
        Policy.DataRepresentation(use_cdrv0_representation=o.data_representation == 0,
                                  use_xcdrv2_representation=o.data_representation == 2),
    ]
    if o.history_depth < 0:
        history = Policy.History.KeepLast(1)
    elif o.history_depth == 0:
        history = Policy.History.KeepAll
    else:
        history = Policy.History.KeepLast(o.history_depth)
    policies.append(history)
    # as the reference C shape_main: Cyclone keeps transient-local data per DurabilityService
    policies.append(Policy.DurabilityService(0, history, -1, -1, -1))
    if o.deadline_ms > 0:
        policies.append(Policy.Deadline(duration(milliseconds=o.deadline_ms)))
    if o.ownership_strength != -1:
        policies.append(Policy.Ownership.Exclusive)
        if role == "writer":
            policies.append(Policy.OwnershipStrength(o.ownership_strength))
    if role == "writer" and o.lifespan_ms > 0:
        policies.append(Policy.Lifespan(duration(milliseconds=o.lifespan_ms)))
    if role == "writer" and o.final_instance_state == "unregister":
        policies.append(Policy.WriterDataLifecycle(autodispose=False))
    if role == "reader" and o.time_filter_ms > 0:
        policies.append(Policy.TimeBasedFilter(duration(milliseconds=o.time_filter_ms)))
    return Qos(*policies)


def main() -> int:
    o = parse_args(sys.argv[1:])
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    dp = DomainParticipant(o.domain_id)
    names = [o.topic_name if i == 0 else f"{o.topic_name}{i}" for i in range(o.num_topics)]
    topics = []
    for name in names:
        out(f"Create topic: {name}")
        topics.append((name, Topic(dp, name, ShapeType)))

    if o.publish:
        pub = Publisher(dp, qos=group_qos(o))
        writers = []
        for name, topic in topics:
            out(f"Create writer for topic: {name} color: {o.color}")
            writers.append((name, DataWriter(pub, topic, qos=endpoint_qos(o, "writer"),
                                             listener=ShapeListener(name))))
        rng = random.Random()
        shape = ShapeType(o.color, rng.randrange(DA_WIDTH), rng.randrange(DA_HEIGHT),
                          o.shapesize, [255] * o.additional_payload_size)
        xvel = rng.randint(1, 5) * rng.choice((-1, 1))
        yvel = rng.randint(1, 5) * rng.choice((-1, 1))
        colors = [o.color if j == 0 else f"{o.color}{j}" for j in range(o.num_instances)]
        sets = o.coherent_sample_count if (o.coherent or o.ordered) else 0
        coherent = True  # until Cyclone refuses begin/end_coherent
        n = 0
        while not done.is_set():
            shape.x += xvel
            shape.y += yvel
            if shape.x < 0:
                shape.x, xvel = 0, -xvel
            if shape.x > DA_WIDTH:
                shape.x, xvel = DA_WIDTH, -xvel
            if shape.y < 0:
                shape.y, yvel = 0, -yvel
            if shape.y > DA_HEIGHT:
                shape.y, yvel = DA_HEIGHT, -yvel
            if o.shapesize == 0:
                shape.shapesize = (shape.shapesize % o.size_modulo + 1 if o.size_modulo > 0
                                   else shape.shapesize + 1)
            if sets and n % sets == 0:
                out("Started Coherent Set")
                coherent = coherent and _coherent(pub.begin_coherent)
            for name, w in writers:
                for c in colors:
                    shape.color = c
                    w.write(shape)
                    if o.print_writer_samples:
                        out(sample_line(name, shape))
            if sets and n % sets == sets - 1:
                out("Finished Coherent Set")
                coherent = coherent and _coherent(pub.end_coherent)
            done.wait(o.write_period_ms / 1000)
            n += 1
            if o.num_iterations and n >= o.num_iterations:
                break
        if o.final_instance_state is not None:
            for _name, w in writers:
                for c in colors:
                    shape.color = c
                    if o.final_instance_state == "unregister":
                        w.unregister_instance(shape)
                    else:
                        w.dispose(shape)
        for _name, w in writers:
            try:
                w.wait_for_acks(duration(seconds=1))
            except Exception:
                pass
    else:
        sub = Subscriber(dp, qos=group_qos(o))
        admits = content_filter(o)
        readers = []
        for name, topic in topics:
            shown = f"{name}_filtered" if admits is not None else name
            out(f"Create reader for topic: {shown}")
            readers.append((name, DataReader(sub, topic, qos=endpoint_qos(o, "reader"),
                                             listener=ShapeListener(name))))
        colors_by_handle: dict = {}
        n = 0
        while not done.is_set():
            if o.coherent:
                out(f"Reading coherent sets, iteration {n}")
            if o.ordered:
                out(f"Reading with ordered access, iteration {n}")
            for name, r in readers:
                got = r.read(N=MAX_SAMPLES) if o.use_read else take_all(r)
                if o.take_read_next_instance:
                    got = by_instance(got)
                for s in got:
                    info = s.sample_info
                    if info.valid_data:
                        if admits is not None and not admits(s):
                            continue
                        colors_by_handle[info.instance_handle] = s.color
                        out(sample_line(name, s))
                    color = colors_by_handle.get(info.instance_handle)
                    if color is None:
                        continue
                    if info.instance_state == InstanceState.NotAliveNoWriters:
                        out(f"{name:<10} {color:<10} NOT_ALIVE_NO_WRITERS_INSTANCE_STATE")
                    elif info.instance_state == InstanceState.NotAliveDisposed:
                        out(f"{name:<10} {color:<10} NOT_ALIVE_DISPOSED_INSTANCE_STATE")
            n += 1
            if o.num_iterations and n >= o.num_iterations:
                break
            done.wait(o.read_period_ms / 1000)
    out("Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
