"""Matching one Resolve node against the resolver's index: candidates, field-by-field agreement
under the rules' thresholds, a score to rank by, and the candidate each record most likely
concerns. Agreement is decided per distinct written value (a few hundred per search), then
spread over the mentions holding it with numpy."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import jellyfish
import numpy as np

from bench import fields as F
from bench.backends.resolver.index import NO_DOB, ResolverIndex, _Field, name_norm, phone_norm
from bench.plans import Resolve


_PHON_ID: dict[str, int] = {}  # a phonetic code as a number, the same for every search in a process


@lru_cache(maxsize=200_000)
def _phon(algo: str, name: str) -> str:
    """A name's phonetic code as the index writes it (fields.phonetic_key), or its letters where
    the rules use no phonetic code (phonetic: none)."""
    return F.phonetic_key(algo, name) if algo in F.PHONETIC else re.sub(r"[^a-z]", "", name)


@lru_cache(maxsize=4096)
def _wild(pattern: str) -> re.Pattern[str]:
    return re.compile(_wild_re(pattern))


def _is_wild(value: str) -> bool:
    return "*" in value or "?" in value


def name_level(q: str, w: str, part: str, r: dict) -> float:
    """How well a written name w agrees with the name asked for q: its Jaro-Winkler similarity
    where the two agree by any rule, 0 where they do not. Both normalised; w not empty."""
    if _is_wild(q):
        return 1.0 if _wild(q).fullmatch(w) else 0.0
    if q == w:
        return 1.0
    jw = jellyfish.jaro_winkler_similarity(q, w)
    agrees = (jw >= (r["surname_jw"] if part == "surname" else r["forename_jw"]) or (r["phonetic"] != "none" and _phon(r["phonetic"], q) == _phon(r["phonetic"], w))
              or (part == "surname" and (w in q.split("-") or q in w.split("-")
                                         or q.replace("-", "") == w.replace("-", "").replace(" ", "")))
              or (part == "forename" and r["nicknames"] and bool(set(F.nickname_set(q)) & set(F.nickname_set(w))))
              or (part == "forename" and r["initials"] and (len(w) == 1 or len(q) == 1) and q[0] == w[0]))
    return max(jw, 1e-3) if agrees else 0.0


def _levels(field: _Field, codes: np.ndarray, q: str, part: str, r: dict) -> np.ndarray:
    """name_level for each mention's value (by distinct code); -1 where the record gives none."""
    uniq, inv = np.unique(codes, return_inverse=True)
    vals = np.array([name_level(q, w, part, r) if w else -1.0 for w in field.distinct[uniq]])
    return vals[inv] if len(uniq) else np.empty(0)


def _candidates(ix: ResolverIndex, q: str, part: str, r: dict) -> np.ndarray:
    """Mentions whose written `part` is near q: by the n-gram index, or by the pattern."""
    field = getattr(ix, part)
    if _is_wild(q):
        codes = field.grep(_wild_re(q))
    else:
        codes = field.near(q, r["name_min_cosine"])
    return field.mentions(codes)


def _dob_levels(dob: np.ndarray, q: dict, r: dict) -> np.ndarray:
    """1 where the date of birth agrees, tolerated_score where only by a swap or a year's slip,
    missing_score where the record gives none (or 0 if such records are left out), 0 otherwise."""
    out = np.zeros(len(dob))
    if "dob" in q:
        d, tol = int(q["dob"]), int(q["dob_tolerance_days"])
        exact = np.abs(dob.astype(np.int64) - d) <= tol
        day = F.EPOCH + dt.timedelta(days=d)
        near = [F.days(x) for x in _slips(day, r["dob_year_slip"])]
        if r["dob_swap"] and (sw := F.swapped(day)):
            near.append(F.days(sw))
        out[np.isin(dob, near)] = r["tolerated_score"]
        out[exact] = 1.0
    else:
        lo, hi = int(q["dob_lo"]), int(q["dob_hi"])
        slip = 366 * r["dob_year_slip"]
        out[(dob >= lo - slip) & (dob <= hi + slip)] = r["tolerated_score"]
        out[(dob >= lo) & (dob <= hi)] = 1.0
    out[dob == NO_DOB] = -1.0 if r["dob_missing"] == "accept" else 0.0
    return out


def _slips(day: dt.date, years: int) -> list[dt.date]:
    out = []
    for k in range(1, years + 1):
        for y in (day.year - k, day.year + k):
            try:
                out.append(day.replace(year=y))
            except ValueError:  # 29 February
                out.append(day.replace(year=y, day=28))
    return out


def person(ix: ResolverIndex, q: dict, r: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matching person mentions: (mention numbers, scores, candidate keys)."""
    best_m, best_s, best_k = [], [], []
    for fore, sur in q["names"]:
        fq, sq = _pat(fore), _pat(sur)
        orientations = [("forename", "surname")] + ([("surname", "forename")] if r["swapped_names"] else [])
        for fpart, spart in orientations:  # which written field is compared with the forename asked
            lead, lead_q = (spart, sq) if sq else (fpart, fq)
            m = np.unique(_candidates(ix, lead_q, lead, r))
            if not len(m):
                continue
            score, keys = _person_scores(ix, m, fq, sq, fpart, spart, q, r)
            keep = score > 0
            best_m.append(m[keep])
            best_s.append(score[keep])
            best_k.append(keys[keep])
    if not best_m:
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    return np.concatenate(best_m), np.concatenate(best_s), np.concatenate(best_k)


def _pat(name: str) -> str:
    return re.sub(r"[^a-z*?\- ]", "", (name or "").lower()).strip()


def _person_scores(ix, m, fq, sq, fpart, spart, q, r) -> tuple[np.ndarray, np.ndarray]:
    """Score of each candidate mention (0: left out) and the candidate person it points to."""
    levels, positive, ok = [], np.zeros(len(m), np.int64), np.ones(len(m), bool)
    for asked, part, written in ((sq, "surname", spart), (fq, "forename", fpart)):
        if not asked:
            continue
        lv = _levels(getattr(ix, written), getattr(ix, written).code[m], name_norm(asked) if not _is_wild(asked)
                     else asked, part, r)
        ok &= lv != 0
        positive += lv > 0
        levels.append(np.where(lv < 0, r["missing_score"], lv))
    if "dob" in q or "dob_lo" in q:
        lv = _dob_levels(ix.dob[m], q, r)
        ok &= lv != 0
        positive += lv > 0
        levels.append(np.where(lv < 0, r["missing_score"], lv))
    if "sex" in q and r["sex_must_agree"]:
        sx = ix.sex[m]
        ok &= (sx == "") | (sx == q["sex"])
    ok &= positive >= min(r["min_agreeing"], len(levels))
    score = np.where(ok, np.sum(levels, axis=0), 0.0)
    # A candidate person: a surname (by its phonetic code) with a date of birth as written; records
    # that give no date of birth make one candidate per surname.
    field = getattr(ix, spart)
    codes, inv = np.unique(field.code[m], return_inverse=True)
    phon = np.fromiter((_PHON_ID.setdefault(_phon(r["phonetic"], w), len(_PHON_ID)) for w in field.distinct[codes]),
                       np.int64, len(codes))
    keys = phon[inv] * (1 << 32) + (ix.dob[m].astype(np.int64) - NO_DOB)
    return score, keys


def _wild_re(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _one_edit_re(a: str) -> str:
    """A regular expression for every string within one Damerau edit of a (itself included)."""
    e = re.escape
    alts = {e(a)}
    for i in range(len(a)):
        alts |= {e(a[:i]) + "." + e(a[i + 1:]), e(a[:i]) + e(a[i + 1:])}  # substitution, deletion
    for i in range(len(a) + 1):
        alts.add(e(a[:i]) + "." + e(a[i:]))  # insertion
    for i in range(len(a) - 1):
        alts.add(e(a[:i]) + e(a[i + 1]) + e(a[i]) + e(a[i + 2:]))  # transposition
    return "|".join(sorted(alts))


def _within(field: _Field, a: str, edits: int, fold=None) -> np.ndarray:
    """Distinct values within `edits` Damerau edits of a (after folding)."""
    if edits == 0:
        return field.grep(re.escape(a), fold)
    if edits == 1:
        return field.grep(_one_edit_re(a), fold)
    vals = field.distinct if fold is None else [fold(v) for v in field.distinct]
    return np.flatnonzero([abs(len(v) - len(a)) <= edits and jellyfish.damerau_levenshtein_distance(a, v) <= edits
                           for v in vals])


def _levels_of(field: _Field, exact: np.ndarray, tolerated: np.ndarray, r: dict) -> np.ndarray:
    """A level per distinct value: 1 where it agrees exactly, tolerated_score where only by a
    tolerated error, 0 elsewhere."""
    out = np.zeros(len(field.distinct))
    out[tolerated] = r["tolerated_score"]
    out[exact] = 1.0
    out[field.distinct == ""] = 0.0
    return out


def vehicle(ix: ResolverIndex, q: dict, r: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fold = F.vrm_canon if r["vrm_lookalikes"] else None
    folded = fold or (lambda v: v)
    asked = q["vrm"]
    if _is_wild(asked):
        exact, tolerated = ix.vrm.grep(_wild_re(asked)), ix.vrm.grep(_wild_re(folded(asked)), fold)
    else:
        a = folded(asked)
        exact = ix.vrm.grep(re.escape(asked))
        tolerated = _within(ix.vrm, a, r["vrm_max_edits"], fold)
        prefixes = [re.escape(a[:k]) for k in range(r["vrm_partial_min"], len(a))]
        if prefixes:  # a partial mark: the plate asked for begins with it
            tolerated = np.union1d(tolerated, ix.vrm.grep("|".join(prefixes), fold))
    levels = _levels_of(ix.vrm, exact, tolerated, r)
    m = ix.vrm.mentions(np.flatnonzero(levels > 0))
    score = levels[ix.vrm.code[m]]
    for attr in ("make", "colour"):
        if q.get(attr):
            written = getattr(ix, attr)[m]
            score = np.where((written == "") | (written == q[attr]), score + (written == q[attr]), 0.0)
    keep = score > 0
    m = m[keep]
    return m, score[keep], np.array([folded(w) for w in ix.vrm.distinct[ix.vrm.code[m]]], dtype=str)


def phone(ix: ResolverIndex, q: dict, r: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    asked = q["number"]
    if _is_wild(asked):
        exact, tolerated = ix.phone.grep(_wild_re(asked)), np.empty(0, np.int64)
    else:
        asked = phone_norm(asked)
        exact, tolerated = ix.phone.grep(re.escape(asked)), _within(ix.phone, asked, r["phone_max_edits"])
    levels = _levels_of(ix.phone, exact, tolerated, r)
    m = ix.phone.mentions(np.flatnonzero(levels > 0))
    return m, levels[ix.phone.code[m]], ix.phone.distinct[ix.phone.code[m]]


ENTITIES = {"person": (person, "person_rnum"), "vehicle": (vehicle, "vehicle_rnum"), "phone": (phone, "phone_rnum")}


def resolve(ix: ResolverIndex, node: Resolve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records matching the node: (record numbers ascending, best score, candidate id). Each record
    goes to the candidate of its best-scoring mention: the one it most likely concerns."""
    fn, rnum_attr = ENTITIES[node.entity]
    m, score, keys = fn(ix, dict(node.query), dict(node.rules))
    if not len(m):
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    rn = getattr(ix, rnum_attr)[m]
    order = np.lexsort((keys, -score, rn))  # per record, its best mention first
    rn, score, keys = rn[order], score[order], keys[order]
    first = np.concatenate(([True], rn[1:] != rn[:-1]))
    _, group = np.unique(keys[first], return_inverse=True)
    return rn[first], score[first], group.astype(np.int64)
