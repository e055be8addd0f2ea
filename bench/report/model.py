"""The report's data, apart from its renderers: headline findings, tables and chart series,
built from a finished run folder only (run.json, per_query.csv, outcomes/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus.spec import ENTITY_ERRORS
from bench.metrics.measures import DEFINITIONS
from bench.run.incomplete import incomplete_note, require_complete
from bench.run.results import Aggregates, Behaviours, Estimate, RunResults, Spread, read_results
from bench.run.rows import Row, read_rows

# The MOPAC Oversight Board paper on CONNECT, 19 July 2022: "an overwhelming volume of data being
# returned to sift through (estimated at 4-6 times the amount from existing systems)". Drawn as a
# reference band and compared with in words; never an input to any measured number.
BOARD_ESTIMATE = (4.0, 6.0)
BOARD_SOURCE = "MOPAC Oversight Board paper on CONNECT, 19 July 2022 (an estimate, not a measurement)"


@dataclass
class Report:
    run: RunResults
    rows: list[Row]
    headlines: list[str] = field(default_factory=list)
    band_verdict: str = ""
    worst: list[dict] = field(default_factory=list)
    robustness: str = ""  # a sweep's section (trusted HTML made by bench.sweep.report), if given
    incomplete: str = ""  # said before any figure when searches failed (a report asked for with --partial)
    # explorer.html's lists cut to their first this many records (the run files are too large for
    # one page to hold them whole); None: every list whole
    explorer_cap: int | None = None

    @property
    def agg(self) -> Aggregates:
        return self.run.aggregates

    @property
    def profiles(self) -> list[str]:
        return list(self.run.profile_order)

    @property
    def baseline(self) -> str:
        return self.agg.baseline

    def upper_bound(self, name: str) -> bool:
        return self.run.upper_bound(name)

    def label(self, name: str) -> str:
        return self.run.label(name)


def load_run(run_dir: Path) -> tuple[RunResults, list[Row]]:
    """run.json, and per_query.csv as the aggregation reads it (bench.run.rows): numbers as floats
    (None where empty), lost capabilities as a tuple, a few numbers a row rather than a dict."""
    run = read_results(run_dir)
    return run, read_rows(run_dir / "per_query.csv", run.query_set.queries * len(run.profile_order))


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


def ci_x(e: Estimate) -> str:
    if not defined(e):
        return "n/a"
    return f"{x(e.value)} (95% CI {x(e.lo)}–{x(e.hi)})"


def defined(e: Estimate | None) -> bool:
    """Is an estimate a number? An undefined one (no needs to average, a baseline total of 0) is
    NaN in memory and null in run.json."""
    return e is not None and e.defined


def _number(v: float | None) -> bool:
    return v is not None and v == v


def pct(e: Estimate) -> str:
    if not defined(e):
        return "n/a"
    if not _number(e.lo) or not _number(e.hi):
        return f"{e.value * 100:.0f}%"
    return f"{e.value * 100:.0f}% (95% CI {e.lo * 100:.0f}–{e.hi * 100:.0f}%)"


def band_position(value: float, lo: float = BOARD_ESTIMATE[0], hi: float = BOARD_ESTIMATE[1]) -> str:
    if value is None or value != value:
        return "cannot be compared (no baseline volume)"
    return "inside" if lo <= value <= hi else "below" if value < lo else "above"


# Below this many needs a percentile bootstrap over needs is too unstable for its interval, or a
# comparison with the board's band, to mean much (assumed; the interval's n is printed beside it).
MIN_NEEDS = 20


def why_undefined(rep: Report, name: str, against_baseline: bool = True) -> str:
    """Why a profile's figure against the baseline cannot be computed, in words."""
    agg, base = rep.agg.profiles, rep.baseline
    p = agg[name]
    if not p.queries:
        return f"every one of {rep.label(name)}'s {p.failed} searches failed"
    if against_baseline and name != base:
        b = agg[base]
        if not b.queries:
            return f"every one of the baseline's ({rep.label(base)}) {b.failed} searches failed"
        if not b.volume_total:
            return f"the baseline ({rep.label(base)}) returned nothing for any need it was measured on"
    return "no need gives it a value"


def same_as_member(rep: Report, name: str) -> str | None:
    """The member of a union whose list the union returned for every need, if there is one: its
    figures are that member's, said once rather than repeated."""
    members = info.union_of if (info := rep.run.profiles.get(name)) else []
    mine = {r["qid"]: (r.get("volume"), r.get("recall"), r.get("error") or "") for r in rep.rows if r["profile"] == name}
    if all(err for _, _, err in mine.values()):
        return None  # nothing measured is not "the same figures"
    for m in members:
        theirs = {r["qid"]: (r.get("volume"), r.get("recall"), r.get("error") or "") for r in rep.rows if r["profile"] == m}
        if mine and mine == theirs:
            return m
    return None


def build(run_dir: Path, partial: bool = False) -> Report:
    """The report's data; refused for an incomplete run unless `partial` (then marked so)."""
    run, rows = load_run(run_dir)
    require_complete(run, run_dir, partial, "report")
    rep = Report(run, rows, incomplete=incomplete_note(run))
    agg, base = rep.agg, rep.baseline
    n = run.query_set.queries
    spr = run.seconds_per_record
    measured = {name: agg.profiles[name].queries for name in rep.profiles}
    if not any(measured.values()):
        failed, in_rows = run.failed, sum(1 for r in rows if r.get("error"))
        also = f"; {failed - in_rows} more by the readers who reformulate" if failed > in_rows else ""
        rep.headlines.append(f"Nothing could be measured: every search of the {n} needs failed "
                             f"({in_rows} searches in per_query.csv{also}); rerun with --resume.")
        rep.band_verdict = ("The board papers estimated that CONNECT+IIP returns 4–6 times the volume of the old "
                            "systems. This run cannot be compared with that estimate: no search was measured.")
        rep.worst = worst_first(rep)
        return rep
    if min(v for v in measured.values() if v) < MIN_NEEDS:
        few = min((k for k, v in measured.items() if v), key=measured.get)
        rep.headlines.append(f"Few needs: these figures rest on as few as {measured[few]} needs ({rep.label(few)}); "
                             f"below {MIN_NEEDS} their 95% intervals are unstable and say little, and a comparison "
                             f"with the board's estimate means little.")
    rep.headlines += lead(rep)
    rep.headlines += ceiling(rep)
    echoes = {name: m for name in rep.profiles if (m := same_as_member(rep, name))}
    for name, m in echoes.items():
        rep.headlines.append(f"{rep.label(name)} returned exactly what {rep.label(m)} returned for every need: "
                             f"its figures are {rep.label(m)}'s and are not repeated below.")
    shown = [name for name in rep.profiles if name not in echoes]
    for name in shown:
        if name == base:
            continue
        p = agg.profiles[name]
        inf = p.inflation
        if not defined(inf.ratio_of_totals):
            rep.headlines.append(f"{rep.label(name)}'s volume against the baseline cannot be computed: "
                                 f"{why_undefined(rep, name)}.")
            continue
        rep.headlines.append(
            f"For the same {inf.ratio_of_totals.n} needs, {rep.label(name)} returned "
            f"{ci_x(inf.ratio_of_totals)} as many records as the baseline ({rep.label(base)}) in total; "
            + (f"the median need returned {ci_x(inf.median)}" if defined(inf.median) else
               "no median per need (the baseline returned nothing for every need)")
            + (f" ({inf.undefined} needs where the baseline returned nothing are left out of the median)."
               if inf.undefined and defined(inf.median) else "."))
    for name in shown:
        p = agg.profiles[name]
        if not p.queries:
            rep.headlines.append(f"{rep.label(name)}: nothing measured, {why_undefined(rep, name, False)}.")
            continue
        empty = p.returned_nothing
        failed = p.failed
        rep.headlines.append(f"{rep.label(name)} found {pct(p.mean['recall'])} of the relevant records per need "
                             + (f"at a precision of {pct(p.mean['precision'])}" if defined(p.mean["precision"])
                                else "(precision undefined: it returned nothing for any need)")
                             + (f" (over the {p.queries - empty} needs it returned something for; {empty} "
                                f"returned nothing, which counts as recall 0)" if empty else "")
                             + (f"; {failed} of its searches failed and {'is' if failed == 1 else 'are'} left out"
                                if failed else "") + ".")
    for name in shown:
        if name == base:
            continue
        e = agg.profiles[name].extra_sift_hours_per_1000
        if not defined(e):
            rep.headlines.append(f"{rep.label(name)}'s sifting cost against the baseline cannot be computed: "
                                 f"{why_undefined(rep, name)}.")
            continue
        # a saving is said as "fewer", its interval turned round to match
        word, lo, hi = ("more", e.lo, e.hi) if e.value >= 0 else ("fewer", -e.hi, -e.lo)
        rep.headlines.append(
            f"Sifting {rep.label(name)}'s results costs {round(abs(e.value)):,} {word} analyst-hours per 1,000 "
            f"searches than the baseline (95% CI {round(lo):,} to {round(hi):,}), at {spr:g} seconds per record.")
    for name in shown:
        p = agg.profiles[name]
        if p.queries_with_lost:
            caps = ", ".join(f"{c.replace('_', ' ')} ({k})" for c, k in
                             sorted(p.lost_capabilities.items(), key=lambda kv: -kv[1])[:4])
            rep.headlines.append(f"{rep.label(name)} could not fully express {p.queries_with_lost} of "
                                 f"{p.queries} needs: {caps}.")
    union = run.union()
    if union is not None and union != base:
        v = agg.profiles[union].inflation.ratio_of_totals
        if not defined(v):
            rep.band_verdict = (f"The board papers estimated that CONNECT+IIP returns 4–6 times the volume of the old "
                                f"systems. This run cannot be compared with that estimate: {why_undefined(rep, union)}.")
        else:
            pos = band_position(v.value)
            ci_pos = {band_position(v.lo), band_position(v.hi)}
            data = "synthetic data" if rep.run.corpus.provenance.synthetic else "imported records"
            rep.band_verdict = (
                f"The board papers estimated that CONNECT+IIP returns 4–6 times the volume of the old systems. "
                f"Measured here on {data}, {rep.label(union)}'s ratio is {ci_x(v)}: {pos} the estimated band"
                + ("" if ci_pos == {pos} else " (its confidence interval reaches outside the band)") + ". "
                + (f"It rests on {v.n} needs only, too few for the comparison to mean much. "
                   if v.n < MIN_NEEDS else "")
                + f"This measurement depends on the profiles' marked assumptions and the corpus; the estimate "
                  f"({BOARD_SOURCE}) is shown for comparison only.")
    rep.worst = worst_first(rep)
    return rep


def _range(d: Spread, fmt) -> str:
    return f"range {fmt(d.p10)}–{fmt(d.p90)}" if d.median is not None else "no range"


def _pct_of(v: float | None) -> str:
    return "n/a" if v is None or v != v else f"{v * 100:.0f}%"


def _behaviours(beh: Behaviours) -> str:
    """What the sampled behaviours vary: how far the analyst reads and, where the run searched
    free text a second way, how they formulate."""
    if beh.reformulating:
        return (f"reading behaviours, some of them narrowing a free-text search a criterion at a time "
                f"while it returns more than {beh.narrow_above:,} records")
    return "reading behaviours"


def is_reference(rep: Report, name: str) -> bool:
    """A ceiling to compare with (kind: reference), not a system an analyst uses today."""
    info = rep.run.profiles.get(name)
    return info is not None and info.kind == "reference"


def ceiling(rep: Report) -> list[str]:
    """What good looks like: each reference profile beside the legacy baseline - recall, precision,
    effort, volume, and the kinds of error it closes and leaves open (the error breakdown): of an
    entity's details only, since it searches places and events as the baseline does."""
    agg, base = rep.agg, rep.baseline
    out = []
    for name in rep.profiles:
        if name == base or not is_reference(rep, name) or not agg.profiles[name].queries:
            continue
        p, b = agg.profiles[name], agg.profiles[base]
        ex, inf = p.effort.examined_ratio_of_totals, p.inflation.ratio_of_totals
        kinds, bkinds = p.breakdown.kind, b.breakdown.kind
        gain = sorted(((kinds[k].value - bkinds[k].value, k) for k in kinds
                       if k in bkinds and defined(kinds[k]) and defined(bkinds[k]) and k in ENTITY_ERRORS), reverse=True)
        closes = [f"{k.replace('_', ' ')} {_pct_of(bkinds[k].value)}→{_pct_of(kinds[k].value)}"
                  for d, k in gain[:3] if d > 0]
        open_ = sorted((kinds[k].value, k) for k in kinds if defined(kinds[k]) and k in ENTITY_ERRORS)
        out.append(
            f"What good looks like: {rep.label(name)}, an entity-resolution search built from published "
            f"record-linkage practice (a ceiling to compare with, not a system any force runs), found "
            f"{pct(p.mean['recall'])} of the relevant records per need at a precision of "
            f"{pct(p.mean['precision'])}, against {pct(b.mean['recall'])} at {pct(b.mean['precision'])} "
            f"for {rep.label(base)}; it returned {ci_x(inf)} the baseline's records, and the modelled analyst "
            f"reads {ci_x(ex)} as many items as on the baseline (one entry per candidate person, plate or number "
            f"where it groups them). "
            + (f"Where records carry these errors it gains most on the baseline (share found, baseline → "
               f"{rep.label(name)}): {'; '.join(closes)}"
               if closes else "No kind of error is found more often than by the baseline")
            + (f"; it finds least of those written as {open_[0][1].replace('_', ' ')} ({_pct_of(open_[0][0])})"
               if open_ else "")
            + " (over every need; places, events and associates it searches as the baseline does).")
    return out


def lead(rep: Report) -> list[str]:
    """The headline an officer reads first: effort and what is found, under the modelled analyst,
    over the range of documented reading behaviours; then returned volume, central and bound."""
    agg, base = rep.agg, rep.baseline
    beh = agg.behaviour
    central = [n for n in rep.profiles if n != base and not rep.upper_bound(n) and not is_reference(rep, n)]
    if not central:
        return []
    union = rep.run.union()
    target = union if union in central else central[-1]
    p, spread = agg.profiles[target], beh.profiles.get(target)
    if spread is None or not defined(p.effort.examined_ratio_of_totals):
        return [f"The analyst's effort with {rep.label(target)} against the legacy system ({rep.label(base)}) cannot "
                f"be computed: {why_undefined(rep, target)}."]
    e, f = p.effort, spread.found_ratio
    ex = spread.examined_ratio
    out = [f"To find what they were looking for, an analyst using {rep.label(target)} reads "
           f"{x(ex.median)} as many records as on the legacy system, {rep.label(base)} "
           f"({_range(ex, x)} over {beh.samples} {_behaviours(beh)}; at the central behaviour "
           f"{ci_x(e.examined_ratio_of_totals)} over needs), and finds {_pct_of(f.median)} of what the "
           f"legacy system found ({_range(f, _pct_of)}; central {_pct_of(e.found_ratio_of_totals.value)})."]
    inf = p.inflation
    bound = rep.run.bound_of(target)
    words = (f"Returned volume: {ci_x(inf.ratio_of_totals)} under the same behaviour")
    if bound is not None:
        words += (f"; {ci_x(agg.profiles[bound].inflation.ratio_of_totals)} if every word is ORed "
                  f"and every hit read ({rep.label(bound)}: an upper bound, not a behaviour)")
    words += (f". Per need, the median ratio is {x(inf.median.value)} and the geometric mean "
              f"{x(inf.geometric_mean.value)}")
    carriers = [c for c in inf.carriers if c.share]
    if carriers:
        share = sum(c.share for c in carriers)
        words += (f"; {len(carriers)} needs ({', '.join(c.qid for c in carriers)}) carry "
                  f"{share * 100:.0f}% of its total volume")
    out.append(words + ".")
    return out


def sorted_by(rep: Report) -> str:
    """The profile whose inflation orders the per-need table: the union where the run has it, else
    the last profile that is a system in use (a reference is a ceiling, not today's system). One
    rule for the sort and for the sentence that names it."""
    today = [n for n in rep.profiles if not is_reference(rep, n)] or rep.profiles
    return rep.run.union() or today[-1]


def worst_first(rep: Report) -> list[dict]:
    """One row per need, the largest inflation of `sorted_by` first, then lowest recall."""
    target = sorted_by(rep)
    table: dict[str, dict] = {}
    for r in rep.rows:
        t = table.setdefault(r["qid"], {"qid": r["qid"], "kind": r["kind"], "relevant": r.get("relevant"),
                                        "volume": {}, "recall": {}, "lost": {}, "error": {}})
        t["volume"][r["profile"]] = r.get("volume")
        t["recall"][r["profile"]] = r.get("recall")
        t["lost"][r["profile"]] = r["lost_capabilities"]
        t["error"][r["profile"]] = r.get("error") or ""
    def key(t: dict) -> tuple:
        v, b = t["volume"].get(target), t["volume"].get(rep.baseline)
        inf = (v / b) if isinstance(v, float) and isinstance(b, float) and b > 0 else float("inf") if v else 0.0
        return (-inf, t["recall"].get(target) or 0.0)
    return sorted(table.values(), key=key)


def definitions() -> dict[str, str]:
    return DEFINITIONS
