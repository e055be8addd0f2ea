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
