"""Builtin DDS Security plugins (authentication, access control, cryptography, logging,
data tagging), loaded through the ``rtbus.security_plugins`` entry point group exactly as a
third party's would be. The plugins arrive with the security issue; this package reserves
the seam's home."""
