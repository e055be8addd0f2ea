"""per_query.csv read back for the aggregation, compactly: each numeric column one array of
floats, each text value one shared string, and a row a small view onto them. The runner writes
the rows to the file as it measures them and aggregates from here, so a run of many needs does
not hold a dict of thirty Python objects per (profile, need) (about 4 KB each)."""

from __future__ import annotations

import csv
import sys
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path

from bench.metrics.registry import PER_QUERY_COLUMNS, TEXT_COLUMNS

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


def read_rows(path: Path) -> list[Row]:
    """Every row of a per_query.csv, in the file's order (profile by profile, need by need)."""
    table = Table()
    with open(path, newline="") as f:
        for raw in csv.DictReader(f):
            table.append(raw)
    return [Row(table, i) for i in range(table.n)]
