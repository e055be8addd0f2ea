"""report.md: the headline findings and the main table, for a CI job summary or a pull request."""

from __future__ import annotations

import html
import re
from typing import Callable

from bench.access.sar import sar_summary
from bench.report.model import Report, ratio
from bench.run.results import Estimate


def cell(e: Estimate, scale: float = 1.0, fmt: str | Callable[[float], str] = "{:.2f}") -> str:
    """An estimate with its interval: `value [lo, hi]`."""
    if not e.defined:
        return "n/a"
    f = (lambda v: fmt(v * scale)) if callable(fmt) else (lambda v: fmt.format(v * scale))  # noqa: E731
    return f"{f(e.value)} [{f(e.lo)}, {f(e.hi)}]"


_MARKS = re.compile(r"([\\`*_\[\]|])")


def md(text: str) -> str:
    """Text that a user wrote (a profile's label, an import's origin and licence, sentences that
    quote them) as Markdown shows it literally: HTML escaped as the HTML report escapes it, and
    Markdown's own marks backslash-escaped, so that no label injects a tag, a link or a column."""
    return _MARKS.sub(r"\\\1", html.escape(str(text), quote=False))


def fixed(v: float | None, fmt: str = "{:.2f}") -> str:
    """A number, or n/a where it is undefined (no need of the kind completed)."""
    return "n/a" if v is None or v != v else fmt.format(v)


MAIN_HEADER = ("profile", "mean volume", "inflation (ratio of totals)", "median inflation", "recall",
               "precision (needs returning something)", "needs returning nothing", "sift h / 1,000 searches",
               "needs with lost capability")


def main_rows(rep: Report) -> list[list[str]]:
    """The main table's cells, one row per profile; both renderers draw these."""
    rows = []
    for n in rep.profiles:
        p = rep.agg.profiles[n]
        rows.append([rep.label(n), cell(p.mean["volume"], fmt="{:,.0f}"),
                     cell(p.inflation.ratio_of_totals, fmt=ratio), cell(p.inflation.median, fmt=ratio),
                     cell(p.mean["recall"], 100, "{:.0f}%"), cell(p.mean["precision"], 100, "{:.0f}%"),
                     f"{p.returned_nothing}/{p.queries}", cell(p.sift_hours_per_1000, fmt="{:,.0f}"), f"{p.queries_with_lost}/{p.queries}"])
    return rows


def main_table(rep: Report) -> list[str]:
    return (["| " + " | ".join(MAIN_HEADER) + " |", "|---" + "|---:" * (len(MAIN_HEADER) - 1) + "|"]
            + ["| " + " | ".join([md(r[0]), *r[1:]]) + " |" for r in main_rows(rep)])


def render(rep: Report) -> str:
    run = rep.run
    src = run.corpus.provenance
    lines = [f"# polebench: {md(run.query_set.query_set)} on {md(run.corpus.name)}",
             "",
             f"> **{src.tag}.** {md(src.sentence)} The profiles model the systems' search from marked assumptions.",
             "",
             f"Run `{run.run_id}` · backend `{run.backend}` · baseline {md(rep.label(rep.baseline))} · "
             f"{run.query_set.queries} needs · {run.corpus.records:,} records · "
             f"95% bootstrap confidence intervals in brackets.",
             ""]
    if rep.incomplete:
        lines += [f"> **{md(rep.incomplete)}**", ""]
    lines += ["## Headline findings" + (" (partial: from an incomplete run)" if rep.incomplete else ""), ""]
    lines += [f"- {md(h)}" for h in rep.headlines]
    if rep.band_verdict:
        lines += ["", f"**Against the board papers:** {md(rep.band_verdict)}"]
    lines += ["", "## Main table", ""] + main_table(rep)
    sar = sar_summary(run)
    if sar:
        lines += ["", "## Subject access requests", "",
                  "| profile | records found of those held | records missed | other people's records per request | hours per request |",
                  "|---|---:|---:|---:|---:|"]
        for n, v in sar.items():
            lines.append(f"| {md(rep.label(n))} | {cell(v.completeness, 100, '{:.0f}%')} | {v.missed_total}/{v.relevant_total} "
                         f"| {cell(v.false_inclusions, fmt='{:,.1f}')} | {fixed(v.hours.value)} |")
    return "\n".join(lines) + "\n"
