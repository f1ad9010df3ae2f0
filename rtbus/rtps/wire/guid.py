"""GUIDs: ``GuidPrefix`` (12 bytes), ``EntityId`` (4 bytes), ``Guid`` (16 bytes).

All three are ``bytes`` subclasses: hashing and comparison run in C, they are dict keys as they
come off the wire, and ``bytes(guid)`` is the wire form.
"""

from __future__ import annotations

from . import constants as C

_bytes_new = bytes.__new__  # builds a subclass instance without its checking __new__


class GuidPrefix(bytes):
    """The 12-byte prefix shared by every entity of a participant."""

    __slots__ = ()

    def __new__(cls, value: bytes | bytearray | memoryview = bytes(12)) -> GuidPrefix:
        if len(value) != 12:
            raise ValueError(f"GuidPrefix needs 12 bytes, got {len(value)}")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"GuidPrefix({self.hex(':', 4)})"


class EntityId(bytes):
    """A 4-byte entity id: 3-byte key, 1-byte kind. ``EntityId(key3, kind)``, ``EntityId(b4)``."""

    __slots__ = ()

    def __new__(cls, value: bytes | bytearray | memoryview | int, kind: int | None = None,
                ) -> EntityId:
        if isinstance(value, int):
            return super().__new__(cls, value.to_bytes(4, "big"))
        if kind is not None:
            if len(value) != 3:
                raise ValueError(f"EntityId key needs 3 bytes, got {len(value)}")
            return super().__new__(cls, bytes(value) + bytes((kind,)))
        if len(value) != 4:
            raise ValueError(f"EntityId needs 4 bytes, got {len(value)}")
        return super().__new__(cls, value)

    @property
    def key(self) -> bytes:
        return bytes(self[:3])

    @property
    def kind(self) -> int:
        return self[3]

    @property
    def value(self) -> int:
        """The id as the big-endian integer the spec tables use (0x000100c2...)."""
        return int.from_bytes(self, "big")

    @property
    def is_builtin(self) -> bool:
        return (self[3] & C.ENTITYKIND_BUILTIN_FLAG) == C.ENTITYKIND_BUILTIN_FLAG

    @property
    def is_writer(self) -> bool:
        return (self[3] & 0x3F) in (0x02, 0x03)

    @property
    def is_reader(self) -> bool:
        return (self[3] & 0x3F) in (0x04, 0x07)

    def __repr__(self) -> str:
        return f"EntityId(0x{self.hex()})"


class Guid(bytes):
    """A 16-byte GUID. ``Guid(prefix, entity_id)`` or ``Guid(b16)``."""

    __slots__ = ()

    def __new__(cls, prefix: bytes | bytearray | memoryview,
                entity_id: bytes | bytearray | memoryview | None = None) -> Guid:
        if entity_id is None:
            if len(prefix) != 16:
                raise ValueError(f"Guid needs 16 bytes, got {len(prefix)}")
            return super().__new__(cls, prefix)
        if len(prefix) != 12 or len(entity_id) != 4:
            raise ValueError(f"Guid needs a 12-byte prefix and a 4-byte entity id, got "
                             f"{len(prefix)} and {len(entity_id)}")
        return super().__new__(cls, bytes(prefix) + bytes(entity_id))

    @property
    def prefix(self) -> GuidPrefix:
        return _bytes_new(GuidPrefix, self[:12])

    @property
    def entity_id(self) -> EntityId:
        return _bytes_new(EntityId, self[12:])

    def __repr__(self) -> str:
        return f"Guid({self[:12].hex(':', 4)}|{self[12:].hex()})"


GUIDPREFIX_UNKNOWN = GuidPrefix(bytes(12))
ENTITYID_UNKNOWN = EntityId(C.EID_UNKNOWN)
ENTITYID_PARTICIPANT = EntityId(C.EID_PARTICIPANT)
ENTITYID_SEDP_BUILTIN_TOPIC_WRITER = EntityId(C.EID_SEDP_BUILTIN_TOPIC_WRITER)
ENTITYID_SEDP_BUILTIN_TOPIC_READER = EntityId(C.EID_SEDP_BUILTIN_TOPIC_READER)
ENTITYID_SEDP_BUILTIN_PUBLICATIONS_WRITER = EntityId(C.EID_SEDP_BUILTIN_PUBLICATIONS_WRITER)
ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER = EntityId(C.EID_SEDP_BUILTIN_PUBLICATIONS_READER)
ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER = EntityId(C.EID_SEDP_BUILTIN_SUBSCRIPTIONS_WRITER)
ENTITYID_SEDP_BUILTIN_SUBSCRIPTIONS_READER = EntityId(C.EID_SEDP_BUILTIN_SUBSCRIPTIONS_READER)
ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER = EntityId(C.EID_SPDP_BUILTIN_PARTICIPANT_WRITER)
ENTITYID_SPDP_BUILTIN_PARTICIPANT_READER = EntityId(C.EID_SPDP_BUILTIN_PARTICIPANT_READER)
ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER = EntityId(
    C.EID_P2P_BUILTIN_PARTICIPANT_MESSAGE_WRITER)
ENTITYID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER = EntityId(
    C.EID_P2P_BUILTIN_PARTICIPANT_MESSAGE_READER)
ENTITYID_TL_SVC_REQUEST_WRITER = EntityId(C.EID_TL_SVC_REQUEST_WRITER)
ENTITYID_TL_SVC_REQUEST_READER = EntityId(C.EID_TL_SVC_REQUEST_READER)
ENTITYID_TL_SVC_REPLY_WRITER = EntityId(C.EID_TL_SVC_REPLY_WRITER)
ENTITYID_TL_SVC_REPLY_READER = EntityId(C.EID_TL_SVC_REPLY_READER)
