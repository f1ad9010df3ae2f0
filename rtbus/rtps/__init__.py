"""The RTPS protocol: the wire layer (:mod:`rtbus.rtps.wire`) and the sans-IO core on top."""
