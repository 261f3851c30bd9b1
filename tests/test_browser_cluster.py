"""The dashboard on a Dask cluster, in Chromium: a teacher repeats a network over two seeds and watches both train
at once on the two workers of a LocalCluster (what `dask scheduler` + `dask worker` give a lab)."""

import re

import pytest

from launch import CHROMIUM, CHROMIUM_ARGS, READY, start_server, stop_server
from mnistlab.executor import Cluster
from mnistlab.store import RunStore
from test_browser import _set_value, _settle, _shot, _tensorflow_loaded


@pytest.fixture
def cluster():
    with Cluster(workers=2) as running:
        yield running


def test_two_seeds_train_at_once_on_two_workers_and_the_train_page_shows_both(cluster, store_home):
    from playwright.sync_api import expect, sync_playwright

    # Both workers import TensorFlow before the class starts, so that the two runs start within a second of each
    # other: on a loaded machine one worker's first import could otherwise outlast the other's whole run.
    cluster.client.run(exec, "import tensorflow")
    process, url = start_server(store_home, env={"MNISTLAB_SCHEDULER": cluster.address})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(60_000)
            page.goto(url)
            _settle(page)
            _set_value(page, "Epochs", 10)
            page.get_by_text("Train on a slice").click()
            _settle(page)
            _set_value(page, "training images", 6000)
            _set_value(page, "Repeat × N", 2)
            page.get_by_role("button", name="Train", exact=True).click()

            # two runs in flight, told apart by seed, each with its Stop and its own live progress (ten epochs each:
            # still both training while we look, however the workers' first imports are staggered)
            # (any name: on a loaded machine the Build page once queued the runs as "Untitled" — a seam noted on the
            # phones-and-seams issue — and what this test is about is two runs at once, told apart by seed)
            # (a Repeat's runs also say which of the N each is: "Training CNN 4 · seed 42 · 1 of 2")
            expect(page.get_by_text(re.compile(r"^Training .+ · seed \d+ · [12] of 2$"))).to_have_count(2, timeout=120_000)
            expect(page.get_by_text(re.compile(r" · 1 of 2$"))).to_have_count(1)
            expect(page.get_by_text(re.compile(r" · 2 of 2$"))).to_have_count(1)
            expect(page.get_by_role("button", name="Stop")).to_have_count(2)
            progress = page.get_by_text(re.compile(r"epoch \d+/10 · batch [1-9]\d*/\d+"))
            expect(progress).to_have_count(2, timeout=60_000)
            page.wait_for_selector(READY)
            _shot(page, "train-cluster-two-at-once")
            expect(page.get_by_text("Training completed.").first).to_be_visible(timeout=300_000)
            runs = RunStore(store_home).list_runs().runs
            assert len(runs) == 2 and {run.status for run in runs} == {"completed"}
            assert {run.info["executor"] for run in runs} == {"dask"}
            assert len({run.info["worker"] for run in runs}) == 2  # one on each worker, at the same time
            assert not _tensorflow_loaded(process.pid)  # the server still never loads TensorFlow
            browser.close()
    finally:
        stop_server(process)
