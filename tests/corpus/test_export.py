"""polebench export: the ci corpus's records written for a system under test, one file per
source system, read back by polebench import to the same records; nothing of the truth written;
nothing polebench did not write replaced."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import orjson
import pytest

from bench.cli.main import main
from bench.corpus.export import rows_of
from bench.corpus.export_mapping import ExportMapping
from bench.corpus.store import Corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "corpora" / "export-example.yaml"
SYSTEMS = {"INTEL": "intel", "CRIS": "crime", "CUSTODY": "custody", "STOPSEARCH": "stop_search",
           "PROPERTY": "property"}

# The import mapping that reads the example export back: every row its own entity, since the
# export carries no truth (the round trip is of records, not of who they are about).
IMPORT_BACK = """\
schema_version: 1
origin: export of the ci corpus
licence: synthetic
synthetic: true
record_id: row_id
entity_id: {column: row_id}
source_system: {column: system, values: {INTEL: intel, CRIS: crime, CUSTODY: custody, STOPSEARCH: stop_search, PROPERTY: property}}
record_date: {column: created, format: "%d/%m/%Y"}
person:
  forename: forename
  middle: middle_names
  surname: surname
  dob: {column: dob, format: "%d/%m/%Y"}
  sex: sex
address: {lines: [address], town: borough, postcode: postcode}
phone: phone
vehicle_vrm: vrm
text: [narrative]
unmapped: drop
"""


@pytest.fixture(scope="module")
def exported(ci_corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "ci-export"
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(EXAMPLE), "--out", str(out)]) == 0
    return out


def test_one_file_per_source_system_with_the_mapping_columns(ci_corpus, exported):
    made = json.loads((exported / "export.json").read_text())
    assert sorted(p.name for p in exported.iterdir()) == sorted([*made["files"], "export.json"])
    assert {f["source"] for f in made["files"].values()} == set(ci_corpus.manifest.counts["per_source"])
    for name, f in made["files"].items():
        assert f["records"] == ci_corpus.manifest.counts["per_source"][f["source"]]
        with open(exported / name, newline="") as fh:
            header = next(csv.reader(fh))
        assert header == [c for _, c in ExportMapping.model_validate(made["mapping"]).columns()]
    assert made["corpus"]["checksum"] == ci_corpus.checksum and "SYNTHETIC" in made["note"]


def test_every_field_is_written_as_the_mapping_says(ci_corpus, exported):
    """Each row against its record, field by field, including those import has no place for."""
    rows: dict[str, list[dict]] = {}
    for path in exported.glob("*.csv"):
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                assert SYSTEMS[r["system"]] and path.stem == r["system"]
                rows.setdefault(r["polebench_id"], []).append(r)
    fmt = lambda d: dt.date.fromisoformat(d).strftime("%d/%m/%Y") if d else ""  # noqa: E731
    n = 0
    for rec in ci_corpus.records():
        got = rows.pop(rec["rid"])
        people = rec["people"] or [{}]
        assert len(got) == len(people)
        loc, veh = rec["locations"][0], (rec["vehicles"] or [{}])[0]
        for i, (r, p) in enumerate(zip(got, people), 1):
            assert r["person_no"] == str(i) and r["row_id"] == f"{rec['rid']}-{i}"
            assert SYSTEMS[r["system"]] == rec["source"] and r["record_type"] == rec["type"]
            assert (r["created"], r["occurred"]) == (fmt(rec["date"]), fmt(rec.get("event_date")))
            assert r["offence"] == rec["offence"] and r["grading"] == rec.get("grading", "")
            assert r["weapon"] == (rec["objects"][0]["description"] if rec["objects"] else "")
            assert r["phone"] == (rec["phones"][0]["number"] if rec["phones"] else "")
            assert [r[k] for k in ("vrm", "make", "model", "colour")] == [veh.get(k) or "" for k in
                                                                        ("vrm", "make", "model", "colour")]
            assert [r[k] for k in ("address", "borough", "postcode")] == [loc["address"], loc["borough"], loc["postcode"]]
            assert r["lat"] == ("" if loc["lat"] is None else str(loc["lat"]))
            assert (r["forename"], r["middle_names"], r["surname"], r["dob"], r["sex"], r["role"]) == (
                p["forename"], p["middle"], p["surname"], fmt(p["dob"]), p["sex"] or "", p["role"])
            assert r["narrative"] == rec["text"]
        n += 1
    assert not rows and n == ci_corpus.manifest.counts["records"]


def test_the_export_round_trips_through_import_to_the_same_records(ci_corpus, exported, tmp_path):
    mapping = tmp_path / "back.yaml"
    mapping.write_text(IMPORT_BACK)
    back: dict[str, dict] = {}
    for path in sorted(exported.glob("*.csv")):
        out = tmp_path / path.stem
        assert main(["import", str(path), "--map", str(mapping), "--name", path.stem, "--out", str(out)]) == 0
        back.update((r["rid"], r) for r in Corpus(out).records())
    for rec in ci_corpus.records():
        for i, p in enumerate(rec["people"], 1):
            got = back.pop(f"{rec['rid']}-{i}")
            assert got["source"] == rec["source"] and got["date"] == rec["date"] and got["text"] == rec["text"]
            assert {k: got["people"][0][k] for k in ("forename", "middle", "surname", "dob", "sex")} == {
                k: p[k] for k in ("forename", "middle", "surname", "dob", "sex")}
            assert [(x["address"], x["borough"], x["postcode"]) for x in got["locations"]] == [
                (x["address"], x["borough"], x["postcode"]) for x in rec["locations"]]
            assert [x["number"] for x in got["phones"]] == [x["number"] for x in rec["phones"]]
            assert [x["vrm"] for x in got["vehicles"]] == [x["vrm"] for x in rec["vehicles"]]
    assert not back  # nothing imported that the corpus did not hold


def test_nothing_of_the_truth_is_exported(ci_corpus, exported):
    entities = {e["id"] for e in ci_corpus.truth_entities()}
    events = {m["event"] for m in ci_corpus.truth_mentions()}
    cells = set()
    for path in exported.glob("*.csv"):
        with open(path, newline="") as fh:
            for r in csv.reader(fh):
                cells.update(r)
    assert entities and events and not (cells & (entities | events))
    assert not {"entity", "event", "kinds", "mentions"} & set(json.loads((exported / "export.json").read_text())["mapping"])


def _mapping(layout: dict, fmt: str = "csv") -> ExportMapping:
    return ExportMapping.model_validate({"format": fmt, "record_id": "id", "people": layout})


REC = {"rid": "R1", "source": "crime", "people": [
    {"forename": "John", "middle": "Paul", "surname": "Smith", "dob": "1990-02-03", "sex": "M", "role": "suspect"},
    {"forename": "Ann", "middle": "", "surname": "Lee", "dob": None, "sex": None, "role": "victim"}],
    "locations": [], "vehicles": [], "phones": [], "objects": []}


def test_name_order_and_numbered_and_nested_layouts():
    named = _mapping({"layout": "numbered", "max": 2, "columns": {
        "name": {"column": "name", "order": "surname_first", "surname_upper": True},
        "dob": {"column": "born", "format": "%d.%m.%Y"}}})
    assert rows_of(REC, named) == [{"id": "R1", "person1_name": "SMITH, John Paul", "person1_born": "03.02.1990",
                                    "person2_name": "LEE, Ann", "person2_born": None}]
    first = _mapping({"layout": "rows", "columns": {"name": {"column": "n", "order": "forename_first"}}})
    assert [r["n"] for r in rows_of(REC, first)] == ["John Paul Smith", "Ann Lee"]
    nested = _mapping({"layout": "nested", "key": "nominals", "columns": {"surname": "s", "role": "r"}}, "jsonl")
    assert rows_of(REC, nested) == [{"id": "R1", "nominals": [{"s": "Smith", "r": "suspect"}, {"s": "Lee", "r": "victim"}]}]


def test_a_record_with_more_people_than_the_columns_hold_is_refused(ci_corpus, tmp_path, capsys, write):
    m = write("narrow.yaml", "record_id: id\npeople: {layout: numbered, max: 1, columns: {surname: s}}\n")
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(m), "--out", str(tmp_path / "o")]) == 2
    assert "people.max is 1" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_bad_mappings_name_file_line_and_field(write, capsys, ci_corpus, tmp_path):
    m = write("bad.yaml", "record_id: id\npeople:\n  layout: nested\n  columns: {surnme: s}\n")
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(m), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4" in err and "people.columns.surnme: unknown key; did you mean 'surname'?" in err
    m = write("twice.yaml", "record_id: id\nphone: id\npeople: {columns: {surname: s}}\n")
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(m), "--out", str(tmp_path / "o")]) == 2
    assert "column 'id' is named twice" in capsys.readouterr().err


def test_never_replaces_what_polebench_did_not_write(ci_corpus, exported, tmp_path, capsys):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    args = ["export", "--corpus", str(ci_corpus.root), "--map", str(EXAMPLE), "--out"]
    assert main(args + [str(theirs)]) == 2
    assert "did not write" in capsys.readouterr().err and (theirs / "notes.txt").read_text() == "mine"
    (tmp_path / "afile").write_text("x")
    assert main(args + [str(tmp_path / "afile")]) == 2 and (tmp_path / "afile").read_text() == "x"
    # an earlier export is polebench's own, and is replaced; with a stray file in it, it is not
    again = tmp_path / "again"
    assert main(args + [str(again)]) == 0 and main(args + [str(again)]) == 0
    (again / "loaded.log").write_text("the system's")
    assert main(args + [str(again)]) == 2 and (again / "loaded.log").exists()


def test_jsonl_keeps_types(ci_corpus, tmp_path, write):
    m = write("j.yaml", "format: jsonl\nfile: '{source}.jsonl'\nrecord_id: id\nlocation: {lat: lat}\n"
                        "people: {layout: nested, columns: {surname: s, dob: {column: d}}}\n")
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(m), "--out", str(tmp_path / "o")]) == 0
    first = orjson.loads((tmp_path / "o" / "crime.jsonl").read_text().splitlines()[0])
    rec = next(r for r in ci_corpus.records() if r["rid"] == first["id"])
    assert first["lat"] == rec["locations"][0]["lat"]
    assert first["people"] == [{"s": p["surname"], "d": p["dob"]} for p in rec["people"]]


def test_an_imported_corpus_is_exported_as_its_producer_s_records(exported, tmp_path):
    """Records imported from elsewhere were not made up by polebench: export.json says whose they
    are, as the report does (a synthetic import) — not 'made up by polebench'."""
    mapping = tmp_path / "back.yaml"
    mapping.write_text(IMPORT_BACK)
    path = sorted(exported.glob("*.csv"))[0]
    assert main(["import", str(path), "--map", str(mapping), "--name", "back", "--out", str(tmp_path / "back")]) == 0
    assert main(["export", "--corpus", str(tmp_path / "back"), "--map", str(EXAMPLE),
                 "--out", str(tmp_path / "again")]) == 0
    note = json.loads((tmp_path / "again" / "export.json").read_text())["note"]
    assert note.startswith("SYNTHETIC DATA") and "imported from export of the ci corpus" in note
    assert "polebench" not in note
