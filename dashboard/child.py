"""What the dashboard's processes share: finding mnistlab from a checkout, their memory, and dying with the server."""

from __future__ import annotations

import ctypes
import signal
import sys
from pathlib import Path


def checkout_on_path() -> None:
    """Run from a checkout (`streamlit run dashboard/app.py`, which puts only dashboard/ on the path), make its
    mnistlab importable. Installed, the dashboard lives inside the mnistlab package and mnistlab is importable
    already: nothing is added (above it is site-packages' mnistlab folder, whose modules must not become top-level)."""
    root = Path(__file__).resolve().parents[1]
    if (root / "mnistlab" / "__init__.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process, from /proc (Linux); 0 where there is no reading."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class GrowthWatch:
    """A long-lived child's memory against its size after its first job. TensorFlow keeps a few MiB for every
    model a process ever builds or loads, so a child that has grown past a limit is replaced while idle."""

    def __init__(self):
        self.baseline: int | None = None

    def grown(self, rss: int, limit: int) -> bool:
        if self.baseline is None:
            self.baseline = rss
        return rss > self.baseline + limit


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so a killed server leaves no orphan behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
