"""Build the Cython hot paths in ext/ into rtbus/_ext/; fall back to pure Python without a compiler.

Set RTBUS_PURE_PYTHON=1 at build time to skip compiling (and at run time to ignore the
compiled modules).
"""

import os
import shutil
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


# ext/*.pxd staged under the package path of the modules they describe (see stage_pxd)
PXD_STAGE = Path("build") / "pxd"


def stage_pxd() -> Path:
    """Put ext/*.pxd where Cython looks for them, and return the include directory.

    Cython finds a cimported module's .pxd by the module's full name (``from rtbus._ext.cdr
    cimport Node`` wants ``rtbus/_ext/cdr.pxd`` on the include path) and the C code it
    writes imports that same name at run time, so the declarations must sit in an
    ``rtbus/_ext/`` directory while the sources stay in ext/. A copy under build/pxd/ does
    that without a second copy in the tree to edit; a file is rewritten only when it changed,
    so Cython's timestamp checks recompile exactly the modules that depend on it.
    """
    stage = PXD_STAGE / "rtbus" / "_ext"
    stage.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in Path("ext").glob("*.pxd")}
    for name, src in wanted.items():
        dst = stage / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    for old in stage.glob("*.pxd"):
        if old.name not in wanted:
            old.unlink()
    return PXD_STAGE


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
    return cythonize(exts, language_level=3, include_path=[str(stage_pxd())], compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True, "embedsignature": True,
    }, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
