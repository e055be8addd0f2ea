"""The compact truth (numpy columns) answers every question the query stage asks exactly as the
dict form does: on the generated ci corpus, and for any rows hypothesis makes up (strings with
NULs or accents, None, missing keys, lists, numbers of mixed types)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import PolebenchError
from bench.queries import compact
from bench.queries.compact import TruthStore
from bench.queries.judge import people_matching
from bench.queries.model import PersonCriteria
from bench.queries.records import RecordNumbers, RecordShelf
from bench.queries.truth import TruthIndex

HERE = Path("truth")


def _same(store: TruthStore, ref: TruthIndex, rnum_of=None) -> None:
    """Every read the query stage makes, compared whole."""
    assert list(store.entities) == list(ref.entities)
    for eid, e in ref.entities.items():
        got = store.entities[eid]
        assert list(got.items()) == list(e.items())  # values and key order
        assert all(got.get(k) == e.get(k) for k in list(e) + ["no such key"])
        assert store.record_count(eid) == ref.record_count(eid)
    for kind in {e["kind"] for e in ref.entities.values()} | {"no such kind"}:
        assert [dict(e) for e in store.of_kind(kind)] == [dict(e) for e in ref.of_kind(kind)]
        for k in (1, 2, 3):
            assert [e["id"] for e in store.with_records(kind, k)] == [e["id"] for e in ref.with_records(kind, k)]
    assert list(store.mentions) == list(ref.mentions)
    for eid, ms in ref.mentions.items():
        assert store.mentions[eid] == ms and store.mentions.get(eid) == ms
        assert store.records_of(eid) == ref.records_of(eid)
    assert store.mentions.get("no such id") is None and store.mentions["no such id"] == []
    for absent in ("no such id", ""):  # an id no entity has is not the last entity (index -1)
        assert absent not in store.entities and store.entities.get(absent) is None
        with pytest.raises(KeyError):
            store.entities[absent]
    for rid, ev in ref.record_event.items():
        assert store.record_event[rid] == ev
        assert store.record_kinds.get(rid, ()) == ref.record_kinds.get(rid, ())
    for ev, rids in ref.event_records.items():
        assert store.event_records[ev] == rids
    # the keys in the dict form's order: records in file order, events by their first record
    assert list(store.record_event) == list(ref.record_event)
    assert list(store.record_kinds) == list(ref.record_kinds)
    assert list(store.event_records) == [ev for ev, rids in ref.event_records.items() if rids]
    for k in (1, 2, 3):
        assert [dict(p) for p in store.eligible_people(k)] == [dict(p) for p in ref.eligible_people(k)]
    assert [dict(e) for e in store.recorded_events()] == [dict(e) for e in ref.recorded_events()]
    assert dict(store.strata) == dict(ref.strata)
    for p in ref.of_kind("person"):
        assert set(store.recorded_ties.get(p["id"], ())) == set(ref.recorded_ties.get(p["id"], ()))
    if rnum_of is not None:
        assert store.subject_numbers(rnum_of).tobytes() == ref.subject_numbers(rnum_of).tobytes()
    for kind in {e["kind"] for e in ref.entities.values()} | {"no such kind"}:
        for key in {k for e in ref.of_kind(kind) for k in e} | {"no such key"}:
            _same_distinct(store, ref, kind, key)
    a, b = store.named_people(), ref.named_people()
    assert [dict(p) for p in a.people] == [dict(p) for p in b.people]
    assert a.alias.tolist() == b.alias.tolist() and a.records.tolist() == b.records.tolist()
    # surnames numbered differently, but equal where the surnames are
    assert [[x == y for y in a.surname.tolist()] for x in a.surname.tolist()] == \
        [[x == y for y in b.surname.tolist()] for x in b.surname.tolist()]


def _same_distinct(store: TruthStore, ref: TruthIndex, kind: str, key: str) -> None:
    try:
        want = ref.distinct(kind, key)
    except TypeError:  # a value that cannot be in a set (a dict): the store's walk fails alike
        with pytest.raises(TypeError):
            store.distinct(kind, key)
        return
    assert store.distinct(kind, key) == want


def _same_events(store: TruthStore, ref: TruthIndex) -> None:
    a, b = store.events, ref.events
    assert list(a.ids) == list(b.ids)
    for x, y in ((a.lat, b.lat), (a.lon, b.lon), (a.day, b.day)):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


@pytest.fixture(scope="module")
def both(ci_corpus):
    return TruthStore.load(ci_corpus), TruthIndex.load(ci_corpus)


def test_the_compact_truth_of_the_ci_corpus_reads_as_the_dict_form(both, ci_corpus):
    store, ref = both
    shelf = RecordShelf(ci_corpus)
    try:
        _same(store, ref, shelf.rnum_of)
        _same_events(store, ref)
    finally:
        shelf.close()


def test_people_by_name_are_found_as_a_walk_over_every_person_finds_them(both):
    """The name index narrows the people down before each is judged: it must drop none that fit."""
    store, ref = both
    people = list(ref.of_kind("person"))
    crits = [PersonCriteria(surname=people[0]["surname"]), PersonCriteria(forename=people[1]["forename"]),
             PersonCriteria(forename=people[2]["forename"], surname=people[2]["surname"].upper() + "-"),
             PersonCriteria(alias=people[3]["surname"]), PersonCriteria(surname="No Such Name")]
    crits += [PersonCriteria(forename=p["alias"][0], surname=p["alias"][1]) for p in people if p["alias"]][:5]
    crits += [PersonCriteria(surname=p["alias"][1]) for p in people if p["alias"]][:5]
    crits += [PersonCriteria(alias=p["moniker"], surname=p["surname"]) for p in people if p["moniker"]][:5]
    for c in crits:
        want = [e["id"] for e in ref.of_kind("person") if _matches(e, c)]
        assert people_matching(store, c) == want
    assert any(people_matching(store, c) for c in crits[5:10])  # aliases are found (the test can fail)


def _matches(e, c) -> bool:
    from bench.queries.judge import person_matches
    return person_matches(e, c)


# Made-up truth rows: a few kinds, fields of every type the columns handle, and some of none.
_text = st.one_of(st.none(), st.sampled_from(["", "a", "Zoë", "x\0", "\0", "long " * 5, "P1"]), st.text(max_size=6))
_value = st.one_of(_text, st.lists(_text.filter(lambda v: v is not None), max_size=3), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=False), st.booleans(), st.dictionaries(st.sampled_from("ab"), st.integers(), max_size=1))


@st.composite
def _truth_rows(draw):
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.text(min_size=1, max_size=4).filter(lambda s: not s.endswith("\0")),
                        min_size=n, max_size=n, unique=True))
    # the same keys in the same order for every entity of a kind (as the generator writes them,
    # where the store reads columns by vector), or keys and order varying row by row
    uniform = draw(st.booleans())
    shape = {k: draw(st.lists(st.sampled_from(["date", "n", "x", "y"] + (["surname", "forename", "alias"] if k != "person" else [])),
                              unique=True, max_size=4)) for k in ("person", "event", "thing")}
    entities = []
    for eid in ids:
        kind = draw(st.sampled_from(["person", "event", "thing"]))
        keys = shape[kind] if uniform else draw(st.lists(st.sampled_from(shape[kind] + ["z"]), unique=True))
        e = {"kind": kind, "id": eid, **{k: draw(_value) for k in keys}}
        if kind == "person":  # what the derivations read of a person, as the generator writes it
            e["surname"] = draw(st.sampled_from(["Lee", "Smith", "Zoë", None, ""]))
            e["forename"] = draw(st.sampled_from(["Ann", "", None]))
            e["alias"] = draw(st.one_of(st.none(), st.lists(st.sampled_from(["Jo", "Lee"]), min_size=2, max_size=2)))
        if not uniform:
            order = list(e)
            draw(st.randoms()).shuffle(order)  # key order is kept too
            e = {k: e[k] for k in order}
        entities.append(e)
    rows = []
    for r in range(draw(st.integers(0, 10))):
        mentions = [{"entity": draw(st.sampled_from(ids + ["ghost"])), "kinds": draw(st.lists(st.sampled_from(["typo", "alias"]), max_size=2)),
                     "mid": draw(st.sampled_from(["p0", "p1", "v0", "l0"]))} for _ in range(draw(st.integers(0, 4)))]
        rows.append({"rid": f"R{r}", "event": draw(st.sampled_from(ids + ["E-ghost"])), "mentions": mentions,
                     "record_kinds": draw(st.lists(st.sampled_from(["mo_not_recorded", "event_date_off"]), max_size=2))})
    return entities, rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_truth_rows(), st.sampled_from([2, 3, 1 << 16]))
def test_the_compact_truth_reads_as_the_dict_form_for_any_rows(rows, chunk):
    entities, mentions = rows
    ref = TruthIndex.from_rows(entities, mentions)
    old = compact.CHUNK, compact.FEW
    compact.CHUNK, compact.FEW = chunk, chunk  # small chunks: columns packed in many pieces, strings as bytes
    try:
        store = TruthStore.from_rows(entities, mentions, HERE)
    finally:
        compact.CHUNK, compact.FEW = old
    rids = [r["rid"] for r in mentions]
    rnum_of = RecordNumbers(np.array([r.encode() for r in rids], "S")) if rids else None
    _same(store, ref, rnum_of)
    assert {k: store.mentions[k] for k in store.mentions} == dict(ref.mentions)  # ids no entity holds, too
    # people by name: the store narrows them down first and must drop none that the walk keeps
    # (where the walk fails on a person with no name, the store need not look at that person)
    for c in _NAMES:
        want = _outcome(lambda: people_matching(ref, c))
        if want[0] == "gives":
            assert _outcome(lambda: people_matching(store, c)) == want


_NAMES = [PersonCriteria(surname="Lee"), PersonCriteria(surname=" lee-"), PersonCriteria(surname="ZOË"),
          PersonCriteria(surname="Jo"), PersonCriteria(forename="ann"), PersonCriteria(forename="Lee"),
          PersonCriteria(forename="Jo", surname="Lee"), PersonCriteria(alias="Jo Lee"), PersonCriteria(surname="None")]


def test_a_truth_giving_an_id_twice_is_refused_by_name():
    rows = [{"kind": "person", "id": "P1"}, {"kind": "person", "id": "P1"}]
    with pytest.raises(PolebenchError, match="the same entity id is given twice"):
        TruthStore.from_rows(rows, [], HERE)
    with pytest.raises(PolebenchError, match="the same record id is given twice"):
        TruthStore.from_rows(rows[:1], [{"rid": "R1", "event": "P1", "mentions": []}] * 2, HERE)


def _mentions(n: int, mid=lambda i: "p0", kinds=lambda i: []) -> list[dict]:
    return [{"entity": "P1", "mid": mid(i), "kinds": kinds(i)} for i in range(n)]


MAX = compact.MAX_CODES


@pytest.mark.parametrize("field, mentions", [
    ("mid", _mentions(MAX + 1, mid=lambda i: f"m{i}")),
    ("kinds", _mentions(MAX + 1, kinds=lambda i: [f"k{i}"])),
], ids=["mention ids", "lists of kinds"])
def test_one_row_past_the_int16_codes_is_refused_naming_file_row_and_field(field, mentions):
    """The smallest truth past the limit: one record whose mentions give 32,769 distinct mention
    ids (or lists of kinds). The codes are int16, so this was an OverflowError traceback: the old
    check, made before each row, never saw a row cross the limit."""
    rows = [{"rid": "R1", "event": "E1", "mentions": mentions}]
    with pytest.raises(PolebenchError) as e:
        TruthStore.from_rows([{"kind": "person", "id": "P1"}], rows, HERE)
    msg = str(e.value)
    assert msg.startswith(f"{HERE / 'mentions.jsonl.gz'}: row 1 (record 'R1'): mentions[{MAX}].{field} ")
    assert f"distinct {'mention id' if field == 'mid' else 'list of kinds'} 32,769" in msg
    assert "at most 32,768" in msg


def test_the_int16_codes_are_all_used_and_the_first_past_them_named_on_its_row():
    """32,768 distinct mention ids fit (codes 0 to 32,767): a later row reusing one loads (the old
    check refused every row after the 32,768th id), and the first new one is named on its row."""
    first = {"rid": "R1", "event": "E1", "mentions": _mentions(MAX, mid=lambda i: f"m{i}")}
    again = {"rid": "R2", "event": "E1", "mentions": _mentions(2, mid=lambda i: f"m{MAX - 1 - i}")}
    ents = [{"kind": "person", "id": "P1"}]
    store = TruthStore.from_rows(ents, [first, again], HERE)
    ref = TruthIndex.from_rows(ents, [first, again])
    assert store.mentions["P1"] == ref.mentions["P1"] and len(store.mids) == MAX
    new = {"rid": "R3", "event": "E1", "mentions": _mentions(1, mid=lambda i: "m0") + _mentions(1, mid=lambda i: "new")}
    with pytest.raises(PolebenchError, match=r"row 3 \(record 'R3'\): mentions\[1\]\.mid 'new' is distinct "
                                             r"mention id 32,769"):
        TruthStore.from_rows(ents, [first, again, new], HERE)


def test_record_numbers_are_found_one_by_one_and_many_at_once():
    rids = ["R10", "R2", "R1", "R100"]
    nums = RecordNumbers(np.array([r.encode() for r in rids], "S"))
    assert [nums[r] for r in rids] == [0, 1, 2, 3] and list(nums) == rids and len(nums) == 4
    assert nums.many(np.array([b"R100", b"R1"], "S")).tolist() == [3, 2]
    for missing in ("R", "R3", "R1000", "r1"):
        with pytest.raises(KeyError):
            nums[missing]
    with pytest.raises(KeyError):
        nums.many(np.array([b"R1000"], "S"))


def _outcome(f):
    """What a call gives, or the error it raises (its type and arguments)."""
    try:
        return "gives", f()
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        return "raises", type(e), e.args


@st.composite
def _places_and_events(draw):
    """Addresses with a place (numbers of either type, or none) and events at them, at an address
    the truth does not list, or at none, in any order of ids."""
    n_addr = draw(st.integers(1, 4))
    coord = st.one_of(st.floats(-90, 90), st.integers(-90, 90))
    addresses = [{"kind": "address", "id": f"L{i}", "lat": draw(coord), "lon": draw(st.one_of(coord, st.none()))}
                 for i in draw(st.permutations(range(n_addr)))]
    where = st.sampled_from([a["id"] for a in addresses] + ["L-missing"])
    events = [{"kind": "event", "id": f"E{i}", "date": draw(st.sampled_from(["2020-01-31", "2024-02-29", "1999-12-31"])),
               "address": draw(where)} for i in range(draw(st.integers(0, 5)))]
    entities = draw(st.permutations(addresses + events))
    return entities, [{"rid": f"R{i}", "event": e["id"], "mentions": []} for i, e in enumerate(events)]


@settings(max_examples=200, deadline=None)
@given(_places_and_events())
def test_the_events_table_reads_as_the_dict_forms_or_fails_as_it_does(rows):
    entities, mentions = rows
    ref, store = TruthIndex.from_rows(entities, mentions), TruthStore.from_rows(entities, mentions, HERE)

    def table(t):
        ev = t.events
        return list(ev.ids), list(ev.ids[1:3]), list(ev.ids[::-1]), ev.lat.tobytes(), ev.lon.tobytes(), ev.day.tobytes()
    assert _outcome(lambda: table(store)) == _outcome(lambda: table(ref))


def test_a_subject_access_request_for_a_person_with_no_address_names_none():
    """An imported person may have no address: the request names none, not the last entity's."""
    from bench.queries.templates import sar_need
    entities = [{"kind": "person", "id": "P1", "forename": "Ann", "surname": "Lee", "alias": None, "dob": None,
                 "address": None},
                {"kind": "address", "id": "L1", "address": "1 High Street", "postcode": "N1 1AA"}]
    for truth in (TruthIndex.from_rows(entities, []), TruthStore.from_rows(entities, [], HERE)):
        need = sar_need(dict(truth.entities["P1"]), truth, "sar-001")
        assert need.addresses == ()
