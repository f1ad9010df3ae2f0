"""Peer processes a test starts, kills and reads (their stdout is read by a thread)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class PeerProcess:
    """``python ARGS...`` with the lines it printed in :attr:`lines`; a context manager that
    reaps it. ``cwd``: where it runs (a peer importing its neighbours by plain name)."""

    def __init__(self, *args: object, cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, *map(str, args)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=cwd)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def said(self, line: str) -> int:
        """How many times it printed ``line``."""
        return self.lines.count(line)

    def kill(self) -> float:
        """SIGKILL it (nothing said on the wire); the monotonic time of the kill."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return time.monotonic()

    def __enter__(self) -> PeerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class Arrivals:
    """What an EXCLUSIVE reader delivered, as (arrival time, writer id in ``data.x``)."""

    def __init__(self, reader: object) -> None:
        self.reader = reader
        self.got: list[tuple[float, int]] = []

    def take(self) -> list[int]:
        """Take what arrived; the writer ids of everything so far."""
        self.got.extend((time.monotonic(), s.data.x)  # type: ignore[attr-defined]
                        for s in self.reader.take(timeout=0.02)  # type: ignore[attr-defined]
                        if s.info.valid_data)
        return [x for _, x in self.got]

    def switch(self, after: int, backup: int) -> int:
        """Index of the first sample of ``backup`` at or after index ``after``."""
        return next(i for i, (_, x) in enumerate(self.got) if i >= after and x == backup)
