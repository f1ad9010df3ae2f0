"""Type stub of the compiled CDR codec (built from ext/cdr.pyx)."""

from typing import Any

from rtbus.types.model import IdlType

class Codec:
    """Encoder/decoder for one struct or union type, compiled once into a plan."""

    model: IdlType
    def __init__(self, model: IdlType) -> None: ...
    def encode(self, sample: Any, xcdr2: bool = True, little: bool = True) -> bytes:
        """The full serialized payload, 4-byte encapsulation header included."""
    def decode(self, buf: bytes | bytearray | memoryview) -> Any:
        """A sample from a payload (header included); raises DecodeError on bad input."""

def compile_codec(model: IdlType) -> Codec:
    """Compile a model; NotImplementedError for constructs the compiled codec does not handle."""
