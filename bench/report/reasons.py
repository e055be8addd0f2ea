"""Why a profile's recall is low in a cell (a source system, a kind of error): the criteria of
its plans that excluded the relevant records it missed, as the run measured them on the engine
(breakdown cells' `excluded_by`). Low recall is said with its mechanical cause, since an officer
will ask."""

from __future__ import annotations

from bench.report.model import Report

LOW_RECALL = 0.5  # below this a cell is explained (assumed; the per-need table shades the same)
MIN_MISSED = 10  # a cell of fewer missed records is not worth a line (assumed)


def low_recall_reasons(rep: Report) -> list[dict]:
    """One row per low-recall cell of every profile the run could explain (not a union, whose
    members' rows stand for it): the cell, its recall, how many relevant records were missed, and
    the criteria that excluded most of them with how many each."""
    out = []
    for n in rep.profiles:
        b = rep.agg.profiles[n].breakdown
        for axis, what in (("source", "{} records"), ("kind", "records with error ‘{}’")):
            cells = [(c, e) for c, e in getattr(b, axis).items() if e.excluded_by and e.value is not None
                     and e.value < LOW_RECALL and (e.missed or 0) >= MIN_MISSED]
            for c, e in sorted(cells, key=lambda ce: ce[1].value):
                cell = ("error-free records" if c == "clean" else "records with several errors" if c == "combined"
                        else what.format(c.replace("_", " ")))
                out.append({"profile": n, "axis": axis, "cell": c, "what": cell, "recall": e.value,
                            "missed": e.missed, "relevant": e.relevant,
                            "reasons": [(r, k, k / e.missed) for r, k in e.excluded_by]})
    return out


def sentence(row: dict, label: str) -> str:
    """'CRIMINT-like found 13% of custody records: of the 2,449 relevant ones it missed, 2,356
    (96%) fail “MO words in the narrative: every word searched”; ...'"""
    r = row["reasons"]
    main = f"{r[0][1]:,} ({r[0][2] * 100:.0f}%) fail “{r[0][0]}”"
    rest = "".join(f"; {k:,} ({share * 100:.0f}%) “{why}”" for why, k, share in r[1:])
    return (f"{label} found {row['recall'] * 100:.0f}% of {row['what']}: of the {row['missed']:,} relevant ones it "
            f"missed, {main}{rest}.")
