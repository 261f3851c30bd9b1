"""A class on one server: CPU per drawing, CPU per open Train tab, and eight students drawing at once.

Server CPU is read from /proc (utime + stime) around each step, while headless Chromium drives the
pages; the prediction process (dashboard/prediction_process.py), which does the model work the
server used to do itself, is counted beside it. A run (CNN 4, 10,000 images) trains throughout,
as in a lesson. In this order:

1. Train tabs: the server's CPU over a window with no Train tab open and with --tabs tabs open on
   Train (before any drawing); the difference per tab, as a share of one core.
2. Drawing: the Draw page with 9 trained models against bench/minimal_canvas.py (the same canvas
   component, a Clear button and no model), taking turns. CPU of one drawing (the stroke's rerun)
   and of the Clear that follows; latency is mouse-up → the prediction's text visible.
3. A class in miniature: --students browser contexts on Draw, each drawing a digit every 3 s for
   --seconds; p50/p95 latency, and the run's epoch time beside its epoch time with no browser
   open (measured after part 1): the training's throughput ratio.

Then the students one server can take, from the measured cost of a drawing.

    python bench/classroom.py [--drawings 20] [--tabs 4] [--window 20] [--students 8] [--seconds 60]
                              [--home STORE] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import machine, median, percentile

from launch import CHROMIUM, CHROMIUM_ARGS, READY, children, rss_bytes, start_server, stop_server

MODEL_PRESETS = ["CNN 5", "CNN 4", "CNN 3", "CNN 2", "CNN 1", "MLP 8", "MLP 6", "MLP 4", "MLP 1"]
SHAPES = [  # one stroke each, in canvas pixels (280 × 280)
    [(60, 60), (220, 60), (130, 240)],                                   # 7
    [(140, 40), (140, 240)],                                             # 1
    [(140, 40), (80, 90), (80, 190), (140, 240), (200, 190), (200, 90), (140, 40)],  # 0
    [(70, 80), (140, 40), (210, 80), (70, 240), (220, 240)],             # 2
    [(180, 240), (180, 40), (60, 170), (220, 170)],                      # 4
]
READ = re.compile(r"I read a \d")
AFTER_RUN = 0.3  # Streamlit tells the browser a run has finished before its clean-up after the run


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prediction_process(server: int) -> int | None:
    for pid in children(server):
        if b"prediction_process" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    return None


ROLES = ("server", "prediction process", "training process", "browser")


def cpu_by_role(server: int) -> dict[str, float]:
    """CPU seconds so far of the server, its two child processes, and every Chromium process."""
    totals = dict.fromkeys(ROLES, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            command = (stat.parent / "cmdline").read_bytes()
            seconds = cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue
        role = ("server" if pid == server else "prediction process" if b"prediction_process" in command
                else "training process" if b"trainer_process" in command else "browser" if b"chromium" in command
                else None)
        if role:
            totals[role] += seconds
    return totals


async def shares_during(server: int, work) -> tuple[dict[str, float], object]:
    """Each role's share of a core while `work` runs (the browsers' own processes included), and its result."""
    start, before = time.perf_counter(), cpu_by_role(server)
    result = await work
    after, elapsed = cpu_by_role(server), time.perf_counter() - start
    return {role: max(0.0, after[role] - before[role]) / elapsed for role in ROLES}, result


def cpu_of(server: int) -> tuple[float, float]:
    """(the server's CPU seconds, the prediction process's) so far."""
    child = prediction_process(server)
    return cpu_seconds(server), cpu_seconds(child) if child else 0.0


def store_with_models(home: str, count: int, given: str | None = None, presets: list[str] = MODEL_PRESETS) -> None:
    """The first `count` of `presets` (by default the report's, every model the table shows), trained one epoch on
    3,000 images each; or, with `given` (a store: --home), a copy of its runs (the smoke test passes the one its
    session trained)."""
    if given:
        import shutil

        shutil.copytree(Path(given) / "runs", Path(home) / "runs")
        return
    from mnistlab.presets import get_preset
    from mnistlab.recorder import RunRecorder
    from mnistlab.store import RunStore
    from mnistlab.train import train

    store = RunStore(home)
    for name in presets[:count]:
        experiment = get_preset(name).experiment
        experiment = replace(experiment, config=replace(experiment.config, epochs=1, train_limit=3000))
        run_id = store.create_run(experiment)
        train(experiment, [RunRecorder(store, run_id)])


async def settle(page) -> None:
    await page.wait_for_timeout(100)
    await page.wait_for_selector(READY, timeout=120_000)


async def open_draw(browser, url: str, dashboard: bool):
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(120_000)
    await page.goto(url)
    await settle(page)
    if dashboard:
        await page.get_by_role("link", name="Draw").click()
        await settle(page)
    await canvas_ready(page)
    return page


async def canvas_ready(page) -> None:
    """Wait for one canvas, mounted: a stroke on a canvas still mounting selects the page's text instead."""
    from playwright.async_api import expect

    await expect(page.locator("canvas.upper-canvas")).to_have_count(1, timeout=120_000)
    await page.wait_for_timeout(500)


async def draw(page, shape: list[tuple[int, int]]) -> float:
    """Draw one stroke and wait for the prediction; mouse-up → prediction visible, in seconds."""
    return (await stroke(page, shape, READ))[0]


SHOWN = "pattern => new RegExp(pattern).test(document.body.textContent)"
SHOWN_AND_DONE = (f"pattern => ({SHOWN})(pattern) "
                  "&& document.querySelector(\"[data-testid='stApp']\")?.dataset.testScriptState === 'notRunning'")


async def stroke(page, shape: list[tuple[int, int]], reading: re.Pattern) -> tuple[float, float]:
    """Draw one stroke; (mouse-up → `reading` visible, mouse-up → the rerun finished), in seconds.

    Both are looked for on every animation frame: a locator's wait polls at 0, 20, 50, 100, 100 ms and then
    every 500 ms, which rounded a reading shown at 300 ms up to ~770 ms (and made one page look twice as
    slow as another that was 50 ms faster)."""
    box = await page.locator("canvas.upper-canvas").bounding_box()
    await page.mouse.move(box["x"] + shape[0][0], box["y"] + shape[0][1])
    await page.mouse.down()
    for x, y in shape[1:]:
        await page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    await page.mouse.up()
    start = time.perf_counter()
    await page.wait_for_function(SHOWN, arg=reading.pattern, polling="raf", timeout=120_000)
    visible = time.perf_counter() - start
    await page.wait_for_function(SHOWN_AND_DONE, arg=reading.pattern, polling="raf", timeout=120_000)
    return visible, time.perf_counter() - start


async def clear(page) -> None:
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_text("Draw a digit on the canvas").first.wait_for()
    await settle(page)
    await canvas_ready(page)


async def draw_and_clear(page, shape) -> float:
    latency = await draw(page, shape)
    await clear(page)
    return latency


async def drawing_cost(browser, servers: dict, drawings: int) -> dict:
    """Per page: CPU per draw-and-clear cycle (server, prediction process) and latencies, taking turns."""
    pages = {name: await open_draw(browser, url, name == "Draw page") for name, (_, url) in servers.items()}
    for page in pages.values():
        await draw_and_clear(page, SHAPES[0])  # warm: models loaded, component ready
    results = {name: {key: [] for key in ("server", "predict", "clear", "latency")} for name in servers}
    for i in range(drawings):
        order = list(servers) if i % 2 else list(servers)[::-1]
        for name in order:
            pid, page, result = servers[name][0].pid, pages[name], results[name]
            before = cpu_of(pid)
            result["latency"].append(await draw(page, SHAPES[i % len(SHAPES)]))
            await asyncio.sleep(AFTER_RUN)
            drawn = cpu_of(pid)
            await clear(page)
            await asyncio.sleep(AFTER_RUN)
            cleared = cpu_of(pid)
            result["server"].append(drawn[0] - before[0])
            result["predict"].append(drawn[1] - before[1])
            result["clear"].append(cleared[0] + cleared[1] - drawn[0] - drawn[1])
    for page in pages.values():
        await page.close()
    return results


async def start_training(browser, url: str, epochs: int) -> None:
    """Queue CNN 4 on a 10,000-image slice from the Build page, long enough for the measurements."""
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.goto(url)
    await settle(page)
    for label, value in (("Epochs", epochs),):
        await set_number(page, label, value)
    await page.get_by_text("Train on a slice").click()
    await settle(page)
    await set_number(page, "training images", 10000)
    await page.get_by_role("button", name="Train", exact=True).click()
    await page.get_by_text(re.compile(r"batch [1-9]\d*/\d+")).first.wait_for(timeout=120_000)
    await page.close()


async def set_number(page, label: str, value) -> None:
    field = page.get_by_label(label, exact=True)
    await field.fill(str(value))
    await field.press("Enter")
    await settle(page)


async def train_tab_cost(browser, server: int, url: str, tabs: int, window: float) -> tuple[float, float]:
    """Server CPU (share of a core) over `window` s with no Train tab open, then with `tabs` open."""
    async def share() -> float:
        start, cpu = time.perf_counter(), cpu_seconds(server)
        await asyncio.sleep(window)
        return (cpu_seconds(server) - cpu) / (time.perf_counter() - start)

    idle = await share()
    pages = []
    for _ in range(tabs):
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(120_000)
        await page.goto(url)
        await settle(page)
        await page.get_by_role("link", name="Train").click()
        await page.get_by_text(re.compile(r"batch \d+/\d+")).first.wait_for()
        pages.append(page)
    watched = await share()
    for page in pages:
        await page.close()
    return idle, watched


def epochs_so_far(home: str) -> list[float]:
    """Seconds of each epoch the running run has completed, from its history."""
    from mnistlab.store import RunStore

    running = [run for run in RunStore(home).list_runs().runs if run.status == "running"]
    return [row["seconds"] for row in running[0].history()["epochs"]] if running else []


async def epochs_during(home: str, work) -> list[float]:
    """Seconds of the epochs that both started and ended while `work` ran."""
    before = len(epochs_so_far(home))
    await work
    return epochs_so_far(home)[before + 1:]  # the first one had started before


async def student(browser, url: str, number: int, seconds: float, latencies: list[float | None]):
    """Draw a digit every 3 s; a drawing with no answer within 30 s counts as None, and the page is reloaded."""
    from playwright.async_api import TimeoutError

    page = await open_draw(browser, url, dashboard=True)
    page.set_default_timeout(30_000)
    await asyncio.sleep(number * 3 / 8)  # spread the class over the 3-s beat
    deadline = time.perf_counter() + seconds
    i = number
    while time.perf_counter() < deadline:
        beat = time.perf_counter()
        try:
            latencies.append(await draw_and_clear(page, SHAPES[i % len(SHAPES)]))
        except TimeoutError:
            latencies.append(None)
            await page.reload()
            await settle(page)
            await canvas_ready(page)
        i += 1
        await asyncio.sleep(max(0.0, 3 - (time.perf_counter() - beat)))
    return page  # closed by the caller once the CPU has been read: a closed tab takes its CPU time along


async def gather_into(results: list, coroutines) -> None:
    results.extend(await asyncio.gather(*coroutines))


def ms(values: list[float]) -> str:
    return f"p50 {median(values) * 1000:,.0f} ms, p95 {percentile(values, 95) * 1000:,.0f} ms"


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as empty:
        print(f"training {args.models} models for the store…", flush=True)
        store_with_models(home, args.models, args.home)
        dashboard, dashboard_url = start_server(home, env={"MNISTLAB_WARM_TRAINER": "1"})  # as a server starts
        minimal, minimal_url = start_server(empty, app="bench/minimal_canvas.py")
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                servers = {"Draw page": (dashboard, dashboard_url), "minimal canvas page": (minimal, minimal_url)}
                await start_training(browser, dashboard_url, epochs=1000)
                idle, watched = await train_tab_cost(browser, dashboard.pid, dashboard_url, args.tabs, args.window)
                quiet_shares, quiet = await shares_during(dashboard.pid, epochs_during(home, asyncio.sleep(
                    args.seconds / 2)))
                cost = await drawing_cost(browser, servers, args.drawings)
                child = prediction_process(dashboard.pid)
                rss = (rss_bytes(dashboard.pid), rss_bytes(child) if child else 0, rss_bytes(minimal.pid))
                stop_server(minimal)
                latencies: list[float | None] = []
                pages = []
                class_shares, busy = await shares_during(dashboard.pid, epochs_during(home, gather_into(pages, (
                    student(browser, dashboard_url, n, args.seconds, latencies) for n in range(args.students)))))
                for page in pages:
                    await page.close()
                await browser.close()
        finally:
            stop_server(dashboard)
            stop_server(minimal)
    report(args, cost, rss, idle, watched, quiet, busy, latencies, quiet_shares, class_shares)


def report(args, cost, rss, idle, watched, quiet, busy, latencies, quiet_shares, class_shares) -> None:
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    draw, floor = cost["Draw page"], cost["minimal canvas page"]
    server, predict, baseline = mean(draw["server"]), mean(draw["predict"]), mean(floor["server"])
    print(f"machine: {machine()}; the browsers run on the same two cores (in a class, on the students' machines)")
    print(f"1. one drawing (the stroke's rerun), {args.drawings} drawings on each page, taking turns, while the "
          f"run trains; {args.models} models on the Draw page:")
    print(f"   Draw page: server {server:.3f} CPU-s, prediction process {predict:.3f} CPU-s; "
          f"mouse-up → prediction {ms(draw['latency'])}; Clear's rerun {mean(draw['clear']):.3f} CPU-s")
    print(f"   minimal canvas page: server {baseline:.3f} CPU-s; mouse-up → text {ms(floor['latency'])}; "
          f"Clear's rerun {mean(floor['clear']):.3f} CPU-s")
    print(f"   ratio Draw page / minimal page: server {server / baseline:.2f}, "
          f"server + prediction process {(server + predict) / baseline:.2f}")
    print(f"   RSS after the drawings: server {rss[0] / 2**20:,.0f} MiB, prediction process {rss[1] / 2**20:,.0f} MiB; "
          f"minimal page's server {rss[2] / 2**20:,.0f} MiB")
    print(f"2. server CPU while a run trains: no Train tab open {idle:.1%} of a core, {args.tabs} Train tabs "
          f"{watched:.1%}: {(watched - idle) / args.tabs:.1%} of a core per open Train tab "
          f"({args.window:.0f}-s windows)")
    answered = [latency for latency in latencies if latency is not None]
    print(f"3. {args.students} students drawing every 3 s for {args.seconds:.0f} s while the run trains: "
          f"{len(latencies)} drawings, {len(latencies) - len(answered)} with no answer within 30 s; "
          f"mouse-up → prediction {ms(answered) if answered else '—'}")
    if quiet and busy:
        print(f"   epoch time with no browser open {median(quiet):.2f} s ({len(quiet)} epochs), with the class "
              f"{median(busy):.2f} s ({len(busy)} epochs): throughput ratio {median(quiet) / median(busy):.2f}, "
              f"the browsers included")
    else:
        print("   (no whole epoch in one of the windows: use a longer --seconds)")
    share = lambda shares: ", ".join(f"{role} {shares[role]:.0%}" for role in ROLES)  # noqa: E731
    print(f"   CPU, share of one core: with no browser open: {share(quiet_shares)}")
    print(f"   CPU, share of one core: during the class: {share(class_shares)}")
    ours = class_shares["server"] + class_shares["prediction process"]
    alone = quiet_shares["training process"]
    cores = os.cpu_count() or 2
    if alone > 0:
        print(f"   with the browsers on the students' machines, training would keep {min(1.0, (cores - ours) / alone):.2f} "
              f"of its throughput here: it used {alone:.2f} cores alone, the server and predictions take {ours:.2f} "
              f"of the {cores}")
    else:  # a smoke run's window can close before the training process has used measurable CPU
        print("   (the training process used no measurable CPU in the window with no browser: use a longer --seconds)")
    cycle = server + predict + mean(draw["clear"])  # a student's drawing and Clear, everything we run
    print("   what one server can take, each student drawing a digit (and pressing Clear) every 10 s, one core "
          "left to training, Streamlit's Python on one core at a time:")
    for cores in (2, 4, 8):
        per_second = min(1 / (server + mean(draw["clear"])), max(cores - 1, 1) / cycle)
        print(f"     {cores} cores: {per_second:,.1f} drawings/s → about {10 * per_second:,.0f} students")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=20)
    parser.add_argument("--models", type=int, default=9)
    parser.add_argument("--tabs", type=int, default=4)
    parser.add_argument("--window", type=float, default=20)
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--home", help="copy the runs of this store instead of training --models models")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.drawings, args.models, args.tabs, args.window, args.students, args.seconds = 2, 1, 1, 1, 1, 4
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
