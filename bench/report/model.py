"""The report's data, apart from its renderers: headline findings, tables and chart series,
built from a finished run folder only (run.json, per_query.csv, outcomes/)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import PolebenchError
from bench.metrics.measures import DEFINITIONS
from bench.metrics.registry import TEXT_COLUMNS
from bench.provenance import Provenance
from bench.run.incomplete import incomplete_note, require_complete
from bench.run.store import read_run_json

# The MOPAC Oversight Board paper on CONNECT, 19 July 2022: "an overwhelming volume of data being
# returned to sift through (estimated at 4-6 times the amount from existing systems)". Drawn as a
# reference band and compared with in words; never an input to any measured number.
BOARD_ESTIMATE = (4.0, 6.0)
BOARD_SOURCE = "MOPAC Oversight Board paper on CONNECT, 19 July 2022 (an estimate, not a measurement)"
UNION = "connect+iip"


@dataclass
class Report:
    run: dict
    rows: list[dict]
    headlines: list[str] = field(default_factory=list)
    band_verdict: str = ""
    worst: list[dict] = field(default_factory=list)
    robustness: str = ""  # a sweep's section (trusted HTML made by bench.sweep.report), if given
    incomplete: str = ""  # said before any figure when searches failed (a report asked for with --partial)

    @property
    def agg(self) -> dict:
        return self.run["aggregates"]

    @property
    def profiles(self) -> list[str]:
        return list(self.run.get("profile_order") or self.agg["profiles"])

    @property
    def baseline(self) -> str:
        return self.agg["baseline"]

    def upper_bound(self, name: str) -> bool:
        return bool(self.run["profiles"].get(name, {}).get("upper_bound"))

    def label(self, name: str) -> str:
        return self.run["profiles"].get(name, {}).get("label", name)


def load_run(run_dir: Path) -> tuple[dict, list[dict]]:
    f = run_dir / "run.json"
    if not f.is_file():
        raise PolebenchError(f"{run_dir}: not a finished run folder (no run.json)")
    run = read_run_json(run_dir)
    with open(run_dir / "per_query.csv") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k, v in r.items():
            if k not in TEXT_COLUMNS and v not in ("", None):
                r[k] = float(v)
    return run, rows


def ratio(v: float | None) -> str:
    """A ratio: one decimal, none from 100, and two significant digits below 0.1 (a system that
    returns a fiftieth of the baseline's volume is not "0.0")."""
    if v is None or v != v:
        return "n/a"
    if 0 < v < 0.1:
        return f"{v:.2g}"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def x(v: float | None) -> str:
    """A ratio said as "times": 8.0×."""
    r = ratio(v)
    return r if r == "n/a" else r + "×"


def ci_x(e: dict) -> str:
    return f"{x(e['value'])} (95% CI {x(e['lo'])}–{x(e['hi'])})"


def pct(e: dict) -> str:
    if e["value"] is None:
        return "n/a"
    return f"{e['value'] * 100:.0f}% (95% CI {e['lo'] * 100:.0f}–{e['hi'] * 100:.0f}%)"


def band_position(value: float, lo: float = BOARD_ESTIMATE[0], hi: float = BOARD_ESTIMATE[1]) -> str:
    if value is None or value != value:
        return "cannot be compared (no baseline volume)"
    return "inside" if lo <= value <= hi else "below" if value < lo else "above"


def build(run_dir: Path, partial: bool = False) -> Report:
    """The report's data; refused for an incomplete run unless `partial` (then marked so)."""
    run, rows = load_run(run_dir)
    require_complete(run, run_dir, partial, "report")
    rep = Report(run, rows, incomplete=incomplete_note(run))
    agg, base = rep.agg, rep.baseline
    n = run["query_set"]["queries"]
    spr = run["seconds_per_record"]
    rep.headlines += lead(rep)
    for name in rep.profiles:
        if name == base:
            continue
        p = agg["profiles"][name]
        inf = p["inflation"]
        rep.headlines.append(
            f"For the same {n} needs, {rep.label(name)} returned {ci_x(inf['ratio_of_totals'])} as many records "
            f"as the baseline ({rep.label(base)}) in total; the median need returned {ci_x(inf['median'])}"
            + (f" ({inf['undefined']} needs where the baseline returned nothing are left out of the median)."
               if inf["undefined"] else "."))
    for name in rep.profiles:
        p = agg["profiles"][name]
        empty = p.get("returned_nothing", 0)
        rep.headlines.append(f"{rep.label(name)} found {pct(p['mean']['recall'])} of the relevant records per need "
                             f"at a precision of {pct(p['mean']['precision'])}"
                             + (f" (over the {p['queries'] - empty} needs it returned something for; {empty} "
                                f"returned nothing, which counts as recall 0)." if empty else "."))
    for name in rep.profiles:
        if name == base:
            continue
        e = agg["profiles"][name]["extra_sift_hours_per_1000"]
        if e["value"] is None or e["value"] != e["value"]:  # no need both it and the baseline completed
            continue
        # a saving is said as "fewer", its interval turned round to match
        word, lo, hi = ("more", e["lo"], e["hi"]) if e["value"] >= 0 else ("fewer", -e["hi"], -e["lo"])
        rep.headlines.append(
            f"Sifting {rep.label(name)}'s results costs {abs(e['value']):,.0f} {word} analyst-hours per 1,000 searches "
            f"than the baseline (95% CI {lo:,.0f} to {hi:,.0f}), at {spr:g} seconds per record.")
    for name in rep.profiles:
        p = agg["profiles"][name]
        if p["queries_with_lost"]:
            caps = ", ".join(f"{c.replace('_', ' ')} ({k})" for c, k in
                             sorted(p["lost_capabilities"].items(), key=lambda kv: -kv[1])[:4])
            rep.headlines.append(f"{rep.label(name)} could not fully express {p['queries_with_lost']} of "
                                 f"{p['queries']} needs: {caps}.")
    if UNION in agg["profiles"] and UNION != base:
        v = agg["profiles"][UNION]["inflation"]["ratio_of_totals"]
        pos = band_position(v["value"])
        ci_pos = {band_position(v["lo"]), band_position(v["hi"])}
        data = "synthetic data" if Provenance.of(rep.run["corpus"]).synthetic else "imported records"
        rep.band_verdict = (
            f"The board papers estimated that CONNECT+IIP returns 4–6 times the volume of the old systems. "
            f"Measured here on {data}, the ratio is {ci_x(v)}: {pos} the estimated band"
            + ("" if ci_pos == {pos} else " (its confidence interval reaches outside the band)") + ". "
            f"This measurement depends on the profiles' marked assumptions and the corpus; the estimate "
            f"({BOARD_SOURCE}) is shown for comparison only.")
    rep.worst = worst_first(rep)
    return rep


def _range(d: dict, fmt) -> str:
    return f"range {fmt(d['p10'])}–{fmt(d['p90'])}" if d.get("median") is not None else "no range"


def _pct_of(v: float | None) -> str:
    return "n/a" if v is None or v != v else f"{v * 100:.0f}%"


def lead(rep: Report) -> list[str]:
    """The headline an officer reads first: effort and what is found, under the modelled analyst,
    over the range of documented reading behaviours; then returned volume, central and bound."""
    agg, base = rep.agg, rep.baseline
    beh = agg.get("behaviour")
    central = [n for n in rep.profiles if n != base and not rep.upper_bound(n)]
    if not beh or not central:
        return []
    target = UNION if UNION in central else central[-1]
    p, spread = agg["profiles"][target], beh["profiles"][target]
    e, f = p["effort"], spread["found_ratio"]
    ex = spread["examined_ratio"]
    out = [f"To find what they were looking for, an analyst using {rep.label(target)} reads "
           f"{x(ex['median'])} as many records as on the legacy system, {rep.label(base)} "
           f"({_range(ex, x)} over {beh['samples']} reading behaviours; at the central behaviour "
           f"{ci_x(e['examined_ratio_of_totals'])} over needs), and finds {_pct_of(f['median'])} of what the "
           f"legacy system found ({_range(f, _pct_of)}; central {_pct_of(e['found_ratio_of_totals']['value'])})."]
    inf = p["inflation"]
    bound = f"{target}-naive"
    words = (f"Returned volume: {ci_x(inf['ratio_of_totals'])} under the same behaviour")
    if bound in agg["profiles"] and rep.upper_bound(bound):
        words += (f"; {ci_x(agg['profiles'][bound]['inflation']['ratio_of_totals'])} if every word is ORed "
                  f"and every hit read ({rep.label(bound)}: an upper bound, not a behaviour)")
    words += (f". Per need, the median ratio is {x(inf['median']['value'])} and the geometric mean "
              f"{x(inf['geometric_mean']['value'])}")
    carriers = [c for c in inf.get("carriers", []) if c.get("share")]
    if carriers:
        share = sum(c["share"] for c in carriers)
        words += (f"; {len(carriers)} needs ({', '.join(c['qid'] for c in carriers)}) carry "
                  f"{share * 100:.0f}% of its total volume")
    out.append(words + ".")
    return out


def worst_first(rep: Report) -> list[dict]:
    """One row per need, the largest union (or last profile) inflation first, then lowest recall."""
    target = UNION if UNION in rep.profiles else rep.profiles[-1]
    table: dict[str, dict] = {}
    for r in rep.rows:
        t = table.setdefault(r["qid"], {"qid": r["qid"], "kind": r["kind"], "relevant": r.get("relevant"),
                                        "volume": {}, "recall": {}, "lost": {}, "error": {}})
        t["volume"][r["profile"]] = r.get("volume")
        t["recall"][r["profile"]] = r.get("recall")
        t["lost"][r["profile"]] = r.get("lost_capabilities") or ""
        t["error"][r["profile"]] = r.get("error") or ""
    def key(t: dict) -> tuple:
        v, b = t["volume"].get(target), t["volume"].get(rep.baseline)
        inf = (v / b) if isinstance(v, float) and isinstance(b, float) and b > 0 else float("inf") if v else 0.0
        return (-inf, t["recall"].get(target) or 0.0)
    return sorted(table.values(), key=key)


def definitions() -> dict[str, str]:
    return DEFINITIONS
