"""Shared helpers for the benchmarks: paths, statistics and a machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "dashboard"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist.npz"
if not os.environ.get("MNISTLAB_DATA") and SHARED_MNIST.is_file():
    os.environ["MNISTLAB_DATA"] = str(SHARED_MNIST)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def settle(page) -> None:
    """Wait until the dashboard's script run has finished (sync Playwright page)."""
    from launch import READY

    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=120_000)


def set_number(page, label: str, value) -> None:
    """Type a number into the box labelled `label` and press Enter, as a person does."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    settle(page)
