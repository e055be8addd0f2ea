"""Memory against the number of needs (issue 21): a run writes its per-need rows to per_query.csv
and to a fixed-width copy (bench.run.rows.RowFile) as it measures them and aggregates from the
copy a profile and a column at a time, and the statistics lay their resamples out in blocks of at
most stats.WORK_BYTES, so what the aggregation holds grows with the needs by the numbers of the
statistic in hand, not by every row (a Table: about 1 KB a need for four profiles; a dict each
before that, about 4 KB) and a 1,000-row block (8 KB).

Measured with tracemalloc (Python's and numpy's allocations): the peak of reading the rows back
and aggregating them, over N and 4N needs. The resample matrices kept for reuse have their own
fixed budget (stats.CACHE_BYTES, held by tests/metrics/test_stats.py) and are off here, so that
what is measured is what grows with the needs. Peak RSS of whole runs, with the command, is in
benchmarks/measured/."""

from __future__ import annotations

import csv
import gc
import json
import tracemalloc
from pathlib import Path

import numpy as np

from bench.backends.registry import open_backend
from bench.corpus.store import Corpus
from bench.metrics import stats
from bench.metrics.aggregate import aggregate_table
from bench.metrics.registry import PER_QUERY_COLUMNS
from bench.queries.instantiate import ensure_instance
from bench.run.rows import RowFile
from bench.run.runner import RunSettings, run_benchmark

N = 2500
# What 3N more needs may add to the aggregation's peak, per need: the columns of the statistic in
# hand (8 bytes a need each, a few at a time: a pair of measures, their products, the baseline's),
# the rows' need, kind and lost columns and where each row is (int32: about 30 bytes); the means'
# matrix (13 measures, 8 bytes each) is mapped from a file in the run's folder, as a run gives it.
# 125 measured (170 with the matrix in memory and the columns int64; read back as a Table, the rows
# took 1.3 KB a need here).
PER_NEED_BYTES = 160
KINDS = ("person", "vehicle", "location", "sar")


def _rows(path: Path, n: int, seed: int = 5) -> None:
    """n needs of one profile, numbers drawn as a run gives them (some undefined, some lost)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=PER_QUERY_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for i in range(n):
            volume = float(rng.integers(0, 400))
            relevant = float(rng.integers(1, 30))
            found = float(min(relevant, rng.integers(0, 30)))
            row = {c: float(rng.random()) for c in PER_QUERY_COLUMNS}
            row.update(profile="crimint", qid=f"q{i:06d}", kind=KINDS[i % len(KINDS)], purpose="identify",
                       error="", volume=volume, relevant=relevant, found=found, missed=relevant - found,
                       examined=float(rng.integers(0, 200)), searches=1.0, total=volume, inflation=1.0,
                       precision=found / volume if volume else "", esl=float(rng.integers(0, 9)) if found else "",
                       effort_r80="" if i % 3 else 12.0, effort_r95="" if i % 2 else 30.0,
                       lost_capabilities="phonetic;nickname" if i % 4 == 0 else "", missed_by_kind="")
            w.writerow(row)


def _peak(path: Path) -> int:
    """The traced peak of aggregating the rows from a RowFile (as a run writes it: the rows are
    on disk before the aggregation starts)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    table = RowFile(path.parent, {r["qid"]: i for i, r in enumerate(rows)}, [r["qid"] for r in rows])
    for r in rows:
        table.add(r)
    table.close()
    del rows
    gc.collect()
    tracemalloc.start()
    try:
        aggregate_table(table, ["crimint"], "crimint", seed=0, work=path.parent)  # as a run aggregates
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        table.remove()


def test_aggregation_memory_does_not_grow_with_the_needs(tmp_path, monkeypatch):
    # The working blocks are bounded by stats.WORK_BYTES, but capped at BLOCK rows below 2,500
    # needs (19 MiB there, 20 at 10,000): set low, both sizes lay out the same bytes a block.
    monkeypatch.setattr(stats, "_CACHE", stats._Compact(budget=0))
    monkeypatch.setattr(stats, "WORK_BYTES", 1 << 20)
    (tmp_path / "n").mkdir()
    (tmp_path / "4n").mkdir()
    small, large = tmp_path / "n" / "rows.csv", tmp_path / "4n" / "rows.csv"
    _rows(small, N)
    _rows(large, 4 * N)
    a, b = _peak(small), _peak(large)
    print(f"aggregation peak: {a / 2**20:.1f} MB over {N} needs, {b / 2**20:.1f} MB over {4 * N}; "
          f"{(b - a) / (3 * N):.0f} bytes per added need")
    assert b - a <= 3 * N * PER_NEED_BYTES, (a, b)


# --- a whole run against its number of needs (issue 21, item 9) -----------------------------------

RUN_N = 200
PROFILES = ["crimint", "connect", "iip", "connect+iip"]
# The mix of benchmarks/queries-5000-ci.yaml, per 100 needs: every kind of need, sized alike in both sets.
MIX = (("person_name_dob", "p", 40, {"with_dob": True}), ("person_name_dob", "pn", 20, {"with_dob": False}),
       ("vehicle_vrm", "v", 10, {}), ("phone_number", "t", 10, {}),
       ("location_window", "l", 10, {"radius_m": 400, "window_days": 14}), ("mo_terms", "m", 4, {}),
       ("associates", "a", 4, {}), ("subject_access", "s", 2, {}))
# What 3N more needs may add to a run's traced peak, per need. Held from the searches on: the query
# set's need ids, places and kinds (bench.queries.instance.NeedIds: the ids' bytes, 8 bytes where
# each ends, a 4-byte slot or two of a table of places, a byte for the kind: about 40 bytes) and the
# TREC writer's row of each id (its width); where each (profile, need)'s row and list are on disk,
# and which reader list is whose, are mapped from files in the run's folder. At the peak, in the
# aggregation or the breakdown, a few numbers a need for the statistic in hand (the aggregation
# alone: 125 bytes, see above) and the breakdown's per-(need, cell) counts until they are written
# out (bounded: 16,384 entries, 28 bytes each for four profiles, held until then; all of them in this
# test's 800 needs); the (cell x need) matrices recall per cell is bootstrapped from are mapped from
# files. 536 bytes measured. On main at 58d259f this test gave about 7 KB a need: a run compiled
# every need's plans again to say what excluded a missed record, the plans were a reference cycle
# (compile_plans' closure) and the cyclic collector was paused, so every need's Need and plans
# stayed to the end. Before that, 1.3 KB with the ids in lists and dicts, the places on disk in
# arrays and the breakdown's matrices in memory; 3.8 KB before the rows, lists and cells went to
# disk; 34.6 KB before the streaming (warmed on the smaller set).
RUN_PER_NEED_BYTES = 768


def _query_set(path: Path, n: int, seed: int) -> Path:
    lines = ["schema_version: 1", f"name: mem-{n}", f"seed: {seed}", "templates:"]
    for template, prefix, per_100, params in MIX:
        lines.append(f"  - {{template: {template}, id_prefix: {prefix}, count: {n * per_100 // 100}, "
                     f"params: {json.dumps(params)}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_peak(corpus: Corpus, set_path: Path, results: Path) -> tuple[int, int]:
    """The traced peak of a whole run (index already built, the query set already instantiated)
    and how many needs it had."""
    instance = ensure_instance(set_path, corpus)
    n = sum(1 for _ in open(instance / "needs.jsonl"))
    gc.collect()
    tracemalloc.start()
    try:
        run_benchmark(RunSettings(corpus.root, instance, PROFILES, results=results, force=True))
        return tracemalloc.get_traced_memory()[1], n
    finally:
        tracemalloc.stop()


def test_run_memory_does_not_grow_with_the_needs(tmp_path, corpus_of, monkeypatch):
    """Peak of a whole run (search, measures, aggregation, results folder) over N and 4N needs
    on the `ci` corpus, whatever the benchmark scale: the needs, not the records, are what vary."""
    # The statistics' resamples kept for reuse and their working blocks have bounds of their own
    # (stats.CACHE_BYTES, stats.WORK_BYTES: a block is 8 KB a need up to 2,500 needs); set low here,
    # so that both sets are past them and what is measured is what else grows with the needs.
    monkeypatch.setattr(stats, "_CACHE", stats._Compact(budget=0))
    monkeypatch.setattr(stats, "WORK_BYTES", 1 << 20)
    corpus = corpus_of("ci")
    open_backend("embedded", corpus).prepare()  # the index is built once, before anything is measured
    small = _query_set(tmp_path / "n.yaml", RUN_N, 31)
    large = _query_set(tmp_path / "4n.yaml", 4 * RUN_N, 37)
    # First-use caches out of the way (profiles, analyzers), and the bounded ones filled (pydantic's
    # strings, numpy's small blocks): by the larger set, so that a cache filling up is not growth.
    _run_peak(corpus, large, tmp_path / "warm")
    (a, na), (b, nb) = _run_peak(corpus, small, tmp_path / "r"), _run_peak(corpus, large, tmp_path / "r")
    print(f"run peak: {a / 2**20:.1f} MB over {na} needs, {b / 2**20:.1f} MB over {nb}; "
          f"{(b - a) / (nb - na):.0f} bytes per added need")
    assert b - a <= (nb - na) * RUN_PER_NEED_BYTES, (a, b)

