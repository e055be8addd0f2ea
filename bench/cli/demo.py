"""polebench demo: everything on the defaults, on the embedded engine - the README's main command."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.backends.registry import backend_class
from bench.cli.common import console, corpus_dir_for, progress_bar
from bench.cli.generate import print_summary as corpus_summary
from bench.cli.report import write_reports
from bench.cli.run import DEFAULT_PROFILES, add_run_arguments, complete, execute, print_summary, settings_from
from bench.corpus.generate import current_corpus, generate, load_spec
from bench.corpus.store import Corpus

HELP = ("generate the default corpus if missing, run the standard set on the shipped profiles and the reference "
        "(what good looks like), write the report")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=HELP, description=HELP + ". All data are SYNTHETIC.")
    p.add_argument("--spec", type=Path, default=Path("corpora/default.yaml"),
                   help="corpus spec to generate and use (default: %(default)s)")
    add_run_arguments(p, corpus_required=False, profiles_default=f"{DEFAULT_PROFILES}, and reference where the "
                                                                 "backend runs entity resolution")
    # the demo's report shows what good looks like beside the baseline, where the backend can run it
    p.set_defaults(func=run, profiles=None)


def demo_profiles(backend: str) -> str:
    """The shipped profiles, and the reference where the backend runs entity resolution: without
    it `demo --backend opensearch` generated a 200k corpus and was then refused."""
    return DEFAULT_PROFILES + (",reference" if "Resolve" in backend_class(backend).SUPPORTS else "")


def ensure_corpus(spec_path: Path) -> Corpus:
    spec = load_spec(spec_path)
    out = corpus_dir_for(spec_path)
    corpus = current_corpus(spec, out)
    if corpus:
        return corpus
    if (out / "manifest.json").is_file():
        console.print(f"{out} is stale (its spec or the generator changed): generating again")
    else:
        console.print(f"generating the {spec.name} corpus ({spec.records:,} synthetic records) ...")
    with progress_bar(f"generating {spec.name}", spec.records) as advance:
        manifest = generate(spec, out, progress=advance)
    corpus_summary(manifest, out)
    return Corpus(out)


def run(args: argparse.Namespace) -> int:
    if args.profiles is None:
        args.profiles = demo_profiles(args.backend)
    corpus = ensure_corpus(args.spec)
    result = execute(settings_from(args, corpus))
    complete(result)
    html, md = write_reports(result.dir)
    print_summary(result.run)
    console.print(f"\nreport: {html}\nsummary: {md}")
    return 0
