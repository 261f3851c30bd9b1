"""How a run of a report network differs from the report's own run (so comparisons say when they are not fair)."""

from mnistlab.presets import differences_from_report, epochs_text, get_preset


def test_a_run_at_the_reports_settings_is_like_for_like():
    preset = get_preset("CNN 4")
    assert differences_from_report(preset, preset.experiment.with_config(seed=3), 30) == []


def test_a_stopped_or_shortened_run_says_how_it_differs():
    preset = get_preset("CNN 4")
    stopped = differences_from_report(preset, preset.experiment, 1.3)
    assert stopped == ["stopped after 1.3 of its 30 epochs"]
    short = differences_from_report(preset, preset.experiment.with_config(epochs=2, train_limit=3000, batch_size=64), 2)
    assert short == ["planned 2 epochs where the report trained 30", "trained on 3,000 of the 60,000 training images",
                     "used batches of 64 (the report: 128)"]


def test_epochs_read_as_a_person_would_say_them():
    assert [epochs_text(e) for e in (30, 1.3333, 1.3, 0.0036, 0)] == ["30", "1.33", "1.3", "0.004", "0"]
