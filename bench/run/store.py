"""Where a run lives. The run id is derived from its resolved inputs, so finished work is found
again and skipped; work in progress lives in a hidden partial folder, so a killed run loses
nothing finished and --resume picks up where it stopped.

Per profile the partial folder holds `<profile>.jsonl`, one line per finished search, and
`<profile>.rnums`, the ranked record numbers of every search back to back (little-endian
int32). A line names where its list starts and how long it is, and is written only after the
list is flushed, so a line always points at a complete list, right after the one before it; a
last line or list cut short by a kill is ignored and that search is redone. Anything else wrong
(a torn line before the last, lists that overlap or leave gaps, a need recorded as found twice)
means the folder was written by something else, or by two processes at once: a resume refuses
it, naming the file and line. One process holds a run at a time (run_lock)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Container, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, TextIO

import numpy as np
import orjson

from bench.errors import PolebenchError, SpecError

PARTIAL_PREFIX = ".partial-"
RNUM = np.dtype("<i4")


def run_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:12]


def partial_dir(results_root: Path, run_id: str) -> Path:
    """Where a run's work in progress lives until its results are written."""
    return results_root / f"{PARTIAL_PREFIX}{run_id}"


def is_complete(d: Path) -> bool:
    return (d / "run.json").is_file()


class RunBusy(PolebenchError):
    """Another process holds the run: nothing was read or written."""

    exit_code = 5


LOCK_PREFIX = ".lock-"


def _lock_path(results_root: Path, run_id: str) -> Path:
    return results_root / f"{LOCK_PREFIX}{run_id}"


def _hold(path: Path) -> TextIO | None:
    """`path` opened and locked by this process, or None if another process holds it. A lock
    taken on a file that `clean_runs` removed meanwhile is dropped and the file opened again, so
    that two processes never hold one run through two files of the same name."""
    while True:
        f = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return None
        try:
            if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                return f
        except FileNotFoundError:
            pass
        f.close()


@contextmanager
def run_lock(results_root: Path, run_id: str) -> Iterator[None]:
    """Hold one run for this process: an OS lock on `.lock-<run id>` in the results root, which
    the OS releases when the process ends, however it ends. The file stays (only `clean_runs`
    removes it, while holding the lock itself)."""
    results_root.mkdir(parents=True, exist_ok=True)
    path = _lock_path(results_root, run_id)
    f = _hold(path)
    if f is None:
        holder = path.read_text(encoding="utf-8", errors="replace").strip() if path.is_file() else ""
        raise RunBusy(f"{results_root / run_id}: another polebench process{f' (pid {holder})' if holder else ''} "
                      f"is running this run; wait for it to end, then run again (or --resume)")
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        f.close()


def clean_runs(results_root: Path) -> list[Path]:
    """What runs left in a results root that no process holds: the partial folder of a run killed
    and never resumed (work a --resume would have continued), and each run's lock file; for
    `polebench clean`. A partial folder is taken as polebench's only beside its run's lock file,
    which a run writes before it; one of a run still going is left alone."""
    removed: list[Path] = []
    for lock in sorted(results_root.glob(f"{LOCK_PREFIX}*")) if results_root.is_dir() else []:
        if not lock.is_file() or lock.is_symlink():
            continue
        f = _hold(lock)
        if f is None:  # a run in progress
            continue
        try:
            partial = partial_dir(results_root, lock.name[len(LOCK_PREFIX):])
            if partial.is_dir() and not partial.is_symlink():
                shutil.rmtree(partial)
                removed.append(partial)
            lock.unlink()
            removed.append(lock)
        finally:
            f.close()
    return removed


@dataclass
class _Scanned:
    """What a profile's partial files hold, checked: where the latest row per need is, where each
    list starts and how long it is, which needs' latest search failed, and how much of each file
    is whole (the rest is a torn tail to cut)."""

    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # need -> (offset, length) of its row
    at: dict[str, tuple[int, int]] = field(default_factory=dict)  # need -> (start, length) of its list
    failed: set[str] = field(default_factory=set)
    rows_bytes: int = 0
    lists_len: int = 0  # in record numbers


def _scan(rows_path: Path, lists_path: Path, known: Container[str] | None) -> _Scanned:
    out = _Scanned()
    if not rows_path.is_file():
        return out
    data = rows_path.read_bytes()
    n_rnums = lists_path.stat().st_size // RNUM.itemsize if lists_path.is_file() else 0
    lines = data.split(b"\n")
    whole = lines[:-1]  # the part after the last newline is a line torn by a kill, or empty
    for i, line in enumerate(whole, 1):
        last = i == len(whole)
        row = _checked_row(rows_path, i, line)
        start, n = row.pop("at"), row["returned"]
        if start != out.lists_len:
            raise _bad(rows_path, i, "at", f"list starts at {start}, where the one before ends at {out.lists_len}")
        if start + n > n_rnums:
            if last:  # its list was cut short by a kill: redo that search
                break
            raise _bad(rows_path, i, "at", f"list runs past the end of {lists_path.name}")
        qid = row["qid"]
        if known is not None and qid not in known:
            raise _bad(rows_path, i, "qid", f"need {qid!r} is not in this run's query set")
        if qid in out.lines and qid not in out.failed:
            raise _bad(rows_path, i, "qid", f"need {qid!r} was already recorded as searched")
        out.lines[qid], out.at[qid] = (out.rows_bytes, len(line)), (start, n)
        (out.failed.add if row.get("error") else out.failed.discard)(qid)
        out.lists_len = start + n
        out.rows_bytes += len(line) + 1
    return out


def _checked_row(path: Path, line_no: int, line: bytes) -> dict:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise _bad(path, line_no, "", f"not a whole JSON line ({e})") from None
    if not isinstance(row, dict):
        raise _bad(path, line_no, "", "not a JSON object")
    for key, kind in (("qid", str), ("at", int), ("returned", int)):
        if not isinstance(row.get(key), kind) or (kind is int and row[key] < 0):
            raise _bad(path, line_no, key, "missing or not a valid value")
    return row


def _bad(path: Path, line_no: int, key: str, msg: str) -> SpecError:
    return SpecError.single(path, key, msg + "; this run folder was not written by one polebench process "
                            "alone: start again with --force", line=line_no)


class Partial:
    """Append-only record of finished searches for one run."""

    def __init__(self, results_root: Path, run_id: str, resume: bool, force: bool):
        self.dir = partial_dir(results_root, run_id)
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

    def load(self, profile: str, known: Mapping[str, int] | None = None) -> tuple["Outcomes", "Lists"]:
        """The latest outcome per need and its ranked record numbers, both read from disk when
        asked for, checked (see _scan); `known`: the needs of the run's query set, each with its
        place in it (where each need's row and list are is then kept in two arrays over them, mapped
        from files beside the rows: Spans)."""
        scanned = _scan(self._rows(profile), self._lists(profile), known)
        outcomes, lists = Outcomes(self._rows(profile)), Lists(self._lists(profile))
        if known is not None:
            outcomes.at = Spans(known, self.dir / f"{profile}.rows-at")
            lists.at = Spans(known, self.dir / f"{profile}.lists-at")
            outcomes.at.update(scanned.lines)
            lists.at.update(scanned.at)
        else:
            outcomes.at, lists.at = scanned.lines, scanned.at
        outcomes.failed = scanned.failed
        return outcomes, lists

    def writer(self, profile: str) -> "PartialWriter":
        return PartialWriter(self._rows(profile), self._lists(profile))


class Spans(MutableMapping):
    """Need -> (start, length), for the needs of one query set, as a (needs x 2) int64 array over
    the set: a run keeps one of these per profile for its rows and one for its lists. With a `file`
    the array is mapped from it (the run's partial folder): pages the kernel writes back and
    reclaims, not the process's heap, so that where every search's row and list are (16 bytes a
    (profile, need) each, 192 a need for six profiles) does not grow a run's memory with its
    needs. Held as start + 1, so that a page never written reads as absent. Iterates in the set's
    order."""

    def __init__(self, index: Mapping[str, int], file: Path | None = None):
        self.index = index  # need -> its place in the set, shared by every profile's spans
        n = len(index)
        self.spans = np.memmap(file, np.int64, "w+", shape=(n, 2)) if file is not None and n \
            else np.zeros((n, 2), np.int64)

    def __getitem__(self, qid: str) -> tuple[int, int]:
        start, n = self.spans[self.index[qid]].tolist()
        if not start:
            raise KeyError(qid)
        return start - 1, n

    def __setitem__(self, qid: str, span: tuple[int, int]) -> None:
        self.spans[self.index[qid]] = (span[0] + 1, span[1])

    def __delitem__(self, qid: str) -> None:
        self[qid]  # KeyError if absent
        self.spans[self.index[qid]] = 0

    def __contains__(self, qid: object) -> bool:
        i = self.index.get(qid)  # type: ignore[call-overload]
        return i is not None and bool(self.spans[i, 0])

    def __iter__(self) -> Iterator[str]:
        at = 0
        for q in self.index:  # the set's order; the starts read a block at a time
            if at % _ITER_BLOCK == 0:
                block = self.spans[at: at + _ITER_BLOCK, 0].tolist()
            if block[at % _ITER_BLOCK]:
                yield q
            at += 1

    def __len__(self) -> int:
        return int(np.count_nonzero(self.spans[:, 0]))


_ITER_BLOCK = 4096


class Outcomes(Mapping):
    """Need -> its latest recorded search (the row as the run recorded it), kept in the profile's
    .jsonl file and read one row at a time when asked for: a run holds where each row is and which
    searches failed, not the rows, so that its memory does not grow with its needs by a dict each."""

    # Rows are asked for mostly in the order they were written (need by need): a block of the file
    # read at once serves the rows after the one asked for, so the file is opened once a block, not
    # once a row. Small, as a run holds one per profile (assumed; a row is a few hundred bytes).
    BLOCK = 64 * 1024

    def __init__(self, path: Path):
        self.path = path
        self.at: MutableMapping[str, tuple[int, int]] = {}  # need -> (offset, length) of its line
        self.failed: set[str] = set()
        self._block, self._block_at = b"", 0  # the last block read, and its offset in the file

    def record(self, qid: str, line: tuple[int, int], error: bool) -> None:
        self.at[qid] = line
        (self.failed.add if error else self.failed.discard)(qid)
        if line[0] < self._block_at + len(self._block):  # written where a block read lies (a torn tail cut)
            self._block = b""

    def ok(self, qid: str) -> bool:
        """Was the need searched, and did its latest search succeed?"""
        return qid in self.at and qid not in self.failed

    def done(self) -> int:
        return len(self.at) - len(self.failed)

    def __getitem__(self, qid: str) -> dict:
        start, n = self.at[qid]
        i = start - self._block_at
        if i < 0 or i + n > len(self._block):  # rows are appended after it: a block read stays true
            with open(self.path, "rb") as f:
                f.seek(start)
                self._block, self._block_at, i = f.read(max(n, self.BLOCK)), start, 0
        row = orjson.loads(self._block[i:i + n])
        del row["at"]
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self.at)

    def __len__(self) -> int:
        return len(self.at)


class Lists(Mapping):
    """Need -> ranked record numbers, kept in the profile's .rnums file and read one list at a
    time when asked for: a run holds where each list is, not the lists (a free-text profile
    returns thousands of records a need, so holding them made a run's memory grow with its
    needs)."""

    def __init__(self, path: Path):
        self.path = path
        self.at: MutableMapping[str, tuple[int, int]] = {}  # need -> (start, length) in record numbers

    def __getitem__(self, qid: str) -> np.ndarray:
        start, n = self.at[qid]
        if not n:
            return np.empty(0, np.int64)
        return np.fromfile(self.path, RNUM, count=n, offset=start * RNUM.itemsize).astype(np.int64)

    def __iter__(self) -> Iterator[str]:
        return iter(self.at)

    def __len__(self) -> int:
        return len(self.at)


class PartialWriter:
    """Appends finished searches of one profile; a context manager. A torn tail left by a kill
    is cut first, so that each list starts right where the one before ends."""

    def __init__(self, rows: Path, lists: Path):
        scanned = _scan(rows, lists, None)
        for path, keep in ((rows, scanned.rows_bytes), (lists, scanned.lists_len * RNUM.itemsize)):
            if path.is_file() and path.stat().st_size != keep:
                os.truncate(path, keep)
        self.end, self.rows_end = scanned.lists_len, scanned.rows_bytes
        self.rows: BinaryIO = open(rows, "ab")
        self.lists: BinaryIO = open(lists, "ab")

    def add(self, row: dict, rnums: np.ndarray) -> tuple[int, tuple[int, int]]:
        """Where the list starts, in record numbers, and where the row's line is (offset, length)."""
        start = self.end
        self.lists.write(np.asarray(rnums, RNUM).tobytes())
        self.lists.flush()
        self.end += len(rnums)
        line = orjson.dumps({**row, "at": start})
        self.rows.write(line + b"\n")
        self.rows.flush()
        at = (self.rows_end, len(line))
        self.rows_end += len(line) + 1
        return start, at

    def __enter__(self) -> "PartialWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.rows.close()
        self.lists.close()
