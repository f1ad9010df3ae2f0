"""Build the Cython hot paths in ext/ into rtbus/_ext/; fall back to pure Python without a compiler.

Set RTBUS_PURE_PYTHON=1 at build time to skip compiling (and at run time to ignore the
compiled modules).
"""

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Compile the extensions, but never fail the install: rtbus has a pure-Python twin."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            print(f"rtbus: compiled extensions skipped ({exc}); using pure Python", file=sys.stderr)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"rtbus: extension {ext.name} skipped ({exc})", file=sys.stderr)


def extensions() -> list:
    if os.environ.get("RTBUS_PURE_PYTHON") == "1":
        return []
    try:
        import numpy
        from Cython.Build import cythonize
    except ImportError:
        return []
    sources = sorted(str(p) for p in Path("ext").glob("*.pyx"))
    if not sources:
        return []
    from setuptools import Extension

    exts = [
        Extension(f"rtbus._ext.{Path(s).stem}", [s], include_dirs=[numpy.get_include(), "ext"],
                  extra_compile_args=["-O3"])
        for s in sources
    ]
    return cythonize(exts, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True, "embedsignature": True,
    }, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
