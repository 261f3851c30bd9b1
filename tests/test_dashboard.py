"""Each dashboard page under Streamlit's AppTest: widgets by key, behaviour, and no exceptions."""

import base64
import gc
import io
import re
import shutil
import time

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import REPO, copy_run, drawn_digit

APP = str(REPO / "dashboard" / "app.py")


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if page:
        at.switch_page(f"app_pages/{page}.py")
    return at.run()


def _no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _frame(at: AppTest, column: str):
    """The first dataframe with this column (AppTest does not expose a dataframe's key)."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no dataframe with a {column!r} column")


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [s.value for s in at.subheader] + [s.value for s in at.success]
    parts += [c.value for c in at.caption] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def home_with_run(trained_store, store_home):
    """The session's trained run, copied into this test's MNISTLAB_HOME."""
    home, run_id = trained_store
    shutil.copytree(home, store_home)
    return run_id


# ---------------------------------------------------------------- Build

def test_build_page_widgets_and_shape_table():
    at = _app()
    _no_exceptions(at)
    for key in ("build_preset", "cfg_optimizer", "cfg_lr", "cfg_epochs", "cfg_batch", "cfg_val", "cfg_seed",
                "cfg_early", "cfg_limit_on", "build_name", "build_train", "build_add_type", "build_add"):
        assert key in at.session_state, key
    assert at.selectbox(key="build_preset").value == "CNN 4"
    table = _frame(at, "output shape")
    assert list(table["params"]) == [320, 0, 18496, 0, 0, 16010]
    assert "34,826" in [m.value for m in at.metric]


def test_composing_updates_the_table():
    at = _app()
    at.number_input(key="layer_0_filters").set_value(8).run()  # first Conv2D: 32 → 8 filters
    table = _frame(at, "output shape")
    assert table["params"].iloc[0] == 80 and table["output shape"].iloc[0] == "(26, 26, 8)"
    assert table["params"].iloc[2] == 8 * 9 * 64 + 64
    at.button(key="remove_0").click().run()
    assert _frame(at, "output shape")["layer"].iloc[0] == "MaxPooling2D(2×2)"
    _no_exceptions(at)


def test_preset_choice_loads_its_network_and_finding():
    at = _app()
    at.selectbox(key="build_preset").set_value("MLP 9").run()
    assert "Adam at learning rate 0.2 fails completely" in _texts(at)
    assert at.selectbox(key="cfg_optimizer").value == "Adam" and at.number_input(key="cfg_lr").value == 0.2
    assert _frame(at, "output shape")["params"].sum() == 437_310


def test_invalid_layer_shows_its_error_and_blocks_training():
    at = _app()
    at.selectbox(key="build_add_type").set_value("Conv2D").run()
    at.button(key="build_add").click().run()  # a Conv2D after Flatten
    errors = [e.value for e in at.error]
    assert any("Layer 6 (Conv2D)" in e and "before Flatten" in e for e in errors), errors
    assert at.button(key="build_train").disabled
    assert len(_frame(at, "output shape")) == 5  # the valid layers before it still show
    _no_exceptions(at)


def test_train_button_queues_the_run_and_opens_train(store_home):
    at = _app()
    at.selectbox(key="build_preset").set_value("CNN 3").run()
    at.checkbox(key="cfg_limit_on").check().run()
    at.number_input(key="cfg_limit").set_value(2000).run()
    at.number_input(key="cfg_epochs").set_value(1).run()
    at.text_input(key="build_name").input("AppTest CNN").run()
    at.button(key="build_train").click().run()
    _no_exceptions(at)
    from mnistlab.store import RunStore

    deadline = time.time() + 90
    while time.time() < deadline:
        runs = RunStore().list_runs().runs
        if runs and runs[0].status == "completed":
            break
        time.sleep(1)
    assert runs[0].name == "AppTest CNN" and runs[0].status == "completed"
    assert runs[0].experiment.config.train_limit == 2000


def test_repeat_trains_one_run_per_seed_and_refuses_what_it_cannot(store_home):
    """Build's "Repeat × N": N queued runs, seeds seed … seed + N − 1; a typed 0 or 21 is an error that blocks Train."""
    from common import worker
    from mnistlab.store import RunStore

    at = _app()
    at.selectbox(key="build_preset").set_value("MLP 1").run()
    at.number_input(key="cfg_seed").set_value(5).run()
    for bad, phrase in ((0, "Repeat × 0: give at least 1"), (21, "21 seeds is more than 20")):
        at.number_input(key="build_repeats").set_value(bad).run()
        assert any(phrase in e.value for e in at.error) and at.button(key="build_train").disabled
    at.number_input(key="build_repeats").set_value(3).run()
    at.button(key="build_train").click().run()
    _no_exceptions(at)
    runs = RunStore().list_runs().runs
    try:
        assert sorted(run.experiment.config.seed for run in runs) == [5, 6, 7]
        assert {run.name for run in runs} == {"MLP 1"} and len({run.run_id for run in runs}) == 3
        by_seed = {run.experiment.config.seed: worker().repeat_of(run.run_id) for run in runs}
        assert by_seed == {5: (1, 3), 6: (2, 3), 7: (3, 3)}  # Train says "2 of 3" beside the seed
    finally:
        for run in runs:  # 30 full epochs each: not for a test
            worker().stop(run.run_id)


# ---------------------------------------------------------------- Train, Results, Compare, Report

def test_train_page_idle_and_after_a_run(home_with_run):
    at = _app("train")
    _no_exceptions(at)
    assert "Last run: Quick CNN" in _texts(at)
    assert "Training completed." in _texts(at)


def test_train_page_explains_divergence(store_home):
    from mnistlab.presets import get_preset
    from mnistlab.recorder import RunRecorder
    from mnistlab.store import RunStore
    from mnistlab.train import train

    spec = get_preset("MLP 9").experiment.with_config(epochs=1, train_limit=3000)
    store = RunStore()
    run_id = store.create_run(spec)
    train(spec, [RunRecorder(store, run_id)])
    at = _app("train")
    errors = " ".join(e.value for e in at.error)
    assert "Training diverged" in errors and "learning rate is too high" in errors
    results = _app("results")
    assert "This run diverged" in " ".join(e.value for e in results.error)


def test_results_page_renders_a_stored_run(home_with_run):
    at = _app("results")
    _no_exceptions(at)
    labels = {m.label: m.value for m in at.metric}
    assert set(labels) == {"Test accuracy", "Precision (Keras)", "Recall (Keras)", "Macro F1"}
    assert float(labels["Test accuracy"]) > 0.8
    assert at.selectbox(key="results_pick").value == home_with_run
    at.selectbox(key="results_true").set_value(4).run()
    at.selectbox(key="results_pred").set_value(9).run()
    assert "test images of **4** were taken for **9**" in _texts(at)


def test_results_says_when_the_run_was_deleted(home_with_run):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["results_run"] = "20990101-000000-deleted-0000"
    at.switch_page("app_pages/results.py").run()
    _no_exceptions(at)
    assert any("is gone" in w.value for w in at.warning)


def test_compare_lists_runs_and_manages_them(home_with_run, store_home):
    at = _app("compare")
    _no_exceptions(at)
    table = _frame(at, "layers")
    assert list(table["name"]) == ["Quick CNN"] and table["accuracy"].iloc[0] > 0.8
    at.text_input(key="compare_new_name").input("Renamed CNN").run()
    at.button(key="compare_rename").click().run()
    assert list(_frame(at, "layers")["name"]) == ["Renamed CNN"]
    assert at.button(key="compare_delete").disabled
    at.checkbox(key=f"compare_confirm_{home_with_run}").check().run()
    at.button(key="compare_delete").click().run()
    _no_exceptions(at)
    assert not (store_home / "runs" / home_with_run).exists()
    assert "No runs yet" in _texts(at)


def test_compare_skips_a_corrupt_run_with_a_warning(home_with_run, store_home):
    broken = store_home / "runs" / "20200101-000000-broken-0000"
    broken.mkdir()
    (broken / "run.json").write_text("{trunc")
    at = _app("compare")
    _no_exceptions(at)
    assert any("broken" in w.value and "truncated" in w.value for w in at.warning)
    assert len(_frame(at, "layers")) == 1
    assert at.button(key="compare_delete_broken").disabled  # a broken run can be deleted, once confirmed
    at.checkbox(key=f"compare_confirm_broken_{broken.name}").check().run()
    at.button(key="compare_delete_broken").click().run()
    _no_exceptions(at)
    assert not broken.exists() and (store_home / "runs" / home_with_run).exists()


def test_a_delete_confirmation_belongs_to_one_run(home_with_run, store_home):
    """Ticking "Yes, delete A" then choosing B leaves B's Delete disabled (issue 10, item 2)."""
    other = copy_run(store_home / "runs" / home_with_run, store_home / "runs", "b")
    at = _app("compare")
    target = next(box for box in at.selectbox if box.label == "Run")
    first = target.value
    at.checkbox(key=f"compare_confirm_{first}").check().run()
    assert not at.button(key="compare_delete").disabled
    second = next(rid for rid in (home_with_run, other) if rid != first)
    target.set_value(second).run()
    assert at.button(key="compare_delete").disabled
    _no_exceptions(at)


def test_report_page_lists_the_fifteen_experiments():
    at = _app("report")
    _no_exceptions(at)
    table = _frame(at, "report accuracy")
    assert len(table) == 15 and table["report accuracy"].iloc[8] == 0.101
    assert table["our accuracy"].isna().all() and at.dataframe[0].proto.placeholder == "—"  # not "None"
    assert "report_run_MLP 1" in [b.key for b in at.button]


# ---------------------------------------------------------------- Draw

def _canvas_state(image: np.ndarray) -> dict:
    """What streamlit-drawable-canvas sends back after a stroke (see shared/notes)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}], "background": "#FFFFFF"}, "data": data},
            "backgroundFit": None}


def test_draw_offers_quick_training_without_a_model():
    at = _app("draw")
    _no_exceptions(at)
    assert "draw_quick_train" in [b.key for b in at.button]
    assert "no trained model yet" in _texts(at)


def test_draw_blank_canvas_prompts(home_with_run):
    at = _app("draw")
    _no_exceptions(at)
    assert "Draw a digit on the canvas" in _texts(at)
    assert at.selectbox(key="draw_model").value == home_with_run


def test_draw_predicts_an_injected_drawing(home_with_run):
    canvas, label = drawn_digit(0)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    _no_exceptions(at)
    assert f"I read a **{label}**" in _texts(at)
    bars, steps_and_answers = _readings_html(at)
    assert "How sure is the model?" in bars and bars.count('class="mnl-bar"') == 10
    (row,) = re.findall(r"<tbody>(.*)</tbody>", steps_and_answers)  # the one model's answer
    assert f'<td class="num">{label}</td>' in row and home_with_run in row
    _shows_the_steps_pixel_for_pixel(steps_and_answers, canvas)


def _readings_html(at) -> list[str]:
    """The page's readings (st.html), without the style every page carries (common.style_page)."""
    return [html.value for html in at.html if "stCaptionContainer" not in html.value]


def _shows_the_steps_pixel_for_pixel(html: str, canvas) -> None:
    """What the model sees: four inline pictures (no media files to fetch), each the step's picture exactly, each
    with its caption."""
    from draw_view import STEP_CAPTIONS
    from mnistlab.preprocess import preprocess_steps, step_pictures

    shown = re.findall(r'<figure><img src="data:image/png;base64,([^"]+)"[^>]*><figcaption>([^<]*)</figcaption>', html)
    assert [caption for _, caption in shown] == list(STEP_CAPTIONS)
    for (encoded, _), picture in zip(shown, step_pictures(preprocess_steps(canvas)), strict=True):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded)))), picture)


def test_draw_single_dot_gets_no_prediction(home_with_run):
    dot = np.full((280, 280, 4), 255, np.uint8)
    dot[130:148, 130:148, :3] = 0
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(dot)
    at.run()
    _no_exceptions(at)
    assert "Draw a digit on the canvas" in _texts(at) and "I read" not in _texts(at)


def test_draw_with_a_model_outside_the_table_loads_nothing_again(home_with_run, store_home):
    """The chosen model plus the table's models all stay loaded: with more runs than the table shows,
    choosing one outside it must not make every rerun reload every model."""
    from common import predictor
    from mnistlab.store import RunStore

    for copy in range(9):
        copy_run(store_home / "runs" / home_with_run, store_home / "runs", str(copy))

    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    last = [run.run_id for run in RunStore(store_home).list_runs().runs][-1]  # all equally accurate: page order
    at.selectbox(key="draw_model").set_value(last).run()
    at.session_state["draw_canvas_0"] = _canvas_state(drawn_digit(0)[0])
    at.run()
    first = predictor().stats()["loads"]  # the page's own predictor: one per server and store
    at.run()
    _no_exceptions(at)
    again = predictor().stats()["loads"] - first
    assert first == 9 and again == 0, f"{again} models loaded again on a rerun"


def _page_globals(page: str) -> list[dict]:
    gc.collect()
    return [o for o in gc.get_objects()
            if isinstance(o, dict) and str(o.get("__file__", "")).endswith(f"app_pages/{page}.py")]


@pytest.mark.parametrize("page", ["results", "compare", "draw", "inside", "class_test", "report"])
def test_a_page_lets_go_of_its_data_after_its_run(home_with_run, page, store_home):
    """Streamlit keeps widget callbacks and format_funcs for the life of the session (and two minutes
    after): a lambda or callback defined in the page would keep every run's metrics alive per session."""
    if page == "class_test":
        from mnistlab.drawings import Drawings

        Drawings(store_home).save(*drawn_digit(0))  # so the page draws everything, download button included
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"app_pages/{page}.py").run()
    if page in ("draw", "inside"):
        at.session_state[f"{page}_canvas_0"] = _canvas_state(drawn_digit(0)[0])
        at.run()
    assert len(_page_globals(page)) == 0, f"the {page} page's variables outlive its run"
    _no_exceptions(at)  # (and the session, with its widgets, is still alive)


def test_a_live_chart_is_built_once_for_every_session_watching_it():
    """Thirty tabs on Train poll once a second: the charts of one run's state are built once between them."""
    import plotly.graph_objects as go

    from common import shared_figure

    builds = []

    def build():
        builds.append(1)
        return go.Figure()

    first, second = shared_figure(("test", "run-a", 3), build), shared_figure(("test", "run-a", 3), build)
    newer = shared_figure(("test", "run-a", 4), build)
    assert first is second and newer is not first and len(builds) == 2


def test_train_page_names_a_run_training_in_another_process(home_with_run, store_home):
    """A run the command line is training (owned by a live process) is named on the idle Train page."""
    from mnistlab.store import RunStore
    from mnistlab.spec import Experiment

    store = RunStore(store_home)
    experiment = store.load(home_with_run).experiment
    run_id = store.create_run(Experiment("From the terminal", experiment.layers, experiment.config), status="running")
    at = _app("train")
    _no_exceptions(at)
    assert any("From the terminal is training in another process" in info.value for info in at.info), run_id


def test_results_say_when_a_run_is_not_comparable_with_the_report(home_with_run, store_home):
    """A run of the report's CNN 4 network stopped at 1.3 of its 30 epochs: Results says how it differs from the
    report's run instead of printing a bare "pp vs report"; at the report's settings, the difference is shown."""
    import json

    from mnistlab.presets import get_preset
    from mnistlab.files import write_json

    folder = store_home / "runs" / home_with_run
    write_json(folder / "spec.json", get_preset("CNN 4").experiment.to_dict())
    info = json.loads((folder / "run.json").read_text())
    write_json(folder / "run.json", dict(info, status="stopped", epochs_run=1.3))
    at = _app("results")
    _no_exceptions(at)
    assert not any("vs report" in str(metric.proto.delta) for metric in at.metric)
    assert any("stopped after 1.3 of its 30 epochs" in caption.value for caption in at.caption)
    network = next(frame for frame in at.dataframe if "output shape" in frame.value.columns)
    assert json.loads(network.proto.columns)["params"]["type_config"]["format"] == "localized"  # 18,496 (item 8)
    write_json(folder / "run.json", dict(info, status="completed", epochs_run=30))
    at = _app("results")
    assert any("vs report" in str(metric.proto.delta) for metric in at.metric)



# ---------------------------------------------------------------- Inside

def _chart_titles(at: AppTest) -> list[str]:
    import json

    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def _plotly_array(value: dict) -> np.ndarray:
    """An array as Plotly sends it: base64 bytes of a typed array, with its dtype and shape."""
    data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return data.reshape([int(n) for n in str(value["shape"]).split(",")])


def _chart(at: AppTest, title_start: str) -> dict:
    import json

    return next(spec for spec in (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
                if spec["layout"]["title"]["text"].startswith(title_start))


def test_inside_shows_every_layer_of_a_drawing(home_with_run, store_home):
    """An injected drawing: the prediction, the saliency, one picture per hidden layer holding that layer's real
    output for the drawing, the first layer's filters; no templates for a CNN."""
    from mnistlab import inspect
    from mnistlab.preprocess import preprocess_steps
    from mnistlab.store import RunStore

    canvas, label = drawn_digit(0)
    at = _app("inside")
    assert "Draw a digit on the canvas" in _texts(at)
    at.session_state["inside_canvas_0"] = _canvas_state(canvas)
    at.run()
    _no_exceptions(at)
    assert f"It reads a **{label}**" in _texts(at)
    model = RunStore(store_home).load_model(home_with_run)
    conv, pool = (layer.name for layer in model.layers[:2])
    titles = _chart_titles(at)
    assert [t.split("<br>")[0] for t in titles] == ["Which pixels decided", conv, pool,
                                                    "First Conv2D's filters"], titles
    assert _readings_html(at)[0].count('class="mnl-bar"') == 10  # the probabilities
    pooled = inspect.activations(model, preprocess_steps(canvas).centred)[1].values  # 13×13×16
    z = _plotly_array(_chart(at, pool)["data"][0]["z"])
    assert z.shape == (4 * 13,) * 2  # 16 channels: 4 × 4 tiles of 13 px (white lines between them)
    percent = np.round(100 * pooled / np.abs(pooled).max())  # a byte a pixel: % of the layer's strongest output
    np.testing.assert_allclose(z[13:26, 13:26], percent[..., 5], atol=1)  # channel 5
    assert "templates" not in _texts(at)


def test_inside_from_draw_keeps_the_drawing_and_the_model(home_with_run, store_home):
    canvas, label = drawn_digit(3)
    other = copy_run(store_home / "runs" / home_with_run, store_home / "runs", "other")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.selectbox(key="draw_model").set_value(other).run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    at.button(key="draw_inside").click().run()
    _no_exceptions(at)
    assert at.selectbox(key="inside_model").value == other and at.radio(key="inside_source").value == "Your drawing"
    assert f"It reads a **{label}**" in _texts(at)  # AppTest's canvas sends nothing: the drawing brought along
    assert at.session_state["inside_strokes"]["objects"] == [{"type": "path"}]  # and the canvas starts with it
    at.button(key="inside_clear").click().run()
    assert "Draw a digit on the canvas" in _texts(at)


def test_inside_from_results_looks_at_the_chosen_test_image(home_with_run):
    from mnistlab.data import load_mnist

    (_, _), (_, y_test) = load_mnist()
    at = _app("results")
    at.selectbox(key="results_true").set_value(7).run()
    at.selectbox(key="results_pred").set_value(7).run()  # the 7s read right: the gallery's first is test image 0
    picker = next(box for box in at.selectbox if box.key.startswith("results_inside_"))
    chosen = picker.options[2]
    picker.set_value(int(chosen.lstrip("#"))).run()
    at.button(key="results_inside").click().run()
    _no_exceptions(at)
    index = int(chosen.lstrip("#"))
    assert at.radio(key="inside_source").value == "A test image" and at.number_input(key="inside_test").value == index
    assert f"It reads a **{y_test[index]}**" in _texts(at)  # a 7 the model reads right, by the gallery's choice


def test_a_store_that_changes_during_a_click_s_run_never_costs_the_click(home_with_run, monkeypatch):
    """Seam 7 (issue 24): every page follows the store (common.follow_runs), and a change it sees reruns the app.
    Were that rerun to happen in the run a click started, Streamlit would reset the click's trigger and the click
    would be lost. Here the store changes right after the click's run has looked at it (a run renamed in another
    tab, say), as it does now and then in a class where runs start, end and are renamed all the time."""
    from mnistlab.store import RunStore

    at = _app("results")
    looks = iter([1_000])  # the click's run sees version 1000; any later look, 1001
    monkeypatch.setattr(RunStore, "listed_version", lambda self: next(looks, 1_001))
    at.button(key="results_inside").click().run()
    _no_exceptions(at)
    assert [radio.key for radio in at.radio] == ["inside_source"], "the click was lost: still on Results"


def test_inside_a_linear_network_is_ten_templates(store_home):
    """MLP 1's lesson: a network with linear hidden layers is one linear map; the page shows its ten templates and
    says why that caps its accuracy."""
    from mnistlab.spec import Dense, Experiment, Flatten, TrainConfig
    from mnistlab.recorder import RunRecorder
    from mnistlab.store import RunStore
    from mnistlab.train import train

    linear = Experiment("Tiny linear MLP", (Flatten(), Dense(20), Dense(10, "softmax")),
                        TrainConfig(optimizer="SGD", epochs=1, batch_size=64, train_limit=2000, seed=1))
    store = RunStore(store_home)
    train(linear, [RunRecorder(store, store.create_run(linear))])
    at = _app("inside")
    at.radio(key="inside_source").set_value("A test image").run()
    at.number_input(key="inside_test").set_value(3).run()
    _no_exceptions(at)
    titles = [t.split("<br>")[0] for t in _chart_titles(at)]
    assert titles[-2:] == ["First Dense layer's weights, one unit each", "The ten templates"], titles
    assert titles[1].startswith("dense") and "20 units, top 10" in _chart_titles(at)[1]  # the hidden layer, as bars
    assert "The whole network is ten templates" in _texts(at)
    assert "stop near 92% (92.06%, 92.08%, 92.23%)" in _texts(at)


def test_draw_shows_the_inside_view_only_when_asked(home_with_run):
    """Draw's "Inside the network" toggle: off by default (a class drawing at once pays only for the readings); on,
    the drawing's every layer appears under the answers, and it stays on across Clear."""
    canvas, label = drawn_digit(1)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    assert "Layer by layer" not in _texts(at) and len(at.get("plotly_chart")) == 0  # the readings are HTML
    at.toggle(key="draw_inside_on").set_value(True).run()
    _no_exceptions(at)
    assert "Layer by layer" in _texts(at) and "What the first layer looks for" in _texts(at)
    titles = [t.split("<br>")[0] for t in _chart_titles(at)]
    assert titles[0] == "Which pixels decided" and "First Conv2D's filters" in titles
    at.button(key="draw_clear").click().run()
    assert at.toggle(key="draw_inside_on").value and "Layer by layer" not in _texts(at)


def test_report_shows_the_spread_over_seeds(home_with_run, store_home):
    """Reproductions of one preset with seeds 42 and 43: the Report gives their mean, std, and whether the report's
    number lies within them."""
    import json

    from mnistlab.presets import get_preset

    spec = get_preset("CNN 3").experiment.to_dict()
    for seed, accuracy in ((42, 0.9790), (43, 0.9810)):
        folder = store_home / "runs" / copy_run(store_home / "runs" / home_with_run, store_home / "runs", str(seed))
        spec["config"]["seed"] = seed
        (folder / "spec.json").write_text(json.dumps(spec))
        metrics = json.loads((folder / "metrics.json").read_text())
        (folder / "metrics.json").write_text(json.dumps(dict(metrics, accuracy=accuracy)))
    at = _app("report")
    _no_exceptions(at)
    row = _frame(at, "report accuracy").set_index("experiment").loc["CNN 3"]
    assert row["seeds"] == 2 and row["our mean"] == pytest.approx(0.98) and row["± std"] == pytest.approx(0.001414, 1e-3)
    assert row["report in our range"] == "yes"  # the report's 0.9801 lies in 0.9790 – 0.9810
    assert _frame(at, "report accuracy").set_index("experiment").loc["CNN 4"]["seeds"] == 0


def test_draw_saves_a_labelled_drawing_for_the_class(home_with_run, store_home):
    """Draw: pick the digit meant, Save: the drawing is kept with that label and an anonymous session tag, the
    canvas is cleared, and the page says how many the class has."""
    from mnistlab.drawings import Drawings

    canvas, label = drawn_digit(2)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    assert at.button(key="draw_save").disabled  # no label picked yet
    at.button_group(key="draw_label_0").set_value(str(label)).run()
    at.button(key="draw_save").click().run()
    _no_exceptions(at)
    [kept] = Drawings(store_home).all()
    assert kept.label == label and len(kept.session) == 8 and kept.session == at.session_state["session_tag"]
    assert f"Saved as a {label}. The class's set has 1 drawing." in [s.value for s in at.success]
    assert at.session_state["draw_generation"] == 1 and "Draw a digit on the canvas" in _texts(at)


# ---------------------------------------------------------------- Class test

def test_class_test_scores_every_model_on_the_class_drawings(home_with_run, store_home):
    """A seeded drawings folder: the counts, each model's accuracy on the drawings beside MNIST's (computed in the
    prediction process), the gap sentence, and the drawings read wrong — a 7 saved as a 1 among them."""
    from mnistlab.drawings import Drawings, class_score
    from mnistlab.preprocess import canvas_to_mnist
    from mnistlab.store import RunStore

    drawings = Drawings(store_home)
    for i in range(8):
        drawings.save(*drawn_digit(i))
    drawings.save(drawn_digit(0)[0], 1)  # test digit 0 is a 7: a student who picked the wrong label
    at = _app("class_test")
    _no_exceptions(at)
    x, y, _ = drawings.dataset()
    assert "9 drawings: 0: 1 · 1: 3 · 2: 1" in _texts(at)
    model = RunStore(store_home).load_model(home_with_run)
    by_hand = class_score(y, np.argmax(model.predict(x[..., None] / 255.0, verbose=0), axis=1))
    run = RunStore(store_home).load(home_with_run)
    assert f"Quick CNN: {run.metrics['accuracy']:.1%} on MNIST, {by_hand.accuracy:.1%} on your class's 9 drawings" \
        in [s.value.replace("\\", "").replace("\u200b", "") for s in at.subheader]
    assert f"What it got wrong ({len(by_hand.wrong)})" in _texts(at) and len(by_hand.wrong) >= 1
    assert canvas_to_mnist(drawn_digit(0)[0]) is not None


def test_class_test_without_drawings_says_how_to_make_them(home_with_run):
    at = _app("class_test")
    _no_exceptions(at)
    assert "pick the digit you meant" in _texts(at)


def test_class_test_deletes_one_drawing_or_all_each_with_its_confirmation(home_with_run, store_home):
    from mnistlab.drawings import Drawings

    drawings = Drawings(store_home)
    for i in range(6):
        drawings.save(*drawn_digit(i))  # test digits 7 2 1 0 4 1
    at = _app("class_test")
    at.button_group(key="class_browse_digit").set_value("1").run()
    assert at.selectbox(key="class_delete_pick").options == ["#2", "#5"]
    assert at.button(key="class_delete_one").disabled
    at.selectbox(key="class_delete_pick").set_value(5).run()
    _, _, ids = drawings.dataset()
    at.checkbox(key=f"class_confirm_{ids[5]}").check().run()
    at.selectbox(key="class_delete_pick").set_value(2).run()  # another target: its own, unticked confirmation
    assert at.button(key="class_delete_one").disabled
    at.selectbox(key="class_delete_pick").set_value(5).run()
    assert at.button(key="class_delete_one").disabled  # and the first one's was not kept while away
    at.checkbox(key=f"class_confirm_{ids[5]}").check().run()
    at.button(key="class_delete_one").click().run()
    _no_exceptions(at)
    assert [d.drawing_id for d in drawings.all()] == list(ids[:5])
    assert at.button(key="class_delete_all").disabled
    at.checkbox(key="class_confirm_all_5").check().run()
    at.button(key="class_delete_all").click().run()
    assert drawings.all() == [] and "No drawings yet" in _texts(at)


def test_a_callback_speaks_the_language_of_whoever_clicked(home_with_run, store_home):
    """Callbacks run before the script (and so before app.py's speak()): a refusal and a notice they leave are in
    the session's language all the same."""
    copy_run(store_home / "runs" / home_with_run, store_home / "runs", "b")  # one left: the page goes on to the notice
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "pt_BR"
    at.switch_page("app_pages/compare.py").run()
    at.text_input(key="compare_new_name").input("um\tnome").run()
    at.button(key="compare_rename").click().run()
    assert any("caracteres de controle" in error.value for error in at.error), [e.value for e in at.error]
    target = next(box for box in at.selectbox if box.label == "Treino").value
    at.checkbox(key=f"compare_confirm_{target}").check().run()
    at.button(key="compare_delete").click().run()
    _no_exceptions(at)
    assert f"Treino {target} excluído." in [notice.value for notice in at.success]


def test_results_write_numbers_as_the_session_speaks(home_with_run):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "pt_BR"
    at.switch_page("app_pages/results.py").run()
    _no_exceptions(at)
    accuracy = next(metric for metric in at.metric if metric.label == "Acurácia de teste")
    assert re.fullmatch(r"0,\d{4}", accuracy.value), accuracy.value
