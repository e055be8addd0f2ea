"""An instantiated query set read need by need (issue 21, item 9): the same needs, grades and
details as reading it whole, and every line checked, a bad one named by file, line and field."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.cli.main import main
from bench.errors import PolebenchError, SpecError
from bench.queries.instance import InstanceFiles, NeedIds, Places
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.trec import byte_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def person_set(ci_corpus, shipped_instance, tmp_path) -> Path:
    """A copy of queries/person.yaml instantiated on ci, to damage."""
    d = tmp_path / "person"
    shutil.copytree(shipped_instance(ci_corpus, "person"), d)
    return d


def _gz_lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines()


def test_read_need_by_need_as_written(person_set):
    inst = InstanceFiles.open(person_set)
    needs = [line for line in (person_set / "needs.jsonl").read_text().splitlines()]
    qrels = (person_set / "qrels.txt").read_text().splitlines()
    judged = list(inst)
    assert [j.need.id for j in judged] == list(inst.ids) and len(inst) == len(needs) > 20
    assert sum(len(j.qrels) for j in judged) == len(qrels)
    first = qrels[0].split()
    assert judged[0].qrels[first[2]] == int(first[3]) and judged[0].need.id == first[0]
    # every relevant record has its details, and a record number within the corpus
    assert all(set(j.details) == set(j.qrels) for j in judged)
    assert all(0 <= d["rnum"] < len(inst.subjects) for j in judged for d in j.details.values())
    assert dict(inst.details().items()) == {j.need.id: j.details for j in judged}


def test_a_bad_need_line_is_named_by_file_line_and_field(person_set):
    lines = (person_set / "needs.jsonl").read_text().splitlines()
    lines[2] = lines[2].replace('"person":{', '"person":{"shoe_size":9,', 1)
    assert "shoe_size" in lines[2]
    (person_set / "needs.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match=r"needs\.jsonl:3: person\.shoe_size: unknown key"):
        InstanceFiles.open(person_set)


def test_a_bad_judgement_line_is_named_by_file_line_and_field(person_set):
    path = person_set / "judgements.jsonl.gz"
    lines = _gz_lines(path)
    lines[1] = lines[1].replace(b'"rnum":', b'"rnum":"many",', 1).replace(b'"many",', b'"many","x":', 1)
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    with pytest.raises(SpecError, match=r"judgements\.jsonl\.gz:2: records\.[^.]+\.rnum: "):
        list(InstanceFiles.open(person_set))


def test_judgements_out_of_the_needs_order_are_refused(person_set):
    path = person_set / "judgements.jsonl.gz"
    lines = _gz_lines(path)
    lines[0], lines[1] = lines[1], lines[0]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    with pytest.raises(SpecError, match=r"judgements\.jsonl\.gz:1: qid: expected need"):
        list(InstanceFiles.open(person_set))


def test_a_bad_qrels_line_is_named(person_set):
    lines = (person_set / "qrels.txt").read_text().splitlines()
    lines[4] = lines[4].rsplit(" ", 1)[0] + " two"
    (person_set / "qrels.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match=r"qrels\.txt:5: a qrels line is"):
        list(InstanceFiles.open(person_set))


def test_qrels_of_other_records_than_judged_are_refused(person_set):
    lines = (person_set / "qrels.txt").read_text().splitlines()
    lines.pop(0)
    (person_set / "qrels.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match=r"judgements\.jsonl\.gz:1: records: need .* not those of qrels\.txt"):
        list(InstanceFiles.open(person_set))


def test_a_damaged_judgements_file_is_named(person_set):
    path = person_set / "judgements.jsonl.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(PolebenchError, match=r"judgements\.jsonl\.gz: damaged"):
        list(InstanceFiles.open(person_set))


def test_run_names_the_bad_line_of_its_query_set_with_exit_2(ci_corpus, shipped_instance, tmp_path, capsys):
    d = instance_dir(ci_corpus, "person")
    shipped_instance(ci_corpus, "person")
    saved = (d / "needs.jsonl").read_bytes()
    try:
        lines = saved.decode().splitlines()
        lines[1] = lines[1].replace('"id":', '"colour":"red","id":', 1)
        (d / "needs.jsonl").write_text("\n".join(lines) + "\n")
        code = main(["run", "--corpus", str(ci_corpus.root), "--queries", str(ROOT / "queries" / "person.yaml"),
                     "--profiles", "crimint", "--results", str(tmp_path / "results")])
    finally:
        (d / "needs.jsonl").write_bytes(saved)
    assert code == 2
    assert "needs.jsonl:2: colour: unknown key" in capsys.readouterr().err.replace("\n", "")


# queries/standard.yaml instantiated on ci by the query stage as it was before it streamed the
# records and the truth (main at c6b7a7f): the same seed must give the same needs and the same
# judgements, byte for byte (judgements.jsonl.gz decompressed).
STANDARD_ON_CI = {
    "needs.jsonl": "7d13c1c9572c771c1015cd2604e0d3bce1256e59a524418fe339b6b9255c32e9",
    "qrels.txt": "0ad1c5b3e1b1ee4d98616639cbe4fc9cc09700d75e14ef9eac05d7769fdd194c",
    "subjects.npy": "dd2605162474248b939498e5d01a5a6292e194bf505fdabf4852f375040bfb87",
    "judgements.jsonl.gz": "9e5b0cb14e05ae2cb2c55707db51bf6e5c79819987452c3eeb41617beffb2e30",
}


def test_instantiation_writes_what_it_wrote_before_it_streamed(ci_corpus, tmp_path):
    write_instance(tmp_path / "standard", instantiate(ROOT / "queries" / "standard.yaml", ci_corpus))
    got = {}
    for name in STANDARD_ON_CI:
        data = (tmp_path / "standard" / name).read_bytes()
        got[name] = hashlib.sha256(gzip.decompress(data) if name.endswith(".gz") else data).hexdigest()
    assert got == STANDARD_ON_CI


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1,
                        max_size=12), unique=True, max_size=80),
       st.text(max_size=12))
def test_need_ids_give_each_id_its_place_and_the_sorted_order(ids, other):
    """NeedIds (the run's compact form of the set's ids) against the list and dicts it replaced:
    the same ids in order, each one's place, -1 for an id not in the set, and the places in the
    order sorting the ids as strings gives, for any ids (any code points, any lengths)."""
    compact = NeedIds(ids)
    assert list(compact) == ids and len(compact) == len(ids) and compact[-1:] == ids[-1:]
    assert [compact.place(q) for q in ids] == list(range(len(ids)))
    assert compact.place(other) == (ids.index(other) if other in ids else -1) and compact.place(3) == -1
    assert [ids[i] for i in compact.sorted_places()] == sorted(ids)
    if ids:  # the TREC writer's need ids, laid out from NeedIds as from the list
        assert np.array_equal(byte_table(compact.fixed()), byte_table(ids))
    places = Places(compact)
    assert dict(places) == {q: i for i, q in enumerate(ids)} and places.get(other, -7) == ids.index(other) \
        if other in ids else places.get(other, -7) == -7


def test_need_ids_refuse_an_id_twice():
    with pytest.raises(ValueError, match="twice"):
        NeedIds(["a", "b", "a"])


def test_kinds_read_as_the_dict_they_replaced(person_set):
    inst = InstanceFiles.open(person_set)
    want = {n.id: n.derived_kind() for n in inst.needs()}
    assert dict(inst.kinds) == want and sorted(set(inst.kinds.values())) == sorted(set(want.values()))
    assert inst.kinds.get("nobody") is None and dict(inst.index) == {q: i for i, q in enumerate(want)}


@pytest.mark.parametrize("change", [lambda lines: lines[:-3],
                                    lambda lines: [lines[0].replace('"surname":"', '"surname":"x', 1), *lines[1:]]],
                         ids=["needs cut off the end", "a need edited"])
def test_needs_changed_after_they_were_written_are_refused(person_set, change):
    lines = (person_set / "needs.jsonl").read_text().splitlines(keepends=True)
    changed = change(lines)
    assert changed != lines
    (person_set / "needs.jsonl").write_text("".join(changed))
    with pytest.raises(SpecError, match=r"meta\.json: needs_sha256: does not match: needs\.jsonl was changed after"):
        InstanceFiles.open(person_set)
