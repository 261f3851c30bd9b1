"""Dashboard first paint: server start → the Build page rendered in headless Chromium.

Baseline in the same run: a fresh Python process doing only `import tensorflow`. The dashboard
imports TensorFlow lazily, so its first paint should not pay for that import. Interleaved
repeats, medians.

    python bench/first_paint.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from common import machine, median

from launch import CHROMIUM, CHROMIUM_ARGS, READY, start_server, stop_server


def import_tensorflow_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    return time.perf_counter() - start


def first_paint_seconds(browser) -> tuple[float, float]:
    """(server start → page painted, server start → health check answers)."""
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        process, url = start_server(home)
        healthy = time.perf_counter() - start
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector(READY, timeout=60_000)
            page.get_by_text("Build a network").wait_for(timeout=60_000)
            elapsed = time.perf_counter() - start
            page.close()
            return elapsed, healthy
        finally:
            stop_server(process)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    paints, healthy, imports = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.repeats):
            paint, health = first_paint_seconds(browser)
            paints.append(paint)
            healthy.append(health)
            imports.append(import_tensorflow_seconds())
        browser.close()
    print(f"machine: {machine()}")
    print(f"server start → Build page painted: median {median(paints):.2f} s (max {max(paints):.2f} s); "
          f"of which server start → health check: median {median(healthy):.2f} s")
    print(f"baseline `import tensorflow` in a fresh process: median {median(imports):.2f} s")
    print(f"ratio first paint / import tensorflow: {median(paints) / median(imports):.2f}")


if __name__ == "__main__":
    main()
