"""polebench schema: a JSON Schema of each file format a user writes, generated from the pydantic
models that read them, for editors that validate and complete YAML as it is typed (the shipped
YAML files name theirs in a `# yaml-language-server: $schema=` line; docs/schema/ holds them);
and of run.json, the results a run writes, for whatever reads them besides polebench."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from bench.cli.common import console
from bench.errors import PolebenchError

HELP = ("write a JSON Schema of a file format: queries, profile, gates, sweep, mapping, export, adapter, corpus, "
        "behaviour or run (run.json)")


# Each format's model, imported when asked for: it lives with the stage that reads the file.
MODELS = {"queries": "bench.queries.model:QuerySet", "profile": "bench.profiles.model:Profile",
          "gates": "bench.gates.rules:GatesFile", "sweep": "bench.sweep.model:Sweep",
          "mapping": "bench.corpus.mapping:Mapping", "export": "bench.corpus.export_mapping:ExportMapping",
          "adapter": "bench.backends.http_adapter:Adapter", "corpus": "bench.corpus.spec:CorpusSpec",
          "behaviour": "bench.analyst.model:Behaviour", "run": "bench.run.results:RunResults"}
FORMATS = tuple(MODELS)
# Where the shipped schemas live, relative to the repository root.
SCHEMA_DIR = Path("docs") / "schema"


def schema(fmt: str) -> dict:
    """The JSON Schema (draft 2020-12) of one format, as pydantic writes it for input."""
    if fmt not in FORMATS:
        raise PolebenchError(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
    module, name = MODELS[fmt].split(":")
    model = getattr(importlib.import_module(module), name)
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
