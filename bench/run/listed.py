"""What the reader model needs of each of a profile's lists (bench.analyst.reader.Listed), kept on
disk while a run measures, aggregates and breaks its results down.

A run keeps these for every (profile, need), the narrowing twins included; held in memory they
cost it 8 bytes a relevant record found and about 40 a list (1.6 KB a need on `ci` with six
profiles searched), and grew with its needs. Here each list is a fixed-width index record (where
its records end, its length, the need's relevant records, the need's key, the purpose) and its
relevant records' positions and numbers as int32 (no list or corpus holds 2^31 records); the
readers go through a profile's lists a block at a time, and a need's list is read alone when
asked for (the breakdown asks need by need). Read back, a Listed holds int64 arrays, as measured."""

from __future__ import annotations

import os
import struct
import typing
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.analyst.model import Purpose
from bench.analyst.reader import Listed

PURPOSES: tuple[str, ...] = typing.get_args(Purpose)
_INDEX = struct.Struct("<5q")  # end (in int32 values, positions and numbers), n, n_relevant, key, purpose
BLOCK = 4096  # lists read at a time when all are gone through


class ListedFile:
    """One profile's Listed, in the order they were added, on two files under `stem`'s folder."""

    def __init__(self, stem: Path):
        self.index_path, self.data_path = (stem.with_name(stem.name + ext) for ext in (".ix", ".i4"))
        self._index, self._data = open(self.index_path, "wb"), open(self.data_path, "wb")
        self._n, self._end = 0, 0
        self._fds: tuple[int, int] | None = None

    def append(self, x: Listed) -> None:
        self._data.write(np.ascontiguousarray(x.hits, "<i4").tobytes())
        self._data.write(np.ascontiguousarray(x.records, "<i4").tobytes())
        self._end += 2 * len(x.hits)
        self._index.write(_INDEX.pack(self._end, x.n, x.n_relevant, x.key, PURPOSES.index(x.purpose)))
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def _read(self) -> tuple[int, int]:
        """The files' descriptors for reading, every list added written out first."""
        if self._fds is None:
            self._index.close()
            self._data.close()
            self._fds = os.open(self.index_path, os.O_RDONLY), os.open(self.data_path, os.O_RDONLY)
        return self._fds

    def __getitem__(self, i: int) -> Listed:
        if not 0 <= i < self._n:
            raise IndexError(i)
        return next(iter(self._block(i, 1)))

    def _block(self, first: int, count: int) -> list[Listed]:
        ix, data = self._read()
        start = _INDEX.unpack(os.pread(ix, _INDEX.size, (first - 1) * _INDEX.size))[0] if first else 0
        rows = np.frombuffer(os.pread(ix, count * _INDEX.size, first * _INDEX.size), "<i8").reshape(-1, 5).tolist()
        values = np.frombuffer(os.pread(data, 4 * (rows[-1][0] - start), 4 * start), "<i4").astype(np.int64)
        out, at = [], 0
        for end, n, n_relevant, key, purpose in rows:
            k = (end - start) // 2
            out.append(Listed(values[at: at + k], values[at + k: at + 2 * k], n, n_relevant, PURPOSES[purpose], key))
            at, start = at + 2 * k, end
        return out

    def __iter__(self) -> Iterator[Listed]:
        for first in range(0, self._n, BLOCK):
            yield from self._block(first, min(BLOCK, self._n - first))

    def remove(self) -> None:
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
        else:
            self._index.close()
            self._data.close()
        self.index_path.unlink(missing_ok=True)
        self.data_path.unlink(missing_ok=True)
