"""The 4-byte encapsulation header in front of every serialized payload (RTPS 10.2, XTypes 7.6.3).

The encapsulation ids are defined here only; the wire layer (discovery's PL_CDR) and the
TypeLookup messages import them.

Two big-endian bytes name the representation (version, extensibility class, endianness in
the low bit), two bytes carry options. We write options 0, as cyclonedds-python does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DecodeError

CDR_BE, CDR_LE = 0x0000, 0x0001
PL_CDR_BE, PL_CDR_LE = 0x0002, 0x0003
CDR2_BE, CDR2_LE = 0x0006, 0x0007
D_CDR2_BE, D_CDR2_LE = 0x0008, 0x0009
PL_CDR2_BE, PL_CDR2_LE = 0x000A, 0x000B
XML = 0x0004  # named by RTPS 10.5; rtbus neither writes nor decodes it

# XCDR1 parameter (member) headers of PL_CDR and of optional members (DDS-XTypes 1.3
# 7.4.1.2.1): the low 14 bits are the id, 0x4000 is must-understand. These are CDR-level ids,
# not RTPS parameter-list PIDs (rtbus.rtps.wire.constants), hence defined here, once, for
# the pure codec and the key extractor; ext/cdr.pxd restates them as a cdef enum.
XCDR1_PID_MASK = 0x3FFF
XCDR1_PID_FLAG_MUST_UNDERSTAND = 0x4000
XCDR1_PID_EXTENDED = 0x3F01  # an extended header follows: member id and length, 4 bytes each
XCDR1_PID_LIST_END = 0x3F02  # the sentinel that closes a PL_CDR struct
XCDR1_PID_EXTENDED_MU = XCDR1_PID_EXTENDED | XCDR1_PID_FLAG_MUST_UNDERSTAND  # 0x7F01
XCDR1_PID_LIST_END_MU = XCDR1_PID_LIST_END | XCDR1_PID_FLAG_MUST_UNDERSTAND  # 0x7F02

_KNOWN = {CDR_BE, CDR_LE, PL_CDR_BE, PL_CDR_LE, CDR2_BE, CDR2_LE, D_CDR2_BE, D_CDR2_LE,
          PL_CDR2_BE, PL_CDR2_LE}


@dataclass(frozen=True)
class Encapsulation:
    identifier: int
    options: int

    @property
    def xcdr2(self) -> bool:
        return self.identifier >= CDR2_BE

    @property
    def little(self) -> bool:
        return bool(self.identifier & 1)


def identifier_for(extensibility: str, xcdr2: bool, little: bool) -> int:
    """The identifier for a top-level type: by extensibility (XCDR2) or mutability (XCDR1)."""
    if xcdr2:
        base = {"final": CDR2_BE, "appendable": D_CDR2_BE, "mutable": PL_CDR2_BE}[extensibility]
    else:
        base = PL_CDR_BE if extensibility == "mutable" else CDR_BE
    return base | (1 if little else 0)


def parse_header(data: bytes | bytearray | memoryview) -> Encapsulation:
    if len(data) < 4:
        raise DecodeError(f"payload of {len(data)} bytes is shorter than the 4-byte header")
    ident = (data[0] << 8) | data[1]
    if ident not in _KNOWN:
        raise DecodeError(f"unsupported encapsulation identifier 0x{ident:04x}")
    return Encapsulation(ident, (data[2] << 8) | data[3])


__all__ = ["Encapsulation", "parse_header", "identifier_for", "CDR_BE", "CDR_LE", "PL_CDR_BE",
           "PL_CDR_LE", "CDR2_BE", "CDR2_LE", "D_CDR2_BE", "D_CDR2_LE", "PL_CDR2_BE",
           "PL_CDR2_LE", "XCDR1_PID_EXTENDED", "XCDR1_PID_EXTENDED_MU",
           "XCDR1_PID_FLAG_MUST_UNDERSTAND", "XCDR1_PID_LIST_END", "XCDR1_PID_LIST_END_MU",
           "XCDR1_PID_MASK"]
