"""Lesson: the report as a live lesson. The teacher shows a step, the class predicts from its own browsers, the
teacher closes the vote (the split appears), may hold a second vote after discussion, then reveals the answer from
the store's runs. The rights are checked by mnistlab.lesson, whatever the page shows."""

import charts
from common import current_language, drawn_by_the_page, fragment_looks, md, show_figure, st, store, test_labels, worker
from language import fragment
from mnistlab.i18n import _, ngettext, number
from mnistlab.lesson import (CHOICE_NAMES, CHOICES, CLOSED, QUESTION, REVEALED, RUN, SECOND_CLOSED, SECOND_VOTE,
                             VOTE, Lesson, Step, answer, network, predicted, question, report_steps, split, summary)
from mnistlab.presets import PRESETS
from mnistlab.reproduce import CLAIMS
from mnistlab.roles import Refused
from mnistlab.spec_diff import differences
from session_role import person, within_budget
from tables import lesson_table

QUICK = {"epochs": 2, "train_limit": 10_000}  # quick versions of a step's networks, trained live on a slice
lesson = Lesson(store().home)
me = person()


def _act(action, *args) -> None:
    """A teacher's or a student's action; a refusal is said on the page (the lesson checks every right itself)."""
    try:
        action(me, *args)
    except Refused as err:
        st.session_state["lesson_error"] = str(err)
    st.rerun()


def _versions() -> tuple:
    """The lesson's and the store's: a step opened, a vote cast or closed, an answer revealed, or a run (quick
    versions) finished anywhere changes them."""
    return lesson.version(), store().listed_version()


@fragment(run_every=1.0)
def _follow(seen: tuple) -> None:
    """Every browser follows the lesson and the store in one look a second (common.follow_runs' look, and the
    lesson's): either changed redraws the page. The versions are taken in the page's own run (see follow_runs)."""
    if fragment_looks("lesson") and _versions() != seen:
        st.rerun(scope="app")


@st.cache_resource(max_entries=64, show_spinner=False)
def _answer(before: str, after: str, store_version: int, language: str):
    """A step's answer, worked out once for every session while the store is unchanged (each vote redraws every
    student's page, and the lesson's end lists the answer of every revealed step)."""
    return answer(Step(before, after), store().list_runs().runs, test_labels())


def _answer_of(step: Step):
    return _answer(step.before, step.after, store().listed_version(), current_language())


st.title(_("Lesson"))
drawn_by_the_page("lesson")
_follow(_versions())
if "lesson_error" in st.session_state:
    st.error(st.session_state.pop("lesson_error"), icon=":material/block:")
at_step, step, phase = lesson.current()
steps = lesson.steps()
runs = store().list_runs().runs
before, after = network(step.before, runs), network(step.after, runs)
if before is None or after is None:  # a lesson of one's own whose run was deleted since
    st.warning(_("A run of this step is gone from the store: it was deleted."), icon=":material/delete:")
    st.stop()

st.caption(_("Step {number} of {count}").format(number=at_step + 1, count=len(steps)))
st.subheader(md(question(before.name, after.name)))  # a lesson of one's own names runs: anyone's text
voting = phase in (VOTE, SECOND_VOTE)
first_votes, second_votes = lesson.votes(at_step), lesson.votes(at_step, second=True)
if voting and me.role != "teacher":  # the teacher's screen is the projector's: it shows the count, not the buttons
    mine = lesson.my_vote(me, at_step, second=phase == SECOND_VOTE)
    if mine is None:  # right under the question: in view on a phone
        st.markdown(_("**Second vote: what do you think now?**") if phase == SECOND_VOTE else
                    _("**Your prediction**"))
        for choice in CHOICES:  # one under the other, large, in the order a sentence says them
            if st.button(_(CHOICE_NAMES[choice]), key=f"lesson_vote_{choice}", width="stretch", type="primary"):
                _act(lesson.vote, choice)
    else:
        st.success(_("Your vote: {choice}. The split is shown when the teacher closes the vote.").format(
            choice=_(CHOICE_NAMES[mine])), icon=":material/how_to_vote:")
if voting:
    count = len(second_votes if phase == SECOND_VOTE else first_votes)
    st.metric(_("Votes so far"), ngettext("{count} vote", "{count} votes", count).format(count=count))
elif phase == QUESTION:
    st.info(_("Think about it: the vote opens in a moment."), icon=":material/psychology:")
changed = differences(before.experiment, after.experiment, seed=False)
st.markdown(md(_("What changes: {changes}.").format(changes="; ".join(changed))) if changed else
            _("The two networks are trained the same way."))
st.caption(" · ".join(ngettext("{name}: {count} parameter", "{name}: {count} parameters", one.params or 0).format(
    name=md(one.name), count=number(one.params or 0)) for one in (before, after)))

if phase in (CLOSED, SECOND_VOTE, SECOND_CLOSED, REVEALED):  # never while the first vote is open
    names = [_(CHOICE_NAMES[choice]) for choice in CHOICES]
    shown = {_("First vote"): list(split(first_votes).values())}
    if second_votes and phase in (SECOND_CLOSED, REVEALED):
        shown[_("Second vote")] = list(split(second_votes).values())
    show_figure(charts.vote_bars(names, shown, _("How the class voted"), _("votes")), key="lesson_split")

found = _answer_of(step) if phase == REVEALED else None
if phase == REVEALED:
    if found is None:
        st.warning(md(_("No finished runs of {before} and {after} in the store yet to answer with. The teacher can "
                        "train quick versions now, or reproduce them (Report).").format(before=before.name,
                                                                                     after=after.name)),
                   icon=":material/hourglass_top:")
    else:
        st.markdown("### " + md(_("Answer: {after} is {answer} {before}.").format(
            after=after.name, before=before.name, answer=_(CLAIMS[found.choice])) if found.real else
            _("Answer: not a real difference at this test-set size.")))
        st.markdown(md(found.sentence))
        if not found.full:
            st.caption(_("From quick versions trained on a slice of MNIST: this verdict is about them, not about the "
                         "report's full training."))
        right, voted = predicted(first_votes, second_votes, found.choice)
        st.metric(_("The class predicted it"), f"{right} / {voted}",
                  help=_("of the class's last vote on this step") if voted else None)
    if after.finding:
        st.info(_("The report: {finding}").format(finding=_(after.finding)), icon=":material/description:")

if me.runs_the_class:
    st.divider()
    st.markdown(_("**The teacher's controls**"))
    c1, c2, c3, c4 = st.columns(4)
    if phase in (QUESTION, CLOSED) and c1.button(_("Open the vote") if phase == QUESTION else
                                                _("A second vote, after discussing"), key="lesson_open",
                                                type="primary"):
        _act(lesson.open_vote)
    if voting and c1.button(_("Close the vote"), key="lesson_close", type="primary"):
        _act(lesson.close_vote)
    if phase in (CLOSED, SECOND_CLOSED) and c2.button(_("Reveal the answer"), key="lesson_reveal"):
        _act(lesson.reveal)
    if c3.button(_("← Previous step"), key="lesson_previous", disabled=at_step == 0):
        _act(lesson.go_to, at_step - 1)
    if c4.button(_("Next step →"), key="lesson_next", disabled=at_step == len(steps) - 1):
        _act(lesson.go_to, at_step + 1)
    if phase == REVEALED and found is None and not step.before.startswith(RUN):
        if st.button(_("Train quick versions of both ({epochs} epochs, {images} images)").format(
                epochs=QUICK["epochs"], images=number(QUICK["train_limit"])), key="lesson_quick"):
            try:
                for one in (before, after):
                    worker().submit(within_budget(one.experiment.with_config(**QUICK)), me)
            except Refused as err:
                st.session_state["lesson_error"] = str(err)
            st.rerun()
    with st.expander(_("A lesson of your own"), icon=":material/edit_note:"):
        # the report's networks, then the store's finished runs (by id: two runs may share a name)
        labels = {preset.name: preset.name for preset in PRESETS} | {
            RUN + run.run_id: f"{run.name} · {run.run_id}" for run in runs if run.metrics}
        a, b = st.columns(2)
        first = a.selectbox(_("From"), list(labels), key="lesson_custom_before", format_func=labels.get)
        then = b.selectbox(_("To"), list(labels), key="lesson_custom_after", index=1, format_func=labels.get)
        planned = st.session_state.setdefault("lesson_custom", [])
        if st.button(_("Add this step"), key="lesson_custom_add", disabled=first == then):
            planned.append({"before": first, "after": then})
        if planned:
            st.markdown("\n".join(f"{i + 1}. {md(labels.get(s['before'], s['before']))} → "
                                   f"{md(labels.get(s['after'], s['after']))}" for i, s in enumerate(planned)))
        if st.button(_("Start this lesson"), key="lesson_custom_start", disabled=not planned):
            chosen = [Step(**s) for s in st.session_state.pop("lesson_custom")]
            _act(lesson.use_steps, chosen)
        if st.button(_("Back to the report's lesson"), key="lesson_report"):
            _act(lesson.use_steps, report_steps())

with st.expander(_("The lesson so far"), icon=":material/summarize:"):
    rows = summary(lesson, runs, test_labels(), _answer_of)
    table = lesson_table(rows, {choice: _(CHOICE_NAMES[choice]) for choice in CHOICES})
    st.dataframe(table, hide_index=True, width="stretch", key="lesson_summary")
    st.download_button(_("Download CSV"), table.to_csv(index=False).encode(), file_name="mnistlab-lesson.csv",
                       mime="text/csv", key="lesson_csv", on_click="ignore")  # no rerun: the file is what was shown
