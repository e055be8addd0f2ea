"""Corruptors: each takes a value as it truly is and returns it as a clerk might have written
it, or None when the kind cannot apply to that value (so rates are per *eligible* mention).

Proportions follow Febrl's dsgen (Christen): a typo is a substitution by an adjacent key,
a deletion, an insertion or a transposition; one error per corruption (Pollock & Zamora 1984:
90-95% of misspellings carry a single error) and the first letter is rarely touched."""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

import jellyfish
from nicknames import NickNamer

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_DIGIT_ROW = "1234567890"


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for rows in (_ROWS, (_DIGIT_ROW,)):
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                near = [row[i] for i in (c - 1, c + 1) if 0 <= i < len(row)]
                for rr in (r - 1, r + 1):
                    if 0 <= rr < len(rows):
                        near += [rows[rr][i] for i in (c - 1, c) if 0 <= i < len(rows[rr])]
                out[ch] = "".join(near)
    return out


KEY_NEIGHBOURS = _neighbours()
TYPO_OPS = (("substitute", 0.55), ("delete", 0.2), ("insert", 0.15), ("transpose", 0.1))


def _match_case(new: str, old: str) -> str:
    return new.upper() if old.isupper() else new


def typo(rng: random.Random, value: str) -> str | None:
    """One keyboard error, never on the first character."""
    if len(value) < 3:
        return None
    u, op = rng.random(), TYPO_OPS[-1][0]
    for name, w in TYPO_OPS:
        if u < w:
            op = name
            break
        u -= w
    i = rng.randrange(1, len(value))
    ch = value[i]
    near = KEY_NEIGHBOURS.get(ch.lower())
    if op == "insert" and near:
        return value[:i] + _match_case(rng.choice(near), ch) + value[i:]
    if op == "transpose" and i < len(value) - 1 and value[i] != value[i + 1]:
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    if op == "delete" and len(value) > 3:
        return value[:i] + value[i + 1:]
    if near:  # the chosen operation cannot apply here: fall back to the commonest error
        return value[:i] + _match_case(rng.choice(near), ch) + value[i + 1:]
    return value[:i] + value[i + 1:] if len(value) > 3 else None


# Respelling rules that keep the sound: each is tried where it applies, and a result is
# kept only if jellyfish's Metaphone or NYSIIS key is unchanged.
_RESPELL = (("ph", "f"), ("f", "ph"), ("y", "i"), ("i", "y"), ("ck", "k"), ("k", "ck"),
            ("ee", "ea"), ("ea", "ee"), ("th", "t"), ("c", "k"), ("k", "c"), ("s", "z"),
            ("ie", "y"), ("ey", "y"), ("ou", "ow"), ("en", "an"), ("an", "en"), ("ph", "v"),
            ("tt", "t"), ("ll", "l"), ("nn", "n"), ("rr", "r"), ("v", "ph"), ("st", "ss"))


@lru_cache(maxsize=65536)
def phonetic_variants(name: str) -> tuple[str, ...]:
    low = name.lower()
    keys = (jellyfish.metaphone(low), jellyfish.nysiis(low))
    out = set()
    if low.endswith("e") and len(low) > 4:
        out.add(name[:-1])
    for a, b in _RESPELL:
        start = low.find(a, 1)
        while start != -1:
            cand = low[:start] + b + low[start + len(a):]
            if len(cand) >= 2 and cand != low and (
                    jellyfish.metaphone(cand) == keys[0] or jellyfish.nysiis(cand) == keys[1]):
                out.add(cand.capitalize() if name[:1].isupper() else cand)
            start = low.find(a, start + 1)
    return tuple(sorted(out))


def phonetic(rng: random.Random, value: str) -> str | None:
    variants = phonetic_variants(value)
    return rng.choice(variants) if variants else None


_NICKNAMER = NickNamer()


@lru_cache(maxsize=65536)
def nicknames_of(name: str) -> tuple[str, ...]:
    return tuple(sorted(n.capitalize() for n in _NICKNAMER.nicknames_of(name.lower())))


def nickname(rng: random.Random, value: str) -> str | None:
    names = nicknames_of(value)
    return rng.choice(names) if names else None


def initials(rng: random.Random, value: str) -> str | None:
    return value[0].upper() if len(value) > 1 else None


def hyphen_forms(value: str) -> tuple[str, ...]:
    """How a double-barrelled surname may be written: without the hyphen, joined, or as one half."""
    if "-" not in value:
        return ()
    a, b = value.split("-", 1)
    return (f"{a} {b}", f"{a}{b.lower()}", a, b)


def hyphen_variant(rng: random.Random, value: str) -> str | None:
    forms = hyphen_forms(value)
    return rng.choice(forms) if forms else None


def dob_transposed(rng: random.Random, value: dt.date) -> dt.date | None:
    if value.day > 12 or value.day == value.month:
        return None
    return value.replace(day=value.month, month=value.day)


def dob_off_year(rng: random.Random, value: dt.date) -> dt.date | None:
    year = value.year + rng.choice((-1, 1))
    try:
        return value.replace(year=year)
    except ValueError:  # 29 February
        return value.replace(year=year, day=28)


EVENT_DATE_SHIFT_DAYS = 7  # assumed: a date of occurrence mistyped or misremembered by up to a week


def event_date_off(rng: random.Random, value: dt.date) -> dt.date:
    """The event's date written a few days out, either way."""
    return value + dt.timedelta(days=rng.choice((-1, 1)) * rng.randint(1, EVENT_DATE_SHIFT_DAYS))


MISREAD = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5",
           "2": "Z", "Z": "2"}


def vrm_misread(rng: random.Random, value: str) -> str | None:
    """One character misread as its look-alike (0/O, 1/I, 8/B, 5/S, 2/Z)."""
    spots = [i for i, ch in enumerate(value) if ch in MISREAD]
    if not spots:
        return None
    i = rng.choice(spots)
    return value[:i] + MISREAD[value[i]] + value[i + 1:]


def vrm_partial(rng: random.Random, value: str) -> str | None:
    """A partial mark as a witness gives it: the last one to three characters missing."""
    compact = value.replace(" ", "")
    if len(compact) < 5:
        return None
    return compact[: len(compact) - rng.randint(1, 3)]


def postcode_variant(rng: random.Random, value: str) -> str | None:
    """Written without its space, as the sector only, or as the district only."""
    if " " not in value:
        return None
    out, inward = value.split(" ")
    return rng.choice((out + inward, f"{out} {inward[0]}", out))


# Cheap tests of whether a kind can apply, so that the (dearer) corruptor runs only when drawn.
ELIGIBLE = {
    "typo": lambda v: len(v) >= 3,
    "phonetic": lambda v: bool(phonetic_variants(v)),
    "nickname": lambda v: bool(nicknames_of(v)),
    "initials": lambda v: len(v) > 1,
    "hyphen_variant": lambda v: "-" in v,
    "dob_transposed": lambda v: v.day <= 12 and v.day != v.month,
    "vrm_misread": lambda v: any(c in MISREAD for c in v),
    "vrm_partial": lambda v: len(v.replace(" ", "")) >= 5,
    "postcode_variant": lambda v: " " in v,
}
