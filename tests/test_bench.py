"""The benchmarks still run against the current code (tiny sizes; nothing is timed or judged here)."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

SMOKE_RUNS = {
    "predict_latency.py": (["--smoke"], "drawing → probabilities as the Draw page does it"),
    "train_throughput.py": (["--smoke"], "added work per epoch"),
    "load_mnist.py": (["--repeats", "2"], "warm"),
    "first_point.py": (["--repeats", "1"], "submit → first live batch point"),
    "classroom.py": (["--smoke", "--home", "{trained}"], "per open Train tab"),
    "store_scale.py": (["--sizes", "10,20", "--repeats", "1"], "Draw rerun's store cost"),
    "inspect_latency.py": (["--smoke"], "activations + occlusion"),
    "train_click.py": (["--smoke"], "Train click → first point visible"),
    "inside_page.py": (["--smoke", "--home", "{trained}"], "Inside / Draw"),
    "class_scoring.py": (["--smoke"], "after one more drawing"),
    "cluster.py": (["--smoke"], "worker(s): "),
    "report_page.py": (["--runs", "20", "--repeats", "1"], "the Report page's store work"),
    "quick_cnn.py": (["--smoke"], "quick CNN over 1 seed(s)"),
    "lost_clicks.py": (["--smoke", "--home", "{trained}"], "fastReruns = false (the dashboard's setting)"),
}


@pytest.mark.parametrize("script", sorted(SMOKE_RUNS))
def test_benchmark_runs(script, tmp_path, request):
    args, expected = SMOKE_RUNS[script]
    if "{trained}" in args:  # the session's trained store, instead of the benchmark training its own models
        args = [str(request.getfixturevalue("trained_store")[0]) if arg == "{trained}" else arg for arg in args]
    env = dict(os.environ, MNISTLAB_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert expected in out.stdout and "machine:" in out.stdout
