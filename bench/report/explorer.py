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
from html import escape as h
from pathlib import Path

import orjson

from bench.corpus.store import Corpus
from bench.provenance import Provenance

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


CSS = """
body { font: 10pt/1.4 system-ui, Arial, sans-serif; margin: 0; color: #1a1a1a; }
.provenance { background: #fff3cd; border-bottom: 1px solid #e0a526; padding: 6px 10px; font-weight: 600;
              position: sticky; top: 0; z-index: 2; }
header, main { padding: 8px 12px; } select, input { font: inherit; max-width: 100%; }
#pick { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; } #need { flex: 1 1 280px; min-width: 0; }
.cols { display: flex; flex-wrap: wrap; gap: 10px; } .col { flex: 1 1 300px; min-width: 0; border: 1px solid #ccd;
        padding: 6px; } .col h2 { font-size: 11pt; margin: 0 0 4px; }
ol { padding-left: 2.6em; margin: 4px 0; } li { margin-bottom: 6px; overflow-wrap: anywhere; }
.rel { border-left: 4px solid #009E73; padding-left: 4px; } .not { border-left: 4px solid #D55E00; padding-left: 4px; }
.why { color: #555; font-size: 8.5pt; } .stop { list-style: none; border-top: 2px dashed #000; margin: 6px 0;
       font-size: 8.5pt; padding-top: 2px; } .lost { color: #a33; font-size: 8.5pt; }
.pager button { font: inherit; } .meta { color: #555; font-size: 9pt; }
"""

SCRIPT = r"""
(async function () {
  const raw = Uint8Array.from(atob(document.getElementById('data').textContent), c => c.charCodeAt(0));
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'));
  const D = JSON.parse(await new Response(stream).text());
  const el = (tag, attrs, ...kids) => { const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k); return e; };
  const sel = document.getElementById('need'), filter = document.getElementById('filter');
  const cols = document.getElementById('cols');
  const pages = {};
  function options() {
    const q = filter.value.toLowerCase(); const keep = sel.value; sel.textContent = '';
    for (const n of D.needs) if (!q || (n.id + ' ' + n.description).toLowerCase().includes(q))
      sel.append(el('option', {value: n.id}, n.id + (n.description ? ' - ' + n.description : '')));
    if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
  }
  function record(i) {
    const r = D.records[D.ids[i]];
    return r ? r : {s: '', d: '', t: D.missing_corpus ? '(' + D.missing_corpus + ')' : '(record not found)'};
  }
  function show() {
    const need = D.needs.find(n => n.id === sel.value); cols.textContent = '';
    if (!need) return;
    document.getElementById('about').textContent = need.kind + ' need; ' + need.relevant + ' relevant records. ' + need.description;
    for (const p of D.profiles) {
      const v = need.profiles[p.id]; const key = need.id + '|' + p.id; const page = pages[key] || 0;
      const rel = new Set(v.rel); const col = el('section', {class: 'col', 'data-profile': p.id});
      col.append(el('h2', {}, p.label + (p.upper_bound ? ' (upper bound)' : '')));
      col.append(el('div', {class: 'meta'}, v.total + ' returned, ' + v.rel_total + ' relevant' +
        (v.total > v.list.length ? ' (the first ' + v.list.length + ' shown; all are in runs/' + p.id + '.run)' : '') +
        (v.examined !== null ? '; the modelled analyst read ' + v.examined : '') + (v.error ? '; search failed: ' + v.error : '')));
      if (v.lost.length) col.append(el('div', {class: 'lost'}, 'Could not express: ' + v.lost.join(', ').replaceAll('_', ' ')));
      const start = page * D.page, ol = el('ol', {start: String(start + 1)});
      for (let i = start; i < Math.min(v.list.length, start + D.page); i++) {
        const rid = D.ids[v.list[i]], r = record(v.list[i]), ok = rel.has(i);
        ol.append(el('li', {class: ok ? 'rel' : 'not'}, el('b', {}, rid), ' ', r.s + ' ' + r.d, el('br'), r.t, el('br'),
          el('span', {class: 'why'}, ok ? 'relevant' : 'not relevant: about ' + ((r.a || []).join('; ') || 'no one named'))));
        if (v.examined !== null && i + 1 === v.examined)
          ol.append(el('li', {class: 'stop'}, 'the modelled analyst stopped here, after ' + v.examined + ' records'));
      }
      col.append(ol);
      const last = Math.max(0, Math.ceil(v.list.length / D.page) - 1);
      const prev = el('button', {type: 'button', class: 'prev'}, '< previous'), next = el('button', {type: 'button', class: 'next'}, 'next >');
      prev.disabled = page === 0; next.disabled = page >= last;
      prev.onclick = () => { pages[key] = page - 1; show(); }; next.onclick = () => { pages[key] = page + 1; show(); };
      col.append(el('div', {class: 'pager'}, prev, ' page ' + (page + 1) + ' of ' + (last + 1) + ' ', next));
      if (v.missed.length) {
        const ul = el('ul', {class: 'missed'});
        for (const i of v.missed.slice(0, D.page)) { const r = record(i);
          ul.append(el('li', {}, el('b', {}, D.ids[i]), ' ', r.s + ': ' + r.t, el('br'),
            el('span', {class: 'why'}, 'missed; errors as written: ' + ((r.k || []).join(', ').replaceAll('_', ' ') || 'none (clean)')))); }
        col.append(el('h3', {}, v.missed.length + ' relevant records missed' + (v.missed.length > D.page ? ' (first ' + D.page + ')' : '')), ul);
      }
      cols.append(col);
    }
  }
  filter.oninput = () => { options(); show(); }; sel.onchange = show;
  options(); show(); document.body.dataset.ready = '1';
})();
"""


def render(data: dict) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>polebench explorer ({h(data['tag'])}): run {h(data['run'])}</title><style>{CSS}</style></head><body>
<div class="provenance">{h(data['tag'])} - {h(data['sentence'])}</div>
<header><h1 style="font-size:14pt;margin:4px 0">Explorer: run <code>{h(data['run'])}</code></h1>
<div id="pick"><label for="need">need</label><select id="need"></select>
<input id="filter" type="search" placeholder="filter needs" aria-label="filter needs"></div>
<p id="about" class="meta"></p></header>
<main id="cols" class="cols"></main>
<script type="application/octet-stream" id="data">{pack(data)}</script>
<script>{SCRIPT}</script>
</body></html>
"""
