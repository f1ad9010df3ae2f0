"""`rtbus demo`, the README's first command, run as a user runs it: every sample arrives."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.system


@pytest.mark.parametrize("samples", [1000, 5000])
def test_demo_delivers_every_sample_and_the_dispose(samples: int, domain_id: int) -> None:
    run = subprocess.run([sys.executable, "-m", "rtbus", "demo", "--samples", str(samples),
                          "--domain", str(domain_id)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"received {samples}/{samples} samples reliably; BLUE instance disposed: True" \
        in run.stdout
    assert "matched after" in run.stdout
