"""What every page shares: the store, the process-wide training worker and predictor, cached data."""

from __future__ import annotations

import re
from typing import Callable

from child import checkout_on_path

checkout_on_path()

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from mnistlab.status import RunStatus  # noqa: E402,F401  (pages import it from here)
from mnistlab.groups import oldest_first  # noqa: E402
from mnistlab.i18n import N_, _, percent  # noqa: E402
from mnistlab.i18n import current as current_language  # noqa: E402
from mnistlab.status import status_name  # noqa: E402,F401  (pages import it from here)
from mnistlab.store import Run, RunStore, StoreError  # noqa: E402
from mnistlab.train import clock  # noqa: E402,F401  (pages import it from here)
from predictor import Predictor  # noqa: E402
from worker import TrainingWorker  # noqa: E402

STATUS_ICONS = {RunStatus.COMPLETED: ":material/check_circle:", RunStatus.STOPPED: ":material/stop_circle:",
                RunStatus.DIVERGED: ":material/error:", RunStatus.FAILED: ":material/cancel:",
                RunStatus.RUNNING: ":material/directions_run:", RunStatus.QUEUED: ":material/hourglass_top:",
                RunStatus.INTERRUPTED: ":material/warning:"}


def store() -> RunStore:
    return RunStore()


def worker() -> TrainingWorker:
    return _worker_for(str(store().home))


@st.cache_resource(show_spinner=False)
def _worker_for(home: str) -> TrainingWorker:
    """One training thread per server process (and per store)."""
    return TrainingWorker(RunStore(home))


@st.cache_resource(show_spinner=False)  # no spinner text: it would be English whatever the session speaks
def test_set():
    """The 10,000 test images (uint8) and labels, shared by every session without copies."""
    from mnistlab.data import load_mnist

    _train, (x_test, y_test) = load_mnist()
    return x_test, y_test


def test_labels():
    """The test set's labels, or None where MNIST cannot be read (comparisons over seeds still work without)."""
    from mnistlab.data import DataError

    try:
        return test_set()[1]
    except DataError:
        return None


def predictor() -> Predictor:
    return _predictor_for(str(store().home))


@st.cache_resource(show_spinner=False, max_entries=1, on_release=Predictor.close)
def _predictor_for(home: str) -> Predictor:
    """One prediction process per server (for its store), holding the loaded models."""
    return Predictor(RunStore(home))


def shared_figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """A chart built once for every session showing the same data in the same language; `key` names that data (for
    a live run: its id and how many points it has). Thirty tabs watching one run then build its charts once a second
    between them, not thirty times: building a figure is most of what a poll costs."""
    return _shared_figure(key + (current_language(),), build)


@st.cache_resource(max_entries=16, show_spinner=False)
def _shared_figure(key: tuple, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&=^])")


def md(text: str) -> str:
    """A user's text (a run name) for a Markdown label, shown as the very characters typed: no links, images,
    emphasis, `:material/...:` icons or colours. The zero-width space after `\\:` stops Streamlit's icon and
    autolink parsers, which a backslash alone does not."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("\\:", "\\:\u200b")


FOLLOW_EVERY = 1.5  # seconds between two looks at the store: a run started anywhere shows within 2 s


def follow_runs(page: str, enabled: bool = True) -> None:
    """Redraw this page when any run is queued, started, finished, renamed or deleted — from this tab, another
    tab or the command line. A look is one SQLite read (the catalog's counter) in a fragment that draws
    nothing; an epoch recorded does not redraw the page. Still, each look is a script run (~15 ms of the
    server): a page that already polls (Train while a run trains) or reruns on every stroke (Draw) passes
    enabled=False, and its timer stops.

    The version is taken here, in the page's own run, which draws the store as it is: only the fragment's later looks
    redraw the app. Were the check made in this run, a change since the last look would rerun the app in the middle
    of the run that a person's click started, and Streamlit would drop the click (5 of 5 "Look inside" clicks on
    Results were lost while a run was renamed every 0.4 s; tests/test_browser_seams.py). The fragment's call in this
    run does not look again either: a run renamed between the two looks did the same, 1 click in about 100
    (docs/benchmarks.md, "Lost clicks")."""
    key = f"follow_{page}"
    st.session_state[key] = store().listed_version()
    if enabled:
        drawn_by_the_page("follow")
        _follow(key)


def drawn_by_the_page(follower: str) -> None:
    """Mark the next call of a follower fragment as part of the page's own run (see fragment_looks)."""
    st.session_state[f"{follower}_in_page_run"] = True


def fragment_looks(follower: str) -> bool:
    """Whether this call of a follower fragment is one of its own runs, which may redraw the app — not its call in
    the page's own run, marked just before by drawn_by_the_page: a rerun there would cost the click that run is for."""
    return not st.session_state.pop(f"{follower}_in_page_run", False)


@st.fragment(run_every=FOLLOW_EVERY)
def _follow(key: str) -> None:
    if not fragment_looks("follow"):
        return
    seen, now = st.session_state[key], store().listed_version()
    if seen != now:
        st.session_state[key] = now
        st.rerun(scope="app")


def run_label(run: Run) -> str:
    """A run as a choice in a box: with its whole id, since a box tells its choices apart by their labels (two runs
    started in the same second used to read alike, and picking the second chose the first)."""
    accuracy = f" · {percent(run.metrics['accuracy'], 2)}" if run.metrics else ""
    return f"{run.name}{accuracy} · {status_name(run.status)} · {run.run_id}"


def model_label(run: Run) -> str:
    """A trained model as a choice in a box (Draw, Inside): its test accuracy and, as in run_label, its whole id."""
    return f"{run.name} · {percent(run.metrics['accuracy'], 2)} · {run.run_id}"


def show_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        st.warning(md(warning), icon=":material/warning:")  # folder names are anyone's text


def distinct_names(runs: list[Run]) -> dict[str, str]:
    """Each run's name for legends and axes, keyed by run id: its own name, with " (2)", " (3)"… added to the
    newer of runs that share one, so charts tell them apart without showing ids."""
    taken, names = set(), {}
    for run in sorted(runs, key=oldest_first):  # the first of a name keeps it plain
        name, n = run.name, 1
        while name in taken:
            n += 1
            name = f"{run.name} ({n})"
        taken.add(name)
        names[run.run_id] = name
    return names


def projector_on() -> bool:
    """Projector mode, as the sidebar's switch set it (kept under its own key: see app.py)."""
    return bool(st.session_state.get("projector"))


PROJECTOR_CSS = """<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] :is(p, li, td, th),
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stWidgetLabel"] p,
[data-testid="stMain"] [data-baseweb="select"] div,
[data-testid="stMain"] button p,
[data-testid="stMain"] [data-testid="stMetricLabel"] p,
[data-testid="stMain"] [data-testid="stImageCaption"],
[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInstructions"] * { font-size: 20px !important; line-height: 1.35; }
[data-testid="stMain"] h3 { font-size: 2rem; }
.st-key-reading_headline h3 { font-size: 3.4rem; line-height: 1.15; }
</style>"""
"""Projector mode: every text a teacher points at is 20 px or more, and a reading's headline ("I read a 3") about
twice its normal size: from the back of a room it is what everyone reads."""


READABLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: #62646e; opacity: 1; }
</style>"""
"""Captions in a grey a person can read: Streamlit's own (#828180 on white, 3.9:1) is below WCAG AA's 4.5:1; this
one is 5.9:1 on white and 5.3:1 on the grey of inline code (tests/test_browser_accessibility.py)."""


def style_page() -> None:
    """The page's own CSS, and projector mode's, on every page (inline: no request leaves the server)."""
    st.html(READABLE_CSS + (PROJECTOR_CSS if projector_on() else ""))


def show_figure(figure: go.Figure, key: str, width: str = "stretch", **options):
    """A chart (across its column by default), restyled for a projector when projector mode is on (a sidebar
    toggle); `options` go to st.plotly_chart (a selection's on_select and mode), whose result is returned."""
    from charts import for_projector

    return st.plotly_chart(for_projector(figure) if projector_on() else figure, key=key,
                           width=width, **options)


def fork_in_build(run: Run) -> None:
    """Open the Build page holding this run's layers and training settings, under a new name."""
    st.session_state["build_fork"] = {"spec": run.experiment.to_dict(),
                                      "name": _("{name} (fork)").format(name=run.name)[:80]}
    st.switch_page("app_pages/build.py")


INSIDE_DRAWING, INSIDE_TEST_IMAGE = N_("Your drawing"), N_("A test image")  # the Inside page's two sources (ids; shown
# as _(source))


def look_inside(run_id: str, *, test_index: int | None = None, drawing=None, strokes: dict | None = None) -> None:
    """Open the Inside page on this run's model, looking at a test image or at a drawing (its 28×28 input, and the
    canvas's strokes so the student can draw on)."""
    if test_index is not None:
        request = {"run_id": run_id, "source": INSIDE_TEST_IMAGE, "index": int(test_index)}
    else:
        request = {"run_id": run_id, "source": INSIDE_DRAWING, "drawing": drawing, "strokes": strokes}
    st.session_state["inside_request"] = request
    st.switch_page("app_pages/inside.py")


def go_to_results(run_id: str) -> None:
    st.session_state["results_run"] = run_id
    st.switch_page("app_pages/results.py")


__all__ = ["st", "md", "store", "worker", "test_set", "predictor", "shared_figure", "follow_runs",
           "distinct_names", "show_figure", "fork_in_build", "run_label", "show_warnings", "clock",
           "go_to_results", "look_inside", "projector_on", "model_label", "INSIDE_DRAWING", "INSIDE_TEST_IMAGE",
           "StoreError", "Run", "status_name", "drawn_by_the_page", "fragment_looks"]
