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


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent (no redraws in logs) when CI=true or not a tty."""
    quiet = os.environ.get("CI") == "true" or not console.is_terminal
    if quiet:
        yield lambda n: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False) as p:
        task = p.add_task(label, total=total)
        yield lambda n: p.advance(task, n)


def corpus_dir_for(spec_path: Path) -> Path:
    """corpora/<name>.yaml -> corpora/<name>/"""
    return spec_path.with_suffix("")
