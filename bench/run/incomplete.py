"""A run whose searches did not all succeed is incomplete: its figures come from some of the
needs only. Every table, report and gate says so, and refuses to present them as if complete
unless a partial view is asked for."""

from __future__ import annotations

from pathlib import Path

from bench.errors import Incomplete
from bench.run.results import RunResults


def missing(run: RunResults) -> dict[str, int]:
    """Per profile, how many needs have no figures because their search failed or was not run."""
    return {n: p.failed for n, p in run.aggregates.profiles.items() if p.failed}


def incomplete_note(run: RunResults) -> str:
    """What an incomplete run lacks, in one sentence; empty for a complete run."""
    gaps = missing(run)
    if not gaps and not run.failed:
        return ""
    n = run.query_set.queries
    per = ", ".join(f"{run.label(p)} {k} of {n}" for p, k in gaps.items())
    k = run.failed
    return (f"INCOMPLETE RUN: {k} search{'' if k == 1 else 'es'} failed, so needs are missing ({per}). Every figure "
            f"is from the needs each profile completed, not from the whole set, and is not comparable with a "
            f"complete run: rerun the same command with --resume to complete it.")


def require_complete(run: RunResults, run_dir: Path, partial: bool, what: str) -> None:
    """Refuse to present an incomplete run's figures unless a partial view was asked for."""
    note = incomplete_note(run)
    if note and not partial:
        raise Incomplete(f"{run_dir}: {note} The {what} refuses to present its figures as if complete; add "
                         f"--partial for one marked incomplete.")
