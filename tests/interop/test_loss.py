"""Reliable transfers lose nothing when 10% of UDP datagrams are dropped at random.

Each run gets a fresh network namespace (nested in the suite's) whose iptables drop 10% of
received UDP datagrams, so the loss touches only that run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]
PEER = Path(__file__).parent / "peers" / "loss_run.py"


@pytest.mark.parametrize("mode", ["rtbus-rtbus", "rtbus-cyclone", "cyclone-rtbus"])
def test_reliable_1000_samples_with_10_percent_loss(mode: str, domain_id: int) -> None:
    if shutil.which("iptables") is None:
        pytest.fail("iptables is needed for loss tests (apt-get install iptables)")
    proc = subprocess.run(
        [sys.executable, "-m", "rtbus.netns", "--fresh", "--loss", "10", sys.executable,
         str(PEER), mode, str(domain_id)],
        capture_output=True, text=True, timeout=180, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["got"] == list(range(1000)), (
        f"{mode}: got {len(result['got'])} samples; stats {result['stats']}")
