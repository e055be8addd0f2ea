"""What every subcommand shares: the console, progress bars, path helpers."""

from __future__ import annotations

import argparse
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


_shared: dict = {"progress": None, "open": 0}  # bars open at once share one live display


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent (no redraws in logs) when CI=true or not a tty.
    Bars open at the same time (a run's four profiles) are stacked in one display."""
    quiet = os.environ.get("CI") == "true" or not console.is_terminal
    if quiet:
        yield lambda n: None
        return
    if _shared["progress"] is None:
        _shared["progress"] = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                       TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)
        _shared["progress"].start()
    p: Progress = _shared["progress"]
    _shared["open"] += 1
    task = p.add_task(label, total=total)
    try:
        yield lambda n: p.advance(task, n)
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


def corpus_dir_for(spec_path: Path) -> Path:
    """corpora/<name>.yaml -> corpora/<name>/"""
    return spec_path.with_suffix("")
