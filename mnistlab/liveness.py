"""Whether the process that owns a run is still alive: a queued or running run whose owner is gone reads back as
interrupted. A pid alone can be reused, so run.json keeps the owner's start time beside it."""

from __future__ import annotations

import os
from pathlib import Path


def owner() -> dict:
    return {"pid": os.getpid(), "pid_started": process_start(os.getpid())}


def owner_alive(info: dict) -> bool:
    pid = info.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or no pid this OS can have
        return False
    except PermissionError:
        pass
    started = info.get("pid_started")
    if started is None:  # a live pid we cannot tell apart from a reused one: ours record the start where it exists
        return process_start(os.getpid()) is None
    return process_start(pid) == started


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])

