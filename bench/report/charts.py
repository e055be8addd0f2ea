"""Charts as inline SVG (matplotlib, text kept as text, nothing linked): a report that opens on a
closed network. Each function takes the report data and returns an <svg> element as a string."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.report.model import BOARD_ESTIMATE, Report  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.family": "sans-serif", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "polebench"})
COLOURS = ["#1f4e79", "#c0504d", "#e0a526", "#7a4f9a", "#4f9a6a", "#666666"]


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    s = buf.getvalue()
    s = s[s.index("<svg"):]  # no XML prolog or DOCTYPE (they carry URLs)
    s = re.sub(r"<metadata>.*?</metadata>", "", s, flags=re.S)
    s = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", s)  # namespaces are implied inside HTML
    return s


def _short(rep: Report, name: str) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(rep.label(name), 18))


def _val(e: dict) -> float:
    """An estimate's value, NaN (drawn as nothing) where undefined: a profile none of whose
    needs completed, in a report asked for with --partial."""
    return float("nan") if e["value"] is None else e["value"]


def _err(e: dict) -> tuple[float, float]:
    if any(e[k] is None for k in ("value", "lo", "hi")):
        return 0.0, 0.0
    return max(0.0, e["value"] - e["lo"]), max(0.0, e["hi"] - e["value"])


def _bars(rep: Report, get, title: str, ylabel: str, log: bool = False, band: bool = False) -> str:
    names = rep.profiles
    vals = [get(rep.agg["profiles"][n]) for n in names]
    fig, ax = plt.subplots(figsize=(6.2, 2.8))
    y = [_val(v) for v in vals]
    yerr = np.array([_err(v) for v in vals]).T
    ax.bar([_short(rep, n) for n in names], y, yerr=yerr, capsize=4, color=COLOURS[: len(names)])
    if band:
        ax.axhspan(*BOARD_ESTIMATE, color="#e0a526", alpha=0.25, label="board papers' estimate (4–6×)")
        ax.legend(loc="upper left", frameon=False)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    return _svg(fig)


def volume(rep: Report) -> str:
    return _bars(rep, lambda p: p["mean"]["volume"], "Records returned per need (mean, 95% CI)", "records", log=True)


def inflation(rep: Report) -> str:
    return _bars(rep, lambda p: p["inflation"]["ratio_of_totals"],
                 "Volume against the baseline, all needs (ratio of totals, 95% CI)", "× baseline", log=True, band=True)


def sift_hours(rep: Report) -> str:
    return _bars(rep, lambda p: p["sift_hours_per_1000"], "Analyst-hours of sifting per 1,000 searches (95% CI)", "hours")


def precision_recall(rep: Report) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    for i, n in enumerate(rep.profiles):
        m = rep.agg["profiles"][n]["mean"]
        ax.errorbar(_val(m["recall"]), _val(m["precision"]),
                    xerr=np.array([_err(m["recall"])]).T, yerr=np.array([_err(m["precision"])]).T,
                    fmt="o", color=COLOURS[i % len(COLOURS)], capsize=3, label=rep.label(n))
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (share of relevant records found)")
    ax.set_ylabel("precision (share of results relevant)")
    ax.set_title("Precision against recall (means, 95% CI)", loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="lower left")
    return _svg(fig)


def inflation_by_kind(rep: Report) -> str:
    names = [n for n in rep.profiles if n != rep.baseline]
    kinds = sorted({k for n in names for k in rep.agg["profiles"][n]["by_kind"]})
    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        blocks = rep.agg["profiles"][n]["by_kind"]
        vals = [blocks[k]["inflation"]["median"] if k in blocks else {"value": np.nan, "lo": np.nan, "hi": np.nan}
                for k in kinds]
        xs = np.arange(len(kinds)) + i * width
        ax.bar(xs, [max(_val(v), 1e-2) if _val(v) == _val(v) else 0 for v in vals], width,
               label=rep.label(n), color=COLOURS[(rep.profiles.index(n)) % len(COLOURS)])
    ax.axhspan(*BOARD_ESTIMATE, color="#e0a526", alpha=0.25, label="board estimate 4–6×")
    ax.axhline(1, color="black", lw=0.6)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.05)
    ax.set_xticks(np.arange(len(kinds)) + width * (len(names) - 1) / 2, kinds)
    ax.set_ylabel("median × baseline")
    ax.set_title("Inflation by kind of need (median per need)", loc="left", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    return _svg(fig)


def lost_matrix(rep: Report) -> str:
    kinds = sorted({k for n in rep.profiles for k in rep.agg["profiles"][n]["by_kind"]})
    m = np.array([[rep.agg["profiles"][n]["by_kind"].get(k, {}).get("queries_with_lost", 0)
                   / max(1, rep.agg["profiles"][n]["by_kind"].get(k, {}).get("queries", 0))
                   for n in rep.profiles] for k in kinds])
    fig, ax = plt.subplots(figsize=(5.4, 0.45 * len(kinds) + 1.2))
    im = ax.imshow(m, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(rep.profiles)), [_short(rep, n) for n in rep.profiles], fontsize=7)
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
    blocks = {n: rep.agg["profiles"][n].get("breakdown", {}).get("kind", {}) for n in rep.profiles}
    kinds = sorted({k for b in blocks.values() for k in b}, key=lambda k: (k in ("clean", "combined"), k))
    if not kinds:
        fig, ax = plt.subplots(figsize=(5, 1))
        ax.axis("off")
        ax.text(0, 0.5, "no breakdown in this run")
        return _svg(fig)
    m = np.array([[blocks[n].get(k, {}).get("value") if blocks[n].get(k, {}).get("value") is not None else np.nan
                   for n in rep.profiles] for k in kinds], dtype=float)
    fig, ax = plt.subplots(figsize=(5.6, 0.36 * len(kinds) + 1.2))
    im = ax.imshow(m, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(rep.profiles)), [_short(rep, n) for n in rep.profiles], fontsize=7)
    ax.set_yticks(range(len(kinds)), [k.replace("_", " ") for k in kinds], fontsize=8)
    for i, k in enumerate(kinds):
        for j, n in enumerate(rep.profiles):
            rel = blocks[n].get(k, {}).get("relevant", 0)
            txt = "" if np.isnan(m[i, j]) else f"{m[i, j] * 100:.0f}%"
            ax.text(j, i, f"{txt}\n(n={rel})" if j == 0 else txt, ha="center", va="center", fontsize=6.5)
    ax.set_title("Recall by kind of data-entry error (pooled over needs)", loc="left", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return _svg(fig)


ALL = {"volume": volume, "inflation": inflation, "precision_recall": precision_recall,
       "inflation_by_kind": inflation_by_kind, "sift_hours": sift_hours, "lost_matrix": lost_matrix,
       "recall_by_corruption": recall_by_corruption}
