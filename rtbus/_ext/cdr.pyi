"""Type stub of the compiled CDR codec (built from ext/cdr.pyx; C-level interface: ext/cdr.pxd)."""

from typing import Any

from rtbus.types.model import IdlType

Buffer = bytes | bytearray | memoryview

class Codec:
    """Encoder/decoder for one struct or union type, compiled once into a plan."""

    model: IdlType
    def __init__(self, model: IdlType) -> None: ...
    def encode(self, sample: Any, xcdr2: bool = True, little: bool = True) -> bytes:
        """The full serialized payload, 4-byte encapsulation header included."""
    def decode(self, buf: Buffer) -> Any:
        """A sample from a payload (header included); raises DecodeError on bad input."""

def compile_codec(model: IdlType) -> Codec:
    """Compile a model; NotImplementedError for constructs the compiled codec does not handle."""

class KeyCodec:
    """The key forms of one type (twin of rtbus.cdr.pure.KeyCodec)."""

    model: IdlType
    def __init__(self, model: IdlType) -> None: ...
    def encode(self, sample: Any, xcdr2: bool = True, little: bool = True) -> bytes:
        """Header + the key-only SAMPLE form (a DATA(K) payload; no pad count)."""
    def decode(self, buf: Buffer) -> Any:
        """A sample from a key-only SAMPLE-form payload; the other fields at defaults."""
    def serialize(self, sample: Any, xcdr2: bool = True, little: bool = False) -> bytes:
        """The header-less KEYHASH form of the sample's key."""
    def deserialize(self, buf: Buffer, xcdr2: bool = True, little: bool = False) -> Any:
        """A sample from its KEYHASH form; the other fields at defaults."""
    def hash(self, sample: Any) -> bytes:
        """The 16-byte key hash (XCDR2)."""
    def hash_xcdr1(self, sample: Any) -> bytes:
        """The 16-byte key hash as an XCDR1 writer computes it."""

def compile_key_codec(model: IdlType) -> KeyCodec:
    """Compile a model's key forms; NotImplementedError where unsupported."""

class KeyScanner:
    """The key hash of a keyed struct straight from its serialized bytes."""

    model: IdlType
    def __init__(self, model: IdlType) -> None: ...
    def scans(self, xcdr2: bool, key_input: bool = False) -> bool:
        """Whether that payload form is scanned (else data/key return None)."""
    def data(self, payload: Buffer) -> bytes | None:
        """The key hash from a full sample payload; None where the form is not scanned."""
    def key(self, payload: Buffer) -> bytes | None:
        """The key hash from a key-only payload; None where the form is not scanned."""

def compile_key_scanner(model: IdlType) -> KeyScanner:
    """A keyed struct's key scanner; NotImplementedError for keys it does not read."""

def md5_digest(data: Buffer) -> bytes:
    """MD5 by the key hash's own C implementation (tested against hashlib)."""

WIRE_CONSTANTS: dict[str, int]
