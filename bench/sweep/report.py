"""The sweep's charts and words: how the union's inflation (CONNECT+IIP's, or whichever union
profile of the systems in use today the sweep runs) and each profile's recall move with data
quality, size, name skew and each profile assumption. The board's 4-6x is a reference band."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.report.charts import BAND, Palette, _svg  # noqa: E402
from bench.profiles.model import ProfileSet  # noqa: E402
from bench.report.model import BOARD_ESTIMATE, band_position  # noqa: E402
from bench.sweep.model import Sweep  # noqa: E402
from bench.report.templating import render, trusted  # noqa: E402


def _series(rows: list[dict], axis: str) -> dict[str, list[tuple[float, dict]]]:
    out: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for r in rows:
        if r["axis"] == axis:
            out[r["profile"]].append((float(r["value"]), r))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in out.items()}


def line_chart(rows: list[dict], axis: str, xlabel: str, pal: Palette, logx: bool = False) -> str:
    series = _series(rows, axis)
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    for prof, pts in sorted(series.items()):
        pts = [(x, r) for x, r in pts if r["ratio"] is not None]
        if not pts:
            continue
        xs = [x for x, _ in pts]
        ax.plot(xs, [r["ratio"] for _, r in pts], marker=pal.marker(prof), color=pal.colour(prof), label=prof)
        ax.fill_between(xs, [r["ratio_lo"] for _, r in pts], [r["ratio_hi"] for _, r in pts],
                        color=pal.colour(prof), alpha=0.15)
    ax.axhspan(*BOARD_ESTIMATE, color=BAND, alpha=0.35, label="board estimate 4–6×")
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("× baseline (ratio of totals)")
    ax.set_title(f"Inflation against {xlabel} (95% CI bands)", loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)


TORNADO_TITLES = {"ratio": ("Which assumption moves {}'s inflation most",
                            "{} × baseline over the axis's values"),
                  "examined_ratio": ("Which assumption moves what an analyst reads on {} most",
                                     "records read on {} × baseline, over the axis's values")}


def tornado(rows: list[dict], union: str | None, label: str, pal: Palette, measure: str = "ratio") -> tuple[str, list[tuple[str, float, float]]]:
    """Which factor moves the union's figure most (its volume ratio, or its ratio of records
    read): its range over each axis's values, against the base cell."""
    base = next((r[measure] for r in rows if r["axis"] == "base" and r["profile"] == union), None)
    spans: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["profile"] == union and r["axis"] != "base" and r.get(measure) is not None:
            spans[r["axis"]].append(r[measure])
            if base is not None:  # a bar spans the base value too: the axis moves the figure from there
                spans[r["axis"]].append(base)
    bars = sorted(((a, min(v), max(v)) for a, v in spans.items()), key=lambda t: t[2] - t[1])
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * max(1, len(bars)) + 1.0))
    fill = pal.colour(union) if union else "black"
    for i, (a, lo, hi) in enumerate(bars):
        ax.barh(i, hi - lo, left=lo, color=fill)
        if hi <= lo * 1.02:  # an axis that barely moves the ratio: a bar too thin to see, so a mark
            ax.plot([lo], [i], marker="|", ms=14, mew=2.5, color=fill)
    ax.set_yticks(range(len(bars)), [a for a, _, _ in bars], fontsize=7)
    if base:
        ax.axvline(base, color="black", lw=0.8, label=f"base {base:.1f}×")
    ax.axvspan(*BOARD_ESTIMATE, color=BAND, alpha=0.35, label="board estimate 4–6×")
    ax.set_xscale("log")
    ax.set_xlabel(TORNADO_TITLES[measure][1].format(label))
    ax.set_title(TORNADO_TITLES[measure][0].format(label), loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig), bars


def sentences(rows: list[dict], union: str | None, label: str) -> list[str]:
    """Per axis: under which values the union's measurement falls inside, below or above 4-6x."""
    out = []
    by_axis: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["profile"] == union and r["ratio"] is not None:
            by_axis[r["axis"]].append(r)
    for axis, rs in by_axis.items():
        parts = []
        for pos in ("below", "inside", "above"):
            vals = [r["value"] or "base" for r in rs if band_position(r["ratio"]) == pos]
            if vals:
                parts.append(f"{pos} the band at {', '.join(map(str, vals))}")
        out.append(f"{axis}: {label}'s inflation is " + "; ".join(parts) + ".")
    return out


def compared(sweep: Sweep) -> tuple[str | None, str]:
    """The sweep's union profile of the systems in use today (as its rows name it) and its label."""
    profiles = ProfileSet(list(sweep.profiles))
    union = profiles.union()
    entry = next((given for given, name in zip(sweep.profiles, profiles.order) if name == union), None)
    return entry, profiles[union].label if union else "the union"


def palette(sweep: Sweep) -> Palette:
    """The sweep's profiles as its rows name them, each with the colour its file declares."""
    profiles = ProfileSet(list(sweep.profiles))
    return Palette({given: profiles[name].colour for given, name in zip(sweep.profiles, profiles.order)})


def write_sweep_report(d: Path, sweep: Sweep, rows: list[dict]) -> None:
    charts = {}
    pal = palette(sweep)
    if sweep.axes.corruption_scale:
        charts["corruption_scale"] = line_chart(rows, "corruption_scale", "corruption scale (× every rate)", pal)
    if sweep.axes.size:
        charts["size"] = line_chart(rows, "size", "corpus size (records)", pal, logx=True)
    union, label = compared(sweep)
    charts["tornado"], bars = tornado(rows, union, label, pal)
    charts["tornado_effort"], _ = tornado(rows, union, label, pal, "examined_ratio")
    for k, svg in charts.items():
        (d / f"{k}.svg").write_text(svg)
    words = sentences(rows, union, label)
    md = [f"# Sweep {sweep.name} (SYNTHETIC DATA)", "", sweep.description, "",
          f"How {label}'s volume against the baseline moves with each factor, against the board "
          "papers' 4–6× estimate (a reference, never an input).", ""]
    md += [f"- {s}" for s in words]
    md += ["", "| axis | value | profile | ratio of totals [95% CI] | recall |", "|---|---|---|---:|---:|"]
    for r in rows:
        md.append(f"| {r['axis']} | {r['value']} | {r['profile']} | {r['ratio']:.1f} [{r['ratio_lo']:.1f}, {r['ratio_hi']:.1f}] "
                  f"| {r['recall'] * 100:.0f}% |" if r["ratio"] is not None else
                  f"| {r['axis']} | {r['value']} | {r['profile']} | n/a | {r['recall'] * 100:.0f}% |")
    (d / "sweep.md").write_text("\n".join(md) + "\n")
    (d / "section.html").write_text(robustness_html(charts, words))


def robustness_html(charts: dict[str, str], words: list[str]) -> str:
    return render("sweep_section.html", words=words, charts={k: trusted(v) for k, v in charts.items()})
