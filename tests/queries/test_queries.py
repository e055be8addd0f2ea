"""Query sets: loading, errors, instantiation, and relevance judged from truth."""

import ast
from pathlib import Path

import pytest

from bench.errors import SpecError
from bench.queries.instantiate import Instance, instantiate, write_instance
from bench.queries.judge import judge
from bench.queries.model import Need
from bench.queries.truth import Mention, TruthIndex

ROOT = Path(__file__).resolve().parents[2]
SETS = ("person", "vehicle", "location", "association", "sar", "standard", "example-written", "imported")


def hand_truth() -> TruthIndex:
    """Two John Smiths, one of them also written as 'Jon Smyth'; one burglary near Hackney."""
    ents = {
        "P1": {"kind": "person", "id": "P1", "forename": "John", "middle": "", "surname": "Smith",
               "dob": "1990-03-04", "sex": "M", "alias": None, "moniker": None, "associates": ["P2"],
               "vehicles": [], "phones": [], "address": "L1"},
        "P2": {"kind": "person", "id": "P2", "forename": "John", "middle": "", "surname": "Smith",
               "dob": "1971-11-30", "sex": "M", "alias": ["Jack", "Frost"], "moniker": None,
               "associates": ["P1"], "vehicles": [], "phones": [], "address": "L1"},
        "L1": {"kind": "address", "id": "L1", "address": "1 Mare Street", "borough": "Hackney",
               "postcode": "E8 1AB", "lat": 51.545, "lon": -0.055},
        "E1": {"kind": "event", "id": "E1", "type": "burglary", "date": "2023-05-01", "address": "L1",
               "mo": ["side gate"], "people": ["P1"]},
        "E2": {"kind": "event", "id": "E2", "type": "assault", "date": "2023-05-03", "address": "L1",
               "mo": ["punched"], "people": ["P2"]},
    }
    t = TruthIndex(ents)
    for rid, ev, ments in (("R1", "E1", [("p0", "P1", ())]), ("R2", "E1", [("p0", "P1", ("nickname", "phonetic"))]),
                           ("R3", "E2", [("p0", "P2", ()), ("p1", "P1", ())]), ("R4", "E2", [("p0", "P2", ("alias",))])):
        t.record_event[rid] = ev
        t.event_records[ev].append(rid)
        for mid, ent, kinds in ments:
            t.mentions[ent].append(Mention(rid, mid, kinds))
    return t


def need(**kw) -> Need:
    return Need.model_validate({"id": "q", "description": "test", **kw})


def test_judgements_match_what_a_person_would_mark():
    t = hand_truth()
    # The John Smith born 1990: his own records, however written; R3 mentions him second.
    assert judge(need(person={"forename": "John", "surname": "Smith", "dob": "1990-03-04"}), t) == {"R1": 2, "R2": 2, "R3": 1}
    # Any John Smith: both people, every record.
    assert set(judge(need(person={"forename": "John", "surname": "Smith"}), t)) == {"R1", "R2", "R3", "R4"}
    # Known by alias: P2 only.
    assert set(judge(need(person={"forename": "Jack", "surname": "Frost"}), t)) == {"R3", "R4"}
    # Burglaries within 200 m in May 2023: event E1's records.
    assert judge(need(location={"point": {"lat": 51.545, "lon": -0.055}, "radius_m": 200},
                      event={"types": ["burglary"], "date_from": "2023-05-01", "date_to": "2023-05-31"}), t) == {"R1": 1, "R2": 1}
    # Associates of the 1990 John Smith: P2's records.
    assert set(judge(need(association={"of": {"forename": "John", "surname": "Smith", "dob": "1990-03-04"}}), t)) == {"R3", "R4"}
    # Nobody by that name.
    assert judge(need(person={"forename": "Jane", "surname": "Doe"}), t) == {}


@pytest.mark.parametrize("name", SETS)
def test_shipped_sets_load_and_instantiate(ci_corpus, name):
    inst = instantiate(ROOT / "queries" / f"{name}.yaml", ci_corpus)
    assert inst.needs and all(inst.qrels[n.id] for n in inst.needs)
    assert inst.meta["corpus_checksum"] == ci_corpus.checksum
    assert all(set(inst.details[n.id]) == set(inst.qrels[n.id]) for n in inst.needs)


def test_standard_covers_every_kind_and_capability(ci_corpus):
    needs = instantiate(ROOT / "queries" / "standard.yaml", ci_corpus).needs
    kinds = {n.derived_kind() for n in needs}
    assert {"person", "vehicle", "phone", "location", "event", "association", "sar"} <= kinds
    assert any(n.person and n.person.dob_tolerance_days for n in needs)          # date tolerance
    assert any(n.vehicle and "*" in (n.vehicle.vrm or "") for n in needs)        # wildcard
    assert any(n.location and n.location.point for n in needs)                  # geo radius
    assert any(n.association for n in needs)                                    # links


def test_same_seed_same_set_and_roundtrip(ci_corpus, tmp_path):
    a = instantiate(ROOT / "queries" / "person.yaml", ci_corpus)
    b = instantiate(ROOT / "queries" / "person.yaml", ci_corpus)
    assert a.needs == b.needs and a.qrels == b.qrels and a.details == b.details
    write_instance(tmp_path / "person", a)
    inst = Instance.load(tmp_path / "person")
    assert inst.needs == a.needs and inst.qrels == a.qrels and inst.details == a.details
    assert (inst.subjects == a.subjects).all()


BAD = {
    "unknown criterion": ("queries:\n  - id: q1\n    description: x\n    person: {forename: A, shoe_size: 9}\n",
                          ":6:", "queries[0].person.shoe_size", "unknown key"),
    "impossible date": ("queries:\n  - id: q1\n    description: x\n    person: {surname: Smith, dob: 2023-02-30}\n",
                        ":6:", "queries[0].person.dob", ""),
    "radius without point": ("queries:\n  - id: q1\n    description: x\n    location: {radius_m: 300}\n",
                             ":6:", "queries[0].location", "radius_m needs a point"),
    "too many targets": ("templates:\n  - template: associates\n    id_prefix: a\n    count: 99999\n",
                         ":6:", "templates[0].count", "asks for 99999"),
    "target not in corpus": ("queries:\n  - id: q1\n    description: x\n    person: {forename: Zebedee, surname: Qqqqq}\n",
                             ":4:", "queries[0]", "target not in corpus"),
    "unknown event type": ("queries:\n  - id: q1\n    description: x\n    event:\n      types: [burglary, burgalry]\n",
                           ":7:", "queries[0].event.types[1]",
                           "unknown event type 'burgalry'; closest: 'burglary'; known: assault, burglary, drugs_supply"),
    "unknown colour": ("queries:\n  - id: q1\n    description: x\n    vehicle: {vrm: 'AB*', colour: Grene}\n",
                       ":6:", "queries[0].vehicle.colour", "unknown vehicle colour 'Grene'; closest: 'green'"),
    "misspelt key": ("queries:\n  - id: q1\n    description: x\n    person: {forname: Ann, surname: Lee}\n",
                     ":6:", "queries[0].person.forname", "unknown key; did you mean 'forename'?"),
    "misspelt template key": ("templates:\n  - template: associates\n    id_prefix: a\n    cuont: 3\n",
                              ":6:", "templates[0].cuont", "unknown key; did you mean 'count'?"),
    "unknown template": ("templates:\n  - template: telepathy\n    id_prefix: a\n    count: 1\n",
                         ":4:", "templates[0].template", "unknown template"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_query_sets_name_file_line_and_field(ci_corpus, write, case):
    body, line, field, msg = BAD[case]
    path = write("bad.yaml", f"schema_version: 1\nname: bad\n{body}")
    with pytest.raises(SpecError) as e:
        instantiate(path, ci_corpus)
    text = str(e.value)
    assert f"bad.yaml{line}" in text and field in text and msg in text


def test_engines_cannot_reach_the_truth():
    """No module of the engine side imports the truth or the judge, or names the truth folder."""
    banned = {"bench.queries.truth", "bench.queries.judge", "bench.queries.templates"}
    for folder in ("backends", "profiles"):
        for py in (ROOT / "bench" / folder).glob("*.py"):
            tree = ast.parse(py.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    assert node.module not in banned, py
                if isinstance(node, ast.Attribute):
                    assert node.attr not in ("truth_mentions", "truth_entities"), py
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    for bad in ("truth/", "mentions.jsonl", "entities.jsonl", "qrels"):
                        assert bad not in node.value, (py, bad)


def test_a_person_of_unknown_birth_date_fits_name_needs_but_no_date_need():
    t = hand_truth()
    t.entities["P2"]["dob"] = None  # as an imported person no record gave a date of birth
    assert set(judge(need(person={"forename": "John", "surname": "Smith"}), t)) == {"R1", "R2", "R3", "R4"}
    assert set(judge(need(person={"forename": "John", "surname": "Smith", "dob": "1971-11-30"}), t)) == set()
    assert set(judge(need(person={"surname": "Smith", "age_min": 18}), t)) == {"R1", "R2", "R3"}


def chain_truth() -> TruthIndex:
    """Ann - Bob - Cat tied in a chain; Ann drives V0, Bob drives V1, Cat lives at L2."""
    def person(pid, name, near, vehicles=(), address="L1"):
        return {"kind": "person", "id": pid, "forename": name, "middle": "", "surname": "Lee", "dob": "1990-01-01",
                "sex": "F", "alias": None, "moniker": None, "associates": list(near), "vehicles": list(vehicles),
                "phones": [], "address": address}
    ents = {"P1": person("P1", "Ann", ["P2"], ["V0"]), "P2": person("P2", "Bob", ["P1", "P3"], ["V1"]),
            "P3": person("P3", "Cat", ["P2"], address="L2")}
    t = TruthIndex(ents)
    for rid, ments in (("R1", [("p0", "P1"), ("v0", "V0")]), ("R2", [("p0", "P2"), ("v0", "V1")]),
                       ("R3", [("p0", "P3"), ("l0", "L2")]), ("R4", [("v0", "V1")]), ("R5", [("l0", "L2")])):
        t.record_event[rid] = "E1"
        for mid, ent in ments:
            t.mentions[ent].append(Mention(rid, mid, ()))
    return t


@pytest.mark.parametrize("hops, include, expected", [
    (1, "people", {"R2"}),                 # Bob's record
    (2, "people", {"R2", "R3"}),           # and Cat's, one tie further
    (1, "vehicles", {"R2", "R4"}),         # Bob's vehicle V1, not Ann's own V0
    (2, "addresses", {"R5", "R3"}),        # Bob's home L1 has no record; Cat's L2 has two
])
def test_association_judged_by_hops_and_what_the_associates_hold(hops, include, expected):
    n = need(association={"of": {"forename": "Ann", "surname": "Lee"}, "hops": hops, "include": include})
    assert set(judge(n, chain_truth())) == expected


def test_association_records_reached_only_through_unrecorded_ties_are_labelled():
    """Ann and Bob are tied but no record names them together: Bob's records are relevant, and
    the breakdown names why a link search misses them rather than filing them under clean."""
    from bench.queries.instantiate import describe
    t = chain_truth()
    n = need(association={"of": {"forename": "Ann", "surname": "Lee"}, "hops": 2})
    rel = judge(n, t)
    records = {rid: {"source": "intel", "people": [], "vehicles": [], "phones": [], "locations": []} for rid in rel}
    kinds = {rid: d["kinds"] for rid, d in describe(n, rel, t, records, {r: i for i, r in enumerate(rel)}).items()}
    assert kinds == {"R2": ["link_not_recorded"], "R3": ["link_not_recorded"]}
    t.mentions["P1"].append(Mention("R2", "p1", ()))  # a record names Ann with Bob: Bob is linked
    t.__dict__.pop("recorded_ties", None)
    kinds = {rid: d["kinds"] for rid, d in describe(n, judge(n, t), t, records, {r: i for i, r in enumerate(rel)}).items()}
    assert kinds == {"R2": [], "R3": ["link_not_recorded"]}


@pytest.mark.parametrize("street, address, on", [
    ("Mare Street", "1 Mare Street", True), ("mare street", "1 Mare Street", True), ("Mare", "1 Mare Street", True),
    ("Ann Road", "4 Joann Road", False), ("Smith Road", "2 Smith Roadway", False), ("Street Mare", "1 Mare Street", False),
])
def test_a_street_is_judged_by_whole_words(street, address, on):
    from bench.queries.judge import on_street
    assert on_street(address, street) == on
