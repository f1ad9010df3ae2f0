"""One wire vocabulary: every RTPS parameter id, flag, endpoint bit and entity id is defined
once, in ``rtbus/rtps/wire/constants.py``; the XCDR1 member-header ids of the CDR codec once,
in ``rtbus/cdr/encapsulation.py`` (the types layer does not import rtps). Everything else
imports them. These tests walk the source with ``ast`` so a copy cannot creep back in.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from pathlib import Path

import rtbus
import rtbus.qos
from rtbus.cdr import encapsulation
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire.qos_params import duration_from_wire, duration_to_wire

RTBUS = Path(rtbus.__file__).parent
CONSTANTS = "rtps/wire/constants.py"
CDR_IDS = "cdr/encapsulation.py"

#: A parameter id by name: PID_*, _PID_*, XCDR1_PID_*, PID_*_MU ...
PID_NAME = re.compile(r"^_?[A-Z0-9_]*PID_[A-Z0-9_]*$")
#: The rest of the RTPS vocabulary: entity ids and kinds, submessage ids and flags, builtin
#: endpoint bits, status info bits, vendor ids, encapsulation ids.
VOCABULARY_NAME = re.compile(
    r"^_?(?:BES_|EID_|ENTITYID_|ENTITYKIND_|_?KIND_(?:WRITER|READER)|SMID_|STATUS_INFO_|"
    r"STATUS_(?:DISPOSED|UNREGISTERED|FILTERED)$|VENDORID_|VENDOR_ID_|"
    r"[A-Z_]*FLAG_[A-Z]$|[A-Z_]*_(?:ANNOUNCER|DETECTOR)$|(?:TYPE_LOOKUP|PARTICIPANT_MESSAGE)_"
    r"(?:REQUEST|REPLY|DATA)_(?:WRITER|READER)$)")

def _is_literal(node: ast.expr) -> bool:
    """An int or bytes literal, an expression of them (``1 << 3``, ``0x7F | 0x4000``) or a
    ``bytes.fromhex("...")`` / ``EntityId(b"...")`` built from one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, bytes)) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) and _is_literal(node.right)
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else "")
        return name in _BUILDERS and bool(node.args) and all(
            _is_literal(a) or (isinstance(a, ast.Constant) and isinstance(a.value, str))
            for a in node.args)
    return False


_BUILDERS = frozenset({"bytes", "fromhex", "EntityId", "GuidPrefix"})


def _literal_definitions(pattern: re.Pattern[str]) -> dict[str, set[str]]:
    """{module path relative to rtbus/: names matching ``pattern`` bound to a literal}."""
    found: dict[str, set[str]] = {}
    for path in sorted(RTBUS.rglob("*.py")):
        rel = path.relative_to(RTBUS).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            names: list[str] = []
            values: list[ast.expr] = []
            for t in targets:  # also ``A, B = 1, 2``
                if isinstance(t, ast.Name):
                    names.append(t.id)
                    values.append(value)
                elif isinstance(t, ast.Tuple) and isinstance(value, ast.Tuple):
                    for elt, v in zip(t.elts, value.elts, strict=False):
                        if isinstance(elt, ast.Name):
                            names.append(elt.id)
                            values.append(v)
            for name, v in zip(names, values, strict=True):
                if pattern.match(name) and _is_literal(v):
                    found.setdefault(rel, set()).add(name)
    return found


def test_parameter_ids_are_defined_only_in_the_two_vocabulary_modules() -> None:
    found = _literal_definitions(PID_NAME)
    elsewhere = {m: names for m, names in found.items() if m not in (CONSTANTS, CDR_IDS)}
    assert not elsewhere, (f"parameter ids defined outside {CONSTANTS} / {CDR_IDS}: "
                           f"{elsewhere}; import them instead")
    assert found.get(CONSTANTS), "the walk found no PID in wire/constants.py: is it broken?"
    # the CDR module holds the XCDR1 member-header ids only, under their XCDR1_ names
    assert found.get(CDR_IDS) and all(n.startswith("XCDR1_") for n in found[CDR_IDS])


def test_flags_bits_and_entity_ids_are_defined_only_in_constants() -> None:
    found = _literal_definitions(VOCABULARY_NAME)
    found.pop(CONSTANTS, None)
    assert not found, f"RTPS vocabulary defined outside {CONSTANTS}: {found}; import it instead"
    assert _literal_definitions(VOCABULARY_NAME).get(CONSTANTS)


def test_each_parameter_id_has_one_name() -> None:
    pids = {k: v for k, v in vars(C).items() if k.startswith("PID_") and isinstance(v, int)
            and not k.startswith("PID_FLAG_")}
    by_value: dict[int, list[str]] = {}
    for name, value in pids.items():
        by_value.setdefault(value, []).append(name)
    assert {v: n for v, n in by_value.items() if len(n) > 1} == {}


def test_cdr_member_header_ids() -> None:
    assert encapsulation.XCDR1_PID_EXTENDED_MU == 0x7F01
    assert encapsulation.XCDR1_PID_LIST_END_MU == 0x7F02
    assert encapsulation.XCDR1_PID_EXTENDED & encapsulation.XCDR1_PID_MASK == 0x3F01


def test_public_qos_module_holds_no_wire_codec() -> None:
    for name in ("policies_to_wire", "qos_from_wire", "duration_to_wire", "duration_from_wire",
                 "read_string", "PID_RELIABILITY"):
        assert not hasattr(rtbus.qos, name), f"rtbus.qos.{name} belongs in rtbus.rtps.wire"
    source = (RTBUS / "qos.py").read_text(encoding="utf-8")
    assert "import struct" not in source


def test_durations_are_written_as_cyclone_writes_them_and_read_to_the_nearest_ns() -> None:
    # Cyclone: fraction = ceil(ns * 2^32 / 10^9) (ddsi_time.c to_ddsi_time)
    assert duration_to_wire(0.2) == struct.pack("<iI", 0, 858993460)
    assert duration_to_wire(0.5) == struct.pack("<iI", 0, 0x80000000)
    assert duration_to_wire(math.inf) == struct.pack("<iI", 0x7FFFFFFF, 0xFFFFFFFF)
    # a truncated (or nearest-rounded) 0.1 s from another stack still reads as 0.1 s
    assert duration_from_wire(struct.pack("<iI", 0, 0x19999999)) == 0.1
    assert duration_from_wire(struct.pack("<iI", 0, 858993459)) == 0.2
