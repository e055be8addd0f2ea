"""Where a run lives. The run id is derived from its resolved inputs, so finished work is found
again and skipped; work in progress lives in a hidden partial folder, so a killed run loses
nothing finished and --resume picks up where it stopped.

Per profile the partial folder holds `<profile>.jsonl`, one line per finished search, and
`<profile>.rnums`, the ranked record numbers of every search back to back (little-endian
int32). A line names where its list starts and how long it is, and is written only after the
list is flushed, so a line always points at a complete list; a line or list cut short by a kill
is ignored and that search is redone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from bench.errors import PolebenchError

PARTIAL_PREFIX = ".partial-"
RNUM = np.dtype("<i4")


def run_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:12]


def is_complete(d: Path) -> bool:
    return (d / "run.json").is_file()


class Partial:
    """Append-only record of finished searches for one run."""

    def __init__(self, results_root: Path, run_id: str, resume: bool, force: bool):
        self.dir = results_root / f"{PARTIAL_PREFIX}{run_id}"
        if self.dir.exists() and not (resume or force):
            raise PolebenchError(f"an interrupted run exists at {self.dir}; "
                                 f"continue it with --resume or start again with --force")
        if force and self.dir.exists():
            for f in [*self.dir.glob("*.jsonl"), *self.dir.glob("*.rnums")]:
                f.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)

    def _rows(self, profile: str) -> Path:
        return self.dir / f"{profile}.jsonl"

    def _lists(self, profile: str) -> Path:
        return self.dir / f"{profile}.rnums"

    def load(self, profile: str) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
        """The latest outcome per need and its ranked record numbers."""
        rows: dict[str, dict] = {}
        lists: dict[str, np.ndarray] = {}
        f = self._rows(profile)
        if not f.is_file():
            return rows, lists
        data = np.fromfile(self._lists(profile), RNUM) if self._lists(profile).is_file() else np.empty(0, RNUM)
        for line in f.read_bytes().splitlines():
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            start, n = row.pop("at"), row["returned"]
            if start + n > len(data):
                continue
            rows[row["qid"]] = row
            lists[row["qid"]] = data[start: start + n].astype(np.int64)
        return rows, lists

    def writer(self, profile: str) -> "PartialWriter":
        return PartialWriter(self._rows(profile), self._lists(profile))


class PartialWriter:
    """Appends finished searches of one profile; a context manager."""

    def __init__(self, rows: Path, lists: Path):
        if rows.is_file():  # drop a torn last line before appending
            data = rows.read_bytes()
            if data and not data.endswith(b"\n"):
                rows.write_bytes(data[: data.rfind(b"\n") + 1])
        if lists.is_file() and lists.stat().st_size % RNUM.itemsize:  # a list torn mid-number
            with open(lists, "r+b") as f:
                f.truncate(lists.stat().st_size // RNUM.itemsize * RNUM.itemsize)
        self.rows: BinaryIO = open(rows, "ab")
        self.lists: BinaryIO = open(lists, "ab")

    def add(self, row: dict, rnums: np.ndarray) -> None:
        start = self.lists.tell() // RNUM.itemsize
        self.lists.write(np.asarray(rnums, RNUM).tobytes())
        self.lists.flush()
        self.rows.write(orjson.dumps({**row, "at": start}) + b"\n")
        self.rows.flush()

    def __enter__(self) -> "PartialWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.rows.close()
        self.lists.close()
