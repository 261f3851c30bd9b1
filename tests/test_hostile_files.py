"""The third hardening round (issue 27): what a careless or hostile user can hand MNIST Lab — a file name, an .npz,
a drawings folder, a number — is refused with a sentence, within its memory budget, and nothing half-done is kept.

Each test fails without its fix: the failure it guards against is named in its docstring."""

import ast
import io
import os
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from conftest import drawn_digit
from mnistlab import data
from mnistlab.cli import main
from mnistlab.data import DataError, load_mnist
from mnistlab.drawings import DrawingError, Drawings
from mnistlab.export import script_for
from mnistlab.spec import Dense, Experiment, Flatten, TrainConfig

HOSTILE_SCRIPT_NAME = 'a""";__import__("os").system("touch pwned");"""b.py'


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def _npy_header(shape, dtype=np.uint8) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return path


def _mnist_members(mnist_path) -> dict[str, bytes]:
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    return {f"{key}.npy": _npy(np.asarray(value)) for key, value in
            dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test).items()}


def _zeros_member(archive: zipfile.ZipFile, name: str, shape, compress=zipfile.ZIP_DEFLATED):
    """A member whose header declares `shape` and whose body is that many zero bytes, streamed (it compresses to
    almost nothing: the shape of a bomb)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = compress
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(_npy_header(shape))
        chunk = bytes(2**20)
        for _ in range(int(np.prod(shape)) // len(chunk)):
            member.write(chunk)


# ---------------------------------------------------------------- 1. export --script: a name is never code

def _docstring_and_calls(script: str):
    tree = ast.parse(script)
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    return ast.get_docstring(tree), calls


@pytest.mark.parametrize("filename", [HOSTILE_SCRIPT_NAME, "run\\x.py", 'quote".py', "line\nbreak.py"])
def test_a_script_file_name_is_text_in_the_docstring_never_code(filename):
    """Before: the name went into the docstring as typed — the hostile one closed it and ran `touch pwned`, a
    backslash made a script that does not parse."""
    experiment = Experiment("Tiny", (Flatten(), Dense(10, "softmax")), TrainConfig(epochs=1))
    docstring, calls = _docstring_and_calls(script_for(experiment, "20260101-000000-abcd", filename))
    assert f"python {filename} [--data" in docstring and "__import__" not in calls


def test_a_run_name_with_quotes_and_backslashes_is_text_in_the_docstring():
    experiment = Experiment('my """net""" \\ v2', (Flatten(), Dense(10, "softmax")), TrainConfig(epochs=1))
    docstring, _ = _docstring_and_calls(script_for(experiment, "r1"))
    assert docstring.startswith(f"{experiment.name}: 7,850 parameters")


def test_a_run_named_before_names_were_checked_exports_a_whole_script(tmp_path, capsys):
    """A lone surrogate in an old spec.json's name. Before: a 0-byte script (UTF-8 cannot encode it)."""
    import json

    from mnistlab.store import RunStore
    from test_store import _finished_run

    store = RunStore()
    run_id = _finished_run(store, "A")
    spec = store.runs_dir / run_id / "spec.json"
    spec.write_text(json.dumps(dict(json.loads(spec.read_text()), name="bad\udcff")))
    assert main(["export", run_id, "--script", str(tmp_path / "run.py")]) == 0
    docstring, _ = _docstring_and_calls((tmp_path / "run.py").read_text(encoding="utf-8"))
    assert docstring.startswith("bad\ufffd: 7,850 parameters")


def test_export_writes_the_hostile_name_as_a_file_whose_docstring_holds_it(trained_store, tmp_path, monkeypatch,
                                                                           capsys):
    home, run_id = trained_store
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert main(["export", run_id, "--script", HOSTILE_SCRIPT_NAME]) == 0
    docstring, calls = _docstring_and_calls((tmp_path / HOSTILE_SCRIPT_NAME).read_text(encoding="utf-8"))
    assert HOSTILE_SCRIPT_NAME in docstring and "__import__" not in calls and not (tmp_path / "pwned").exists()


def test_export_to_a_full_device_is_a_sentence_naming_it(trained_store, monkeypatch, capsys):
    """Before: "Cannot write None" (the error carried no file name)."""
    home, run_id = trained_store
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    assert main(["export", run_id, "--script", "/dev/full"]) == 2
    assert "Cannot write /dev/full: No space left on device." in capsys.readouterr().err


def test_export_that_cannot_be_written_leaves_no_file_behind(trained_store, tmp_path, monkeypatch, capsys):
    """Before: a write that failed half-way (a full disk) left a 0-byte run.py."""
    import mnistlab.store

    home, run_id = trained_store
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    monkeypatch.setattr(mnistlab.store.os, "fdopen", lambda fd, mode: _FullDisk(fd))
    assert main(["export", run_id, "--script", str(tmp_path / "run.py")]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not (tmp_path / "run.py").exists() and not list(tmp_path.glob(".*.tmp"))


class _FullDisk:
    """A file on a full disk: every write fails."""

    def __init__(self, fd):
        self.fd = fd

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def write(self, data):
        raise OSError(28, "No space left on device")


# ---------------------------------------------------------------- 2. .npz members without .npy

def test_a_raw_member_cannot_shadow_the_checked_mnist_array(mnist_path, tmp_path):
    """Before: np.load's npz["x_test"] read the raw member `x_test` (declaring 60,000 images here, 5,000,000 in the
    hunt: 3.87 GB) instead of the checked x_test.npy."""
    path = tmp_path / "shadowed.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in _mnist_members(mnist_path).items():
            archive.writestr(name, payload)
        _zeros_member(archive, "x_test", (60000, 28, 28))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="holds 'x_test', which is not an .npy array"):
            load_mnist(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # nothing the size of an array was read


def test_mnist_with_an_unexpected_array_is_refused(mnist_path, tmp_path):
    members = _mnist_members(mnist_path)
    path = _zip(tmp_path / "extra.npz", {**members, "extra.npy": _npy(np.zeros(3, np.uint8))})
    with pytest.raises(DataError, match="also holds extra; expected Keras's layout"):
        load_mnist(path)


def test_mnistlab_data_pointing_at_a_shadowed_file_is_one_sentence_from_the_cli(mnist_path, tmp_path, monkeypatch,
                                                                                 capsys):
    path = tmp_path / "shadowed.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in _mnist_members(mnist_path).items():
            archive.writestr(name, payload)
        _zeros_member(archive, "x_train", (80000, 28, 28))
    monkeypatch.setenv("MNISTLAB_DATA", str(path))
    data._load_cached.cache_clear()
    assert main(["train", "--preset", "MLP 1", "--epochs", "1", "--limit", "100"]) == 2
    err = capsys.readouterr().err
    assert "not an .npy array" in err and "Traceback" not in err


def test_an_imported_set_with_a_raw_shadow_member_is_refused(tmp_path):
    """Before: the raw `x_test` (declaring 100,000 images) was what np.load read, after the headers of x_test.npy
    had been checked."""
    path = tmp_path / "set.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_test.npy", _npy(np.zeros((2, 28, 28), np.uint8)))
        archive.writestr("y_test.npy", _npy(np.zeros(2, np.uint8)))
        _zeros_member(archive, "x_test", (100_000, 28, 28))
    with pytest.raises(DrawingError, match="not an .npy array"):
        Drawings(tmp_path / "home").import_npz(path)
    assert Drawings(tmp_path / "home").count() == 0


def test_an_imported_set_with_other_arrays_is_refused(tmp_path):
    path = _zip(tmp_path / "set.npz", {"x_test.npy": _npy(np.zeros((2, 28, 28), np.uint8)),
                                       "y_test.npy": _npy(np.zeros(2, np.uint8)),
                                       "notes.npy": _npy(np.zeros(1, np.uint8))})
    with pytest.raises(DrawingError, match="also holds notes"):
        Drawings(tmp_path / "home").import_npz(path)


# ---------------------------------------------------------------- 3. --repeats and --seeds before their lists

@pytest.mark.parametrize("args", [["--repeats", "2147483647"], ["--repeats", "9223372036854775808"],
                                  ["--seeds", ",".join(map(str, range(200_000)))]])
def test_a_huge_repeat_count_is_refused_before_any_seed_is_listed(args, capsys):
    """Before: --repeats 2147483647 listed its seeds first (22.6 GB); 2**63 was an OverflowError traceback."""
    tracemalloc.start()
    try:
        code = main(["train", "--preset", "MLP 1", "--epochs", "1", *args])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 2 and "more than 20" in err and "Traceback" not in err
    assert peak < 40 * 2**20


# ---------------------------------------------------------------- 7. hostile files in drawings/

def _kept_drawing(home):
    canvas, label = drawn_digit(0)
    return Drawings(home).save(canvas, label)


def _drawing_file(home, suffix: str, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    return _zip(home / "drawings" / f"20260101-000000-000000-{suffix}.npz", members, compression)


def _drawing_members(**overrides) -> dict[str, bytes]:
    members = {"canvas_png": np.zeros(10, np.uint8), "input": np.zeros((28, 28), np.uint8), "label": np.uint8(3),
               "created": np.array("2026-01-01T00:00:00+00:00"), "session": np.array("s")}
    members.update(overrides)
    return {f"{key}.npy": _npy(np.asarray(value)) for key, value in members.items()}


def test_a_drawing_whose_label_has_two_elements_is_skipped_not_fatal(tmp_path):
    """Before: TypeError from int(label) — the whole set could not be listed."""
    kept = _kept_drawing(tmp_path)
    _drawing_file(tmp_path, "0000aaaa", _drawing_members(label=np.array([3, 4], np.uint8)))
    assert [d.drawing_id for d in Drawings(tmp_path).all()] == [kept.drawing_id]
    assert Drawings(tmp_path).dataset()[2] == (kept.drawing_id,)


def test_a_bz2_bomb_member_in_drawings_is_skipped_within_budget(tmp_path):
    """Before: a 3.5 KB drawing with a bz2 member declaring 3 GB took 3.17 GB, then MemoryError. (zipfile
    decompresses a whole bz2 chunk at once, so even its header cannot be read safely: bz2 is refused.)"""
    kept = _kept_drawing(tmp_path)
    path = tmp_path / "drawings" / "20260101-000000-000000-0000bbbb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in _drawing_members().items():
            if name != "input.npy":
                archive.writestr(name, payload)
        _zeros_member(archive, "input.npy", (3000, 28, 28), compress=zipfile.ZIP_BZIP2)
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    try:
        listed = Drawings(tmp_path).all()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.drawing_id for d in listed] == [kept.drawing_id] and peak < 2**20


def test_a_symlink_to_a_fifo_in_drawings_does_not_hang_the_listing(tmp_path):
    """Before: `drawings list` and `evaluate` opened the FIFO and waited for a writer forever."""
    kept = _kept_drawing(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "drawings" / "20260101-000000-000000-0000cccc.npz").symlink_to(tmp_path / "fifo")
    found = {}
    reader = threading.Thread(target=lambda: found.update(all=Drawings(tmp_path).all()), daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "listing the drawings hung on a FIFO"
    assert [d.drawing_id for d in found["all"]] == [kept.drawing_id]


# ---------------------------------------------------------------- 10. a corrupt deflate stream

def _corrupt_deflate(payload: bytes) -> bytes:
    """A zip whose one member's deflate stream is damaged in the middle (its header still readable)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", payload)
    raw = bytearray(buffer.getvalue())
    start = raw.index(b"PK\x03\x04") + 30 + len("x.npy")
    for i in range(start + 200, start + 400):
        raw[i] ^= 0x5A
    return bytes(raw)


def test_a_corrupt_deflate_stream_in_mnist_is_a_sentence(mnist_path, tmp_path):
    """Before: zlib.error traceback."""
    members = _mnist_members(mnist_path)
    path = tmp_path / "corrupt.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    raw = bytearray(path.read_bytes())
    middle = raw.index(b"PK\x03\x04", 1000)  # the second member's local header: damage the first's stream
    for i in range(middle - 5000, middle - 4000):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="has damaged compressed data|is truncated or not an npz archive"):
        load_mnist(path)


def test_a_corrupt_gzip_idx_file_is_a_sentence(mnist_path, tmp_path):
    import gzip

    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    for key, array in dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test).items():
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        packed = bytearray(gzip.compress(header + array.tobytes()))
        if key == "x_test":
            for i in range(2000, 3000):
                packed[i] ^= 0x5A
        (tmp_path / f"{data.IDX_FILES[key]}.gz").write_bytes(bytes(packed))
    with pytest.raises(DataError, match="cannot be read"):
        load_mnist(tmp_path)


def test_a_corrupt_deflate_stream_in_an_imported_set_is_a_sentence(tmp_path):
    x = np.random.default_rng(0).integers(0, 255, (40, 28, 28), dtype=np.uint8)
    path = tmp_path / "set.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_test.npy", _npy(x))
        archive.writestr("y_test.npy", _npy(np.zeros(40, np.uint8)))
    raw = bytearray(path.read_bytes())
    for i in range(3000, 4000):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    with pytest.raises(DrawingError, match="is not a readable .npz"):
        Drawings(tmp_path / "home").import_npz(path)


# ---------------------------------------------------------------- 11, 13. a home that cannot hold drawings; a full disk

@pytest.mark.parametrize("home", ["/dev/null", "file-child"])
def test_a_home_that_cannot_hold_drawings_is_a_sentence(home, tmp_path, monkeypatch, capsys):
    """Before: NotADirectoryError / FileExistsError tracebacks from `drawings add` and `import`."""
    from PIL import Image

    if home == "file-child":
        (tmp_path / "a-file").write_text("x")
        home = str(tmp_path / "a-file" / "home")
    monkeypatch.setenv("MNISTLAB_HOME", home)
    canvas, label = drawn_digit(1)
    Image.fromarray(canvas).save(tmp_path / "one.png")
    np.savez(tmp_path / "set.npz", x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))
    for args in (["drawings", "add", "--label", str(label), str(tmp_path / "one.png")],
                 ["drawings", "import", str(tmp_path / "set.npz")]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: The drawing could not be kept") and "Traceback" not in err


def test_an_import_that_fills_the_disk_keeps_nothing_and_says_so(tmp_path, monkeypatch):
    """Before: 100 drawings of the file were kept, and nothing said the import had stopped."""
    import mnistlab.drawings
    from mnistlab.files import atomic_write_bytes
    from mnistlab.store import StoreError

    written = []

    def fills_after_three(path, payload):
        if len(written) == 3:
            raise StoreError(f"Cannot write {path}: No space left on device.")
        written.append(path)
        atomic_write_bytes(path, payload)

    monkeypatch.setattr(mnistlab.drawings, "atomic_write_bytes", fills_after_three)
    np.savez(tmp_path / "set.npz", x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.zeros(10, np.uint8))
    with pytest.raises(DrawingError, match="No space left on device"):
        Drawings(tmp_path / "home").import_npz(tmp_path / "set.npz")
    assert len(written) == 3 and Drawings(tmp_path / "home").count() == 0


# ---------------------------------------------------------------- 4. a name with a lone surrogate

def test_a_name_of_bytes_that_are_not_utf8_is_refused_at_the_door(capsys):
    """`rename R "$(printf 'bad\\xff')"`: Python hands the byte over as the lone surrogate U+DCFF. Before: accepted,
    and then `runs`, `show`, export and every page that shows names failed for everyone (UnicodeEncodeError)."""
    from mnistlab.store import RunStore
    from test_store import _finished_run

    run_id = _finished_run(RunStore(), "A")
    assert main(["rename", run_id, "bad\udcff"]) == 2
    assert "bytes that are not UTF-8" in capsys.readouterr().err
    assert main(["train", "--preset", "MLP 1", "--name", "bad\udcff", "--epochs", "1", "--limit", "100"]) == 2


def test_a_name_written_before_the_check_is_listed_and_shown(store_home):
    """Old run.json and spec.json files holding "\\udcff" (JSON's escape survives where UTF-8 cannot): every
    listing and `show` print them, with U+FFFD in its place."""
    import json

    from test_cli import run_cli

    from mnistlab.store import RunStore
    from test_store import _finished_run

    store = RunStore()
    run_id = _finished_run(store, "A")
    folder = store.runs_dir / run_id
    for name in ("run.json", "spec.json"):
        content = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps(dict(content, name="bad\udcff")))  # ensure_ascii: "bad\\udcff"
    for args in (["runs"], ["show", run_id]):
        out = run_cli(*args)
        assert out.returncode == 0 and "bad\ufffd" in out.stdout and "Traceback" not in out.stderr, out.stderr
    out = run_cli("runs", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)[0]["name"] == "bad\ufffd"
