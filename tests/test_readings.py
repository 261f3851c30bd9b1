"""Draw's readings as HTML (dashboard/readings.py): what the bars, steps and table say, and a user's text as text."""

import re
from html.parser import HTMLParser

import numpy as np

import readings
from readings import Answer, digit_alt


class _Page(HTMLParser):
    """The text a browser would show, and every tag with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.text, self.tags, self._in_style = [], [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if not self._in_style and data.strip():
            self.text.append(data.strip())


def test_ten_bars_as_tall_as_their_probabilities_and_the_digit_read_in_green():
    probabilities = np.array([0.01, 0.0, 0.02, 0.0, 0.05, 0.0, 0.0, 0.9, 0.02, 0.0], np.float32)
    page = _Page(readings.probability_bars(probabilities))
    bars = [attrs["style"] for tag, attrs in page.tags if tag == "div" and "height:" in attrs.get("style", "")]
    heights = [int(re.search(r"height:(\d+)px", style).group(1)) for style in bars]
    assert heights == [max(1, round(float(p) * readings.BAR_HEIGHT)) for p in probabilities]
    assert [readings.BEST in style for style in bars] == [digit == 7 for digit in range(10)]
    labels = page.text[1:]  # after the title: each bar's probability, then its digit
    assert labels[0::2] == ["1%", "0%", "2%", "0%", "5%", "0%", "0%", "90%", "2%", "0%"]
    assert labels[1::2] == [str(digit) for digit in range(10)]


def test_steps_and_every_models_answer():
    answers = [Answer("CNN 2", "20261129-201226-cnn-2-3cbe", 7, 0.904, 0.7864),
               Answer("Broken", "20261129-201300-broken-0000", None, None, 0.5, "This model could not be read.")]
    html = readings.steps_and_answers(["data:image/png;base64,AAAA", "data:image/png;base64,BBBB"],
                                      ["your drawing", "the input"], answers)
    page = _Page(html)
    assert [attrs["src"] for tag, attrs in page.tags if tag == "img"] == ["data:image/png;base64,AAAA",
                                                                           "data:image/png;base64,BBBB"]
    assert page.text[:3] == ["What the model sees", "your drawing", "the input"]
    rows = re.findall(r"<tr><td>.*?</tr>", html)
    assert [_Page(row).text for row in rows] == [
        ["CNN 2", "20261129-201226-cnn-2-3cbe", "7", "90%", "78.64%"],
        ["Broken", "20261129-201300-broken-0000", "—", "—", "50.00%", "This model could not be read."]]


def test_a_users_text_is_shown_as_typed_never_as_markup():
    name = '<img src=x onerror="alert(1)"> **bold** :red[x] & <script>alert(2)</script>'
    html = readings.steps_and_answers([], [], [Answer(name, "20261129-201226-x-0000", None, None, 0.5, note=name)])
    page = _Page(html)
    assert page.text.count(name) == 2  # the model's name and its note, character for character
    assert {tag for tag, _ in page.tags} <= {"style", "div", "h3", "table", "thead", "tbody", "tr", "th", "td", "br",
                                             "span"}


def test_projector_mode_sets_larger_type():
    normal, projector = readings.probability_bars([0.1] * 10), readings.probability_bars([0.1] * 10, projector=True)
    size = re.compile(r"\.mnl-read\{font-size:(\d+)px")
    assert int(size.search(projector).group(1)) >= 18 > int(size.search(normal).group(1))


def test_a_digit_picture_says_what_it_shows_for_a_screen_reader():
    assert digit_alt(7, 2, 0.61, "test image #12") == "test image #12 of a 7 read as a 2, 61% sure"
    assert digit_alt(3, 3, what="a class drawing") == "a class drawing of a 3 read right"
    assert digit_alt(5) == "a test image of a 5"
