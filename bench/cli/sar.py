"""polebench sar: how complete and how clean is a subject access request on each profile?"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from bench.access.sar import sar_instance, sar_summary
from bench.backends.registry import backend_class
from bench.cli.common import console, positive_int, seconds_per_record, seed_int
from bench.cli.report import write_reports
from bench.cli.run import complete, execute
from bench.corpus.store import Corpus
from bench.queries.instantiate import instance_dir, write_instance
from bench.run import audit
from bench.run.runner import RunSettings

HELP = "measure subject access requests per profile: records found, missed, and other people's records included"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sar", help=HELP, description=HELP + (
        ". Subjects are seeded and stratified (common and rare names, with aliases, with many records); "
        "each profile searches with what a requester supplies (name, alias, date of birth, address)."))
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--profiles", default="crimint,connect,iip,connect+iip")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--subjects", type=positive_int, default=20, help="how many subjects to sample (default: %(default)s)")
    g.add_argument("--subject", help="one subject's true entity id, e.g. P0000008")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--backend", default="embedded")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--seconds-per-record", type=seconds_per_record, default=30.0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    backend_class(args.backend).check_run({}, profiles)  # before the subjects are chosen and judged
    inst = sar_instance(corpus, subjects=None if args.subject else args.subjects, subject=args.subject, seed=args.seed)
    d = instance_dir(corpus, inst.meta["query_set"])
    write_instance(d, inst)
    result = execute(RunSettings(corpus=corpus.root, instance=d, profiles=profiles, backend=args.backend,
                                 baseline=profiles[0], results=args.results,
                                 seconds_per_record=args.seconds_per_record))
    complete(result)
    html, md = write_reports(result.dir)
    summary = sar_summary(result.run)
    audit.append(args.results / "audit.jsonl", "sar", operation="disclosure", run_id=result.run.run_id,
                 corpus=corpus.name, subjects=len(inst.needs), profiles=profiles,
                 completeness={k: v.completeness.value for k, v in summary.items()})
    t = Table(title=f"subject access on {corpus.name} ({result.run.corpus.provenance.short}): "
                    f"means per request, 95% CI")
    for col in ("profile", "complete", "records missed", "other people's records", "hours to compile"):
        t.add_column(col, justify="left" if col == "profile" else "right")
    for name, s in summary.items():
        c, f = s.completeness, s.false_inclusions
        t.add_row(name, f"{c.value * 100:.0f}% [{c.lo * 100:.0f}, {c.hi * 100:.0f}]",
                  f"{s.missed_total}/{s.relevant_total}",
                  f"{f.value:,.1f} [{f.lo:,.1f}, {f.hi:,.1f}]",
                  f"{s.hours.value:,.2f}")
    console.print(t)
    console.print(f"report: {html}")
    return 0
