"""Classroom roles without a browser: every guarded action called as a student who does not own its target is refused
with a sentence and leaves the store as it was; the teacher (and, outside a class, the person at the laptop) may.
The training worker runs on a stand-in executor here, so runs stay in line or in flight as long as a test needs."""

import os
import stat
import threading

import numpy as np
import pytest

from conftest import drawn_digit
from mnistlab.classroom import (ClassActions, ClassSettings, TokenCheck, classroom_mode, qr_png, students_address,
                                teacher_token)
from mnistlab.drawings import Drawings
from mnistlab.roles import SOLO, Budget, Person, Refused, Role, fit_to_budget
from mnistlab.spec import Dense, Experiment, Flatten, TrainConfig
from mnistlab.store import RunStore
from test_worker import _wait
from worker import TrainingWorker

TEACHER = Person(Role.TEACHER, "t0000001")
ALICE = Person(Role.STUDENT, "a0000001")
BOB = Person(Role.STUDENT, "b0000001")
SMALL = Experiment("Small", (Flatten(), Dense(16, "relu"), Dense(10, "softmax")),
                   TrainConfig(epochs=1, train_limit=1000))


class StandInRun:
    def __init__(self, observers):
        self.observers, self.stopped = observers, threading.Event()

    def stop(self):
        self.stopped.set()


class StandInExecutor:
    """Takes runs as a Cluster would (submit, then stop), trains nothing, and ends a run when the test says so."""

    slots, stores_runs = 1, True

    def __init__(self):
        self.runs = {}

    def submit(self, experiment, run_id, observers=(), batch_every=5):
        self.runs[run_id] = StandInRun(observers)
        return self.runs[run_id]

    def end(self, run_id):
        from mnistlab.train import TrainResult

        for observer in self.runs[run_id].observers:
            observer.run_ended(TrainResult("stopped", None, {"epochs": [], "batches": []}, None, 0.0))


@pytest.fixture
def line():
    """A worker whose executor (a stand-in) has one place: the first run flies, the others wait."""
    worker = TrainingWorker(RunStore(), scheduler="stand-in")
    executor = StandInExecutor()
    worker._connect = lambda: executor
    return worker, executor


def _ids(store):
    return {run.run_id for run in store.list_runs().runs}


def test_a_students_repeat_of_twenty_queues_two_runs_and_then_says_why(line):
    worker, _ = line
    queued, refusals = [], []
    for seed in range(20):
        try:
            queued.append(worker.submit(SMALL.with_config(seed=seed), ALICE))
        except Refused as err:
            refusals.append(str(err))
    assert len(queued) == 2 and len(refusals) == 18
    assert "2 runs waiting or training at once" in refusals[0]
    assert _ids(worker.store) == set(queued)
    worker.submit(SMALL, BOB)  # the budget is each student's own
    worker.submit(SMALL, TEACHER)  # and the teacher has none


def test_a_students_new_tabs_share_one_budget_on_a_device_but_not_on_loopback(line):
    worker, _ = line
    tabs = [Person(Role.STUDENT, f"tab{n:05d}", "192.168.1.31") for n in range(3)]
    worker.submit(SMALL, tabs[0])
    worker.submit(SMALL, tabs[1])
    with pytest.raises(Refused, match="2 runs waiting or training at once"):
        worker.submit(SMALL, tabs[2])
    worker.submit(SMALL, Person(Role.STUDENT, "another0", "192.168.1.32"))  # another device
    for n in range(3):  # one machine trying a class out: each session its own budget
        worker.submit(SMALL, Person(Role.STUDENT, f"local{n:04d}", "127.0.0.1"))


def test_a_students_run_over_the_budget_is_refused_before_anything_is_stored(line):
    worker, _ = line
    for experiment, phrase in ((SMALL.with_config(epochs=6), "at most 5 epochs"),
                               (SMALL.with_config(train_limit=None), "at most 10,000 images"),
                               (SMALL.with_config(train_limit=20_000), "at most 10,000 images")):
        with pytest.raises(Refused, match=phrase):
            worker.submit(experiment, ALICE)
    with pytest.raises(Refused, match="only the teacher can queue the report's reproductions"):
        worker.submit(SMALL, ALICE, reproduction=True)
    assert _ids(worker.store) == set()
    assert worker.submit(fit_to_budget(SMALL.with_config(epochs=30, train_limit=None), Budget()), ALICE)


def test_student_training_off_and_a_changed_budget_hold_for_the_next_run_and_survive_a_restart(line):
    worker, _ = line
    with pytest.raises(Refused, match="only the teacher can change the students' training budget"):
        worker.settings.set_budget(ALICE, Budget(training=True, runs_at_once=20, epochs=50, train_images=60_000))
    worker.settings.set_budget(TEACHER, Budget(training=False))
    with pytest.raises(Refused, match="turned student training off"):
        worker.submit(SMALL, ALICE)
    worker.settings.set_budget(TEACHER, Budget(runs_at_once=1, epochs=8))
    assert ClassSettings(worker.store.home).budget == Budget(runs_at_once=1, epochs=8)  # what a new server reads
    worker.submit(SMALL.with_config(epochs=8), ALICE)
    with pytest.raises(Refused, match="1 run waiting or training at once"):
        worker.submit(SMALL, ALICE)
    with pytest.raises(Refused, match="from 1 to 20"):
        worker.settings.set_budget(TEACHER, Budget(runs_at_once=0))


def test_a_student_stops_or_removes_only_their_own_runs(line):
    worker, executor = line
    teachers = worker.submit(SMALL, TEACHER)
    assert _wait(lambda: teachers in executor.runs)
    alices, bobs = worker.submit(SMALL, ALICE), worker.submit(SMALL, BOB)
    for run_id, action in ((teachers, "stop"), (bobs, "remove")):
        with pytest.raises(Refused, match=f"a student can {action} only the runs they queued themselves"):
            worker.stop(run_id, ALICE)
    assert not executor.runs[teachers].stopped.is_set() and _ids(worker.store) == {teachers, alices, bobs}
    assert worker.stop(alices, ALICE) and _ids(worker.store) == {teachers, bobs}
    assert worker.stop(teachers, TEACHER) and executor.runs[teachers].stopped.is_set()


def test_the_teachers_runs_go_ahead_of_the_students_waiting_ones(line):
    worker, executor = line
    first = worker.submit(SMALL, ALICE)
    assert _wait(lambda: first in executor.runs)
    students = [worker.submit(SMALL, ALICE), worker.submit(SMALL, BOB)]
    teachers = worker.submit(SMALL, TEACHER)
    assert [item.run_id for item in worker.waiting()] == [teachers, *students]
    executor.end(first)
    assert _wait(lambda: teachers in executor.runs)
    assert students[0] not in executor.runs


def test_a_students_places_come_back_when_their_runs_end(line):
    worker, executor = line
    first, second = worker.submit(SMALL, ALICE), worker.submit(SMALL, ALICE)
    assert _wait(lambda: first in executor.runs)
    with pytest.raises(Refused):
        worker.submit(SMALL, ALICE)
    executor.end(first)
    assert _wait(lambda: second in executor.runs)
    worker.submit(SMALL, ALICE)


def test_only_the_teacher_removes_every_students_waiting_run(line):
    worker, executor = line
    teachers = worker.submit(SMALL, TEACHER)
    assert _wait(lambda: teachers in executor.runs)
    waiting = [worker.submit(SMALL, ALICE), worker.submit(SMALL, BOB), worker.submit(SMALL, TEACHER)]
    with pytest.raises(Refused, match="only the teacher can remove the students' waiting runs"):
        worker.remove_students_waiting(ALICE)
    assert len(worker.waiting()) == 3
    assert worker.remove_students_waiting(TEACHER) == 2
    assert [item.run_id for item in worker.waiting()] == [waiting[2]]
    assert _ids(worker.store) == {teachers, waiting[2]}


def test_a_student_renames_and_deletes_only_their_own_runs(line):
    worker, _ = line
    store = worker.store
    actions = ClassActions(store, Drawings(store.home))
    teachers, alices = worker.submit(SMALL, TEACHER), worker.submit(SMALL, ALICE)
    cli_run = store.create_run(SMALL)  # from the command line: nobody's in the class
    for run_id in (teachers, cli_run):
        with pytest.raises(Refused, match="a student can rename only the runs they queued themselves"):
            actions.rename_run(BOB, run_id, "Mine now")
        with pytest.raises(Refused, match="a student can delete only"):
            actions.delete_run(BOB, run_id)
    with pytest.raises(Refused, match="only the teacher can delete a run folder that cannot be read"):
        actions.delete_unreadable(BOB, cli_run)
    assert {run.name for run in store.list_runs().runs} == {"Small"} and len(_ids(store)) == 3
    actions.rename_run(ALICE, alices, "Alice's")
    assert store.load(alices).name == "Alice's"
    actions.rename_run(TEACHER, cli_run, "Renamed by the teacher")
    actions.delete_run(TEACHER, teachers)
    assert _ids(store) == {alices, cli_run}


def test_a_student_deletes_only_the_drawings_they_saved_and_never_all_or_an_import(tmp_path):
    store = RunStore()
    drawings = Drawings(store.home)
    actions = ClassActions(store, drawings)
    alices = drawings.save(*drawn_digit(1), ALICE.tag).drawing_id
    bobs = drawings.save(*drawn_digit(0), BOB.tag).drawing_id
    with pytest.raises(Refused, match="delete only the drawings they saved themselves"):
        actions.delete_drawing(ALICE, bobs)
    with pytest.raises(Refused, match="only the teacher can delete the class's drawings all at once"):
        actions.delete_all_drawings(ALICE)
    path = tmp_path / "set.npz"
    np.savez(path, x_test=np.zeros((3, 28, 28), np.uint8), y_test=np.zeros(3, np.uint8))
    with pytest.raises(Refused, match="only the teacher can import drawings"):
        actions.import_drawings(ALICE, path)
    assert drawings.count() == 2 and drawings.saved_in(ALICE.tag) == {alices}
    actions.delete_drawing(ALICE, alices)
    assert [d.drawing_id for d in drawings.all()] == [bobs]
    assert actions.import_drawings(TEACHER, path) == 3 and actions.delete_all_drawings(TEACHER) == 4


def test_outside_a_class_the_person_at_the_laptop_may_do_everything(line):
    worker, executor = line
    run_id = worker.submit(SMALL.with_config(epochs=30, train_limit=None), SOLO)
    assert _wait(lambda: run_id in executor.runs)
    actions = ClassActions(worker.store, Drawings(worker.store.home))
    actions.rename_run(SOLO, run_id, "Still mine")
    assert worker.stop(run_id, SOLO)


@pytest.mark.parametrize("address, variable, on", [
    ("127.0.0.1", "", False), ("localhost", "", False), ("::1", "0", False), ("127.0.0.1", "1", True),
    ("0.0.0.0", "", True), ("0.0.0.0", "0", True), ("192.168.1.20", "", True), (None, "", True), ("", "", True)])
def test_classroom_mode_is_on_beyond_loopback_whatever_the_variable_says(address, variable, on):
    assert classroom_mode(address, {"MNISTLAB_CLASSROOM": variable}) is on


def test_the_teacher_token_is_long_kept_for_its_owner_only_and_renewed_for_each_class(store_home, monkeypatch):
    monkeypatch.delenv("MNISTLAB_TEACHER_TOKEN", raising=False)
    token, made = teacher_token()
    assert made and len(token) >= 22  # 128 bits or more, URL-safe
    path = store_home / "teacher-token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert teacher_token() == (token, False)
    assert teacher_token(fresh=True)[0] != token
    monkeypatch.setenv("MNISTLAB_TEACHER_TOKEN", "x" * 30)
    assert teacher_token(fresh=True) == ("x" * 30, False)
    monkeypatch.setenv("MNISTLAB_TEACHER_TOKEN", "short")
    with pytest.raises(Exception, match="at least 22"):
        teacher_token()


def test_wrong_teacher_tokens_are_limited_per_address_then_allowed_again_a_minute_later():
    now = [0.0]
    check = TokenCheck("the-real-token-of-this-class", clock=lambda: now[0])
    assert not check.accepts("guess", "10.0.0.7")
    for _ in range(4):
        assert not check.accepts("another guess", "10.0.0.7")
    with pytest.raises(Refused, match="Too many wrong teacher links from this address"):
        check.accepts("the-real-token-of-this-class", "10.0.0.7")  # a guesser learns nothing
    assert check.accepts("the-real-token-of-this-class", "10.0.0.8")  # another address is not held back
    now[0] = 61.0
    assert check.accepts("the-real-token-of-this-class", "10.0.0.7")


def test_the_students_address_and_its_qr_code(monkeypatch):
    import zxingcpp
    from PIL import Image
    import io

    monkeypatch.delenv("MNISTLAB_CLASS_URL", raising=False)
    assert students_address("0.0.0.0", 8501, "127.0.0.1", ["192.168.1.20"]) == "http://192.168.1.20:8501/"
    assert students_address("127.0.0.1", 8502, "127.0.0.1", ["192.168.1.20"]) == "http://127.0.0.1:8502/"
    assert students_address("192.168.5.5", 8501, None, []) == "http://192.168.5.5:8501/"
    monkeypatch.setenv("MNISTLAB_CLASS_URL", "http://lab.school:8501/")
    assert students_address("0.0.0.0", 8501, None, []) == "http://lab.school:8501/"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png("http://192.168.1.20:8501/"))))
    assert [code.text for code in decoded] == ["http://192.168.1.20:8501/"]


def test_serve_class_prints_both_links_once_with_a_new_token_kept_for_its_owner(store_home, monkeypatch, capsys):
    """`mnistlab serve --class` (its listening part is Streamlit's: not started here, as it would listen on the LAN)."""
    from mnistlab.cli.serving import _announce_class

    monkeypatch.delenv("MNISTLAB_TEACHER_TOKEN", raising=False)
    monkeypatch.setenv("MNISTLAB_CLASS_URL", "http://lab.school:8501/")
    old, _ = teacher_token()
    _announce_class(8501)
    printed = capsys.readouterr().err
    token = (store_home / "teacher-token").read_text().strip()
    assert token != old and stat.S_IMODE(os.stat(store_home / "teacher-token").st_mode) == 0o600
    assert "students open:   http://lab.school:8501/" in printed
    assert f"teacher link:    http://lab.school:8501/?teacher={token}" in printed
