"""Each corruption kind produces what it claims, for every input (hypothesis)."""

import datetime as dt
import random

import jellyfish
from hypothesis import given, strategies as st

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
