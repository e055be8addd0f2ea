"""Name, street and place pools: built once with Faker and cited tables, sampled many times
with numpy (Faker per draw is ~200x slower than sampling a pool)."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from faker import Faker

FORENAME_LOCALES = ("en_GB", "en_IE", "pl_PL", "en_IN", "yo_NG")
# Share of the population drawn from each locale's forename pool: an assumption
# sketching London's mix, not a census figure.
FORENAME_LOCALE_WEIGHTS = (0.70, 0.06, 0.08, 0.10, 0.06)
# Minority surname pools: the provider lists each locale's surnames are read from. None of
# them carries frequencies, and most are in alphabetical order, so every name in them is
# given the same weight (a rank read off an alphabetical list would make Achison the
# commonest Irish surname). Polish surnames keep only the forms a UK clerk would write:
# diacritics dropped (Wiśniewski -> Wisniewski), male forms (no -ska variants).
OTHER_SURNAME_LISTS = (("en_IE", ("last_names",)), ("pl_PL", ("male_last_names", "unisex_last_names")),
                       ("en_IN", ("last_names",)), ("yo_NG", ("last_names_male",)))
STREET_TYPES_FILE = "data/street_types.csv"


@dataclass(frozen=True)
class Borough:
    name: str
    lat: float
    lon: float
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Pools:
    surnames: tuple[str, ...]
    surname_p: np.ndarray
    forenames: dict[str, tuple[str, ...]]  # sex -> names
    forename_p: dict[str, np.ndarray]
    streets: tuple[str, ...]  # as drawn, with repeats (see street_names)
    boroughs: tuple[Borough, ...]


def _zipf(n: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _person_provider(fk: Faker):
    return next(p for p in fk.get_providers() if ".person." in type(p).__module__)


def _ascii_alpha(name: str) -> bool:
    return name.isascii() and name.replace("-", "").replace("'", "").isalpha()


def _ascii(name: str) -> str:
    """A name as written on an English keyboard: diacritics dropped (Dąbrowski -> Dabrowski)."""
    name = name.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def rank_weights(names: list[str]) -> np.ndarray:
    """Weights for a list of names the source gives without counts: Zipf over the list's order
    where that order can be a rank, equal weights where the list is alphabetical (its order
    then says nothing about frequency)."""
    if names == sorted(names):
        return np.full(len(names), 1.0 / len(names)) if names else np.array([])
    return _zipf(len(names))


def minority_surnames(exclude: set[str]) -> list[str]:
    """The minority surnames, in source order, each once, none already in `exclude`."""
    seen, out = set(exclude), []
    for loc, attrs in OTHER_SURNAME_LISTS:
        provider = _person_provider(Faker(loc))
        for attr in attrs:
            for n in map(_ascii, getattr(provider, attr, ())):
                if _ascii_alpha(n) and n not in seen:
                    seen.add(n)
                    out.append(n)
    return out


@lru_cache(maxsize=4)
def build_pools(seed: int, surname_skew: float = 1.0) -> Pools:
    """Pools depend only on the seed (and skew), so the same spec gives the same pools."""
    from faker.providers.person.en_GB import Provider as GB

    weighted = [(n, w) for n, w in GB.last_names.items() if _ascii_alpha(n)]
    names = [n for n, _ in weighted]
    weights = np.array([w for _, w in weighted], dtype=float)
    extra = minority_surnames(set(names))
    # Minority surnames share a fifth of the mass (an assumption), in equal parts: their
    # source lists carry no frequencies.
    extra_w = np.full(len(extra), weights.sum() * 0.25 / len(extra)) if extra else np.array([])
    all_w = np.concatenate([weights, extra_w]) ** surname_skew
    surnames = tuple(names + extra)

    forenames: dict[str, tuple[str, ...]] = {}
    forename_p: dict[str, np.ndarray] = {}
    for sex, attr in (("M", "first_names_male"), ("F", "first_names_female")):
        pool: list[str] = []
        probs: list[np.ndarray] = []
        for loc, lw in zip(FORENAME_LOCALES, FORENAME_LOCALE_WEIGHTS):
            fk = Faker(loc)
            vals = [n for n in dict.fromkeys(map(_ascii, getattr(_person_provider(fk), attr, ())))
                    if _ascii_alpha(n) and n not in pool]
            if not vals:
                continue
            pool.extend(vals)
            probs.append(rank_weights(vals) * lw)
        p = np.concatenate(probs)
        forenames[sex] = tuple(pool)
        forename_p[sex] = p / p.sum()

    return Pools(surnames, all_w / all_w.sum(), forenames, forename_p, street_names(seed, names, weights),
                 load_boroughs())


@lru_cache(maxsize=1)
def street_types() -> tuple[tuple[str, ...], np.ndarray]:
    """Street descriptors (Road, Close, Street ...) and their shares, from the cited table."""
    text = resources.files("bench.corpus").joinpath(STREET_TYPES_FILE).read_text()
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    share = np.array([float(r["share"]) for r in rows])
    return tuple(r["descriptor"] for r in rows), share / share.sum()


def street_names(seed: int, stems: list[str], stem_w: np.ndarray, n: int = 3000) -> tuple[str, ...]:
    """London-like street names: a surname as the stem (as many London streets are named after
    people; an assumption) and a descriptor drawn at its cited share. Kept as drawn, repeats
    and all, so that streets picked from the pool keep those shares."""
    rng = np.random.default_rng([seed, 5])
    kinds, share = street_types()
    s = rng.choice(len(stems), n, p=stem_w / stem_w.sum())
    k = rng.choice(len(kinds), n, p=share)
    return tuple(f"{stems[i]} {kinds[j]}" for i, j in zip(s, k))


@lru_cache(maxsize=1)
def load_boroughs() -> tuple[Borough, ...]:
    text = resources.files("bench.corpus").joinpath("data/london_boroughs.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(Borough(r["borough"], float(r["lat"]), float(r["lon"]),
                         tuple(r["districts"].split())) for r in rows)
