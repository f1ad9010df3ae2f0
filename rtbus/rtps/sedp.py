"""SEDP: announce local writers/readers, learn remote ones, and decide who matches whom.

Two layers, so the discovery logic is usable with or without the reliable transport:

* :class:`SedpState` is pure bookkeeping. It is fed remote publication/subscription samples
  (``handle_sample``) and local endpoint changes (``add_local`` / ``remove_local``), and returns
  :class:`Announce` items (what our builtin SEDP writers must publish) and events
  (:class:`EndpointMatched`, :class:`EndpointUnmatched`, :class:`IncompatibleQos`,
  :class:`RemoteEndpointDiscovered`, :class:`RemoteEndpointRemoved`,
  :class:`InconsistentTopic`).
* :class:`Sedp` puts the four builtin endpoints of DDSI-RTPS 8.5.4 on top: reliable,
  transient-local :class:`~rtbus.rtps.writer.StatefulWriter` s for our publications and
  subscriptions (entity ids 0x3c2 / 0x4c2) and :class:`~rtbus.rtps.reader.StatefulReader` s for
  the remote ones (0x3c7 / 0x4c7), connected to each remote participant per its builtin
  endpoint set. It takes parsed submessages and returns wire actions plus the events above.

Nothing here reads a clock or touches a socket.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal, Union

from ..errors import MalformedError
from . import wire
from .actions import Action, Deliver, Send
from .builtin_data import (
    EndpointData,
    EndpointRole,
    ParticipantData,
    build_endpoint_payload,
    build_key_payload,
    parse_endpoint_payload,
    parse_key_payload,
)
from .history import HistoryQos
from .matching import TypeCheck, describe_incompatibility, describe_inconsistent_topic, match
from .reader import ReaderConfig, StatefulReader
from .wire.constants import (
    BES_PUBLICATIONS_ANNOUNCER,
    BES_PUBLICATIONS_DETECTOR,
    BES_SUBSCRIPTIONS_ANNOUNCER,
    BES_SUBSCRIPTIONS_DETECTOR,
    PID_ENDPOINT_GUID,
    STATUS_INFO_DISPOSED,
    STATUS_INFO_UNREGISTERED,
)
from .writer import StatefulWriter, WouldBlock, WriterConfig

log = logging.getLogger("rtbus.rtps.sedp")

UnmatchReason = Literal["remote_removed", "participant_lost", "local_removed", "qos_changed"]


@dataclass(frozen=True, slots=True)
class Announce:
    """Publish this sample on our SEDP writer for ``role`` endpoints (3c2 writers, 4c2 readers).

    ``status_info`` non-zero: a dispose+unregister; ``payload`` is then the serialized key.
    """

    role: EndpointRole
    key_hash: bytes
    payload: bytes
    status_info: int = 0


@dataclass(frozen=True, slots=True)
class RemoteEndpointDiscovered:
    data: EndpointData


@dataclass(frozen=True, slots=True)
class RemoteEndpointRemoved:
    guid: bytes
    role: EndpointRole


@dataclass(frozen=True, slots=True)
class EndpointMatched:
    """Local endpoint ``local_guid`` now matches ``remote``; ``locators`` are where it listens
    (its own, or its participant's defaults)."""

    local_guid: bytes
    remote: EndpointData
    locators: tuple[wire.Locator, ...]


@dataclass(frozen=True, slots=True)
class EndpointUnmatched:
    local_guid: bytes
    remote_guid: bytes
    reason: UnmatchReason


@dataclass(frozen=True, slots=True)
class IncompatibleQos:
    """Same topic and type, but the QoS do not fit: the policy ids for the statuses."""

    local_guid: bytes
    remote_guid: bytes
    policies: tuple[int, ...]
    detail: str = ""  # both sides' values of each failed policy, for the log


@dataclass(frozen=True, slots=True)
class InconsistentTopic:
    """Same topic name, but a type that does not fit (the INCONSISTENT_TOPIC status)."""

    local_guid: bytes
    remote_guid: bytes
    remote_type_name: str
    detail: str = ""  # both types and how they were compared, for the log


SedpEvent = Union[RemoteEndpointDiscovered, RemoteEndpointRemoved, EndpointMatched,
                  EndpointUnmatched, IncompatibleQos, InconsistentTopic]
SedpOutput = Union[Announce, SedpEvent]


def _other(role: EndpointRole) -> EndpointRole:
    return "reader" if role == "writer" else "writer"


class SedpState:
    """Local and remote endpoints and the current matches between them.

    Local endpoints also match each other (a writer and a reader of one participant), as in
    every DDS implementation: such a pair is matched from both sides, and its traffic never
    leaves the participant (``ParticipantCore`` routes it in memory). ``local_locators`` are
    what a local endpoint's match reports as its locators (the participant's own).
    """

    def __init__(self, type_check: TypeCheck | None = None,
                 local_locators: tuple[wire.Locator, ...] = ()) -> None:
        self.type_check = type_check
        self.local_locators = local_locators or (wire.Locator.udpv4("127.0.0.1", 0),)
        self.local: dict[bytes, EndpointData] = {}
        self.remote: dict[bytes, EndpointData] = {}
        self.participants: dict[bytes, ParticipantData] = {}
        self.matches: set[tuple[bytes, bytes]] = set()  # (local guid, remote guid)
        self._matched_qos: dict[tuple[bytes, bytes], Any] = {}  # the remote's QoS at match
        self._incompatible: dict[tuple[bytes, bytes], tuple[int, ...]] = {}

    # --- participants ----------------------------------------------------------------------

    def participant_discovered(self, data: ParticipantData) -> list[SedpOutput]:
        """Remember a participant's default locators; endpoints waiting for them may match."""
        self.participants[bytes(data.guid_prefix)] = data
        out: list[SedpOutput] = []
        for guid, remote in self.remote.items():
            if guid[:12] == data.guid_prefix:
                out += self._rematch_remote(remote)
        return out

    def participant_lost(self, guid_prefix: bytes) -> list[SedpOutput]:
        prefix = bytes(guid_prefix)
        self.participants.pop(prefix, None)
        out: list[SedpOutput] = []
        for guid in [g for g in self.remote if g[:12] == prefix]:
            out += self._remove_remote(guid, "participant_lost")
        return out

    def locators_of(self, remote: EndpointData) -> tuple[wire.Locator, ...]:
        """Where to reach ``remote``: its own locators, else its participant's defaults."""
        if bytes(remote.endpoint_guid) in self.local:
            return self.local_locators
        if remote.unicast_locators or remote.multicast_locators:
            return remote.unicast_locators + remote.multicast_locators
        participant = self.participants.get(remote.prefix)
        if participant is None:
            return ()
        return participant.default_unicast + participant.default_multicast

    # --- local endpoints -------------------------------------------------------------------

    def add_local(self, data: EndpointData) -> list[SedpOutput]:
        """Add (or change) a local writer/reader: announce it and match it against remotes."""
        guid = bytes(data.endpoint_guid)
        self.local[guid] = data
        out: list[SedpOutput] = [Announce(data.role, guid, build_endpoint_payload(data))]
        for remote in self.remote.values():
            if remote.role != data.role:
                out += self._update_pair(data, remote)
        out += self._rematch_local(data)
        return out

    def _rematch_local(self, data: EndpointData) -> list[SedpOutput]:
        """Match local endpoint ``data`` with the other local endpoints, from both sides."""
        out: list[SedpOutput] = []
        for other in list(self.local.values()):
            if other.role != data.role:
                out += self._update_pair(data, other)
                out += self._update_pair(other, data)
        return out

    def remove_local(self, guid: bytes) -> list[SedpOutput]:
        guid = bytes(guid)
        data = self.local.pop(guid, None)
        if data is None:
            return []
        out: list[SedpOutput] = [Announce(
            data.role, guid, build_key_payload(PID_ENDPOINT_GUID, guid),
            STATUS_INFO_DISPOSED | STATUS_INFO_UNREGISTERED)]
        for pair in [p for p in self.matches if p[0] == guid]:
            self.matches.discard(pair)
            self._matched_qos.pop(pair, None)
            out.append(EndpointUnmatched(guid, pair[1], "local_removed"))
        for pair in [p for p in self.matches if p[1] == guid]:  # its local counterparts
            self.matches.discard(pair)
            self._matched_qos.pop(pair, None)
            out.append(EndpointUnmatched(pair[0], guid, "remote_removed"))
        for pair in [p for p in self._incompatible if guid in p]:
            del self._incompatible[pair]
        return out

    # --- remote endpoints ------------------------------------------------------------------

    def handle_sample(self, role: EndpointRole, payload: bytes | memoryview | None, *,
                      status_info: int = 0, key_hash: bytes | None = None,
                      src_prefix: bytes | None = None) -> list[SedpOutput]:
        """One sample of a remote SEDP writer: ``role`` "writer" for the publications topic
        (remote writers), "reader" for subscriptions. Malformed samples are ignored."""
        if status_info & (STATUS_INFO_DISPOSED | STATUS_INFO_UNREGISTERED):
            guid = key_hash
            if guid is None and payload is not None:
                try:
                    guid = parse_key_payload(payload)
                except MalformedError as exc:
                    log.debug("ignoring SEDP dispose without a usable key: %s", exc)
                    return []
            if guid is None:
                return []
            return self._remove_remote(bytes(guid), "remote_removed")
        if payload is None:
            return []
        try:
            data = parse_endpoint_payload(payload, role)
        except MalformedError as exc:
            log.debug("ignoring SEDP %s sample: %s", role, exc)
            return []
        if src_prefix is not None and data.prefix != bytes(src_prefix):
            log.debug("ignoring SEDP %s data for %s relayed by %s", role,
                      data.endpoint_guid.hex(), bytes(src_prefix).hex())
            return []
        if data.participant_guid is None:
            data = replace(data, participant_guid=data.prefix + b"\x00\x00\x01\xc1")
        guid = bytes(data.endpoint_guid)
        known = self.remote.get(guid)
        if known == data:
            return []
        self.remote[guid] = data
        out: list[SedpOutput] = [RemoteEndpointDiscovered(data)] if known is None else []
        return out + self._rematch_remote(data)

    def rematch_all(self) -> list[SedpOutput]:
        """Re-run matching of every local/remote pair (remote TypeObjects became known)."""
        out: list[SedpOutput] = []
        for remote in list(self.remote.values()):
            out += self._rematch_remote(remote)
        for local in list(self.local.values()):
            if local.role == "writer":
                out += self._rematch_local(local)
        return out

    # --- internals -------------------------------------------------------------------------

    def _rematch_remote(self, remote: EndpointData) -> list[SedpOutput]:
        out: list[SedpOutput] = []
        for local in self.local.values():
            if local.role != remote.role:
                out += self._update_pair(local, remote)
        return out

    def _update_pair(self, local: EndpointData, remote: EndpointData) -> list[SedpOutput]:
        pair = (bytes(local.endpoint_guid), bytes(remote.endpoint_guid))
        writer, reader = (local, remote) if local.role == "writer" else (remote, local)
        result = match(writer, reader, self.type_check)
        locators = self.locators_of(remote)
        out: list[SedpOutput] = []
        if result.reason == "type_pending":
            return out  # decided when the remote TypeObjects arrive (or the request times out)
        if result.matched and locators:
            self._incompatible.pop(pair, None)
            if pair not in self.matches:
                self.matches.add(pair)
                self._matched_qos[pair] = remote.qos
                out.append(EndpointMatched(pair[0], remote, locators))
            elif self._matched_qos.get(pair) != remote.qos:  # re-announced, still compatible
                self._matched_qos[pair] = remote.qos
                out.append(EndpointMatched(pair[0], remote, locators))
            return out
        if pair in self.matches:
            self.matches.discard(pair)
            self._matched_qos.pop(pair, None)
            out.append(EndpointUnmatched(pair[0], pair[1], "qos_changed"))
        if result.reason == "qos":
            policies = tuple(result.incompatible)
            if self._incompatible.get(pair) != policies:
                self._incompatible[pair] = policies
                detail = describe_incompatibility(writer.qos, reader.qos, policies)
                out.append(IncompatibleQos(pair[0], pair[1], policies, detail))
        elif result.reason == "type":
            if self._incompatible.get(pair) != ():
                self._incompatible[pair] = ()  # () marks "type mismatch reported"
                detail = describe_inconsistent_topic(writer, reader, self.type_check is not None)
                out.append(InconsistentTopic(pair[0], pair[1], remote.type_name, detail))
        else:
            self._incompatible.pop(pair, None)
        return out

    def _remove_remote(self, guid: bytes, reason: UnmatchReason) -> list[SedpOutput]:
        data = self.remote.pop(guid, None)
        if data is None:
            return []
        out: list[SedpOutput] = [RemoteEndpointRemoved(guid, data.role)]
        for pair in [p for p in self.matches if p[1] == guid]:
            self.matches.discard(pair)
            self._matched_qos.pop(pair, None)
            out.append(EndpointUnmatched(pair[0], guid, reason))
        for pair in [p for p in self._incompatible if p[1] == guid]:
            del self._incompatible[pair]
        return out


# --- the builtin SEDP endpoints over the reliability state machines --------------------------

_SEDP_HISTORY = HistoryQos(kind="keep_last", depth=1)


def _sedp_key_hash(payload: bytes | memoryview) -> bytes | None:
    """Key hash of a SEDP sample (the endpoint GUID), for peers that send no PID_KEY_HASH."""
    try:
        return parse_key_payload(payload)
    except MalformedError:
        return None


class Sedp:
    """The SEDP builtin writers/readers of one participant, wrapped around a SedpState.

    Feed it every submessage addressed to a SEDP entity (``handle_submessage``), SPDP
    discoveries and losses, and local endpoint changes; carry out the returned ``Send``
    actions; act on the returned events.
    """

    def __init__(self, guid_prefix: bytes, type_check: TypeCheck | None = None,
                 heartbeat_period: float = 0.1,
                 local_locators: tuple[wire.Locator, ...] = ()) -> None:
        self.prefix = wire.GuidPrefix(guid_prefix)
        self.state = SedpState(type_check, local_locators)
        wcfg = WriterConfig(reliable=True, durability="transient_local", history=_SEDP_HISTORY,
                            heartbeat_period=heartbeat_period)
        rcfg = ReaderConfig(reliable=True, durability="transient_local", history=_SEDP_HISTORY)
        self.writers: dict[EndpointRole, StatefulWriter] = {
            "writer": StatefulWriter(
                wire.Guid(self.prefix, wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER), wcfg),
            "reader": StatefulWriter(
                wire.Guid(self.prefix, wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER), wcfg),
        }
        self.readers: dict[EndpointRole, StatefulReader] = {
            "writer": StatefulReader(
                wire.Guid(self.prefix, wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER), rcfg,
                key_hash_of=_sedp_key_hash),
            "reader": StatefulReader(
                wire.Guid(self.prefix, wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER), rcfg,
                key_hash_of=_sedp_key_hash),
        }

    # --- participants ----------------------------------------------------------------------

    def participant_discovered(self, data: ParticipantData,
                               now: float) -> list[Action | SedpOutput]:
        """Connect our SEDP endpoints with the ones the remote participant says it has.

        Call it again on ParticipantUpdated: existing connections follow new locators.
        """
        prefix = wire.GuidPrefix(data.guid_prefix)
        locators = data.metatraffic_unicast or data.metatraffic_multicast
        bits = data.builtin_endpoints
        out: list[Action | SedpOutput] = []
        links: tuple[tuple[EndpointRole, int, int, wire.EntityId, wire.EntityId], ...] = (
                 ("writer", BES_PUBLICATIONS_DETECTOR, BES_PUBLICATIONS_ANNOUNCER,
                  wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER,
                  wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER),
                 ("reader", BES_SUBSCRIPTIONS_DETECTOR, BES_SUBSCRIPTIONS_ANNOUNCER,
                  wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER,
                  wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER))
        for role, detector, announcer, reader_eid, writer_eid in links:
            if bits & detector:
                rguid = wire.Guid(prefix, reader_eid)
                rproxy = self.writers[role].readers.get(rguid)
                if rproxy is not None:  # a re-announcement: follow locator changes
                    rproxy.locators = tuple(locators)
                else:
                    out += self.writers[role].add_reader(rguid, locators, reliable=True,
                                                         durability="transient_local", now=now)
            if bits & announcer:
                wguid = wire.Guid(prefix, writer_eid)
                wproxy = self.readers[role].writers.get(wguid)
                if wproxy is not None:
                    wproxy.locators = tuple(locators)
                else:
                    out += self.readers[role].add_writer(wguid, locators, reliable=True, now=now)
        out += self.state.participant_discovered(data)
        return out

    def participant_lost(self, guid_prefix: bytes, now: float) -> list[Action | SedpOutput]:
        prefix = wire.GuidPrefix(guid_prefix)
        out: list[Action | SedpOutput] = []
        for role in ("writer", "reader"):
            w, r = self.writers[role], self.readers[role]  # type: ignore[index]
            for guid in [g for g in w.readers if g.prefix == prefix]:
                out += w.remove_reader(guid)
            for guid in [g for g in r.writers if g.prefix == prefix]:
                r.remove_writer(guid, now)
        self._drain()
        out += self.state.participant_lost(prefix)
        return out

    # --- local endpoints -------------------------------------------------------------------

    def add_local(self, data: EndpointData, now: float) -> list[Action | SedpOutput]:
        return self._publish(self.state.add_local(data), now)

    def remove_local(self, guid: bytes, now: float) -> list[Action | SedpOutput]:
        return self._publish(self.state.remove_local(guid), now)

    def rematch_all(self, now: float) -> list[Action | SedpOutput]:
        """Matching again after the type check learnt something (see SedpState.rematch_all)."""
        return self._publish(self.state.rematch_all(), now)

    # --- wire input ------------------------------------------------------------------------

    def handle_submessage(self, src_prefix: bytes, sub: object, now: float,
                          source_timestamp: int | None = None) -> list[Action | SedpOutput]:
        """A parsed submessage from ``src_prefix`` for one of the SEDP entities."""
        prefix = wire.GuidPrefix(src_prefix)
        role = self._role_of(sub)
        if role is None:
            return []
        actions: list[Action]
        if isinstance(sub, wire.AckNack):
            actions = self.writers[role].handle_acknack(prefix, sub, now)
        elif isinstance(sub, wire.NackFrag):
            actions = self.writers[role].handle_nackfrag(prefix, sub, now)
        elif isinstance(sub, wire.Data):
            actions = self.readers[role].handle_data(prefix, sub, now, source_timestamp)
        elif isinstance(sub, wire.DataFrag):
            actions = self.readers[role].handle_data_frag(prefix, sub, now, source_timestamp)
        elif isinstance(sub, wire.Gap):
            actions = self.readers[role].handle_gap(prefix, sub, now)
        elif isinstance(sub, wire.Heartbeat):
            actions = self.readers[role].handle_heartbeat(prefix, sub, now)
        elif isinstance(sub, wire.HeartbeatFrag):
            actions = self.readers[role].handle_heartbeat_frag(prefix, sub, now)
        else:
            return []
        return self._consume(role, actions, now)

    # --- timers ----------------------------------------------------------------------------

    def next_timer(self) -> float | None:
        times = [t for w in self.writers.values() if (t := w.next_timer()) is not None]
        times += [t for r in self.readers.values() if (t := r.next_timer()) is not None]
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[Action | SedpOutput]:
        out: list[Action | SedpOutput] = []
        for w in self.writers.values():
            out += w.handle_timer(now)
        for role, r in self.readers.items():
            out += self._consume(role, r.handle_timer(now), now)
        return out

    # --- internals -------------------------------------------------------------------------

    @staticmethod
    def _role_of(sub: object) -> EndpointRole | None:
        eids = {getattr(sub, "writer_id", None), getattr(sub, "reader_id", None)}
        if eids & {wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER,
                   wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER}:
            return "writer"
        if eids & {wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER,
                   wire.ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER}:
            return "reader"
        return None

    def _consume(self, role: EndpointRole, actions: list[Action],
                 now: float) -> list[Action | SedpOutput]:
        out: list[Action | SedpOutput] = []
        delivered = False
        for action in actions:
            if isinstance(action, Deliver):
                delivered = True
            else:
                out.append(action)
        if delivered:
            out += self._take(role, now)
        return out

    def _take(self, role: EndpointRole, now: float) -> list[Action | SedpOutput]:
        out: list[Action | SedpOutput] = []
        samples, actions = self.readers[role].take(now=now)
        out += actions
        for s in samples:
            src = s.info.writer_guid.prefix if s.info.writer_guid is not None else None
            events = self.state.handle_sample(role, s.payload, status_info=s.status_info,
                                              key_hash=s.key_hash if s.status_info else None,
                                              src_prefix=src)
            out += self._publish(events, now)
        return out

    def _drain(self) -> None:
        for r in self.readers.values():
            r.take()

    def _publish(self, items: list[SedpOutput], now: float) -> list[Action | SedpOutput]:
        out: list[Action | SedpOutput] = []
        for item in items:
            if not isinstance(item, Announce):
                out.append(item)
                continue
            writer = self.writers[item.role]
            if item.status_info:
                result = writer.write(item.payload, item.key_hash, item.status_info, now=now)
            else:
                result = writer.write(item.payload, item.key_hash, now=now)
            if isinstance(result, WouldBlock):  # keep_last never blocks; be explicit anyway
                log.warning("SEDP %s writer history full; announcement dropped", item.role)
                continue
            out += result.actions
        return out


def sends_of(outputs: list[Action | SedpOutput]) -> list[Send]:
    """The Send actions among mixed outputs (what the driver must transmit)."""
    return [o for o in outputs if isinstance(o, Send)]
