"""Shared test support: the Cyclone DDS corpus, the cyclonedds <-> rtbus bridge, strategies."""
