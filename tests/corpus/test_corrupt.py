"""Each corruption kind produces what it claims, for every input (hypothesis)."""

import datetime as dt
import random

import jellyfish
from hypothesis import given, settings, strategies as st

from bench.corpus import corrupt

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14).map(str.capitalize)
seeds = st.integers(0, 2**32)


@given(names, seeds)
def test_typo_is_one_edit_and_keeps_the_first_letter(name, seed):
    out = corrupt.typo(random.Random(seed), name)
    if out is None:
        assert len(name) < 3
        return
    assert out != name or len(set(name)) < len(name)  # substitution by itself is impossible
    assert jellyfish.damerau_levenshtein_distance(out.lower(), name.lower()) == 1
    assert out[0] == name[0]


@given(names, seeds)
def test_phonetic_respelling_sounds_the_same(name, seed):
    out = corrupt.phonetic(random.Random(seed), name)
    if out is None:
        return
    low, new = name.lower(), out.lower()
    assert new != low
    assert (jellyfish.metaphone(new) == jellyfish.metaphone(low)
            or jellyfish.nysiis(new) == jellyfish.nysiis(low) or new == low[:-1])


def test_phonetic_known_pairs():
    assert "Smyth" in corrupt.phonetic_variants("Smith")
    assert "Steven" in corrupt.phonetic_variants("Stephen") or "Stefen" in corrupt.phonetic_variants("Stephen")


@given(st.sampled_from(["William", "Elizabeth", "Catherine", "Robert", "Margaret", "Jonathan"]), seeds)
def test_nickname_comes_from_the_nickname_table(name, seed):
    from nicknames import NickNamer
    out = corrupt.nickname(random.Random(seed), name)
    assert out and out.lower() in NickNamer().nicknames_of(name.lower())


@given(st.dates(dt.date(1940, 1, 1), dt.date(2010, 12, 31)), seeds)
def test_dob_transposed_swaps_day_and_month(d, seed):
    out = corrupt.dob_transposed(random.Random(seed), d)
    if d.day > 12 or d.day == d.month:
        assert out is None
    else:
        assert (out.day, out.month, out.year) == (d.month, d.day, d.year)


@given(st.dates(dt.date(1940, 1, 1), dt.date(2010, 12, 31)), seeds)
def test_dob_off_by_one_year(d, seed):
    out = corrupt.dob_off_year(random.Random(seed), d)
    assert abs(out.year - d.year) == 1 and out.month == d.month


vrms = st.from_regex(r"\A[A-Z]{2}[0-9]{2} [A-Z]{3}\Z")


@given(vrms, seeds)
def test_vrm_misread_swaps_one_lookalike(vrm, seed):
    out = corrupt.vrm_misread(random.Random(seed), vrm)
    if out is None:
        assert not any(c in corrupt.MISREAD for c in vrm)
        return
    diff = [(a, b) for a, b in zip(vrm, out) if a != b]
    assert len(diff) == 1 and corrupt.MISREAD[diff[0][0]] == diff[0][1]


@given(vrms, seeds)
def test_vrm_partial_is_a_shorter_prefix(vrm, seed):
    out = corrupt.vrm_partial(random.Random(seed), vrm)
    compact = vrm.replace(" ", "")
    assert compact.startswith(out) and 1 <= len(compact) - len(out) <= 3


@given(st.from_regex(r"\A(E1|SW19|N17|SE15) [0-9][A-Z]{2}\Z"), seeds)
def test_postcode_variant_forms(pc, seed):
    out = corrupt.postcode_variant(random.Random(seed), pc)
    outward, inward = pc.split()
    assert out in (outward + inward, f"{outward} {inward[0]}", outward)


@given(seeds)
def test_hyphen_variant_only_for_double_barrelled(seed):
    r = random.Random(seed)
    assert corrupt.hyphen_variant(r, "Smith") is None
    assert corrupt.hyphen_variant(r, "Smith-Jones") in ("Smith Jones", "SmithJones", "Smithjones", "Smith", "Jones")


# ---- labels describe the text as finally written (a later corruption can hide an earlier one)

from collections import Counter  # noqa: E402

from bench.corpus.records import Clerk, Tally  # noqa: E402
from bench.corpus.spec import CORRUPTION_KINDS, Corruption  # noqa: E402
from bench.corpus.world import Person  # noqa: E402

FORENAMES = ("William", "Elizabeth", "Robert", "Joseph", "Anne", "Stephen", "Al")
SURNAMES = ("Smith", "Jones-Smith", "Phillips", "Mackenzie-Brown", "Ng", "Thompson")
rates = st.fixed_dictionaries({k: st.sampled_from((0.0, 0.5, 1.0)) for k in CORRUPTION_KINDS})


@st.composite
def people(draw):
    alias = draw(st.none() | st.tuples(st.sampled_from(FORENAMES), st.sampled_from(SURNAMES)))
    return Person("P0000000", draw(st.sampled_from(FORENAMES)), "", draw(st.sampled_from(SURNAMES)),
                  draw(st.dates(dt.date(1940, 1, 1), dt.date(2008, 12, 31))), "M", "GB", alias, None, -1, 0)


def _dob_labels(true: dt.date, written: str | None) -> set[str]:
    """The DOB kinds read off the written value against the true one."""
    if written is None:
        return {"dob_missing"}
    w = dt.date.fromisoformat(written)
    out = set()
    if (w.month, w.day) != (true.month, true.day) and (w.month, w.day) == (true.day, true.month):
        out.add("dob_transposed")
    if w.year != true.year:
        out.add("dob_off_year")
    return out


@given(people(), rates, seeds)
def test_person_labels_are_rederived_from_written_against_true(p, r, seed):
    tally = Tally()
    clerk = Clerk("intel", Corruption(**r), random.Random(seed), tally)
    w, kinds = clerk.person(p)
    assert len(kinds) == len(set(kinds))
    dob_kinds = {k for k in kinds if k.startswith("dob_")}
    assert dob_kinds == _dob_labels(p.dob, w["dob"]), (w, kinds)
    names = {(p.forename, p.surname)} | ({p.alias} if p.alias else set())
    fore, sur = (w["surname"], w["forename"]) if "name_swap" in kinds else (w["forename"], w["surname"])
    if "alias" in kinds:
        assert p.alias != (p.forename, p.surname)
    if "initials" in kinds:
        assert len(fore) == 1
        named = p.alias if "alias" in kinds else (p.forename, p.surname)
        if sur == named[1]:  # spelling errors could only show on the surname, which is as named
            assert not {"typo", "phonetic"} & set(kinds), (w, kinds)
        if "nickname" in kinds:
            assert fore != named[0][0].upper()
    if not kinds:
        assert (w["forename"], w["surname"]) in names and w["dob"] == p.dob.isoformat() and w["sex"] == p.sex
    # what is labelled is what the manifest counts as applied and not hidden
    assert +(tally.applied - tally.hidden) == Counter({("intel", k): 1 for k in kinds})


vrm_rates = st.fixed_dictionaries({k: st.sampled_from((0.0, 0.5, 1.0))
                                   for k in ("vrm_misread", "vrm_partial", "missing_field")})


@settings(max_examples=300)
@given(st.sampled_from(("AB12 CDE", "OS05 BZO", "AB51 CSO", "Z123 OBS")), vrm_rates, seeds)
def test_vehicle_labels_are_rederived_from_written_against_true(vrm, r, seed):
    """Look-alike characters near the end, where a partial mark may cut them off."""
    clerk = Clerk("intel", Corruption(**r), random.Random(seed), Tally())
    w, kinds = clerk.vehicle(vrm, "Ford", "Focus", "Blue")
    true, written = vrm.replace(" ", ""), w["vrm"].replace(" ", "")
    assert ("vrm_partial" in kinds) == (len(written) < len(true))
    assert ("vrm_misread" in kinds) == (not true.startswith(written)), (vrm, w, kinds)
