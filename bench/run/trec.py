"""TREC formats, so trec_eval, ir_measures and ranx read polebench's results as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from bench.metrics.measures import trec_scores


def write_run(path: Path, tag: str, results: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """`qid Q0 docno rank score tag`, score = volume - rank so that order survives any re-sort."""
    with open(path, "w") as f:
        for qid, rids in results:
            for rank, (rid, score) in enumerate(zip(rids, trec_scores(len(rids))), 1):
                f.write(f"{qid} Q0 {rid} {rank} {score:g} {tag}\n")


def write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    with open(path, "w") as f:
        for qid, rel in qrels.items():
            for rid in sorted(rel):
                f.write(f"{qid} 0 {rid} {rel[rid]}\n")
