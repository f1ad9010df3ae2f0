"""Sockets: interface selection and UDP (unicast + multicast) endpoints for the engine."""
