"""The 4-byte encapsulation header in front of every serialized payload (RTPS 10.2, XTypes 7.6.3).

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
           "PL_CDR2_LE"]
