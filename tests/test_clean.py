"""polebench clean (and so `make clean`) removes the corpora and runs polebench wrote, and keeps the
search audit log and every file or folder of the user's, even one beside them or inside them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.cli.main import main
from bench.corpus.generate import generate, load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_clean_removes_what_polebench_wrote_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = (ROOT / "corpora" / "ci.yaml").read_text().replace("name: ci", "name: tiny") \
        .replace("records: 20000", "records: 2000").replace("events: 9000", "events: 1000")
    (tmp_path / "corpora").mkdir()
    (tmp_path / "corpora" / "tiny.yaml").write_text(spec)
    generate(load_spec(tmp_path / "corpora" / "tiny.yaml"), tmp_path / "corpora" / "tiny")
    assert main(["run", "--corpus", "corpora/tiny", "--queries", str(ROOT / "queries" / "person.yaml"),
                 "--profiles", "crimint"]) == 0
    [run_dir] = [d for d in (tmp_path / "results").iterdir() if d.is_dir()]
    audit = (tmp_path / "results" / "audit.jsonl").read_bytes()
    assert audit  # the run audited its searches
    # the user's own things: raw files waiting for import, a note in a copy of a run, a corpus
    # folder they added a file to
    (tmp_path / "corpora" / "raw").mkdir()
    (tmp_path / "corpora" / "raw" / "people.csv").write_text("rec_id\n1\n")
    shutil.copytree(run_dir, tmp_path / "results" / "annotated")
    (tmp_path / "results" / "annotated" / "my-notes.txt").write_text("for the SIO")
    shutil.copytree(tmp_path / "corpora" / "tiny", tmp_path / "corpora" / "tiny-mine")
    (tmp_path / "corpora" / "tiny-mine" / "README").write_text("mine")

    assert main(["clean", "--dry-run"]) == 0
    assert (tmp_path / "corpora" / "tiny").is_dir() and run_dir.is_dir()

    assert main(["clean"]) == 0
    assert not (tmp_path / "corpora" / "tiny").exists() and not run_dir.exists()
    assert (tmp_path / "corpora" / "tiny.yaml").is_file()
    assert (tmp_path / "corpora" / "raw" / "people.csv").read_text() == "rec_id\n1\n"
    assert (tmp_path / "results" / "annotated" / "my-notes.txt").is_file()
    assert (tmp_path / "results" / "annotated" / "run.json").is_file()
    assert (tmp_path / "corpora" / "tiny-mine" / "README").is_file()
    assert (tmp_path / "results" / "audit.jsonl").read_bytes() == audit


def test_clean_removes_a_killed_runs_partial_folder_and_the_locks_but_not_a_run_in_progress(tmp_path, monkeypatch,
                                                                                            failing_search):
    from bench.run.store import partial_dir, run_lock
    monkeypatch.chdir(tmp_path)
    spec = (ROOT / "corpora" / "ci.yaml").read_text().replace("name: ci", "name: tiny") \
        .replace("records: 20000", "records: 2000").replace("events: 9000", "events: 1000")
    (tmp_path / "tiny.yaml").write_text(spec)
    generate(load_spec(tmp_path / "tiny.yaml"), tmp_path / "corpora" / "tiny")
    failing_search(lambda n: n == 5, KeyboardInterrupt())  # stopped half way, as a kill stops it
    assert main(["run", "--corpus", "corpora/tiny", "--queries", str(ROOT / "queries" / "person.yaml"),
                 "--profiles", "crimint"]) == 130
    [killed] = (tmp_path / "results").glob(".partial-*")
    assert any(killed.iterdir()) and list((tmp_path / "results").glob(".lock-*"))
    going = partial_dir(tmp_path / "results", "other-run")  # another process's run, still going
    with run_lock(tmp_path / "results", "other-run"):
        going.mkdir()
        (going / "crimint.jsonl").write_text("")
        assert main(["clean"]) == 0
        assert not killed.exists() and going.is_dir()
        assert [p.name for p in (tmp_path / "results").glob(".lock-*")] == [".lock-other-run"]


def test_a_run_lock_whose_file_clean_removed_meanwhile_is_taken_again_on_the_new_file(tmp_path, monkeypatch):
    """Two processes never hold one run through two files of one name: a lock won on a file that
    clean unlinked between the open and the lock is let go, and the file opened again."""
    import fcntl
    import os
    from bench.run import store
    real, calls = fcntl.flock, []

    def flock(f, op):
        calls.append(f)
        if len(calls) == 1:
            os.unlink(tmp_path / ".lock-r")  # clean, between this process's open and its lock
        return real(f, op)
    monkeypatch.setattr(store.fcntl, "flock", flock)
    with store.run_lock(tmp_path, "r"):
        assert len(calls) == 2 and (tmp_path / ".lock-r").read_text() == str(os.getpid())
