"""Exit codes mean one thing each: 1 is only ever a failed gate, a crash has its own code and
says where its traceback went, and credentials given in a URL never reach a message or a file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import bench.cli.gate
from bench.cli.main import CRASH_EXIT, main
from bench.redact import redact
from bench.run import audit

ROOT = Path(__file__).resolve().parents[1]


def test_an_uncaught_error_is_not_exit_1_and_names_its_traceback_file(monkeypatch, tmp_path, capsys):
    def boom(args):
        raise ZeroDivisionError("deep inside")
    monkeypatch.setattr(bench.cli.gate, "run", boom)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    code = main(["gate", "x", "--gates", "y"])
    err = capsys.readouterr().err
    assert code == CRASH_EXIT and code not in (0, 1, 2, 3)
    assert len(err.strip().splitlines()) == 1 and "ZeroDivisionError: deep inside" in err
    where = Path(re.search(r"full traceback: (\S+);", err).group(1))
    assert where.parent == tmp_path and "in boom" in where.read_text()


def test_redact_hides_user_and_password_of_every_url():
    assert redact("--opensearch-url http://u:p@ss@h:9200/x and https://tok@e.org") == \
        "--opensearch-url http://***@h:9200/x and https://***@e.org"
    assert redact("http://127.0.0.1:9200 a@b.c") == "http://127.0.0.1:9200 a@b.c"


def test_the_audit_log_never_holds_credentials(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["polebench", "run", "--opensearch-url", "http://admin:s3cret@h:9200"])
    audit.append(tmp_path / "audit.jsonl", "run")
    line = json.loads((tmp_path / "audit.jsonl").read_text())
    assert "s3cret" not in json.dumps(line) and line["command"].endswith("http://***@h:9200")


def test_credentials_in_the_engine_url_are_refused_without_echoing_them(ci_corpus, capsys):
    pytest.importorskip("opensearchpy")
    code = main(["run", "--corpus", str(ci_corpus.root), "--backend", "opensearch",
                 "--queries", str(ROOT / "queries" / "example-written.yaml"),
                 "--opensearch-url", "http://admin:s3cret@127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2 and "s3cret" not in err and "POLEBENCH_OPENSEARCH_PASSWORD" in err


def test_a_run_with_failed_searches_exits_3_and_its_table_says_incomplete(ci_corpus, tmp_path, failing_search,
                                                                          capsys):
    failing_search(lambda n: n == 2)
    code = main(["run", "--corpus", str(ci_corpus.root), "--queries", str(ROOT / "queries" / "example-written.yaml"),
                 "--results", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 3 and "INCOMPLETE RUN: 1 search failed" in out and "--resume" in out


def test_a_file_the_machine_refuses_is_named_not_a_crash(tmp_path, capsys):
    code = main(["generate", str(ROOT / "corpora" / "ci.yaml"), "--out", "/proc/no-such-folder/ci"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "polebench: error: /proc/no-such-folder: No such file or directory"


def test_a_reader_that_leaves_the_pipe_is_not_a_crash(monkeypatch, capsys):
    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(bench.cli.gate, "run", closed)
    assert main(["gate", "x", "--gates", "y"]) == 141
    assert "internal error" not in capsys.readouterr().err


def test_an_option_argparse_refuses_never_echoes_credentials(capsys):
    with pytest.raises(SystemExit) as e:  # sar takes no --opensearch-url: argparse quotes what it was given
        main(["sar", "--corpus", "x", "--opensearch-url", "http://admin:s3cret@h:9200"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "s3cret" not in err
    assert "unrecognized arguments: --opensearch-url http://***@h:9200" in err
