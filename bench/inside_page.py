"""The Inside page per stroke, in the browser and on the server, beside the Draw page.

One server, one model (CNN 5 trained one epoch on 3,000 images: inference cost does not depend on
the weights). Headless Chromium draws the same strokes on Draw and on Inside, taking turns, each
stroke followed by Clear. Per stroke: mouse-up → the page's reading visible ("I read a" on Draw,
"It reads a" on Inside), mouse-up → the rerun finished (every layer's chart sent), the CPU
seconds of the server and of the prediction process (which computes every layer and the
occlusion saliency for Inside), and the bytes the server sent the page over its websocket (what a
phone on a school's Wi-Fi waits for; goal for Inside: ≤ 150 KB a stroke).

    python bench/inside_page.py [--drawings 20] [--home STORE] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile

from classroom import AFTER_RUN, SHAPES, canvas_ready, clear, cpu_of, settle, store_with_models, stroke
from common import machine, median, percentile

from launch import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

PAGES = {"Draw": re.compile(r"I read a \d"), "Inside": re.compile(r"It reads a \d")}


async def open_page(browser, url: str, name: str, received: dict):
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(120_000)
    session = await page.context.new_cdp_session(page)
    await session.send("Network.enable")
    session.on("Network.webSocketFrameReceived", lambda event: _count(received, name, event["response"]))
    await page.goto(f"{url}/{name.lower()}")
    await settle(page)
    await canvas_ready(page)
    return page


def _count(received: dict, name: str, frame: dict) -> None:
    """Bytes the server sent this page over its websocket (a binary frame's payload comes base64-encoded)."""
    data = frame.get("payloadData", "")
    received[name] += len(data) * 3 // 4 if frame.get("opcode") == 2 else len(data.encode())


async def measure(url: str, pid: int, drawings: int) -> dict:
    from playwright.async_api import async_playwright

    results = {name: {key: [] for key in ("visible", "finished", "server", "predict", "bytes")} for name in PAGES}
    received = dict.fromkeys(PAGES, 0)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {name: await open_page(browser, url, name, received) for name in PAGES}
        for name, page in pages.items():  # warm: the model loaded, the component ready
            await stroke(page, SHAPES[0], PAGES[name])
            await clear(page)
        for i in range(drawings):
            for name in (list(PAGES) if i % 2 else list(PAGES)[::-1]):
                before, sent = cpu_of(pid), received[name]
                visible, finished = await stroke(pages[name], SHAPES[i % len(SHAPES)], PAGES[name])
                await asyncio.sleep(AFTER_RUN)
                after = cpu_of(pid)
                row = results[name]
                row["visible"].append(visible)
                row["finished"].append(finished)
                row["server"].append(after[0] - before[0])
                row["predict"].append(after[1] - before[1])
                row["bytes"].append(received[name] - sent)
                await clear(pages[name])
        await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=20)
    parser.add_argument("--home", help="use the newest model of this store (a copy) instead of training CNN 5")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    drawings = 2 if args.smoke else args.drawings
    with tempfile.TemporaryDirectory() as home:
        store_with_models(home, 1, args.home)
        process, url = start_server(home, env={"MNISTLAB_WARM_TRAINER": "0"})
        try:
            results = asyncio.run(measure(url, process.pid, drawings))
        finally:
            stop_server(process)
    ms = lambda values: f"p50 {median(values) * 1000:.0f} ms, p95 {percentile(values, 95) * 1000:.0f} ms"  # noqa: E731
    print(f"machine: {machine()}")
    print(f"one model ({'the newest of ' + args.home if args.home else 'CNN 5'}), {drawings} strokes per page, "
          f"taking turns:")
    for name, row in results.items():
        print(f"  {name}: reading visible {ms(row['visible'])}; rerun finished {ms(row['finished'])}; "
              f"CPU per stroke: server {median(row['server']):.3f} s, prediction process {median(row['predict']):.3f} s; "
              f"sent per stroke {median(row['bytes']) / 1000:.0f} KB")
    draw, inside = results["Draw"], results["Inside"]
    print(f"  Inside / Draw: rerun finished {median(inside['finished']) / median(draw['finished']):.2f}×, "
          f"server CPU {median(inside['server']) / max(median(draw['server']), 1e-9):.2f}×")


if __name__ == "__main__":
    main()
