"""Why a profile misses: recall by corruption kind, by source system and by kind of need; the
cells where recall collapses against the baseline; the entity view for person needs; and the
missed records of the worst needs, as they were written. Reads the query stage's judgements
(kinds, source, written form of each relevant record), never the corpus truth itself."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench.metrics.stats import means_ci, ratios_ci

COLLAPSE_DROP = 0.10  # a cell collapses when recall falls by >= 0.10 and the CIs do not overlap
PERSON_KINDS = ("person", "sar")
WORST = 5


def _cells(found: dict[str, set[int]], details: dict[str, dict[str, dict]], qids: list[str],
           key) -> dict[str, dict]:
    """Recall (found / relevant, pooled over needs) per cell, CI by resampling needs."""
    per_cell: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"found": [0] * len(qids), "total": [0] * len(qids)})
    for i, q in enumerate(qids):
        got = found.get(q, ())
        for d in details.get(q, {}).values():
            hit = d["rnum"] in got
            for cell in key(d):
                per_cell[cell]["total"][i] += 1
                per_cell[cell]["found"][i] += hit
    cells = sorted(per_cell)
    estimates = ratios_ci([per_cell[c]["found"] for c in cells], [per_cell[c]["total"] for c in cells])
    return {c: {**e.as_dict(), "relevant": int(sum(per_cell[c]["total"])), "found": int(sum(per_cell[c]["found"]))}
            for c, e in zip(cells, estimates)}


def corruption_cells(d: dict) -> list[str]:
    kinds = d["kinds"]
    return ["clean"] if not kinds else list(kinds) + (["combined"] if len(kinds) > 1 else [])


def breakdown(found: dict[str, dict[str, set[int]]], lists: dict[str, dict[str, np.ndarray]],
              details: dict[str, dict[str, dict]], subjects: np.ndarray, kinds_of: dict[str, str],
              lost: dict[str, dict[str, list[dict]]], baseline: str) -> dict:
    """found[profile][qid] = record numbers of the relevant records returned; lists[profile][qid]
    = the ranked record numbers; subjects = a true person's number per record number (-1: none)."""
    qids = sorted(kinds_of)
    out: dict = {"profiles": {}, "collapses": []}
    for p in found:
        ok = [q for q in qids if q in found[p]]
        block = {
            "kind": _cells(found[p], details, ok, corruption_cells),
            "source": _cells(found[p], details, ok, lambda d: [d["source"]]),
            "entity": _entity_view(lists[p], found[p], subjects, [q for q in ok if kinds_of[q] in PERSON_KINDS]),
            "worst": _worst(p, found[p], details, lost.get(p, {}), ok),
        }
        out["profiles"][p] = block
    base = out["profiles"].get(baseline, {}).get("kind", {})
    for p, block in out["profiles"].items():
        if p == baseline:
            continue
        for cell, e in block["kind"].items():
            b = base.get(cell)
            if b and b["value"] is not None and e["value"] is not None and \
                    b["value"] - e["value"] >= COLLAPSE_DROP and e["hi"] < b["lo"]:
                out["collapses"].append({"profile": p, "kind": cell, "recall": e["value"], "baseline": b["value"]})
    return out


def _entity_view(lists: dict[str, np.ndarray], found: dict[str, set[int]], subjects: np.ndarray,
                 qids: list[str]) -> dict:
    """Person needs: is the person found at all; how many different true people head the
    returned records (the John Smiths to tell apart); records returned per true person."""
    found_person, people, per_person = [], [], []
    for q in qids:
        rnums = lists.get(q, np.empty(0, np.int64))
        found_person.append(float(bool(found.get(q))))
        heads = subjects[rnums]
        distinct = len(np.unique(heads[heads >= 0]))
        people.append(distinct)
        per_person.append(len(rnums) / distinct if distinct else 0.0)
    person, distinct, per = means_ci([found_person, people, per_person])
    return {"needs": len(qids), "person_found": person.as_dict(),
            "distinct_people": distinct.as_dict(), "records_per_person": per.as_dict()}


def _worst(profile: str, found: dict[str, set[int]], details, lost: dict[str, list[dict]], qids: list[str]) -> list[dict]:
    """The needs with the lowest recall, each missed record as written, its corruptions, and
    what the profile's plan could not express."""
    scored = []
    for q in qids:
        rel = details.get(q, {})
        if rel:
            scored.append((sum(d["rnum"] in found[q] for d in rel.values()) / len(rel), q))
    out = []
    for recall, q in sorted(scored)[:WORST]:
        if recall >= 1:
            break
        missed = [{"rid": r, "written": d["written"], "kinds": d["kinds"] or ["clean"], "source": d["source"]}
                  for r, d in sorted(details[q].items()) if d["rnum"] not in found[q]]
        out.append({"qid": q, "recall": recall, "missed": missed[:20], "missed_total": len(missed),
                    "lost": [x["reason"] for x in lost.get(q, [])]})
    return out


def missed_by_kind(found: set[int], rel: dict[str, dict]) -> str:
    """For per_query.csv: 'nickname:2;typo:1' - relevant records missed, by corruption kind."""
    c: dict[str, int] = defaultdict(int)
    for d in rel.values():
        if d["rnum"] not in found:
            for k in corruption_cells(d):
                c[k] += 1
    return ";".join(f"{k}:{v}" for k, v in sorted(c.items()))


