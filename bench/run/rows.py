"""per_query.csv read back for the aggregation, compactly: each numeric column one array of
floats, each text value one shared string, and a row a small view onto them. The runner writes
the rows to the file as it measures them and aggregates from here, so a run of many needs does
not hold a dict of thirty Python objects per (profile, need) (about 4 KB each)."""

from __future__ import annotations

import csv
import struct
import sys
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bench.metrics.aggregate import NUMERIC, Codes, NeedRows
from bench.metrics.registry import PER_QUERY_COLUMNS, TEXT_COLUMNS
from bench.run.results import damaged

# Read as the capabilities one by one, as the runner held them (the file joins them with ';').
LISTED = "lost_capabilities"


class Table:
    """The columns of per_query.csv. An empty numeric cell (a measure undefined for the need, or
    a row whose search failed) is NaN here and None through a Row, as it was when measured; no
    measure is NaN when defined."""

    def __init__(self) -> None:
        self.numbers = {c: array("d") for c in PER_QUERY_COLUMNS if c not in TEXT_COLUMNS}
        self.texts: dict[str, list] = {c: [] for c in TEXT_COLUMNS}
        self.n = 0
        self._shared: dict[str, object] = {}

    def _share(self, value: str, listed: bool) -> object:
        key = ("\0" if listed else "") + value  # the same text read as a list, or as itself
        got = self._shared.get(key)
        if got is None:
            got = tuple(sys.intern(x) for x in value.split(";") if x) if listed else sys.intern(value)
            self._shared[key] = got
        return got

    def append(self, raw: dict[str, str]) -> None:
        for c, col in self.numbers.items():
            v = raw.get(c)
            col.append(float(v) if v not in ("", None) else float("nan"))
        for c, col in self.texts.items():
            v = raw.get(c) or ""
            if c == LISTED:  # one shared tuple per distinct list: read, never changed
                col.append(self._share(v, True))
            else:
                col.append(self._share(v, False) if v or c != "error" else None)
        self.n += 1


class Row(Mapping):
    """One row of a Table, read as the dict the runner wrote it from."""

    __slots__ = ("_t", "_i")

    def __init__(self, table: Table, i: int):
        self._t, self._i = table, i

    def __getitem__(self, key: str):
        col = self._t.numbers.get(key)
        if col is not None:
            v = col[self._i]
            return None if v != v else v
        return self._t.texts[key][self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(PER_QUERY_COLUMNS)

    def __len__(self) -> int:
        return len(PER_QUERY_COLUMNS)


def read_rows(path: Path, expect: int | None = None) -> list[Row]:
    """Every row of a per_query.csv, in the file's order (profile by profile, need by need);
    refused, naming the file and line, if a row is cut short or not numbers where numbers belong,
    or if it holds other than `expect` rows (a file cut at a line's end)."""
    table = Table()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for raw in reader:
            if None in raw or None in raw.values():
                raise damaged(path, "", f"a row cut short, or with cells beyond the header's "
                              f"{len(reader.fieldnames or ())}", reader.line_num)
            try:
                table.append(raw)
            except ValueError as e:
                raise damaged(path, "", str(e), reader.line_num) from None
    if expect is not None and table.n != expect:
        raise damaged(path, "", f"{table.n} rows, where the run's needs and profiles make {expect}")
    return [Row(table, i) for i in range(table.n)]


class RowFile:
    """The run's per-need rows as the aggregation reads them: a file per profile of fixed-width
    float64 records (the need's place in the query set, its kind, whether it failed, what it lost,
    then every numeric column of per_query.csv), written as they are measured and read back a
    column at a time (a bench.metrics.aggregate.RowTable). per_query.csv is the run's output; this
    keeps the aggregation from holding every row of every profile at once (about 1 KB a need for
    four profiles as a Table). The values are those the CSV gives back, to the bit: a float is
    written as its shortest repr, which reads back as the same float."""

    def __init__(self, dir: Path, index: Mapping[str, int], qids: list[str]):
        self.dir, self.index, self.qids = dir, index, qids
        self.codes = Codes()
        self.kinds, self.lost_sets = self.codes.kinds, self.codes.lost_sets
        self._files: dict[str, BinaryIO] = {}
        self._paths: dict[str, Path] = {}

    def add(self, row: Mapping) -> None:
        """One row as written to per_query.csv (its lost capabilities joined by ';', or a list)."""
        name = row["profile"]
        if name not in self._files:
            self._paths[name] = self.dir / f"rows.{len(self._paths)}.f8"
            self._files[name] = open(self._paths[name], "wb")
        values = (row.get(c) for c in NUMERIC)
        self._files[name].write(_RECORD.pack(
            self.index[row["qid"]], self.codes.kind(row["kind"]), bool(row.get("error")),
            self.codes.lost(row.get("lost_capabilities")),
            *(float("nan") if v is None or v == "" else float(v) for v in values)))

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def rows(self, profile: str) -> NeedRows:
        """A profile's rows, mapped from its file (the page cache's, not the process's own memory):
        a column is copied out when asked for."""
        path = self._paths.get(profile)
        m = np.memmap(path, np.float64, "r").reshape(-1, WIDTH) if path and path.stat().st_size \
            else np.empty((0, WIDTH))
        return NeedRows(m[:, 0].astype(np.int32), m[:, 1].astype(np.int32), m[:, 2] != 0, m[:, 3].astype(np.int32),
                        lambda c: np.array(m[:, _COLUMN[c]]))

    def remove(self) -> None:
        self.close()
        for path in self._paths.values():
            path.unlink(missing_ok=True)


WIDTH = 4 + len(NUMERIC)
_COLUMN = {c: 4 + i for i, c in enumerate(NUMERIC)}
_RECORD = struct.Struct(f"<{WIDTH}d")
