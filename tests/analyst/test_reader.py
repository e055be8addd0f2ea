"""The modelled reader on lists of known grades: stop rules, effort measures against their
published formulas, and rules that must hold for every list."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.analyst.model import Reader, load_behaviour
from bench.analyst.reader import (Listed, effort_to_recall, esl, gain_curve, over_behaviours, rbp, read,
                                  readings, recognised, wss)


def reader(**kw):
    base = dict(page_size=10, empty_pages=2, read_cap=200, persistence=0.8, miss_rate=0.0)
    return Reader(**{**base, **kw})


def at(*positions):
    return np.asarray(positions, np.int64)


def test_everything_reader_stops_after_empty_pages():
    # relevant at 3 (page 0) and 15 (page 1); pages 2 and 3 hold nothing: stop after page 3
    r = read(at(3, 15, 95), 100, "everything", reader())
    assert (r.examined, r.found) == (40, 2)  # 95 lies beyond two empty pages: never reached
    # one empty page is enough for an impatient reader
    assert read(at(3, 15, 95), 100, "everything", reader(empty_pages=1)).examined == 30


def test_the_read_cap_and_the_list_end_bound_reading():
    assert read(at(*range(0, 500, 5)), 500, "everything", reader(read_cap=120)).examined == 120
    assert read(at(1), 7, "everything", reader()).examined == 7


def test_nothing_relevant_costs_the_empty_pages_only():
    assert read(at(), 1000, "everything", reader()).examined == 20
    assert read(at(), 1000, "identify", reader()).examined == 200  # looks up to the cap for a match
    assert read(at(), 1000, "read_all", reader()).examined == 1000


def test_identify_and_read_all():
    assert read(at(7, 9), 50, "identify", reader()) == read(at(7), 50, "identify", reader())
    assert read(at(7, 9), 50, "identify", reader()).examined == 8
    assert read(at(7, 9), 5000, "read_all", reader()).examined == 5000


def test_published_formulas():
    hits = at(0, 2, 5)  # ranks 1, 3, 6
    assert rbp(hits, 0.8) == pytest.approx(0.2 * (1 + 0.8 ** 2 + 0.8 ** 5))
    assert esl(at(4, 9)) == 4 and esl(at()) is None
    assert effort_to_recall(hits, 4, 0.8) is None  # 4 relevant, 3 returned: 0.8 needs 4
    assert effort_to_recall(hits, 3, 0.8) == 6 and effort_to_recall(hits, 5, 0.5) == 6


def test_gain_curve_and_wss():
    lists = [Listed(at(0, 9), at(1, 2), 10, 2, "everything", 1), Listed(at(), at(), 5, 4, "everything", 2)]
    assert gain_curve(lists, (1, 10)) == [pytest.approx(0.25), pytest.approx(0.5)]
    # the first reaches 95% at 10 records of a 1,000-record corpus; the second never
    assert wss(lists, 1000) == (pytest.approx(1 - 10 / 1000 - 0.05), 1)


def test_misses_are_paired_and_nested():
    records = np.arange(1000, 1400)
    hits = np.arange(400)
    low, high = recognised(hits, records, 0.05, 7), recognised(hits, records, 0.13, 7)
    assert set(high) <= set(low) and 0 < len(hits) - len(low) < len(hits) - len(high)
    assert list(recognised(hits, records, 0.0, 7)) == list(hits)


lists_st = st.lists(st.tuples(st.lists(st.integers(0, 2000), unique=True, max_size=30), st.integers(1, 2000),
                              st.sampled_from(["identify", "everything", "read_all"])), min_size=1, max_size=8)


def total_examined(lists, r):
    return readings(lists, [r])[0][0]


def _listed(raw):
    out = []
    for i, (hits, n, purpose) in enumerate(raw):
        h = np.asarray(sorted(x for x in hits if x < n), np.int64)
        out.append(Listed(h, h + 10_000, n, max(1, len(h)), purpose, i))
    return out


@settings(max_examples=150, deadline=None)
@given(lists_st, st.integers(1, 5), st.integers(1, 400), st.integers(1, 400), st.integers(1, 50))
def test_effort_is_monotone_in_patience_and_cap(raw, k, cap1, cap2, page):
    ls = _listed(raw)
    lo_cap, hi_cap = sorted((cap1, cap2))
    assert total_examined(ls, reader(read_cap=lo_cap, page_size=page)) <= \
        total_examined(ls, reader(read_cap=hi_cap, page_size=page))
    assert total_examined(ls, reader(empty_pages=k, page_size=page)) <= \
        total_examined(ls, reader(empty_pages=k + 1, page_size=page))
    for x in ls:  # never more than the list; identify and read_all get to a first relevant record within the cap
        e = read(x.hits, x.n, x.purpose, reader(page_size=page)).examined
        assert e <= x.n
        if x.purpose != "everything" and len(x.hits) and x.hits[0] < 200:
            assert e >= x.hits[0] + 1


def test_shipped_behaviour_loads_and_samples_within_its_ranges():
    b = load_behaviour()
    readers = b.sample(0)
    assert len(readers) == b.samples and readers == b.sample(0)
    assert {r.page_size for r in readers} <= {10, 20, 50}
    assert all(50 <= r.read_cap <= 500 and 0.7 <= r.persistence <= 0.9 for r in readers)
    assert 0 < sum(r.reformulate for r in readers) < len(readers) and b.formulations
    assert b.purpose("vehicle") == "identify" and b.purpose("sar") == "read_all" and b.purpose("combined") == "everything"


def test_over_behaviours_compares_like_with_like():
    base = [Listed(at(0), at(5), 10, 1, "everything", 1)]
    twice = [Listed(at(0), at(5), 10, 1, "everything", 1), Listed(at(0), at(6), 10, 1, "everything", 2)]
    out = over_behaviours({"b": base, "p": twice}, "b", load_behaviour().sample(0)[:20])
    assert out["b"]["examined_ratio"]["median"] == 1
    assert out["p"]["examined_ratio"] == {"median": 2.0, "p10": 2.0, "p90": 2.0, "n": 20}
    assert out["p"]["found_ratio"]["median"] == 2.0


def test_a_reformulating_reader_reads_the_narrowing_twin():
    # the baseline finds its one relevant record first; P's all-criteria list holds it at 50, its
    # narrowing twin at 2. An identifying reader reads 51 of P's, or 3 of the twin's.
    lists = {"b": [Listed(at(0), at(7), 10, 1, "identify", 1)],
             "p": [Listed(at(50), at(7), 100, 1, "identify", 1)],
             "p~narrows": [Listed(at(2), at(7), 5, 1, "identify", 1)]}
    out = over_behaviours(lists, "b", [reader(), reader(reformulate=True)], {"p": "p~narrows"})
    assert set(out) == {"b", "p"}  # the twin is read, not reported
    assert out["p"]["examined_ratio"] == {"median": 27.0, "p10": 3 + 0.1 * 48, "p90": 3 + 0.9 * 48, "n": 2}
    # without twins every reader reads the all-criteria list
    assert over_behaviours(lists, "b", [reader(reformulate=True)])["p"]["examined_ratio"]["median"] == 51


def test_a_profile_page_size_is_every_readers_page():
    # relevant at 0 of 100; an impatient 'everything' reader reads one more page after it
    lists = {"b": [Listed(at(0), at(1), 100, 1, "everything", 1)],
             "p": [Listed(at(0), at(1), 100, 1, "everything", 1)]}
    readers = [reader(page_size=10, empty_pages=1), reader(page_size=20, empty_pages=1)]
    out = over_behaviours(lists, "b", readers, page_sizes={"p": 50})
    # b: 20 and 40 records; p: 100 for both readers (two pages of 50)
    assert out["p"]["examined_ratio"]["median"] == (100 / 20 + 100 / 40) / 2


@settings(max_examples=150, deadline=None)
@given(lists_st, st.lists(st.tuples(st.sampled_from([1, 3, 10, 20]), st.integers(1, 3), st.integers(1, 600),
                                    st.sampled_from([0.0, 0.05, 0.5])), min_size=1, max_size=12))
def test_readings_for_many_readers_equal_reading_reader_by_reader(raw, params):
    ls = _listed(raw)
    readers = [reader(page_size=s, empty_pages=k, read_cap=c, miss_rate=m) for s, k, c, m in params]
    examined, found = readings(ls, readers)
    for i, r in enumerate(readers):
        one = [read(recognised(x.hits, x.records, r.miss_rate, x.key), x.n, x.purpose, r) for x in ls]
        assert examined[i] == sum(o.examined for o in one) and found[i] == sum(o.found for o in one)
