"""The run end to end on the ci corpus: results on disk, agreement with ir_measures reading the
exported TREC files, resume after an interruption, a failing query, the audit log."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import ir_measures
import pytest

from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]


@pytest.fixture(scope="module")
def instance(ci_corpus):
    out = instance_dir(ci_corpus, "standard")
    write_instance(out, instantiate(ROOT / "queries" / "standard.yaml", ci_corpus))
    return out


def settings(ci_corpus, instance, results: Path, **kw) -> RunSettings:
    return RunSettings(corpus=ci_corpus.root, instance=instance, profiles=PROFILES, results=results, **kw)


@pytest.fixture(scope="module")
def finished(ci_corpus, instance, tmp_path_factory):
    return run_benchmark(settings(ci_corpus, instance, tmp_path_factory.mktemp("results")))


def _rows(d: Path) -> list[dict]:
    with open(d / "per_query.csv") as f:
        return list(csv.DictReader(f))


def test_results_folder(finished):
    d = finished.dir
    for f in ("run.json", "per_query.csv", "qrels.txt", *(f"runs/{p}.run" for p in PROFILES)):
        assert (d / f).is_file(), f
    run = json.loads((d / "run.json").read_text())
    assert run["synthetic"] is True and run["baseline"] == "crimint"
    assert run["inputs"]["corpus_checksum"] and run["versions"]["tantivy"]
    assert set(run["aggregates"]["profiles"]) == set(PROFILES)
    assert len(_rows(d)) == 4 * run["query_set"]["queries"]
    assert not list(d.parent.glob(".partial-*"))


def test_measures_agree_with_ir_measures_on_the_exported_files(finished):
    d = finished.dir
    qrels = list(ir_measures.read_trec_qrels(str(d / "qrels.txt")))
    rows = {(r["profile"], r["qid"]): r for r in _rows(d)}
    measures = {"precision": ir_measures.SetP, "recall": ir_measures.SetR, "f1": ir_measures.SetF,
                "ap": ir_measures.AP, "ndcg_at_10": ir_measures.nDCG @ 10, "p_at_10": ir_measures.P @ 10,
                "r_at_100": ir_measures.R @ 100}
    checked = 0
    for p in PROFILES:
        run = list(ir_measures.read_trec_run(str(d / "runs" / f"{p}.run")))
        for m in ir_measures.iter_calc(list(measures.values()), qrels, run):
            name = next(k for k, v in measures.items() if v == m.measure)
            row = rows[(p, m.query_id)]
            if name == "precision" and float(row["volume"]) == 0:
                # undefined where nothing was returned; ir_measures, like trec_eval -c, says 0
                assert row["precision"] == "" and m.value == 0
                continue
            assert float(row[name]) == pytest.approx(m.value, abs=1e-9)
            checked += 1
    assert checked > 1000


def test_inflation_of_the_baseline_is_one_and_union_at_least_connect(finished):
    agg = finished.run.aggregates.profiles
    assert agg["crimint"].inflation.ratio_of_totals.value == pytest.approx(1.0)
    assert agg["connect+iip"].volume_total >= agg["connect"].volume_total
    assert agg["connect+iip"].volume_total >= agg["iip"].volume_total


def test_finished_run_is_reused(ci_corpus, instance, finished):
    again = run_benchmark(settings(ci_corpus, instance, finished.dir.parent))
    assert again.reused and again.dir == finished.dir


def _comparable(d: Path) -> list[tuple]:
    return [tuple(v for k, v in r.items() if k != "latency_ms") for r in _rows(d)]


def test_resume_after_interruption_gives_the_same_results(ci_corpus, instance, finished, tmp_path, monkeypatch):
    from bench.backends import base
    real = base.Backend.search
    calls = {"n": 0}

    def flaky(self, plan, *args):
        calls["n"] += 1
        if calls["n"] == 300:
            raise KeyboardInterrupt
        return real(self, plan, *args)
    monkeypatch.setattr(base.Backend, "search", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    assert not list(tmp_path.glob("standard-*")) and list(tmp_path.glob(".partial-*"))
    monkeypatch.setattr(base.Backend, "search", real)
    with pytest.raises(Exception, match="--resume"):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    resumed = run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))
    assert _comparable(resumed.dir) == _comparable(finished.dir)


def test_a_run_killed_between_recording_a_search_and_logging_it_still_audits_it(ci_corpus, instance, finished,
                                                                                  tmp_path, monkeypatch):
    """A search recorded is not searched again on --resume, so its audit line must be written
    before it is recorded: killed in between, the audit log lost that search for good (seen as a
    flaky `test_two_runs_at_once`)."""
    from bench.run import store
    real = store.PartialWriter.add
    calls = {"n": 0}

    def killed_after(self, row, rnums):
        out = real(self, row, rnums)
        calls["n"] += 1
        if calls["n"] == 100:
            raise KeyboardInterrupt
        return out
    monkeypatch.setattr(store.PartialWriter, "add", killed_after)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    monkeypatch.setattr(store.PartialWriter, "add", real)
    resumed = run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))
    audited = {(e["profile"], e["need"]) for e in map(json.loads, (resumed.dir / "audit.jsonl").read_text().splitlines())
               if e.get("event") == "search"}
    want = {(e["profile"], e["need"]) for e in map(json.loads, (finished.dir / "audit.jsonl").read_text().splitlines())
            if e.get("event") == "search"}
    assert len(want) > 100 and audited == want


def test_a_run_killed_after_writing_its_results_leaves_nothing_once_run_again(ci_corpus, instance, finished,
                                                                               tmp_path, monkeypatch):
    """Killed between writing the results and removing its work in progress, a run left a hidden
    partial folder that the next run (which finds the results and reuses them) never removed."""
    import shutil

    from bench.run import runner
    real = shutil.rmtree

    def killed(path, *a, **kw):
        if Path(path).name.startswith(".partial-"):
            raise KeyboardInterrupt
        return real(path, *a, **kw)
    monkeypatch.setattr(runner.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    monkeypatch.setattr(runner.shutil, "rmtree", real)
    assert list(tmp_path.glob(".partial-*"))  # the kill landed where it was meant to
    again = run_benchmark(settings(ci_corpus, instance, tmp_path))
    assert again.reused and _comparable(again.dir) == _comparable(finished.dir)
    assert not list(tmp_path.glob(".partial-*"))
    # and the run's line in the results folder's audit log was written before the kill, not lost with it
    logged = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e["run_id"] for e in logged if e["event"] == "run"] == [again.dir.name]


def test_a_run_killed_before_releasing_its_results_folder_leaves_nothing_once_run_again(ci_corpus, instance, finished,
                                                                                         tmp_path, monkeypatch):
    """Killed after its results folder was moved in, before the claim it was written under was
    released: the claim's owner file stayed for good, since the next run reuses the results and
    never writes a folder there (what clears a dead writer's leftovers)."""
    import os

    from bench.corpus import store
    real = store.release

    def killed(folder, fd):
        os.close(fd)  # a killed process's lock goes with it; the owner file stays
        raise KeyboardInterrupt
    monkeypatch.setattr(store, "release", killed)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    monkeypatch.setattr(store, "release", real)
    assert list(tmp_path.glob(".*.owner"))  # the kill landed where it was meant to
    again = run_benchmark(settings(ci_corpus, instance, tmp_path))
    assert again.reused and _comparable(again.dir) == _comparable(finished.dir)
    # the run's line in the audit log, written before its results were moved in
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock-")) == ["audit.jsonl",
                                                                                                again.dir.name]


# The first need's searches: crimint, connect, iip, connect+iip, then the narrowing twins
# iip~narrows and connect+iip~narrows.
@pytest.mark.parametrize("nth, rows_with_errors", [(3, 1), (5, 0)], ids=["a profile's", "a twin's"])
def test_a_failing_query_is_recorded_and_the_run_goes_on(ci_corpus, instance, tmp_path, monkeypatch,
                                                         nth, rows_with_errors):
    """A twin's failed search shows in no row, but it is counted: the run is not complete until
    --resume has searched it again."""
    from bench.backends import base
    real = base.Backend.search
    state = {"n": 0}

    def broken(self, plan, *args):
        state["n"] += 1
        if state["n"] == nth:
            raise RuntimeError("engine hiccup")
        return real(self, plan, *args)
    monkeypatch.setattr(base.Backend, "search", broken)
    res = run_benchmark(settings(ci_corpus, instance, tmp_path))
    assert res.failed == 1
    errs = [r for r in _rows(res.dir) if r["error"]]
    assert len(errs) == rows_with_errors and all("engine hiccup" in e["error"] for e in errs)
    monkeypatch.setattr(base.Backend, "search", real)
    fixed = run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))
    assert fixed.failed == 0 and not fixed.reused


def test_audit_line_per_run(finished):
    lines = (finished.dir.parent / "audit.jsonl").read_text().splitlines()
    entry = json.loads(lines[-1])
    assert entry["event"] == "run" and entry["user"] and entry["corpus_checksum"]
    assert entry["profiles"] == PROFILES and entry["backend"] == "embedded"


def test_reformulating_readers_read_narrowing_twins_that_no_table_shows(finished):
    """The shipped behaviour samples reformulation: IIP-like and the union are searched a second
    time the narrowing way, every such search audited, and no table, run file or row shows them."""
    d = finished.dir
    beh = json.loads((d / "run.json").read_text())["aggregates"]["behaviour"]
    assert beh["reformulating"] == ["connect+iip", "iip"] and beh["narrow_above"] == 200
    assert set(beh["profiles"]) == set(PROFILES)
    assert sorted(p.name for p in (d / "runs").iterdir()) == sorted(f"{p}.run" for p in PROFILES)
    searched = [json.loads(line) for line in (d / "audit.jsonl").read_text().splitlines()]
    twin = [e for e in searched if e["profile"] == "iip~narrows"]
    assert len(twin) == len({e["need"] for e in searched})  # one per need, each audited
    assert any(e["searches"] > 1 for e in twin)  # narrowed: a criterion added and searched again
    assert {r["profile"] for r in _rows(d)} == set(PROFILES)
    collapses = json.loads((d / "run.json").read_text())["aggregates"]["collapses"]
    assert collapses and {c["profile"] for c in collapses} <= set(PROFILES)  # the twins were listed there


def test_a_backend_that_cannot_run_a_profile_is_refused_before_any_search(ci_corpus, instance, tmp_path, monkeypatch):
    """bm25-ref runs free text only: a run asking it for CRIMINT-like plans used to search every
    need, fail every search and exit 0. It is refused before an index is built or a search made,
    naming the profile, the backend and the node kinds it lacks; IIP-like alone still runs."""
    from bench.backends import base
    from bench.errors import PolebenchError

    def never(*args, **kw):
        raise AssertionError("a search or an index build was attempted")
    monkeypatch.setattr(base.Backend, "search", never)
    monkeypatch.setattr(base.Backend, "prepare", never)
    s = RunSettings(corpus=ci_corpus.root, instance=instance, profiles=["crimint", "iip"], backend="bm25-ref",
                    results=tmp_path)
    with pytest.raises(PolebenchError) as e:
        run_benchmark(s)
    msg = str(e.value)
    assert e.value.exit_code in (2, 3)
    assert "'crimint'" in msg and "'bm25-ref'" in msg and "Intersect" in msg and "Term" in msg
    assert "'iip'" not in msg.split("\n")[0] and "profile 'iip'" not in msg
    assert not list(tmp_path.iterdir())  # nothing written: no partial folder, no audit line


def test_a_run_held_by_another_process_is_refused_untouched(ci_corpus, instance, finished, tmp_path):
    from bench.run.store import RunBusy, run_lock
    with run_lock(tmp_path, finished.dir.name):
        with pytest.raises(RunBusy, match="another polebench process"):
            run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".lock-{finished.dir.name}"]


def test_a_truncated_run_json_is_named_with_how_to_start_again(ci_corpus, instance, finished, tmp_path):
    import shutil

    from bench.errors import SpecError
    shutil.copytree(finished.dir, tmp_path / finished.dir.name)
    run_json = tmp_path / finished.dir.name / "run.json"
    run_json.write_bytes(run_json.read_bytes()[:500])
    with pytest.raises(SpecError, match=r"run\.json: not valid JSON .*--force"):
        run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))


def test_a_dead_engine_stops_the_run_early_and_resume_gives_the_same_results(ci_corpus, instance, finished, tmp_path,
                                                                           monkeypatch, failing_search):
    from bench.backends import base
    from bench.errors import Unreachable
    from bench.run.runner import BREAKER_FAILURES
    real = base.Backend.search
    # the node is killed after 100 searches
    calls = failing_search(lambda n: n > 100, Unreachable("opensearch at http://127.0.0.1:9 is not reachable (search)"))
    with pytest.raises(Unreachable, match=r"stopped after 3 searches in a row .* 100 of \d+ searches are done .*"
                                          r"--resume"):
        run_benchmark(settings(ci_corpus, instance, tmp_path))
    assert calls["n"] == 100 + BREAKER_FAILURES
    assert not list(tmp_path.glob("standard-*")), "no results from an incomplete run"
    monkeypatch.setattr(base.Backend, "search", real)
    resumed = run_benchmark(settings(ci_corpus, instance, tmp_path, resume=True))
    assert resumed.failed == 0 and _comparable(resumed.dir) == _comparable(finished.dir)


def test_run_json_is_the_results_model_written_whole(finished):
    """The runner writes run.json as the typed model dumps it, so what report, gates and sweep read
    back is, field for field, what was written; the shipped JSON Schema accepts it."""
    import jsonschema

    from bench.run.results import read_results

    d = finished.dir
    back = read_results(d)
    assert back == finished.run.model_validate(json.loads((d / "run.json").read_text()))
    on_disk = json.loads((d / "run.json").read_text())
    assert json.loads(json.dumps(back.dump())) == on_disk
    schema = json.loads((ROOT / "docs" / "schema" / "run.schema.json").read_text())
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(on_disk))
    # a figure read through the model is the file's
    assert back.profile("connect").mean["recall"].value == \
        on_disk["aggregates"]["profiles"]["connect"]["mean"]["recall"]["value"]


@pytest.mark.parametrize("damage, field", [
    (lambda r: r["aggregates"]["profiles"]["crimint"]["mean"].pop("recall"), "aggregates.profiles.crimint.mean"),
    (lambda r: r["aggregates"]["profiles"]["iip"].update(queries="many"), "aggregates.profiles.iip.queries"),
    (lambda r: r["aggregates"]["profiles"]["connect"]["inflation"].pop("ratio_of_totals"),
     "aggregates.profiles.connect.inflation.ratio_of_totals"),
    (lambda r: r["profiles"].pop("connect"), "profiles (connect+iip, crimint, iip) are not the profile_order's"),
    (lambda r: r.pop("query_set"), "query_set"),
    (lambda r: r["aggregates"]["profiles"]["crimint"]["by_kind"]["person"].update(volume_totl=3),
     "aggregates.profiles.crimint.by_kind.person.volume_totl"),
])
def test_a_damaged_run_json_is_refused_naming_file_and_field(finished, tmp_path, capsys, damage, field):
    """A run.json edited or written by another version: report, gate and explorer say which file and
    field and how to start again (exit 2), instead of a KeyError deep in a renderer."""
    import shutil

    from bench.cli.main import main

    d = tmp_path / "run"
    shutil.copytree(finished.dir, d)
    run = json.loads((d / "run.json").read_text())
    damage(run)
    (d / "run.json").write_text(json.dumps(run))
    assert main(["report", str(d)]) == 2
    assert main(["gate", str(d), "--gates", str(ROOT / "gates.example.yaml")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.count(f"{d / 'run.json'}: {field}") == 2 and "--force" in err
    assert not (d / "report.md").exists()


def test_a_backend_is_given_each_needs_plans_before_they_are_searched(ci_corpus, instance, tmp_path, monkeypatch):
    """Backend.begin_need receives every profile's plan of a need before the first of them is
    searched (a server backend reads what they share once), and nothing once the needs are done."""
    from bench.backends.base import Backend
    from bench.backends.embedded import EmbeddedBackend
    events: list[tuple] = []
    search = Backend.search

    def begin(self, plans):
        events.append(("begin", self.context.get("need"), tuple(plans)))

    def searched(self, plan, known=None):
        events.append(("search", self.context["need"], plan))
        return search(self, plan, known)
    monkeypatch.setattr(EmbeddedBackend, "begin_need", begin)
    monkeypatch.setattr(Backend, "search", searched)
    run_benchmark(RunSettings(corpus=ci_corpus.root, instance=instance, profiles=["crimint", "iip"], results=tmp_path))
    begins = [e for e in events if e[0] == "begin"]
    assert begins[-1][2] == ()  # released once the needs are done
    assert len(begins) - 1 == len({e[1] for e in begins[:-1]}) > 10  # once a need
    assert all(len(e[2]) >= 2 for e in begins[:-1])  # crimint's and iip's plans (and any twin's)
    current = None
    for kind, qid, what in events[:-1]:
        if kind == "begin":
            current = (qid, what)
        else:
            assert current is not None and current[0] == qid and what in current[1], (qid, what)
    assert sum(e[0] == "search" for e in events) >= 2 * (len(begins) - 1)


def test_each_profile_is_compiled_once_a_need_in_each_pass_unions_sharing_their_members_plans(
        ci_corpus, shipped_instance, tmp_path, monkeypatch):
    """A union's members are the plans compiled for those profiles, not compiled again for every
    union holding them: connect, a member of two unions, is compiled at most once a need in each
    pass over the needs, as crimint, a member of none, is (refusing what the backend cannot run,
    preparing the index, searching, and, where a profile missed records, saying what excluded them)."""
    from collections import Counter

    from bench.profiles import compile as C
    calls: Counter = Counter()
    for kind, rule in list(C.KINDS.items()):
        def counted(need, profile, profiles, rule=rule):
            calls[profile.name, need.id] += 1
            return rule(need, profile, profiles)
        monkeypatch.setitem(C.KINDS, kind, counted)
    names = ["crimint", "connect", "iip", "connect+iip", "iip-naive", "connect+iip-naive"]
    run_benchmark(RunSettings(corpus=ci_corpus.root, instance=shipped_instance(ci_corpus, "vehicle"), profiles=names,
                              results=tmp_path))
    needs = {q for _, q in calls}
    assert len(needs) > 10
    for q in needs:
        assert 3 <= calls["connect", q] <= 4 and 3 <= calls["crimint", q] <= 4, q  # the fourth: if it missed some
        assert 3 <= calls["iip", q] <= 4 and 3 <= calls["iip-naive", q] <= 4, q
        assert calls["connect+iip", q] == 0  # a union is merged from its members' plans, never compiled itself
