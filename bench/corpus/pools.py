"""Name, street and place pools: built once with Faker and cited tables, sampled many times
with numpy (Faker per draw is ~200x slower than sampling a pool)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from faker import Faker

FORENAME_LOCALES = ("en_GB", "en_IE", "pl_PL", "en_IN", "yo_NG")
# Share of the population drawn from each locale's forename pool: an assumption
# sketching London's mix, not a census figure.
FORENAME_LOCALE_WEIGHTS = (0.70, 0.06, 0.08, 0.10, 0.06)
OTHER_SURNAME_LOCALES = ("en_IE", "pl_PL", "en_IN", "yo_NG")


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
    streets: tuple[str, ...]
    boroughs: tuple[Borough, ...]


def _zipf(n: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _person_provider(fk: Faker):
    return next(p for p in fk.get_providers() if ".person." in type(p).__module__)


def _ascii_alpha(name: str) -> bool:
    return name.isascii() and name.replace("-", "").replace("'", "").isalpha()


@lru_cache(maxsize=4)
def build_pools(seed: int, surname_skew: float = 1.0) -> Pools:
    """Pools depend only on the seed (and skew), so the same spec gives the same pools."""
    from faker.providers.person.en_GB import Provider as GB

    weighted = [(n, w) for n, w in GB.last_names.items() if _ascii_alpha(n)]
    names = [n for n, _ in weighted]
    weights = np.array([w for _, w in weighted], dtype=float)
    seen = set(names)
    extra: list[str] = []
    for loc in OTHER_SURNAME_LOCALES:
        fk = Faker(loc)
        fk.seed_instance(seed)
        pool = list(getattr(_person_provider(fk), "last_names", ()))
        if len(pool) < 50:
            pool = [fk.last_name() for _ in range(2000)]
        for n in sorted(set(pool)):
            if _ascii_alpha(n) and n not in seen:
                seen.add(n)
                extra.append(n)
    # Minority surnames share a fifth of the mass, Zipf within; another assumption.
    extra_w = _zipf(len(extra)) * weights.sum() * 0.25 if extra else np.array([])
    all_w = np.concatenate([weights, extra_w]) ** surname_skew
    surnames = tuple(names + extra)

    forenames: dict[str, tuple[str, ...]] = {}
    forename_p: dict[str, np.ndarray] = {}
    for sex, attr in (("M", "first_names_male"), ("F", "first_names_female")):
        pool: list[str] = []
        probs: list[np.ndarray] = []
        for loc, lw in zip(FORENAME_LOCALES, FORENAME_LOCALE_WEIGHTS):
            fk = Faker(loc)
            vals = [n for n in dict.fromkeys(getattr(_person_provider(fk), attr, ()))
                    if _ascii_alpha(n) and n not in pool]
            if not vals:
                continue
            pool.extend(vals)
            probs.append(_zipf(len(vals)) * lw)
        p = np.concatenate(probs)
        forenames[sex] = tuple(pool)
        forename_p[sex] = p / p.sum()

    fk = Faker("en_GB")
    fk.seed_instance(seed)
    streets = tuple(sorted({fk.street_name() for _ in range(3000)}))
    return Pools(surnames, all_w / all_w.sum(), forenames, forename_p, streets, load_boroughs())


@lru_cache(maxsize=1)
def load_boroughs() -> tuple[Borough, ...]:
    text = resources.files("bench.corpus").joinpath("data/london_boroughs.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(Borough(r["borough"], float(r["lat"]), float(r["lon"]),
                         tuple(r["districts"].split())) for r in rows)
