"""XTypes 1.3 type representation: TypeIdentifiers, TypeObjects, TypeInformation and the
TypeLookup messages.

Computed from the rtbus type model exactly as Cyclone DDS computes them, so that the hashes
and the PID_TYPE_INFORMATION bytes we put in SEDP are the ones peers expect::

    info = rtbus.xtypes.type_information(model)          # PID_TYPE_INFORMATION value
    tid = rtbus.xtypes.type_identifier(model, "minimal")  # TypeIdentifier (EK_MINIMAL hash)
    obj = rtbus.xtypes.type_object(model, "complete")     # serialized TypeObject
    rtbus.xtypes.matches(model, remote_info_bytes)        # SEDP type match (hash equality)
    registry = rtbus.xtypes.TypeRegistry(); registry.add(model)
    reply_payload = rtbus.xtypes.lookup(registry, request_payload)  # answer a TypeLookup request
"""

from __future__ import annotations

from .lookup_messages import TypeRegistry, lookup
from .typeid import TypeIdentifier
from .typeinfo import (
    TypeIdWithDependencies,
    TypeIdWithSize,
    TypeInformation,
    decode_type_information,
    matches,
    type_information,
    type_information_of,
)
from .typeobject import (
    Kind,
    TypeObjectPair,
    UnsupportedTypeError,
    type_identifier,
    type_object,
    type_objects,
)

__all__ = [
    "Kind", "TypeIdWithDependencies", "TypeIdWithSize", "TypeIdentifier", "TypeInformation",
    "TypeObjectPair", "TypeRegistry", "UnsupportedTypeError", "decode_type_information",
    "lookup", "matches",
    "type_identifier", "type_information", "type_information_of", "type_object",
    "type_objects",
]
