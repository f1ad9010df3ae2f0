import pytest

from rtbus.rtps.ports import PortError, allocate_participant_id, port_mapping, spdp_multicast_port


def test_domain0_participant0_matches_spec_table():
    m = port_mapping(0, 0)
    assert (m.metatraffic_multicast, m.metatraffic_unicast, m.user_multicast,
            m.user_unicast) == (7400, 7410, 7401, 7411)


def test_domain_and_participant_gains():
    m = port_mapping(17, 3)
    assert m.metatraffic_multicast == 7400 + 250 * 17  # 11650, seen in the Cyclone capture
    assert m.metatraffic_unicast == 11650 + 6 + 10
    assert m.user_unicast == 11650 + 6 + 11
    assert spdp_multicast_port(17) == 11650


def test_ports_past_65535_rejected():
    port_mapping(232, 0)
    with pytest.raises(PortError, match="65535"):
        port_mapping(233, 0)
    with pytest.raises(PortError):
        port_mapping(-1)


def test_allocator_skips_taken_ids():
    taken = {7410, 7412}
    tried = []

    def try_bind(m):
        tried.append(m.participant_id)
        return m.metatraffic_unicast not in taken

    m = allocate_participant_id(0, try_bind)
    assert m.participant_id == 2 and tried == [0, 1, 2]


def test_allocator_exhausted():
    with pytest.raises(PortError, match="no free participant id"):
        allocate_participant_id(0, lambda m: False, last=5)
