"""MNIST Lab as an installed package (issue 26): `pip install .` gives the `mnistlab` command from any folder —
every CLI command, `serve` and `worker` — with the dashboard inside the package, not as a top-level module.

These tests run the command installed beside the test's own interpreter (`.ci/run` installs the wheel it builds
into the test environment), always from a folder outside the checkout and without PYTHONPATH, so that what they
exercise is the installed package, not the checkout's files."""

import importlib.metadata
import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from conftest import REPO
from launch import free_port, stop_server
from mnistlab.cli.serving import STREAMLIT_SETTINGS

BIN = Path(sys.executable).parent
MNISTLAB = BIN / "mnistlab"


def _installed_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _mnistlab(*args, cwd, timeout=300, **env):
    return subprocess.run([str(MNISTLAB), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_installed_env(**env))


def _requirements(section: str) -> set[str]:
    """requirements.txt's lines under `# Runtime` or `# Tests`, as normalised requirements."""
    found, current = set(), None
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.startswith("#"):
            current = line.strip("# ").lower()
        elif line.split("#")[0].strip() and current == section:
            found.add(str(Requirement(line.split("#")[0].strip())))
    return found


def test_requirements_txt_and_pyproject_agree():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {str(Requirement(line)) for line in project["dependencies"]} == _requirements("runtime")
    assert {str(Requirement(line)) for line in project["optional-dependencies"]["test"]} == _requirements("tests")


def test_the_installed_metadata_names_every_runtime_dependency():
    declared = {str(Requirement(line)) for line in importlib.metadata.requires("mnistlab")
                if "extra ==" not in line}
    assert declared == _requirements("runtime")


def test_serve_uses_the_checkouts_streamlit_settings():
    """`mnistlab serve` passes its settings as flags (it runs from any folder); `streamlit run dashboard/app.py` in a
    checkout reads .streamlit/config.toml. Both say the same."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    flat = {f"{section}.{key}": value for section, table in config.items() for key, value in table.items()}
    assert flat == STREAMLIT_SETTINGS
    assert flat["runner.fastReruns"] is False  # one script thread per session: no click lost (bench/lost_clicks.py)


def test_the_command_works_from_another_folder_and_its_version_is_the_packages(tmp_path):
    out = _mnistlab("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"mnistlab {importlib.metadata.version('mnistlab')}"
    out = _mnistlab("presets", "--json", cwd=tmp_path)
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 15
    for command in ("train", "runs", "show", "predict", "inspect", "reproduce", "compare", "export", "rename",
                    "delete", "serve", "worker", "presets", "drawings"):
        out = _mnistlab(command, "--help", cwd=tmp_path)
        assert out.returncode == 0 and out.stdout.rstrip().splitlines()[-2:][0] == "example:", command
        assert out.stdout.rstrip().splitlines()[-1].strip().startswith("mnistlab "), command


def test_the_dashboard_is_inside_the_package_not_a_top_level_module(tmp_path):
    code = ("import importlib.util, pathlib, mnistlab; "
            "print(importlib.util.find_spec('dashboard') is None, "
            "(pathlib.Path(mnistlab.__file__).parent / 'dashboard' / 'app.py').is_file(), mnistlab.__file__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env=_installed_env())
    no_top_level, inside, where = out.stdout.split()
    assert (no_top_level, inside) == ("True", "True") and not where.startswith(str(REPO / "mnistlab")), out.stdout


def test_mnistlab_serve_answers_from_another_folder(tmp_path, store_home):
    port = free_port()
    process = subprocess.Popen([str(MNISTLAB), "serve", "--port", str(port)], cwd=tmp_path,
                               env=_installed_env(MNISTLAB_HOME=str(store_home)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        answer = None
        while time.time() < deadline and process.poll() is None and answer != b"ok":
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
            except OSError:
                time.sleep(0.2)
        assert answer == b"ok", process.stderr.read() if process.poll() is not None else "no answer in 90 s"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/draw", timeout=5).read()
        assert b"<title>" in page
    finally:
        stop_server(process)


def test_a_port_out_of_range_is_a_sentence(tmp_path):
    out = _mnistlab("serve", "--port", "70000", cwd=tmp_path)
    assert out.returncode == 2 and "give a port from 1 to 65535" in out.stderr


def test_mnistlab_worker_joins_a_scheduler_and_trains_a_run_that_is_stored(tmp_path, store_home, mnist_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = _installed_env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0", MNISTLAB_DATA=str(mnist_path),
                         MNISTLAB_HOME=str(tmp_path / "worker-home"))
    scheduler = subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], env=env, cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(MNISTLAB), "worker", address], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = _mnistlab("train", "--preset", "MLP 1", "--epochs", "1", "--limit", "1000", "--json", cwd=tmp_path,
                        MNISTLAB_SCHEDULER=address, MNISTLAB_HOME=str(store_home), MNISTLAB_DATA=str(mnist_path))
        assert out.returncode == 0, out.stderr
        payload = json.loads(out.stdout)
        assert payload["status"] == "completed" and "started on tcp://127.0.0.1:" in out.stderr
        from mnistlab.store import RunStore

        stored = RunStore(store_home).load(payload["run_id"])
        assert stored.info["executor"] == "dask" and stored.has_model
        assert stored.info["mnistlab_version"] == importlib.metadata.version("mnistlab")
    finally:
        for process in (worker, scheduler):
            stop_server(process)


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1:x"])
def test_mnistlab_worker_with_a_bad_address_is_a_sentence(address, tmp_path):
    out = _mnistlab("worker", address, cwd=tmp_path)
    assert out.returncode == 2 and "is not a Dask scheduler address" in out.stderr
