"""The TypeLookup service endpoints of one participant, and the type check SEDP matching uses.

Cyclone DDS 11 will not match an endpoint whose TypeInformation names a type it cannot
resolve: it asks the owner's TypeLookup service for the TypeObjects first (XTypes 1.3
7.6.3.3). So a participant that advertises PID_TYPE_INFORMATION must also serve those
requests. This module puts the four builtin endpoints on the reliability state machines (the
request and reply samples and the registry of types are :mod:`rtbus.xtypes.lookup_messages`):

* server side: a request reader (``0x000300c4``) and a reply writer (``0x000301c3``) that answer
  ``getTypes`` (minimal and complete identifiers) and ``getTypeDependencies`` for every type of
  every local endpoint (:meth:`TypeLookupService.add_local_type`);
* client side: a request writer (``0x000300c3``) and a reply reader (``0x000301c4``), used by
  :meth:`TypeLookupService.check` when a remote endpoint's TypeInformation has hashes we do not
  know: the TypeObjects are fetched, verified against their hashes, and then assignability
  decides the match.

Wire facts (checked against Cyclone's ``ddsi_participant.c`` / ``ddsi_typelookup.c``): all four
endpoints are reliable, VOLATILE, KEEP_ALL; samples are unkeyed; a reply is written on the reply
writer for every matched reply reader (there is no directed reply), its ``relatedRequestId`` is
the request's ``requestId`` (the request writer's GUID and a sequence number the requester
chooses); the requester takes any reply whose TypeObjects it was waiting for.

The check is bounded and never blocks: while a request is in flight the pair stays unmatched
(``check`` returns None, "undecided"); when the reply arrives a :class:`TypesResolved` event
tells the driver to re-run matching; after ``request_timeout`` without an answer, or when the
remote participant has no TypeLookup service, the type names decide, as for a peer that sends
no TypeInformation at all (RTI Connext 6.1).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from ..errors import MalformedError
from ..types import model as m
from . import wire
from .actions import Action, Deliver
from .builtin_data import EndpointData, ParticipantData
from .history import HistoryQos
from .reader import ReaderConfig, StatefulReader
from .wire.constants import (
    BES_TL_SVC_REPLY_READER,
    BES_TL_SVC_REPLY_WRITER,
    BES_TL_SVC_REQUEST_READER,
    BES_TL_SVC_REQUEST_WRITER,
)
from .wire.guid import ENTITYID_TL_SVC_REPLY_READER as ENTITYID_TL_REPLY_READER
from .wire.guid import ENTITYID_TL_SVC_REPLY_WRITER as ENTITYID_TL_REPLY_WRITER
from .wire.guid import ENTITYID_TL_SVC_REQUEST_READER as ENTITYID_TL_REQUEST_READER
from .wire.guid import ENTITYID_TL_SVC_REQUEST_WRITER as ENTITYID_TL_REQUEST_WRITER
from .writer import StatefulWriter, WouldBlock, WriterConfig

if TYPE_CHECKING:  # the xtypes layer is imported with the first participant, not with rtbus:
    # it is a third of a second of imports that a program which never starts one should not pay
    from ..xtypes import lookup_messages as tl
    from ..xtypes.typeid import TypeIdentifier
    from ..xtypes.typeinfo import TypeInformation

log = logging.getLogger("rtbus.rtps.type_lookup")

#: The service's builtin endpoints (XTypes 1.3 7.6.3.3.4), as the core's routing registry
#: keys them.
TYPE_LOOKUP_ENTITIES = frozenset(bytes(e) for e in (
    ENTITYID_TL_REQUEST_WRITER, ENTITYID_TL_REQUEST_READER,
    ENTITYID_TL_REPLY_WRITER, ENTITYID_TL_REPLY_READER))

#: SPDP builtin-endpoint bits of a participant that runs this service.
TYPE_LOOKUP_ENDPOINTS = (BES_TL_SVC_REQUEST_WRITER | BES_TL_SVC_REQUEST_READER
                         | BES_TL_SVC_REPLY_WRITER | BES_TL_SVC_REPLY_READER)

#: KEEP_ALL like Cyclone's, bounded so a flood of requests cannot grow memory without limit
#: (a full history drops the reply; the requester times out and falls back to type names).
_HISTORY = HistoryQos("keep_all", 1, max_samples=256)
_NULL_GUID = bytes(16)


@dataclass(frozen=True, slots=True)
class TypesResolved:
    """TypeObjects arrived (or a request timed out): re-run matching of waiting endpoints."""

    type_ids: tuple[TypeIdentifier, ...]
    timed_out: bool = False


TypeLookupOutput = Union[Action, TypesResolved]


@dataclass
class _Wanted:
    """TypeObjects to fetch from one participant (keyed by the top-level identifier)."""

    prefix: bytes
    type_ids: tuple[TypeIdentifier, ...]
    dependencies: bool = False  # ask getTypeDependencies first (the list we have is partial)
    deadline: float | None = None  # None: not sent yet
    seq: int = 0  # our requestId sequence number, to recognise the reply


class TypeLookupService:
    """The TypeLookup endpoints of one participant plus the registry they serve."""

    def __init__(self, guid_prefix: bytes, *, heartbeat_period: float = 0.1,
                 request_timeout: float = 3.0) -> None:
        from ..xtypes import lookup_messages as tl

        self.prefix = wire.GuidPrefix(guid_prefix)
        self.request_timeout = request_timeout
        self.registry = tl.TypeRegistry()  # local types, and remote ones verified by hash
        wcfg = WriterConfig(reliable=True, durability="volatile", history=_HISTORY,
                            heartbeat_period=heartbeat_period)
        rcfg = ReaderConfig(reliable=True, durability="volatile", history=_HISTORY)
        self.request_writer = StatefulWriter(wire.Guid(self.prefix, ENTITYID_TL_REQUEST_WRITER),
                                             wcfg)
        self.reply_writer = StatefulWriter(wire.Guid(self.prefix, ENTITYID_TL_REPLY_WRITER), wcfg)
        self.request_reader = StatefulReader(
            wire.Guid(self.prefix, ENTITYID_TL_REQUEST_READER), rcfg)
        self.reply_reader = StatefulReader(wire.Guid(self.prefix, ENTITYID_TL_REPLY_READER), rcfg)
        self.instance_names = {tl.instance_name_for(bytes(self.prefix)
                                                    + bytes(wire.ENTITYID_PARTICIPANT)),
                               tl.instance_name_for(_NULL_GUID), ""}
        self.counters: Counter[str] = Counter()
        self._peers: dict[bytes, int] = {}  # prefix -> builtin endpoint bits
        self._models: dict[bytes, m.IdlType] = {}  # local TypeInformation bytes -> model
        self._infos: dict[bytes, TypeInformation | None] = {}  # remote TI bytes -> decoded
        self._wanted: dict[TypeIdentifier, _Wanted] = {}  # in flight (or queued) by top id
        self._failed: set[TypeIdentifier] = set()  # timed out: names decide
        self._next_request = 1

    # --- local types -----------------------------------------------------------------------

    def add_local_type(self, model: m.IdlType) -> bytes | None:
        """Serve ``model`` (and what it depends on); returns its PID_TYPE_INFORMATION value,
        or None for a type XTypes cannot describe here (it is then matched by name)."""
        from ..xtypes.typeinfo import type_information
        from ..xtypes.typeobject import UnsupportedTypeError

        try:
            info = type_information(model)
            self.registry.add(model)
        except UnsupportedTypeError as exc:
            log.info("type %s has no XTypes representation (%s): matched by name only",
                     getattr(model, "name", model), exc)
            return None
        self._models[info] = model
        return info

    # --- participants ----------------------------------------------------------------------

    def participant_discovered(self, data: ParticipantData, now: float) -> list[Action]:
        """Connect our endpoints with the remote service endpoints its SPDP data announces."""
        prefix = wire.GuidPrefix(data.guid_prefix)
        bits = data.builtin_endpoints
        self._peers[bytes(prefix)] = bits
        locators = tuple(data.metatraffic_unicast or data.metatraffic_multicast)
        out: list[Action] = []
        for local, bit, eid in (
                (self.request_writer, BES_TL_SVC_REQUEST_READER, ENTITYID_TL_REQUEST_READER),
                (self.reply_writer, BES_TL_SVC_REPLY_READER, ENTITYID_TL_REPLY_READER),
                (self.request_reader, BES_TL_SVC_REQUEST_WRITER, ENTITYID_TL_REQUEST_WRITER),
                (self.reply_reader, BES_TL_SVC_REPLY_WRITER, ENTITYID_TL_REPLY_WRITER)):
            if not bits & bit:
                continue
            guid = wire.Guid(prefix, eid)
            is_writer = isinstance(local, StatefulWriter)
            proxies: Any = local.readers if is_writer else local.writers  # type: ignore[union-attr]
            proxy = proxies.get(guid)
            if proxy is not None:  # a re-announcement: maybe new locators
                proxy.locators = locators
            elif is_writer:
                out += local.add_reader(guid, locators, reliable=True,  # type: ignore[union-attr]
                                        durability="volatile", now=now)
            else:
                out += local.add_writer(guid, locators, reliable=True,  # type: ignore[union-attr]
                                        now=now)
        return out

    def participant_lost(self, guid_prefix: bytes, now: float) -> list[Action]:
        prefix = wire.GuidPrefix(guid_prefix)
        self._peers.pop(bytes(prefix), None)
        out: list[Action] = []
        for writer in (self.request_writer, self.reply_writer):
            for guid in [g for g in writer.readers if g.prefix == prefix]:
                out += writer.remove_reader(guid)
        for reader in (self.request_reader, self.reply_reader):
            for guid in [g for g in reader.writers if g.prefix == prefix]:
                reader.remove_writer(guid, now)
            reader.take()
        for tid in [t for t, w in self._wanted.items() if w.prefix == bytes(prefix)]:
            del self._wanted[tid]
        return out

    # --- the type check SEDP matching calls --------------------------------------------------

    def check(self, writer: EndpointData, reader: EndpointData) -> bool | None:
        """May ``reader`` receive ``writer``'s type?  None: not known yet (a request is out).

        Called by matching only when both endpoints carry TypeInformation. Equal minimal (or
        complete) hashes match at once; different ones need the remote TypeObjects, fetched
        through TypeLookup, and then assignability decides.
        """
        from ..xtypes.assignability import is_assignable
        from ..xtypes.typeinfo import matches

        local, remote = (writer, reader) if writer.prefix == bytes(self.prefix) \
            else (reader, writer)
        by_name = writer.type_name == reader.type_name
        model = self._models.get(local.type_information or b"")
        info = self._decode(remote.type_information or b"")
        if model is None or info is None:
            return by_name
        if matches(model, info):
            return True
        top = info.minimal.typeid_with_size.type_id
        if not top.is_hashed:
            return by_name  # no minimal TypeObject to fetch (an odd TypeInformation)
        needed = self._needed(info)
        missing = self.registry.missing(needed)
        if not missing:
            try:
                return is_assignable(model, info, self.registry.objects())
            except (MalformedError, KeyError, TypeError, ValueError, IndexError) as exc:
                # a TypeObject always hashes to its own identifier: a peer can send any
                # well-hashed nonsense, so a structure we cannot walk is "not assignable"
                self.counters["unusable_type_object"] += 1
                log.info("cannot compare with %s's type %r: %s", remote.prefix.hex(), top, exc)
                return False
        if top in self._failed:
            return by_name
        if top in self._wanted:
            return None
        if not self.fetch(remote.prefix, missing, dependencies=(
                info.minimal.dependent_typeid_count > len(info.minimal.dependent_typeids))):
            return by_name  # nobody to ask
        return None

    def fetch(self, guid_prefix: bytes, type_ids: list[TypeIdentifier], *,
              dependencies: bool = False) -> bool:
        """Queue a request for the TypeObjects of ``type_ids`` (the first is the top-level
        type) to the participant ``guid_prefix``; sent at the next :meth:`flush`.

        ``dependencies``: first ask which identifiers the top-level type depends on
        (getTypeDependencies), then fetch those we lack along with it. False if that
        participant runs no TypeLookup service (no request reader announced).
        """
        prefix = bytes(guid_prefix)
        if not self._peers.get(prefix, 0) & BES_TL_SVC_REQUEST_READER or not type_ids:
            return False
        if type_ids[0] not in self._wanted:
            self._wanted[type_ids[0]] = _Wanted(prefix, tuple(type_ids), dependencies)
        return True

    def _decode(self, raw: bytes) -> TypeInformation | None:
        if not raw:
            return None
        if raw not in self._infos:
            from ..xtypes.typeinfo import decode_type_information

            try:
                self._infos[raw] = decode_type_information(raw)
            except MalformedError as exc:
                log.debug("ignoring undecodable TypeInformation: %s", exc)
                self._infos[raw] = None
        return self._infos[raw]

    @staticmethod
    def _needed(info: TypeInformation) -> list[TypeIdentifier]:
        """The minimal identifiers whose TypeObjects a check of ``info`` needs."""
        out = [info.minimal.typeid_with_size.type_id]
        out += [d.type_id for d in info.minimal.dependent_typeids]
        return [t for t in out if t.is_hashed]

    # --- requests ----------------------------------------------------------------------------

    @property
    def unsent(self) -> bool:
        """Are there queued requests that :meth:`flush` would send? (asked per datagram)"""
        return bool(self._wanted) and any(w.deadline is None for w in self._wanted.values())

    def flush(self, now: float) -> list[Action]:
        """Send the requests :meth:`check` queued (one getTypes per remote type)."""
        from ..xtypes import lookup_messages as tl

        out: list[Action] = []
        for wanted in self._wanted.values():
            if wanted.deadline is not None:
                continue
            wanted.deadline = now + self.request_timeout
            wanted.seq = seq = self._next_request
            self._next_request += 1
            rid = tl.SampleIdentity(bytes(self.request_writer.guid), seq)
            name = tl.instance_name_for(wanted.prefix + b"\x00\x00\x01\xc1")
            request: tl.Request
            if wanted.dependencies:
                request = tl.GetTypeDependenciesRequest(rid, wanted.type_ids[:1],
                                                        instance_name=name)
            else:
                request = tl.GetTypesRequest(rid, wanted.type_ids, name)
            payload = tl.with_encapsulation(tl.encode_request(request))
            result = self.request_writer.write(payload, None, now=now)
            if isinstance(result, WouldBlock):
                self.counters["request_dropped"] += 1
                continue
            self.counters["requests_sent"] += 1
            log.debug("asking %s for %d TypeObject(s)", wanted.prefix.hex(),
                      len(wanted.type_ids))
            out += result.actions
        return out

    # --- wire input --------------------------------------------------------------------------

    def handle_submessage(self, src_prefix: bytes, sub: Any, now: float,
                          source_timestamp: int | None = None) -> list[TypeLookupOutput]:
        """A parsed submessage from ``src_prefix`` for one of the service entities."""
        prefix = wire.GuidPrefix(src_prefix)
        cls = type(sub)
        if cls is wire.AckNack or cls is wire.NackFrag:
            writer = (self.request_writer if sub.writer_id == ENTITYID_TL_REQUEST_WRITER
                      else self.reply_writer if sub.writer_id == ENTITYID_TL_REPLY_WRITER
                      else None)
            if writer is None:
                return []
            if cls is wire.AckNack:
                return list(writer.handle_acknack(prefix, sub, now))
            return list(writer.handle_nackfrag(prefix, sub, now))
        if sub.writer_id == ENTITYID_TL_REQUEST_WRITER:
            reader = self.request_reader
        elif sub.writer_id == ENTITYID_TL_REPLY_WRITER:
            reader = self.reply_reader
        else:
            return []
        actions = reader.handle_submessage(prefix, sub, now, source_timestamp)
        return self._consume(reader, actions, now)

    def _consume(self, reader: StatefulReader, actions: list[Action],
                 now: float) -> list[TypeLookupOutput]:
        out: list[TypeLookupOutput] = [a for a in actions if not isinstance(a, Deliver)]
        if len(out) == len(actions):
            return out
        samples, more = reader.take(now=now)
        out += more
        for sample in samples:
            if sample.payload is None or not sample.info.valid_data:
                continue
            if reader is self.request_reader:
                out += self._answer(bytes(sample.payload), now)
            else:
                out += self._replied(bytes(sample.payload))
        return out

    def _answer(self, payload: bytes, now: float) -> list[TypeLookupOutput]:
        from ..xtypes import lookup_messages as tl

        try:
            request = tl.decode_request_payload(payload)
        except MalformedError as exc:
            self.counters["bad_request"] += 1
            log.debug("ignoring TypeLookup request: %s", exc)
            return []
        if request.instance_name not in self.instance_names:
            self.counters["request_for_other"] += 1
            return []  # addressed to another participant's service
        reply = self.registry.answer(request)
        self.counters["requests_answered"] += 1
        result = self.reply_writer.write(tl.with_encapsulation(tl.encode_reply(reply)), None,
                                         now=now)
        if isinstance(result, WouldBlock):
            self.counters["reply_dropped"] += 1
            return []
        return list(result.actions)

    def _replied(self, payload: bytes) -> list[TypeLookupOutput]:
        from ..xtypes import lookup_messages as tl

        try:
            reply = tl.decode_reply_payload(payload)
        except MalformedError as exc:
            self.counters["bad_reply"] += 1
            log.debug("ignoring TypeLookup reply: %s", exc)
            return []
        if isinstance(reply, tl.GetTypeDependenciesReply):
            self._dependencies_known(reply)
            return []
        waiting = {t for w in self._wanted.values() for t in w.type_ids}
        learnt = []
        for pair in reply.types:
            if pair.type_id in waiting and pair.type_id not in self.registry:
                if self.registry.add_remote(pair):
                    learnt.append(pair.type_id)
                else:
                    self.counters["type_object_hash_mismatch"] += 1
        done = [top for top, w in self._wanted.items()
                if not self.registry.missing(w.type_ids)]
        for top in done:
            del self._wanted[top]
        if not learnt:
            return []
        self.counters["type_objects_learnt"] += len(learnt)
        return [TypesResolved(tuple(learnt))]

    def _dependencies_known(self, reply: tl.GetTypeDependenciesReply) -> None:
        """Our getTypeDependencies was answered: fetch the top type and what it lacks."""
        rid = reply.related_request_id
        if rid.writer_guid != bytes(self.request_writer.guid):
            return  # an answer to somebody else's request
        for wanted in self._wanted.values():
            if wanted.dependencies and wanted.seq == rid.sequence_number:
                deps = [d.type_id for d in reply.dependent_typeids]
                ids = dict.fromkeys([*wanted.type_ids, *self.registry.missing(deps)])
                wanted.type_ids = tuple(ids)
                wanted.dependencies = False
                wanted.deadline = None  # the getTypes goes out at the next flush
                return

    # --- timers ------------------------------------------------------------------------------

    def next_timer(self) -> float | None:
        times = [t for e in (self.request_writer, self.reply_writer, self.request_reader,
                             self.reply_reader) if (t := e.next_timer()) is not None]
        times += [w.deadline for w in self._wanted.values() if w.deadline is not None]
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[TypeLookupOutput]:
        out: list[TypeLookupOutput] = []
        for writer in (self.request_writer, self.reply_writer):
            out += writer.handle_timer(now)
        for reader in (self.request_reader, self.reply_reader):
            out += self._consume(reader, reader.handle_timer(now), now)
        expired = [top for top, w in self._wanted.items()
                   if w.deadline is not None and w.deadline <= now]
        for top in expired:
            log.info("no TypeLookup reply for %r from %s: matching by type name", top,
                     self._wanted[top].prefix.hex())
            del self._wanted[top]
            self._failed.add(top)
            self.counters["requests_timed_out"] += 1
        if expired:
            out.append(TypesResolved(tuple(expired), timed_out=True))
        return out

    def known_objects(self) -> Mapping[TypeIdentifier, bytes]:
        return self.registry.objects()
