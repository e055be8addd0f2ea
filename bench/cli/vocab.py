"""polebench vocab: what a need can name on a corpus - the closed vocabularies the query set is
checked against, places, and a few example people, plates and phones to try needs with."""

from __future__ import annotations

import argparse
import random
from collections.abc import Mapping
from pathlib import Path

import orjson
from rich.table import Table

from bench.cli.common import console, positive_int, seed_int
from bench.corpus.store import Corpus
from bench.queries.compact import TruthStore
from bench.queries.vocabulary import Vocabulary

HELP = "list what needs can name on a corpus: event types, MO terms, districts, boroughs, makes, colours, examples"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("vocab", help=HELP, description=HELP + (
        ". Values come from the corpus truth, as the query set is checked against them; the examples "
        "are drawn with a seed, and are as synthetic as the corpus."))
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder, e.g. corpora/ci")
    p.add_argument("--examples", type=positive_int, default=5, help="example people, plates and phones (default: %(default)s)")
    p.add_argument("--seed", type=seed_int, default=0, help="which examples (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def vocabulary(corpus: Corpus, examples: int = 5, seed: int = 0) -> dict:
    """Every list the command prints, by name."""
    # entities only (no mentions needed), in columns: about 0.2 GB a million records, not 1.7
    truth = TruthStore.from_rows(corpus.truth_entities(), (), corpus.root / "truth")
    out: dict = {k: list(v) for k, v in Vocabulary(truth).values.items()}
    out["borough"] = sorted(b for b in truth.distinct("address", "borough") if b)
    rng = random.Random(seed)

    def some(kind: str) -> list[Mapping]:
        pool = truth.of_kind(kind)  # a sequence of views: sample reads the few it picks
        return sorted(rng.sample(pool, min(examples, len(pool))), key=lambda e: e["id"])
    out["example people"] = [{"id": e["id"], "forename": e.get("forename"), "surname": e.get("surname"),
                               "dob": e.get("dob"), "alias": e.get("alias")} for e in some("person")]
    out["example vehicles"] = [{"id": e["id"], "vrm": e.get("vrm"), "make": e.get("make"), "colour": e.get("colour")}
                               for e in some("vehicle")]
    out["example phones"] = [{"id": e["id"], "number": e.get("number")} for e in some("phone")]
    return out


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    corpus.verify()  # the values the query set will be checked against are the corpus's own, as at `queries`
    v = vocabulary(corpus, args.examples, args.seed)
    tag = corpus.manifest.provenance.short
    if args.json:
        print(orjson.dumps({"corpus": corpus.name, "data": tag, **v}, option=orjson.OPT_INDENT_2).decode())
        return 0
    for what, values in v.items():
        if what.startswith("example"):
            continue
        shown = ", ".join(values) if values else "none in this corpus"
        console.print(f"[bold]{what}[/] ({len(values)}): {shown}", soft_wrap=False)
    for what in ("example people", "example vehicles", "example phones"):
        rows = v[what]
        t = Table(title=f"{what} ({tag}: made up, for trying needs)")
        for col in (rows[0].keys() if rows else ("none in this corpus",)):
            t.add_column(col)
        for r in rows:
            t.add_row(*("" if x is None else str(x) for x in r.values()))
        console.print(t)
    return 0
