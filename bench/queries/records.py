"""The written records as the query stage reads them: what a template phrases a need from and what
a relevant record's details say (its source system, how it wrote the target), kept on disk.

Holding every record as a dict cost the query stage about 3.5 GB a million records (the text, the
dates, every field), most of the memory of `polebench queries` on a large corpus; the stage reads a
few thousand of them. One pass over the corpus writes each record's source and mentions as a JSON
line to an unnamed temporary file (removed by the OS however the process ends, so nothing is left
behind), and a record is read back from there when asked for."""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterator, Mapping

import numpy as np
import orjson

from bench.corpus.store import RECORDS, Corpus, gc_paused
from bench.errors import PolebenchError
from bench.queries.ids import SortedIds

KEPT = ("people", "vehicles", "phones", "locations")  # the mentions; with the record's source system


def _packed(rids: list[bytes], corpus: Corpus) -> np.ndarray:
    if any(r.endswith(b"\0") for r in rids):  # numpy's fixed-width bytes would drop it
        raise PolebenchError(f"{corpus.root / RECORDS}: a record id ends in a NUL character")
    return np.array(rids, dtype="S") if rids else np.zeros(0, "S1")


class RecordNumbers(Mapping):
    """Record id -> its number (its place in the corpus): the ids as one fixed-width bytes array,
    found by binary search. A dict of them cost about 100 MB a million records."""

    def __init__(self, rids: np.ndarray):
        self.rids = rids
        self._ids = SortedIds(rids)

    def __getitem__(self, rid: str) -> int:
        i = self._ids.find(rid)
        if i < 0:
            raise KeyError(rid)
        return i

    def many(self, rids: np.ndarray) -> np.ndarray:
        """The numbers of many ids (bytes) at once; KeyError if one is not a record."""
        out = self._ids.find_all(rids)
        if (out < 0).any():
            raise KeyError("a record id the corpus does not hold")
        return out.astype(np.int64)

    def duplicated(self) -> bool:
        return self._ids.duplicated()

    def __iter__(self) -> Iterator[str]:
        return (b.decode() for b in self.rids.tolist())

    def __len__(self) -> int:
        return len(self.rids)


class RecordShelf(Mapping):
    """Record id -> the record's source and mentions (as the corpus wrote them), read from disk
    when asked for; and each record's number, its place in the corpus (the number every backend
    returns)."""

    def __init__(self, corpus: Corpus):
        self._file = tempfile.TemporaryFile(prefix="polebench-records-")
        rids: list[bytes] = []
        packed: list[np.ndarray] = []  # the ids, a block at a time: a list of a million bytes objects is 40 MB
        self._ends = array("q")
        end, chunk = 0, []
        with gc_paused():
            for rec in corpus.records():
                line = orjson.dumps({"source": rec["source"], **{k: rec[k] for k in KEPT if k in rec}})
                rids.append(rec["rid"].encode())
                if len(rids) >= 1 << 16:
                    packed.append(_packed(rids, corpus))
                    rids = []
                end += len(line)
                self._ends.append(end)
                chunk.append(line)
                if len(chunk) >= 4096:
                    self._file.write(b"".join(chunk))
                    chunk = []
        self._file.write(b"".join(chunk))
        self._file.flush()
        self.rnum_of = RecordNumbers(np.concatenate(packed + [_packed(rids, corpus)]))
        if self.rnum_of.duplicated():
            raise PolebenchError(f"{corpus.root / RECORDS}: the same record id is given twice")

    def __getitem__(self, rid: str) -> dict:
        i = self.rnum_of[rid]
        start = self._ends[i - 1] if i else 0
        return orjson.loads(os.pread(self._file.fileno(), self._ends[i] - start, start))

    def __iter__(self) -> Iterator[str]:
        return iter(self.rnum_of)

    def __len__(self) -> int:
        return len(self.rnum_of)

    def close(self) -> None:
        self._file.close()
