"""The corpus spec's bounds: every spec validation accepts generates (at a tiny scale, for any
values hypothesis picks), and every value past a bound is refused naming the file, line and field
rather than failing in the generator, running out of memory or running for hours."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.corpus import corrupt, records
from bench.corpus.generate import generate, load_spec
from bench.corpus.spec import (CORRUPTION_KINDS, DATE_MARGIN_DAYS, MAX_GROUP_SIZE, MAX_TIES, SOURCE_SYSTEMS,
                               Communities, CorpusSpec)
from bench.corpus.store import Corpus
from bench.corpus.world import _communities
from bench.errors import SpecError
from bench.queries.compact import MAX_CODES, TruthStore

ROOT = Path(__file__).resolve().parents[2]
CI = (ROOT / "corpora" / "ci.yaml").read_text()
RATE = st.floats(0, 1)
# What generate writes as mention ids: an event's lead, up to three associates and a victim; a
# vehicle, a phone, a place (records.RecordWriter.write)
GENERATED_MIDS = {"p0", "p1", "p2", "p3", "p4", "v0", "t0", "l0"}


@st.composite
def _dates(draw) -> dict:
    """Any start Python can hold, often near its ends; spans up to a few years (a span of centuries
    is valid too, but a world holds a date object for each of its days, and the bounds are on the
    ends)."""
    near_an_end = st.dates(max_value=dt.date(1, 3, 1)) | st.dates(min_value=dt.date(9994, 1, 1))
    start = draw(st.dates() | near_an_end)
    end = start + dt.timedelta(days=min(draw(st.integers(1, 2000)), (dt.date.max - start).days))
    return {"start": start.isoformat(), "end": end.isoformat()}


@st.composite
def _community_data(draw) -> dict:
    a, b = sorted(draw(st.lists(st.integers(2, MAX_GROUP_SIZE), min_size=2, max_size=2)))
    keys = {"size_min": a, "size_max": b, "share_in_community": draw(RATE), "p_within": draw(RATE),
            "ties_between": draw(st.floats(0, 20))}
    return {k: v for k, v in keys.items() if draw(st.booleans())}


SOURCE = st.fixed_dictionaries({"share": RATE}, optional={
    "corruption": st.fixed_dictionaries({}, optional={k: RATE for k in CORRUPTION_KINDS})})
SPEC = st.fixed_dictionaries({
    "name": st.just("p"), "seed": st.one_of(st.integers(0, 2**66), st.sampled_from([2**64 - 1, 2**64])), "people": st.integers(1, 40),
    "vehicles": st.integers(0, 15), "phones": st.integers(0, 15), "addresses": st.integers(1, 15),
    "events": st.integers(1, 40), "records": st.integers(1, 60), "dates": _dates(),
    "sources": st.dictionaries(st.sampled_from(SOURCE_SYSTEMS), SOURCE, min_size=1),
}, optional={"alias_share": RATE, "moniker_share": RATE, "double_barrelled_share": RATE,
             "surname_skew": st.floats(0, 4), "communities": _community_data()})


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(SPEC)
def test_every_spec_validation_accepts_generates(data):
    """Generated in full (records, truth, manifest), read back, and its truth loaded in columns:
    the records' dates stay within the margin the range keeps from Python's, and the truth's
    mention ids and lists of kinds are the few the int16 codes of TruthStore were sized for."""
    try:
        spec = CorpusSpec.model_validate(data)
    except ValidationError:
        reject()
    with tempfile.TemporaryDirectory() as tmp:
        generate(spec, Path(tmp) / "c", workers=1)
        corpus = Corpus(Path(tmp) / "c")
        recs = list(corpus.records())
        truth = TruthStore.load(corpus)
    assert len(recs) == truth.n_records == spec.records == corpus.manifest.counts["records"]
    margin = dt.timedelta(DATE_MARGIN_DAYS)
    written = [dt.date.fromisoformat(d) for r in recs for d in (r["date"], r["event_date"]) if d]
    assert all(spec.dates.start - margin <= d <= spec.dates.end + margin for d in written)
    assert set(truth.mids) <= GENERATED_MIDS and len(truth.kind_tuples) < MAX_CODES


def test_the_date_margin_covers_every_date_the_generator_writes_past_the_range():
    assert DATE_MARGIN_DAYS >= max(records.LAG_DAYS.values())  # a record written after its event
    assert DATE_MARGIN_DAYS >= corrupt.EVENT_DATE_SHIFT_DAYS  # an event's date written out, either way


def _ci(*edits: tuple[str, str]) -> str:
    text = CI
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    return text


GROUPS = "size_min: 3, size_max: 8"
REJECTED = [  # (case, the spec's text, the field named, on the line holding, what the message says)
    ("seed past 64 bits", _ci(("seed: 20220719", "seed: 18446744073709551616")), "seed", "seed:",
     "less than or equal to 18446744073709551615"),
    ("seed negative", _ci(("seed: 20220719", "seed: -1")), "seed", "seed:", "greater than or equal to 0"),
    ("people 0", _ci(("people: 4000", "people: 0")), "people", "people:", "greater than 0"),
    ("records 10^12", _ci(("records: 20000", "records: 1000000000000")), "records", "records:",
     "less than or equal"),
    ("vehicles negative", _ci(("vehicles: 1500", "vehicles: -1")), "vehicles", "vehicles:",
     "greater than or equal to 0"),
    ("size_max past the largest group", _ci(("size_max: 8", f"size_max: {MAX_GROUP_SIZE + 1}")),
     "communities.size_max", "communities:", f"less than or equal to {MAX_GROUP_SIZE}"),
    ("size_min past the largest group", _ci((GROUPS, f"size_min: {MAX_GROUP_SIZE + 1}, size_max: 8")),
     "communities.size_min", "communities:", f"less than or equal to {MAX_GROUP_SIZE}"),
    ("size_max below size_min", _ci((GROUPS, "size_min: 9, size_max: 8")), "communities", "communities:",
     "size_max must be >= size_min"),
    ("share_in_community 1.5", _ci(("share_in_community: 0.6", "share_in_community: 1.5")),
     "communities.share_in_community", "communities:", "less than or equal to 1"),
    ("p_within 0", _ci(("p_within: 0.6", "p_within: 0")), "communities.p_within", "communities:", "greater than 0"),
    ("ties_between 21", _ci(("ties_between: 0.4", "ties_between: 21")), "communities.ties_between",
     "communities:", "less than or equal to 20"),
    # 6M members with 20 ties each across groups: 60M ties
    ("ties past the most held", _ci(("people: 4000", "people: 10000000"), ("ties_between: 0.4", "ties_between: 20")),
     "communities", "communities:", f"more than the {MAX_TIES:,}"),
    # groups of 1,000 among 240,000 members, p_within 0.6: about 72M ties
    ("large dense groups", _ci(("people: 4000", "people: 400000"), (GROUPS, "size_min: 1000, size_max: 1000")),
     "communities", "communities:", f"more than the {MAX_TIES:,}"),
    ("a rate above 1", _ci(("typo: 0.05", "typo: 1.5")), "sources.crime.corruption.typo", "typo: 1.5",
     "less than or equal to 1"),
    ("a negative rate", _ci(("typo: 0.05", "typo: -0.1")), "sources.crime.corruption.typo", "typo: -0.1",
     "greater than or equal to 0"),
    ("a share of 0", _ci(("share: 0.25", "share: 0")), "sources.crime.share", "share: 0\n",
     "greater than 0"),
    ("alias_share 2", _ci(("alias_share: 0.15", "alias_share: 2")), "alias_share", "alias_share:",
     "less than or equal to 1"),
    ("surname_skew 5", _ci(("surname_skew: 1.0", "surname_skew: 5")), "surname_skew", "surname_skew:",
     "less than or equal to 4"),
    ("dates from year 1", _ci(("start: 2019-01-01", "start: 0001-01-01")), "dates.start", "dates:",
     "on or after 0001-02-01"),
    ("dates to year 9999", _ci(("end: 2024-12-31", "end: 9999-12-31")), "dates.end", "dates:",
     "on or before 9999-11-30"),
]


@pytest.mark.parametrize("text, field, line_holding, says", [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_a_value_past_a_bound_is_refused_naming_file_line_and_field(text, field, line_holding, says, write):
    path = write("bad.yaml", text)
    with pytest.raises(SpecError) as e:
        load_spec(path)
    line = next(i for i, t in enumerate((text + "\n").splitlines(keepends=True), 1) if line_holding in t)
    assert str(e.value).startswith(f"{path}:{line}:") and f": {field}: " in str(e.value), str(e.value)
    assert says in str(e.value) and len(str(e.value).splitlines()) == 1, str(e.value)


@pytest.mark.parametrize("people, communities", [
    (20_000, {}),  # the shipped communities
    (20_000, {"ties_between": 20}),
    (20_000, {"size_min": 50, "size_max": 120, "p_within": 0.2, "ties_between": 3}),
    (5_000, {"size_min": 400, "size_max": 1000, "p_within": 0.05, "share_in_community": 1}),  # groups cut short
])
def test_the_ties_the_spec_expects_are_the_ties_the_generator_makes(people, communities):
    """The bound on ties is held to what the world really has (within 5%)."""
    c = Communities(**communities)

    class Spec:
        pass
    Spec.communities = c
    cols = {"dob": np.zeros(people, np.int32), "community": np.full(people, -1, np.int32),
            "address": np.zeros(people, np.int32)}
    _, ties = _communities(Spec(), cols, np.random.default_rng(11))
    made = len(ties.items) / 2
    assert made == pytest.approx(c.expected_ties(people), rel=0.05)


def test_the_shipped_communities_pass_at_the_largest_world():
    from bench.corpus.spec import MAX_ENTITIES
    assert Communities().expected_ties(MAX_ENTITIES) < MAX_TIES / 1.9
