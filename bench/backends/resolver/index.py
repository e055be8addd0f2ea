"""Entity-resolution candidate search, as record-linkage engineers build it: the engine behind a
`reference` profile's Resolve nodes (what good looks like).

Built from the records alone, beside the embedded index: every person, vehicle and phone as
written, and a character n-gram TF-IDF index (scikit-learn, `char_wb`) over the distinct written
surnames and forenames. A search finds candidate names by cosine similarity in that index (a
sparse dot product over the query's n-gram columns: the radius form of nearest-neighbour search),
then compares every candidate mention field by field (Jaro-Winkler and a phonetic code with
jellyfish, nickname equivalence, date of birth allowing a day/month swap or a year's slip), keeps
those whose fields agree as the profile's thresholds say, and groups the records by the person,
plate or number they most likely concern. Thresholds come from the plan (the profile's YAML)."""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import jellyfish
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bench import fields as F
from bench.corpus.store import Corpus, atomic_dir

RESOLVE_VERSION = 1  # bump when the layout changes: old caches are then rebuilt
_NAME = re.compile(r"[^a-z\- ]")


def name_norm(s: str | None) -> str:
    """Lower case, letters, hyphens and spaces: a hyphen is kept so that a double-barrelled
    surname can be compared with either half."""
    return _NAME.sub("", (s or "").lower()).strip()


def phone_norm(s: str | None) -> str:
    d = re.sub(r"\D", "", s or "")
    return "0" + d[2:] if d.startswith("44") else d


# ---- building


class _Field:
    """Distinct values of one field, the mentions holding each (postings), and for names the
    n-gram index over the distinct values."""

    def __init__(self, values: list[str], ngrams: tuple[int, int] | None):
        self.distinct, code = np.unique(np.asarray(values, dtype=str), return_inverse=True)
        self.code = code.astype(np.int32)
        self.order = np.argsort(self.code, kind="stable").astype(np.int32)
        self.starts = np.searchsorted(self.code[self.order], np.arange(len(self.distinct) + 1)).astype(np.int64)
        self.vectorizer = self.matrix = None
        if ngrams is not None and len(self.distinct):
            self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, dtype=np.float32,
                                              lowercase=False)
            self.matrix = self.vectorizer.fit_transform(self.distinct).tocsc()

    def mentions(self, codes: np.ndarray) -> np.ndarray:
        """The mentions holding any of these distinct values."""
        if not len(codes):
            return np.empty(0, np.int64)
        return np.concatenate([self.order[self.starts[c]:self.starts[c + 1]] for c in codes]).astype(np.int64)

    def grep(self, pattern: str, fold: Callable[[str], str] | None = None) -> np.ndarray:
        """Distinct values (folded first, if asked) that a regular expression matches whole: one
        scan by the C regex engine over all of them joined line by line, not a Python loop."""
        texts = self.__dict__.setdefault("_texts", {})
        if fold not in texts:
            vals = list(self.distinct) if fold is None else [fold(v) for v in self.distinct]
            lens = np.fromiter((len(v) + 1 for v in vals), np.int64, len(vals))
            texts[fold] = ("\n".join(vals) + "\n", np.concatenate(([0], np.cumsum(lens)[:-1])))
        text, starts = texts[fold]
        pos = [m.start() for m in re.finditer(f"(?m)^(?:{pattern})$", text)]
        return np.searchsorted(starts, np.asarray(pos, np.int64)).astype(np.int64)

    def __getstate__(self) -> dict:  # the joined texts are rebuilt on first use, not cached on disk
        return {k: v for k, v in self.__dict__.items() if k not in ("_texts", "_analyzer")}

    def near(self, value: str, min_cosine: float) -> np.ndarray:
        """Distinct values whose n-gram TF-IDF vector is within min_cosine of the value's: only
        the columns of the query's own n-grams are read (an inverted index, in effect)."""
        if self.vectorizer is None:
            return np.empty(0, np.int64)
        cols, weights = self._query_vector(value)
        if not len(cols):
            return np.empty(0, np.int64)
        sims = np.asarray(self.matrix[:, cols] @ weights).ravel()
        return np.flatnonzero(sims >= min_cosine)

    def _query_vector(self, value: str) -> tuple[np.ndarray, np.ndarray]:
        """The value's TF-IDF vector as the fitted vectorizer makes it (same analyzer, idf and
        l2 norm; n-grams it never saw have no column and so no weight), without the per-call cost
        of its transform on one string."""
        vocab = self.vectorizer.vocabulary_
        grams: dict[int, int] = {}
        for g in self.__dict__.setdefault("_analyzer", self.vectorizer.build_analyzer())(value):
            if (j := vocab.get(g)) is not None:
                grams[j] = grams.get(j, 0) + 1
        cols = np.fromiter(grams, np.int64, len(grams))
        w = np.fromiter(grams.values(), np.float64, len(grams)) * self.vectorizer.idf_[cols]
        norm = np.sqrt(w @ w)
        return cols, (w / norm if norm else w)


@dataclass
class ResolverIndex:
    """What a search compares: one row per mention, and each field's distinct values."""

    person_rnum: np.ndarray
    forename: _Field
    surname: _Field
    dob: np.ndarray  # days, or a sentinel where none is written
    sex: np.ndarray
    vehicle_rnum: np.ndarray
    vrm: _Field
    make: np.ndarray
    colour: np.ndarray
    phone_rnum: np.ndarray
    phone: _Field
    ngrams: tuple[int, int]


NO_DOB = np.iinfo(np.int32).min


def from_records(records: Iterable[dict], ngrams: tuple[int, int] = (2, 3)) -> ResolverIndex:
    """Every person, vehicle and phone as the records write them, in record-number order."""
    p_r, fore, sur, dob, sex = [], [], [], [], []
    v_r, vrm, make, colour = [], [], [], []
    t_r, tel = [], []
    for rnum, rec in enumerate(records):
        for p in rec.get("people", ()):
            p_r.append(rnum)
            fore.append(name_norm(p.get("forename")))
            sur.append(name_norm(p.get("surname")))
            dob.append(F.days(p["dob"]) if p.get("dob") else NO_DOB)
            sex.append(p.get("sex") or "")
        for v in rec.get("vehicles", ()):
            v_r.append(rnum)
            vrm.append(F.vrm_norm(v.get("vrm")))
            make.append(F.norm(v.get("make")))
            colour.append(F.norm(v.get("colour")))
        for t in rec.get("phones", ()):
            t_r.append(rnum)
            tel.append(phone_norm(t.get("number")))
    return ResolverIndex(np.asarray(p_r, np.int64), _Field(fore, ngrams), _Field(sur, ngrams),
                         np.asarray(dob, np.int32), np.asarray(sex, dtype=str),
                         np.asarray(v_r, np.int64), _Field(vrm, None), np.asarray(make, dtype=str),
                         np.asarray(colour, dtype=str), np.asarray(t_r, np.int64), _Field(tel, None), ngrams)


def build(corpus_root: Path, out: Path, ngrams: tuple[int, int] = (2, 3)) -> None:
    """Read the records once and write the resolver's cache folder (atomically)."""
    corpus = Corpus(corpus_root)
    ix = from_records(corpus.records(), ngrams)
    with atomic_dir(out) as tmp:
        with open(tmp / "resolver.pkl", "wb") as f:
            pickle.dump(ix, f, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / "meta.json").write_text(json.dumps({"corpus_checksum": corpus.checksum,
                                                   "version": RESOLVE_VERSION, "ngrams": list(ngrams)}))


def is_fresh(d: Path, checksum: str) -> bool:
    meta = d / "meta.json"
    if not meta.is_file():
        return False
    m = json.loads(meta.read_text())
    return m.get("corpus_checksum") == checksum and m.get("version") == RESOLVE_VERSION


def load(d: Path) -> ResolverIndex:
    # A cache polebench wrote itself beside the corpus's index, checked against the corpus
    # checksum before use; never a file from elsewhere.
    with open(d / "resolver.pkl", "rb") as f:
        return pickle.load(f)
