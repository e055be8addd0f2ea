"""polebench report: report.html and report.md for a finished run."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.cli.common import console
from bench.errors import PolebenchError
from bench.report import html, markdown
from bench.report.model import build

HELP = "write report.html (self-contained, for SIOs) and report.md (for CI) for a finished run"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=HELP, description=HELP + (
        ". The HTML loads nothing from any network: styles and charts are inline."))
    p.add_argument("run_dir", type=Path, help="a results/<run-id> folder")
    p.add_argument("--sweep", type=Path, help="a results/sweep-<name>-<key> folder: adds a 'how robust is this?' section")
    p.add_argument("--partial", action="store_true",
                   help="report a run whose searches did not all succeed, marked incomplete (refused otherwise)")
    p.set_defaults(func=run)


def write_reports(run_dir: Path, sweep: Path | None = None, partial: bool = False) -> tuple[Path, Path]:
    rep = build(run_dir, partial)
    if sweep is not None:
        section = sweep / "section.html"
        if not section.is_file():
            raise PolebenchError(f"{sweep}: not a finished sweep folder (no section.html)")
        rep.robustness = section.read_text()
    out = []
    for name, text in (("report.html", html.render(rep)), ("report.md", markdown.render(rep))):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=run_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, run_dir / name)
        out.append(run_dir / name)
    return out[0], out[1]


def run(args: argparse.Namespace) -> int:
    html_path, md_path = write_reports(args.run_dir, args.sweep, args.partial)
    console.print(f"wrote {html_path}\nwrote {md_path}")
    return 0
