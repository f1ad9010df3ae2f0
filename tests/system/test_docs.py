"""Every code block in README.md and docs/*.md runs as written.

- ``python`` blocks of one file run in order as one script (a reader pastes them one after
  the other into one session), in a fresh interpreter in the repository root, inside this
  test's network namespace;
- ``toml`` blocks are config files: rtbus's own loader must read them;
- ``sh`` blocks are the README's two commands: the test command is what ``.ci/run`` runs
  verbatim (so CI proves it on a clean clone), and everything after the install runs here;
- untagged blocks are output or diagrams, not code; any other tag fails, so a new kind of
  block cannot slip past unchecked.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_blocks import DOCS, ROOT, blocks, python_script

pytestmark = pytest.mark.system
KNOWN = {"", "python", "toml", "sh"}
WITH_PYTHON = [p for p in DOCS if any(b.lang == "python" for b in blocks(p))]


def test_every_block_has_a_known_kind() -> None:
    odd = [(b.where, b.lang) for p in DOCS for b in blocks(p) if b.lang not in KNOWN]
    assert not odd, f"code blocks of a kind this test does not run: {odd}"
    assert WITH_PYTHON and ROOT / "README.md" in WITH_PYTHON


@pytest.mark.parametrize("path", WITH_PYTHON, ids=[p.name for p in WITH_PYTHON])
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    script = tmp_path / f"{path.stem}_blocks.py"
    script.write_text(python_script(path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{path.name}'s python blocks failed:\n{run.stdout}{run.stderr}"


def test_toml_blocks_are_configs_rtbus_reads(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from rtbus.transport import netconfig

    tomls = [b for p in DOCS for b in blocks(p) if b.lang == "toml"]
    assert tomls
    for i, b in enumerate(tomls):
        cfg = tmp_path / f"config{i}.toml"
        cfg.write_text(b.code)
        monkeypatch.setenv(netconfig.CONFIG_ENV, str(cfg))
        table = netconfig.network_table()  # raises ConfigError on an unknown key
        assert table, f"{b.where}: no [network] settings read"
        for key in ("socket_receive_buffer", "socket_send_buffer"):
            if key in table:
                assert netconfig.buffer_size(key, 0) > 0, b.where


def _readme_commands() -> list[str]:
    return [b.code.strip() for b in blocks(ROOT / "README.md") if b.lang == "sh"]


def test_the_readme_test_command_is_what_ci_runs() -> None:
    commands = _readme_commands()
    tests = [c for c in commands if "pytest" in c]
    assert len(tests) == 1, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests[0] in ci, f".ci/run does not run the README's test command {tests[0]!r}"


def test_the_readme_demo_command_runs() -> None:
    demo = [c for c in _readme_commands() if "pytest" not in c]
    assert len(demo) == 1, demo
    install, _, rest = demo[0].partition(" && ")
    assert shlex.split(install)[:2] == ["pip", "install"], demo[0]
    # the install itself is CI's (a clean clone); here the package is installed already
    run = subprocess.run(rest, shell=True, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failover: the backup owns the instance" in run.stdout, run.stdout
    assert "non-owner samples after a switch 0" in run.stdout, run.stdout
