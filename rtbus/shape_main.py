"""``rtbus-shape-main``: the OMG DDS-RTPS interoperability suite's ``shape_main`` on rtbus.

The suite (github.com/omg-dds/dds-rtps) drives two ``shape_main`` executables with pexpect and
judges them by what they print, so the option letters and every output line here follow the
reference sources (``srcCxx/shape_main.cxx``, ``srcC/shape_main.c``) exactly:
``Create topic:``, ``Create writer for topic:``, ``Create reader for topic:``, the
``on_publication_matched()`` / ``on_subscription_matched()`` /
``on_offered_incompatible_qos()`` / ``on_requested_incompatible_qos()`` status lines, and the
sample line ``"%-10s %-10s %03d %03d [%d]"`` (topic, color, x, y, shapesize).

The status lines come from the endpoints' public status listeners (installed at creation
with ``listeners=``), queued on the engine thread and printed by the main thread.
Content filtering (``-c`` on a subscriber) is done here, after ``take``.
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
from .status import IncompatibleQosStatus, MatchedStatus

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
   -R              : use 'read()' instead of 'take()' (not supported: take() is used)
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
   --num-instances <int>: indicates the number of instances a DataWriter writes
   --num-topics <int>: indicates the number of topics created (using the same type)
   --final-instance-state [u|d]: unregister or dispose the instances at the end
   --access-scope [i|t|g]: sets Presentation.access_scope to INSTANCE, TOPIC or GROUP
   --coherent            : sets Presentation.coherent_access = true
   --ordered             : sets Presentation.ordered_access = true
   --coherent-sample-count <int>: (accepted, ignored)
   --additional-payload-size <bytes>: bytes added to the samples written
   --take-read           : (accepted: rtbus always uses take())
   --periodic-announcement <ms> : (accepted, ignored)
   --datafrag-size <bytes> : (accepted, ignored)
   --cft <expression> : (accepted, ignored: not supported)
   --size-modulo <int> : modulo applied to an increasing shapesize (-z 0)
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
    use_read: bool = False
    write_period_ms: int = 33
    read_period_ms: int = 100
    time_filter_ms: int = 0
    lifespan_ms: int = 0
    num_iterations: int = 0
    num_instances: int = 1
    num_topics: int = 1
    final_instance_state: str | None = None
    access_scope: str = "instance"
    coherent: bool = False
    ordered: bool = False
    additional_payload_size: int = 0
    size_modulo: int = 0
    debug: bool = False
    ignored: list[str] = field(default_factory=list)


def _nonneg(name: str) -> Any:
    def conv(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"unrecognized value for {name} {text}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"incorrect value for {name} (less than zero)")
        return value
    return conv


def _at_least(name: str, low: int) -> Any:
    def conv(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"unrecognized value for {name} {text}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"incorrect value for {name}, it must be >= {low}")
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
    p.add_argument("-d", type=_nonneg("domain_id"), dest="domain_id", default=0)
    p.add_argument("-b", action="store_false", dest="reliable", default=True)
    p.add_argument("-r", action="store_true", dest="reliable")
    p.add_argument("-k", type=_nonneg("history_depth"), dest="history_depth", default=-1)
    p.add_argument("-f", type=_nonneg("deadline_interval"), dest="deadline_ms", default=0)
    p.add_argument("-s", type=_at_least("ownership_strength", -1), dest="ownership_strength",
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
    p.add_argument("-z", type=_nonneg("shapesize"), dest="shapesize", default=20)
    p.add_argument("-R", action="store_true", dest="use_read")
    p.add_argument("--write-period", type=_nonneg("write-period"), dest="write_period_ms",
                   default=33)
    p.add_argument("--read-period", type=_nonneg("read-period"), dest="read_period_ms",
                   default=100)
    p.add_argument("--time-filter", type=_nonneg("timebasedfilter_interval"),
                   dest="time_filter_ms", default=0)
    p.add_argument("--lifespan", type=_nonneg("lifespan"), dest="lifespan_ms", default=0)
    p.add_argument("--num-iterations", type=_at_least("num-iterations", 1),
                   dest="num_iterations", default=0)
    p.add_argument("--num-instances", type=_at_least("num-instances", 1),
                   dest="num_instances", default=1)
    p.add_argument("--num-topics", type=_at_least("num-topics", 1), dest="num_topics",
                   default=1)
    p.add_argument("--final-instance-state", dest="final_instance_state", default=None,
                   type=_choice("final-instance-state", {"u": "unregister", "d": "dispose"}))
    p.add_argument("--access-scope", dest="access_scope", default="instance",
                   type=_choice("access-scope", {"i": "instance", "t": "topic", "g": "group"}))
    p.add_argument("--coherent", action="store_true")
    p.add_argument("--ordered", action="store_true")
    p.add_argument("--coherent-sample-count", type=_at_least("coherent-sample-count", 2))
    p.add_argument("--additional-payload-size", type=_at_least("additional-payload-size", 1),
                   dest="additional_payload_size", default=0)
    p.add_argument("--take-read", action="store_true")
    p.add_argument("--periodic-announcement", type=_nonneg("periodic-announcement"))
    p.add_argument("--datafrag-size", type=_nonneg("datafrag-size"))
    p.add_argument("--cft")
    p.add_argument("--size-modulo", type=_at_least("size-modulo", 1), dest="size_modulo",
                   default=0)
    ns, unknown = p.parse_known_args(argv)
    if ns.help:
        print_usage(p.prog)
        sys.exit(EXIT_OK)
    opts = Options()
    for name in vars(opts):
        if hasattr(ns, name):
            setattr(opts, name, getattr(ns, name))
    for extra in unknown:
        print(f"warning: option {extra} not supported, ignored")
    for name, label in (("coherent_sample_count", "--coherent-sample-count"),
                        ("periodic_announcement", "--periodic-announcement"),
                        ("datafrag_size", "--datafrag-size"), ("cft", "--cft")):
        if getattr(ns, name) is not None:
            opts.ignored.append(label)
            print(f"warning: {label} not supported by rtbus, ignored")
    if ns.take_read:
        print("warning: --take-read: rtbus always uses take()")
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
    if o.subscribe and o.use_read:
        print("warning: use read [-R] not supported, using take()")
    if o.subscribe and o.shapesize != 20:
        print("warning: shapesize [-z] ignored on subscriber applications")
    if o.subscribe and o.lifespan_ms > 0:
        print("warning: --lifespan ignored on subscriber applications")
    if o.subscribe and o.num_instances > 1:
        print("warning: --num-instances ignored on subscriber applications")
    if o.subscribe and o.final_instance_state is not None:
        print("warning: --final-instance-state ignored on subscriber applications")
    if o.subscribe and o.additional_payload_size > 0:
        print("warning: --additional-payload-size ignored on subscriber applications")
    if o.size_modulo > 0 and o.shapesize != 0:
        print("warning: --size-modulo has no effect unless shapesize (-z) is set to 0")
    return True


# --- QoS --------------------------------------------------------------------------------------

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
        presentation=(o.access_scope, o.coherent, o.ordered),
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
        self.topics: dict[bytes, str] = {}  # endpoint guid -> topic name

    def listeners(self, role: str, topic: str) -> dict[str, Any]:
        """The ``listeners=`` for one endpoint of ``topic`` (``role``: writer or reader)."""
        matched, what, incompatible = (
            ("on_publication_matched", "matched readers", "on_offered_incompatible_qos")
            if role == "writer" else
            ("on_subscription_matched", "matched writers", "on_requested_incompatible_qos"))

        def on_matched(_ep: Any, st: MatchedStatus) -> None:
            self.lines.put(f"{matched}() topic: '{topic}'  type: '{TYPE_NAME}' : {what} "
                           f"{st.current_count} (change = {st.current_count_change})")

        def on_incompatible(_ep: Any, st: IncompatibleQosStatus) -> None:
            policy = st.last_policy_id
            self.lines.put(f"{incompatible}() topic: '{topic}'  type: '{TYPE_NAME}' : {policy} "
                           f"({POLICY_NAMES.get(policy, 'UNKNOWN')})")

        return {matched: on_matched, incompatible: on_incompatible}

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
                shown = f"{name}_filtered" if o.color is not None else name
                _out(f"Create reader for topic: {shown}")
                r = self.participant.create_reader(
                    topic, qos, listeners=self.status.listeners("reader", name))
                self.readers.append((name, r))
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
            for name, w in self.writers:
                for c in colors:
                    shape.color = c
                    w.write(shape)
                    if o.print_writer_samples:
                        _out(sample_line(name, shape))
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
        colors: dict[bytes | None, str] = {}  # key hash -> color, to name a disposed instance
        n = 0
        while not self.done.is_set():
            self.status.drain()
            for name, r in self.readers:
                for s in r.take():
                    info = s.info
                    if info.valid_data:
                        colors[info.key_hash] = s.data.color
                        if o.color is None or s.data.color == o.color:
                            _out(sample_line(name, s.data))
                    color = s.data.color if s.data is not None else colors.get(info.key_hash)
                    if color is None or (o.color is not None and color != o.color):
                        continue
                    if info.instance_state == InstanceState.NOT_ALIVE_NO_WRITERS:
                        _out(f"{name:<10} {color:<10} NOT_ALIVE_NO_WRITERS_INSTANCE_STATE")
                    elif info.instance_state == InstanceState.NOT_ALIVE_DISPOSED:
                        _out(f"{name:<10} {color:<10} NOT_ALIVE_DISPOSED_INSTANCE_STATE")
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
        print("Shape Options: ")
        for name, value in vars(opts).items():
            print(f"    {name} = {value}")
    app = ShapeApp(opts)

    def stop(signum: int, frame: Any) -> None:
        app.done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        try:
            app.init()
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
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
