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

import orjson

from bench.corpus.store import Corpus, gc_paused

KEPT = ("people", "vehicles", "phones", "locations")  # the mentions; with the record's source system


class RecordShelf(Mapping):
    """Record id -> the record's source and mentions (as the corpus wrote them), read from disk
    when asked for; and each record's number, its place in the corpus (the number every backend
    returns)."""

    def __init__(self, corpus: Corpus):
        self._file = tempfile.TemporaryFile(prefix="polebench-records-")
        self.rnum_of: dict[str, int] = {}
        self._ends = array("q")
        end, chunk = 0, []
        with gc_paused():
            for i, rec in enumerate(corpus.records()):
                line = orjson.dumps({"source": rec["source"], **{k: rec[k] for k in KEPT if k in rec}})
                self.rnum_of[rec["rid"]] = i
                end += len(line)
                self._ends.append(end)
                chunk.append(line)
                if len(chunk) >= 4096:
                    self._file.write(b"".join(chunk))
                    chunk = []
        self._file.write(b"".join(chunk))
        self._file.flush()

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
