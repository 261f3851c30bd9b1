"""Take it home, in a real browser (issue 13): Results' download buttons give the run's model file and a
standalone script made on the click."""

from pathlib import Path

from launch import start_server, stop_server
from test_browser_seams import _page, browser  # noqa: F401  (a fixture)


def test_results_downloads_the_model_and_a_standalone_script(browser, trained_store, store_home):  # noqa: F811
    import shutil

    from mnistlab.store import RunStore
    from mnistlab.spec import total_params

    home, run_id = trained_store
    shutil.copytree(home, store_home)
    run = RunStore(store_home).load(run_id)
    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "results", height=1000)
        page.get_by_text("Take it home").first.scroll_into_view_if_needed()
        with page.expect_download() as script:
            page.get_by_role("button", name="Python script (plain Keras)").click()
        assert script.value.suggested_filename == "quick_cnn.py"
        text = Path(script.value.path()).read_text()
        assert f"Quick CNN: {total_params(run.experiment):,} parameters" in text and "import mnistlab" not in text
        with page.expect_download() as model:
            page.get_by_role("button", name="Model file (.keras)").click()
        assert Path(model.value.path()).read_bytes() == (run.path / "model.keras").read_bytes()
    finally:
        stop_server(process)
