"""Which is better? (issue 13): a run or a group named on the command line, the test that fits, its sentence."""

import json

import numpy as np
import pytest

from conftest import REPO, copy_run
from mnistlab.cli import main
from mnistlab.data import load_mnist
from mnistlab.files import write_json
from mnistlab.store import RunStore, StoreError
from mnistlab.verdict import compare, side


@pytest.fixture
def labels():
    return load_mnist()[1][1]


@pytest.fixture
def store(trained_store, store_home, labels):
    """Four copies of the trained run: "Net A" seeds 1 and 2, "Net B" seeds 1 and 2, each with its own accuracy and
    predictions (A right on every image but its first `wrong`, B wrong on a block further on)."""
    home, run_id = trained_store
    store = RunStore(store_home)
    for name, seed, accuracy, wrong in (("Net A", 1, 0.990, range(0, 30)), ("Net A", 2, 0.991, range(0, 30)),
                                        ("Net B", 1, 0.980, range(20, 80)), ("Net B", 2, 0.982, range(20, 80))):
        folder = store.runs_dir / copy_run(home / "runs" / run_id, store.runs_dir, f"{name[-1].lower()}{seed}")
        info, spec = (json.loads((folder / f).read_text()) for f in ("run.json", "spec.json"))
        spec["config"]["seed"] = seed
        if name == "Net B":
            spec["config"]["batch_size"] = 64  # another setup: runs of one setup form one group, whatever their names
        metrics = json.loads((folder / "metrics.json").read_text())
        predictions = labels.astype(np.uint8).copy()
        predictions[list(wrong)] = (predictions[list(wrong)] + 1) % 10
        for file, data in (("run.json", dict(info, name=name)), ("spec.json", spec),
                           ("metrics.json", dict(metrics, accuracy=accuracy))):
            write_json(folder / file, data)
        np.save(folder / "predictions.npy", predictions)
    return store


def _compare_page_with_ticked(store, *runs: str):
    """Compare in AppTest with these runs ticked (by their last two characters: "a1" is Net A's seed 1)."""
    from streamlit.testing.v1 import AppTest

    ids = {run.run_id[-2:]: run.run_id for run in store.list_runs().runs}
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/compare.py").run()
    at.session_state["compare_selected"] = [ids[run] for run in runs]
    at.run()
    assert not at.exception
    return at


def test_names_are_groups_and_ids_are_runs(store):
    a = side(store, "Net A")
    assert a.is_group and a.group.seeds == (1, 2)
    one = side(store, a.group.runs[0].run_id)
    assert not one.is_group and one.run.run_id == a.group.runs[0].run_id


def test_two_groups_by_welch_and_two_runs_by_mcnemar(store, labels):
    from scipy import stats

    verdict = compare(side(store, "Net A"), side(store, "Net B"), labels)
    assert verdict["test"] == "welch" and verdict["difference"] == pytest.approx(0.0095)
    assert verdict["p_value"] == pytest.approx(stats.ttest_ind([0.990, 0.991], [0.980, 0.982], equal_var=False).pvalue)
    assert verdict["a"]["seeds"] == [1, 2] and verdict["a"]["interval_95"][0] < 0.990
    runs = {run.run_id[-2:]: run.run_id for run in store.list_runs().runs}
    verdict = compare(side(store, runs["a1"]), side(store, runs["b1"]), labels)
    assert (verdict["only_a"], verdict["only_b"]) == (60 - 10, 30 - 10)  # both wrong on images 20–29
    assert verdict["p_value"] == pytest.approx(stats.binomtest(20, 70).pvalue)
    assert verdict["sentence"].startswith("Net A is better: on the 70 test images where they disagree, Net A is right "
                                          "50 times and Net B 20 times")


def test_a_run_without_predictions_says_so(store, labels):
    run = side(store, "Net B").group.runs[0]
    (run.path / "predictions.npy").unlink()
    with pytest.raises(StoreError, match="has no saved predictions"):
        compare(side(store, run.run_id), side(store, "Net A"), labels)


def test_cli_compare_prints_the_sentence_or_json(store, capsys):
    assert main(["compare", "Net A", "Net B"]) == 0
    assert "(Welch's t, p" in capsys.readouterr().out
    runs = sorted(run.run_id for run in store.list_runs().runs)
    assert main(["compare", runs[0], runs[2], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test"] == "mcnemar"
    assert main(["compare", "Net A", "Net C"]) == 2
    assert "No run has the id or name 'Net C'" in capsys.readouterr().err


def test_compare_page_says_which_of_two_ticked_runs_is_better(store):
    """Compare: the groups of seeds in a table; two ticked runs get McNemar's sentence, and Welch's for their groups."""
    from streamlit.testing.v1 import AppTest

    from conftest import REPO

    runs = {run.run_id[-2:]: run.run_id for run in store.list_runs().runs}
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/compare.py").run()
    groups = next(frame.value for frame in at.dataframe if "seeds" in frame.value.columns)
    assert list(groups["name"]) == ["Net B", "Net A"] and list(groups["seeds"]) == ["1, 2", "1, 2"]
    assert "Which is better?" not in [s.value for s in at.subheader]
    at.session_state["compare_selected"] = [runs["a1"], runs["b2"]]
    at.run()
    assert not at.exception
    said = [m.value.replace("\\", "").replace("\u200b", "") for m in at.markdown]  # shown as typed (common.md)
    assert any(text.startswith("Net A is better: on the 70 test images where they disagree") and "Net B (2)" in text
               for text in said), said
    assert any("(Welch's t, p" in text and "Net A is better" in text for text in said), said
    import json as js

    curves, digits = (js.loads(chart.proto.spec) for chart in at.get("plotly_chart")[1:3])  # after the accuracy bars
    assert [t.get("name") for t in curves["data"] if t.get("name")] == ["Net A (2 seeds)", "Net B (2 seeds)"]
    assert all(t["error_y"]["visible"] for t in digits["data"])
    at.toggle(key="compare_as_groups").set_value(False).run()
    curves = js.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t["name"] for t in curves["data"]] == ["Net A", "Net B (2)"]  # the two ticked runs themselves


def test_two_groups_of_one_name_are_told_apart_by_what_differs(store):
    """Net B's runs renamed "Net A": two groups of one name, told apart everywhere by their setup (batch 32 or 64),
    and the two ticked runs' differences said above the verdict."""
    import json as js

    for run in side(store, "Net B").group.runs:
        write_json(run.path / "run.json", dict(json.loads((run.path / "run.json").read_text()), name="Net A"))
    at = _compare_page_with_ticked(store, "a1", "b2")
    said = [m.value.replace("\\", "").replace("\u200b", "") for m in at.markdown]
    assert any(text.startswith("Net A · batch 32 is better") and "Net A · batch 64" in text and "Welch" in text
               for text in said), said
    assert "From Net A to Net A (4): batch 32 → 64; seed 1 → 2." in [
        c.value.replace("\\", "").replace("\u200b", "") for c in at.caption]
    curves = js.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t.get("name") for t in curves["data"] if t.get("name")] == ["Net A · batch 32 (2 seeds)",
                                                                       "Net A · batch 64 (2 seeds)"]


def test_compare_without_mnist_still_compares_groups(store, monkeypatch):
    """Runs copied to a machine without MNIST: McNemar needs the test labels and says so in a sentence; the groups'
    Welch test needs only their accuracies."""
    import common
    from mnistlab.data import DataError

    def no_mnist():
        raise DataError("MNIST could not be found on this machine.")

    monkeypatch.setattr(common, "test_set", no_mnist)
    at = _compare_page_with_ticked(store, "a1", "b2")
    assert [i.value for i in at.info] == ["MNIST could not be found on this machine."]
    assert any("(Welch's t, p" in m.value.replace("\\", "") for m in at.markdown)


def test_a_seed_trained_twice_keeps_the_newer_run_in_the_group(store):
    """Two runs of one setup and one seed: the group takes the newer; the older, ticked, stands alone on Compare."""
    from streamlit.testing.v1 import AppTest

    from conftest import REPO

    runs = {run.run_id[-2:]: run.run_id for run in store.list_runs().runs}
    again = copy_run(store.runs_dir / runs["a1"], store.runs_dir, "x")  # a newer copy: Net A, seed 1
    found = side(store, "Net A").group
    assert found.seeds == (1, 2) and again in [run.run_id for run in found.runs] and runs["a1"] not in [
        run.run_id for run in found.runs]
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/compare.py").run()
    at.session_state["compare_selected"] = [runs["a1"], runs["b2"]]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    said = [m.value.replace("\\", "").replace("\u200b", "") for m in at.markdown]
    assert not any("(Welch's t, p" in text for text in said)  # the older run has no group of its own to compare


@pytest.fixture
def reproduced(trained_store, store_home, labels):
    """MLP 2 and MLP 1 "reproduced" with seeds 42 and 43, MLP 2 clearly above: copies of the trained run with the
    reproduction's specs, their accuracies and predictions set by hand."""
    from mnistlab.presets import get_preset
    from mnistlab.reproduce import reproduction_experiment

    home, run_id = trained_store
    store = RunStore(store_home)
    accuracies = {("MLP 2", 42): 0.950, ("MLP 2", 43): 0.952, ("MLP 1", 42): 0.920, ("MLP 1", 43): 0.921}
    wrong = {"MLP 2": range(0, 40), "MLP 1": range(30, 100)}  # seed 42: only MLP 2 right on 60, only MLP 1 on 30
    for (name, seed), accuracy in accuracies.items():
        folder = store.runs_dir / copy_run(home / "runs" / run_id, store.runs_dir, f"{name[-1]}-{seed}")
        spec = reproduction_experiment(get_preset(name), None, None, seed)
        predictions = labels.astype(np.uint8).copy()
        predictions[list(wrong[name])] = (predictions[list(wrong[name])] + 1) % 10
        info, metrics = (json.loads((folder / f).read_text()) for f in ("run.json", "metrics.json"))
        for file, data in (("run.json", dict(info, name=name)), ("spec.json", spec.to_dict()),
                           ("metrics.json", dict(metrics, accuracy=accuracy))):
            write_json(folder / file, data)
        np.save(folder / "predictions.npy", predictions)
    return store


def test_the_reports_findings_are_judged_over_seeds_and_image_by_image(reproduced, labels):
    """The finding "barely help" (MLP 2 no better than MLP 1) fails on these runs; the numbers are scipy's Welch
    test and the wrong blocks' McNemar counts."""
    from scipy import stats

    from mnistlab.presets import get_preset
    from mnistlab.reproduce import RunIndex, finding_verdicts, findings_markdown

    store = reproduced
    [row] = finding_verdicts([get_preset("MLP 2"), get_preset("MLP 1")], RunIndex.of(store.list_runs().runs), labels)
    assert (row["experiment"], row["against"], row["claim"]) == ("MLP 2", "MLP 1", "same")
    reference = stats.ttest_ind([0.950, 0.952], [0.920, 0.921], equal_var=False)
    assert row["difference"] == pytest.approx(0.0305) and row["p_value"] == pytest.approx(reference.pvalue)
    assert row["real"] and not row["holds"]  # a real gain: "barely help" does not hold up
    assert (row["first_seed"]["only_a"], row["first_seed"]["only_b"]) == (60, 30)
    assert "| MLP 2: Eight times more hidden units" in findings_markdown([row]) and "| yes | no |" in findings_markdown([row])


def test_the_report_page_says_whether_each_finding_holds_up(reproduced):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
    assert "Do the report's findings hold up?" in [header.value for header in at.subheader]
    table = next(frame.value for frame in at.dataframe if "holds up" in frame.value.columns)
    assert list(table.columns[:3]) == ["experiment", "is, says the report,", "holds up"]  # in sight at 1280 px
    assert list(table["is, says the report,"]) == ["no better than MLP 1"] and list(table["holds up"]) == ["no"]
    assert list(table["real difference"]) == ["yes"] and table["Δ mean (pp)"][0] == pytest.approx(3.05)
    assert "the 90 test images where they disagree" in table["image by image (seed 42)"][0]


def test_the_report_says_a_stopped_reproduction_was_stopped_not_that_it_never_ran(reproduced, trained_store):
    """A run at the report's full settings that a person stopped is not a reproduction (not counted), but the row says
    what became of it; the accuracy table leaves precision and recall to a table of their own (1280 px)."""
    from streamlit.testing.v1 import AppTest

    from mnistlab.presets import get_preset
    from mnistlab.reproduce import reproduction_experiment

    home, run_id = trained_store
    folder = reproduced.runs_dir / copy_run(home / "runs" / run_id, reproduced.runs_dir, "stopped")
    info = json.loads((folder / "run.json").read_text())
    write_json(folder / "spec.json", reproduction_experiment(get_preset("MLP 3")).to_dict())
    write_json(folder / "run.json", dict(info, name="MLP 3", status="stopped"))
    reproduced.create_run(reproduction_experiment(get_preset("MLP 4")))  # queued
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "our accuracy" in frame.value.columns)
    status = dict(zip(table["experiment"], table["status"]))
    assert (status["MLP 2"], status["MLP 3"], status["MLP 4"], status["MLP 5"]) == (
        "completed", "stopped", "queued", "not run yet")
    assert not any("precision" in column or "finding" in column for column in table.columns)
    quality = next(frame.value for frame in at.dataframe if "our precision" in frame.value.columns)
    assert len(quality) == 15
