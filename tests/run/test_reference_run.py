"""The reference profile in a whole run on the generated ci corpus with the standard set: it is
measured like any other profile, read one entry per candidate, shown in the report as what good
looks like beside the baseline (never as the system analysts use today), and gated."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from bench.report.explorer import explorer_data
from bench.report.model import build
from bench.run.runner import RunSettings, run_benchmark

PROFILES = ["crimint", "connect", "reference"]


@pytest.fixture(scope="module")
def finished(ci_corpus, shipped_instance, tmp_path_factory):
    inst = shipped_instance(ci_corpus, "standard")
    return run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst, profiles=PROFILES,
                                     results=tmp_path_factory.mktemp("results")))


def _outcomes(d, profile: str) -> dict[str, dict]:
    rows = [json.loads(x) for x in gzip.decompress((d / "outcomes" / f"{profile}.jsonl.gz").read_bytes()).splitlines()]
    return {r["qid"]: r for r in rows}


def test_the_reference_is_measured_and_is_not_the_baseline(finished):
    agg = finished.run.aggregates
    assert finished.failed == 0 and agg.baseline == "crimint"
    ref = agg.profiles["reference"]
    assert ref.queries == finished.run.query_set.queries
    assert finished.run.profiles["reference"].kind == "reference"
    assert set(ref.breakdown.kind) >= {"clean", "nickname", "dob_transposed"}
    # work saved over sampling sets records read against the corpus's records: no figure for a
    # list read in candidate entities (it used to divide entries by records)
    assert ref.wss_95.value is None and agg.profiles["crimint"].wss_95.value is not None


def test_person_lists_are_read_one_entry_per_candidate(finished):
    """Person, vehicle and phone needs come back grouped; the reader's `examined` counts entries,
    so it never exceeds the entries listed, and the run file keeps every record."""
    out = _outcomes(finished.dir, "reference")
    grouped = [r for r in out.values() if r.get("entry_starts") is not None]
    assert {r["kind"] for r in grouped} >= {"person", "vehicle", "phone"}
    rows = {(r["profile"], r["qid"]): r for r in _per_query(finished.dir)}
    for r in grouped:
        starts = r["entry_starts"]
        if not starts:  # nothing found: no entries
            assert r["returned"] == 0
            continue
        assert starts[0] == 0 and np.all(np.diff(starts) > 0) and starts[-1] < r["returned"]
        examined = float(rows[("reference", r["qid"])]["examined"])
        # a subject access request is read record by record; every other list entry by entry
        assert examined == r["returned"] if r["kind"] == "sar" else examined <= len(starts)
        assert float(rows[("reference", r["qid"])]["volume"]) == r["returned"]
    assert all(r.get("entry_starts") is None for r in _outcomes(finished.dir, "crimint").values())


def _per_query(d):
    import csv
    with open(d / "per_query.csv") as f:
        return list(csv.DictReader(f))


def test_the_report_shows_it_as_what_good_looks_like_beside_the_baseline(finished):
    rep = build(finished.dir)
    ceiling = [h for h in rep.headlines if h.startswith("What good looks like")]
    assert len(ceiling) == 1 and "CRIMINT-like" in ceiling[0]
    ref, base = (finished.run.profile(p).mean["recall"].value for p in ("reference", "crimint"))
    assert f"found {ref * 100:.0f}%" in ceiling[0] and f"against {base * 100:.0f}%" in ceiling[0]
    # the lead compares today's system with the legacy one, never the ceiling
    assert not any(h.startswith("To find") and "Reference" in h.split(" reads ")[0] for h in rep.headlines)


def test_the_explorer_marks_the_stop_in_records_for_a_list_read_by_entries(finished):
    data = explorer_data(finished.dir)
    starts = {q: r["entry_starts"] for q, r in _outcomes(finished.dir, "reference").items() if r.get("entry_starts")}
    shown = [(n["id"], n["profiles"]["reference"]) for n in data["meta"]["needs"] if n["id"] in starts]
    assert shown
    for qid, v in shown:
        e = v["examined"]
        assert v["unit"].startswith("entries")
        assert v["stop"] == (starts[qid][e] if e < len(starts[qid]) else v["total"])


def test_a_per_profile_gate_covers_the_reference(finished, write):
    from bench.gates.rules import evaluate, load_gates
    gates = write("g.yaml", "schema_version: 1\ngates:\n  - {name: recall floor, profile: '*', metric: recall, "
                            "op: '>=', value: 0.1}\n  - {name: nicknames, check: 'recall[nickname, reference] >= 0.1'}\n")
    outcomes = evaluate(load_gates(gates, finished.run), finished.run, None)
    mine = [o for o in outcomes if o.gate.profile == "reference"]
    assert len(mine) == 2 and all(o.status == "passed" for o in mine)


def test_the_per_need_table_names_the_profile_it_is_sorted_by(finished):
    """The table is sorted by CONNECT's volume against the baseline (a reference is no system in
    use); its heading must name CONNECT, not the run's last profile, the reference."""
    from bench.report import html
    rep = build(finished.dir)
    page = html.render(rep)
    assert "Sorted by how many times more records CONNECT-like" in " ".join(page.split())
    ratio = {t["qid"]: t["volume"]["connect"] / t["volume"]["crimint"] for t in rep.worst
             if (t["volume"].get("crimint") or 0) > 0 and isinstance(t["volume"].get("connect"), float)}
    first = next(t["qid"] for t in rep.worst if t["qid"] in ratio)
    assert ratio[first] == max(ratio.values())
