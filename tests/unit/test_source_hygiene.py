"""The tree stays ruff-clean and the typed packages mypy-clean (as uvloop/asyncpg check it)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("tool,args", [
    ("ruff", ["check", "rtbus", "security_plugins", "tests", "benchmarks"]),
    ("mypy", []),  # packages and settings from pyproject.toml
])
def test_tool_is_clean(tool: str, args: list[str]) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (it is in the [test] extra)")
    proc = subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
