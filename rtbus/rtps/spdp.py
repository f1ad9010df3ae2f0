"""SPDP: announce our participant, track remote ones and their leases. Sans-IO.

The driver feeds SPDP DATA submessages (``handle_data``), tells us about any other traffic from
a participant (``refresh`` -- DDSI-RTPS 8.4.13 lets any message renew the lease), and wakes us
at ``next_timer()``. We return a list mixing :class:`~rtbus.rtps.actions.Send` actions (the
SPDP DATA to multicast, or directly to a newly found participant) and events
(:class:`ParticipantDiscovered`, :class:`ParticipantUpdated`, :class:`ParticipantLost`).

Announcement schedule: a short burst at start-up (``initial_count`` announcements
``initial_period`` apart, so peers that started at the same moment and missed the first one
find us quickly), then every ``period`` seconds. ``period`` defaults to a fifth of our lease
duration (2 s for the default 10 s lease, the ratio Cyclone uses) so a peer sees several
announcements per lease even with some loss. A newly discovered participant also gets our
announcement unicast right away, as Cyclone does, so discovery takes one round trip rather than
one period.

An announcement or a dispose is believed only for the participant that sent it: the GUID it
names must carry the RTPS source prefix (the header's, or an INFO_SRC's). Anyone may send a
datagram, so otherwise one forged dispose unmatched a live participant, and a forged
announcement rewrote its locators (counted ``spdp_foreign_participant`` /
``spdp_foreign_dispose`` and dropped).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from typing import Literal, Union

from ..errors import MalformedError
from . import wire
from .actions import Send
from .builtin_data import (
    DEFAULT_BUILTIN_ENDPOINTS,
    VENDOR_ID_RTBUS,
    ParticipantData,
    build_key_payload,
    build_participant_payload,
    parse_key_payload,
    parse_participant_payload,
)
from .ports import SPDP_MULTICAST_GROUP, PortMapping, spdp_multicast_port
from .wire.constants import PID_PARTICIPANT_GUID, STATUS_INFO_DISPOSED, STATUS_INFO_UNREGISTERED

log = logging.getLogger("rtbus.rtps.spdp")

LostReason = Literal["disposed", "unregistered", "lease_expired"]


@dataclass(frozen=True, slots=True)
class ParticipantDiscovered:
    data: ParticipantData


@dataclass(frozen=True, slots=True)
class ParticipantUpdated:
    """A known participant re-announced itself with different data (e.g. new locators)."""

    data: ParticipantData


@dataclass(frozen=True, slots=True)
class ParticipantLost:
    guid_prefix: bytes
    reason: LostReason


SpdpEvent = Union[ParticipantDiscovered, ParticipantUpdated, ParticipantLost]
SpdpOutput = Union[Send, ParticipantDiscovered, ParticipantUpdated, ParticipantLost]


@dataclass(frozen=True, slots=True)
class SpdpConfig:
    period: float | None = None  # None: lease_duration / 5
    initial_period: float = 0.2
    initial_count: int = 3
    reply_to_new_participants: bool = True


@dataclass(slots=True)
class RemoteParticipant:
    data: ParticipantData
    lease_expiry: float

    @property
    def guid_prefix(self) -> bytes:
        return self.data.guid_prefix


class Spdp:
    """The SPDP state machine of one local participant."""

    def __init__(self, local: ParticipantData, now: float, *,
                 announce_locators: tuple[wire.Locator, ...] | None = None,
                 config: SpdpConfig | None = None) -> None:
        """``announce_locators``: where the periodic announcement goes (default: the SPDP
        multicast group of the domain, plus whatever initial peers the engine adds)."""
        if local.domain_id is None:
            raise ValueError("the local ParticipantData needs a domain_id")
        self.local = local
        self.config = config or SpdpConfig()
        if announce_locators is None:
            announce_locators = (wire.Locator.udpv4(SPDP_MULTICAST_GROUP,
                                                    spdp_multicast_port(local.domain_id)),)
        self.announce_locators = announce_locators
        self.participants: dict[bytes, RemoteParticipant] = {}
        self.counters: Counter[str] = Counter()
        self._payload = build_participant_payload(local)
        self._seq = 1
        self._announced = 0
        self._next_announce = now

    # --- queries ---------------------------------------------------------------------------

    @property
    def period(self) -> float:
        if self.config.period is not None:
            return self.config.period
        lease = self.local.lease_duration
        return min(lease / 5, 30.0) if lease != float("inf") else 30.0

    def next_timer(self) -> float | None:
        expiries = [p.lease_expiry for p in self.participants.values()]
        return min([self._next_announce, *expiries])

    # --- inputs ----------------------------------------------------------------------------

    def handle_timer(self, now: float) -> list[SpdpOutput]:
        out: list[SpdpOutput] = []
        for prefix, remote in list(self.participants.items()):
            if remote.lease_expiry <= now:
                del self.participants[prefix]
                log.info("participant %s lost: lease expired", prefix.hex())
                out.append(ParticipantLost(prefix, "lease_expired"))
        if now >= self._next_announce:
            out.append(self._announcement(None, self.announce_locators))
            self._announced += 1
            fast = self._announced < self.config.initial_count
            self._next_announce = now + (self.config.initial_period if fast else self.period)
        return out

    def refresh(self, guid_prefix: bytes, now: float) -> None:
        """Any message from ``guid_prefix`` arrived: renew its lease (8.4.13)."""
        remote = self.participants.get(bytes(guid_prefix))
        if remote is not None:
            remote.lease_expiry = max(remote.lease_expiry, now + remote.data.lease_duration)

    def handle_data(self, src_prefix: bytes, data: wire.Data, now: float) -> list[SpdpOutput]:
        """An SPDP DATA submessage (writer ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER)."""
        qos = data.inline_qos
        status = (qos.status_info or 0) if qos is not None else 0
        key_hash = qos.key_hash if qos is not None else None
        payload = bytes(data.serialized_payload) if data.serialized_payload is not None else None
        return self.handle_sample(src_prefix, payload, now, status_info=status,
                                  key_hash=key_hash, key_only=data.key_only)

    def handle_sample(self, src_prefix: bytes, payload: bytes | None, now: float, *,
                      status_info: int = 0, key_hash: bytes | None = None,
                      key_only: bool = False) -> list[SpdpOutput]:
        """The same, already taken apart: for drivers that do their own submessage handling."""
        if status_info & (STATUS_INFO_DISPOSED | STATUS_INFO_UNREGISTERED):
            return self._removed(src_prefix, payload, key_hash, status_info)
        if payload is None or key_only:
            return []
        try:
            pdata = parse_participant_payload(payload)
        except MalformedError as exc:
            log.debug("ignoring SPDP sample from %s: %s", bytes(src_prefix).hex(), exc)
            return []
        if bytes(pdata.guid_prefix) != bytes(src_prefix):
            self.counters["spdp_foreign_participant"] += 1
            return []
        return self._received(pdata, now)

    def shutdown(self) -> list[SpdpOutput]:
        """Announce that we leave (dispose + unregister), for a clean, immediate goodbye."""
        self._seq += 1
        sub = wire.Data(
            reader_id=wire.ENTITYID_UNKNOWN,
            writer_id=wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER,
            writer_sn=self._seq,
            inline_qos=wire.InlineQos(
                key_hash=self.local.guid,
                status_info=STATUS_INFO_DISPOSED | STATUS_INFO_UNREGISTERED),
            serialized_payload=build_key_payload(PID_PARTICIPANT_GUID, self.local.guid),
            key_only=True)
        locators = list(self.announce_locators)
        return [Send(None, tuple(locators), (sub,))]

    def update_local(self, local: ParticipantData, now: float) -> list[SpdpOutput]:
        """Our own data changed (locators, user data): announce the new version at once."""
        self.local = local
        self._payload = build_participant_payload(local)
        self._seq += 1
        self._next_announce = now
        return self.handle_timer(now)

    # --- internals -------------------------------------------------------------------------

    def _announcement(self, dest_prefix: bytes | None,
                      locators: tuple[wire.Locator, ...]) -> Send:
        sub = wire.Data(
            reader_id=(wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_READER if dest_prefix
                       else wire.ENTITYID_UNKNOWN),
            writer_id=wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER,
            writer_sn=self._seq,
            inline_qos=wire.InlineQos(key_hash=self.local.guid),
            serialized_payload=self._payload)
        return Send(wire.GuidPrefix(dest_prefix) if dest_prefix else None, locators, (sub,))

    def _received(self, pdata: ParticipantData, now: float) -> list[SpdpOutput]:
        prefix = pdata.guid_prefix
        if prefix == self.local.guid_prefix:
            return []  # our own announcement, looped back by multicast
        if pdata.domain_id is not None and pdata.domain_id != self.local.domain_id:
            log.debug("ignoring participant %s of domain %d", prefix.hex(), pdata.domain_id)
            return []
        if pdata.domain_tag != self.local.domain_tag:
            log.debug("ignoring participant %s with domain tag %r", prefix.hex(),
                      pdata.domain_tag)
            return []
        remote = self.participants.get(prefix)
        expiry = now + pdata.lease_duration
        if remote is None:
            self.participants[prefix] = RemoteParticipant(pdata, expiry)
            log.info("participant %s discovered", prefix.hex())
            out: list[SpdpOutput] = [ParticipantDiscovered(pdata)]
            if self.config.reply_to_new_participants and pdata.metatraffic_unicast:
                out.append(self._announcement(prefix, pdata.metatraffic_unicast))
            return out
        remote.lease_expiry = max(remote.lease_expiry, expiry)
        if remote.data != pdata:
            remote.data = pdata
            return [ParticipantUpdated(pdata)]
        return []

    def _removed(self, src_prefix: bytes, payload: bytes | None, key_hash: bytes | None,
                 status_info: int) -> list[SpdpOutput]:
        guid = key_hash
        if guid is None and payload is not None:
            try:
                guid = parse_key_payload(payload)
            except MalformedError:
                guid = None
        prefix = bytes(guid[:12]) if guid is not None else bytes(src_prefix)
        if prefix != bytes(src_prefix):  # only a participant itself may say it leaves
            self.counters["spdp_foreign_dispose"] += 1
            return []
        if self.participants.pop(prefix, None) is None:
            return []
        reason: LostReason = "disposed" if status_info & STATUS_INFO_DISPOSED else "unregistered"
        log.info("participant %s lost: %s", prefix.hex(), reason)
        return [ParticipantLost(prefix, reason)]



def new_guid_prefix(entropy: bytes | None = None) -> bytes:
    """A fresh participant GUID prefix: our vendor id, then 10 random bytes (RTPS 9.3.1.5
    recommends the vendor id first so prefixes of different implementations never collide).
    ``entropy`` (10 bytes) makes it deterministic for tests."""
    tail = os.urandom(10) if entropy is None else bytes(entropy)
    if len(tail) != 10:
        raise ValueError(f"entropy of {len(tail)} bytes: expected 10")
    return VENDOR_ID_RTBUS + tail


def local_participant(guid_prefix: bytes, ports: PortMapping, unicast_host: str, *,
                      lease_duration: float = 10.0, domain_tag: str = "",
                      entity_name: str | None = None,
                      multicast_group: str | None = SPDP_MULTICAST_GROUP,
                      builtin_endpoints: int = DEFAULT_BUILTIN_ENDPOINTS) -> ParticipantData:
    """The ParticipantData the engine announces for sockets bound per ``ports``.

    ``multicast_group`` None: unicast-only discovery (no multicast locators announced).
    """
    def loc(host: str, port: int) -> tuple[wire.Locator, ...]:
        return (wire.Locator.udpv4(host, port),)

    mc_meta: tuple[wire.Locator, ...] = ()
    mc_user: tuple[wire.Locator, ...] = ()
    if multicast_group is not None:
        mc_meta = loc(multicast_group, ports.metatraffic_multicast)
        mc_user = loc(multicast_group, ports.user_multicast)
    return ParticipantData(
        guid_prefix=bytes(guid_prefix), domain_id=ports.domain_id, domain_tag=domain_tag,
        lease_duration=lease_duration, entity_name=entity_name,
        builtin_endpoints=builtin_endpoints,
        metatraffic_unicast=loc(unicast_host, ports.metatraffic_unicast),
        default_unicast=loc(unicast_host, ports.user_unicast),
        metatraffic_multicast=mc_meta, default_multicast=mc_user)
