"""Sweeps: a prediction the mechanics make, determinism, the corpus cache, and bad axes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.errors import SpecError
from bench.sweep.runner import run_sweep

ROOT = Path(__file__).resolve().parents[1]

SPEC = (ROOT / "corpora" / "ci.yaml").read_text().replace("records: 20000", "records: 4000") \
    .replace("events: 9000", "events: 2000").replace("people: 4000", "people: 1200")
NEEDS = """\
schema_version: 1
name: full-names
seed: 9
templates:
  - {template: person_name_dob, id_prefix: p, count: 25, params: {phrasing: {true_details: 1}, min_records: 2}}
"""
SWEEP = """\
schema_version: 1
name: t
base_corpus: base.yaml
queries: needs.yaml
profiles: [crimint, connect, iip, connect+iip]
axes:
  corruption_scale: [0, 1]
  profile:
    - {profile: iip, property: free_text.strategy, values: [naive]}
  behaviour:
    - {parameter: read_cap, values: [10]}
"""


@pytest.fixture
def sweep_file(tmp_path):
    (tmp_path / "base.yaml").write_text(SPEC)
    (tmp_path / "needs.yaml").write_text(NEEDS)
    (tmp_path / "s.yaml").write_text(SWEEP)
    return tmp_path / "s.yaml"


def _rows(d: Path) -> list[dict]:
    with open(d / "sweep.csv") as f:
        return list(csv.DictReader(f))


def test_prediction_without_corruption_exact_and_tolerant_find_the_same(sweep_file, tmp_path):
    """With every error rate x0, a name is written as it truly is, so CONNECT's exact match finds
    every relevant record CRIMINT's tolerant match finds: recall is 1 for both."""
    res = run_sweep(sweep_file, tmp_path / "results", workers=2)
    rows = {(r["axis"], r["value"], r["profile"]): r for r in _rows(res.dir)}
    for p in ("crimint", "connect"):
        assert float(rows[("corruption_scale", "0.0", p)]["recall"]) == pytest.approx(1.0)
    # ... and with errors switched back on, CONNECT's exactness costs recall that CRIMINT keeps.
    assert float(rows[("corruption_scale", "1.0", "connect")]["recall"]) < float(rows[("corruption_scale", "1.0", "crimint")]["recall"])
    # every word ORed returns more than the shipped all-criteria formulation
    assert float(rows[("iip:free_text.strategy", "naive", "iip")]["ratio"]) > float(rows[("base", "", "iip")]["ratio"])
    # how far the analyst reads changes what they read, never what the systems return
    for p in ("crimint", "connect", "iip", "connect+iip"):
        assert rows[("behaviour.read_cap", "10", p)]["ratio"] == rows[("base", "", p)]["ratio"]
    assert rows[("behaviour.read_cap", "10", "iip")]["examined_ratio"] != rows[("base", "", "iip")]["examined_ratio"]
    assert (res.dir / "tornado.svg").is_file() and (res.dir / "corruption_scale.svg").is_file()
    assert (res.dir / "tornado_effort.svg").is_file()
    assert "http" not in (res.dir / "section.html").read_text()
    # the sweep's base is the run a report may add it to; a run of other needs is refused
    import json

    from bench.cli.report import write_reports
    meta = json.loads((res.dir / "sweep.json").read_text())
    base = next(c for c in meta["cells"] if c["factors"].get("base"))
    assert meta["base"] == base["inputs"]
    write_reports(res.dir.with_name(res.dir.name + ".cells") / base["run_id"], res.dir)


def test_axis_values_read_as_written_never_as_a_python_repr():
    from bench.sweep.runner import show_value
    assert show_value({"modes": ["exact", "prefix", "phonetic"], "phonetic": "soundex"}) == \
        "{modes: [exact, prefix, phonetic], phonetic: soundex}"
    assert [show_value(v) for v in (None, True, 0.5, "naive")] == ["null", "true", "0.5", "naive"]


def test_deterministic_and_cached(sweep_file, tmp_path):
    a = run_sweep(sweep_file, tmp_path / "r", workers=1)
    cache = tmp_path / "r" / "sweep-cache" / "corpora"
    made = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    import shutil
    shutil.rmtree(a.dir)
    b = run_sweep(sweep_file, tmp_path / "r", workers=1)
    assert _rows(b.dir) == _rows(a.dir) or [r["ratio"] for r in _rows(b.dir)] == [r["ratio"] for r in _rows(a.dir)]
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == made  # reused, not regenerated
    (tmp_path / "base.yaml").write_text(SPEC.replace("seed: 20220719", "seed: 7"))
    run_sweep(sweep_file, tmp_path / "r", workers=1)
    assert len(list(cache.iterdir())) == 2 * len(made)  # a changed spec makes new corpora


@pytest.mark.parametrize("axes, field, msg", [
    ("  corruption_scale: []\n", "axes.corruption_scale", "empty axis"),
    ("  corruption_scale: [-1]\n", "axes.corruption_scale", "between 0 and 10"),
    ("  profile:\n    - {profile: iip, property: free_text.colour, values: [x]}\n", "axes.profile[0].property", "unknown property"),
    ("  profile:\n    - {profile: connect, property: result_cap, values: [-5]}\n", "axes.profile[0].values[0]", "invalid profile"),
    ("  corruption_kind: [gremlins]\n", "axes.corruption_kind", "unknown corruption kind"),
    ("  behaviour:\n    - {parameter: persistence, values: [1.5]}\n", "axes.behaviour[0].values[0]", "invalid reader"),
])
def test_bad_axes_are_located_before_any_cell_runs(sweep_file, tmp_path, axes, field, msg):
    text = SWEEP[: SWEEP.index("axes:")] + "axes:\n" + axes
    sweep_file.write_text(text)
    with pytest.raises(SpecError) as e:
        run_sweep(sweep_file, tmp_path / "results")
    assert "s.yaml:" in str(e.value) and field in str(e.value) and msg in str(e.value)
    assert not (tmp_path / "results" / "sweep-cache").exists()


def test_a_size_past_the_base_specs_bounds_is_located_before_any_cell_runs(sweep_file, tmp_path):
    """Groups of 1,000, all tied, are valid among the base's 1,200 people (one group of 720) but
    not at 5M records (1.5M people: about 450M ties): named at the axis value, not a traceback."""
    (tmp_path / "base.yaml").write_text(SPEC.replace("size_min: 3, size_max: 8", "size_min: 1000, size_max: 1000")
                                        .replace("p_within: 0.6", "p_within: 1"))
    sweep_file.write_text(SWEEP[: SWEEP.index("axes:")] + "axes:\n  size: [4000, 5000000]\n")
    with pytest.raises(SpecError) as e:
        run_sweep(sweep_file, tmp_path / "results")
    assert str(e.value).startswith(f"{sweep_file}:7:") and "axes.size[1]: 5,000,000 records make an invalid " \
        "spec of base.yaml: communities: " in str(e.value) and "ties expected" in str(e.value), str(e.value)
    assert len(str(e.value).splitlines()) == 1 and not (tmp_path / "results" / "sweep-cache").exists()


def test_a_cell_whose_searches_did_not_all_succeed_is_not_drawn(ci_corpus, tmp_path, failing_search):
    from bench.errors import BackendError
    from bench.queries.instantiate import ensure_instance
    from bench.sweep.runner import _run_cell
    inst = ensure_instance(ROOT / "queries" / "person.yaml", ci_corpus)
    failing_search(lambda n: n == 3)
    with pytest.raises(BackendError, match="INCOMPLETE RUN: 1 search failed"):
        _run_cell(str(ci_corpus.root), str(inst), ["crimint", "iip"], "crimint", str(tmp_path), 0, None)
