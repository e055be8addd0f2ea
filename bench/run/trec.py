"""TREC formats, so trec_eval, ir_measures and ranx read polebench's results as they are."""

from __future__ import annotations

from pathlib import Path
from itertools import repeat
from typing import Iterable


def write_run(path: Path, tag: str, results: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """`qid Q0 docno rank score tag`, score = volume - rank so that order survives any re-sort."""
    with open(path, "w") as f:
        for qid, rids in results:
            n = len(rids)
            if not n:
                continue
            ranks = map(str, range(1, n + 1))
            scores = map(str, range(n, 0, -1))  # == trec_scores(n), written as integers
            f.write("\n".join(map(" ".join, zip(repeat(qid), repeat("Q0"), rids, ranks, scores, repeat(tag)))))
            f.write("\n")


def write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    with open(path, "w") as f:
        for qid, rel in qrels.items():
            for rid in sorted(rel):
                f.write(f"{qid} 0 {rid} {rel[rid]}\n")
