"""Lesson mode (issue 28): the report's steps, the teacher's and students' rights, one vote per session per vote,
a lesson kept across a server restart, and each step's answer from the store's runs."""

import json

import numpy as np
import pytest

from conftest import REPO, copy_run
from mnistlab.data import load_mnist
from mnistlab.files import write_json
from mnistlab.lesson import (CLOSED, QUESTION, REVEALED, RUN, SECOND_CLOSED, SECOND_VOTE, VOTE, Lesson, Step, answer,
                             question, report_steps, split, summary)
from mnistlab.presets import FINDING_COMPARES, get_preset
from mnistlab.roles import SOLO, Person, Refused, Role
from mnistlab.store import RunStore

TEACHER = Person(Role.TEACHER, "teacher1")
ANA, BIA, CAU = (Person(Role.STUDENT, tag) for tag in ("ana00001", "bia00002", "cau00003"))


def test_the_reports_lesson_is_its_findings_in_order():
    steps = report_steps()
    assert [(s.before, s.after) for s in steps] == [
        ("MLP 1", "MLP 2"), ("MLP 2", "MLP 3"), ("MLP 2", "MLP 4"), ("MLP 4", "MLP 5"), ("MLP 5", "MLP 6"),
        ("MLP 6", "MLP 7"), ("MLP 7", "MLP 8"), ("MLP 8", "MLP 10"), ("CNN 1", "CNN 2"), ("CNN 1", "CNN 3"),
        ("CNN 2", "CNN 4"), ("CNN 4", "CNN 5")]
    for step in steps:
        assert step.before in [other for other, _claim in FINDING_COMPARES[step.after]]
    assert question(steps[3].before, steps[3].after) == "Will MLP 5 be better, the same, or worse than MLP 4?"


def test_only_the_teacher_drives_and_a_student_is_refused_where_the_action_happens(store_home):
    lesson = Lesson(store_home)
    for action, args in ((lesson.open_vote, ()), (lesson.close_vote, ()), (lesson.reveal, ()), (lesson.go_to, (1,)),
                         (lesson.use_steps, ([Step("MLP 1", "MLP 5")],))):
        with pytest.raises(Refused, match="only the teacher"):
            action(ANA, *args)
    assert lesson.current()[0] == 0 and lesson.current()[2] == QUESTION
    lesson.go_to(TEACHER, 3)
    lesson.open_vote(SOLO)  # outside a class the one person there drives
    assert lesson.current()[0] == 3 and lesson.current()[2] == VOTE


def test_one_vote_per_session_per_vote_only_while_it_is_open(store_home):
    lesson = Lesson(store_home)
    with pytest.raises(Refused, match="not open"):
        lesson.vote(ANA, "better")
    lesson.open_vote(TEACHER)
    lesson.vote(ANA, "better")
    lesson.vote(BIA, "better")
    lesson.vote(CAU, "same")
    with pytest.raises(Refused, match="already"):
        lesson.vote(ANA, "worse")  # a second click, or the same browser again
    with pytest.raises(Refused):
        lesson.vote(BIA, "much better")
    assert split(lesson.votes(0)) == {"better": 2, "same": 1, "worse": 0}
    lesson.close_vote(TEACHER)
    with pytest.raises(Refused, match="not open"):
        lesson.vote(TEACHER, "worse")
    lesson.open_vote(TEACHER)  # the second vote, after discussing: everyone votes again
    assert lesson.current()[2] == SECOND_VOTE
    lesson.vote(ANA, "same")
    assert lesson.my_vote(ANA, 0, second=True) == "same" and lesson.my_vote(ANA, 0) == "better"
    lesson.close_vote(TEACHER)
    assert lesson.current()[2] == SECOND_CLOSED
    lesson.reveal(TEACHER)
    assert lesson.current()[2] == REVEALED
    lesson.go_to(TEACHER, 1)
    lesson.go_to(TEACHER, 0)  # back to a step already revealed: it stays revealed, with its votes
    assert lesson.current()[2] == REVEALED and split(lesson.votes(0))["better"] == 2


def test_a_server_restart_mid_step_keeps_the_votes_and_a_damaged_file_is_the_reports_lesson(store_home):
    Lesson(store_home).go_to(TEACHER, 2)
    Lesson(store_home).open_vote(TEACHER)
    Lesson(store_home).vote(ANA, "worse")
    again = Lesson(store_home)  # what a restarted server reads
    assert again.current()[0] == 2 and again.current()[2] == VOTE and again.votes(2) == {ANA.tag: "worse"}
    with pytest.raises(Refused, match="already"):
        again.vote(ANA, "better")
    (store_home / "lesson.json").write_text("{not json")
    assert Lesson(store_home).current()[:2] == (0, report_steps()[0]) and Lesson(store_home).votes(2) == {}


def test_reveal_needs_a_closed_vote_and_a_lesson_of_ones_own_starts_afresh(store_home):
    lesson = Lesson(store_home)
    with pytest.raises(Refused, match="Close the vote"):
        lesson.reveal(TEACHER)
    lesson.open_vote(TEACHER)
    lesson.vote(ANA, "better")
    lesson.use_steps(TEACHER, [Step("MLP 1", "CNN 5"), Step("CNN 1", "CNN 4")])
    assert [(s.before, s.after) for s in lesson.steps()] == [("MLP 1", "CNN 5"), ("CNN 1", "CNN 4")]
    assert lesson.current()[2] == QUESTION and lesson.votes(0) == {}
    with pytest.raises(KeyError):
        lesson.use_steps(TEACHER, [Step("MLP 1", "Not a preset")])


@pytest.fixture
def labels():
    return load_mnist()[1][1]


def _runs_of(store, home, run_id, labels, preset_name, seeds, wrong, full=False):
    """Copies of the trained run standing for runs of a preset (its spec, at full settings or on a slice), wrong on
    the test images `wrong`."""
    preset = get_preset(preset_name)
    for seed in seeds:
        folder = store.runs_dir / copy_run(home / "runs" / run_id, store.runs_dir, f"{preset_name[-1]}{seed}")
        config = {} if full else {"epochs": 2, "train_limit": 10_000}
        spec = preset.experiment.with_config(seed=seed, **config).to_dict()
        predictions = labels.astype(np.uint8).copy()
        chosen = np.asarray(list(wrong)) + seed  # seeds differ a little
        predictions[chosen] = (predictions[chosen] + 1) % 10
        metrics = json.loads((folder / "metrics.json").read_text())
        write_json(folder / "spec.json", spec)
        write_json(folder / "metrics.json", dict(metrics, accuracy=float(np.mean(predictions == labels))))
        info = json.loads((folder / "run.json").read_text())
        write_json(folder / "run.json", dict(info, name=preset_name))
        np.save(folder / "predictions.npy", predictions)


def test_a_steps_answer_comes_from_the_stores_runs(trained_store, store_home, labels):
    home, run_id = trained_store
    store = RunStore(store_home)
    step = Step("MLP 4", "MLP 5")
    assert answer(step, store.list_runs().runs, labels) is None  # no runs of them yet
    _runs_of(store, home, run_id, labels, "MLP 4", [1], range(0, 400))
    _runs_of(store, home, run_id, labels, "MLP 5", [1], range(1000, 1100))
    found = answer(step, store.list_runs().runs, labels)  # one run each: McNemar on the images they disagree on
    assert found.choice == "better" and found.real and not found.full
    assert found.sentence.startswith("MLP 5 is better: on the 500 test images where they disagree")
    same = answer(Step("MLP 4", "MLP 4"), store.list_runs().runs, labels)
    assert same.choice == "same" and not same.real


def test_with_groups_of_seeds_at_full_settings_the_answer_is_welchs(trained_store, store_home, labels):
    home, run_id = trained_store
    store = RunStore(store_home)
    _runs_of(store, home, run_id, labels, "CNN 4", [42, 43, 44], range(0, 90), full=True)
    _runs_of(store, home, run_id, labels, "CNN 5", [42, 43, 44], range(0, 70), full=True)
    found = answer(Step("CNN 4", "CNN 5"), store.list_runs().runs, labels)
    assert found.full and found.real and found.choice == "better" and "Welch's t" in found.sentence


def test_the_lessons_end_has_each_steps_split_answer_and_share_right(trained_store, store_home, labels):
    home, run_id = trained_store
    store = RunStore(store_home)
    _runs_of(store, home, run_id, labels, "MLP 1", [1], range(0, 50))
    _runs_of(store, home, run_id, labels, "MLP 2", [1], range(0, 50))
    lesson = Lesson(store_home)
    lesson.open_vote(TEACHER)
    for student, choice in ((ANA, "better"), (BIA, "same"), (CAU, "same")):
        lesson.vote(student, choice)
    lesson.close_vote(TEACHER)
    lesson.reveal(TEACHER)
    first, second = summary(lesson, store.list_runs().runs, labels)[:2]
    assert first["question"] == "Will MLP 2 be better, the same, or worse than MLP 1?"
    assert first["first_vote"] == {"better": 1, "same": 2, "worse": 0} and first["second_vote"] is None
    assert first["answer"] == "same" and first["right"] == pytest.approx(2 / 3)
    assert second["answer"] is None and second["right"] is None  # not revealed yet


def test_the_lesson_page_for_a_student_and_the_teacher(store_home, monkeypatch):
    """AppTest: the page shows the step's question and what changes; a student gets no teacher's controls, the teacher
    opens the vote and sees the count, not the split."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MNISTLAB_CLASSROOM", "1")
    student = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    student.switch_page("app_pages/lesson.py").run()
    assert not student.exception, [e.value for e in student.exception]
    assert student.subheader[0].value == "Will MLP 2 be better, the same, or worse than MLP 1?"
    assert "lesson_open" not in [button.key for button in student.button]
    teacher = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    teacher.session_state["session_role"] = "teacher"
    teacher.switch_page("app_pages/lesson.py").run()
    teacher.button(key="lesson_open").click().run()
    assert not teacher.exception, [e.value for e in teacher.exception]
    assert Lesson(store_home).current()[2] == VOTE
    assert "lesson_vote_worse" not in [button.key for button in teacher.button]  # the projector shows the count
    student.run()
    student.button(key="lesson_vote_worse").click().run()
    assert "Your vote: Worse." in student.success[0].value
    teacher.run()
    assert [m.value for m in teacher.metric if m.label == "Votes so far"] == ["1 vote"]
    assert not teacher.get("plotly_chart")  # no split while the vote is open
    teacher.button(key="lesson_close").click().run()
    assert Lesson(store_home).current()[2] == CLOSED and teacher.get("plotly_chart")


def test_a_lesson_of_ones_own_compares_two_runs_of_the_store(trained_store, store_home, labels):
    """A step may name two runs of the store (any networks, not only the report's): its question says their names,
    its answer comes from their runs; a run deleted since makes the step say so rather than fail."""
    from mnistlab.lesson import network

    home, run_id = trained_store
    store = RunStore(store_home)
    _runs_of(store, home, run_id, labels, "MLP 4", [1], range(0, 400))
    _runs_of(store, home, run_id, labels, "MLP 5", [1], range(1000, 1100))
    runs = store.list_runs().runs
    mlp4, mlp5 = (next(run.run_id for run in runs if run.name == name) for name in ("MLP 4", "MLP 5"))
    lesson = Lesson(store_home)
    lesson.use_steps(TEACHER, [Step(RUN + mlp4, RUN + mlp5)])
    assert summary(lesson, runs, labels)[0]["question"] == "Will MLP 5 be better, the same, or worse than MLP 4?"
    found = answer(lesson.steps()[0], runs, labels)
    assert found.choice == "better" and found.real
    assert network(RUN + "20200101-000000-gone-0000", runs) is None


def test_a_vote_is_never_lost_to_a_store_that_changes_during_its_run(store_home, monkeypatch):
    """Seam 7 (issue 24): the lesson page follows the lesson and the store, and a change reruns the app. Were that
    rerun to happen in the run a click started, the click (here a student's vote) would be lost. The store changes
    right after the vote's run has looked at it, as it does in a class where runs start and end all the time."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MNISTLAB_CLASSROOM", "1")
    Lesson(store_home).open_vote(TEACHER)
    student = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    student.switch_page("app_pages/lesson.py").run()
    looks = iter([1_000])  # the vote's run sees version 1000; any later look, 1001
    monkeypatch.setattr(RunStore, "listed_version", lambda self: next(looks, 1_001))
    student.button(key="lesson_vote_better").click().run()
    assert not student.exception, [e.value for e in student.exception]
    assert split(Lesson(store_home).votes(0)) == {"better": 1, "same": 0, "worse": 0}, "the vote was lost"
