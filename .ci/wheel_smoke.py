"""CI: the wheel as a user meets it. From a folder outside the checkout, with the `mnistlab` of a fresh virtual
environment that has only the wheel and what it depends on: train one small run, start `mnistlab serve`, wait for
its health endpoint, and see the Draw page's canvas in Chromium. Run with the test environment's Python (it has
Playwright): python .ci/wheel_smoke.py FRESH_VENV_BIN_FOLDER"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(bin_folder: Path) -> None:
    mnistlab = str(bin_folder / "mnistlab")
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, MNISTLAB_HOME=str(Path(folder) / "home"), TF_CPP_MIN_LOG_LEVEL="3")
        env.pop("PYTHONPATH", None)
        started = time.monotonic()
        subprocess.run([mnistlab, "train", "--preset", "MLP 1", "--epochs", "1", "--limit", "1000"], cwd=folder,
                       env=env, check=True)
        print(f"wheel smoke: trained one run in {time.monotonic() - started:.1f} s", flush=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([mnistlab, "serve", "--port", str(port)], cwd=folder, env=env,
                                  stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, server)
            _see_the_canvas(f"{url}/draw")
            print(f"wheel smoke: `mnistlab serve` answered and Draw showed its canvas "
                  f"({time.monotonic() - started:.1f} s in all)", flush=True)
        finally:
            server.terminate()
            server.wait(30)


def _wait_healthy(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"wheel smoke: mnistlab serve exited with code {server.returncode}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"wheel smoke: no health answer from {url} in {seconds:.0f} s")


def _see_the_canvas(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        page.wait_for_selector("canvas.upper-canvas", timeout=120_000)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
