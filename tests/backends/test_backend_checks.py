"""What a backend needs of a run is checked by the backend itself (Backend.check_run, reached
through the registry), before the query set is instantiated or anything runs: the commands hold
no backend's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.backends import registry
from bench.backends.embedded import EmbeddedBackend
from bench.cli.main import main
from bench.errors import PolebenchError

ROOT = Path(__file__).resolve().parents[2]
SEEN: list[tuple[dict, list[str]]] = []


class Refusing(EmbeddedBackend):
    """A backend registered by a test: it refuses every run, saying what it was given."""

    NAME = "refusing"

    @classmethod
    def check_run(cls, options, profiles) -> None:
        SEEN.append((dict(options), list(profiles)))
        raise PolebenchError(f"refusing backend: options {sorted(options)}, profiles {profiles}")


@pytest.fixture
def refusing(monkeypatch):
    SEEN.clear()
    monkeypatch.setitem(registry.BACKENDS, "refusing", (__name__, "Refusing", "nothing to install"))


def test_a_registered_backend_checks_the_run_before_the_query_set_is_instantiated(ci_corpus, tmp_path, write,
                                                                                   refusing, capsys):
    qset = write("fresh-set.yaml", (ROOT / "queries" / "example-written.yaml").read_text()
                 .replace("name: example-written", "name: never-instantiated"))
    config = write("engine.yaml", "anything: 1\n")
    code = main(["run", "--corpus", str(ci_corpus.root), "--queries", str(qset), "--backend", "refusing",
                 "--profiles", "crimint,iip", "--opensearch-url", "http://127.0.0.1:9",
                 "--backend-config", str(config), "--results", str(tmp_path / "r")])
    assert code == 2
    assert "refusing backend: options ['config', 'url'], profiles ['crimint', 'iip']" in capsys.readouterr().err
    assert SEEN == [({"url": "http://127.0.0.1:9", "config": str(config)}, ["crimint", "iip"])]
    assert not (ci_corpus.root / "queries" / "never-instantiated").exists()
    assert not (tmp_path / "r").exists()


def test_sar_asks_the_backend_before_choosing_subjects(ci_corpus, tmp_path, refusing, capsys):
    before = sorted((ci_corpus.root / "queries").glob("sar-*"))
    code = main(["sar", "--corpus", str(ci_corpus.root), "--backend", "refusing", "--subjects", "3",
                 "--profiles", "crimint,connect", "--results", str(tmp_path / "r")])
    assert code == 2
    assert "refusing backend: options [], profiles ['crimint', 'connect']" in capsys.readouterr().err
    assert sorted((ci_corpus.root / "queries").glob("sar-*")) == before


def test_sar_on_a_backend_that_needs_a_config_file_is_refused_before_anything_is_written(ci_corpus, tmp_path,
                                                                                         capsys):
    before = sorted((ci_corpus.root / "queries").glob("sar-*"))
    assert main(["sar", "--corpus", str(ci_corpus.root), "--backend", "http", "--subjects", "3", "--seed", "7",
                 "--results", str(tmp_path / "r")]) == 2
    assert "--backend http needs --backend-config" in capsys.readouterr().err
    assert sorted((ci_corpus.root / "queries").glob("sar-*")) == before


def test_a_backend_that_reads_no_config_file_refuses_one():
    with pytest.raises(PolebenchError, match="--backend-config a.yaml: backend 'embedded' reads no config file"):
        EmbeddedBackend.check_run({"config": "a.yaml"}, ["crimint"])
    EmbeddedBackend.check_run({"url": "http://127.0.0.1:9200"}, ["crimint"])  # nothing else is its concern


def test_erase_cleanup_asks_the_chosen_backends_copy_for_its_orphans(ci_corpus, tmp_path, monkeypatch, capsys):
    from bench.access import erase as E
    asked: list[tuple] = []

    class FakeCopy:
        @staticmethod
        def orphans(corpus, url, claimed):
            asked.append((corpus.name, url, claimed))
            return ["deleted fake copy x-erase-old (an erasure copy no erasure here claims)"]
    monkeypatch.setitem(E.COPIES, "fake", FakeCopy)
    assert main(["erase", "--corpus", str(ci_corpus.root), "--cleanup", "--backend", "fake",
                 "--opensearch-url", "http://127.0.0.1:9", "--results", str(tmp_path)]) == 0
    assert "deleted fake copy x-erase-old" in capsys.readouterr().out
    assert asked == [(ci_corpus.name, "http://127.0.0.1:9", set())]
    assert main(["erase", "--corpus", str(ci_corpus.root), "--cleanup", "--results", str(tmp_path)]) == 0
    assert len(asked) == 1  # embedded: its copies are its work folders only


def test_the_commands_name_no_backend():
    """Backend-specific rules live behind Backend.check_run and the erasure's COPIES; no command
    compares a backend's name."""
    for path in (ROOT / "bench" / "cli").glob("*.py"):
        text = path.read_text()
        for name in registry.BACKENDS:
            assert f'== "{name}"' not in text and f"== '{name}'" not in text, (path.name, name)
