"""Aggregates over needs, per profile and per kind of need, each with a 95% bootstrap CI, and
paired comparisons of every profile with the baseline (randomisation test, BH-corrected)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from bench.metrics.registry import named
from bench.metrics.stats import Estimate, adjust, mean_ci, means_ci, median_ci, paired_test, ratio_of_totals_ci

# Averaged over needs (precision over the needs where it is defined: those that returned something).
MEAN_MEASURES = named("mean") + named("mean_defined")
DEFINED_ONLY = named("mean_defined")
# Undefined for some needs ("never" reached, no relevant record returned): a median over the
# needs where defined, and how many are not.
SOMETIMES_UNDEFINED = named("median_defined")
COMPARED = ("recall", "precision", "volume", "examined", "recall_at_stop", "sift_hours")
CARRIERS = 3  # needs named as carrying most of a profile's total volume


def _ok(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not r.get("error")]


def _inflation(rows: list[dict], base: dict[str, dict], seed: int) -> dict:
    pairs = [(r["volume"], base[r["qid"]]["volume"]) for r in rows if r["qid"] in base]
    defined = [v / b for v, b in pairs if b > 0]
    pct = np.percentile(defined, [10, 25, 50, 75, 90]).tolist() if defined else [float("nan")] * 5
    # The geometric mean needs both lists non-empty: a ratio of 0 or infinity has no logarithm.
    logs = [np.log(v / b) for v, b in pairs if b > 0 and v > 0]
    total = sum(v for v, _ in pairs)
    carriers = sorted(((r["volume"], r["qid"]) for r in rows if r["qid"] in base), reverse=True)[:CARRIERS]
    return {
        "median": median_ci(defined, seed).as_dict(),
        "mean": mean_ci(defined, seed).as_dict(),
        "geometric_mean": _exp(mean_ci(logs, seed)),
        "ratio_of_totals": ratio_of_totals_ci([v for v, _ in pairs], [b for _, b in pairs], seed).as_dict(),
        "undefined": sum(1 for _, b in pairs if b == 0),
        "distribution": dict(zip(("p10", "p25", "p50", "p75", "p90"), pct)),
        "carriers": [{"qid": q, "volume": v, "share": v / total if total else None} for v, q in carriers],
    }


def _exp(e: Estimate) -> dict:
    return {"value": float(np.exp(e.value)), "lo": float(np.exp(e.lo)), "hi": float(np.exp(e.hi)), "n": e.n}


def _effort(rows: list[dict], base: dict[str, dict], seed: int) -> dict:
    """Records examined against the baseline's for the same needs, and the measures that are
    undefined for some needs, as medians with how many are undefined ("never")."""
    pairs = [(r["examined"], base[r["qid"]]["examined"]) for r in rows if r["qid"] in base]
    found = [(r["recall_at_stop"] * r["relevant"], base[r["qid"]]["recall_at_stop"] * base[r["qid"]]["relevant"])
             for r in rows if r["qid"] in base]
    out: dict = {"examined_ratio_of_totals": ratio_of_totals_ci([a for a, _ in pairs], [b for _, b in pairs], seed).as_dict(),
                 "found_ratio_of_totals": ratio_of_totals_ci([a for a, _ in found], [b for _, b in found], seed).as_dict(),
                 "examined_total": float(sum(r["examined"] for r in rows)),
                 "searches_total": float(sum(r.get("searches", 1) for r in rows))}
    for m in SOMETIMES_UNDEFINED:
        vals = [r[m] for r in rows if r.get(m) is not None]
        out[m] = {"median": median_ci(vals, seed).as_dict(), "never": len(rows) - len(vals)}
    return out


def _block(rows: list[dict], base: dict[str, dict], seed: int) -> dict:
    ok = _ok(rows)
    lost = Counter(cap for r in ok for cap in r["lost_capabilities"])
    lat = [r["latency_ms"] for r in ok]
    everywhere = [m for m in MEAN_MEASURES if m not in DEFINED_ONLY]
    means = dict(zip(everywhere, (e.as_dict() for e in means_ci([[r[m] for r in ok] for m in everywhere], seed))))
    for m in DEFINED_ONLY:  # over the needs where the measure is defined; n says how many
        means[m] = mean_ci([r[m] for r in ok if r[m] is not None], seed).as_dict()
    out = {
        "queries": len(ok),
        "failed": len(rows) - len(ok),
        "returned_nothing": sum(1 for r in ok if r["volume"] == 0),
        "mean": {m: means[m] for m in MEAN_MEASURES},
        "volume_total": int(sum(r["volume"] for r in ok)),
        "missed_total": int(sum(r["missed"] for r in ok)),
        "relevant_total": int(sum(r["relevant"] for r in ok)),
        "queries_with_lost": sum(1 for r in ok if r["lost_capabilities"]),
        "lost_capabilities": dict(sorted(lost.items())),
        "latency_ms": {"p50": float(np.percentile(lat, 50)) if lat else float("nan"),
                       "p95": float(np.percentile(lat, 95)) if lat else float("nan")},
        "inflation": _inflation(ok, base, seed),
        "effort": _effort(ok, base, seed),
    }
    out["sift_hours_per_1000"] = {k: v * 1000 if isinstance(v, float) else v
                                  for k, v in out["mean"]["sift_hours"].items()}
    paired = [(r["sift_hours"], base[r["qid"]]["sift_hours"]) for r in ok if r["qid"] in base]
    diff = mean_ci([a - b for a, b in paired], seed).as_dict()
    out["extra_sift_hours_per_1000"] = {k: v * 1000 if isinstance(v, float) else v for k, v in diff.items()}
    return out


def aggregate(rows: list[dict], profiles: list[str], baseline: str, seed: int = 0) -> dict:
    """rows: one per (profile, need) as written to per_query.csv."""
    by_profile: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_profile[r["profile"]].append(r)
    base = {r["qid"]: r for r in _ok(by_profile[baseline])}
    result: dict = {"baseline": baseline, "profiles": {}, "comparisons": []}
    for name in profiles:
        prow = by_profile[name]
        block = _block(prow, base, seed)
        kinds: dict[str, list[dict]] = defaultdict(list)
        for r in prow:
            kinds[r["kind"]].append(r)
        block["by_kind"] = {k: _block(v, base, seed) for k, v in sorted(kinds.items())}
        result["profiles"][name] = block
    tests = []
    for name in profiles:
        if name == baseline:
            continue
        ok = [r for r in _ok(by_profile[name]) if r["qid"] in base]
        for m in COMPARED:
            both = [r for r in ok if r[m] is not None and base[r["qid"]][m] is not None]
            a = [r[m] for r in both]
            b = [base[r["qid"]][m] for r in both]
            tests.append({"profile": name, "measure": m, "n": len(a),
                          "mean_diff": float(np.mean(np.subtract(a, b))) if a else float("nan"),
                          "p": paired_test(a, b, seed)})
    for t, padj in zip(tests, adjust([t["p"] for t in tests])):
        t["p_adjusted"] = padj
    result["comparisons"] = tests
    return result
