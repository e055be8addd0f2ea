"""report.html: one self-contained file - styles inline, charts as inline SVG, no script, font
or image fetched from anywhere - readable on screen and printed on A4, its data's provenance first.
The page is templates/report.html; this module turns the report's data into the cells it shows."""

from __future__ import annotations

from bench.access.sar import sar_summary
from bench.report import charts
from bench.report.markdown import MAIN_HEADER, fixed, main_rows
from bench.report.model import BOARD_SOURCE, Report, definitions, sorted_by
from bench.report.reasons import LOW_RECALL, low_recall_reasons, sentence
from bench.report.templating import render as render_template
from bench.report.templating import trusted
from bench.run.results import Comparison


def _num(v: float | None) -> str:
    return "" if v is None or v == "" else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "" if v is None or v == "" else f"{v * 100:.0f}%"


def _shade(v: float | None) -> str:
    return "bad" if isinstance(v, float) and v < 0.5 else ""


def _num1(v) -> str:
    return "" if v is None else f"{v:,.1f}"


def _per_need(rep: Report) -> dict:
    names = rep.profiles
    rows = []
    for t in rep.worst:
        lost = "; ".join(f"{rep.label(n)}: {', '.join(t['lost'][n])}" for n in names if t["lost"].get(n))
        errs = "; ".join(f"{rep.label(n)} failed: {e}" for n, e in t["error"].items() if e)
        rows.append({"qid": t["qid"], "kind": t["kind"], "relevant": f"{t['relevant'] or 0:,.0f}",
                     "volume": [_num(t["volume"].get(n)) for n in names],
                     "recall": [(_pct(t["recall"].get(n)), _shade(t["recall"].get(n))) for n in names],
                     "lost": lost + errs})
    return {"target": rep.label(sorted_by(rep)), "rows": rows}


def _why(rep: Report) -> dict:
    """Recall by source system, collapses, the entity view, and the worst needs drilled down."""
    srcs = sorted({s for n in rep.profiles for s in rep.agg.profiles[n].breakdown.source})
    source_rows = []
    if srcs:
        for n in rep.profiles:
            b = rep.agg.profiles[n].breakdown.source
            source_rows.append((rep.label(n), [_pct(b[s].value) if s in b else "" for s in srcs]))
    collapses = [{"label": rep.label(c.profile), "kind": c.kind.replace("_", " "),
                  "recall": f"{c.recall * 100:.0f}%", "baseline": f"{c.baseline * 100:.0f}%"}
                 for c in rep.agg.collapses]
    ent = [(n, rep.agg.profiles[n].breakdown.entity) for n in rep.profiles]
    entity = [(rep.label(n), _pct(e.person_found.value), _num1(e.distinct_people.value),
               _num1(e.records_per_person.value)) for n, e in ent if e.needs]
    worst = []
    for n in rep.profiles:
        ws = rep.agg.profiles[n].worst
        if not ws or n == rep.baseline:
            continue
        worst.append((rep.label(n), [
            {"qid": w.qid, "recall": f"{w.recall * 100:.0f}%", "missed_total": w.missed_total,
             "lost": "; ".join(w.lost) or "nothing",
             "missed": [{"rid": m.rid, "source": m.source, "written": m.written, "kinds": ", ".join(m.kinds)}
                        for m in w.missed[:8]]}
            for w in ws[:3]]))
    low = low_recall_reasons(rep)
    reasons = [{"label": rep.label(r["profile"]), "what": r["what"], "recall": f"{r['recall'] * 100:.0f}%",
                "missed": f"{r['missed']:,}", "reasons": "; ".join(f"{why} ({k:,}, {share * 100:.0f}%)"
                                                               for why, k, share in r["reasons"])}
               for r in low]
    # the baseline's low figures by source system, the ones an officer asks about first, said in words
    said = [sentence(r, rep.label(r["profile"])) for r in low if r["profile"] == rep.baseline and r["axis"] == "source"]
    return {"sources": srcs, "source_rows": source_rows, "collapses": collapses, "entity": entity, "worst": worst,
            "reasons": reasons, "low_recall": f"{LOW_RECALL * 100:.0f}%", "said": said}


S62 = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure")


def _access(rep: Report) -> dict:
    """Subject access (when the run holds SAR needs) and the s62 logging matrix."""
    sar = []
    for n, v in (sar_summary(rep.run) or {}).items():
        c, f = v.completeness, v.false_inclusions
        sar.append((rep.label(n), v.requests, f"{_pct(c.value)} ({_pct(c.lo)}–{_pct(c.hi)})",
                    f"{v.missed_total} of {v.relevant_total}",
                    f"{_num1(f.value)} ({_num1(f.lo)}–{_num1(f.hi)})", fixed(v.hours.value)))
    s62 = [(op, [op in rep.run.profiles[n].audit_s62 for n in rep.profiles]) for op in S62]
    return {"sar": sar, "s62": s62}


# The paired tests' measures in the report's units: sift cost per 1,000 searches, as everywhere else.
COMPARED = {"recall": ("recall (percentage points)", 100, "{:+.1f} pp"),
            "precision": ("precision (percentage points)", 100, "{:+.1f} pp"),
            "volume": ("records returned", 1, "{:+,.1f}"),
            "examined": ("records read by the modelled analyst", 1, "{:+,.1f}"),
            "recall_at_stop": ("recall where the analyst stopped (percentage points)", 100, "{:+.1f} pp"),
            "sift_hours": ("analyst-hours of sifting per 1,000 searches", 1000, "{:+,.0f}")}


def _diff(t: Comparison) -> str:
    v = t.mean_diff
    if v is None or v != v:
        return "n/a"
    _, scale, fmt = COMPARED[t.measure]
    return fmt.format(v * scale)


def _p(v) -> str:
    return "n/a" if v is None or v != v else f"{v:.4f}"


def _method(rep: Report) -> dict:
    run = rep.run
    c = run.corpus
    counts: dict = c.counts
    kinds = sorted({k for r in c.rates.values() for k in r})
    rates = [(system, f"{counts['per_source'].get(system, 0):,}",
              [f"{c.rates.get(system, {}).get(k, 0):g}" for k in kinds])
             for system in sorted(set(c.rates) | set(counts["per_source"]))]
    profiles = [{"label": run.profiles[n].label, "kind": run.profiles[n].kind,
                 "description": run.profiles[n].description,
                 "assumptions": list(run.profiles[n].assumptions.items())} for n in rep.profiles]
    comparisons = [(rep.label(t.profile), COMPARED[t.measure][0], _diff(t), _p(t.p),
                    _p(t.p_adjusted), t.n) for t in rep.agg.comparisons if t.measure in COMPARED]
    return {"imported": c.provenance.origin != "generated", "skipped": counts.get("skipped_rows", 0),
            "blanked": counts.get("blanked_fields", 0), "source_file": (c.source_file or "?")[:16],
            "checksum": c.checksum[:16], "systems": len(counts["per_source"]), "seed": str(c.seed),
            "kinds": kinds, "rates": rates, "profiles": profiles, "comparisons": comparisons}


def render(rep: Report) -> str:
    return render_template(
        "report.html", rep=rep, run=rep.run, src=rep.run.corpus.provenance,
        labels=[rep.label(n) for n in rep.profiles], main_header=MAIN_HEADER, main_rows=main_rows(rep),
        board_source=BOARD_SOURCE, charts={k: trusted(fn(rep)) for k, fn in charts.ALL.items()},
        why=_why(rep), access=_access(rep), per_need=_per_need(rep), method=_method(rep),
        definitions=list(definitions().items()), robustness=trusted(rep.robustness) if rep.robustness else "")
