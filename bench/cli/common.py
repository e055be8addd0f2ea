"""What every subcommand shares: the console, progress bars, path helpers."""

from __future__ import annotations

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


def corpus_dir_for(spec_path: Path) -> Path:
    """corpora/<name>.yaml -> corpora/<name>/"""
    return spec_path.with_suffix("")
