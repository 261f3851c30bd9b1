"""A drawing's readings as HTML: how sure the model is of each digit (Draw and Inside), what the model sees, and
every model's answer (Draw).

Redrawn at every stroke of every student, so they are plain HTML for `st.html`, not a Plotly chart, an image element
and a data grid under headings: as those, a stroke cost the server 31% more CPU and the student's browser 45% more
(docs/benchmarks.md, fourth session).
Pure functions, strings in and out. A run's name and a model's error are anyone's text: escaped, shown as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mnistlab.i18n import _, percent

BEST, OTHERS = "#2ca02c", "#9ecae1"  # the digit read in green, as it was in the Plotly chart these replace
BAR_HEIGHT = 180  # px, a probability of 1


@dataclass(frozen=True)
class Answer:
    """One row of the answers table; `digit` and `confidence` are None where the model could not answer (`note`)."""
    model: str
    run_id: str
    digit: int | None
    confidence: float | None
    accuracy: float
    note: str = ""


def _style(projector: bool) -> str:
    """Sizes in em of one base size: projector mode (the back of a classroom) scales them all."""
    base = 22 if projector else 14  # projector: the smallest text here (.85em) is 18.7 px
    return (f"<style>.mnl-read{{font-size:{base}px;line-height:1.3}}"
            ".mnl-read h4{font-size:1.15em;font-weight:600;margin:0 0 .4em;padding:0}"
            ".mnl-read h3{font-size:1.5rem;font-weight:600;margin:.6em 0 .5em;padding:0}"
            ".mnl-bars{display:flex;align-items:flex-end;gap:.35em;margin-bottom:.2em}"
            ".mnl-bar{display:flex;flex-direction:column;align-items:center;flex:1;min-width:0;max-width:3.2em}"
            ".mnl-bar div{width:100%;border-radius:2px 2px 0 0}"
            ".mnl-bar b{font-weight:600}.mnl-bar small{font-size:.85em;color:#555;white-space:nowrap}"
            ".mnl-steps{display:flex;flex-wrap:wrap;gap:1.2em;margin-bottom:1em}"
            ".mnl-steps figure{margin:0}.mnl-steps figcaption{font-size:.85em;color:#555;max-width:9em}"
            ".mnl-answers{border-collapse:collapse;width:100%}"
            ".mnl-answers th,.mnl-answers td{text-align:left;padding:.25em .6em;border-bottom:1px solid #e6e6e6}"
            ".mnl-answers .num{text-align:right;font-variant-numeric:tabular-nums}"
            ".mnl-conf{display:flex;align-items:center;gap:.4em}"
            ".mnl-conf span{display:inline-block;height:.7em;background:#1f77b4;border-radius:2px}"
            ".mnl-id{font-size:.85em;color:#555}"
            # On a phone (below 641 px Streamlit stacks the columns) Draw's answer is also one line above the canvas,
            # in view after a stroke; Save's pills wrap instead of running under the screen's edge.
            "@media (min-width:641px){.st-key-compact_reading{display:none}}"
            ".st-key-compact_reading p{font-size:1.35rem;margin:0}"
            "[data-testid=stButtonGroup] [role=radiogroup]{flex-wrap:wrap}</style>")


def probability_bars(probabilities, projector: bool = False) -> str:
    """Ten bars, one per digit, each with its probability above it; the digit read in green."""
    values = [float(p) for p in probabilities]
    best = max(range(len(values)), key=values.__getitem__)
    bars = "".join(
        f'<div class="mnl-bar"><small>{percent(value, 0)}</small>'
        f'<div style="height:{max(1, round(value * BAR_HEIGHT))}px;background:{BEST if digit == best else OTHERS}">'
        f'</div><b>{digit}</b></div>'
        for digit, value in enumerate(values))
    return (f'{_style(projector)}<div class="mnl-read"><h4>{escape(_("How sure is the model?"))}</h4>'
            f'<div class="mnl-bars" role="img" aria-label="{escape(_("probability of each digit"))}">{bars}</div></div>')


def steps_and_answers(step_uris: list[str], captions: list[str], answers: list[Answer],
                      projector: bool = False) -> str:
    """What the model sees (each preprocessing step, an inline picture with its caption), then every model's answer
    to the same drawing."""
    steps = "".join(f'<figure><img src="{uri}" alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption>'
                    f'</figure>' for uri, caption in zip(step_uris, captions, strict=True))
    rows = "".join(_answer_row(answer) for answer in answers)
    header = (f'<tr><th>{escape(_("model"))}</th><th class="num">{escape(_("prediction"))}</th>'
              f'<th>{escape(_("confidence"))}</th><th class="num">{escape(_("test accuracy"))}</th>'
              f'<th>{escape(_("note"))}</th></tr>')
    sees, answers_title = escape(_("What the model sees")), escape(_("Every model's answer"))
    return (f'{_style(projector)}<div class="mnl-read"><h3>{sees}</h3>'
            f'<div class="mnl-steps">{steps}</div><h3>{answers_title}</h3>'
            f'<div style="overflow-x:auto"><table class="mnl-answers"><thead>{header}'
            f'</thead><tbody>{rows}</tbody></table></div></div>')  # a narrow screen scrolls the table, not the page


def _answer_row(answer: Answer) -> str:
    if answer.digit is None:
        digit = confidence = "—"
    else:
        digit = str(answer.digit)
        confidence = (f'<div class="mnl-conf"><span style="width:{answer.confidence * 5:.2f}em"></span>'
                      f'{percent(answer.confidence, 0)}</div>')
    return (f'<tr><td>{escape(answer.model)}<br><span class="mnl-id">{escape(answer.run_id)}</span></td>'
            f'<td class="num">{digit}</td><td>{confidence}</td><td class="num">{percent(answer.accuracy, 2)}</td>'
            f'<td>{escape(answer.note)}</td></tr>')


def digit_alt(meant: int, read: int | None = None, confidence: float | None = None, what: str | None = None) -> str:
    """What a digit's picture shows, for a screen reader (its alternative text): "a test image of a 7 read as a 2,
    61% sure"; the caption under it is for the eye and says less. `what` is already in the session's language."""
    what = _("a test image") if what is None else what
    if read is None:
        text = _("{what} of a {digit}").format(what=what, digit=meant)
    elif read == meant:
        text = _("{what} of a {digit} read right").format(what=what, digit=meant)
    else:
        text = _("{what} of a {digit} read as a {read}").format(what=what, digit=meant, read=read)
    return text if confidence is None else _("{text}, {sure} sure").format(text=text, sure=percent(confidence, 0))
