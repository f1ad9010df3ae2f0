"""``rtbus-shape-main``: the OMG DDS-RTPS interoperability suite's ``shape_main`` on rtbus.

The suite (github.com/omg-dds/dds-rtps) drives two ``shape_main`` executables with pexpect and
judges them by what they print, so the option letters and every output line here follow the
reference (``srcCxx/shape_main.cxx``): ``Create topic:``, ``Create writer for topic:``,
``Create reader for topic:``, the listener lines (``on_publication_matched()``,
``on_subscription_matched()``, ``on_offered_incompatible_qos()``,
``on_requested_incompatible_qos()``, ``on_offered_deadline_missed()``,
``on_requested_deadline_missed()``, ``on_liveliness_lost()``, ``on_liveliness_changed()``,
``on_inconsistent_topic()``), the coherent-set and ordered-access markers, the sample line
``"%-10s %-10s %03d %03d [%d]"`` (topic, color, x, y, shapesize) and the instance-state
lines. The suite reads any line containing "not supported" as "this implementation lacks a
feature the test needs", so that phrase is printed only when that is true.

The status lines come from the endpoints' public listeners (installed at creation with
``listeners=``), queued on the engine thread and printed by the main thread. A subscriber's
``-c <color>`` or ``--cft <expression>`` reads through a content-filtered topic named
``<topic>_filtered``, as the reference does; the printed topic name is then that name.
"""

from __future__ import annotations

import argparse
import logging
import math
import queue
import random
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from .qos import XCDR1, XCDR2, Qos
from .shape import shape_type  # the one shipped ShapeType
from .status import (
    IncompatibleQosStatus,
    InconsistentTopicStatus,
    LivelinessChangedStatus,
    LivelinessLostStatus,
    MatchedStatus,
    OfferedDeadlineMissedStatus,
    RequestedDeadlineMissedStatus,
)

EXIT_OK = 0
ERROR_PARSING_ARGUMENTS = 1
ERROR_INITIALIZING = 2
ERROR_RUNNING = 3

TYPE_NAME = "ShapeType"

#: DDS QosPolicyId_t -> the names the reference prints (shape_configurator_*.h).
POLICY_NAMES = {
    0: "INVALID", 1: "USERDATA", 2: "DURABILITY", 3: "PRESENTATION", 4: "DEADLINE",
    5: "LATENCYBUDGET", 6: "OWNERSHIP", 7: "OWNERSHIPSTRENGTH", 8: "LIVELINESS",
    9: "TIMEBASEDFILTER", 10: "PARTITION", 11: "RELIABILITY", 12: "DESTINATIONORDER",
    13: "HISTORY", 14: "RESOURCELIMITS", 15: "ENTITYFACTORY", 16: "WRITERDATALIFECYCLE",
    17: "READERDATALIFECYCLE", 18: "TOPICDATA", 19: "GROUPDATA", 20: "TRANSPORTPRIORITY",
    21: "LIFESPAN", 22: "DURABILITYSERVICE", 23: "DATAREPRESENTATION",
    24: "TYPE_CONSISTENCY_ENFORCEMENT",
}

#: the reference's names of the access scopes (QosUtils::to_string)
SCOPE_NAMES = {"instance": "INSTANCE_PRESENTATION_QOS", "topic": "TOPIC_PRESENTATION_QOS",
               "group": "GROUP_PRESENTATION_QOS"}

DA_WIDTH = 240
DA_HEIGHT = 270

USAGE = """\
   --help, -h      : print this menu
   -v [e|d]        : set log message verbosity [e: ERROR, d: DEBUG]
   -P              : publish samples
   -S              : subscribe samples
   -d <int>        : domain id (default: 0)
   -b              : BEST_EFFORT reliability
   -r              : RELIABLE reliability
   -k <depth>      : keep history depth [0: KEEP_ALL]
   -f <interval>   : set a 'deadline' with interval (ms) [0: OFF]
   -s <strength>   : set ownership strength [-1: SHARED]
   -t <topic_name> : set the topic name
   -c <color>      : set color to publish (filter if subscriber)
   -p <partition>  : set a 'partition' string
   -D [v|l|t|p]    : set durability [v: VOLATILE,  l: TRANSIENT_LOCAL]
                                     t: TRANSIENT, p: PERSISTENT]
   -x [1|2]        : set data representation [1: XCDR, 2: XCDR2]
   -w              : print Publisher's samples
   -z <int>        : set shapesize (0: increase the size for every sample)
   -R              : use 'read()' instead of 'take()'
   --write-period <ms>: waiting period between 'write()' operations in ms.
                        Default: 33ms
   --read-period <ms> : waiting period between 'read()' or 'take()' operations
                        in ms. Default: 100ms
   --time-filter <interval> : apply 'time based filter' with interval
                              in ms [0: OFF]
   --lifespan <int>      : indicates the lifespan of a sample in ms
   --num-iterations <int>: indicates the number of iterations of the main loop
                           After that, the application will exit.
                           Default: infinite
   --num-instances <int>: number of instances a DataWriter writes ("BLUE",
                          "BLUE1", "BLUE2"...)
   --num-topics <int>: number of topics (and writers or readers) created
                       ("Square", "Square1", "Square2"...)
   --final-instance-state [u|d]: unregister or dispose the instances at the end
   --access-scope [i|t|g]: sets Presentation.access_scope to INSTANCE, TOPIC
                           or GROUP
   --coherent            : sets Presentation.coherent_access = true
   --ordered             : sets Presentation.ordered_access = true
   --coherent-sample-count <int>: samples per writer and instance grouped in
                                  a coherent set
   --additional-payload-size <bytes>: bytes added to the samples written
   --take-read           : uses take()/read() instead of take_next_instance()
                           read_next_instance()
   --periodic-announcement <ms> : participant announcement period in ms
                                  (rtbus: ignored, with a warning)
   --datafrag-size <bytes> : data fragment size (rtbus: ignored, with a warning)
   --cft <expression> : ContentFilteredTopic filter expression (quotes
                        required around the expression). Cannot be used with
                        -c on subscriber applications
   --size-modulo <int> : modulo applied to an increasing shapesize (-z 0),
                         which then stays in [1, N]
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # the reference prints usage and exits 1
        print(message)
        print_usage(self.prog)
        sys.exit(ERROR_PARSING_ARGUMENTS)


def print_usage(prog: str) -> None:
    print(f"{prog}: ")
    print(USAGE, end="")


@dataclass
class Options:
    publish: bool = False
    subscribe: bool = False
    domain_id: int = 0
    reliable: bool = True
    history_depth: int = -1  # -1 default (keep_last 1), 0 keep_all
    deadline_ms: int = 0
    ownership_strength: int = -1
    topic_name: str | None = None
    color: str | None = None
    partition: str | None = None
    durability: str = "volatile"
    data_representation: int = XCDR1
    print_writer_samples: bool = False
    shapesize: int = 20
    use_read: bool = False  # -R: read (read_next_instance) instead of take
    #: False with --take-read: one take()/read() per period instead of instance by instance
    take_read_next_instance: bool = True
    write_period_ms: int = 33
    read_period_ms: int = 100
    time_filter_ms: int = 0
    lifespan_ms: int = 0
    num_iterations: int = 0
    num_instances: int = 1
    num_topics: int = 1
    final_instance_state: str | None = None
    access_scope: str = "instance"
    access_scope_set: bool = False
    coherent: bool = False
    ordered: bool = False
    coherent_sample_count: int = 0
    additional_payload_size: int = 0
    periodic_announcement_ms: int = 0
    datafrag_size: int = 0
    cft_expression: str | None = None
    size_modulo: int = 0
    debug: bool = False
    ignored: list[str] = field(default_factory=list)


def _int(name: str, low: int | None = None, high: int | None = None,
         message: str | None = None) -> Any:
    """An int option; below ``low`` or above ``high`` is refused with the reference's text."""
    def conv(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"unrecognized value for {name} {text}") from None
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(
                message or (f"incorrect value for {name} (less than zero)" if low == 0
                            else f"incorrect value for {name}, it must be >= {low}"))
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(message or f"incorrect value for {name}, it "
                                             f"must be <= {high}")
        return value
    return conv


def _choice(name: str, table: dict[str, Any]) -> Any:
    def conv(text: str) -> Any:
        if text[:1] not in table:
            raise argparse.ArgumentTypeError(f"unrecognized value for {name} {text}")
        return table[text[:1]]
    return conv


def parse_args(argv: list[str]) -> Options:
    """The reference's getopt options; unknown options are reported and ignored."""
    p = _Parser(prog="rtbus-shape-main", add_help=False, allow_abbrev=False)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("-v", type=_choice("verbosity", {"e": False, "d": True}), dest="debug",
                   default=False)
    p.add_argument("-P", action="store_true", dest="publish")
    p.add_argument("-S", action="store_true", dest="subscribe")
    p.add_argument("-d", type=_int("domain_id", 0), dest="domain_id", default=0)
    p.add_argument("-b", action="store_false", dest="reliable", default=True)
    p.add_argument("-r", action="store_true", dest="reliable")
    p.add_argument("-k", type=_int("history_depth", 0), dest="history_depth", default=-1)
    p.add_argument("-f", type=_int("deadline_interval", 0), dest="deadline_ms", default=0)
    p.add_argument("-s", type=_int("ownership_strength", -1), dest="ownership_strength",
                   default=-1)
    p.add_argument("-t", dest="topic_name")
    p.add_argument("-c", dest="color")
    p.add_argument("-p", dest="partition")
    p.add_argument("-D", dest="durability", default="volatile", type=_choice(
        "durability", {"v": "volatile", "l": "transient_local", "t": "transient",
                       "p": "persistent"}))
    p.add_argument("-x", dest="data_representation", default=XCDR1,
                   type=_choice("data representation", {"1": XCDR1, "2": XCDR2}))
    p.add_argument("-w", action="store_true", dest="print_writer_samples")
    p.add_argument("-z", type=_int("shapesize", 0), dest="shapesize", default=20)
    p.add_argument("-R", action="store_true", dest="use_read")
    p.add_argument("--write-period", type=_int("write-period", 0), dest="write_period_ms",
                   default=33)
    p.add_argument("--read-period", type=_int("read-period", 0), dest="read_period_ms",
                   default=100)
    p.add_argument("--time-filter", type=_int("timebasedfilter_interval", 0),
                   dest="time_filter_ms", default=0)
    p.add_argument("--lifespan", type=_int("lifespan", 0), dest="lifespan_ms", default=0)
    p.add_argument("--num-iterations", type=_int("num-iterations", 1),
                   dest="num_iterations", default=0)
    p.add_argument("--num-instances", type=_int("num-instances", 1),
                   dest="num_instances", default=1)
    p.add_argument("--num-topics", type=_int("num-topics", 1), dest="num_topics",
                   default=1)
    p.add_argument("--final-instance-state", dest="final_instance_states", action="append",
                   type=_choice("final-instance-state", {"u": "unregister", "d": "dispose"}))
    p.add_argument("--access-scope", dest="access_scope", default=None,
                   type=_choice("access-scope", {"i": "instance", "t": "topic", "g": "group"}))
    p.add_argument("--coherent", action="store_true")
    p.add_argument("--ordered", action="store_true")
    p.add_argument("--coherent-sample-count", type=_int("coherent-sample-count", 2),
                   dest="coherent_sample_count", default=0)
    p.add_argument("--additional-payload-size", type=_int("additional-payload-size", 1),
                   dest="additional_payload_size", default=0)
    p.add_argument("--take-read", action="store_true")
    p.add_argument("--periodic-announcement", type=_int("periodic-announcement", 0),
                   dest="periodic_announcement_ms", default=0)
    p.add_argument("--datafrag-size", type=_int("datafrag-size", 0, 65535),
                   dest="datafrag_size", default=0)
    p.add_argument("--cft", dest="cft_expression")
    p.add_argument("--size-modulo", type=_int("size-modulo", 1,
                                              message="incorrect value for size-modulo, "
                                                      "must be >=1"),
                   dest="size_modulo", default=0)
    ns, unknown = p.parse_known_args(argv)
    if ns.help:
        print_usage(p.prog)
        sys.exit(EXIT_OK)
    opts = Options()
    for name in vars(opts):
        if hasattr(ns, name) and getattr(ns, name) is not None:
            setattr(opts, name, getattr(ns, name))
    opts.take_read_next_instance = not ns.take_read
    if ns.access_scope is not None:
        opts.access_scope, opts.access_scope_set = ns.access_scope, True
    states = set(ns.final_instance_states or ())
    if len(states) > 1:
        print("error, cannot configure unregister and dispose at the same time")
        print_usage(p.prog)
        sys.exit(ERROR_PARSING_ARGUMENTS)
    opts.final_instance_state = states.pop() if states else None
    for extra in unknown:
        print(f"warning: option {extra} not supported, ignored")
    # rtbus has no public setting for these: accepted, said so, and otherwise ignored
    if opts.periodic_announcement_ms > 0:
        opts.ignored.append("--periodic-announcement")
        print("warning: --periodic-announcement not supported by rtbus (no public setting "
              "for the SPDP announcement period), ignored")
    if opts.datafrag_size > 0:
        opts.ignored.append("--datafrag-size")
        print("warning: --datafrag-size not supported by rtbus (no public setting for the "
              "fragment size), ignored")
    if not _validate(opts):
        print_usage(p.prog)
        sys.exit(ERROR_PARSING_ARGUMENTS)
    return opts


def _validate(o: Options) -> bool:
    """The reference's checks and warnings, same wording."""
    if o.topic_name is None:
        print("please specify topic name [-t]")
        return False
    if not o.publish and not o.subscribe:
        print("please specify publish [-P] or subscribe [-S]")
        return False
    if o.publish and o.subscribe:
        print("please specify only one of: publish [-P] or subscribe [-S]")
        return False
    if o.publish and o.color is None:
        o.color = "BLUE"
        print('warning: color was not specified, defaulting to "BLUE"')
    if o.publish and o.time_filter_ms > 0:
        print("warning: time base filter [--time-filter] ignored on publisher applications")
    if o.publish and o.use_read:
        print("warning: use read [-R] ignored on publisher applications")
    if o.publish and not o.take_read_next_instance:
        print("warning: --take-read ignored on publisher applications")
    if o.publish and o.cft_expression is not None:
        print("warning: --cft ignored on publisher applications")
    if o.subscribe and o.shapesize != 20:
        print("warning: shapesize [-z] ignored on subscriber applications")
    if o.subscribe and o.lifespan_ms > 0:
        print("warning: --lifespan ignored on subscriber applications")
    if o.subscribe and o.num_instances > 1:
        print("warning: --num-instances ignored on subscriber applications")
    if o.subscribe and o.final_instance_state is not None:
        print("warning: --final-instance-state ignored on subscriber applications")
    if o.subscribe and o.coherent_sample_count > 0:
        print("warning: --coherent-sample-count ignored on subscriber applications")
    if not o.coherent and not o.ordered and o.coherent_sample_count:
        print("warning: --coherent-sample-count ignored because not coherent, or ordered "
              "access enabled")
    if o.subscribe and o.additional_payload_size > 0:
        print("warning: --additional-payload-size ignored on subscriber applications")
    if not o.coherent and not o.ordered and o.access_scope_set:
        print("warning: --access-scope set but not coherent, or ordered access enabled")
    if o.size_modulo > 0 and o.shapesize != 0:
        print("warning: --size-modulo has no effect unless shapesize (-z) is set to 0")
    if o.subscribe and o.color is not None and o.cft_expression is not None:
        print("error: cannot specify both --cft and -c for subscriber applications")
        return False
    return True


def print_options(o: Options) -> None:
    """``-v d``: the options as the reference lists them."""
    reading = ("read" if o.use_read else "take") + (
        "_next_instance" if o.take_read_next_instance else "")
    final = {"unregister": "Unregister", "dispose": "Dispose", None: "not specified"}
    lines = [
        "Shape Options: ",
        f"    Verbosity = {'DEBUG' if o.debug else 'ERROR'}",
        f"    This application is a {'publisher' if o.publish else 'subscriber'}",
        f"    DomainId = {o.domain_id}",
        f"    ReliabilityKind = {'RELIABLE' if o.reliable else 'BEST_EFFORT'}",
        f"    DurabilityKind = {o.durability.upper()}",
        f"    DataRepresentation = {'XCDR2' if o.data_representation == XCDR2 else 'XCDR'}",
        f"    HistoryDepth = {o.history_depth}",
        f"    OwnershipStrength = {o.ownership_strength}",
        f"    TimeBasedFilterInterval = {o.time_filter_ms}ms",
        f"    DeadlineInterval = {o.deadline_ms}ms",
        f"    Shapesize = {o.shapesize}",
        f"    Reading method = {reading}",
        f"    Write period = {o.write_period_ms}ms",
        f"    Read period = {o.read_period_ms}ms",
        f"    Lifespan = {o.lifespan_ms}ms",
        f"    Number of iterations = {o.num_iterations}",
        f"    Number of instances = {o.num_instances}",
        f"    Number of entities = {o.num_topics}",
        f"    Coherent sets = {str(o.coherent).lower()}",
        f"    Ordered access = {str(o.ordered).lower()}",
        f"    Access Scope = {SCOPE_NAMES[o.access_scope]}",
        f"    Coherent Sample Count = {o.coherent_sample_count}",
        f"    Additional Payload Size = {o.additional_payload_size}",
        f"    Final Instance State = {final[o.final_instance_state]}",
        f"    Periodic Announcement Period = {o.periodic_announcement_ms}ms",
        f"    Data Fragmentation Size = {o.datafrag_size} bytes",
        f"    Topic = {o.topic_name}",
    ]
    if o.color is not None:
        lines.append(f"    Color = {o.color}")
    if o.partition is not None:
        lines.append(f"    Partition = {o.partition}")
    if o.cft_expression is not None:
        lines.append(f"    ContentFilterTopic = \"{o.cft_expression}\"")
    print("\n".join(lines))


# --- QoS --------------------------------------------------------------------------------------

def presentation(o: Options) -> tuple[str, bool, bool]:
    """PRESENTATION as the reference sets it: the access scope only counts with coherent or
    ordered access (``--access-scope`` alone leaves INSTANCE)."""
    scope = o.access_scope if o.coherent or o.ordered else "instance"
    return (scope, o.coherent, o.ordered)


def endpoint_qos(o: Options, role: str) -> Qos:
    if o.history_depth < 0:
        history: Any = ("keep_last", 1)
    elif o.history_depth == 0:
        history = "keep_all"
    else:
        history = ("keep_last", o.history_depth)
    kw: dict[str, Any] = dict(
        reliability="reliable" if o.reliable else "best_effort",
        durability=o.durability,
        history=history,
        data_representation=(o.data_representation,),
        partition=(o.partition,) if o.partition is not None else (),
        presentation=presentation(o),
    )
    if o.reliable:
        kw["max_blocking_time"] = math.inf if role == "writer" else 0.1
    if o.deadline_ms > 0:
        kw["deadline"] = o.deadline_ms / 1000
    if o.ownership_strength != -1:
        kw["ownership"] = "exclusive"
        if role == "writer":
            kw["ownership_strength"] = o.ownership_strength
    if role == "writer" and o.lifespan_ms > 0:
        kw["lifespan"] = o.lifespan_ms / 1000
    if role == "writer" and o.final_instance_state == "unregister":
        # the reference: an unregister must leave the instance NOT_ALIVE_NO_WRITERS
        kw["autodispose_unregistered_instances"] = False
    if role == "reader" and o.time_filter_ms > 0:
        kw["time_based_filter"] = o.time_filter_ms / 1000
    return Qos(**kw)


# --- status lines -----------------------------------------------------------------------------

class StatusPrinter:
    """Turns the endpoints' status listeners into the reference's listener lines.

    The listeners run on the engine thread and only queue; ``drain`` prints in the main thread.
    """

    def __init__(self) -> None:
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def listeners(self, role: str, topic: str) -> dict[str, Any]:
        """The ``listeners=`` for one endpoint of ``topic`` (``role``: writer or reader;
        ``topic`` the name the reference prints: a reader's topic description)."""
        head = f"topic: '{topic}'  type: '{TYPE_NAME}'"
        put = self.lines.put

        def matched(fn: str, what: str) -> Any:
            def on_matched(_ep: Any, st: MatchedStatus) -> None:
                put(f"{fn}() {head} : {what} {st.current_count} "
                    f"(change = {st.current_count_change})")
            return on_matched

        def incompatible(fn: str) -> Any:
            def on_incompatible(_ep: Any, st: IncompatibleQosStatus) -> None:
                policy = st.last_policy_id
                put(f"{fn}() {head} : {policy} ({POLICY_NAMES.get(policy, 'UNKNOWN')})")
            return on_incompatible

        def counted(fn: str) -> Any:
            def on_counted(_ep: Any, st: OfferedDeadlineMissedStatus
                           | RequestedDeadlineMissedStatus | LivelinessLostStatus) -> None:
                put(f"{fn}() {head} : (total = {st.total_count}, "
                    f"change = {st.total_count_change})")
            return on_counted

        def on_liveliness_changed(_ep: Any, st: LivelinessChangedStatus) -> None:
            put(f"on_liveliness_changed() {head} : (alive = {st.alive_count}, "
                f"not_alive = {st.not_alive_count})")

        def on_inconsistent_topic(_ep: Any, _st: InconsistentTopicStatus) -> None:
            put(f"on_inconsistent_topic() {head}")

        if role == "writer":
            return {
                "on_publication_matched": matched("on_publication_matched", "matched readers"),
                "on_offered_incompatible_qos": incompatible("on_offered_incompatible_qos"),
                "on_offered_deadline_missed": counted("on_offered_deadline_missed"),
                "on_liveliness_lost": counted("on_liveliness_lost"),
                "on_inconsistent_topic": on_inconsistent_topic,
            }
        return {
            "on_subscription_matched": matched("on_subscription_matched", "matched writers"),
            "on_requested_incompatible_qos": incompatible("on_requested_incompatible_qos"),
            "on_requested_deadline_missed": counted("on_requested_deadline_missed"),
            "on_liveliness_changed": on_liveliness_changed,
            "on_inconsistent_topic": on_inconsistent_topic,
        }

    def drain(self) -> None:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            _out(line)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def sample_line(topic: str, shape: Any) -> str:
    # the reference's printf("%-10s %-10s %03d %03d [%d]")
    line = f"{topic:<10} {shape.color:<10} {shape.x:03d} {shape.y:03d} [{shape.shapesize}]"
    payload = shape.additional_payload_size
    if len(payload) > 0:
        line += f" {{{int(payload[-1])}}}"
    return line


def by_instance(got: list[Any]) -> list[Any]:
    """``take_next_instance``/``read_next_instance`` called until NO_DATA, at one instant:
    the samples instance after instance (in instance-handle order), each instance's in the
    order the reader keeps them."""
    groups: dict[bytes, list[Any]] = {}
    for s in got:
        groups.setdefault(s.info.instance_handle, []).append(s)
    return [s for handle in sorted(groups) for s in groups[handle]]


# --- the application --------------------------------------------------------------------------

class ShapeApp:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.done = threading.Event()
        self.status = StatusPrinter()
        self.participant: Any = None
        self.writers: list[tuple[str, Any]] = []
        self.readers: list[tuple[str, Any]] = []

    def topic_names(self) -> list[str]:
        base = self.opts.topic_name or ""
        return [base if i == 0 else f"{base}{i}" for i in range(self.opts.num_topics)]

    def init(self) -> bool:
        from .participant import Participant

        o = self.opts
        Shape = shape_type()
        self.shape_cls = Shape
        self.participant = Participant(o.domain_id)
        topics = []
        for name in self.topic_names():
            _out(f"Create topic: {name}")
            topics.append((name, self.participant.create_topic(name, Shape)))
        if o.publish:
            qos = endpoint_qos(o, "writer")
            for name, topic in topics:
                _out(f"Create writer for topic: {name} color: {o.color}")
                w = self.participant.create_writer(
                    topic, qos, listeners=self.status.listeners("writer", name))
                self.writers.append((name, w))
        else:
            qos = endpoint_qos(o, "reader")
            for name, topic in topics:
                described: Any = topic
                if o.cft_expression is not None or o.color is not None:
                    # the reference: "color = %0" with the color quoted as a string literal
                    expression, params = ((o.cft_expression, []) if o.cft_expression is not None
                                          else ("color = %0", [f"'{o.color}'"]))
                    try:
                        described = self.participant.create_content_filtered_topic(
                            f"{name}_filtered", topic, expression, params)
                    except Exception as exc:
                        _out(f"failed to create content filtered topic: {exc}")
                        return False
                _out(f"Create reader for topic: {described.name}")
                r = self.participant.create_reader(
                    described, qos, listeners=self.status.listeners("reader", described.name))
                self.readers.append((described.name, r))
        self.status.drain()
        return True

    def run_publisher(self) -> None:
        o = self.opts
        rng = random.Random()
        color = o.color or "BLUE"
        shape = self.shape_cls(color=color, x=rng.randrange(DA_WIDTH),
                               y=rng.randrange(DA_HEIGHT), shapesize=o.shapesize,
                               additional_payload_size=b"\xff" * o.additional_payload_size)
        xvel = rng.randint(1, 5) * rng.choice((-1, 1))
        yvel = rng.randint(1, 5) * rng.choice((-1, 1))
        colors = [color if j == 0 else f"{color}{j}" for j in range(o.num_instances)]
        # coherent sets of --coherent-sample-count iterations: marked as the reference marks
        # them; rtbus has no begin/end_coherent_changes, so the samples go out one by one
        sets = o.coherent_sample_count if (o.coherent or o.ordered) else 0
        n = 0
        while not self.done.is_set():
            # moveShape(): bounce inside the drawing area
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
                _out("Started Coherent Set")
            for name, w in self.writers:
                for c in colors:
                    shape.color = c
                    w.write(shape)
                    if o.print_writer_samples:
                        _out(sample_line(name, shape))
            if sets and n % sets == sets - 1:
                _out("Finished Coherent Set")
            self.status.drain()
            self.done.wait(o.write_period_ms / 1000)
            self.status.drain()
            n += 1
            if o.num_iterations and n >= o.num_iterations:
                break
        if o.final_instance_state is not None:
            for _name, w in self.writers:
                for c in colors:
                    shape.color = c
                    if o.final_instance_state == "unregister":
                        w.unregister(shape)
                    else:
                        w.dispose(shape)
        for _name, w in self.writers:
            w.wait_for_acknowledgments(1.0)
        self.status.drain()

    def run_subscriber(self) -> None:
        from .rtps.instances import InstanceState

        o = self.opts
        colors: dict[bytes, str] = {}  # instance handle -> color, to name a gone instance
        n = 0
        while not self.done.is_set():
            self.status.drain()
            if o.coherent:
                _out(f"Reading coherent sets, iteration {n}")
            if o.ordered:
                _out(f"Reading with ordered access, iteration {n}")
            for name, r in self.readers:
                got = r.read() if o.use_read else r.take()
                if o.take_read_next_instance:
                    got = by_instance(got)
                for s in got:
                    info = s.info
                    if info.valid_data:
                        colors[info.instance_handle] = s.data.color
                        _out(sample_line(name, s.data))
                    if info.instance_state == InstanceState.ALIVE:
                        continue
                    color = s.data.color or colors.get(info.instance_handle, "")
                    if info.instance_state == InstanceState.NOT_ALIVE_NO_WRITERS:
                        _out(f"{name:<10} {color:<10} NOT_ALIVE_NO_WRITERS_INSTANCE_STATE")
                    elif info.instance_state == InstanceState.NOT_ALIVE_DISPOSED:
                        _out(f"{name:<10} {color:<10} NOT_ALIVE_DISPOSED_INSTANCE_STATE")
            self.status.drain()
            n += 1
            if o.num_iterations and n >= o.num_iterations:
                break
            self.done.wait(o.read_period_ms / 1000)
        self.status.drain()

    def close(self) -> None:
        if self.participant is not None:
            self.participant.close()


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    if opts.debug:
        logging.basicConfig(level=logging.DEBUG)
        print_options(opts)
    app = ShapeApp(opts)

    def stop(signum: int, frame: Any) -> None:
        app.done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        try:
            if not app.init():
                return ERROR_INITIALIZING
        except Exception as exc:
            print(f"failed to initialize: {exc}")
            return ERROR_INITIALIZING
        try:
            if opts.publish:
                app.run_publisher()
            else:
                app.run_subscriber()
        except Exception as exc:
            print(f"error while running: {exc}")
            return ERROR_RUNNING
    finally:
        app.close()
        sys.stdout.flush()
    print("Done.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
