"""A class served from one machine: whether the dashboard is in classroom mode, the teacher's link and its token,
the students' budget as the teacher set it, and the shared actions on runs and drawings, each checked for who asks.

The token is the whole of the teacher's identity (Jupyter's model: a secret in a link, then a browser session), so
it is long (128 random bits or more), kept only in a file its owner alone can read, compared in constant time, and
guessed at most GUESSES_PER_MINUTE times a minute from one address.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from .drawings import Drawings
from .files import StoreError, atomic_write_text
from .home import default_home
from .i18n import N_, _
from .roles import LOOPBACK_ADDRESSES, Budget, Person, Refused, check_drawing_change, check_run_change, check_teacher, owner_of
from .store import RunStore

CLASSROOM_ENV = "MNISTLAB_CLASSROOM"
TOKEN_ENV = "MNISTLAB_TEACHER_TOKEN"
TOKEN_FILE = "teacher-token"
BUDGET_FILE = "classroom.json"
LOOPBACK = LOOPBACK_ADDRESSES
GUESSES_PER_MINUTE = 5
MIN_TOKEN_CHARS = 22  # token_urlsafe(16): 128 random bits; a token set by hand must be as long


def classroom_mode(address: str | None, environ=os.environ) -> bool:
    """On when MNISTLAB_CLASSROOM=1, and always when the server listens beyond this machine, whatever the variable
    says (Streamlit listens on every address when none is set)."""
    return environ.get(CLASSROOM_ENV, "").strip() == "1" or (address or "0.0.0.0") not in LOOPBACK


def teacher_token(home: str | os.PathLike | None = None, fresh: bool = False) -> tuple[str, bool]:
    """The teacher's token and whether it was made just now: MNISTLAB_TEACHER_TOKEN, else the one kept in
    $MNISTLAB_HOME/teacher-token (made when missing, or when `fresh`: `mnistlab serve --class` starts each class
    with a new one). The file is readable by its owner only."""
    given = os.environ.get(TOKEN_ENV, "").strip()
    if given:
        if len(given) < MIN_TOKEN_CHARS:
            raise StoreError(f"{TOKEN_ENV} is {len(given)} characters long; a teacher token needs at least "
                             f"{MIN_TOKEN_CHARS} (leave it unset and one is made for you).")
        return given, False
    path = Path(home or default_home()) / TOKEN_FILE
    if not fresh:
        try:
            kept = path.read_text(encoding="utf-8").strip()
            if len(kept) >= MIN_TOKEN_CHARS:
                return kept, False
        except (OSError, UnicodeDecodeError):
            pass
    token = secrets.token_urlsafe(24)  # 192 bits
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, token + "\n")  # a temporary file made with mode 0600, renamed: never readable by others
    os.chmod(path, 0o600)
    return token, True


def teacher_link(host: str, port: int, token: str) -> str:
    return f"http://{host}:{port}/?teacher={token}"


class TokenCheck:
    """Compares a teacher link's token with the real one, and turns away an address after GUESSES_PER_MINUTE wrong
    ones within a minute (the right token too, until the minute has passed: a guesser learns nothing)."""

    def __init__(self, token: str, per_minute: int = GUESSES_PER_MINUTE, clock=time.monotonic):
        self._token = token.encode()
        self._per_minute = per_minute
        self._clock = clock
        self._wrong: dict[str, deque] = {}
        self._lock = threading.Lock()

    def accepts(self, offered: str, address: str | None) -> bool:
        """True for the right token; False for a wrong one; Refused when this address has guessed too often."""
        address = address or "unknown"
        with self._lock:
            now = self._clock()
            wrong = self._wrong.setdefault(address, deque())
            while wrong and now - wrong[0] > 60:
                wrong.popleft()
            if len(wrong) >= self._per_minute:
                raise Refused(_("Too many wrong teacher links from this address: wait a minute and try again (at "
                                "most {count} a minute).").format(count=self._per_minute))
            if hmac.compare_digest(offered.encode("utf-8", "replace"), self._token):
                return True
            wrong.append(now)
            return False


class ClassSettings:
    """The students' budget, as the teacher last set it: kept in $MNISTLAB_HOME/classroom.json, so a server restart
    in the middle of a lesson keeps it."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.path = Path(home or default_home()) / BUDGET_FILE
        self._lock = threading.Lock()
        self._budget = self._read()

    @property
    def budget(self) -> Budget:
        with self._lock:
            return self._budget

    def set_budget(self, person: Person, budget: Budget) -> None:
        check_teacher(person, N_("In a class, only the teacher can change the students' training budget."))
        budget.checked()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps({"budget": budget.as_dict()}, indent=2))
            self._budget = budget

    def _read(self) -> Budget:
        try:
            return Budget.from_dict(json.loads(self.path.read_text(encoding="utf-8")).get("budget"))
        except (OSError, ValueError, AttributeError):
            return Budget()


class ClassActions:
    """The shared actions on runs and drawings that are not the training queue's (worker.py checks its own), each
    checked for the person asking before anything changes."""

    def __init__(self, store: RunStore, drawings: Drawings):
        self.store, self.drawings = store, drawings

    def rename_run(self, person: Person, run_id: str, new_name: str) -> None:
        check_run_change(person, owner_of(self.store.load(run_id).info), "rename")
        self.store.rename(run_id, new_name)

    def check_delete_run(self, person: Person, run_id: str) -> None:
        """Deleting a run first stops it (the worker checks that too), so the right is asked before either."""
        check_run_change(person, owner_of(self.store.load(run_id).info), "delete")

    def delete_run(self, person: Person, run_id: str) -> None:
        self.check_delete_run(person, run_id)
        self.store.delete(run_id)

    def delete_unreadable(self, person: Person, run_id: str) -> None:
        """A folder that cannot be read says nothing of who made it: the teacher's to remove."""
        check_teacher(person, N_("In a class, only the teacher can delete a run folder that cannot be read."))
        self.store.delete(run_id)

    def delete_drawing(self, person: Person, drawing_id: str) -> None:
        drawing = self.drawings.one(drawing_id)
        if drawing is None:
            return  # gone already (deleted from another browser)
        check_drawing_change(person, drawing.session)
        self.drawings.delete(drawing_id)

    def delete_all_drawings(self, person: Person) -> int:
        check_teacher(person, N_("In a class, only the teacher can delete the class's drawings all at once."))
        return self.drawings.delete_all()

    def import_drawings(self, person: Person, path: str | os.PathLike) -> int:
        check_teacher(person, N_("In a class, only the teacher can import drawings into the class's set."))
        return self.drawings.import_npz(path)


ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})
CLASS_URL_ENV = "MNISTLAB_CLASS_URL"  # the students' address, when the machine's own is not the one they reach


def students_address(listen: str | None, port: int, page_host: str | None, lan_addresses: list[str]) -> str:
    """The address students type (or scan) to reach this server: MNISTLAB_CLASS_URL if set; the address the server
    listens on, if it is one; on every address, this machine's first LAN address; on loopback (a class tried out
    on one machine), the host the teacher's own browser used."""
    if os.environ.get(CLASS_URL_ENV, "").strip():
        return os.environ[CLASS_URL_ENV].strip()
    listen = listen or ""
    if listen in ANY_ADDRESS:
        host = lan_addresses[0] if lan_addresses else page_host or "localhost"
    elif listen in LOOPBACK:
        host = page_host or listen
    else:
        host = listen
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, read from its network interfaces (nothing is sent)."""
    import socket

    import psutil

    found = []
    for addresses in psutil.net_if_addrs().values():
        found += [a.address for a in addresses if a.family == socket.AF_INET and not a.address.startswith("127.")]
    return found


def qr_png(text: str, scale: int = 8) -> bytes:
    """A QR code of `text` as a PNG, made here (segno: no network, no dependencies)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
