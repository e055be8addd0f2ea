"""explorer.html: one self-contained page per run for an analyst to drill into - pick a need, see
each profile's list side by side in the order it presented them, each record as written, relevant
ones marked and the others named for whom they are really about, the relevant records each
profile missed with the errors that hid them, what its search could not express, and where the
modelled reader stopped. The records a need touches are embedded gzip-compressed (never the whole
corpus) and unpacked by the browser; the page fetches nothing, so it opens from a closed share."""

from __future__ import annotations

import base64
import csv
import gzip
from collections import defaultdict
from pathlib import Path

import orjson

from bench.corpus.store import Corpus
from bench.provenance import Provenance
from bench.report.templating import render as render_template

PAGE = 50  # records per page of a list: the default corpus's 13,000-record lists stay quick to show
# The head of each list that is embedded, 40 pages: every-word-ORed lists on the default corpus run
# to 70,000 records, and all of them for every need would embed the whole corpus (36 MB measured
# for 170 needs). The page says how long each list is and where the rest is (the TREC run file).
LIST_CAP = 2000


def _corpus(run_dir: Path, run: dict) -> Corpus | None:
    """The run's corpus folder: as recorded, else beside the results folder (a relative path is
    relative to where the run was started)."""
    path = Path(run["corpus"].get("path") or "")
    for p in (path, run_dir.parent.parent / path):
        if (p / "manifest.json").is_file():
            return Corpus(p)
    return None


def _lists(run_dir: Path, profiles: list[str]) -> dict[str, dict[str, list[str]]]:
    """Each profile's list per need, in presented order, from its TREC run file."""
    out: dict[str, dict[str, list[str]]] = {}
    for p in profiles:
        rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
        f = run_dir / "runs" / f"{p}.run"
        if f.is_file():
            for line in f.read_text().splitlines():
                qid, _, rid, rank, *_ = line.split()
                rows[qid].append((int(rank), rid))
        out[p] = {q: [r for _, r in sorted(v)] for q, v in rows.items()}
    return out


def _qrels(run_dir: Path) -> dict[str, set[str]]:
    rel: dict[str, set[str]] = defaultdict(set)
    for line in (run_dir / "qrels.txt").read_text().splitlines():
        qid, _, rid, grade = line.split()
        if int(grade) > 0:
            rel[qid].add(rid)
    return rel


def _name(e: dict | None) -> str:
    if not e:
        return "unknown"
    kind = e.get("kind")
    if kind == "person":
        return f"{e.get('forename', '')} {e.get('surname', '')} ({e['id']}, born {e.get('dob') or 'unknown'})".strip()
    if kind == "vehicle":
        return f"vehicle {e.get('vrm')} ({e['id']})"
    if kind == "phone":
        return f"phone {e.get('number')} ({e['id']})"
    if kind == "address":
        return f"{e.get('address')}, {e.get('postcode')} ({e['id']})"
    return e["id"]


def explorer_data(run_dir: Path) -> dict:
    """Everything the page shows, as one JSON-able dict."""
    run = orjson.loads((run_dir / "run.json").read_bytes())
    profiles = list(run.get("profile_order") or run["aggregates"]["profiles"])
    with open(run_dir / "per_query.csv") as fh:
        rows = list(csv.DictReader(fh))
    lists, rel = _lists(run_dir, profiles), _qrels(run_dir)
    corpus = _corpus(run_dir, run)
    descriptions: dict[str, str] = {}
    if corpus is not None:
        needs = corpus.root / "queries" / run["query_set"]["query_set"] / "needs.jsonl"
        if needs.is_file():
            for line in needs.read_bytes().splitlines():
                n = orjson.loads(line)
                descriptions[n["id"]] = n.get("description", "")
    touched = {r for p in lists.values() for lst in p.values() for r in lst[:LIST_CAP]} | \
        {r for s in rel.values() for r in s}
    records: dict[str, dict] = {}
    if corpus is not None:
        for r in corpus.records():
            if r["rid"] in touched:
                records[r["rid"]] = {"s": r.get("source", ""), "d": r.get("date", ""), "t": r.get("text", "")}
        entities = {e["id"]: e for e in corpus.truth_entities()}
        for m in corpus.truth_mentions():
            rec = records.get(m["rid"])
            if rec is not None:
                people = [x["entity"] for x in m["mentions"] if entities.get(x["entity"], {}).get("kind") == "person"]
                rec["a"] = [_name(entities.get(p)) for p in people] or [_name(entities.get(x["entity"]))
                                                                          for x in m["mentions"][:2]]
                rec["k"] = sorted({k for x in m["mentions"] for k in x["kinds"]} | set(m.get("record_kinds", [])))
    needs_out = []
    by_need: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        by_need[r["qid"]][r["profile"]] = r
    for qid, per in by_need.items():
        first = next(iter(per.values()))
        relevant = rel.get(qid, set())
        out = {"id": qid, "kind": first.get("kind", ""), "description": descriptions.get(qid, ""),
               "relevant": len(relevant), "profiles": {}}
        for p in profiles:
            r = per.get(p, {})
            full = lists[p].get(qid, [])
            got, lst = set(full), full[:LIST_CAP]
            out["profiles"][p] = {
                "list": lst, "total": len(full), "rel_total": len(got & relevant),
                "rel": [i for i, rid in enumerate(lst) if rid in relevant],
                "examined": int(float(r["examined"])) if r.get("examined") not in (None, "") else None,
                "lost": [x for x in (r.get("lost_capabilities") or "").split(";") if x],
                "error": r.get("error") or "",
                "missed": sorted(relevant - got)}
        needs_out.append(out)
    prov = Provenance.of(run["corpus"])
    # record ids once, lists as numbers into them: a list of 2,000 ids compresses to a few KB
    ids = sorted(touched)
    at = {rid: i for i, rid in enumerate(ids)}
    for n in needs_out:
        for v in n["profiles"].values():
            v["list"] = [at[rid] for rid in v["list"]]
            v["missed"] = [at[rid] for rid in v["missed"]]
    return {"ids": ids, "cap": LIST_CAP, "run": run["run_id"], "tag": prov.tag, "sentence": prov.sentence, "page": PAGE,
            "profiles": [{"id": p, "label": run["profiles"].get(p, {}).get("label", p),
                          "upper_bound": bool(run["profiles"].get(p, {}).get("upper_bound"))} for p in profiles],
            "needs": needs_out, "records": records,
            "missing_corpus": None if corpus is not None else f"corpus folder {run['corpus'].get('path')} not found"}


def pack(data: dict) -> str:
    """gzip then base64: a few megabytes of lists and records in a fraction, readable by the
    browser's own DecompressionStream, no library fetched or inlined."""
    return base64.b64encode(gzip.compress(orjson.dumps(data), compresslevel=9, mtime=0)).decode()


def unpack(text: str) -> dict:
    return orjson.loads(gzip.decompress(base64.b64decode(text)))


def render(data: dict) -> str:
    return render_template("explorer.html", data=data, packed=pack(data))
