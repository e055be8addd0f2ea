"""Per-query measures, computed over record numbers with numpy.

The ranked measures follow trec_eval's definitions exactly (set_P, set_recall, set_F, P_10,
recall_100, map, ndcg_cut_10 with the grade as gain and a log2(rank + 1) discount), and the
run's tests hold them to ir_measures reading the exported TREC files, to 1e-9. They are not
handed to pytrec_eval during the run because it takes each ranked list as a Python dict: on a
free-text profile that is tens of thousands of records per need, and building those dicts cost
more than the engine's own search (measured on the default corpus with the standard set).
Here one need costs a gather of its grades and a few vector operations, whatever its volume.

Presented order is encoded in the exported scores (score = volume - rank + 1), so trec_eval's
own sort (score descending) reproduces exactly the order the analyst saw."""

from __future__ import annotations

import zlib

import numpy as np

from bench.analyst.model import Purpose, Reader
from bench.analyst.reader import Listed, measures as reader_measures
from bench.metrics.registry import DEFINITIONS  # noqa: F401 - re-exported: the report reads it from here

_DISCOUNT = 1.0 / np.log2(np.arange(2, 12))  # ranks 1..10


class Judgements:
    """One query set's graded judgements over a corpus's record numbers, with a scratch array
    of grades so that any ranked list is judged by one gather."""

    def __init__(self, qrels: dict[str, dict[int, int]], n_records: int):
        self.rel = {q: (np.fromiter(r.keys(), np.int64, len(r)), np.fromiter(r.values(), np.int8, len(r)))
                    for q, r in qrels.items()}
        self._grade = np.zeros(n_records, np.int8)

    def only(self, qid: str, rel: dict[int, int]) -> None:
        """Judge one need from now on, forgetting the others: a run measures need by need, so it
        holds one need's judgements at a time."""
        self.rel = {qid: (np.fromiter(rel.keys(), np.int64, len(rel)), np.fromiter(rel.values(), np.int8, len(rel)))}

    def grades(self, qid: str, rnums: np.ndarray) -> np.ndarray:
        """The grade of each record of a ranked list, in list order (0: not relevant)."""
        where, grade = self.rel[qid]
        self._grade[where] = grade
        try:
            return self._grade[rnums]
        finally:
            self._grade[where] = 0

    def measure(self, qid: str, rnums: np.ndarray, seconds_per_record: float, purpose: Purpose,
                reader: Reader, entry_starts: list[int] | None = None
                ) -> tuple[dict[str, float | None], np.ndarray, Listed]:
        """All per-query measures of one ranked list under one reader, the relevant records it
        returned, and what the reader model needs of the list (to read it again under others).

        entry_starts: where the list is read one candidate at a time (a reference profile's
        entries, each the records of one candidate person, plate or number), the position at which
        each entry starts. The reader then reads entries, not records: examined, the effort to a
        recall level and the stop rules count entries, a relevant record is found when its entry is
        read, and the precision, recall and volume measures still count records. A list read in full
        (a subject access request) is read record by record all the same."""
        g = self.grades(qid, rnums)
        hits = np.flatnonzero(g > 0)
        where, grade = self.rel[qid]
        n, found, nrel = len(rnums), len(hits), int(np.count_nonzero(grade > 0))
        # Nothing returned: precision is 0/0, undefined, not 0 (trec_eval's means leave such a
        # query out). Recall stays 0: finding nothing of what exists is the failure it measures.
        p = found / n if n else None
        r = found / nrel if nrel else 0.0
        ideal = np.sort(grade)[::-1][:10].astype(np.float64)
        idcg = float(ideal @ _DISCOUNT[: len(ideal)])
        top = g[:10].astype(np.float64)
        out = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p and p + r else 0.0,
               "p_at_10": int(np.count_nonzero(hits < 10)) / 10,
               "r_at_100": int(np.count_nonzero(hits < 100)) / nrel if nrel else 0.0,
               "ap": float(np.sum(np.arange(1, found + 1) / (hits + 1.0))) / nrel if nrel else 0.0,
               "ndcg_at_10": float(top @ _DISCOUNT[: len(top)]) / idcg if idcg > 0 else 0.0,
               "volume": float(n), "relevant": float(nrel), "found": float(found),
               "missed": float(nrel - found), "false_inclusions": float(n - found),
               }
        at, length = hits, n
        # positions in entries (one per relevant record, repeated); a subject access request is
        # read record by record however the list is grouped: each record is checked for disclosure
        if entry_starts is not None and purpose != "read_all":
            starts = np.asarray(entry_starts, np.int64)
            at, length = np.searchsorted(starts, hits, side="right") - 1, len(starts)
        listed = Listed(at, rnums[hits], length, nrel, purpose, zlib.crc32(qid.encode()))
        out.update(reader_measures(listed, reader, seconds_per_record))
        return out, rnums[hits], listed


def inflation(volume: float, baseline_volume: float) -> float | None:
    """The stated rule: undefined (None) when the baseline returned nothing for the need."""
    return volume / baseline_volume if baseline_volume > 0 else None
