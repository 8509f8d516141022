"""An output folder that cannot be created or written, and a disk that fills up mid-write: every
command says so in one line naming the path, exits 2 (sysim/cli.py), prints no traceback and
leaves no partial or temporary file behind.

Tests may run as root (CI containers), for whom ``chmod 0o500`` changes nothing: an output path
under a regular *file* fails for everybody (``mkdir`` gives ENOTDIR), and root gets ``/proc/self``
as the existing folder it cannot create files in. A full disk is ``/dev/full`` (every write fails
with ENOSPC): writes into the output folder are redirected to it in-process.
"""
from __future__ import annotations

import builtins
import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sysim import cli

NODE = """
name = "output faults"
[simulation]
duration = "1 d"
record_every = "10 min"
[storage]
model = "supercap"
capacitance = "40 mF"
esr = "2 ohm"
leakage_resistance = "2 Mohm"
initial_voltage = "2.6 V"
v_min = "1.8 V"
v_max = "3.3 V"
[[harvester]]
type = "current"
name = "light"
current = "0 A"
steps = [{ at = "8 h", current = "40 uA" }, { at = "18 h", current = "0 A" }]
[[load]]
type = "periodic"
name = "radio"
period = "10 s"
base_current = "1 uA"
phases = [{ current = "5 mA", duration = "1.5 ms" }]
"""

SWEEP = """
name = "full disk"
scenario = "node.toml"
outputs = ["min_voltage_V"]
[[axis]]
key = "storage.capacitance"
values = ["10 mF", "20 mF", "40 mF", "80 mF"]
"""


@pytest.fixture
def node(tmp_path) -> Path:
    (tmp_path / "node.toml").write_text(NODE)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    return tmp_path / "node.toml"


def commands(node: Path, out: Path) -> dict[str, list[str]]:
    return {
        "run": ["run", str(node), "--out", str(out), "--quiet"],
        "run --stream": ["run", str(node), "--out", str(out), "--stream", "--quiet"],
        "sweep": ["sweep", str(node.parent / "sweep.toml"), "--serial", "--out", str(out), "--quiet"],
        "eno": ["eno", str(node), "--no-autonomy", "--out", str(out), "--quiet"],
        "size": ["size", str(node), "--vary", "storage.capacitance", "--range", "5 mF..200 mF", "--grid", "3",
                 "--tolerance", "5%", "--out", str(out), "--quiet"],
    }


def one_line_error(capsys, *names: str) -> str:
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "Traceback" not in captured.err + captured.out and "internal error" not in err
    assert err.startswith("error:"), err
    for name in names:
        assert name in err, (name, err)
    return err


def no_leftovers(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix in (".partial", ".tmp"))


@pytest.mark.parametrize("command", ["run", "run --stream", "sweep", "eno", "size"])
def test_an_output_folder_under_a_regular_file_is_a_clear_error(node, tmp_path, capsys, command):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should go\n")
    out = blocker / "out"
    assert cli.main(commands(node, out)[command]) == 2
    one_line_error(capsys, str(out), "cannot create output folder")
    assert blocker.read_text() == "a file where the output folder should go\n"


def test_an_existing_folder_without_write_permission_is_a_clear_error(node, tmp_path, capsys):
    if os.geteuid() == 0:
        out = Path("/proc/self")  # root may write anywhere a mode allows; procfs refuses new files
    else:
        out = tmp_path / "read-only"
        out.mkdir()
        out.chmod(0o500)
    try:
        assert cli.main(commands(node, out)["run"]) == 2
    finally:
        if out.parent == tmp_path:
            out.chmod(0o700)
    one_line_error(capsys, str(out))
    if out.parent == tmp_path:
        assert list(out.iterdir()) == []


def test_a_target_that_is_a_folder_is_a_clear_error(node, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)  # cannot be replaced by a file
    assert cli.main(commands(node, out)["run"]) == 2
    one_line_error(capsys, str(out / "summary.json"))
    assert no_leftovers(out) == []


@pytest.fixture
def full_disk(monkeypatch):
    """Every file opened for writing under the returned folder writes to /dev/full instead."""
    real_open = builtins.open
    folders: list[str] = []

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
            path = os.path.abspath(os.fspath(file))
            if any(path.startswith(f + os.sep) for f in folders):
                return real_open("/dev/full", mode.replace("x", "w").replace("a", "w"), *args, **kwargs)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    return folders


@pytest.mark.parametrize("command", ["run", "run --stream", "eno", "size"])
def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(node, tmp_path, capsys, full_disk, command):
    out = tmp_path / "out"
    full_disk.append(str(out))
    assert cli.main(commands(node, out)[command]) == 2
    one_line_error(capsys, str(out), "disk full")
    # the folder itself was made before the run; nothing may be left in it
    assert sorted(p.name for p in out.iterdir()) == []


class FullDiskOS:
    """The ``os`` module as the sweep's results store sees it: appends fail with ENOSPC once
    ``allowed`` writes have gone through."""

    def __init__(self, allowed: int):
        self.allowed = allowed

    def write(self, fd, data):
        if self.allowed <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.allowed -= 1
        return os.write(fd, data)

    def __getattr__(self, name):
        return getattr(os, name)


def test_a_disk_that_fills_during_a_sweep_keeps_the_finished_points(node, tmp_path, capsys, monkeypatch):
    import sysim.sweep.store as store

    out = tmp_path / "out"
    monkeypatch.setattr(store, "os", FullDiskOS(allowed=3))  # the header and two points fit
    assert cli.main(commands(node, out)["sweep"]) == 2
    one_line_error(capsys, str(out / "results.jsonl"), "No space left on device")
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 and '"sysim_sweep_results"' in lines[0]
    assert no_leftovers(out) == []
    assert not (out / "results.csv").exists()
    monkeypatch.undo()
    # with space again, the same command runs only the two missing points
    assert cli.main(commands(node, out)["sweep"][:-1]) == 0
    assert "2 finished earlier, 2 to run" in capsys.readouterr().out
    assert len((out / "results.jsonl").read_text().splitlines()) == 5


def test_the_error_reaches_the_terminal_as_one_line_from_a_real_process(node, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", str(node), "--out", str(blocker / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert f"cannot create output folder {blocker / 'out'}" in " ".join(proc.stderr.split())
