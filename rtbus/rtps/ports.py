"""Domain/participant id -> UDP port numbers (DDSI-RTPS 2.5, 9.6.1.1) and participant ids.

Every DDS implementation derives the same ports from the domain id, which is what lets
participants find each other with no configuration. The participant id only makes the unicast
ports unique per host: Cyclone (with ``ParticipantIndex=auto``) tries ids 0..119 and keeps the
first whose unicast port it can bind. Binding is I/O, so it lives in the engine; here is the
pure arithmetic and the search loop over a ``try_bind`` callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import RtbusError

PORT_BASE = 7400  # PB
DOMAIN_ID_GAIN = 250  # DG
PARTICIPANT_ID_GAIN = 2  # PG
OFFSET_METATRAFFIC_MULTICAST = 0  # d0
OFFSET_METATRAFFIC_UNICAST = 10  # d1
OFFSET_USER_MULTICAST = 1  # d2
OFFSET_USER_UNICAST = 11  # d3

#: The default SPDP multicast group (IPv4).
SPDP_MULTICAST_GROUP = "239.255.0.1"

#: Cyclone's default upper bound when searching for a free participant id.
MAX_AUTO_PARTICIPANT_ID = 119
MAX_DOMAIN_ID = 232  # largest domain id whose ports stay below 65536 with the defaults


class PortError(RtbusError, ValueError):
    """A domain or participant id gives no valid port, or no participant id is free."""


@dataclass(frozen=True, slots=True)
class PortMapping:
    """The four well-known ports of one participant (9.6.1.1 with PB/DG/PG/d0..d3)."""

    domain_id: int
    participant_id: int
    metatraffic_multicast: int
    metatraffic_unicast: int
    user_multicast: int
    user_unicast: int


def port_mapping(domain_id: int, participant_id: int = 0, *, port_base: int = PORT_BASE,
                 domain_gain: int = DOMAIN_ID_GAIN,
                 participant_gain: int = PARTICIPANT_ID_GAIN) -> PortMapping:
    """The ports for ``domain_id``/``participant_id``; raises :class:`PortError` if > 65535."""
    if domain_id < 0:
        raise PortError(f"domain id must be >= 0, got {domain_id}")
    if participant_id < 0:
        raise PortError(f"participant id must be >= 0, got {participant_id}")
    base = port_base + domain_gain * domain_id
    unicast_base = base + participant_gain * participant_id
    ports = PortMapping(
        domain_id=domain_id, participant_id=participant_id,
        metatraffic_multicast=base + OFFSET_METATRAFFIC_MULTICAST,
        metatraffic_unicast=unicast_base + OFFSET_METATRAFFIC_UNICAST,
        user_multicast=base + OFFSET_USER_MULTICAST,
        user_unicast=unicast_base + OFFSET_USER_UNICAST,
    )
    if max(ports.metatraffic_unicast, ports.user_unicast, ports.user_multicast) > 65535:
        raise PortError(f"domain {domain_id} participant {participant_id}: ports exceed 65535 "
                        f"(user unicast would be {ports.user_unicast})")
    return ports


def spdp_multicast_port(domain_id: int) -> int:
    """The port every participant of ``domain_id`` listens on for SPDP announcements."""
    return port_mapping(domain_id).metatraffic_multicast


def allocate_participant_id(domain_id: int, try_bind: Callable[[PortMapping], bool], *,
                            first: int = 0, last: int = MAX_AUTO_PARTICIPANT_ID) -> PortMapping:
    """The first participant id in ``first..last`` whose ports ``try_bind`` could bind.

    ``try_bind`` is the engine's callback: it binds (and keeps) the unicast sockets for the
    mapping and returns True, or returns False if a port is taken (EADDRINUSE).
    """
    for pid in range(first, last + 1):
        mapping = port_mapping(domain_id, pid)
        if try_bind(mapping):
            return mapping
    raise PortError(f"domain {domain_id}: no free participant id in {first}..{last} "
                    "(all unicast ports taken)")
