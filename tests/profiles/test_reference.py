"""The reference profile's entity resolution on hand-made records whose truth is known: each kind
of data-entry error the generator makes is found, or missed, as the shipped thresholds say; each
tolerance is load-bearing (turned off, its case is missed); records are grouped one entry per
candidate, and the reader counts entries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bench.backends.base import Hits, _grouped
from bench.backends.resolver.index import from_records
from bench.backends.resolver.match import resolve
from bench.errors import PolebenchError
from bench.metrics.measures import Judgements
from bench.analyst.model import load_behaviour
from bench.plans import Resolve, nodes_of
from bench.profiles.compile import compile_need
from bench.profiles.model import ProfileSet, load_profile
from bench.queries.model import Need


def _person(fore, sur, dob=None, sex="M"):
    return {"people": [{"forename": fore, "surname": sur, "dob": dob, "sex": sex}]}


# The target: John Smith, born 7 March 1980. Each record says whose it truly is.
TARGET = [
    ("clean", _person("John", "Smith", "1980-03-07")),
    ("typo", _person("John", "Smiht", "1980-03-07")),
    ("phonetic", _person("John", "Smyth", "1980-03-07")),
    ("nickname", _person("Jack", "Smith", "1980-03-07")),
    ("initials", _person("J", "Smith", "1980-03-07")),
    ("name_swap", _person("Smith", "John", "1980-03-07")),
    ("dob_transposed", _person("John", "Smith", "1980-07-03")),
    ("dob_off_year", _person("John", "Smith", "1981-03-07")),
    ("dob_missing", _person("John", "Smith", None)),
]
# Written so that the thresholds must leave them out (a record of the target among them is missed).
MISSED = [
    ("two typos in the surname", _person("John", "Snoth", "1980-03-07")),
    ("another date of birth", _person("John", "Smith", "1975-01-01")),
    ("another forename", _person("Mary", "Smith", "1980-03-07", "F")),
    ("only the surname agrees", _person("", "Smith", None)),
    ("the other sex", _person("John", "Smith", "1980-03-07", "F")),
    ("another surname", _person("John", "Jones", "1980-03-07")),
]
RECORDS = [r for _, r in TARGET] + [r for _, r in MISSED]
NEED = Need(id="t", description="test", person={"forename": "John", "surname": "Smith",
                                                 "dob": dt.date(1980, 3, 7), "sex": "M"})


@pytest.fixture(scope="module")
def reference():
    return load_profile("reference")


@pytest.fixture(scope="module")
def index():
    return from_records(RECORDS)


def _found(index, profile, need=NEED) -> set[int]:
    nodes = nodes_of(compile_need(need, profile).root, Resolve)
    assert len(nodes) == 1
    return set(resolve(index, nodes[0])[0].tolist())


def _rules(profile, **over):
    return profile.model_copy(update={"reference": profile.reference.model_copy(update=over)})


def test_each_error_kind_is_found_and_the_rest_missed_as_the_shipped_thresholds_say(index, reference):
    assert _found(index, reference) == set(range(len(TARGET)))


@pytest.mark.parametrize("kind, off", [
    ("typo", {"surname_jw": 0.99}),  # smiht: JW 0.953, Metaphone SMT against SM0
    ("phonetic", {"surname_jw": 0.99, "phonetic": "none"}),  # smyth: JW 0.893, kept by Metaphone SM0
    ("nickname", {"nicknames": False}),
    ("initials", {"initials": False}),
    ("name_swap", {"swapped_names": False}),
    ("dob_transposed", {"dob_swap": False}),
    ("dob_off_year", {"dob_year_slip": 0}),
    ("dob_missing", {"dob_missing": "reject"}),
])
def test_each_tolerance_is_what_finds_its_error(index, reference, kind, off):
    i = [k for k, _ in TARGET].index(kind)
    assert i in _found(index, reference)
    assert i not in _found(index, _rules(reference, **off))


def test_soundex_keeps_a_typo_metaphone_does_not_and_the_jw_threshold_decides(index, reference):
    """smiht against smith: Jaro-Winkler 0.953, Metaphone SMT against SM0, Soundex S530 both."""
    typo = [k for k, _ in TARGET].index("typo")
    assert typo in _found(index, _rules(reference, surname_jw=0.95))
    assert typo not in _found(index, _rules(reference, surname_jw=0.96))
    assert typo in _found(index, _rules(reference, surname_jw=0.96, phonetic="soundex"))


def test_records_are_grouped_one_entry_per_candidate_person(index, reference):
    """A candidate is a surname by its phonetic code with a date of birth as written: the clean,
    nickname, initial and swapped-name records of 1980-03-07 under Metaphone SM0 are one entry."""
    node = nodes_of(compile_need(NEED, reference).root, Resolve)[0]
    rnums, scores, groups = resolve(index, node)
    same = {int(r) for r, g in zip(rnums, groups) if g == groups[list(rnums).index(0)]}
    assert same == {0, 2, 3, 4, 5}  # clean, Smyth (SM0), Jack, J, Smith written as forename
    h = Hits(rnums, scores, np.zeros(len(rnums), np.int64), groups)
    ordered, _, starts = _grouped(h, h.scores)
    assert ordered[0] == 0 and len(starts) == len(set(groups.tolist()))
    # entries are contiguous: each group's records sit together
    entry = np.searchsorted(starts, np.arange(len(ordered)), side="right") - 1
    for e in range(len(starts)):
        assert len({int(groups[list(rnums).index(r)]) for r in ordered[entry == e]}) == 1


def test_the_reader_counts_entries_where_the_list_is_read_by_entry():
    """Relevant records at positions 1, 2 and 5 of 6, in entries starting at 0, 3 and 5: read by
    entries, the first relevant is entry 0 and all are read by entry 2 (3 entries)."""
    j = Judgements({"q": {11: 1, 12: 1, 15: 1}}, 20)
    r = load_behaviour().central
    rnums = np.array([10, 11, 12, 13, 14, 15])
    by_rec, _, _ = j.measure("q", rnums, 30.0, "identify", r)
    by_ent, _, lst = j.measure("q", rnums, 30.0, "identify", r, [0, 3, 5])
    assert by_rec["examined"] == 2 and by_ent["examined"] == 1
    assert by_rec["effort_r95"] == 6 and by_ent["effort_r95"] == 3
    assert by_ent["recall"] == by_rec["recall"] == 1.0 and by_ent["volume"] == 6
    assert list(lst.hits) == [0, 0, 2] and lst.n == 3
    sar, _, _ = j.measure("q", rnums, 30.0, "read_all", r, [0, 3, 5])  # every record checked for disclosure
    assert sar["examined"] == 6


VEHICLES = [{"vehicles": [{"vrm": v, "make": mk, "colour": "blue"}]} for v, mk in (
    ("AB12 CDE", "ford"), ("A812 CDE", "ford"), ("AB12 CDF", "ford"), ("AB12C", "ford"),
    ("XB12 CDF", "ford"), ("AB12 CDE", "audi"))]


@pytest.mark.parametrize("vrm, make, expected", [
    ("AB12CDE", "ford", {0, 1, 2, 3}),  # exact, look-alike 8/B, one edit, partial of 5 characters
    ("AB12CDE", None, {0, 1, 2, 3, 5}),  # the Audi too, without a make to tell them apart
    ("AB12C??", "ford", {0, 1, 2}),  # a pattern: look-alikes folded, the partial mark cannot be confirmed
])
def test_vehicle_resolution(reference, vrm, make, expected):
    ix = from_records(VEHICLES)
    need = Need(id="v", description="t", vehicle={"vrm": vrm, "make": make})
    assert _found(ix, reference, need) == expected


def test_phone_resolution(reference):
    ix = from_records([{"phones": [{"number": n}]} for n in ("07700900123", "07700900132", "+447700900123",
                                                           "07700911111", "07800900124")])
    full = Need(id="p", description="t", phone={"number": "07700900123"})
    assert _found(ix, reference, full) == {0, 1, 2}  # exact, a transposition, +44 written
    tail = Need(id="p", description="t", phone={"number": "*900123"})
    assert _found(ix, reference, tail) == {0, 2}


def test_a_rule_without_its_source_is_refused(reference, tmp_path):
    data = reference.reference.model_dump()
    del data["rationale"]["surname_jw"]
    with pytest.raises(ValueError, match="surname_jw"):
        type(reference.reference)(**data)


def test_opensearch_refuses_the_reference_profile_before_anything_runs():
    from bench.run.runner import refuse_unsupported
    profiles = ProfileSet(["crimint", "reference"])
    with pytest.raises(PolebenchError, match=r"(?s)profile 'reference': 1 of 1 needs .*Resolve.*Nothing was run"):
        refuse_unsupported("opensearch", [NEED], profiles)
    refuse_unsupported("embedded", [NEED], profiles)  # the embedded backend runs it


def test_every_rule_is_read_by_the_resolver_or_the_run():
    """A rule in reference.yaml that nothing reads would be a dead knob with a rationale."""
    from pathlib import Path

    import bench
    from bench.profiles.reference import ReferenceRules
    root = Path(bench.__file__).parent
    readers = "".join((root / p).read_text() for p in ("backends/resolver/match.py", "backends/embedded.py",
                                                       "run/runner.py"))
    unread = [k for k in ReferenceRules.model_fields if k != "rationale" and f'"{k}"' not in readers
              and f".{k}" not in readers]
    assert unread == []


def test_the_cap_counts_candidates_and_leaves_lists_searched_as_the_baseline_whole(reference):
    person = compile_need(NEED, reference)
    assoc = compile_need(Need(id="a", description="t", association={"of": {"forename": "John", "surname": "Smith"}}),
                         reference)
    assert person.cap == reference.result_cap == 100 and assoc.cap is None
    assert nodes_of(assoc.root, Resolve) == []  # associates are reached as the baseline reaches them


def test_the_candidate_step_can_lose_what_the_field_rules_would_accept(reference):
    """jones/jnoes: Jaro-Winkler 0.94 and Metaphone JNS both, but their n-gram TF-IDF cosine is below
    the shipped name_min_cosine (0.3), so the record never reaches the field rules; a looser
    candidate step finds it. The limitation the YAML states, held as it is."""
    ix = from_records([_person("John", "Jones", "1980-03-07"), _person("John", "Jnoes", "1980-03-07")])
    need = Need(id="t", description="t", person={"forename": "John", "surname": "Jones", "dob": dt.date(1980, 3, 7)})
    assert _found(ix, reference, need) == {0}
    assert _found(ix, _rules(reference, name_min_cosine=0.1), need) == {0, 1}
