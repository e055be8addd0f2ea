"""A small reference backend on rank-bm25: free-text plans only, small corpora only. It exists
to check the embedded engine's ranking against an independent BM25, with tantivy's parameters
(k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5) / (n + 0.5))) so that differences are engine bugs,
not different formulas. Document lengths are exact here and quantised in tantivy."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from bench import fields as F
from bench.backends.base import Backend, Hits
from bench.errors import BackendError
from bench.plans import All, Any, Scoped, Text

MAX_RECORDS = 200_000


class TantivyLikeBM25(BM25Okapi):
    def __init__(self, corpus: list[list[str]]):
        super().__init__(corpus, k1=1.2, b=0.75)

    def _calc_idf(self, nd: dict) -> None:
        self.idf = {w: math.log(1 + (self.corpus_size - n + 0.5) / (n + 0.5)) for w, n in nd.items()}


class Bm25RefBackend(Backend):
    NAME = "bm25-ref"
    SUPPORTS = frozenset({"Scoped", "Text", "All", "Any", "Sequence"})

    def _prepare(self, progress: Callable[[int], None] | None) -> Sequence[str] | np.ndarray:
        rids, docs, dates = [], [], []
        for rec in self.corpus.records():
            if len(rids) >= MAX_RECORDS:
                raise BackendError(f"bm25-ref is a reference for small corpora (≤ {MAX_RECORDS:,} records)")
            rids.append(rec["rid"])
            docs.append(F.words(F.flatten(rec)))
            dates.append(F.days(rec["date"]))
        self.docs = [set(d) for d in docs]
        self.dates = np.asarray(dates, np.int64)
        self.bm25 = TantivyLikeBM25(docs)
        return rids

    def _scoped(self, node: Scoped) -> Hits:
        if node.scope != "record":
            raise BackendError("bm25-ref runs free-text plans over all_text only")
        keep, scores = self._match(node.clause)
        idx = np.nonzero(keep)[0]
        return Hits(idx.astype(np.int64), scores[idx], self.dates[idx])

    def _match(self, c) -> tuple[np.ndarray, np.ndarray]:
        """Which records a clause matches, and their scores: a Boolean query's, the sum of the
        scores of the parts that match (as tantivy and Lucene score Must and Should clauses)."""
        if isinstance(c, (All, Any)):
            parts = [self._match(x) for x in c.clauses]
            keeps = np.vstack([k for k, _ in parts])
            keep = keeps.all(axis=0) if isinstance(c, All) else keeps.any(axis=0)
            return keep, np.sum([np.where(k, sc, 0.0) for k, sc in parts], axis=0)
        if not isinstance(c, Text) or c.field != "all_text":
            raise BackendError("bm25-ref runs free-text plans over all_text only")
        words = F.query_words(c.text)
        if not words:
            return np.zeros(len(self.docs), bool), np.zeros(len(self.docs))
        test = all if c.operator == "and" else any
        keep = np.fromiter((test(w in d for w in words) for d in self.docs), bool, len(self.docs))
        return keep, np.asarray(self.bm25.get_scores(words), dtype=np.float64)

    def _co_mentioned(self, rnums, exclude, field):  # pragma: no cover - Linked is not supported
        raise BackendError("bm25-ref has no link traversal")
