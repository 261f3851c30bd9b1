"""A class in real browsers (issue 23): one server in classroom mode on 127.0.0.1, the teacher and students in
separate browser contexts, each doing what a person there would do with the mouse and keyboard."""

import io
import json
import re

import pytest

from conftest import copy_run, drawn_digit
from launch import start_server, stop_server
from mnistlab.drawings import Drawings
from mnistlab.store import RunStore
from test_browser import _shot
from test_browser_inside import _stroke
from test_browser_seams import _choose, _expand, _page, _settle, _tick, browser  # noqa: F401  (a fixture)

TOKEN = "a-teacher-token-for-the-test-only-0123456789"
TEACHER_RECORD = {"role": "teacher", "tag": "feedf00d"}


@pytest.fixture
def class_server(trained_store, store_home):
    """A class: the teacher's trained CNN in the store and two drawings another student saved; yields (url, run id)."""
    home, run_id = trained_store
    runs = store_home / "runs"
    runs.mkdir(parents=True)
    teachers = copy_run(home / "runs" / run_id, runs, "t")
    info = json.loads((runs / teachers / "run.json").read_text())
    (runs / teachers / "run.json").write_text(json.dumps(dict(info, name="Teacher's CNN", queued_by=TEACHER_RECORD)))
    drawings = Drawings(store_home)
    for index in (3, 10):  # MNIST test images 3 and 10 are zeros
        drawings.save(*drawn_digit(index), "0ther5e5")
    process, url = start_server(store_home, env={"MNISTLAB_CLASSROOM": "1", "MNISTLAB_TEACHER_TOKEN": TOKEN})
    try:
        yield url, teachers
    finally:
        stop_server(process)


def _teacher(browser, url, **size):
    page = _page(browser, url, f"?teacher={TOKEN}", **size)
    from playwright.sync_api import expect

    expect(page.get_by_text("You are the teacher in this browser")).to_be_visible()
    return page


def test_a_student_cannot_rename_or_delete_the_teachers_run_nor_the_class_set(class_server, browser):
    """A wrong teacher link is a student, and the token leaves the address bar either way; a student sees the
    teacher's run and the class set but is offered none of the teacher's actions on them."""
    from playwright.sync_api import expect

    url, teachers = class_server
    page = _page(browser, url, "?teacher=not-the-token")
    expect(page.get_by_text("That teacher link is not this class's: you are a student here.")).to_be_visible()
    assert "teacher=" not in page.url
    expect(page.get_by_text("You are a student in this class")).to_be_visible()
    expect(page.get_by_role("link", name="Class", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Compare").click()
    _settle(page)
    _choose(page, "Run", f"Teacher's CNN · {teachers}")
    expect(page.get_by_text("This run is someone else's")).to_be_visible()
    expect(page.get_by_role("button", name="Rename")).to_be_disabled()
    expect(page.get_by_role("button", name="Delete run")).to_have_count(0)

    page.get_by_role("link", name="Class test").click()
    _settle(page)
    _expand(page, "The drawings (2): browse, export, undo your own")
    expect(page.get_by_text("none of these drawings of a 0 is yours")).to_be_visible()
    for name in ("Delete drawing", "Delete all drawings", "Import"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_text("Import an .npz of drawings")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    _settle(page)
    _shot(page, "class-student-class-test-phone")


def test_the_teacher_and_a_student_share_one_line(class_server, browser, store_home):
    """The teacher link makes a teacher (its token gone from the address bar at once); the teacher's long run trains
    while a student, who has no Stop for it, asks for Repeat × 20 and gets two runs and a sentence; the teacher's
    Class page shows the students' address (and a QR code of it), who queued what, and removes the students' runs."""
    from playwright.sync_api import expect

    url, _ = class_server
    teacher = _teacher(browser, url)
    assert "teacher=" not in teacher.url and TOKEN not in teacher.url
    teacher.get_by_label("Epochs", exact=True).fill("30")
    teacher.get_by_label("Epochs", exact=True).press("Enter")
    _settle(teacher)
    teacher.get_by_role("button", name="Train", exact=True).click()
    expect(teacher.get_by_role("button", name="Stop", exact=True)).to_be_visible(timeout=120_000)

    student = _page(browser, url, "train")
    expect(student.get_by_text(re.compile(r"Training .* · seed \d+")).first).to_be_visible(timeout=60_000)
    expect(student.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    student.get_by_role("link", name="Build").click()
    _settle(student)
    expect(student.get_by_text("In this class a student's run trains at most 5 epochs")).to_be_visible()
    student.get_by_label("Repeat × N", exact=True).fill("20")
    student.get_by_label("Repeat × N", exact=True).press("Enter")
    _settle(student)
    student.get_by_role("button", name="Train", exact=True).click()
    expect(student.get_by_text(re.compile(r"2 of 20 runs queued\. In this class a student may have 2 runs"))
           ).to_be_visible(timeout=60_000)
    expect(student.get_by_role("button", name="Remove")).to_have_count(2)
    queued = [run for run in RunStore(store_home).list_runs().runs if (run.info.get("queued_by") or {}).get(
        "role") == "student"]
    assert len(queued) == 2 and all(run.experiment.config.epochs <= 5 and run.experiment.config.train_limit <= 10_000
                                    for run in queued)

    teacher.get_by_role("link", name="Class", exact=True).click()
    _settle(teacher)
    address = teacher.locator(".students-address").inner_text()
    assert address == f"{url}/"
    decoded = _qr_text(teacher)
    assert decoded == address
    expect(teacher.get_by_text(re.compile(r"student [0-9a-f]{4}")).first).to_be_visible()
    teacher.get_by_role("button", name="Remove every student's waiting run (2)").click()
    expect(teacher.get_by_text("Removed 2 waiting student runs.")).to_be_visible()
    assert not [run for run in RunStore(store_home).list_runs().runs if run.run_id in {r.run_id for r in queued}]
    teacher.get_by_text("Projector mode").click()
    _settle(teacher)
    _shot(teacher, "class-teacher-panel-projector")

    teacher.get_by_role("link", name="Train").click()
    _settle(teacher)
    teacher.get_by_role("button", name="Stop", exact=True).click()
    expect(teacher.get_by_text(re.compile("Training was stopped"))).to_be_visible(timeout=120_000)


def _pill(page, label, option):
    page.get_by_role("radiogroup", name=label).get_by_role("radio", name=option, exact=True).click()
    _settle(page)


def _qr_text(page) -> str:
    """The QR code on the page, decoded from its pixels as a phone would."""
    import zxingcpp
    from PIL import Image

    image = page.locator("[data-testid='stImage'] img").first
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    return decoded[0].text if decoded else ""


def test_the_teacher_renames_any_run_and_deletes_the_class_set(class_server, browser, store_home):
    from playwright.sync_api import expect

    url, teachers = class_server
    teacher = _teacher(browser, url)
    teacher.get_by_role("link", name="Compare").click()
    _settle(teacher)
    _choose(teacher, "Run", f"Teacher's CNN · {teachers}")
    teacher.get_by_label("New name", exact=True).fill("Renamed by the teacher")
    teacher.get_by_label("New name", exact=True).press("Enter")
    _settle(teacher)
    teacher.get_by_role("button", name="Rename").click()
    _settle(teacher)
    assert RunStore(store_home).load(teachers).name == "Renamed by the teacher"
    teacher.get_by_role("link", name="Class test").click()
    _settle(teacher)
    _expand(teacher, "The drawings (2): browse, delete, export, import")
    expect(teacher.get_by_text("Import an .npz of drawings")).to_be_visible()
    _tick(teacher, "Yes, delete all 2 drawings")
    expect(teacher.get_by_role("button", name="Delete all drawings")).to_be_enabled(timeout=30_000)
    teacher.get_by_role("button", name="Delete all drawings").click()
    expect(teacher.get_by_text("No drawings yet").first).to_be_visible()
    assert Drawings(store_home).count() == 0


def test_a_student_deletes_a_drawing_they_saved(class_server, browser, store_home):
    """Within one browser session (page changes through the app's own links), a student may undo a wrong label."""
    from playwright.sync_api import expect

    url, _ = class_server
    student = _page(browser, url, "draw")
    canvas = student.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=60_000)
    student.wait_for_timeout(500)
    _stroke(student, [(60, 60), (220, 60), (130, 240)])  # a 7
    expect(student.get_by_text(re.compile(r"I read a \d"))).to_be_visible(timeout=90_000)
    _pill(student, "Save it for the class test — it is a", "1")  # the wrong label: it is a 7
    _settle(student)
    student.get_by_role("button", name="Save").click()
    expect(student.get_by_text(re.compile("Saved as a 1"))).to_be_visible()
    mine = [d.drawing_id for d in Drawings(store_home).all() if d.label == 1]
    assert len(mine) == 1

    student.get_by_role("link", name="Class test").click()
    _settle(student)
    _expand(student, "The drawings (3): browse, export, undo your own")
    _pill(student, "Digit", "1")
    student.get_by_text(re.compile(r"Yes, delete drawing #\d+ \(a 1\)")).click()
    _settle(student)
    student.get_by_role("button", name="Delete drawing").click()
    _settle(student)
    assert [d.drawing_id for d in Drawings(store_home).all()] != [] and mine[0] not in {
        d.drawing_id for d in Drawings(store_home).all()}
    assert Drawings(store_home).count() == 2  # the other student's two zeros stay
