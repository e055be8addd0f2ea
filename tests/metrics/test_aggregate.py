"""The aggregation, column by column, against what the row-by-row code gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from bench.metrics.aggregate import aggregate
from bench.metrics.registry import PER_QUERY_COLUMNS, TEXT_COLUMNS

GOLDEN = Path(__file__).parent / "data" / "aggregate-golden.json"

KINDS = ("person", "vehicle", "location", "sar")
CAPS = ((), ("phonetic",), ("nickname", "phonetic"), ("date_range",))


def rows(n: int = 300, seed: int = 7) -> list[dict]:
    """Per-need rows of three profiles as a run measures them, seeded (the golden file's input)."""
    rng = np.random.default_rng(seed)
    out = []
    for p in ("base", "other", "third"):
        for i in range(n):
            q = f"q{i:04d}"
            if rng.random() < 0.04:
                out.append({"profile": p, "qid": q, "kind": KINDS[i % 4], "error": "RuntimeError: x"})
                continue
            volume = float(rng.integers(0, 60)) if rng.random() > 0.1 else 0.0
            relevant = float(rng.integers(1, 9))
            found = float(min(relevant, volume, rng.integers(0, 9)))
            r = {c: round(float(rng.random()), 3) for c in PER_QUERY_COLUMNS if c not in TEXT_COLUMNS}
            r.update(profile=p, qid=q, kind=KINDS[i % 4], error=None, volume=volume, relevant=relevant,
                     found=found, missed=relevant - found, examined=float(rng.integers(0, 40)),
                     recall_at_stop=float(rng.integers(0, 4)) / 4,
                     precision=found / volume if volume else None,
                     esl=float(rng.integers(0, 9)) if found else None,
                     effort_r80=None if i % 3 else float(rng.integers(1, 30)),
                     effort_r95=None if i % 2 else float(rng.integers(1, 40)),
                     sift_hours=float(rng.integers(0, 40)) * 30 / 3600,
                     lost_capabilities=list(CAPS[int(rng.integers(0, 4))]))
            out.append(r)
    return out


def test_aggregates_are_those_of_the_row_by_row_code_to_the_last_bit():
    """Three profiles over 300 seeded needs (failed searches, undefined measures, lost
    capabilities, four kinds): every figure equal to what the code before the column-wise
    aggregation wrote (tests/metrics/data/aggregate-golden.json, written by it)."""
    got = aggregate(rows(), ["base", "other", "third"], "base", seed=3)
    assert orjson.dumps(got, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) \
        == GOLDEN.read_bytes()
