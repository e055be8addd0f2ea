"""polebench run: the same needs through every profile on one backend; measures and results."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bench.analyst.model import load_behaviour
from bench.cli.common import console, progress_bar, seconds_per_record, seed_int
from bench.backends.registry import backend_class
from bench.corpus.store import Corpus
from bench.errors import BackendError, PolebenchError
from bench.profiles.model import ProfileSet
from bench.queries.instantiate import current_instance, ensure_instance
from bench.report.markdown import cell
from bench.redact import check_engine_url
from bench.report.model import ratio
from bench.run.incomplete import incomplete_note
from bench.run.results import RunResults
from bench.run.runner import RunSettings, run_benchmark

HELP = "run a query set through engine profiles on a backend; write results/<run-id>/"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help=HELP, description=HELP + (
        ". The run id is derived from every input (corpus, query set, profiles, backend, settings): "
        "a finished run is reused unless --force. A run directory appears only when complete."))
    add_run_arguments(p)
    p.set_defaults(func=run)


DEFAULT_PROFILES = "crimint,connect,iip,connect+iip,iip-naive,connect+iip-naive"


def add_run_arguments(p: argparse.ArgumentParser, corpus_required: bool = True,
                      profiles_default: str = "%(default)s") -> None:
    p.add_argument("--corpus", type=Path, required=corpus_required, help="corpus folder, e.g. corpora/ci")
    p.add_argument("--queries", type=Path, default=Path("queries/standard.yaml"),
                   help="query set YAML (instantiated against the corpus if not yet; default: %(default)s)")
    p.add_argument("--profiles", default=DEFAULT_PROFILES,
                   help=f"comma-separated shipped profile names or profile YAML paths (default: {profiles_default}; "
                        "the -naive ones search IIP with every word ORed: upper bounds, labelled so)")
    p.add_argument("--backend", default="embedded",
                   help="embedded (default, in process), opensearch, http (any search service, through --backend-config), "
                        "or bm25-ref (small corpora, free text only)")
    p.add_argument("--opensearch-url", help="OpenSearch address (default: $POLEBENCH_OPENSEARCH_URL or "
                                            "http://127.0.0.1:9200); credentials come from "
                                            "POLEBENCH_OPENSEARCH_USER / _PASSWORD / _CA, never from options")
    p.add_argument("--backend-option", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="a setting of the backend's own, e.g. `--backend-option shards=6 replicas=1` for "
                        "--backend opensearch (default there: a shard per data node, one replica where the "
                        "cluster has more than one node)")
    p.add_argument("--backend-config", type=Path, default=None,
                   help="--backend http: the adapter YAML saying how needs become requests to the search service "
                        "and how its answers map back to record ids (examples in adapters/)")
    p.add_argument("--baseline", default="crimint", help="profile that inflation is measured against (default: %(default)s)")
    p.add_argument("--seconds-per-record", type=seconds_per_record, default=30.0,
                   help="analyst seconds to read one record, for sift hours (default: %(default)s; an assumption)")
    p.add_argument("--behaviour", type=Path, default=None,
                   help="how the modelled analyst reads a result list: a YAML like bench/analyst/behaviour.yaml "
                        "(the default), each parameter with its source; the headline's range is drawn from its ranges")
    p.add_argument("--results", type=Path, default=Path("results"), help="results root (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--force", action="store_true", help="rerun even if a finished run exists")
    p.add_argument("--seed", type=seed_int, default=0, help="bootstrap and permutation seed (default: %(default)s)")


def prepared_instance(queries: Path, corpus: Corpus) -> Path:
    """The query stage's output for this set and corpus, made now (saying so) if missing or stale."""
    d = current_instance(queries, corpus)
    if d is None:
        console.print(f"instantiating {queries} against {corpus.name} ...")
        d = ensure_instance(queries, corpus)
    return d


def backend_options(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise PolebenchError(f"--backend-option {pair!r}: expected KEY=VALUE, e.g. shards=6")
        out[key.strip()] = value.strip()
    return out


def settings_from(args: argparse.Namespace, corpus: Corpus) -> RunSettings:
    # a misspelt option is named before the query set is instantiated
    backend = backend_class(args.backend)
    options = backend.check_options(backend_options(args.backend_option))
    if args.opensearch_url:
        check_engine_url(args.opensearch_url, "--opensearch-url")
        options["url"] = args.opensearch_url
    if args.backend_config is not None:
        options["config"] = str(args.backend_config)
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles:
        raise PolebenchError(f"--profiles {args.profiles!r}: no profile named")
    backend.check_run(options, profiles)  # what the backend needs of the run, before the query set is
    ProfileSet(profiles)  # instantiated (minutes, on a large corpus), as every profile file
    load_behaviour(args.behaviour)  # and the behaviour file are read and checked
    return RunSettings(corpus=corpus.root, instance=prepared_instance(args.queries, corpus),
                       profiles=profiles,
                       backend=args.backend, baseline=args.baseline,
                       seconds_per_record=args.seconds_per_record, results=args.results,
                       resume=args.resume, force=args.force, seed=args.seed, behaviour=args.behaviour,
                       backend_options=options)


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    result = execute(settings_from(args, corpus))
    print_summary(result.run)
    last_line(result.dir)
    return BackendError.exit_code if result.failed else 0


def execute(settings: RunSettings):
    with ExitStack() as stack:
        def progress(label: str, total: int):
            return stack.enter_context(progress_bar(label, total))
        result = run_benchmark(settings, progress)
    if result.reused:
        console.print(f"already finished: {result.dir} (use --force to run again)")
    console.print(f"results: {result.dir}")
    return result


def last_line(path: Path) -> None:
    """The run's folder alone on the last line of stdout, unwrapped, for scripts: `tail -n1`."""
    console.file.flush()
    print(path, flush=True)


def complete(result) -> None:
    """For the commands that go on to report a run: stop at an incomplete one."""
    if result.failed:
        raise BackendError(f"{result.dir}: {incomplete_note(result.run)}")


def print_summary(run: RunResults) -> None:
    agg = run.aggregates
    tag = run.corpus.provenance.short
    note = incomplete_note(run)
    t = Table(title=("INCOMPLETE - " if note else "") + f"{run.query_set.query_set} on {run.corpus.name} "
                    f"({tag}) - means with 95% CI; baseline {agg.baseline}")
    for col in ("profile", "volume", "inflation", "recall", "precision", "empty", "read", "sift h/1000", "lost"):
        t.add_column(col, justify="left" if col == "profile" else "right")
    for name, p in agg.profiles.items():
        t.add_row(name, cell(p.mean["volume"], fmt="{:.0f}"), cell(p.inflation.ratio_of_totals, fmt=ratio),
                  cell(p.mean["recall"], 100, "{:.0f}%"), cell(p.mean["precision"], 100, "{:.0f}%"),
                  f"{p.returned_nothing}/{p.queries}", cell(p.mean["examined"], fmt="{:.0f}"),
                  cell(p.sift_hours_per_1000, fmt="{:.0f}"), f"{p.queries_with_lost}/{p.queries}")
    console.print(t)
    if note:
        console.print(f"[bold yellow]{escape(note)}[/]")
    console.print("volume: mean records per need; inflation: total volume / baseline total volume; "
                  "precision: over the needs that returned something; empty: needs that returned nothing; "
                  "read: mean records the modelled analyst reads before stopping; sift h/1000: analyst-hours per 1,000 searches; lost: needs where a capability was lost")
