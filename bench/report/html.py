"""report.html: one self-contained file - styles inline, charts as inline SVG, no script, font
or image fetched from anywhere - readable on screen and printed on A4, its data's provenance first."""

from __future__ import annotations

import re
from html import escape as h

from bench.access.sar import sar_summary
from bench.provenance import Provenance
from bench.report import charts
from bench.report.markdown import MAIN_HEADER, fixed, main_rows
from bench.report.model import BOARD_SOURCE, Report, definitions

CSS = """
@page { size: A4; margin: 14mm 12mm 18mm 12mm;
  @bottom-left { content: "__TAG__ · polebench"; font: 7.5pt system-ui, Arial, sans-serif; color: #7a5a00; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 7.5pt system-ui, Arial, sans-serif; } }
body { font: 10.5pt/1.45 system-ui, -apple-system, 'Segoe UI', Arial, sans-serif; color: #1a1a1a;
       max-width: 1000px; margin: 0 auto; padding: 0 16px 48px; overflow-wrap: break-word; }
.provenance { background: #fff3cd; border: 1px solid #e0a526; padding: 6px 10px; font-weight: 600;
             position: sticky; top: 0; z-index: 2; }
.footer { position: fixed; bottom: 0; left: 0; right: 0; text-align: center; font-size: 8pt;
          color: #7a5a00; background: #fffbea; }
h1 { font-size: 18pt; margin: 14px 0 4px; } h2 { font-size: 13pt; border-bottom: 2px solid #1f4e79;
     padding-bottom: 2px; margin-top: 26px; } h3 { font-size: 11pt; margin-bottom: 4px; }
.meta { color: #555; font-size: 9pt; }
ul.headlines li { margin-bottom: 6px; } .verdict { background: #eef4fa; border-left: 4px solid #1f4e79;
     padding: 8px 12px; }
.mismatch { background: #fde2e1; border: 3px solid #a33; padding: 8px 12px; font-weight: 700; }
/* Wide tables scroll inside their own box on a narrow screen rather than being cut off */
.wide { overflow-x: auto; max-width: 100%; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border: 1px solid #ccd; padding: 3px 5px; text-align: right; vertical-align: top; }
td.l { overflow-wrap: anywhere; min-width: 6em; }
th { background: #eef1f6; } td.l, th.l { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { flex: 1 1 440px; min-width: 0; break-inside: avoid; }
.chart svg { max-width: 100%; height: auto; }
.bad { background: #fde2e1; } .lost { color: #a33; font-size: 8pt; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  .provenance { position: static; } h2, h3 { break-after: avoid; } tr { break-inside: avoid; }
  thead { display: table-header-group; }
  /* on paper nothing scrolls: a wide table wraps its cells and shrinks its type to fit the page */
  .wide { overflow: visible; } table { table-layout: fixed; font-size: 7pt; }
  th, td { overflow-wrap: anywhere; hyphens: auto; padding: 2px 3px; }
  .chart { flex-basis: 100%; } .footer { background: none; } }
"""


def _table(head: tuple[str, ...], rows: list[list[str]]) -> str:
    """The main table shared with report.md, rendered as HTML."""
    out = ["<table><tr>" + "".join(f'<th class="{"l" if i == 0 else ""}">{h(c)}</th>' for i, c in enumerate(head)) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{"l" if i == 0 else ""}">{h(c)}</td>' for i, c in enumerate(r)) + "</tr>")
    return "\n".join(out) + "</table>"


def _num(v: float | None) -> str:
    return "" if v is None or v == "" else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "" if v is None or v == "" else f"{v * 100:.0f}%"


def _shade(v: float | None) -> str:
    return "bad" if isinstance(v, float) and v < 0.5 else ""


def _per_query(rep: Report) -> str:
    names = rep.profiles
    head = ("<tr><th class='l'>need</th><th class='l'>kind</th><th>relevant</th>"
            + "".join(f"<th>volume<br>{h(rep.label(n))}</th>" for n in names)
            + "".join(f"<th>recall<br>{h(rep.label(n))}</th>" for n in names)
            + "<th class='l'>capabilities lost (per profile)</th></tr>")
    rows = []
    for t in rep.worst:
        vol = "".join(f"<td>{_num(t['volume'].get(n))}</td>" for n in names)
        rec = "".join(f"<td class='{_shade(t['recall'].get(n))}'>{_pct(t['recall'].get(n))}</td>" for n in names)
        lost = "; ".join(f"{h(rep.label(n))}: {h(t['lost'][n].replace(';', ', '))}" for n in names if t["lost"].get(n))
        errs = "; ".join(f"{h(rep.label(n))} failed: {h(e)}" for n, e in t["error"].items() if e)
        rows.append(f"<tr><td class='l'>{h(t['qid'])}</td><td class='l'>{h(t['kind'])}</td>"
                    f"<td>{t['relevant'] or 0:,.0f}</td>{vol}{rec}<td class='l lost'>{lost}{h(errs)}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _why(rep: Report) -> str:
    """Recall by source system, collapses, the entity view, and the worst needs drilled down."""
    parts = []
    srcs = sorted({s for n in rep.profiles for s in rep.agg["profiles"][n].get("breakdown", {}).get("source", {})})
    if srcs:
        parts.append("<h3>Recall by source system</h3><table><tr><th class='l'>profile</th>"
                     + "".join(f"<th>{h(s)}</th>" for s in srcs) + "</tr>")
        for n in rep.profiles:
            b = rep.agg["profiles"][n]["breakdown"]["source"]
            parts.append(f"<tr><td class='l'>{h(rep.label(n))}</td>" + "".join(
                f"<td>{_pct(b[s]['value']) if s in b else ''}</td>" for s in srcs) + "</tr>")
        parts.append("</table>")
    col = rep.agg.get("collapses", [])
    if col:
        parts.append("<h3>Where recall collapses against the baseline</h3><ul>" + "".join(
            f"<li>{h(rep.label(c['profile']))} on <b>{h(c['kind'].replace('_', ' '))}</b>: "
            f"{c['recall'] * 100:.0f}% against {c['baseline'] * 100:.0f}%</li>" for c in col) + "</ul>")
    ent = [(n, rep.agg["profiles"][n].get("breakdown", {}).get("entity")) for n in rep.profiles]
    if any(e and e["needs"] for _, e in ent):
        parts.append("<h3>Person needs: finding the person, and telling people apart</h3><table><tr>"
                     "<th class='l'>profile</th><th>person found (≥1 of their records)</th>"
                     "<th>different true people heading the results</th><th>records per true person</th></tr>")
        for n, e in ent:
            if e and e["needs"]:
                parts.append(f"<tr><td class='l'>{h(rep.label(n))}</td><td>{_pct(e['person_found']['value'])}</td>"
                             f"<td>{_num1(e['distinct_people']['value'])}</td><td>{_num1(e['records_per_person']['value'])}</td></tr>")
        parts.append("</table>")
    for n in rep.profiles:
        worst = rep.agg["profiles"][n].get("worst", [])
        if not worst or n == rep.baseline:
            continue
        parts.append(f"<h3>{h(rep.label(n))}: the needs it served worst</h3>")
        for w in worst[:3]:
            rows = "".join(f"<tr><td class='l'>{h(m['rid'])}</td><td class='l'>{h(m['source'])}</td>"
                           f"<td class='l'>{h(m['written'])}</td><td class='l'>{h(', '.join(m['kinds']))}</td></tr>"
                           for m in w["missed"][:8])
            lost = "; ".join(w["lost"]) or "nothing"
            parts.append(f"<p><b>{h(w['qid'])}</b>: recall {w['recall'] * 100:.0f}%, {w['missed_total']} relevant records "
                         f"missed. The plan could not express: {h(lost)}.</p><table><tr><th class='l'>record</th>"
                         f"<th class='l'>source</th><th class='l'>as written</th><th class='l'>errors it carries</th>"
                         f"</tr>{rows}</table>")
    return "\n".join(parts)


S62 = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure")


def _access(rep: Report) -> str:
    """Subject access (when the run holds SAR needs) and the s62 logging matrix."""
    parts = []
    summary = sar_summary(rep.run)
    if summary:
        parts.append("<h3>Subject access requests</h3><p>Each request searches with what a requester supplies "
                     "(full name, any alias, date of birth, address), combined as far as the profile can express it. "
                     "Other people's records in the results must be found and excluded before disclosure; any "
                     "missed would be a data breach inside the request.</p><table><tr><th class='l'>profile</th>"
                     "<th>requests</th><th>records found of those held</th><th>records missed</th>"
                     "<th>other people's records per request</th><th>analyst hours per request</th></tr>")
        for n, v in summary.items():
            c, f = v["completeness"], v["false_inclusions"]
            parts.append(f"<tr><td class='l'>{h(rep.label(n))}</td><td>{v['requests']}</td>"
                         f"<td>{_pct(c['value'])} ({_pct(c['lo'])}–{_pct(c['hi'])})</td>"
                         f"<td>{v['missed_total']} of {v['relevant_total']}</td>"
                         f"<td>{_num1(f['value'])} ({_num1(f['lo'])}–{_num1(f['hi'])})</td>"
                         f"<td>{fixed(v['hours']['value'])}</td></tr>")
        parts.append("</table>")
    parts.append("<h3>Logging against the Data Protection Act 2018, s62</h3><p>Which processing operations each "
                 "modelled system logs, as its profile declares (assumptions, marked in the method section). "
                 "polebench itself logs every search it issues (audit.jsonl in the run folder).</p>"
                 "<table><tr><th class='l'>operation</th>" + "".join(f"<th>{h(rep.label(n))}</th>" for n in rep.profiles)
                 + "</tr>")
    for op in S62:
        parts.append(f"<tr><td class='l'>{op}</td>" + "".join(
            f"<td>{'logged' if op in rep.run['profiles'][n].get('audit_s62', []) else '<b>not logged</b>'}</td>"
            for n in rep.profiles) + "</tr>")
    parts.append("</table>")
    return "\n".join(parts)


# The paired tests' measures in the report's units: sift cost per 1,000 searches, as everywhere else.
COMPARED = {"recall": ("recall (percentage points)", 100, "{:+.1f} pp"),
            "precision": ("precision (percentage points)", 100, "{:+.1f} pp"),
            "volume": ("records returned", 1, "{:+,.1f}"),
            "examined": ("records read by the modelled analyst", 1, "{:+,.1f}"),
            "recall_at_stop": ("recall where the analyst stopped (percentage points)", 100, "{:+.1f} pp"),
            "sift_hours": ("analyst-hours of sifting per 1,000 searches", 1000, "{:+,.0f}")}


def _diff(t: dict) -> str:
    v = t.get("mean_diff")
    if v is None or v != v:
        return "n/a"
    _, scale, fmt = COMPARED[t["measure"]]
    return fmt.format(v * scale)


def _p(v) -> str:
    return "n/a" if v is None or v != v else f"{v:.4f}"


def _num1(v) -> str:
    return "" if v is None else f"{v:,.1f}"


def _method(rep: Report) -> str:
    run = rep.run
    c = run["corpus"]
    prov = Provenance.of(c)
    if prov.origin != "generated":
        skipped = c["counts"].get("skipped_rows", 0)
        blanked = c["counts"].get("blanked_fields", 0)
        parts = [f"<h3>Corpus ({h(prov.records)})</h3><p>{c['counts']['records']:,} records imported from "
                 f"{h(prov.origin)}{f' (licence: {h(prov.licence)})' if prov.licence else ''}"
                 f"{f', {skipped:,} rows skipped' if skipped else ''}"
                 f"{f', {blanked:,} unreadable fields left blank in the rows kept' if blanked else ''}; source file checksum "
                 f"<code>{h((c.get('source_file') or '?')[:16])}</code>; checksum <code>{h(c['checksum'][:16])}</code>. "
                 f"Their errors are the ones their producer made; the generator's rates do not apply.</p>"]
    else:
        parts = [f"<h3>Corpus (synthetic)</h3><p>{c['counts']['records']:,} records from "
                 f"{len(c['counts']['per_source'])} source systems; seed {h(str(c.get('seed')))}; checksum "
                 f"<code>{h(c['checksum'][:16])}</code>. Every mention was written down with errors drawn per source "
                 f"system at the rates below (probability per eligible mention).</p>"]
    kinds = sorted({k for r in c["rates"].values() for k in r})
    parts.append("<table><tr><th class='l'>source</th><th>records</th>" + "".join(f"<th>{h(k)}</th>" for k in kinds) + "</tr>")
    for system in sorted(set(c["rates"]) | set(c["counts"]["per_source"])):
        rates = c["rates"].get(system, {})
        parts.append(f"<tr><td class='l'>{h(system)}</td><td>{c['counts']['per_source'].get(system, 0):,}</td>"
                     + "".join(f"<td>{rates.get(k, 0):g}</td>" for k in kinds) + "</tr>")
    parts.append("</table><h3>Profiles and their assumptions</h3>")
    for n in rep.profiles:
        p = run["profiles"][n]
        parts.append(f"<p><b>{h(p['label'])}</b> ({h(p['kind'])}): {h(p['description'])}</p><ul>"
                     + "".join(f"<li><i>assumption</i> — <code>{h(k)}</code>: {h(v)}</li>" for k, v in p["assumptions"].items())
                     + "</ul>")
    parts.append("<h3>Measures</h3><ul>" + "".join(f"<li><b>{h(k)}</b>: {h(v)}</li>" for k, v in definitions().items()) + "</ul>")
    parts.append("<p>Relevance is judged from the corpus truth, never by an engine: a record is relevant when it truly "
                 "concerns what the need describes, however it was written. Confidence intervals: 95% percentile "
                 f"bootstrap over needs (seed {run['bootstrap_seed']}). Comparisons with the baseline: paired randomisation "
                 "tests, Benjamini–Hochberg corrected.</p>")
    rows = "".join(f"<tr><td class='l'>{h(rep.label(t['profile']))}</td><td class='l'>{h(COMPARED[t['measure']][0])}</td>"
                   f"<td>{_diff(t)}</td><td>{_p(t.get('p'))}</td><td>{_p(t.get('p_adjusted'))}</td><td>{t.get('n', '')}</td></tr>"
                   for t in rep.agg["comparisons"] if t["measure"] in COMPARED)
    parts.append("<table><tr><th class='l'>profile</th><th class='l'>measure</th>"
                 "<th>mean difference vs baseline (per need)</th>"
                 f"<th>p</th><th>p (BH)</th><th>needs</th></tr>{rows}</table>")
    return "\n".join(parts)


def render(rep: Report) -> str:
    run = rep.run
    src = Provenance.of(run["corpus"])
    svgs = {name: fn(rep) for name, fn in charts.ALL.items()}
    chart_html = "".join(f"<div class='chart' id='chart-{k}'>{v}</div>" for k, v in svgs.items())
    headlines = "".join(f"<li>{h(x)}</li>" for x in rep.headlines)
    verdict = f"<p class='verdict'>{h(rep.band_verdict)}</p>" if rep.band_verdict else ""
    incomplete = f"<p class='bad'><strong>{h(rep.incomplete)}</strong></p>" if rep.incomplete else ""
    return _wide(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>polebench report ({src.tag}): {h(run['query_set']['query_set'])} on {h(run['corpus']['name'])}</title>
<style>{CSS.replace("__TAG__", src.tag)}</style></head><body>
<div class="provenance">{src.tag} — {h(src.sentence)} Profiles model each system's search from marked
assumptions.</div>
<div class="footer">polebench · {src.tag.lower()} · run {h(run['run_id'])}</div>
<h1>How well does each system's search find what analysts need?</h1>
<p class="meta">Run <code>{h(run['run_id'])}</code> · {h(run['created_at'])} · backend {h(run['backend'])} ·
baseline {h(rep.label(rep.baseline))} · {run['query_set']['queries']} needs from query set
<code>{h(run['query_set']['query_set'])}</code> · corpus <code>{h(run['corpus']['name'])}</code>
({run['corpus']['counts']['records']:,} {src.records}) · polebench {h(run['versions']['polebench'])}</p>
{incomplete}<h2>Headline findings{" (partial: from an incomplete run)" if rep.incomplete else ""}</h2>
<ul class="headlines">{headlines}</ul>{verdict}
<h2>Main table</h2>{_table(MAIN_HEADER, main_rows(rep))}
<p class="meta">Reference band: {h(BOARD_SOURCE)}.</p>
<h2>Charts</h2><div class="charts">{chart_html}</div>
<h2>Why a profile misses</h2>{_why(rep)}
<h2>Right of access and audit</h2>{_access(rep)}
<h2>Every need, worst first</h2>
<p class="meta">Sorted by how many times more records {h(rep.label('connect+iip') if 'connect+iip' in rep.profiles else rep.label(rep.profiles[-1]))}
returned than the baseline; recall below 50% is shaded. Each need's lists, record by record, with
what was missed and why: <b>explorer.html</b> in this report's folder.</p>{_per_query(rep)}
{f"<h2>How robust is this?</h2>{rep.robustness}" if rep.robustness else ""}
<h2>Method</h2>{_method(rep)}
</body></html>
""")


_TABLE = re.compile(r"<table>(\s*<tr>(?:(?!</tr>).)*?<th.*?</tr>)?(.*?)</table>", re.S)


def _wide(page: str) -> str:
    """Every table in a box of its own that scrolls sideways on a narrow screen, its header row a
    <thead> that a printed page repeats where the table breaks."""
    def one(m: re.Match) -> str:
        head = f"<thead>{m[1]}</thead>" if m[1] else ""
        return f"<div class='wide'><table>{head}<tbody>{m[2]}</tbody></table></div>"
    return _TABLE.sub(one, page)
