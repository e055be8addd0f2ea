"""Per-query measures. Ranked measures come from ir_measures (pytrec_eval underneath), so the
numbers are trec_eval's; volume, sift cost and inflation are polebench's own and defined here.

Presented order is encoded in the exported scores (score = volume - rank), so trec_eval's own
sort (score descending) reproduces exactly the order the analyst saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import ir_measures
from ir_measures import AP, P, R, SetF, SetP, SetR, nDCG

RANKED = {"precision": SetP, "recall": SetR, "f1": SetF, "p_at_10": P @ 10, "r_at_100": R @ 100,
          "ap": AP, "ndcg_at_10": nDCG @ 10}
DEFINITIONS = {
    "volume": "records returned for the need: what the analyst must at least glance at",
    "precision": "share of the returned records that are relevant",
    "recall": "share of the relevant records that were returned",
    "f1": "harmonic mean of precision and recall",
    "p_at_10": "share of the first 10 records that are relevant",
    "r_at_100": "share of the relevant records found in the first 100",
    "ap": "average precision over the presented order (trec_eval)",
    "ndcg_at_10": "graded gain of the first 10 records, normalised (trec_eval)",
    "sift_records": "records read, in presented order, until the last relevant one returned "
                    "(the whole list when none is relevant)",
    "sift_hours": "sift_records x seconds per record / 3600",
    "inflation": "volume / the baseline profile's volume for the same need (undefined when the baseline returns nothing)",
    "missed": "relevant records never returned",
    "false_inclusions": "records returned that are not about what the need describes (in a subject "
                        "access request: other people's records an analyst must exclude before disclosure)",
    "lost": "capabilities the profile could not express for this need (dropped or weakened)",
    "latency_ms": "wall time of the engine search for this need",
}


@dataclass(frozen=True)
class QueryOutcome:
    """One profile's answer to one need, as the run recorded it."""

    qid: str
    kind: str
    rids: tuple[str, ...]
    total: int
    latency_ms: float
    lost: tuple[dict, ...]
    error: str | None = None


def trec_scores(n: int) -> list[float]:
    return [float(n - i) for i in range(n)]


def sift(rids: Iterable[str], relevant: dict[str, int]) -> int:  # the rule, as per_query applies it
    """Records read, in order, to reach every relevant record the list holds."""
    last, n = 0, 0
    for n, rid in enumerate(rids, 1):
        if rid in relevant:
            last = n
    return last if last else n


def per_query(outcomes: list[QueryOutcome], qrels: dict[str, dict[str, int]],
              seconds_per_record: float) -> dict[str, dict[str, float]]:
    """qid -> measure -> value for one profile's successful outcomes.

    pytrec_eval is handed each list only up to max(its last relevant record, 100): records after
    that change none of AP, nDCG@10, P@10 or R@100, and set precision/recall are counts."""
    ok = [o for o in outcomes if o.error is None]
    out: dict[str, dict[str, float]] = {}
    run: dict[str, dict[str, float]] = {}
    for o in ok:
        rel = qrels[o.qid]
        hits = [i for i, r in enumerate(o.rids) if r in rel]
        found, n = len(hits), len(o.rids)
        s = hits[-1] + 1 if hits else n
        cut = max(s, 100)
        run[o.qid] = dict(zip(o.rids[:cut], trec_scores(n)[:cut]))
        p = found / n if n else 0.0
        r = found / len(rel)
        out[o.qid] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                      "p_at_10": 0.0, "r_at_100": 0.0, "ap": 0.0, "ndcg_at_10": 0.0,
                      "volume": float(n), "relevant": float(len(rel)), "found": float(found),
                      "missed": float(len(rel) - found), "false_inclusions": float(n - found),
                      "sift_records": float(s),
                      "sift_hours": s * seconds_per_record / 3600.0, "latency_ms": o.latency_ms,
                      "lost": float(len(o.lost))}
    ranked = {n: m for n, m in RANKED.items() if n not in ("precision", "recall", "f1")}
    names = {m: n for n, m in ranked.items()}
    irm_qrels = {o.qid: dict(qrels[o.qid]) for o in ok}
    for m in ir_measures.iter_calc(list(ranked.values()), irm_qrels, run):
        out[m.query_id][names[m.measure]] = float(m.value)
    return out


def inflation(volume: float, baseline_volume: float) -> float | None:
    """The stated rule: undefined (None) when the baseline returned nothing for the need."""
    return volume / baseline_volume if baseline_volume > 0 else None
