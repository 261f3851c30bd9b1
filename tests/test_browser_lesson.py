"""Lesson mode in real browsers (issue 28): a teacher in projector mode and three students — one on a phone, voting
with a finger — through the report's first step: the vote, the count without the split, a server restart in the
middle of the step, the split, the answer from the store's runs, and the lesson's CSV."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from launch import start_server, stop_server
from mnistlab.data import load_mnist
from mnistlab.lesson import Step, answer
from mnistlab.store import RunStore
from test_browser import _shot
from test_browser_classroom import TOKEN
from test_browser_phone import PHONE
from test_browser_seams import _expand, _page, _settle, browser  # noqa: F401  (browser is a fixture)
from test_lesson import _runs_of

CLASS = {"MNISTLAB_CLASSROOM": "1", "MNISTLAB_TEACHER_TOKEN": TOKEN}


@pytest.fixture
def lesson_store(trained_store, store_home):
    """Runs of the first step's two networks (MLP 1 and MLP 2, a run each, nearly the same predictions)."""
    home, run_id = trained_store
    store = RunStore(store_home)
    store.runs_dir.mkdir(parents=True, exist_ok=True)
    labels = load_mnist()[1][1]
    _runs_of(store, home, run_id, labels, "MLP 1", [1], range(0, 300))
    _runs_of(store, home, run_id, labels, "MLP 2", [1], range(0, 290))
    return store, labels


def _teacher(browser, url):
    page = _page(browser, url, f"lesson?teacher={TOKEN}")
    expect(page.get_by_text("You are the teacher in this browser")).to_be_visible()
    return page


def _student_on_a_phone(browser, url):
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/lesson")
    _settle(page)
    return page


def _download(page, button) -> str:
    """Click a download button, as a person does, and read the file."""
    with page.expect_download() as download:
        button.click()
    return download.value.path().read_text()


def _split(page) -> list[str]:
    """The numbers on the split's bars, in the order Better, The same, Worse."""
    chart = page.locator(".js-plotly-plot", has=page.locator("text=How the class voted"))
    expect(chart).to_be_visible(timeout=30_000)  # the page's first chart: Plotly is loaded then (slow under CI's load)
    return chart.locator(".bartext").all_text_contents()


def test_a_class_predicts_votes_and_sees_the_answer(lesson_store, store_home, browser):
    store, labels = lesson_store
    process, url = start_server(store_home, env=CLASS)
    port = url.rsplit(":", 1)[1]
    try:
        teacher = _teacher(browser, url)
        teacher.get_by_text("Projector mode").click()
        _settle(teacher)
        question = "Will MLP 2 be better, the same, or worse than MLP 1?"
        expect(teacher.get_by_role("heading", name=question)).to_be_visible()
        expect(teacher.get_by_text("What changes: Dense(50, linear) → Dense(400, linear).")).to_be_visible()
        _shot(teacher, "lesson-projector-1-before-the-vote")

        students = [_page(browser, url, "lesson"), _page(browser, url, "lesson"), _student_on_a_phone(browser, url)]
        for student in students:  # a student drives nothing: no controls are offered
            expect(student.get_by_role("heading", name=question)).to_be_visible()
            expect(student.get_by_role("button", name="Open the vote")).to_have_count(0)
            expect(student.get_by_role("button", name="Next step →")).to_have_count(0)

        teacher.get_by_role("button", name="Open the vote").click()
        for student, choice in zip(students, ("Better", "Better", "The same")):
            button = student.get_by_role("button", name=choice, exact=True)
            expect(button).to_be_visible()  # the vote opened in their browsers within a second
            if student is students[2]:
                box = button.bounding_box()  # large enough for a thumb, and whole on the phone's screen
                assert box["height"] >= 38 and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
                button.tap()
            else:
                button.click()
            expect(student.get_by_text(f"Your vote: {choice}.")).to_be_visible()
            expect(student.get_by_role("button", name="Better", exact=True)).to_have_count(0)  # no second vote
        _shot(students[2], "lesson-phone-after-voting")

        expect(teacher.get_by_test_id("stMetricValue").filter(has_text=re.compile(r"^3 votes$"))).to_be_visible()
        expect(teacher.locator(".js-plotly-plot")).to_have_count(0)  # the count, never the split, while it is open
        _shot(teacher, "lesson-projector-2-during-the-vote")

        stop_server(process)  # a restart in the middle of the step
        process, url = start_server(store_home, port=int(port), env=CLASS)
        teacher = _teacher(browser, url)  # a new session: the teacher link again, and projector mode
        teacher.get_by_text("Projector mode").click()
        expect(teacher.get_by_test_id("stMetricValue").filter(has_text=re.compile(r"^3 votes$"))).to_be_visible()

        teacher.get_by_role("button", name="Close the vote").click()
        _settle(teacher)
        assert _split(teacher) == ["2", "1", "0"]
        teacher.get_by_role("button", name="Reveal the answer").click()
        _settle(teacher)
        expected = answer(Step("MLP 1", "MLP 2"), store.list_runs().runs, labels)
        headline = ("Answer: not a real difference at this test-set size." if not expected.real else
                    f"Answer: MLP 2 is {expected.choice} than MLP 1.")
        expect(teacher.get_by_text(headline)).to_be_visible()
        expect(teacher.get_by_text(expected.sentence.split(":")[0] + ":", exact=False).first).to_be_visible()
        predicted = sum(choice == expected.choice for choice in ("better", "better", "same"))
        expect(teacher.get_by_test_id("stMetricValue").filter(has_text=f"{predicted} / 3")).to_be_visible()
        expect(teacher.get_by_text("The report: Eight times more hidden units barely help")).to_be_visible()
        _shot(teacher, "lesson-projector-3-after-the-reveal")

        _expand(teacher, "The lesson so far")
        csv_button = teacher.get_by_role("button", name="Download CSV")
        expect(csv_button).to_be_visible()
        rows = list(csv.DictReader(io.StringIO(_download(teacher, csv_button))))
        assert rows[0]["question"] == question and rows[0]["first vote"] == "Better 2 · The same 1 · Worse 0"
        assert rows[0]["answer"] == {"better": "Better", "same": "The same", "worse": "Worse"}[expected.choice]
        assert rows[0]["predicted it (%)"] == str(round(100 * predicted / 3))
        for page in [teacher, *students]:
            page.context.close()
    finally:
        stop_server(process)
