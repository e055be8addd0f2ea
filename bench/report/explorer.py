"""explorer.html: one self-contained page per run for an analyst to drill into - pick a need, see
each profile's list side by side in the order it presented them, each record as written, relevant
ones marked and the others named for whom they are really about, the relevant records each
profile missed with the errors that hid them, what its search could not express, and where the
modelled reader stopped. Every list is whole, in a page of 50 at a time (cut to its first CAP
records, saying so, when the run's lists are too large for one page). Only the records the lists
and the needs touch are embedded (all of a corpus only where some list holds all of it), gzip-
compressed and unpacked by the browser; the page fetches nothing, so it opens from a closed share."""

from __future__ import annotations

import base64
import gzip
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from bench.corpus.store import Corpus, iter_jsonl
from bench.queries.compact import TruthStore
from bench.report.model import load_run
from bench.report.templating import render as render_template
from bench.run.results import RunResults, damaged

PAGE = 50  # records per page of a list: the default corpus's 13,000-record lists stay quick to show
# Every list is embedded whole while the run files stay under RUN_BYTES_LIMIT: the page's size (and
# the memory of making it, about 4-5 times the run files' bytes) grows with every hit of every list.
# The `default` corpus's standard run has 247 MB of run files; a 10M-record corpus's 5 GB took more
# than 21 GB of memory and was killed. Above the limit each list is embedded only up to its first
# CAP records, read from the run files a line at a time. Assumed: what a browser opens.
RUN_BYTES_LIMIT = 512 * 2**20
# 1,000 records: 20 pages of 50, and past where the modelled reader stops: on the `default`
# corpus's standard run (460 needs, 4 profiles) 151 of the 1,840 lists are longer than 1,000 and the
# reader stopped within the first 1,000 records in every one of them (at 200 at most). The page then
# holds at most needs x profiles x CAP records (1.84M for that query set at any corpus size), not
# every hit. Where a reader does read further the page says so; every list is whole in the run files.
CAP = 1000


def run_bytes(run_dir: Path) -> int:
    """What the page would have to hold: the bytes of the run's TREC run files."""
    return sum(f.stat().st_size for f in (run_dir / "runs").glob("*.run"))


def _corpus(run_dir: Path, run: RunResults) -> Corpus | None:
    """The run's corpus folder: as recorded, else beside the results folder (a relative path is
    relative to where the run was started)."""
    path = Path(run.corpus.path)
    for p in (path, run_dir.parent.parent / path):
        if (p / "manifest.json").is_file():
            return Corpus(p)
    return None


class Lists(NamedTuple):
    """Each profile's list per need as embedded, in presented order; how long each is in its run
    file, and the relevant records it holds (beyond what is embedded too)."""
    lists: dict[str, dict[str, list[str]]]
    totals: dict[str, dict[str, int]]
    relevant: dict[str, dict[str, set[str]]]


def _lists(run_dir: Path, profiles: list[str], rel: dict[str, set[str]], cap: int | None = None) -> Lists:
    """Each profile's lists from its TREC run file, a line at a time: with a cap, only the records
    ranked up to it are kept and the rest only counted (and checked against the need's relevant
    set), so that memory holds at most cap records a list, however long the file."""
    lists: dict[str, dict[str, list[str]]] = {}
    totals: dict[str, dict[str, int]] = {}
    found: dict[str, dict[str, set[str]]] = {}
    for p in profiles:
        rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
        count: dict[str, int] = defaultdict(int)
        hits: dict[str, set[str]] = defaultdict(set)
        f = run_dir / "runs" / f"{p}.run"
        if not f.is_file():
            raise damaged(f, "", "missing")
        with open(f, encoding="utf-8") as lines:
            for n, line in enumerate(lines, 1):
                try:
                    qid, _, rid, rank_text, _, _ = line.split()
                    rank = int(rank_text)
                except ValueError:
                    raise damaged(f, "", "not a TREC run line (need Q0 record rank score tag)", n) from None
                count[qid] += 1
                if rid in rel.get(qid, ()):
                    hits[qid].add(rid)
                if cap is None or rank <= cap:
                    rows[qid].append((rank, rid))
        lists[p] = {q: [r for _, r in sorted(v)] for q, v in rows.items()}
        totals[p], found[p] = dict(count), dict(hits)
    return Lists(lists, totals, found)


def _entry_starts(run_dir: Path, profiles: list[str]) -> dict[str, dict[str, list[int]]]:
    """Per profile and need, where each entry starts, for the lists read one entry at a time."""
    out: dict[str, dict[str, list[int]]] = {}
    for p in profiles:
        f = run_dir / "outcomes" / f"{p}.jsonl.gz"
        if not f.is_file():  # without it the page would put a reader's stop in records, not entries
            raise damaged(f, "", "missing")
        out[p] = {r["qid"]: r["entry_starts"] for r in iter_jsonl(f) if r.get("entry_starts") is not None}
    return out


def _stop(row: dict, starts: list[int] | None, n: int) -> dict:
    """Where the modelled reader stopped, in records of the list, and what they counted."""
    if row.get("examined") is None:
        return {"stop": None, "unit": "records"}
    read = int(row["examined"])
    if starts is None:
        return {"stop": read, "unit": "records"}
    return {"stop": starts[read] if read < len(starts) else n, "unit": "entries (one per candidate)"}


def _qrels(run_dir: Path) -> dict[str, set[str]]:
    rel: dict[str, set[str]] = defaultdict(set)
    for line in (run_dir / "qrels.txt").read_text().splitlines():
        qid, _, rid, grade = line.split()
        if int(grade) > 0:
            rel[qid].add(rid)
    return rel


def _name(e: Mapping | None) -> str:
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


def _deltas(indices: list[int]) -> list[int]:
    """A list of record-table indices as differences from the one before: in a list ordered by
    relevance ties run in record order, and in any list neighbours are often near, so the small
    numbers compress to a fraction of the indices themselves."""
    a = np.asarray(indices, np.int64)
    return np.diff(a, prepend=0).tolist() if len(a) else []


def undelta(deltas: list[int]) -> list[int]:
    return np.cumsum(np.asarray(deltas, np.int64)).tolist() if deltas else []


def merged(members: list[list[int]]) -> list[int]:
    """A union profile's list as its system shows it: each member's list in turn, a record already
    shown left out (bench.plans.Sequence); the page rebuilds it from its members' lists."""
    seen: set[int] = set()
    out = []
    for lst in members:
        for i in lst:
            if i not in seen:
                seen.add(i)
                out.append(i)
    return out


def explorer_data(run_dir: Path, cap: int | None = None) -> dict:
    """Everything the page shows, as one JSON-able dict: `meta` (profiles, needs and their counts),
    `records` (a table of every record a list or a need's relevant set holds, as columns), and per
    need `lists`: its relevant records and each profile's complete list, as indices into the table.
    With a cap, each list only up to its first `cap` records: a list cut has `shown` (how many are
    embedded) beside its `total`, and the need's `beyond` holds, per profile, the relevant records
    its list holds past them (not missed, only not shown)."""
    run, rows = load_run(run_dir)
    profiles = list(run.profile_order)
    rel = _qrels(run_dir)
    read = _lists(run_dir, profiles, rel, cap)
    lists = read.lists
    starts = _entry_starts(run_dir, profiles)
    corpus = _corpus(run_dir, run)
    descriptions: dict[str, str] = {}
    if corpus is not None:
        needs = corpus.root / "queries" / run.query_set.query_set / "needs.jsonl"
        if needs.is_file():
            for line in needs.read_bytes().splitlines():
                n = orjson.loads(line)
                descriptions[n["id"]] = n.get("description", "")
    ids = sorted({r for p in lists.values() for lst in p.values() for r in lst} | {r for s in rel.values() for r in s})
    at = {rid: i for i, rid in enumerate(ids)}
    table = _table(corpus, ids, at)
    by_need: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        by_need[r["qid"]][r["profile"]] = r
    union_of = {p: list(info.union_of) if (info := run.profiles.get(p)) else [] for p in profiles}
    needs_out, need_lists = [], []
    for qid, per in by_need.items():
        first = next(iter(per.values()))
        relevant = rel.get(qid, set())
        out = {"id": qid, "kind": first.get("kind", ""), "description": descriptions.get(qid, ""),
               "relevant": len(relevant), "profiles": {}}
        idx = {p: [at[r] for r in lists[p].get(qid, [])] for p in profiles}
        packed, beyond = {}, {}
        for p in profiles:
            r = per.get(p, {})
            shown = lists[p].get(qid, [])
            total = read.totals[p].get(qid, 0)
            if total != (r.get("volume") or 0):  # a run file cut at a line's end, or edited
                raise damaged(run_dir / "runs" / f"{p}.run", qid, f"{total} records, where per_query.csv says "
                              f"the search returned {int(r.get('volume') or 0)}")
            rel_in = read.relevant[p].get(qid, set())
            out["profiles"][p] = {
                "total": total, "rel_total": len(rel_in),
                "examined": int(r["examined"]) if r.get("examined") is not None else None,
                # a list read one entry per candidate: where the reader stopped, in records
                **_stop(r, starts.get(p, {}).get(qid), total),
                "lost": list(r.get("lost_capabilities") or ()),
                "error": r.get("error") or ""}
            if len(shown) < total:  # cut: only its first records are embedded
                out["profiles"][p]["shown"] = len(shown)
                beyond[p] = _deltas(sorted(at[x] for x in rel_in - set(shown)))
            members = union_of[p]
            if members and all(m in idx for m in members) and merged([idx[m] for m in members]) == idx[p]:
                packed[p] = {"of": members}  # rebuilt by the page: its members' lists are embedded anyway
            else:
                packed[p] = _deltas(idx[p])
        needs_out.append(out)
        need_lists.append({"rel": _deltas(sorted(at[r] for r in relevant)), "lists": packed,
                           **({"beyond": beyond} if beyond else {})})
    prov = run.corpus.provenance
    meta = {"run": run.run_id, "tag": prov.tag, "sentence": prov.sentence, "page": PAGE,
            **({"cap": cap} if cap is not None else {}),
            "profiles": [{"id": p, "label": run.label(p), "upper_bound": run.upper_bound(p)} for p in profiles],
            "needs": needs_out,
            "missing_corpus": None if corpus is not None else f"corpus folder {run.corpus.path} not found"}
    return {"meta": meta, "records": table, "lists": need_lists}


def _table(corpus: Corpus | None, ids: list[str], at: dict[str, int]) -> dict:
    """The records as columns in table order: source, date and text as written, whom each is truly
    about and the errors its mentions carry (both as numbers into tables of their own: the same
    people and the same kinds of error recur across thousands of records)."""
    n = len(ids)
    cols: dict = {"ids": ids, "s": [0] * n, "d": [""] * n, "t": [""] * n, "a": [[] for _ in range(n)],
                  "k": [[] for _ in range(n)], "sources": [""], "names": [], "kinds": [], "found": [0] * n}
    if corpus is None:
        return cols
    sources: dict[str, int] = {"": 0}
    for r in corpus.records():
        i = at.get(r["rid"])
        if i is not None:
            cols["s"][i] = sources.setdefault(r.get("source", ""), len(sources))
            cols["d"][i], cols["t"][i], cols["found"][i] = r.get("date", "") or "", r.get("text", ""), 1
    # the entities in columns, read as views where a shown record names one (as dicts, every
    # entity of the corpus: about 1 GB a million records)
    entities = TruthStore.from_rows(corpus.truth_entities(), (), corpus.root / "truth").entities
    names: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for m in corpus.truth_mentions():
        i = at.get(m["rid"])
        if i is None:
            continue
        people = [x["entity"] for x in m["mentions"] if entities.get(x["entity"], {}).get("kind") == "person"]
        about = [_name(entities.get(p)) for p in people] or [_name(entities.get(x["entity"])) for x in m["mentions"][:2]]
        cols["a"][i] = [names.setdefault(a, len(names)) for a in about]
        cols["k"][i] = [kinds.setdefault(k, len(kinds)) for k in
                        sorted({k for x in m["mentions"] for k in x["kinds"]} | set(m.get("record_kinds", [])))]
    cols["sources"] = list(sources)
    cols["names"], cols["kinds"] = list(names), list(kinds)
    return cols


def pack(data: object) -> str:
    """gzip then base64: a few megabytes of lists and records in a fraction, readable by the
    browser's own DecompressionStream, no library fetched or inlined."""
    # level 6: on the default corpus 0.8% larger than level 9 (19.8 against 19.7 MB), in half the time
    return base64.b64encode(gzip.compress(orjson.dumps(data), compresslevel=6, mtime=0)).decode()


def unpack(text: str) -> object:
    return orjson.loads(gzip.decompress(base64.b64decode(text)))


def read_page(text: str) -> dict:
    """The data of an explorer page, decoded as its script decodes it (for tests and tools):
    explorer_data's dict, each list of indices rebuilt whole."""
    blobs = dict(re.findall(r'<script type="application/octet-stream" id="([a-z0-9-]+)">([^<]*)</script>', text))
    data = {"meta": unpack(blobs["meta"]), "records": unpack(blobs["records"])}
    data["lists"] = [unpack(blobs[f"need-{i}"]) for i in range(len(data["meta"]["needs"]))]
    return data


def full_lists(need_lists: dict) -> dict[str, list[int]]:
    """One need's lists as indices into the record table, a union rebuilt from its members."""
    out = {p: undelta(v) for p, v in need_lists["lists"].items() if isinstance(v, list)}
    for p, v in need_lists["lists"].items():
        if isinstance(v, dict):
            out[p] = merged([out[m] for m in v["of"]])
    return out


def render(data: dict) -> str:
    """The page: the needs and the record table as two blobs, each need's lists as one of its own
    that the script unpacks only when the need is picked, so that opening the page does not wait
    for every list of every need."""
    return render_template("explorer.html", meta=data["meta"], blobs={
        "meta": pack(data["meta"]), "records": pack(data["records"]),
        **{f"need-{i}": pack(v) for i, v in enumerate(data["lists"])}})
