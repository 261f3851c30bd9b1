"""Serving a class and joining a lab: `mnistlab serve` starts the dashboard, `mnistlab worker` a Dask worker that
trains MNIST Lab runs. Each replaces this process with the server it starts (its process id is the server's)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from ..i18n import _
from .common import CliError, command

# The project's Streamlit settings (the checkout's .streamlit/config.toml says the same; a test checks it), given as
# flags, so that `mnistlab serve` has them from any folder: only this machine, XSRF protection on, no usage
# statistics, no full garbage collection after every script run (docs/benchmarks.md), and one script thread per
# session, so that no click is lost (no fast reruns: see the config file).
STREAMLIT_SETTINGS = {
    "server.address": "127.0.0.1", "server.port": 8501, "server.headless": True,
    "server.enableXsrfProtection": True, "server.enableCORS": True, "runner.postScriptGC": False,
    "runner.fastReruns": False,
    "browser.gatherUsageStats": False, "client.toolbarMode": "minimal", "theme.base": "light",
}
LAN_ADDRESS = "0.0.0.0"


def add_commands(sub) -> None:
    p = command(sub, "serve", _("start the dashboard (on this machine only, unless --class)"),
                "mnistlab serve --port 8501 --class", cmd_serve)
    p.add_argument("--port", type=int, default=STREAMLIT_SETTINGS["server.port"], help=_("the port (default 8501)"))
    p.add_argument("--class", dest="classroom", action="store_true",
                   help=_("listen on the LAN for a class, in classroom mode (students reach it at http://HOST:PORT)"))

    p = command(sub, "worker", _("start a Dask worker that trains MNIST Lab runs sent to its scheduler"),
                "mnistlab worker tcp://lab-server:8786", cmd_worker)
    p.add_argument("scheduler", help=_("the scheduler's address, e.g. tcp://lab-server:8786 (from `dask scheduler`)"))


def dashboard_app() -> Path:
    """The dashboard's entry script: inside the package once installed, beside it in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for app in (package / "dashboard" / "app.py", package.parent / "dashboard" / "app.py"):
        if app.is_file():
            return app
    raise CliError(_("The dashboard is not installed beside {package}; reinstall MNIST Lab (pip install mnistlab).").format(
        package=package))


def serve_command(port: int, classroom: bool) -> list[str]:
    """The `streamlit run` command line `mnistlab serve` replaces itself with."""
    if not 1 <= port <= 65535:
        raise CliError(_("--port {port}: give a port from 1 to 65535.").format(port=port))
    settings = dict(STREAMLIT_SETTINGS, **{"server.port": port})
    if classroom:
        settings["server.address"] = LAN_ADDRESS
    flags = [f"--{key}={str(value).lower() if isinstance(value, bool) else value}" for key, value in settings.items()]
    return [sys.executable, "-m", "streamlit", "run", str(dashboard_app()), *flags]


def cmd_serve(args) -> int:
    command_line = serve_command(args.port, args.classroom)
    env = dict(os.environ, **({"MNISTLAB_CLASSROOM": "1"} if args.classroom else {}))
    if args.classroom:
        _announce_class(args.port)
    else:
        print(f"MNIST Lab on http://127.0.0.1:{args.port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    os.execve(sys.executable, command_line, env)


def _announce_class(port: int) -> None:
    """The two links of a class, once, on this console: a new teacher token for each class (unless
    MNISTLAB_TEACHER_TOKEN gives one), kept under $MNISTLAB_HOME where only this user can read it."""
    from ..classroom import lan_addresses, students_address, teacher_link, teacher_token
    from ..files import StoreError

    try:
        token, _made = teacher_token(fresh=True)
    except (StoreError, OSError) as err:
        raise CliError(_("The teacher's token could not be kept: {problem}").format(problem=err)) from None
    students = students_address(LAN_ADDRESS, port, None, lan_addresses())
    host = urlparse(students).hostname or "localhost"
    print(f"MNIST Lab for a class (Ctrl-C stops it)\n"
          f"  students open:   {students}\n"
          f"  teacher link:    {teacher_link(host, port, token)}   (keep it to yourself: it makes a browser the "
          f"teacher's)", file=sys.stderr, flush=True)


def cmd_worker(args) -> int:
    from ..executor import ClusterError, check_address

    try:
        check_address(args.scheduler)
    except ClusterError as err:
        raise CliError(str(err)) from None
    print(f"MNIST Lab worker for the scheduler at {args.scheduler} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    # One run at a time (a run's TensorFlow threads are set by whoever sends it); mnistlab is importable here, as
    # the worker must unpickle the runs it is sent.
    os.execv(sys.executable, [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler,
                              "--nworkers", "1", "--nthreads", "1", "--no-dashboard"])
