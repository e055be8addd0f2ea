"""The command line as a user meets it: --help everywhere, and the whole pipeline on a small corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli.main import SUBCOMMANDS, main
from bench.corpus.store import Corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_every_subcommand_explains_itself(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([{"importer": "import"}.get(cmd, cmd.replace("_", "-")), "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: polebench" in out and len(out) > 200


def test_a_command_loads_its_own_module_only():
    """`polebench generate` imports the generate command, not every command's stack (about 150 MB
    of polars, tantivy, run and report, held by generate's process and its forked workers)."""
    code = ("import sys\nfrom bench.cli.main import main\ntry:\n    main(['generate', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith('bench.cli.')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    loaded = r.stdout.strip().splitlines()[-1]
    assert "'bench.cli.generate'" in loaded
    assert "'bench.cli.run'" not in loaded and "'bench.cli.importer'" not in loaded, loaded


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "SYNTHETIC" in capsys.readouterr().out


def test_pipeline_generate_queries_run_report_gate(tmp_path):
    spec = (ROOT / "corpora" / "ci.yaml").read_text().replace("name: ci", "name: smoke") \
        .replace("records: 20000", "records: 6000").replace("events: 9000", "events: 3000")
    (tmp_path / "smoke.yaml").write_text(spec)
    env_py = [sys.executable, "-m", "bench.cli.main"]
    def call(*args):
        r = subprocess.run(env_py + list(args), cwd=tmp_path, capture_output=True, text=True,
                           env={"CI": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                # the tree under test, not whichever one the venv installed
                                "PYTHONPATH": str(ROOT)})
        assert r.returncode == 0, r.stderr
        return r.stdout
    assert "records per source system" in call("generate", "smoke.yaml")
    out = call("queries", str(ROOT / "queries" / "standard.yaml"), "--corpus", "smoke", "--coverage")
    assert "relevant records per query" in out and "capabilities exercised" in out
    assert "person.forename" in out and "nickname" in out
    out = call("demo", "--spec", "smoke.yaml", "--queries", str(ROOT / "queries" / "standard.yaml"))
    assert "report:" in out and "SYNTHETIC" in out
    run_dir = next((tmp_path / "results").glob("standard-smoke-embedded-*"))
    assert (run_dir / "report.html").is_file() and (run_dir / "report.md").is_file()
    call("gate", str(run_dir), "--gates", str(ROOT / "gates.example.yaml"))
    assert (tmp_path / "results" / "audit.jsonl").read_text().count('"event": "run"') == 1


def test_demo_remakes_a_corpus_from_an_older_generator(tmp_path):
    import json

    from bench.cli.demo import ensure_corpus
    spec = (ROOT / "corpora" / "ci.yaml").read_text().replace("name: ci", "name: old") \
        .replace("records: 20000", "records: 2000").replace("events: 9000", "events: 1000")
    path = tmp_path / "old.yaml"
    path.write_text(spec)
    first = ensure_corpus(path)
    manifest = first.root / "manifest.json"
    m = json.loads(manifest.read_text())
    assert ensure_corpus(path).checksum == first.checksum  # current: reused
    m["generator_version"] = "0.0.1"
    manifest.write_text(json.dumps(m))
    again = ensure_corpus(path)
    assert again.manifest.generator_version != "0.0.1"  # stale: generated again


def test_import_prints_where_the_records_came_from(tmp_path, capsys):
    src = tmp_path / "people.csv"
    src.write_text("rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number\n"
                   "rec-1-org,william,smith,19850304,12,high street,,hackney,E8 1AB,\n"
                   "rec-1-dup-0,bill,smith,19850304,12,high st,,hackney,E8 1AB,\n")
    mapping = ROOT / "corpora" / "import-example.yaml"
    assert main(["import", str(src), "--map", str(mapping), "--name", "t", "--out", str(tmp_path / "t")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Febrl-style synthetic person records" in out and "seed None" not in out
    assert "corruptions applied" not in out and "true entities: 1 people, 2 addresses" in out
    with open(src, "a") as f:
        f.write("rec-2-org,jo,price,19921315,,,,,,\n")
    assert main(["import", str(src), "--map", str(mapping), "--name", "t", "--out", str(tmp_path / "t")]) == 2
    assert "row 4: column date_of_birth" in capsys.readouterr().err
    assert Corpus(tmp_path / "t").manifest.counts["records"] == 2  # the earlier import is kept whole


def test_imported_records_through_the_shipped_set_as_the_readme_says(tmp_path, capsys):
    # 40 people, three rows each: the original, a surname typo, and one with no phone and a
    # different house number; every fourth person's rows give no date of birth
    rows = ["rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number"]
    for e in range(40):
        dob = "" if e % 4 == 3 else f"19{60 + e}0{e % 9 + 1}1{e % 9}"
        sur = f"surname{e % 25}"
        rows += [f"rec-{e}-org,name{e % 13},{sur},{dob},{e},street{e},,suburb{e % 5},E{e % 9} 1AB,0770090{e:04d}",
                 f"rec-{e}-dup-1,name{e % 13},{sur[:-1]}x,{dob},{e},street{e},,suburb{e % 5},E{e % 9} 1AB,0770090{e:04d}",
                 f"rec-{e}-dup-2,name{e % 13},{sur},{dob},{e + 1},street{e},,suburb{e % 5},E{e % 9} 1AB,"]
    src = tmp_path / "people.csv"
    src.write_text("\n".join(rows) + "\n")
    corpus, res = tmp_path / "febrl", tmp_path / "results"
    assert main(["import", str(src), "--map", str(ROOT / "corpora" / "import-example.yaml"), "--name", "febrl",
                 "--out", str(corpus)]) == 0
    assert main(["queries", str(ROOT / "queries" / "imported.yaml"), "--corpus", str(corpus)]) == 0
    assert main(["run", "--corpus", str(corpus), "--queries", str(ROOT / "queries" / "imported.yaml"),
                 "--results", str(res)]) == 0
    (run_dir,) = [d for d in res.iterdir() if d.is_dir()]
    assert main(["report", str(run_dir)]) == 0
    md = (run_dir / "report.md").read_text()
    assert "55 needs" in md and "SYNTHETIC" in md


def test_progress_in_a_log_is_a_line_every_few_seconds_with_stage_count_and_rate():
    import io

    from bench.cli.common import LogProgress
    now = [100.0]
    out = io.StringIO()
    p = LogProgress("profile iip", 435, every=5.0, clock=lambda: now[0], out=out)
    for _ in range(40):  # 40 needs, one every half second: a line at 5 s, 10 s, 15 s, 20 s
        now[0] += 0.5
        p(1)
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["profile iip: 10/435, 2/s", "profile iip: 20/435, 2/s"]
    assert len(lines) == 5 and lines[-1] == "profile iip: 40/435, 2/s - done in 20.0 s"
    cached = io.StringIO()
    LogProgress("indexing", 20000, clock=lambda: 0.0, out=cached).close()
    assert cached.getvalue() == "indexing: nothing to do (reused)\n"  # not a bar stuck at 0/20000


def test_demo_leaves_the_reference_out_only_where_the_backend_cannot_run_it():
    """`demo --backend opensearch` used to generate the corpus and then be refused, because the
    demo's profiles always held the reference, which needs entity resolution (Resolve)."""
    from bench.cli.demo import demo_profiles
    shipped = "crimint,connect,iip,connect+iip,iip-naive,connect+iip-naive"
    assert demo_profiles("embedded") == shipped + ",reference"
    assert demo_profiles("opensearch") == shipped
