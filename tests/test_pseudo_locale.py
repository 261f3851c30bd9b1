"""Every page under the pseudo-language: each message the interface shows is wrapped in ⟦…⟧ by the catalog, so any
visible text left without the markers never went through the translation function — a hard-coded string. Run
names, ids, numbers, layer notation and product names are data, not messages: they are allowed bare."""

import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, copy_run, drawn_digit
from test_dashboard import _canvas_state

APP = str(REPO / "dashboard" / "app.py")
PAGES = ["build", "train", "results", "compare", "draw", "inside", "class_test", "report", "lesson"]
NAMES = {  # words that are data or names, never messages: products, Keras's layer and optimizer names, units
    "MNIST", "Lab", "Keras", "TensorFlow", "NumPy", "Colab", "SGD", "Adam", "RMSprop", "Dense", "Conv2D",
    "MaxPooling2D", "Dropout", "Flatten", "RandomRotation", "RandomTranslation", "RandomZoom", "relu", "sigmoid",
    "linear", "softmax", "tanh", "MLP", "CNN", "GiB", "MB", "KB", "px", "McNemar", "Welch", "Student", "ETA",
}
KERAS_LAYER_NAME = re.compile(r"^(conv2d|dense|max_pooling2d|dropout|flatten|random_\w+)(_\d+)?$")
WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ0-9_]+")  # letters, not × or ÷
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")


def bare_words(text: str, data_words: set) -> list[str]:
    """The words of `text` outside every ⟦…⟧ that are not data: what no catalog ever saw."""
    text = re.sub(r"%\{[^}]*\}|:material/\w+:", " ", str(text))  # Plotly's hover placeholders, Streamlit's icons
    while MARKED.search(text):
        text = MARKED.sub(" ", text)
    return [word for word in WORD.findall(text)
            if word not in NAMES and word not in data_words and not KERAS_LAYER_NAME.match(word)]


class _Text(HTMLParser):
    """The text a reader sees in st.html's markup (and its images' alternative text), without its styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._style = [], False

    def handle_starttag(self, tag, attrs):
        self._style = tag == "style"
        self.parts += [value for name, value in attrs if name in ("alt", "aria-label") and value]

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if not self._style:
            self.parts.append(data)


def _html_texts(markup: str) -> list[str]:
    parser = _Text()
    parser.feed(markup)
    return parser.parts


def _chart_texts(spec: dict) -> list[str]:
    layout, texts = spec["layout"], []
    texts.append((layout.get("title") or {}).get("text", ""))
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            texts.append(((axis.get("title") or {}).get("text")) or "")
    texts += [note.get("text", "") for note in layout.get("annotations", [])]
    for trace in spec["data"]:
        texts += [trace.get("name") or "", trace.get("hovertemplate") or ""]
    return [re.sub(r"<[^>]+>", " ", text) for text in texts]


def visible_texts(at: AppTest) -> list[str]:
    """Every text the page shows a person: headings, sentences, widget labels, help and choices, metrics, table
    headers and cells, chart titles, axes, legends and hover texts, image captions and alternative texts."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        texts += [element.value for element in at.get(kind)]
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        for field in ("label", "help", "placeholder", "text", "caption"):
            if hasattr(proto, field) and isinstance(getattr(proto, field), str):
                texts.append(getattr(proto, field))
        if hasattr(proto, "options") and not isinstance(proto.options, str):
            texts += [option if isinstance(option, str) else getattr(option, "content", "") for option in proto.options]
        if node.type == "plotly_chart":
            texts += _chart_texts(json.loads(proto.spec))
        if node.type == "html":
            texts += _html_texts(proto.body)
        if node.type == "imgs":
            for image in proto.imgs:
                texts += [image.caption, image.alt]
        if node.type == "arrow_data_frame":
            texts += [column.get("label") or "" for column in json.loads(proto.columns or "{}").values()]
    for frame in at.dataframe:
        for column in frame.value.columns:
            if frame.value[column].dtype == object:
                texts += [value for value in frame.value[column] if isinstance(value, str)]
    for block in _walk(at._tree):
        proto = getattr(block, "proto", None)
        if proto is not None and hasattr(proto, "expandable") and proto.HasField("expandable"):
            texts.append(proto.expandable.label)
    return [text for text in texts if text]


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


@pytest.fixture(autouse=True)
def pseudo_here_too():
    """AppTest formats a widget's choices with its format_func in the test's own thread when it reruns the page:
    that thread speaks the pseudo-language too (Inside's "Look at" choices are shown as _(choice))."""
    from mnistlab import i18n

    i18n.use(i18n.PSEUDO)
    yield
    i18n.use(i18n.ENGLISH)


@pytest.fixture
def store_for_every_page(trained_store, store_home):
    """A store with a trained run (seen on every page), a second run of it to compare, and class drawings."""
    from mnistlab.drawings import Drawings

    home, run_id = trained_store
    shutil.copytree(home, store_home, dirs_exist_ok=True)
    copy_run(store_home / "runs" / run_id, store_home / "runs", "again")  # two runs: Compare's "Which is better?"
    drawings = Drawings(store_home)
    for index in range(6):
        drawings.save(*drawn_digit(index))
    return run_id


def _page(page: str, prepare=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["language"] = "pseudo"
    at.switch_page(f"app_pages/{page}.py").run()
    if prepare:
        prepare(at)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _draw_with_inside(at):
    at.session_state["draw_canvas_0"] = _canvas_state(drawn_digit(0)[0])
    at.session_state["draw_inside_on"] = True


def _inside_with_drawing(at):
    at.session_state["inside_canvas_0"] = _canvas_state(drawn_digit(0)[0])


def _results_on_a_mistake(at):
    at.session_state["results_true"], at.session_state["results_pred"] = 7, 2


def _compare_two_ticked(at):
    from mnistlab.store import RunStore

    runs = RunStore().list_runs().runs
    at.session_state["compare_selected"] = [run.run_id for run in runs[:2]]


def _lesson_revealed(at):
    """The first step voted on, closed and revealed: the split, the answer (or the note that there is none yet)."""
    from mnistlab.lesson import Lesson
    from mnistlab.roles import SOLO, Person, Role

    lesson = Lesson()
    lesson.open_vote(SOLO)
    lesson.vote(Person(Role.STUDENT, "someone1"), "better")
    lesson.close_vote(SOLO)
    lesson.reveal(SOLO)


PREPARE = {"draw": _draw_with_inside, "inside": _inside_with_drawing, "results": _results_on_a_mistake,
           "compare": _compare_two_ticked, "lesson": _lesson_revealed}


def _data_words(store_home) -> set:
    """The store's run names and ids, and the presets' names: data a page shows as it is."""
    from mnistlab.i18n import LANGUAGES
    from mnistlab.presets import PRESETS, QUICK_CNN, STARTERS
    from mnistlab.store import RunStore

    runs = RunStore(store_home).list_runs().runs
    words = {word for name in LANGUAGES.values() for word in WORD.findall(name)}  # each in its own language
    for text in [run.name for run in runs] + [run.run_id for run in runs] + [p.name for p in PRESETS] + \
            list(STARTERS) + [QUICK_CNN.name]:
        words.update(WORD.findall(text))
    return words


@pytest.mark.parametrize("page", PAGES)
def test_every_text_on_the_page_went_through_the_catalog(store_for_every_page, store_home, page):
    at = _page(page, PREPARE.get(page))
    texts = visible_texts(at)
    assert any("⟦" in text for text in texts)  # the page spoke the pseudo-language at all
    data = _data_words(store_home)
    bare = {text: words for text in texts if (words := bare_words(text, data))}
    assert not bare, bare


def test_the_class_panel_speaks_through_the_catalog_too(store_for_every_page, store_home, monkeypatch):
    monkeypatch.setenv("MNISTLAB_CLASSROOM", "1")
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["language"] = "pseudo"
    at.session_state["session_role"] = "teacher"
    at.switch_page("app_pages/class_panel.py").run()
    assert not at.exception, [e.value for e in at.exception]
    data = _data_words(store_home) | {"http", "https", "localhost"}
    bare = {text: words for text in visible_texts(at) if (words := bare_words(text, data))}
    assert not bare, bare


def test_a_bare_sentence_is_found():
    """The check itself: a hard-coded sentence beside translated ones is reported, data is not."""
    assert bare_words("⟦Run⟧ MLP 1 · 0.9924 · Dense(400, relu)", set()) == []
    assert bare_words("⟦Saved⟧ and then some English", set()) == ["and", "then", "some", "English"]
    assert bare_words("⟦outer ⟦inner⟧ still marked⟧", set()) == []
