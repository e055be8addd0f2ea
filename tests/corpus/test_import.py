"""Importing someone else's records: a small CSV with hand-known truth runs end to end, and each
kind of bad input names the file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus.importer import import_records
from bench.corpus.store import Corpus
from bench.errors import PolebenchError, SpecError
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "corpora" / "import-example.yaml"
HEADER = "rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number,note\n"
# Three true people: 1 (William Smith) x4 records, 2 (Joanne Price) x3, 3 (Ali Khan) x2; errors
# are typed in by hand: a nickname, a phonetic respelling, a transposed date, a typo.
ROWS = """\
rec-1-org,william,smith,19850304,12,high street,,hackney,E8 1AB,07700900001,seen at market
rec-1-dup-0,bill,smith,19850304,12,high st,,hackney,E81AB,,
rec-1-dup-1,william,smyth,19850403,12,high street,,hackney,E8 1AB,07700900001,
rec-1-dup-2,william,smith,,,,,,,,
rec-2-org,joanne,price,19920615,4,mill lane,,croydon,CR0 2XY,07700900002,
rec-2-dup-0,joanne,prise,19920615,4,mill lane,,croydon,CR0 2XY,,
rec-2-dup-1,jo,price,19920615,,,,,,,
rec-3-org,ali,khan,19780101,9,station road,,ealing,W5 3QP,,
rec-3-dup-0,ali,kahn,19780101,9,station road,,ealing,W5 3QP,,
"""


def _csv(tmp: Path, rows: str = ROWS, header: str = HEADER) -> Path:
    p = tmp / "people.csv"
    p.write_text(header + rows)
    return p


def test_import_then_queries_run_report(tmp_path):
    manifest, skipped, _ = import_records(_csv(tmp_path), MAPPING, "imported", tmp_path / "imported")
    assert skipped == 0 and manifest.counts["records"] == 9 and manifest.origin.startswith("Febrl")
    assert manifest.licence and manifest.seed is None and manifest.files["source_file"]
    corpus = Corpus(tmp_path / "imported")
    truth = {e["id"]: e for e in corpus.truth_entities() if e["kind"] == "person"}
    assert set(truth) == {"P1", "P2", "P3"}
    assert (truth["P1"]["forename"], truth["P1"]["surname"], truth["P1"]["dob"]) == ("william", "smith", "1985-03-04")
    rec = next(r for r in corpus.records() if r["rid"] == "rec-1-dup-0")
    assert rec["locations"][0]["postcode"] == "E81AB"  # kept as written
    qs = tmp_path / "q.yaml"
    qs.write_text("schema_version: 1\nname: imp\nseed: 3\ntemplates:\n"
                  "  - {template: person_name_dob, id_prefix: p, count: 3, params: {min_records: 2}}\n"
                  "  - {template: person_name_dob, id_prefix: n, count: 2, params: {min_records: 2, with_dob: false}}\n"
                  "  - {template: subject_access, id_prefix: s, count: 2}\n")
    inst = instantiate(qs, corpus)
    assert {len(inst.qrels[n.id]) for n in inst.needs} <= {2, 3, 4}
    by_name = [n for n in inst.needs if n.id.startswith("n-")]
    assert len(by_name) == 2 and all(n.person.dob is None and n.person.surname for n in by_name)
    d = instance_dir(corpus, "imp")
    write_instance(d, inst)
    res = run_benchmark(RunSettings(corpus=corpus.root, instance=d, profiles=["crimint", "connect", "iip", "connect+iip"],
                                    results=tmp_path / "results"))
    from bench.cli.report import write_reports
    html, md = write_reports(res.dir)
    assert "imported" in md.read_text()
    crimint = res.run.profile("crimint").mean["recall"].value
    connect = res.run.profile("connect").mean["recall"].value
    assert crimint >= connect  # phonetic and nickname matching see through the typed-in errors


def test_an_imported_truth_uses_two_mention_ids_and_one_list_of_kinds(tmp_path):
    """Whatever the file, import writes mention ids p0 and l0, each ["unlabelled"]: far inside the
    32,768 of each that the truth in columns codes (bench.queries.compact.MAX_CODES)."""
    from bench.queries.compact import TruthStore
    import_records(_csv(tmp_path), MAPPING, "imported", tmp_path / "imported")
    truth = TruthStore.load(Corpus(tmp_path / "imported"))
    assert sorted(truth.mids) == ["l0", "p0"] and truth.kind_tuples == [("unlabelled",)]


@pytest.mark.parametrize("case, rows, header, expect", [
    ("bad date", "rec-1-org,a,b,19851304,1,x,,y,E8 1AB,,\n", HEADER, "row 2: column date_of_birth"),
    ("duplicate id", "rec-1-org,a,b,,1,x,,y,,,\nrec-1-org,a,b,,1,x,,y,,,\n", HEADER, "row 3: column rec_id: duplicate"),
    ("no entity", "record-x,a,b,,1,x,,y,,,\n", HEADER, "row 2: column rec_id: entity id cannot be derived"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, case, rows, header, expect):
    with pytest.raises(PolebenchError, match=expect):
        import_records(_csv(tmp_path, rows, header), MAPPING, "bad", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_a_file_polars_cannot_parse_names_its_first_bad_row(tmp_path):
    ragged = _csv(tmp_path, ROWS + "rec-4-org,a,b,,1,x,,y,,,,surplus\n")
    with pytest.raises(PolebenchError, match="row 11: cannot be read as CSV: 12 fields where the header has 11"):
        import_records(ragged, MAPPING, "bad", tmp_path / "bad")
    jl = tmp_path / "people.jsonl"
    jl.write_text('{"rec_id": "rec-1-org", "given_name": "a", "surname": "b", "date_of_birth": "", '
                  '"street_number": "", "address_1": "", "address_2": "", "suburb": "", "postcode": "", '
                  '"phone_number": ""}\n{"rec_id": "rec-2-org", "given_\n')
    with pytest.raises(PolebenchError, match="row 2: cannot be read as JSON lines: not JSON"):
        import_records(jl, MAPPING, "bad", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_missing_column_names_the_mapping_line(tmp_path):
    header = HEADER.replace("phone_number", "mobile")
    with pytest.raises(SpecError) as e:
        import_records(_csv(tmp_path, "", header), MAPPING, "bad", tmp_path / "bad")
    assert "import-example.yaml:" in str(e.value) and "phone" in str(e.value) and "'phone_number' is not in" in str(e.value)


def test_skip_mode_counts_and_shows_the_first_rows(tmp_path):
    m = tmp_path / "map.yaml"
    m.write_text(MAPPING.read_text().replace("on_error: fail", "on_error: skip"))
    rows = ROWS + "rec-9-org,a,b,notadate,1,x,,y,,,\nbroken,a,b,,1,x,,y,,,\n"
    manifest, skipped, reasons = import_records(_csv(tmp_path, rows), m, "skip", tmp_path / "skip")
    assert skipped == 2 and manifest.counts["records"] == 9 and "row 11" in reasons[0]


def test_blank_mode_keeps_the_row_with_the_field_empty_and_counts_it(tmp_path):
    """A date of 19551192, as real extracts have: under on_error: blank the row is kept with no
    date of birth, as a search system would hold it, its person keeps their truth from the other
    rows, and the blanked field is counted and shown. A row without a usable id still fails."""
    m = tmp_path / "map.yaml"
    m.write_text(MAPPING.read_text().replace("on_error: fail", "on_error: blank"))
    rows = ROWS.replace("rec-1-dup-1,william,smyth,19850403", "rec-1-dup-1,william,smyth,19551192")
    manifest, skipped, reasons = import_records(_csv(tmp_path, rows), m, "blank", tmp_path / "blank")
    assert skipped == 0 and manifest.counts["records"] == 9 and manifest.counts["blanked_fields"] == 1
    assert reasons == [f"{tmp_path / 'people.csv'}: row 4: column date_of_birth: '19551192' is not a date "
                       f"in the format %Y%m%d; left blank"]
    rec = _records(tmp_path / "blank")["rec-1-dup-1"]
    assert rec["people"][0]["dob"] is None and rec["people"][0]["surname"] == "smyth"
    truth = {e["id"]: e for e in Corpus(tmp_path / "blank").truth_entities() if e["kind"] == "person"}
    assert truth["P1"]["dob"] == "1985-03-04"
    with pytest.raises(PolebenchError, match="row 11: column rec_id: empty record id"):
        import_records(_csv(tmp_path, rows + ",a,b,,1,x,,y,,,\n"), m, "blank2", tmp_path / "blank2")
    # the same file under on_error: fail names the field and stops
    with pytest.raises(PolebenchError, match="row 4: column date_of_birth: '19551192' is not a date"):
        import_records(_csv(tmp_path, rows), MAPPING, "failed", tmp_path / "failed")


def test_unmapped_required_column_in_mapping(tmp_path, write):
    m = write("map.yaml", MAPPING.read_text().replace("  surname: surname\n", ""))
    with pytest.raises(SpecError, match=r"person.surname"):
        import_records(_csv(tmp_path), m, "x", tmp_path / "x")


def test_awkward_text_is_kept_exactly_and_stays_valid_json(tmp_path):
    # quotes, a backslash, commas inside quotes and non-ASCII letters, in ids and in names
    rows = ('"rec-7-o""k",zoë,"o\'brien, jr",19900101,1,"back\\slash",,x,,,\n'
            'rec-7-dup-0,ZOË,o\'brien,,,,,,,,\n')
    manifest, _, _ = import_records(_csv(tmp_path, rows), MAPPING, "awkward", tmp_path / "awkward")
    corpus = Corpus(tmp_path / "awkward")
    recs = {r["rid"]: r for r in corpus.records()}
    assert set(recs) == {'rec-7-o"k', "rec-7-dup-0"}
    first = recs['rec-7-o"k']
    assert first["people"][0]["forename"] == "zoë" and first["people"][0]["surname"] == "o'brien, jr"
    assert first["locations"][0]["address"] == "1 back\\slash"
    mentions = {m["rid"]: m for m in corpus.truth_mentions()}
    assert mentions['rec-7-o"k']["event"] == 'Erec-7-o"k'
    assert {x["entity"] for m in mentions.values() for x in m["mentions"] if x["mid"] == "p0"} == {"P7"}


def _records(root: Path) -> dict[str, dict]:
    return {r["rid"]: r for r in Corpus(root).records()}


def test_jsonl_gz_imports_the_same_records_as_the_csv(tmp_path):
    import csv
    import gzip

    import orjson
    src = _csv(tmp_path)
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    jl = tmp_path / "people.jsonl.gz"
    jl.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in rows)))
    import_records(src, MAPPING, "c", tmp_path / "c")
    import_records(jl, MAPPING, "j", tmp_path / "j")
    assert _records(tmp_path / "j") == _records(tmp_path / "c") and len(_records(tmp_path / "j")) == 9
    assert not list((tmp_path / "j").glob("*.jsonl"))  # the decompressed copy is not left behind


def test_a_column_named_like_an_internal_one_is_kept_as_written(tmp_path):
    # unmapped columns become free text; their names must not collide with what the import derives
    header = HEADER.replace(",note\n", ",rid,source,lines,error\n")
    rows = "rec-1-org,william,smith,19850304,12,high street,,hackney,E8 1AB,,x1,x2,x3,x4\n"
    import_records(_csv(tmp_path, rows, header), MAPPING, "c", tmp_path / "c")
    rec = _records(tmp_path / "c")["rec-1-org"]
    assert rec["text"] == "rid x1 source x2 lines x3 error x4" and rec["source"] == "intel"
    assert rec["locations"][0]["address"] == "12 high street"


def test_repeated_ids_across_batches(tmp_path, monkeypatch):
    """The rule holds however the file is cut into batches and slices: a row is a duplicate when
    an earlier *imported* row had its id; a row skipped for another error does not claim the id."""
    import bench.corpus.importer as importer
    monkeypatch.setattr(importer, "CHUNK", 2)
    monkeypatch.setattr(importer, "SLICE", 3)  # and read in parts of 3 bytes: a row each
    m = tmp_path / "map.yaml"
    m.write_text(MAPPING.read_text().replace("on_error: fail", "on_error: skip"))
    rows = ("rec-1-a,a,b,notadate,1,x,,y,,,\n"   # row 2: bad date, skipped
            "rec-2-a,a,b,,1,x,,y,,,\n"           # row 3
            "rec-3-a,a,b,,1,x,,y,,,\n"           # row 4
            "rec-1-a,a,b,,1,x,,y,,,\n"           # row 5: imported (row 2 was not)
            "rec-2-a,c,d,,1,x,,y,,,\n"           # row 6: duplicate of row 3, in another batch
            "rec-3-a,a,b,,1,x,,y,,,\n")          # row 7: duplicate of row 4
    manifest, skipped, reasons = import_records(_csv(tmp_path, rows), m, "s", tmp_path / "s")
    assert skipped == 3 and manifest.counts["records"] == 3
    assert [r.split(": ")[1] for r in reasons] == ["row 2", "row 6", "row 7"]
    assert "duplicate record id 'rec-2-a'" in reasons[1]
    assert _records(tmp_path / "s")["rec-2-a"]["people"][0]["forename"] == "a"
    with pytest.raises(PolebenchError, match="row 2: column date_of_birth"):
        import_records(_csv(tmp_path, rows), MAPPING, "f", tmp_path / "f")
    with pytest.raises(PolebenchError, match="row 5: column rec_id: duplicate record id 'rec-1-a'"):
        import_records(_csv(tmp_path, rows.replace("notadate", "")), MAPPING, "f", tmp_path / "f")
    # a repeat is reported before a later bad row, even when the batch holding it had no error
    later_bad = rows.replace("notadate", "") + "rec-4-a,a,b,19851340,1,x,,y,,,\n"
    with pytest.raises(PolebenchError, match="row 5: column rec_id: duplicate record id 'rec-1-a'"):
        import_records(_csv(tmp_path, later_bad), MAPPING, "f", tmp_path / "f")


def test_a_person_no_row_gives_a_date_of_birth_has_none_in_the_truth_or_the_needs(tmp_path):
    # Khan's rows give no date of birth: his truth must not invent one, nor may the needs about
    # him ask for a date (a search for a made-up date would miss all his records)
    rows = ROWS.replace("ali,khan,19780101", "ali,khan,").replace("ali,kahn,19780101", "ali,kahn,")
    import_records(_csv(tmp_path, rows), MAPPING, "imported", tmp_path / "imported")
    corpus = Corpus(tmp_path / "imported")
    truth = {e["id"]: e for e in corpus.truth_entities() if e["kind"] == "person"}
    assert truth["P3"]["dob"] is None and truth["P1"]["dob"] == "1985-03-04"
    qs = tmp_path / "q.yaml"
    qs.write_text("schema_version: 1\nname: imp\nseed: 3\ntemplates:\n"
                  "  - {template: person_name_dob, id_prefix: p, count: 3,"
                  " params: {min_records: 2, phrasing: {true_details: 1}}}\n"
                  "  - {template: subject_access, id_prefix: s, count: 3}\n")
    inst = instantiate(qs, corpus)
    about_khan = [n for n in inst.needs if n.targets == ("P3",)]
    assert len(about_khan) == 2 and all(n.person.dob is None and n.person.surname == "khan" for n in about_khan)
    assert all(inst.qrels[n.id] for n in about_khan)  # his records are still judged relevant
    others = [n for n in inst.needs if n.targets != ("P3",)]
    assert others and all(n.person.dob for n in others)


def test_needs_are_phrased_from_rows_that_give_a_name(tmp_path):
    # one of Price's rows and both of a fourth person's rows give no name: needs about Price
    # are phrased from a row that names her, and the nameless person is never a target
    rows = ROWS.replace("rec-2-dup-1,jo,price,", "rec-2-dup-1,,,") + "rec-4-org,,,19700101,,,,,,,\nrec-4-dup-0,,,,,,,,,,\n"
    import_records(_csv(tmp_path, rows), MAPPING, "imported", tmp_path / "imported")
    corpus = Corpus(tmp_path / "imported")
    assert {e["id"] for e in corpus.truth_entities() if e["kind"] == "person"} == {"P1", "P2", "P3", "P4"}
    for seed in range(8):
        qs = tmp_path / "q.yaml"
        qs.write_text(f"schema_version: 1\nname: imp\nseed: {seed}\ntemplates:\n"
                      "  - {template: person_name_dob, id_prefix: p, count: 3, params: {phrasing: {as_written: 1}}}\n"
                      "  - {template: subject_access, id_prefix: s, count: 3}\n")
        needs = instantiate(qs, corpus).needs
        assert {n.targets for n in needs} == {("P1",), ("P2",), ("P3",)}
        assert all(n.person.surname for n in needs if n.targets == ("P2",))
    qs.write_text("schema_version: 1\nname: imp\nseed: 1\ntemplates:\n"
                  "  - {template: subject_access, id_prefix: s, count: 4}\n")
    with pytest.raises(SpecError, match="asks for 4 people but the corpus holds 3"):
        instantiate(qs, corpus)
    from bench.access.sar import sar_instance
    assert {n.targets for n in sar_instance(corpus, subjects=3).needs} == {("P1",), ("P2",), ("P3",)}
    with pytest.raises(PolebenchError, match="subject P4 has no name"):
        sar_instance(corpus, subject="P4")


def test_records_that_are_not_synthetic_are_never_called_synthetic(tmp_path):
    text = MAPPING.read_text()
    assert "synthetic: true" in text and "origin: Febrl-style" in text
    m = tmp_path / "map.yaml"
    m.write_text(text.replace("synthetic: true", "synthetic: false")
                 .replace("origin: Febrl-style synthetic person records (example)", "origin: an anonymised extract"))
    import_records(_csv(tmp_path), m, "extract", tmp_path / "extract")
    corpus = Corpus(tmp_path / "extract")
    qs = tmp_path / "q.yaml"
    qs.write_text("schema_version: 1\nname: imp\nseed: 3\ntemplates:\n"
                  "  - {template: person_name_dob, id_prefix: p, count: 3, params: {min_records: 2}}\n")
    inst = instantiate(qs, corpus)
    assert inst.meta["synthetic"] is False
    d = instance_dir(corpus, "imp")
    write_instance(d, inst)
    res = run_benchmark(RunSettings(corpus=corpus.root, instance=d, profiles=["crimint", "connect"],
                                    results=tmp_path / "results"))
    assert res.run.synthetic is False and res.run.corpus.source_file == corpus.manifest.files["source_file"]
    from bench.cli.report import write_reports
    html, md = (p.read_text() for p in write_reports(res.dir))
    for text in (html, md):
        assert "NOT SYNTHETIC" in text and "an anonymised extract" in text and "may be about real people" in text
        assert "SYNTHETIC DATA" not in text and "made up" not in text
        assert "synthetic" not in text.lower().replace("not synthetic", "")
    assert "<td class='l'>intel</td><td>9</td>" in html and "rates do not apply" in html


def test_a_files_own_system_names_are_mapped_onto_polebenchs(tmp_path, write):
    # the note column stands in for the file's system column: CRIS is the Met's crime system
    rows = ROWS.replace("seen at market", "CRIS")
    rows = "".join(line + ("intel" if not line.endswith("CRIS") else "") + "\n" for line in rows.splitlines())
    base = MAPPING.read_text().replace("unmapped: keep_as_text", "unmapped: drop")
    m = write("map.yaml", base.replace("source_system: {constant: intel}",
                                       "source_system: {column: note, values: {CRIS: crime}}"))
    manifest, _, _ = import_records(_csv(tmp_path, rows), m, "systems", tmp_path / "systems")
    assert manifest.counts["per_source"] == {"crime": 1, "intel": 8}
    with pytest.raises(PolebenchError) as e:
        import_records(_csv(tmp_path, rows.replace("CRIS", "PNC")), m, "systems", tmp_path / "systems")
    assert "row 2: column note: unknown source system 'PNC'" in str(e.value) and "source_system.values" in str(e.value)
    bad = write("bad.yaml", base.replace("source_system: {constant: intel}",
                                         "source_system: {column: note, values: {CRIS: crimes}}"))
    with pytest.raises(SpecError, match="bad.yaml:.*source_system.*unknown source system 'crimes'"):
        import_records(_csv(tmp_path, rows), bad, "systems", tmp_path / "systems")


def test_dates_written_in_several_formats(tmp_path, write):
    rows = ROWS.replace("19850403", "04/03/1985").replace("prise,19920615", "prise,1992-06-15")
    m = write("map.yaml", MAPPING.read_text().replace('format: "%Y%m%d"',
                                                      'format: ["%Y%m%d", "%d/%m/%Y", "%Y-%m-%d"]'))
    import_records(_csv(tmp_path, rows), m, "dates", tmp_path / "dates")
    dobs = {r["rid"]: r["people"][0]["dob"] for r in Corpus(tmp_path / "dates").records()}
    assert dobs["rec-1-dup-1"] == "1985-03-04" and dobs["rec-2-dup-0"] == "1992-06-15"
    with pytest.raises(PolebenchError, match="row 2: column date_of_birth: '1985/03/04' is not a date in the format "
                                             "%Y%m%d or %d/%m/%Y or %Y-%m-%d"):
        import_records(_csv(tmp_path, rows.replace("19850304", "1985/03/04", 1)), m, "dates", tmp_path / "dates")


@pytest.mark.parametrize("slice_bytes", [1, 7, 40, 1 << 20])
def test_rows_are_whole_however_the_file_is_cut(tmp_path, monkeypatch, slice_bytes):
    # the file is cut into parts at row ends; a quoted field may hold newlines, commas and
    # doubled quotes, which no cut may split, and rows keep their numbers across parts
    import bench.corpus.importer as importer
    monkeypatch.setattr(importer, "SLICE", slice_bytes)
    rows = ('rec-1-org,"ann\nmarie","o""neil, jr",19800101,1,"flat 2\nhigh st",,x,,,"said ""hi""\nthen left"\n'
            'rec-1-dup,ann,o\'neil,,,,,,,,\n'
            '"rec-2-\norg",bob,lee,,,,,,,,\n'
            'rec-2-dup,bob,lee,19801313,,,,,,,\n')
    with pytest.raises(PolebenchError, match="row 5: column date_of_birth: '19801313'"):
        import_records(_csv(tmp_path, rows), MAPPING, "cut", tmp_path / "cut")
    import_records(_csv(tmp_path, rows.replace("19801313", "")), MAPPING, "cut", tmp_path / "cut")
    recs = _records(tmp_path / "cut")
    assert set(recs) == {"rec-1-org", "rec-1-dup", "rec-2-\norg", "rec-2-dup"}
    first = recs["rec-1-org"]
    assert (first["people"][0]["forename"], first["people"][0]["surname"]) == ("ann\nmarie", 'o"neil, jr')
    assert first["locations"][0]["address"] == "1 flat 2\nhigh st" and first["text"] == 'note said "hi"\nthen left'


def test_the_same_file_makes_the_same_bytes_however_polars_cuts_it(tmp_path, monkeypatch):
    """ISA-L's output depends on how its input is cut, and the import wrote polars' batches as
    they came: a repeated import gave other bytes for the same file once (a fault-injection trial
    under load). Cut into other batches and slices, the corpus files are the same bytes."""
    import random

    import bench.corpus.importer as importer
    rng = random.Random(4)
    names = ["smith", "jones", "taylor", "brown", "patel", "khan", "price", "lee"]
    rows = "".join(f"rec-{i // 3}-{'org' if i % 3 == 0 else f'dup-{i % 3}'},{rng.choice(names)},"
                   f"{rng.choice(names)}{rng.randrange(10**6)},19{rng.randrange(10, 99)}0{rng.randrange(1, 9)}1"
                   f"{rng.randrange(1, 9)},{i},high street,,hackney,E8 1AB,,note {rng.random()}\n"
                   for i in range(30_000))
    src = _csv(tmp_path, rows)
    made = []
    for chunk, slice_bytes in ((importer.CHUNK, importer.SLICE), (997, 1 << 18)):
        monkeypatch.setattr(importer, "CHUNK", chunk)
        monkeypatch.setattr(importer, "SLICE", slice_bytes)
        out = tmp_path / f"cut-{chunk}"
        import_records(src, MAPPING, "cut", out)
        made.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.gz"))})
    assert len(__import__("gzip").decompress(made[0]["records.jsonl.gz"])) > 2 * (1 << 20)  # several blocks' worth
    assert made[0] == made[1]
