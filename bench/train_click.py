"""Train button → first live point visible, in Chromium: cold (the first run after the server starts) and warm.

For each of two servers started side by side in this run — with the training process warmed when the
server's first page is shown (the default) and without (MNISTLAB_WARM_TRAINER=0, as before) — a fresh
browser opens Build, sets CNN 4 to 1 epoch on 10,000 images, and presses Train: the time from the click
to the first point of the live batch-loss curve drawn on the Train page (cold). The run is stopped,
and the same is done --repeats more times (warm). Cold on the warm-up server starts --delay seconds
after its first page, as a teacher's first Train would. Baseline, in the same browser: a click on
Build's "Add layer" → the new layer on screen (Streamlit's own click-to-render floor).
Goals (issue 10): warm ≤ 2 s, cold ≤ 5 s.

    python bench/train_click.py [--repeats 5] [--delay 10] [--smoke]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time

from common import machine, median, percentile, set_number, settle

from launch import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

POINT = "[data-testid='stPlotlyChart'] .scatterlayer .trace .points path"


def prepare_build(page, url):
    page.goto(url)
    settle(page)
    set_number(page, "Epochs", 1)
    page.get_by_text("Train on a slice").click()
    settle(page)
    set_number(page, "training images", 10_000)


def click_to_point(page, url) -> float:
    prepare_build(page, url)
    start = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_selector(POINT, timeout=300_000)
    seconds = time.perf_counter() - start
    page.get_by_role("button", name="Stop").click()
    # A loaded machine can end the one short epoch before the click lands: then the run completed instead.
    page.get_by_text(re.compile("Training was stopped|Training completed")).first.wait_for(timeout=300_000)
    return seconds


def add_layer_floor(page, url, repeats: int) -> list[float]:
    page.goto(url)
    settle(page)
    times = []
    for _ in range(repeats):
        before = page.get_by_role("button", name="✕").count()
        start = time.perf_counter()
        page.get_by_role("button", name="Add layer").click()
        page.wait_for_function(f"document.querySelectorAll('button').length > 0 && "
                               f"[...document.querySelectorAll('button')].filter(b => b.innerText.trim() === '✕')"
                               f".length > {before}")
        times.append(time.perf_counter() - start)
        settle(page)
    return times


def measure(browser, warm_up: bool, repeats: int, delay: float) -> dict:
    with tempfile.TemporaryDirectory() as home:
        process, url = start_server(home, env={"MNISTLAB_WARM_TRAINER": "1" if warm_up else "0"})
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(url)
            settle(page)
            time.sleep(delay)  # the teacher looks at Build for a moment before the first Train
            cold = click_to_point(page, url)
            warm = [click_to_point(page, url) for _ in range(repeats)]
            floor = add_layer_floor(page, url, repeats) if warm_up else []
            context.close()
        finally:
            stop_server(process)
    return {"cold": cold, "warm": warm, "floor": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--delay", type=float, default=10.0)
    parser.add_argument("--smoke", action="store_true", help="one warmed server, one warm run: to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.delay = 1, 0.0
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        warmed = measure(browser, True, args.repeats, args.delay)
        before = None if args.smoke else measure(browser, False, args.repeats, args.delay)
        browser.close()
    print(f"machine: {machine()}")
    spread = lambda values: f"median {median(values):.2f} s, p95 {percentile(values, 95):.2f} s"  # noqa: E731
    print(f"Train click → first point visible, training process warmed at the server's first page: "
          f"cold {warmed['cold']:.2f} s, warm {spread(warmed['warm'])} ({args.repeats} runs: "
          f"{', '.join(f'{t:.2f}' for t in warmed['warm'])} s)")
    if before:
        print(f"the same without the warm-up (as before): cold {before['cold']:.2f} s, warm {spread(before['warm'])}")
    print(f"baseline, Add layer click → layer on screen: {spread(warmed['floor'])}; warm Train vs baseline "
          f"{median(warmed['warm']) / median(warmed['floor']):.1f}×")


if __name__ == "__main__":
    main()
