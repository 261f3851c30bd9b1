"""Server memory: RSS of the dashboard's process after each trained run and a visit to every page.

The server trains in a child process (dashboard/trainer_process.py), replaced whenever it has
grown by trainer_client.RECYCLE_GROWTH, and predicts in another (dashboard/prediction_process.py); both
children's RSS is reported beside the server's.

Each round, in headless Chromium: build a small CNN (CNN 4 on a 10,000-image slice, 1 epoch), train
it, wait for it to complete, open Results, Compare, Draw (with a drawing, which loads models) and
Report, then read the server's VmRSS. Goal: ≤ 2 GiB and not growing run after run. Ten runs by
default: the dashboard keeps up to 9 loaded models (dashboard/predictor.py), so memory should level off
after about that many runs.
With --sessions N it then opens N more browser sessions, one after the other, each visiting the
same pages and staying open, as a class would: the server's cost per open session.

    python bench/server_memory.py [--runs 10] [--pages "Results,Compare,Draw,Report"] [--sessions 0]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from common import machine, settle, set_number

from launch import CHROMIUM, CHROMIUM_ARGS, children, rss_bytes, start_server, stop_server


def role(pid: int) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    return "prediction process" if b"prediction_process" in command else "training process"


ALL_PAGES = "Results,Compare,Draw,Report"


def one_round(page, url, number, pages):
    page.goto(url)
    settle(page)
    set_number(page, "Epochs", 1)
    if not page.get_by_label("training images", exact=True).is_enabled():
        page.get_by_text("Train on a slice").click()
        settle(page)
    set_number(page, "training images", 10000)
    page.get_by_role("button", name="Train", exact=True).click()
    outcome = page.get_by_text("Training completed.").or_(page.get_by_text("Training failed."))
    outcome.first.wait_for(timeout=300_000)
    if page.get_by_text("Training failed.").count():
        raise RuntimeError(f"run {number} failed: " + page.locator("[data-testid='stAlert']").first.inner_text())
    visit(page, pages)


def visit(page, pages):
    for name in pages:
        page.get_by_role("link", name=name).click()
        settle(page)
        if name == "Draw":
            box = page.locator("canvas.upper-canvas").bounding_box()
            page.mouse.move(box["x"] + 140, box["y"] + 40)
            page.mouse.down()
            page.mouse.move(box["x"] + 140, box["y"] + 240, steps=8)
            page.mouse.up()
            page.get_by_text(re.compile(r"I read a \d")).wait_for(timeout=60_000)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pages", default=ALL_PAGES,
                        help='pages to open after each run, comma-separated ("" for none): to find which one grows')
    parser.add_argument("--sessions", type=int, default=0,
                        help="then open this many more browser sessions at once, each visiting the pages")
    args = parser.parse_args()
    pages = [name for name in args.pages.split(",") if name]
    readings = []
    with tempfile.TemporaryDirectory() as home, sync_playwright() as p:
        process, url = start_server(home)
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            readings.append(("at start", rss_bytes(process.pid)))
            for number in range(1, args.runs + 1):
                one_round(page, url, number, pages)
                readings.append((f"after run {number} + every page", rss_bytes(process.pid)))
                kids = "; ".join(f"{role(child)} {rss_bytes(child) / 2**20:,.0f} MiB" for child in children(process.pid))
                print(f"{readings[-1][0]}: server {readings[-1][1] / 2**20:,.0f} MiB; {kids}", flush=True)
            for number in range(1, args.sessions + 1):  # a class: every student's tab stays open
                session = browser.new_page(viewport={"width": 1400, "height": 1000})
                session.goto(url)
                settle(session)
                visit(session, pages)
                readings.append((f"with {number} more session(s) open", rss_bytes(process.pid)))
                print(f"{readings[-1][0]}: server {readings[-1][1] / 2**20:,.0f} MiB", flush=True)
            browser.close()
        finally:
            stop_server(process)
    print(f"machine: {machine()}")
    for label, value in readings:
        print(f"  server {label}: {value / 2**20:,.0f} MiB")
    runs = readings[:args.runs + 1]
    growth = [(b - a) / 2**20 for (_, a), (_, b) in zip(runs[1:], runs[2:])]
    print(f"server peak {max(v for _, v in readings) / 2**30:.2f} GiB; growth per run after the first: "
          f"{', '.join(f'{g:+.0f}' for g in growth) or 'none measured'} MiB")


if __name__ == "__main__":
    main()
