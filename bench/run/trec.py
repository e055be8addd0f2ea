"""TREC formats, so trec_eval, ir_measures and ranx read polebench's results as they are.

A free-text profile's run file holds millions of lines, so lines are laid out as fixed-width
byte rows with numpy rather than formatted one by one: each column is padded with spaces to a
fixed width (TREC readers split on any whitespace), which also lines the columns up for a
reader. `qid Q0 docno rank score tag`, score = volume - rank + 1, so order survives any re-sort."""

from __future__ import annotations

import functools
import queue
import threading
from pathlib import Path
from collections.abc import Mapping
from typing import BinaryIO, Iterable

import numpy as np



def byte_table(names: Iterable[str]) -> np.ndarray:
    """Strings as a (n, width) uint8 matrix, right-padded with spaces."""
    arr = np.asarray(list(names) if not isinstance(names, np.ndarray) else names)
    try:
        enc = arr.astype("S")
    except UnicodeEncodeError:
        enc = np.char.encode(arr, "utf-8")
    width = max(1, enc.dtype.itemsize)
    out = enc.astype(f"S{width}").view(np.uint8).reshape(len(enc), width).copy()
    out[out == 0] = ord(" ")
    return out


def number_table(upto: int) -> np.ndarray:
    """0..upto as right-aligned decimal text, an (upto + 1, width) uint8 matrix."""
    width = len(str(upto))
    v = np.arange(upto + 1)
    out = np.full((upto + 1, width), ord(" "), np.uint8)
    for col in range(width - 1, -1, -1):
        out[:, col] = np.where((v > 0) | (col == width - 1), v % 10 + ord("0"), ord(" "))
        v = v // 10
    return out


class RunWriter:
    """TREC run lines for one corpus and query set. Widths depend only on the corpus and the
    query ids, so a file written need by need as searches finish is byte-identical to one
    written at the end."""

    def __init__(self, names: np.ndarray, qids: list[str], index: Mapping[str, int] | None = None):
        """index: need -> its place in `qids`, where the caller keeps one already (the query set's)."""
        self.names, self.qid_list = names, qids
        self.index = index if index is not None else {q: i for i, q in enumerate(qids)}

    @functools.cached_property
    def docs(self) -> np.ndarray:  # laid out on first use: by the writer thread, during the searches
        return byte_table(self.names)  # record id by record number

    @functools.cached_property
    def qids(self) -> np.ndarray:
        # one row a need, found by its place: a dict of rows held an array object a need (~200 bytes);
        # a query set's NeedIds is laid out without a list of its ids
        fixed = getattr(self.qid_list, "fixed", None)
        return byte_table(fixed() if fixed is not None else self.qid_list)

    @functools.cached_property
    def numbers(self) -> np.ndarray:
        return number_table(len(self.names))  # no list is longer than the corpus

    def lines(self, tag: str, qid: str, rnums: np.ndarray) -> bytes:
        n = len(rnums)
        if not n:
            return b""
        q, d, w = self.qids[self.index[qid]], self.docs.shape[1], self.numbers.shape[1]
        head = np.concatenate([q, np.frombuffer(b" Q0 ", np.uint8)])
        tail = np.frombuffer(f" {tag}\n".encode(), np.uint8)
        out = np.empty((n, len(head) + d + 1 + w + 1 + w + len(tail)), np.uint8)
        at = len(head)
        out[:, :at] = head
        out[:, at: at + d] = self.docs[rnums]
        out[:, at + d] = ord(" ")
        out[:, at + d + 1: at + d + 1 + w] = self.numbers[1: n + 1]  # rank 1..n
        out[:, at + d + 1 + w] = ord(" ")
        out[:, at + d + 2 + w: at + d + 2 + 2 * w] = self.numbers[n:0:-1]  # score n..1
        out[:, at + d + 2 + 2 * w:] = tail
        return out.tobytes()

    def write(self, path: Path, tag: str, results: Iterable[tuple[str, np.ndarray]]) -> None:
        """results: (qid, ranked record numbers), in the order the lines should appear."""
        with open(path, "wb") as f:
            for qid, rnums in results:
                f.write(self.lines(tag, qid, rnums))


class RunStream:
    """Writes run lines on a background thread while the searches go on: the numpy copies and
    the file writes release the GIL, so on two cores they cost the run almost nothing."""

    def __init__(self, writer: RunWriter):
        self.writer = writer
        self.queue: queue.Queue = queue.Queue(maxsize=64)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="trec-run-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        files: dict[Path, BinaryIO] = {}
        try:
            while (item := self.queue.get()) is not None:
                path, tag, qid, rnums = item
                if path not in files:
                    files[path] = open(path, "wb")
                if qid is not None:
                    files[path].write(self.writer.lines(tag, qid, rnums))
        except BaseException as e:  # handed to the caller at close()
            self.error = e
            while self.queue.get() is not None:  # keep draining so that put() never blocks
                pass
        finally:
            for f in files.values():
                f.close()

    def start(self, path: Path) -> None:
        """Begin (truncate) a run file."""
        self.queue.put((path, "", None, None))

    def add(self, path: Path, tag: str, qid: str, rnums: np.ndarray) -> None:
        self.queue.put((path, tag, qid, rnums))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    with open(path, "w") as f:
        for qid, rel in qrels.items():
            for rid in sorted(rel):
                f.write(f"{qid} 0 {rid} {rel[rid]}\n")
