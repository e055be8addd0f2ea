"""polebench report: report.html and report.md for a finished run."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import orjson

from bench.cli.common import console
from bench.errors import PolebenchError
from bench.report import explorer, html, markdown
from bench.report.model import Report, build
from bench.report.templating import render, trusted
from bench.run.results import input_differences, run_inputs

HELP = "write report.html (self-contained, for SIOs) and report.md (for CI) for a finished run"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=HELP, description=HELP + (
        ". The HTML loads nothing from any network: styles and charts are inline."))
    p.add_argument("run_dir", type=Path, help="a results/<run-id> folder")
    p.add_argument("--sweep", type=Path, help="a results/sweep-<name>-<key> folder: adds a 'how robust is this?' section. "
                   "Refused when the sweep's base ran on another corpus or query set than the run")
    p.add_argument("--allow-different-inputs", action="store_true",
                   help="add a sweep on other inputs all the same, marked prominently as not about this run's needs")
    p.add_argument("--partial", action="store_true",
                   help="report a run whose searches did not all succeed, marked incomplete (refused otherwise)")
    p.set_defaults(func=run)


def sweep_section(rep: Report, sweep: Path, allow_different: bool = False) -> str:
    """The sweep's section for this run's report; refused (or, when allowed, headed by a warning)
    when the sweep's base did not measure the run's needs on the run's corpus."""
    section, meta = sweep / "section.html", sweep / "sweep.json"
    if not section.is_file() or not meta.is_file():
        raise PolebenchError(f"{sweep}: not a finished sweep folder (no section.html or sweep.json)")
    base = orjson.loads(meta.read_bytes()).get("base")
    diffs = (input_differences(run_inputs(rep.run), base, "the sweep's base") if base else
             ["the sweep does not record its inputs (made by an older polebench); run it again"])
    if not diffs:
        return section.read_text()
    if not allow_different:
        raise PolebenchError(f"{sweep}: the sweep did not measure this run's needs ({rep.run.run_id}): "
                             + "; ".join(diffs) + ". Sweep the run's corpus spec and query set, or pass "
                             "--allow-different-inputs to add it marked as about other inputs")
    return render("mismatch.html", diffs=diffs, section=trusted(section.read_text()))


def write_reports(run_dir: Path, sweep: Path | None = None, partial: bool = False,
                  allow_different: bool = False) -> tuple[Path, Path]:
    rep = build(run_dir, partial)
    if sweep is not None:
        rep.robustness = sweep_section(rep, sweep, allow_different)
    lists = explorer.run_bytes(run_dir)
    rep.explorer_cap = None if lists <= explorer.RUN_BYTES_LIMIT else explorer.CAP
    if rep.explorer_cap is not None:
        console.print(f"explorer.html capped: the run's lists (runs/*.run) hold {lists / 2**20:,.0f} MB, more "
                      f"than one page can hold ({explorer.RUN_BYTES_LIMIT / 2**20:,.0f} MB), so each list is shown "
                      f"up to its first {rep.explorer_cap:,} records; each profile's whole list is in "
                      f"{run_dir / 'runs'}/<profile>.run (TREC format)")
    out = []
    pages = [("report.html", html.render(rep)), ("report.md", markdown.render(rep)),
             ("explorer.html", explorer.render(explorer.explorer_data(run_dir, rep.explorer_cap)))]
    for name, text in pages:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=run_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, run_dir / name)
        out.append(run_dir / name)
    return out[0], out[1]


def run(args: argparse.Namespace) -> int:
    html_path, md_path = write_reports(args.run_dir, args.sweep, args.partial, args.allow_different_inputs)
    console.print(f"wrote {html_path}\nwrote {md_path}\nwrote {html_path.with_name('explorer.html')} "
                  "(pick a need, see each profile's list)")
    return 0
