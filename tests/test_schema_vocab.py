"""polebench schema and vocab: the JSON Schemas the shipped YAML files name are the ones the
models generate, and every shipped file validates against its own; vocab lists what a need can name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from bench.cli import schema
from bench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"queries": sorted((ROOT / "queries").glob("*.yaml")),
           "profile": sorted((ROOT / "bench" / "profiles").glob("*.yaml")),
           "gates": [ROOT / "gates.example.yaml"], "sweep": sorted((ROOT / "sweeps").glob("*.yaml")),
           "mapping": [ROOT / "corpora" / "import-example.yaml"],
           "export": [ROOT / "corpora" / "export-example.yaml"],
           "adapter": sorted((ROOT / "adapters").glob("*.yaml")),
           "corpus": [ROOT / "corpora" / f"{n}.yaml" for n in ("ci", "default", "large")],
           "behaviour": [ROOT / "bench" / "analyst" / "behaviour.yaml"]}


@pytest.mark.parametrize("fmt", schema.FORMATS)
def test_the_shipped_schema_is_the_generated_one(fmt):
    # a model changed without `polebench schema <fmt> --out docs/schema/<fmt>.schema.json` fails here
    assert (ROOT / schema.SCHEMA_DIR / f"{fmt}.schema.json").read_text() == schema.text(fmt)


@pytest.mark.parametrize("fmt, path", [(f, p) for f, ps in SHIPPED.items() for p in ps],
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_shipped_file_names_its_schema_and_validates(fmt, path):
    first = path.read_text().splitlines()[0]
    target = (ROOT / schema.SCHEMA_DIR / f"{fmt}.schema.json").resolve()
    assert first == f"# yaml-language-server: $schema={os.path.relpath(target, path.parent)}"
    data = json.loads(json.dumps(YAML(typ="safe").load(path.read_text()), default=str))
    errors = list(jsonschema.Draft202012Validator(json.loads(target.read_text())).iter_errors(data))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors]


def test_the_schema_rejects_what_polebench_rejects(capsys):
    assert main(["schema", "gates"]) == 0
    s = json.loads(capsys.readouterr().out)
    v = jsonschema.Draft202012Validator(s)
    assert not list(v.iter_errors({"gates": [{"check": "recall[crimint] >= 0.5"}]}))
    assert list(v.iter_errors({"gates": [{"name": "x", "profile": "crimint"}]}))  # no metric, no check
    assert list(v.iter_errors({"gates": [{"check": "recall[crimint] >= 0.5", "colour": "red"}]}))  # unknown key
    with pytest.raises(SystemExit) as e:
        main(["schema", "spreadsheet"])
    assert e.value.code == 2


def test_vocab_lists_what_needs_can_name_from_the_truth(ci_corpus, capsys):
    from bench.cli.vocab import vocabulary
    from bench.corpus import vocab as generator_vocab
    v = vocabulary(ci_corpus, examples=3, seed=1)
    assert set(v["event type"]) == set(generator_vocab.EVENT_TYPES)
    assert set(v["vehicle colour"]) <= set(generator_vocab.COLOURS) and "NW1" in v["postcode district"]
    assert "Camden" in v["borough"]
    truth = {e["id"]: e for e in ci_corpus.truth_entities()}
    for what, kind in (("example people", "person"), ("example vehicles", "vehicle"), ("example phones", "phone")):
        assert len(v[what]) == 3
        for ex in v[what]:  # each example is a true entity of the corpus, as it truly is
            assert truth[ex["id"]]["kind"] == kind
            assert all(truth[ex["id"]].get(k) == x for k, x in ex.items())
    assert vocabulary(ci_corpus, examples=3, seed=1) == v != vocabulary(ci_corpus, examples=3, seed=2)
    assert main(["vocab", "--corpus", str(ci_corpus.root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"] == "SYNTHETIC" and out["event type"] == v["event type"]


def _vocabulary_by_dicts(corpus, examples: int, seed: int) -> dict:
    """polebench vocab as it was written over the dict form of the truth, as the reference: its
    lists, and the ids of the examples it drew."""
    import random

    from bench.queries.truth import TruthIndex
    truth = TruthIndex({e["id"]: e for e in corpus.truth_entities()})
    events, vehicles, addresses = truth.of_kind("event"), truth.of_kind("vehicle"), truth.of_kind("address")

    def ordered(values) -> list[str]:
        return sorted(set(values))
    out = {"event type": ordered(e["type"] for e in events),
           "MO term": ordered(t.lower() for e in events for t in e.get("mo", ())),
           "vehicle make": ordered(v["make"].lower() for v in vehicles if v.get("make")),
           "vehicle colour": ordered(v["colour"].lower() for v in vehicles if v.get("colour")),
           "postcode district": ordered(a["postcode"].split()[0].upper() for a in addresses if a.get("postcode")),
           "borough": sorted({a["borough"] for a in addresses if a.get("borough")})}
    rng = random.Random(seed)
    for kind in ("people", "vehicles", "phones"):
        pool = list(truth.of_kind({"people": "person", "vehicles": "vehicle", "phones": "phone"}[kind]))
        out[f"example {kind}"] = sorted(e["id"] for e in rng.sample(pool, min(examples, len(pool))))
    return out


def test_vocab_from_the_truth_in_columns_lists_what_the_dict_walk_listed(ci_corpus):
    from bench.cli.vocab import vocabulary
    for examples, seed in ((5, 0), (3, 1), (40, 7)):
        want = _vocabulary_by_dicts(ci_corpus, examples, seed)
        got = vocabulary(ci_corpus, examples, seed)
        assert list(got) == list(want)  # the lists, in the order printed
        assert {k: [e["id"] for e in v] if k.startswith("example") else v for k, v in got.items()} == want
        assert all(want[k] for k in want)  # nothing compared empty (the test can fail)


def test_vocab_does_not_hold_the_truth_as_dicts(ci_corpus, traced_peak):
    """Traced peaks on ci: the entities as dicts 35 MB, in columns 21 MB (most of it the reading
    of the file, which does not grow with the corpus)."""
    from bench.cli.vocab import vocabulary
    from bench.queries.truth import TruthIndex
    dicts = traced_peak(lambda: TruthIndex({e["id"]: e for e in ci_corpus.truth_entities()}))
    columns = traced_peak(lambda: vocabulary(ci_corpus))
    assert columns < 0.75 * dicts, (columns, dicts)
