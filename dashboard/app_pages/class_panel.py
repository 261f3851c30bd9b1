"""Class: the teacher's panel — the students' address and its QR code, the browsers connected, the line of runs with
who queued each, and the students' training budget."""

import html
from urllib.parse import urlparse

from common import follow_runs, md, st, worker
from mnistlab.classroom import lan_addresses, qr_png, students_address
from mnistlab.i18n import _, ngettext
from mnistlab.roles import Budget, Refused
from session_role import class_settings, connected_browsers, person

st.title(_("Your class"))
me = person()
if not me.runs_the_class:  # the page is listed only for the teacher; its actions check again where they happen
    st.error(_("In a class, only the teacher can open the class panel."), icon=":material/lock:")
    st.stop()
follow_runs("class")
training = worker()

address = students_address(st.get_option("server.address"), st.get_option("server.port"),
                           urlparse(st.context.url or "").hostname, lan_addresses())
words, code = st.columns([3, 2], vertical_alignment="center")
with words:
    st.markdown(_("**Students open**"))
    st.html(f'<p class="students-address" style="font-size:2.6rem;font-weight:700;line-height:1.2;'
            f'overflow-wrap:anywhere;margin:0">{html.escape(address)}</p>')
    browsers = connected_browsers()
    st.metric(_("Browsers connected"), "?" if browsers is None else browsers,
              help=_("every open tab of the dashboard, this one included"))
code.image(qr_png(address), caption=_("Scan it with a phone's camera"), width=280,
           alt=_("a QR code of the students' address, {address}").format(address=address))

st.subheader(_("The line"))
if "class_panel_notice" in st.session_state:
    st.success(st.session_state.pop("class_panel_notice"), icon=":material/delete:")
line = [(snap.name, snap.experiment.config.seed if snap.experiment else None, True,
         training.queued_by(snap.run_id) or me) for snap in training.in_flight()]
line += [(item.name, item.experiment.config.seed, False, item.person) for item in training.waiting()]
for name, seed, is_training, who in line:
    icon = ":material/directions_run:" if is_training else ":material/hourglass_top:"
    state = _("training") if is_training else _("waiting")
    st.markdown(f"{icon} {md(name)} · " + _("seed {seed} · {state} · queued by **{who}**").format(
        seed=seed, state=state, who=who.label))
if not line:
    st.write(_("Nothing is training or waiting."))
waiting = sum(item.person.role == "student" for item in training.waiting())
if st.button(_("Remove every student's waiting run ({count})").format(count=waiting), key="class_remove_students",
             disabled=not waiting, icon=":material/playlist_remove:"):
    try:
        removed = training.remove_students_waiting(person())
        st.session_state["class_panel_notice"] = ngettext("Removed {count} waiting student run.",
                                                          "Removed {count} waiting student runs.", removed).format(
            count=removed)
    except Refused as err:
        st.session_state["class_panel_notice"] = str(err)
    st.rerun()

st.subheader(_("What students may train"))
budget = class_settings().budget
with st.form("class_budget"):
    allowed = st.toggle(_("Students may train"), value=budget.training)
    c1, c2, c3 = st.columns(3)
    at_once = c1.number_input(_("Runs each, waiting or training"), value=budget.runs_at_once, step=1)
    epochs = c2.number_input(_("Epochs per run, at most"), value=budget.epochs, step=1)
    images = c3.number_input(_("Training images per run, at most"), value=budget.train_images, step=1000)
    if st.form_submit_button(_("Save the budget"), type="primary"):
        try:
            class_settings().set_budget(person(), Budget(bool(allowed), int(at_once), int(epochs), int(images)))
            st.success(_("Saved: it holds for every student from their next run."), icon=":material/check:")
        except Refused as err:
            st.error(str(err), icon=":material/block:")
