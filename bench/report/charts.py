"""Charts as inline SVG (matplotlib, text kept as text, nothing linked): a report that opens on a
closed network. Each function takes the report data and returns an <svg> element as a string."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.report.model import BOARD_ESTIMATE, Report, defined  # noqa: E402
from bench.run.results import Estimate  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.family": "sans-serif", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "polebench"})
# Okabe & Ito (2008), "Color Universal Design": told apart under every common colour-vision
# deficiency. One colour and one marker per profile in every chart of the report and the sweep.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
BAND = "#bbbbbb"  # the board's estimate: grey, so that it is no profile's colour


class Palette:
    """Each profile's colour and marker, the same in every chart of one report or sweep: the colour
    its profile file declares (`colour:`), else the first colour of the palette that no profile of
    the set declares or was given before it. A marker goes with its palette place, so two profiles
    never share both; past the palette's eight, colours repeat with the markers shifted."""

    def __init__(self, declared: Mapping[str, str | None]):
        """`declared`: each profile's name (as the charts are given it) and its colour, if any, in order."""
        taken = {c.lower() for c in declared.values() if c}
        free = (i for i in itertools.count() if i >= len(OKABE_ITO) or OKABE_ITO[i].lower() not in taken)
        places = [c.lower() for c in OKABE_ITO]
        spare = itertools.count(len(OKABE_ITO))  # places for colours from outside the palette
        self._style: dict[str, tuple[str, str]] = {}
        for name, c in declared.items():
            i = places.index(c.lower()) if c and c.lower() in places else next(spare) if c else next(free)
            self._style[name] = (c or OKABE_ITO[i % len(OKABE_ITO)],
                                        MARKERS[(i + i // len(MARKERS)) % len(MARKERS)])

    def colour(self, name: str) -> str:
        return self._style[name][0]

    def marker(self, name: str) -> str:
        return self._style[name][1]


def palette(rep: Report) -> Palette:
    return Palette({n: rep.run.profiles[n].colour for n in rep.profiles})


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    s = buf.getvalue()
    s = s[s.index("<svg"):]  # no XML prolog or DOCTYPE (they carry URLs)
    s = re.sub(r"<metadata>.*?</metadata>", "", s, flags=re.S)
    s = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", s)  # namespaces are implied inside HTML
    return s


def cannot_draw(title: str, why: str) -> str:
    """A chart that has no data to draw says so, and why, in its place."""
    fig, ax = plt.subplots(figsize=(6.2, 1.0))
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=10)
    ax.text(0, 0.4, f"Cannot be drawn: {why}.", fontsize=9, transform=ax.transAxes)
    return _svg(fig)


def _short(rep: Report, name: str) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(rep.label(name), 14))


def _ok(e: Estimate | None) -> bool:
    return defined(e) and all(isinstance(v, (int, float)) and v == v for v in (e.lo, e.hi))


def _err(e: Estimate) -> tuple[float, float]:
    return max(0.0, e.value - e.lo), max(0.0, e.hi - e.value)


def _measured(rep: Report) -> list[str]:
    return [n for n in rep.profiles if rep.agg.profiles[n].queries]


def _top(values: list[float], log: bool, floor: float = 1.0) -> float:
    """An axis top that holds every bar and whisker, with room above on a log or linear scale."""
    top = max([v for v in values if v == v] + [floor])
    return top * 2.5 if log else top * 1.12


def _bars(rep: Report, get, title: str, ylabel: str, log: bool = False, band: bool = False,
          why: str = "") -> str:
    names = rep.profiles
    vals = [get(rep.agg.profiles[n]) for n in names]
    if not any(_ok(v) for v in vals):
        return cannot_draw(title, why or "no profile has a value (see the headline findings)")
    pal = palette(rep)
    fig, ax = plt.subplots(figsize=(6.2, 2.8))
    labels = [_short(rep, n) for n in names]
    for i, (n, v) in enumerate(zip(names, vals)):
        if _ok(v):
            ax.bar(i, max(v.value, 1e-3) if log else v.value, yerr=np.array([_err(v)]).T, capsize=4,
                   color=pal.colour(n))
        else:
            ax.text(i, 0.5, "n/a", ha="center", va="center", transform=ax.get_xaxis_transform(), color="#555")
    ax.set_xticks(range(len(names)), labels)
    if band:
        ax.axhspan(*BOARD_ESTIMATE, color=BAND, alpha=0.35, label="board papers' estimate (4–6×)")
        ax.legend(loc="upper left", frameon=False)
    highs = [v.hi for v in vals if _ok(v)] + ([BOARD_ESTIMATE[1]] if band else [])
    if log:
        ax.set_yscale("log")
        lows = [v.lo for v in vals if _ok(v) and v.lo > 0] + [v.value for v in vals if _ok(v) and v.value > 0]
        ax.set_ylim(min(lows + [1.0]) / 2.5, _top(highs, True))
    else:
        ax.set_ylim(0, _top(highs, False, 1e-9))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=10)
    ax.tick_params(axis="x", labelsize=7)
    return _svg(fig)


def volume(rep: Report) -> str:
    return _bars(rep, lambda p: p.mean["volume"], "Records returned per need (mean, 95% CI)", "records", log=True)


def inflation(rep: Report) -> str:
    return _bars(rep, lambda p: p.inflation.ratio_of_totals,
                 "Volume against the baseline, all needs (ratio of totals, 95% CI)", "× baseline", log=True, band=True,
                 why="the baseline returned nothing, or no search was measured")


def sift_hours(rep: Report) -> str:
    return _bars(rep, lambda p: p.sift_hours_per_1000, "Analyst-hours of sifting per 1,000 searches (95% CI)", "hours")


def precision_recall(rep: Report) -> str:
    title = "Precision against recall (means, 95% CI)"
    pts = [(n, rep.agg.profiles[n].mean) for n in rep.profiles]
    pts = [(n, m) for n, m in pts if _ok(m["recall"]) and _ok(m["precision"])]
    if not pts:
        return cannot_draw(title, "no profile returned anything for a need that was measured")
    pal = palette(rep)
    fig, ax = plt.subplots(figsize=(4.4, 3.4))
    # Hollow markers of different shapes, the larger drawn first: points that coincide (a union
    # that returns what one member returns) stay visible one inside the other.
    for k, (n, m) in enumerate(pts):
        ax.errorbar(m["recall"].value, m["precision"].value,
                    xerr=np.array([_err(m["recall"])]).T, yerr=np.array([_err(m["precision"])]).T,
                    fmt=pal.marker(n), color=pal.colour(n), capsize=3, label=rep.label(n), mfc="none", mew=1.6,
                    ms=13 - 9 * k / max(1, len(pts) - 1), zorder=2 + k)
    # a little room past 0 and 1, so that a point on the edge (2% precision, all found) shows whole
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylim(-0.04, 1.04)
    ax.set_xlabel("recall (share of relevant records found)")
    ax.set_ylabel("precision (share of results relevant)")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0), markerscale=0.6)
    return _svg(fig)


def inflation_by_kind(rep: Report) -> str:
    title = "Inflation by kind of need (median per need, 95% CI)"
    names = [n for n in rep.profiles if n != rep.baseline]
    kinds = sorted({k for n in names for k in rep.agg.profiles[n].by_kind})
    vals = {(n, k): b.inflation.median if (b := rep.agg.profiles[n].by_kind.get(k)) else None for n in names
            for k in kinds}
    if not any(_ok(v) for v in vals.values()):
        return cannot_draw(title, "the baseline returned nothing for any need of any kind, or no search was measured")
    pal = palette(rep)
    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        for j, k in enumerate(kinds):
            v, xpos = vals[(n, k)], j + i * width
            if _ok(v) and v.value > 0:
                ax.bar(xpos, v.value, width, yerr=np.array([_err(v)]).T, capsize=2, color=pal.colour(n),
                       label=rep.label(n) if j == min(jj for jj, kk in enumerate(kinds) if _ok(vals[(n, kk)])
                                                        and vals[(n, kk)].value > 0) else None)
            else:
                # no bar: the baseline returned nothing for this kind (no ratio), or this profile did (0)
                ax.text(xpos, 0.02, "0" if _ok(v) else "n/a", ha="center", va="bottom", fontsize=6, rotation=90,
                        transform=ax.get_xaxis_transform(), color="#555")
    ax.axhspan(*BOARD_ESTIMATE, color=BAND, alpha=0.35, label="board estimate 4–6×")
    ax.axhline(1, color="black", lw=0.6)
    ax.set_yscale("log")
    ok = [v for v in vals.values() if _ok(v) and v.value > 0]
    lows = [v.lo for v in ok if v.lo > 0] + [v.value for v in ok]
    ax.set_ylim(min(lows + [0.5]) / 2.5, _top([v.hi for v in ok] + [BOARD_ESTIMATE[1]], True))
    ax.set_xticks(np.arange(len(kinds)) + width * (len(names) - 1) / 2, kinds)
    ax.set_ylabel("median × baseline")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return _svg(fig)


def gain_curve(rep: Report) -> str:
    """Recall against items read (records, or candidate entities where a list is read by entity), from
    the top of each profile's list: what reading more buys."""
    title = "Recall against items read (mean over needs)"
    curves = [(n, rep.agg.profiles[n].gain_curve) for n in rep.profiles]
    curves = [(n, c) for n, c in curves if c.budgets and any(r is not None for r in c.recall)]
    if not curves:
        return cannot_draw(title, "this run holds no gain curve (no measured need, or a run made before curves)")
    pal = palette(rep)
    fig, ax = plt.subplots(figsize=(6.2, 3.0))
    for n, c in curves:
        xs = [b for b, r in zip(c.budgets, c.recall) if r is not None]
        ys = [r for r in c.recall if r is not None]
        ax.plot(xs, ys, marker=pal.marker(n), ms=4, color=pal.colour(n), ls="--" if rep.upper_bound(n) else "-",
                label=rep.label(n) + (" (upper bound)" if rep.upper_bound(n) and "upper bound" not in rep.label(n) else ""))
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("items read from the top of the list: records, or candidate entities for the reference (log scale)")
    ax.set_ylabel("recall")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return _svg(fig)


def lost_matrix(rep: Report) -> str:
    kinds = sorted({k for n in rep.profiles for k, b in rep.agg.profiles[n].by_kind.items() if b.queries})
    m = np.array([[b.queries_with_lost / max(1, b.queries) if (b := rep.agg.profiles[n].by_kind.get(k)) else 0.0
                   for n in rep.profiles] for k in kinds])
    if not kinds:
        return cannot_draw("Needs that lost a search capability", "no need was measured")
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(kinds) + 1.4))
    im = ax.imshow(m, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(rep.profiles)), [_short(rep, n) for n in rep.profiles], fontsize=6.5)
    ax.set_yticks(range(len(kinds)), kinds)
    for i in range(len(kinds)):
        for j in range(len(rep.profiles)):
            ax.text(j, i, f"{m[i, j] * 100:.0f}%", ha="center", va="center", fontsize=7,
                    color="white" if m[i, j] > 0.6 else "black")
    ax.set_title("Needs that lost a search capability", loc="left", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return _svg(fig)


def recall_by_corruption(rep: Report) -> str:
    """Heatmap: recall by corruption kind (rows) x profile (columns)."""
    blocks = {n: rep.agg.profiles[n].breakdown.kind for n in rep.profiles}
    kinds = sorted({k for b in blocks.values() for k in b}, key=lambda k: (k in ("clean", "combined"), k))
    if not kinds:
        return cannot_draw("Recall by kind of data-entry error", "no relevant record was measured, so there is "
                           "no breakdown")
    m = np.array([[c.value if (c := blocks[n].get(k)) and c.value is not None else np.nan
                   for n in rep.profiles] for k in kinds], dtype=float)
    fig, ax = plt.subplots(figsize=(5.6, 0.36 * len(kinds) + 1.2))
    # cividis (Nuñez et al. 2018) reads the same under colour-vision deficiency, as red-green does not
    im = ax.imshow(m, cmap="cividis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(rep.profiles)), [_short(rep, n) for n in rep.profiles], fontsize=7)
    ax.set_yticks(range(len(kinds)), [k.replace("_", " ") for k in kinds], fontsize=8)
    for i, k in enumerate(kinds):
        for j, n in enumerate(rep.profiles):
            rel = c.relevant if (c := blocks[n].get(k)) else 0
            txt = "" if np.isnan(m[i, j]) else f"{m[i, j] * 100:.0f}%"
            ax.text(j, i, f"{txt}\n(n={rel})" if j == 0 else txt, ha="center", va="center", fontsize=6.5,
                    color="white" if m[i, j] < 0.5 else "black")
    ax.set_title("Recall by kind of data-entry error (pooled over needs)", loc="left", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return _svg(fig)


ALL = {"volume": volume, "inflation": inflation, "precision_recall": precision_recall,
       "inflation_by_kind": inflation_by_kind, "sift_hours": sift_hours, "gain_curve": gain_curve,
       "lost_matrix": lost_matrix, "recall_by_corruption": recall_by_corruption}
