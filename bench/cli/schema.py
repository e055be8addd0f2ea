"""polebench schema: a JSON Schema of each file format a user writes, generated from the pydantic
models that read them, for editors that validate and complete YAML as it is typed (the shipped
YAML files name theirs in a `# yaml-language-server: $schema=` line; docs/schema/ holds them);
and of run.json, the results a run writes, for whatever reads them besides polebench."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from bench.cli.common import console
from bench.errors import PolebenchError

HELP = ("write a JSON Schema of a file format: queries, profile, gates, sweep, mapping, export, adapter, corpus, "
        "behaviour or run (run.json)")


def _models() -> dict[str, Callable[[], type]]:
    # imported when asked for: each format's model lives with the stage that reads it
    def queries():
        from bench.queries.model import QuerySet
        return QuerySet

    def profile():
        from bench.profiles.model import Profile
        return Profile

    def gates():
        from bench.gates.rules import GatesFile
        return GatesFile

    def sweep():
        from bench.sweep.model import Sweep
        return Sweep

    def mapping():
        from bench.corpus.mapping import Mapping
        return Mapping

    def export():
        from bench.corpus.export_mapping import ExportMapping
        return ExportMapping

    def adapter():
        from bench.backends.http_adapter import Adapter
        return Adapter

    def corpus():
        from bench.corpus.spec import CorpusSpec
        return CorpusSpec
    def behaviour():
        from bench.analyst.model import Behaviour
        return Behaviour

    def run():
        from bench.run.results import RunResults
        return RunResults
    return {"queries": queries, "profile": profile, "gates": gates, "sweep": sweep, "mapping": mapping,
            "export": export, "adapter": adapter, "corpus": corpus, "behaviour": behaviour, "run": run}


FORMATS = tuple(_models())
# Where the shipped schemas live, relative to the repository root.
SCHEMA_DIR = Path("docs") / "schema"


def schema(fmt: str) -> dict:
    """The JSON Schema (draft 2020-12) of one format, as pydantic writes it for input."""
    if fmt not in FORMATS:
        raise PolebenchError(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
    model = _models()[fmt]()
    s = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"polebench-{fmt}.schema.json",
            **s}


def text(fmt: str) -> str:
    return json.dumps(schema(fmt), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help=HELP, description=HELP + (
        ". Generated from the models polebench reads the files with, so an editor's checks are polebench's. "
        f"The shipped ones are in {SCHEMA_DIR}/<format>.schema.json."))
    p.add_argument("format", choices=FORMATS)
    p.add_argument("--out", type=Path, help="write to this file (default: print)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = text(args.format)
    if args.out is None:
        print(out, end="")
        return 0
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(out)
    tmp.replace(args.out)
    console.print(f"wrote {args.out}")
    return 0
