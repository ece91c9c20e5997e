"""Load for tests whose promises must hold on a busy machine: `with cpu_hog(): ...` keeps every
core busy with spinning processes until the block ends, so that a test which passes only on an
idle machine fails here first instead of in production."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

_SPIN = "while True:\n    pass\n"


@contextlib.contextmanager
def cpu_hog(processes: int | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One busy-looping process per core (or `processes`), killed when the block ends."""
    count = processes if processes is not None else (os.cpu_count() or 2)
    spinners = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
