"""Our runs of the report's experiments, side by side with its published numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from .groups import Group, group_key, groups
from .i18n import N_, _
from .presets import FINDING_COMPARES, PRESETS, Preset, get_preset
from .spec import Experiment
from .status import status_name
from .store import Run, StoreError


@dataclass(frozen=True)
class Comparison:
    preset: Preset
    run: Run | None  # the newest finished reproduction
    attempt: Run | None = None  # the newest run of the reproduction's spec, whatever became of it

    def status(self, training: bool = False) -> str:
        """What the Report says of the row: the reproduction's status, or else what became of the latest try at it
        (queued, stopped, failed …: a stopped run is no reproduction, but it is not "not run yet" either)."""
        if training:
            return _("training")
        if self.run:
            return status_name(self.run.status)
        if self.attempt:
            return status_name(self.attempt.status)
        return _("not run yet")

    @property
    def ours(self) -> dict | None:
        return self.run.metrics if self.run else None

    def difference(self, key: str) -> float | None:
        """Ours minus the report's, for accuracy / keras_precision / keras_recall."""
        if not self.ours:
            return None
        report = {"accuracy": self.preset.report.accuracy, "keras_precision": self.preset.report.precision,
                  "keras_recall": self.preset.report.recall}[key]
        return self.ours[key] - report


def select_presets(only: str | None = None) -> list[Preset]:
    """The presets named in a comma-separated list, or all fifteen when no list is given."""
    if only is None:
        return list(PRESETS)
    names = [name for name in only.split(",") if name.strip()]
    if not names:
        raise ValueError(f"--only {only!r} names no preset; give names such as \"MLP 1,CNN 5\" "
                         f"(`python -m mnistlab presets` lists them).")
    return [get_preset(name) for name in names]


def reproduction_experiment(preset: Preset, epochs: int | None = None, limit: int | None = None,
                            seed: int | None = None) -> Experiment:
    """The preset at the report's settings (another seed for a repeat), optionally shortened for a quick check."""
    changes = {} if seed is None else {"seed": seed}
    if epochs is not None:
        changes["epochs"] = epochs
    if limit is not None:
        changes["train_limit"] = limit
    return preset.experiment.with_config(**changes) if changes else preset.experiment


@dataclass(frozen=True)
class RunIndex:
    """The store's finished (completed or diverged) runs, indexed once by their exact spec and by their group (the
    spec with its name and seed blanked), and every spec's newest run whatever its status, so that a page asking
    about fifteen presets reads the runs once rather than once per question (the Report page serialised every run 15
    times and scanned them 30 times: 347 ms a rerun at 1,000 runs)."""

    newest: dict[Experiment, Run]  # a spec → the newest finished run with exactly that spec
    by_group: dict[Experiment, list[Run]]  # group_key → its finished runs with metrics, newest first
    latest: dict[Experiment, Run] = field(default_factory=dict)  # a spec → its newest run, whatever its status

    @classmethod
    def of(cls, runs: list[Run]) -> RunIndex:
        """`runs` as a listing gives them, newest first."""
        newest, by_group, latest = {}, {}, {}
        for run in runs:
            latest.setdefault(run.experiment, run)
            if run.status.is_outcome:
                newest.setdefault(run.experiment, run)
                if run.metrics:
                    by_group.setdefault(group_key(run.experiment), []).append(run)
        return cls(newest, by_group, latest)

    def completed(self, experiment: Experiment) -> Run | None:
        """The newest finished run with exactly this spec (for resumable reproduction)."""
        return self.newest.get(experiment)

    def group(self, experiment: Experiment) -> Group | None:
        """Every finished run of this setup, one per seed; None when there is none."""
        mine = self.by_group.get(group_key(experiment))
        return groups(mine)[0] if mine else None


def compare(index: RunIndex, presets: list[Preset], epochs: int | None = None,
            limit: int | None = None) -> list[Comparison]:
    """For each preset, the newest finished run with exactly the reproduction's spec, if any."""
    experiments = [reproduction_experiment(p, epochs, limit) for p in presets]
    return [Comparison(p, index.completed(e), index.latest.get(e)) for p, e in zip(presets, experiments)]


def reproduction_group(preset: Preset, index: RunIndex, epochs: int | None = None,
                       limit: int | None = None) -> Group | None:
    """Every finished reproduction of the preset, one per seed (`reproduce --seeds`); None when there is none."""
    return index.group(reproduction_experiment(preset, epochs, limit))


def spread_row(preset: Preset, group: Group | None) -> dict:
    """The report's accuracy against our seeds: how many, mean, sample std, range, and whether the report's number
    lies within our range (None without at least two seeds)."""
    if group is None or len(group.runs) < 2:
        return {"seeds": len(group.runs) if group else 0, "mean": None, "std": None, "low": None, "high": None,
                "report_in_range": None}
    spread = group.spread()
    return {"seeds": spread.n, "mean": spread.mean, "std": spread.std, "low": spread.low, "high": spread.high,
            "report_in_range": spread.low <= preset.report.accuracy <= spread.high}


def spread_markdown(rows: list[tuple[Preset, dict]]) -> str:
    """The reproduction over seeds as a Markdown table (the report's accuracy beside our mean ± std and range)."""
    lines = ["| Experiment | Report acc. | Seeds | Ours mean ± std | Ours min – max | Report within our range |",
             "|---|---:|---:|---:|---:|---|"]
    for preset, row in rows:
        if row["mean"] is None:
            lines.append(f"| {preset.name} | {preset.report.accuracy:.4f} | {row['seeds']} | — | — | — |")
            continue
        lines.append(f"| {preset.name} | {preset.report.accuracy:.4f} | {row['seeds']} | {row['mean']:.4f} ± "
                     f"{row['std']:.4f} | {row['low']:.4f} – {row['high']:.4f} | "
                     f"{'yes' if row['report_in_range'] else 'no'} |")
    return "\n".join(lines) + "\n"


CLAIMS = {"better": N_("better than"), "worse": N_("worse than"), "same": N_("no better than")}  # shown as _(claim)


def finding_verdicts(presets: list[Preset], index: RunIndex, labels, epochs: int | None = None,
                     limit: int | None = None) -> list[dict]:
    """Does each of the report's findings hold up? For each preset and the experiment its finding compares it with,
    both reproduced over two or more seeds: Welch's t on the seeds' accuracies (at p < 0.05, a real difference), and
    McNemar's test on the first seed's pair of runs (the report's seed 42, image by image). A finding holds up when
    a claimed gain or loss is a real difference that way, or a claimed "no better" is no real difference.
    `labels`: the test set's (None: the seeds' test alone)."""
    from .verdict import Side, compare

    found = {preset.name: reproduction_group(preset, index, epochs, limit) for preset in PRESETS}
    rows = []
    for preset in presets:
        for other, claim in FINDING_COMPARES.get(preset.name, ()):
            a, b = found[preset.name], found[other]
            if a is None or b is None or len(a.runs) < 2 or len(b.runs) < 2:
                continue
            over_seeds = compare(Side(preset.name, a), Side(other, b), None)
            try:  # without MNIST's labels here, or a run's predictions: the seeds' test alone
                first_seed = (None if labels is None else
                              compare(Side(preset.name, _lowest_seed(a)), Side(other, _lowest_seed(b)), labels))
            except StoreError:
                first_seed = None
            real = over_seeds["p_value"] < 0.05
            direction = "better" if over_seeds["difference"] > 0 else "worse"
            rows.append({"experiment": preset.name, "against": other, "finding": preset.report.finding,
                         "claim": claim, "difference": over_seeds["difference"], "p_value": over_seeds["p_value"],
                         "real": real, "holds": (not real) if claim == "same" else (real and direction == claim),
                         "sentence": over_seeds["sentence"], "first_seed": first_seed})
    return rows


def findings_markdown(rows: list[dict]) -> str:
    lines = ["| Finding (report) | Says, against | Δ mean (pp) | p (Welch, seeds) | First seed: only A right / only B "
             "right, p (McNemar) | Real difference | Holds up |", "|---|---|---:|---:|---|---|---|"]
    for row in rows:
        one = row["first_seed"]
        image_by_image = f"{one['only_a']} / {one['only_b']}, {_p(one['p_value'])}" if one else "—"
        lines.append(f"| {row['experiment']}: {row['finding']} | {CLAIMS[row['claim']]} {row['against']} | "
                     f"{100 * row['difference']:+.2f} | {_p(row['p_value'])} | {image_by_image} | "
                     f"{'yes' if row['real'] else 'no'} | {'yes' if row['holds'] else 'no'} |")
    return "\n".join(lines) + "\n"


def _lowest_seed(group: Group) -> Group:
    """The group's run with the lowest seed (the report's 42, in a reproduction), as a group of one."""
    return Group((min(group.runs, key=lambda run: run.experiment.config.seed),))


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.2g}"


def markdown_table(comparisons: list[Comparison]) -> str:
    head = ("| Experiment | Params | Report acc. | Ours acc. | Δ acc. (pp) | Report prec. | Ours prec. "
            "| Report rec. | Ours rec. | Epochs | Train s | Seed | Status |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for c in comparisons:
        r, ours = c.preset.report, c.ours or {}
        info = c.run.info if c.run else {}
        cfg = c.run.experiment.config if c.run else c.preset.experiment.config
        lines.append(" | ".join([
            f"| {c.preset.name}", f"{c.preset.params:,}",
            f"{r.accuracy:.4f}", _fmt(ours.get("accuracy")), _pp(c.difference("accuracy")),
            f"{r.precision:.4f}", _fmt(ours.get("keras_precision")),
            f"{r.recall:.4f}", _fmt(ours.get("keras_recall")),
            str(info.get("epochs_run", "—")), _fmt(info.get("train_seconds"), ".0f"), str(cfg.seed),
            f"{info.get('status', 'not run')} |",
        ]))
    return "\n".join(lines) + "\n"


def per_class_markdown(comparisons: list[Comparison]) -> str:
    """Per-digit accuracy, ours against the report's, for the experiments where the report gives it."""
    sections = []
    for c in comparisons:
        published = c.preset.report.per_class_accuracy
        if not published or not c.ours:
            continue
        ours = c.ours["per_class_accuracy"]
        lines = [f"### {c.preset.name}: accuracy per digit\n", "| Digit | Report | Ours | Δ (pp) |", "|---:|---:|---:|---:|"]
        lines += [f"| {d} | {r:.4f} | {o:.4f} | {(o - r) * 100:+.2f} |" for d, (r, o) in enumerate(zip(published, ours))]
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def markdown_report(comparisons: list[Comparison]) -> str:
    parts = [markdown_table(comparisons)]
    per_class = per_class_markdown(comparisons)
    if per_class:
        parts.append(per_class)
    return "\n".join(parts)


def _fmt(value, spec: str = ".4f") -> str:
    return "—" if value is None else format(value, spec)


def _pp(value) -> str:
    return "—" if value is None else f"{value * 100:+.2f}"
