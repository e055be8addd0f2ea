"""Aggregates over needs, per profile and per kind of need, each with a 95% bootstrap CI, and
paired comparisons of every profile with the baseline (randomisation test, BH-corrected).

The rows are read as columns (NeedRows), one profile at a time and one measure at a time, so that
aggregating holds a few numbers a need for the statistic in hand, not every row of every profile
(a run reads them from a file of fixed-width records: bench.run.rows.RowFile). Every figure is the
one the row-by-row code gave, to the last bit: the same values in the same order reach the same
statistics, and totals are added left to right as Python's sum did (np.cumsum; np.sum adds
pairwise, which moves the last place)."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from bench.metrics.registry import PER_QUERY_COLUMNS, TEXT_COLUMNS, named
from bench.metrics.stats import Estimate, adjust, mean_ci, means_ci, median_ci, paired_test, ratio_of_totals_ci

# Averaged over needs (precision over the needs where it is defined: those that returned something).
MEAN_MEASURES = named("mean") + named("mean_defined")
DEFINED_ONLY = named("mean_defined")
# Undefined for some needs ("never" reached, no relevant record returned): a median over the
# needs where defined, and how many are not.
SOMETIMES_UNDEFINED = named("median_defined")
COMPARED = ("recall", "precision", "volume", "examined", "recall_at_stop", "sift_hours")
CARRIERS = 3  # needs named as carrying most of a profile's total volume
NUMERIC = tuple(c for c in PER_QUERY_COLUMNS if c not in TEXT_COLUMNS)  # the columns read as numbers


@dataclass(frozen=True)
class NeedRows:
    """One profile's per-need rows (per_query.csv's) as columns, in the rows' order."""

    need: np.ndarray  # int32 or int64: the row's need, as its place in the table's qids
    kind: np.ndarray  # the need's kind, as its place in the table's kinds
    failed: np.ndarray  # bool: the search failed or was not run (the row has no measures)
    lost: np.ndarray  # the capabilities lost, as a place in the table's lost sets
    value: Callable[[str], np.ndarray]  # a numeric column, float64, NaN where undefined (None in a row)


class RowTable(Protocol):
    """Every profile's rows, read one profile at a time."""

    qids: Sequence[str]
    kinds: Sequence[str]
    lost_sets: Sequence[tuple[str, ...]]

    def rows(self, profile: str) -> NeedRows: ...


class Codes:
    """A table's kinds and sets of lost capabilities, each numbered in the order first seen."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.lost_sets: list[tuple[str, ...]] = []
        self._at: tuple[dict, dict] = ({}, {})

    def kind(self, kind: str) -> int:
        return _code(self._at[0], self.kinds, kind)

    def lost(self, capabilities: str | Iterable[str] | None) -> int:
        """capabilities: as a row holds them (a list), or as per_query.csv writes them (joined by ';')."""
        caps = capabilities or ()
        return _code(self._at[1], self.lost_sets,
                     tuple(x for x in caps.split(";") if x) if isinstance(caps, str) else tuple(caps))


class _Rows:
    """Rows given as dicts (as the runner measured them, or as per_query.csv is read), laid out as
    a RowTable: for tests and for whatever holds its rows already."""

    def __init__(self, rows: Iterable[Mapping]):
        self.qids: list[str] = []
        codes, at = Codes(), {}
        self.kinds, self.lost_sets = codes.kinds, codes.lost_sets
        by_profile: dict[str, list[tuple[int, int, bool, int, Mapping]]] = {}
        for r in rows:
            row = (_code(at, self.qids, r["qid"]), codes.kind(r["kind"]), bool(r.get("error")),
                   codes.lost(r.get("lost_capabilities")), r)
            by_profile.setdefault(r["profile"], []).append(row)
        self._by_profile = by_profile

    def rows(self, profile: str) -> NeedRows:
        got = self._by_profile.get(profile, [])
        need, kind, failed, lost = (np.asarray([g[i] for g in got], t).reshape(-1)
                                    for i, t in ((0, np.int64), (1, np.int64), (2, bool), (3, np.int64)))

        def value(m: str) -> np.ndarray:
            return np.asarray([np.nan if g[4].get(m) is None else g[4][m] for g in got], np.float64).reshape(-1)
        return NeedRows(need, kind, failed, lost, value)


def _code(codes: dict, into: list, value) -> int:
    got = codes.get(value)
    if got is None:
        got = codes[value] = len(into)
        into.append(value)
    return got


class _Base:
    """The baseline's successful rows, by need: which needs it has, and a measure's value there."""

    def __init__(self, rows: NeedRows, needs: int):
        ok = np.flatnonzero(~rows.failed)
        self.rows, self.at = rows, np.full(needs, -1, np.int32)
        self.at[rows.need[ok]] = ok

    def has(self, needs: np.ndarray) -> np.ndarray:
        return self.at[needs] >= 0

    def value(self, m: str, needs: np.ndarray) -> np.ndarray:
        """m's value for each of these needs (all of which the baseline has)."""
        return self.rows.value(m)[self.at[needs]]


class _Part:
    """Some rows of one profile (all, or those of one kind), in row order: a measure's values
    over them, over those that succeeded, and over those that succeeded whose need the baseline has."""

    def __init__(self, rows: NeedRows, at: np.ndarray, base: _Base):
        self.rows, self.at = rows, at
        self.ok = at[~rows.failed[at]]
        self.paired = self.ok[base.has(rows.need[self.ok])]
        self.base = base

    def column(self, m: str) -> np.ndarray:
        """Read anew each time (a copy from the file's mapping): only the columns in use are held."""
        return self.rows.value(m)

    def pairs(self, m: str) -> tuple[np.ndarray, np.ndarray]:
        """m for the paired rows, and the baseline's m for the same needs."""
        return self.column(m)[self.paired], self.base.value(m, self.rows.need[self.paired])


def _total(x: np.ndarray):
    """sum(x) as Python adds it, left to right from 0 (np.cumsum is sequential)."""
    return float(np.cumsum(x)[-1]) if len(x) else 0


def _defined(x: np.ndarray) -> np.ndarray:
    return x[~np.isnan(x)]


def _inflation(part: _Part, qids: Sequence[str], seed: int) -> dict:
    v, b = part.pairs("volume")
    some = b > 0
    defined = v[some] / b[some]
    pct = np.percentile(defined, [10, 25, 50, 75, 90]).tolist() if len(defined) else [float("nan")] * 5
    # The geometric mean needs both lists non-empty: a ratio of 0 or infinity has no logarithm.
    both = some & (v > 0)
    logs = np.log(v[both] / b[both])
    total = _total(v)
    # the largest volumes, ties by need id from the last (as sorting (volume, id) pairs in reverse did)
    cut = np.partition(v, len(v) - CARRIERS)[len(v) - CARRIERS] if len(v) > CARRIERS else -np.inf
    top = np.flatnonzero(v >= cut)
    need = part.rows.need[part.paired]
    carriers = heapq.nlargest(CARRIERS, ((float(v[i]), qids[need[i]]) for i in top))
    return {
        "median": median_ci(defined, seed).as_dict(),
        "mean": mean_ci(defined, seed).as_dict(),
        "geometric_mean": _exp(mean_ci(logs, seed)),
        "ratio_of_totals": ratio_of_totals_ci(v, b, seed).as_dict(),
        "undefined": int(np.count_nonzero(~some)),
        "distribution": dict(zip(("p10", "p25", "p50", "p75", "p90"), pct)),
        "carriers": [{"qid": q, "volume": x, "share": x / total if total else None} for x, q in carriers],
    }


def _exp(e: Estimate) -> dict:
    return {"value": float(np.exp(e.value)), "lo": float(np.exp(e.lo)), "hi": float(np.exp(e.hi)), "n": e.n}


def _effort(part: _Part, seed: int) -> dict:
    """Records examined against the baseline's for the same needs, and the measures that are
    undefined for some needs, as medians with how many are undefined ("never")."""
    examined = part.pairs("examined")
    (at_stop, base_at_stop), (relevant, base_relevant) = part.pairs("recall_at_stop"), part.pairs("relevant")
    out: dict = {"examined_ratio_of_totals": ratio_of_totals_ci(*examined, seed).as_dict(),
                 "found_ratio_of_totals": ratio_of_totals_ci(at_stop * relevant, base_at_stop * base_relevant,
                                                             seed).as_dict(),
                 "examined_total": float(_total(part.column("examined")[part.ok])),
                 "searches_total": float(_total(part.column("searches")[part.ok]))}
    for m in SOMETIMES_UNDEFINED:
        vals = _defined(part.column(m)[part.ok])
        out[m] = {"median": median_ci(vals, seed).as_dict(), "never": len(part.ok) - len(vals)}
    return out


def _block(part: _Part, table: RowTable, seed: int, work: Path | None = None) -> dict:
    ok = part.ok
    lost: Counter = Counter()
    with_lost = 0  # rows that lost some capability
    for code, n in enumerate(np.bincount(part.rows.lost[ok], minlength=len(table.lost_sets)).tolist()):
        for cap in table.lost_sets[code] if n else ():
            lost[cap] += n
        with_lost += n if table.lost_sets[code] else 0
    lat = part.column("latency_ms")[ok]
    everywhere = [m for m in MEAN_MEASURES if m not in DEFINED_ONLY]
    # one statistic's numbers at a time, a row each: 8 bytes a measure and need, the most the
    # aggregation holds a need, so mapped from a file in `work` where given (the same numbers)
    matrix = np.memmap(work / "means.f8", np.float64, "w+", shape=(len(everywhere), len(ok))) \
        if work is not None and len(ok) else np.empty((len(everywhere), len(ok)))
    for i, m in enumerate(everywhere):
        matrix[i] = part.column(m)[ok]
    means = dict(zip(everywhere, (e.as_dict() for e in means_ci(matrix, seed))))
    del matrix
    if work is not None:
        (work / "means.f8").unlink(missing_ok=True)
    for m in DEFINED_ONLY:  # over the needs where the measure is defined; n says how many
        means[m] = mean_ci(_defined(part.column(m)[ok]), seed).as_dict()
    volume = part.column("volume")[ok]
    out = {
        "queries": len(ok),
        "failed": len(part.at) - len(ok),
        "returned_nothing": int(np.count_nonzero(volume == 0)),
        "mean": {m: means[m] for m in MEAN_MEASURES},
        "volume_total": int(_total(volume)),
        "missed_total": int(_total(part.column("missed")[ok])),
        "relevant_total": int(_total(part.column("relevant")[ok])),
        "queries_with_lost": with_lost,
        "lost_capabilities": dict(sorted(lost.items())),
        "latency_ms": {"p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
                       "p95": float(np.percentile(lat, 95)) if len(lat) else float("nan")},
        "inflation": _inflation(part, table.qids, seed),
        "effort": _effort(part, seed),
    }
    out["sift_hours_per_1000"] = {k: v * 1000 if isinstance(v, float) else v
                                  for k, v in out["mean"]["sift_hours"].items()}
    a, b = part.pairs("sift_hours")
    diff = mean_ci(a - b, seed).as_dict()
    out["extra_sift_hours_per_1000"] = {k: v * 1000 if isinstance(v, float) else v for k, v in diff.items()}
    return out


def aggregate_table(table: RowTable, profiles: list[str], baseline: str, seed: int = 0,
                    work: Path | None = None) -> dict:
    """Every profile's aggregates from its rows, read one profile at a time (and the baseline's);
    `work`: a folder for the means' matrix (removed after), instead of memory. Rows are numbered
    int32 (no run has 2^31 needs)."""
    base = _Base(table.rows(baseline), len(table.qids))
    result: dict = {"baseline": baseline, "profiles": {}, "comparisons": []}
    tests = []
    for name in profiles:
        rows = base.rows if name == baseline else table.rows(name)
        block = _block(_Part(rows, np.arange(len(rows.need), dtype=np.int32), base), table, seed, work)
        block["by_kind"] = {table.kinds[k]: _block(_Part(rows, np.flatnonzero(rows.kind == k).astype(np.int32), base),
                                                   table, seed, work)
                            for k in sorted(set(rows.kind.tolist()), key=lambda k: table.kinds[k])}
        result["profiles"][name] = block
        if name == baseline:
            continue
        part = _Part(rows, np.arange(len(rows.need), dtype=np.int32), base)
        for m in COMPARED:
            a, b = part.pairs(m)
            both = ~np.isnan(a) & ~np.isnan(b)
            a, b = a[both], b[both]
            tests.append({"profile": name, "measure": m, "n": len(a),
                          "mean_diff": float(np.mean(np.subtract(a, b))) if len(a) else float("nan"),
                          "p": paired_test(a, b, seed)})
    for t, padj in zip(tests, adjust([t["p"] for t in tests])):
        t["p_adjusted"] = padj
    result["comparisons"] = tests
    return result


def aggregate(rows: Iterable[Mapping], profiles: list[str], baseline: str, seed: int = 0) -> dict:
    """rows: one per (profile, need) as written to per_query.csv (dicts, or per_query.csv read back)."""
    return aggregate_table(_Rows(rows), profiles, baseline, seed)
