"""Clicks lost (issue 24, seam 7), with Streamlit's fast reruns (its default: the baseline) and without (the
dashboard's setting, `.streamlit/config.toml`).

With fast reruns, a click that arrives while a script run of the same session is ending starts a second script
thread at once; the first one's end-of-run clean-up can then reset the click's trigger in the session state the
two share, and the script never sees the click. Without, the session's one script thread takes the click at its next
element. Each part runs a server with `runner.fastReruns` true, then one with false, while --busy processes spin
on the CPU (the test suite's other worker does so in CI):

1. The race itself, on the minimal page (bench/minimal_clicks.py: a look every 0.25 s, a button after 0.15 s of
   work), with every script run's end-of-run clean-up paused --pause seconds first — what a loaded machine's
   scheduler does now and then to that thread, made to happen every time: --minimal clicks, each lost when the
   page's count of clicks has not grown 2 s after it.
2. The dashboard: Results' "Look inside", clicked --clicks times while another process renames a run every 0.4 s
   (every page following the store redraws itself all the time), each later in the 1.5-s follow timer than the
   one before; lost when the Inside page's title is not shown within 10 s. Also click → Inside title (median):
   fast reruns exist to make a click felt sooner.

    python bench/lost_clicks.py [--minimal 200] [--pause 0.03] [--clicks 30] [--busy 2] [--home STORE] [--smoke]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import re
import tempfile
import threading
import time

from classroom import store_with_models
from common import machine, median, settle

from launch import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

RENAME_EVERY = 0.4  # seconds


def store_of_two_runs(home: str, given: str | None = None) -> str:
    """MLP 1 trained twice (one epoch, 3,000 images): the one Results shows, and one to rename; or, with `given` (a
    store: --home), a copy of its runs. Returns the oldest run, the one renamed (Results opens on the newest)."""
    from mnistlab.store import RunStore

    store_with_models(home, 2, given, presets=["MLP 1", "MLP 1"])
    return RunStore(home).list_runs().runs[-1].run_id


def spin(stop) -> None:
    while not stop.is_set():
        pass


def minimal_clicks(browser, fast: bool, count: int, pause: float) -> int:
    """Clicks the minimal page did not count."""
    process, url = start_server(tempfile.gettempdir(), app="bench/minimal_clicks.py",
                                env={"STREAMLIT_RUNNER_FAST_RERUNS": str(fast).lower(),
                                     "MINIMAL_CLICKS_PAUSE": str(pause)})
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(url)
        page.get_by_text(f"fast reruns: {fast}").wait_for(timeout=60_000)  # the server runs with what was asked
        shown, lost = page.get_by_text(re.compile(r"^clicks: \d+$")), 0
        for click in range(count):
            before = int(shown.inner_text().split()[1])
            page.get_by_role("button", name="Press").click()
            try:
                page.get_by_text(f"clicks: {before + 1}", exact=True).wait_for(timeout=2_000)
            except Exception:  # Playwright's TimeoutError: the click was lost
                lost += 1
            page.wait_for_timeout(37 * (click % 7))  # clicks at different moments of the looks
        page.context.close()
        return lost
    finally:
        stop_server(process)


def clicks(browser, url: str, count: int, wait_step: float) -> tuple[int, list[float]]:
    """(clicks lost, seconds from each click that worked to the Inside page's title)."""
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.goto(f"{url}/results")
    settle(page)
    lost, seconds = 0, []
    title = page.locator("h1", has_text="Inside the network")
    for click in range(count):
        page.wait_for_timeout(200 + (wait_step * click) % 1500)
        page.get_by_role("button", name="Look inside").click()
        started = time.perf_counter()
        try:
            title.wait_for(timeout=10_000)
            seconds.append(time.perf_counter() - started)
        except Exception:  # Playwright's TimeoutError: the click was lost
            lost += 1
        page.goto(f"{url}/results")
        settle(page)
    page.context.close()
    return lost, seconds


def measure(browser, home: str, renamed: str, fast: bool, count: int, wait_step: float) -> tuple[int, list[float]]:
    from mnistlab.store import RunStore

    store, done = RunStore(home), threading.Event()

    def rename_again_and_again():
        for turn in itertools.count():
            if done.wait(RENAME_EVERY):
                return
            store.rename(renamed, f"Renamed {turn} times")

    process, url = start_server(home, env={"STREAMLIT_RUNNER_FAST_RERUNS": str(fast).lower()})
    renamer = threading.Thread(target=rename_again_and_again)
    renamer.start()
    try:
        return clicks(browser, url, count, wait_step)
    finally:
        done.set()
        renamer.join()
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minimal", type=int, default=200, help="clicks on the minimal page, per server")
    parser.add_argument("--pause", type=float, default=0.03, help="s the minimal page's end-of-run clean-up waits")
    parser.add_argument("--clicks", type=int, default=30, help="clicks on Results' Look inside, per server")
    parser.add_argument("--wait-step", type=float, default=170, help="ms added to the wait before each click")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU meanwhile")
    parser.add_argument("--home", help="a store whose runs to copy instead of training two")
    parser.add_argument("--smoke", action="store_true", help="two clicks on each server: to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.minimal, args.clicks = 2, 1
    from playwright.sync_api import sync_playwright

    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(args.busy)]
    with tempfile.TemporaryDirectory() as home:
        renamed = store_of_two_runs(home, args.home)
        for spinner in spinners:
            spinner.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                minimal = {fast: minimal_clicks(browser, fast, args.minimal, args.pause) for fast in (True, False)}
                results = {fast: measure(browser, home, renamed, fast, args.clicks, args.wait_step)
                           for fast in (True, False)}
                browser.close()
        finally:
            stop.set()
            for spinner in spinners:
                spinner.join()
    print(f"machine: {machine()}; {args.busy} processes spinning")
    print(f"minimal page, end-of-run clean-up paused {args.pause * 1000:.0f} ms: fastReruns = true (baseline) lost "
          f"{minimal[True]} of {args.minimal} clicks, fastReruns = false lost {minimal[False]} of {args.minimal}")
    print(f"dashboard, Results' Look inside while a run is renamed every {RENAME_EVERY} s:")
    for fast, label in ((True, "fastReruns = true (Streamlit's default, baseline)"),
                        (False, "fastReruns = false (the dashboard's setting)")):
        lost, seconds = results[fast]
        timing = f"; click → Inside title median {median(seconds):.2f} s" if seconds else ""
        print(f"{label}: {lost} of {args.clicks} clicks lost{timing}")
    base, ours = (median(results[fast][1]) if results[fast][1] else float("nan") for fast in (True, False))
    print(f"click → Inside title, ours vs baseline: {ours / base:.2f}×")


if __name__ == "__main__":
    main()
