"""What every subcommand shares: the console, progress bars, path helpers."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


_shared: dict = {"progress": None, "open": 0}  # bars open at once share one live display


# Seconds between progress lines where there is no terminal to redraw a bar (a CI log): often
# enough to show a job is alive, rarely enough that a log stays readable.
PROGRESS_EVERY = 5.0


class LogProgress:
    """Progress as plain lines on stderr, at most one every `every` seconds, and one at the end:
    stage, done/total and rate. stdout stays for results (its last line is what a script reads)."""

    def __init__(self, label: str, total: int | None, every: float = PROGRESS_EVERY,
                 clock: Callable[[], float] = time.monotonic, out: TextIO | None = None):
        self.label, self.total, self.every, self.clock = label, total, every, clock
        self.out = out or sys.stderr
        self.done = 0
        self.start = self.last = clock()

    def __call__(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._line(now, "")

    def _line(self, now: float, end: str) -> None:
        of = f"/{self.total:,}" if self.total is not None else ""
        took = now - self.start
        rate = f", {self.done / took:,.0f}/s" if took > 0 and self.done else ""
        print(f"{self.label}: {self.done:,}{of}{rate}{end}", file=self.out, flush=True)

    def close(self) -> None:
        if self.done == 0 and self.total:
            print(f"{self.label}: nothing to do (reused)", file=self.out, flush=True)
        else:
            self._line(self.clock(), f" - done in {self.clock() - self.start:,.1f} s")


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; without one (a CI log, CI=true) a line every few seconds.
    Bars open at the same time (a run's four profiles) are stacked in one display."""
    quiet = os.environ.get("CI") == "true" or not console.is_terminal
    if quiet:
        log = LogProgress(label, total)
        yield log
        log.close()
        return
    if _shared["progress"] is None:
        _shared["progress"] = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                       TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)
        _shared["progress"].start()
    p: Progress = _shared["progress"]
    _shared["open"] += 1
    task = p.add_task(label, total=total)
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        p.advance(task, n)
    try:
        yield advance
        if total and not done[0]:  # nothing to do (a cached index): say so, not a bar stuck at 0/N
            p.update(task, description=f"{label} (reused)", completed=total)
    finally:
        p.update(task, refresh=True)
        _shared["open"] -= 1
        if not _shared["open"]:
            p.stop()
            _shared["progress"] = None


def _whole(text: str, least: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < least:
        raise argparse.ArgumentTypeError(f"{text} must be at least {least}")
    return n


def positive_int(text: str) -> int:
    """An option's count: a whole number of at least 1 (argparse names the option and exits 2)."""
    return _whole(text, 1)


def seed_int(text: str) -> int:
    """A seed: a whole number of at least 0, as numpy's generators take."""
    return _whole(text, 0)


def positive_float(text: str) -> float:
    """An option's amount: a finite number above 0 (nan, inf and negatives would turn every
    figure derived from it into nonsense without an error)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a finite number above 0")
    return v


# No analyst reads one record for a day (assumed): an amount above it is a slip, and near the largest
# float every sift-hours figure overflowed to undefined, with numpy's warnings and exit 0.
MAX_SECONDS_PER_RECORD = 86_400.0


def seconds_per_record(text: str) -> float:
    v = positive_float(text)
    if v > MAX_SECONDS_PER_RECORD:
        raise argparse.ArgumentTypeError(f"{text} is more than a day ({MAX_SECONDS_PER_RECORD:,.0f} seconds) "
                                         f"to read one record")
    return v


def corpus_dir_for(spec_path: Path) -> Path:
    """corpora/<name>.yaml -> corpora/<name>/"""
    return spec_path.with_suffix("")
