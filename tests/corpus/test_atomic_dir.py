"""Folders written in place only when complete: what a killed writer leaves (a hidden
.partial-* folder, or the old output set aside) is cleaned by the next writer, and only that:
never a folder a live process is writing, never one polebench did not mark as its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.corpus.store import OWNER, atomic_dir, clean_abandoned

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from bench.corpus.store import atomic_dir
with atomic_dir(Path(sys.argv[1])) as tmp:
    (tmp / "half-written").write_text("x")
    print(tmp, flush=True)
    time.sleep(600)
"""


def _writer(final: Path) -> tuple[subprocess.Popen, Path]:
    """A process inside atomic_dir(final), stopped there; and its temporary folder."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(final)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return p, Path(p.stdout.readline().strip())


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_killed_writers_partial_folder_is_removed_by_the_next_writer(tmp_path):
    final = tmp_path / "corpus"
    p, tmp = _writer(final)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert tmp.is_dir() and Path(f"{tmp}{OWNER}").is_file()  # what kill -9 leaves
    with atomic_dir(final) as new:
        (new / "done").write_text("y")
    assert not tmp.exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["corpus"]
    assert sorted(x.name for x in final.iterdir()) == ["done"]


def test_a_live_writers_folder_and_unmarked_folders_are_left_alone(tmp_path):
    p, tmp = _writer(tmp_path / "corpus")
    foreign = tmp_path / ".mine.partial-notes"  # looks like ours, but polebench did not mark it
    foreign.mkdir()
    (foreign / "keep.txt").write_text("z")
    try:
        assert clean_abandoned(tmp_path) == []
        with atomic_dir(tmp_path / "other") as new:
            (new / "f").write_text("1")
        assert (tmp / "half-written").is_file() and (foreign / "keep.txt").is_file()
    finally:
        p.kill()
        p.wait()
    assert clean_abandoned(tmp_path) == [tmp]  # once its owner is dead, and only that one
    assert (foreign / "keep.txt").is_file()


def test_an_old_output_set_aside_by_a_killed_writer_is_put_back_or_removed(tmp_path):
    pid = _dead_pid()
    # killed after moving the old output aside, before moving the new one in: it comes back
    aside = tmp_path / f".corpus.old-{pid}"
    aside.mkdir()
    (aside / "manifest.json").write_text("{}")
    clean_abandoned(tmp_path)
    assert (tmp_path / "corpus" / "manifest.json").is_file() and not aside.exists()
    # killed after the new output was in place: the old one is removed
    aside.mkdir()
    clean_abandoned(tmp_path)
    assert not aside.exists() and (tmp_path / "corpus" / "manifest.json").is_file()
    # one whose process still runs is not touched
    live = tmp_path / f".other.old-{os.getpid()}"
    live.mkdir()
    clean_abandoned(tmp_path)
    assert live.is_dir() and not (tmp_path / "other").exists()


def test_a_killed_generate_leaves_nothing_after_the_next_one(tmp_path):
    """The command itself: generate killed while writing, then run again."""
    out = tmp_path / "ci"
    cmd = [sys.executable, "-m", "bench.cli.main", "generate", str(ROOT / "corpora" / "ci.yaml"),
           "--out", str(out), "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".ci.partial-*")) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    p.kill()
    p.wait()
    assert list(tmp_path.glob(".ci.partial-*")), "generate finished before it could be killed"
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ci"]


def test_a_writer_killed_before_its_folder_existed_leaves_only_an_owner_file_which_goes(tmp_path):
    """The owner file is made first: a kill before the folder exists leaves that file alone,
    unlocked, and the next writer removes it."""
    lone = tmp_path / f".corpus.partial-x1y2z3{OWNER}"
    lone.write_text('{"writer": "polebench"}')
    with atomic_dir(tmp_path / "corpus") as new:
        (new / "f").write_text("1")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["corpus"]
